//! Two agents reaching `connected`: on a LAN, through loss, after a role conflict,
//! against a lite agent, with early checks, and deterministically.

use super::shuttle::{Shuttle, addr, config};
use crate::ice::{IceConfig, IceConnectionState, IceEvent, IceGatheringState, IceRole, PairState};
use std::time::Duration;

const S: Duration = Duration::from_secs(1);

fn controlling() -> IceConfig {
    config(IceRole::Controlling)
}

fn controlled() -> IceConfig {
    config(IceRole::Controlled)
}

#[test]
fn agents_connect_on_one_lan() {
    let mut s = Shuttle::lan(controlling(), controlled(), 1);
    assert!(s.run_until(5 * S, Shuttle::connected), "not connected");
    let a = s.a().agent.selected_pair().unwrap();
    assert_eq!(a.local, addr("10.0.0.1:5000"));
    assert_eq!(a.remote, addr("10.0.0.2:6000"));
    // A LAN with 10 ms one-way delay connects in well under a second.
    assert!(
        s.elapsed() < Duration::from_millis(800),
        "took {:?}",
        s.elapsed()
    );
    assert!(s.a().reached(IceConnectionState::Checking).is_some());
}

#[test]
fn connection_completes_after_end_of_candidates_and_gathering() {
    let mut s = Shuttle::lan(controlling(), controlled(), 2);
    let done = s.run_until(5 * S, |s| {
        s.a().state() == IceConnectionState::Completed
            && s.b().state() == IceConnectionState::Completed
    });
    assert!(done, "a {:?} b {:?}", s.a().state(), s.b().state());
    assert_eq!(s.a().agent.gathering_state(), IceGatheringState::Complete);
    let pair = &s.a().agent.pairs()[0];
    assert!(pair.valid && pair.nominated && pair.state == PairState::Succeeded);
}

#[test]
fn agents_connect_with_30_percent_loss() {
    let (mut retransmits, mut lost) = (0, 0);
    for seed in 10..18 {
        let mut s = Shuttle::lan(controlling(), controlled(), seed);
        s.loss = 0.3;
        assert!(
            s.run_until(30 * S, Shuttle::connected),
            "seed {seed} did not connect"
        );
        // Consent survives the loss too (it may flap to disconnected, never fail).
        let connected_at = s.now;
        s.run_for(60 * S);
        assert!(
            s.a().agent.selected_pair().is_some(),
            "seed {seed} lost consent"
        );
        let failed_later = s.peers.iter().flat_map(|p| p.events.iter()).any(|(t, e)| {
            *t > connected_at && *e == IceEvent::ConnectionStateChange(IceConnectionState::Failed)
        });
        assert!(!failed_later, "seed {seed} failed after connecting");
        lost += s.lost;
        retransmits += s.a().agent.stats().retransmits + s.b().agent.stats().retransmits;
    }
    assert!(
        lost > 0 && retransmits > 0,
        "lost {lost}, retransmits {retransmits}"
    );
}

#[test]
fn agents_pick_the_best_pair_among_several_interfaces() {
    let mut s = Shuttle::new(controlling(), controlled(), 3);
    s.exchange_credentials();
    s.add_socket(0, addr("10.0.0.1:5000"));
    s.add_socket(0, addr("[fd00::1]:5000"));
    s.add_socket(1, addr("10.0.0.2:6000"));
    s.add_socket(1, addr("[fd00::2]:6000"));
    assert!(s.run_until(5 * S, Shuttle::connected));
    s.run_for(2 * S);
    // The first reported socket has the highest local preference on both sides.
    assert_eq!(
        s.a().agent.selected_pair().unwrap().remote,
        addr("10.0.0.2:6000")
    );
    // Pairs only form within one IP family: 2 x 1 + 1 x 1... exactly two pairs.
    assert_eq!(s.a().agent.pairs().len(), 2);
}

#[test]
fn role_conflict_between_two_controlling_agents_is_repaired() {
    let mut s = Shuttle::lan(controlling(), controlling(), 4);
    assert!(s.run_until(5 * S, Shuttle::connected), "not connected");
    let roles = [s.a().agent.role(), s.b().agent.role()];
    assert!(roles.contains(&IceRole::Controlling) && roles.contains(&IceRole::Controlled));
    let conflicts = s.a().agent.stats().role_conflicts + s.b().agent.stats().role_conflicts;
    assert!(conflicts > 0);
    // The agent with the larger tie-breaker kept control.
    let a_wins = s.a().agent.tie_breaker() >= s.b().agent.tie_breaker();
    assert_eq!(s.a().agent.role() == IceRole::Controlling, a_wins);
}

#[test]
fn role_conflict_between_two_controlled_agents_is_repaired() {
    let mut s = Shuttle::lan(controlled(), controlled(), 5);
    assert!(s.run_until(5 * S, Shuttle::connected), "not connected");
    assert_ne!(s.a().agent.role(), s.b().agent.role());
    let switched = s
        .a()
        .events
        .iter()
        .chain(s.b().events.iter())
        .any(|(_, e)| matches!(e, IceEvent::RoleChange(IceRole::Controlling)));
    assert!(switched);
}

#[test]
fn full_agent_connects_to_lite_agent() {
    let lite = IceConfig {
        lite: true,
        // A lite agent is controlled whatever the configuration says.
        role: IceRole::Controlling,
        ..IceConfig::default()
    };
    let mut s = Shuttle::lan(controlling(), lite, 6);
    assert!(s.run_until(5 * S, Shuttle::connected), "not connected");
    let b = &s.b().agent;
    assert!(b.is_lite());
    assert_eq!(b.role(), IceRole::Controlled);
    assert_eq!(b.stats().checks_sent, 0);
    assert!(b.stats().responses_sent > 0);
    assert!(b.pairs().is_empty());
    // Keep running: the lite agent never sends a request, consent keeps both connected.
    s.run_for(40 * S);
    assert!(s.connected());
    assert_eq!(s.b().agent.stats().checks_sent, 0);
    assert_eq!(s.b().agent.stats().consent_checks_sent, 0);
    assert!(s.a().agent.stats().consent_checks_sent >= 6);
}

#[test]
fn lite_agent_is_always_controlled_even_against_a_controlled_peer() {
    let lite = IceConfig {
        lite: true,
        ..IceConfig::default()
    };
    let mut s = Shuttle::lan(controlled(), lite, 7);
    assert!(s.run_until(5 * S, Shuttle::connected), "not connected");
    assert_eq!(s.a().agent.role(), IceRole::Controlling);
    assert_eq!(s.b().agent.role(), IceRole::Controlled);
}

#[test]
fn checks_before_remote_credentials_are_answered_and_followed_up() {
    let mut s = Shuttle::new(controlling(), controlled(), 8);
    // Only A learns B's credentials now; B hears about A's a second later.
    let cb = s.b().agent.local_credentials().clone();
    let now = s.now;
    s.peers[0].agent.set_remote_credentials(now, cb).unwrap();
    s.add_socket(0, addr("10.0.0.1:5000"));
    s.add_socket(1, addr("10.0.0.2:6000"));
    s.run_for(S);
    let b = &s.b().agent;
    assert!(
        b.stats().responses_sent > 0,
        "B must answer checks before it knows A's credentials"
    );
    assert_eq!(
        b.stats().checks_sent,
        0,
        "B cannot check without A's password"
    );
    let ca = s.a().agent.local_credentials().clone();
    let now = s.now;
    s.peers[1].agent.set_remote_credentials(now, ca).unwrap();
    assert!(s.run_until(5 * S, Shuttle::connected), "not connected");
}

#[test]
fn peer_reflexive_candidate_is_learned_from_an_unsignalled_peer() {
    let mut s = Shuttle::lan(controlling(), controlled(), 9);
    // B's candidates never reach A: A must learn B's address from B's checks.
    s.signal_filter = Some(Box::new(|from, _| from == 0));
    assert!(s.run_until(5 * S, Shuttle::connected), "not connected");
    let remote = &s.a().agent.remote_candidates()[0];
    assert_eq!(remote.kind, crate::ice::CandidateKind::PeerReflexive);
    assert_eq!(remote.address, addr("10.0.0.2:6000"));
}

#[test]
fn unreachable_peer_fails_after_end_of_candidates() {
    let mut s = Shuttle::lan(controlling(), controlled(), 11);
    s.tamper = Some(Box::new(|_, _| false));
    let failed = s.run_until(60 * S, |s| s.a().state() == IceConnectionState::Failed);
    assert!(failed, "state {:?}", s.a().state());
    // Seven transmissions with backoff 250 ms .. 3 s take about 12.75 s.
    let t = s.a().reached(IceConnectionState::Failed).unwrap() - s.t0;
    assert!(t > 10 * S && t < 16 * S, "failed after {t:?}");
    assert!(
        s.a()
            .agent
            .pairs()
            .iter()
            .all(|p| p.state == PairState::Failed)
    );
    assert!(s.a().agent.selected_pair().is_none());
}

fn transcript(seed: u64) -> Vec<(Duration, crate::transmit::Transmit)> {
    let mut s = Shuttle::lan(controlling(), controlled(), seed);
    s.loss = 0.2;
    s.run_for(20 * S);
    s.transcript
}

#[test]
fn same_seed_gives_identical_transmits() {
    let (x, y) = (transcript(21), transcript(21));
    assert!(x.len() > 10);
    assert_eq!(x, y);
    assert_ne!(x, transcript(22));
}

#[test]
fn nat_mapping_creates_a_local_peer_reflexive_candidate() {
    let mut s = Shuttle::lan(controlling(), controlled(), 12);
    let (a1, nat) = (addr("10.0.0.1:5000"), addr("203.0.113.1:40000"));
    // A sits behind a NAT: its datagrams appear from `nat`, and only datagrams sent to
    // `nat` reach it.
    s.tamper = Some(Box::new(move |_, t| {
        if t.source == a1 {
            t.source = nat;
        } else if t.destination == nat {
            t.destination = a1;
        } else if t.destination == a1 {
            return false;
        }
        true
    }));
    let up = s.run_until(5 * S, |s| {
        s.a().agent.selected_pair().is_some() && s.b().agent.selected_pair().is_some()
    });
    assert!(up, "a {:?} b {:?}", s.a().state(), s.b().state());
    let prflx = s
        .a()
        .agent
        .local_candidates()
        .find(|c| c.kind == crate::ice::CandidateKind::PeerReflexive)
        .expect("A learned its mapped address from a check response");
    assert_eq!(prflx.address, nat);
    assert_eq!(prflx.related_address, Some(a1));
    assert_eq!(s.a().agent.selected_pair().unwrap().local, a1);
    assert_eq!(s.b().agent.selected_pair().unwrap().remote, nat);
    let b_remote = s.b().agent.remote_candidates();
    assert!(
        b_remote
            .iter()
            .any(|c| c.address == nat && c.kind == crate::ice::CandidateKind::PeerReflexive)
    );
}

#[test]
fn lost_nomination_transaction_is_retried_without_failing_the_valid_pair() {
    use crate::stun::StunView;
    let mut s = Shuttle::lan(controlling(), controlled(), 12);
    // Drop every transmission of the controlling agent's first nomination check (the request
    // and all its retransmissions carry the same transaction id), as heavy loss can.
    let mut first_nomination: Option<[u8; 12]> = None;
    s.tamper = Some(Box::new(move |_, t| {
        let Ok(view) = StunView::new_checked(&t.payload) else {
            return true;
        };
        if t.source != addr("10.0.0.1:5000") || !view.use_candidate() {
            return true;
        }
        let id = view.transaction_id().0;
        *first_nomination.get_or_insert(id) != id
    }));
    let nominated = s.run_until(60 * S, |s| {
        s.a().state() == IceConnectionState::Completed && s.b().agent.selected_pair().is_some()
    });
    assert!(nominated, "nomination was not retried: {:?}", s.a().state());
    assert!(
        s.a().reached(IceConnectionState::Failed).is_none(),
        "the valid pair was failed when its nomination check went unanswered"
    );
    assert!(
        s.a().agent.stats().retransmits >= 6,
        "the first nomination was retransmitted"
    );
}

#[test]
fn first_valid_pair_carries_data_before_nomination() {
    let mut s = Shuttle::lan(controlling(), controlled(), 21);
    let usable = |s: &Shuttle| s.a().agent.data_path().is_some();
    assert!(s.run_until(5 * S, usable), "no valid pair");
    // A check succeeded: data may flow (RFC 8445 section 12.1) and the state says so,
    // while the nominating check is still to come one pacing slot later.
    let a = &s.a().agent;
    assert!(a.selected_pair().is_none(), "already nominated");
    assert_eq!(s.a().state(), IceConnectionState::Connected);
    let path = a.data_path().unwrap();
    assert_eq!(path.local, addr("10.0.0.1:5000"));
    assert_eq!(path.remote, addr("10.0.0.2:6000"));
    assert!(s.run_until(5 * S, Shuttle::connected), "never nominated");
    assert_eq!(s.a().agent.selected_pair(), Some(path));
    assert_eq!(s.a().agent.data_path(), Some(path));
}

#[test]
fn failed_agent_has_no_data_path() {
    let mut s = Shuttle::new(controlling(), controlled(), 22);
    s.exchange_credentials();
    s.add_socket(0, addr("10.0.0.1:5000"));
    // The peer never answers: no pair becomes valid and checking times out.
    s.loss = 1.0;
    s.add_socket(1, addr("10.0.0.2:6000"));
    s.run_for(60 * S);
    assert_eq!(s.a().state(), IceConnectionState::Failed);
    assert!(s.a().agent.data_path().is_none());
}
