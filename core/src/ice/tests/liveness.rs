//! After selection: consent freshness, disconnection, failure, recovery, ICE restart.

use super::shuttle::{Shuttle, addr, config};
use crate::ice::{IceConnectionState, IceEvent, IceRole};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

const S: Duration = Duration::from_secs(1);

fn connected_lan(seed: u64) -> (Shuttle, Rc<Cell<bool>>) {
    let mut s = Shuttle::lan(
        config(IceRole::Controlling),
        config(IceRole::Controlled),
        seed,
    );
    let cut = Rc::new(Cell::new(false));
    let c = cut.clone();
    s.tamper = Some(Box::new(move |_, _| !c.get()));
    assert!(s.run_until(5 * S, Shuttle::connected), "not connected");
    (s, cut)
}

#[test]
fn consent_checks_keep_an_idle_connection_alive() {
    let (mut s, _) = connected_lan(30);
    s.run_for(120 * S);
    assert!(s.connected());
    let sent = s.a().agent.stats().consent_checks_sent;
    // One every 4 to 6 s over 120 s.
    assert!((20..=30).contains(&sent), "{sent} consent checks");
    assert!(s.a().reached(IceConnectionState::Disconnected).is_none());
}

#[test]
fn vanished_peer_goes_disconnected_then_failed_at_documented_times() {
    let (mut s, cut) = connected_lan(31);
    s.run_for(10 * S);
    let t_cut = s.now;
    cut.set(true);
    let failed = s.run_until(60 * S, |s| s.a().state() == IceConnectionState::Failed);
    assert!(failed);
    let d = s
        .a()
        .reached(IceConnectionState::Disconnected)
        .expect("disconnected first");
    let f = s.a().reached(IceConnectionState::Failed).unwrap();
    // Both deadlines count from the last authenticated response (before the cut):
    // disconnected 8 s after it, consent lost 30 s after it.
    assert!(
        d > t_cut && d <= t_cut + 8 * S,
        "disconnected {:?} after cut",
        d - t_cut
    );
    assert_eq!(f - d, 22 * S);
    assert!(
        s.a().agent.selected_pair().is_none(),
        "consent lost: stop sending"
    );
}

#[test]
fn connection_recovers_when_responses_resume_before_consent_expires() {
    let (mut s, cut) = connected_lan(32);
    cut.set(true);
    assert!(s.run_until(20 * S, |s| s.a().state()
        == IceConnectionState::Disconnected));
    assert!(
        s.a().agent.selected_pair().is_some(),
        "disconnected still allows sending"
    );
    cut.set(false);
    assert!(
        s.run_until(10 * S, |s| s.a().state() == IceConnectionState::Connected
            || s.a().state() == IceConnectionState::Completed)
    );
    s.run_for(60 * S);
    assert!(s.a().agent.selected_pair().is_some());
    assert!(s.a().reached(IceConnectionState::Failed).is_none());
}

#[test]
fn lite_agent_detects_a_vanished_peer_from_missing_checks() {
    let lite = crate::ice::IceConfig {
        lite: true,
        ..crate::ice::IceConfig::default()
    };
    let mut s = Shuttle::lan(config(IceRole::Controlling), lite, 33);
    let cut = Rc::new(Cell::new(false));
    let c = cut.clone();
    s.tamper = Some(Box::new(move |_, _| !c.get()));
    assert!(s.run_until(5 * S, Shuttle::connected));
    cut.set(true);
    assert!(s.run_until(60 * S, |s| s.b().state() == IceConnectionState::Failed));
    assert!(s.b().reached(IceConnectionState::Disconnected).is_some());
    assert!(s.b().agent.selected_pair().is_none());
}

#[test]
fn idle_lite_agent_sends_keepalives() {
    // Consent checks rarer than the 15 s keepalive interval leave the lite agent idle.
    let slow = crate::ice::IceTiming {
        consent_interval: Duration::from_secs(20),
        consent_timeout: Duration::from_secs(90),
        disconnected_timeout: Duration::from_secs(45),
        ..crate::ice::IceTiming::default()
    };
    let full = crate::ice::IceConfig {
        timing: slow.clone(),
        ..config(IceRole::Controlling)
    };
    let lite = crate::ice::IceConfig {
        lite: true,
        timing: slow,
        ..crate::ice::IceConfig::default()
    };
    let mut s = Shuttle::lan(full, lite, 34);
    assert!(s.run_until(5 * S, Shuttle::connected));
    assert_eq!(s.b().agent.stats().keepalives_sent, 0);
    s.run_for(60 * S);
    assert!(s.b().agent.stats().keepalives_sent >= 2);
    assert!(s.a().agent.stats().indications_received >= 2);
    assert!(s.connected());
}

#[test]
fn ice_restart_moves_to_a_new_pair_while_data_keeps_flowing_on_the_old_one() {
    let (mut s, _) = connected_lan(35);
    s.app_interval = Some(Duration::from_millis(20));
    s.run_for(2 * S);
    let old = s.a().agent.selected_pair().unwrap();
    let old_creds = s.a().agent.local_credentials().clone();
    // Restart on both sides (JSEP: new offer and answer carry new credentials); B also
    // gained a new interface, and only that one is signalled after the restart.
    let now = s.now;
    s.peers[0].agent.restart(now).unwrap();
    s.peers[1].agent.restart(now).unwrap();
    let b2 = addr("10.0.1.2:7000");
    s.signal_filter = Some(Box::new(move |from, c| from == 0 || c.address == b2));
    s.add_socket(1, b2);
    assert_ne!(s.a().agent.local_credentials(), &old_creds);
    s.exchange_credentials();
    let restart_at = s.now;
    let received_before = s.b().app_received.len();
    // Until the new pair is selected, A keeps sending on the old one.
    let mut on_old = 0;
    let moved = s.run_until(10 * S, |s| {
        let sel = s.a().agent.selected_pair();
        if sel != Some(old) {
            return true;
        }
        on_old += 1;
        false
    });
    assert!(moved, "no new pair selected");
    assert!(on_old > 0);
    let new = s.a().agent.selected_pair().unwrap();
    assert_eq!(new.remote, b2);
    assert_eq!(new.local, old.local);
    let changed = s
        .a()
        .events
        .iter()
        .rev()
        .find_map(|(t, e)| matches!(e, IceEvent::SelectedPairChanged { .. }).then_some(*t));
    let changed = changed.unwrap();
    // Data sent between the restart and the switch arrived on the old path.
    let during: Vec<_> = s.b().app_received[received_before..]
        .iter()
        .filter(|(t, _, from)| *t > restart_at && *t < changed && *from == old.local)
        .collect();
    assert!(!during.is_empty(), "no app data during the restart");
    assert!(during.iter().all(|(_, to, _)| *to == old.remote));
    // And data now reaches B on its new interface.
    s.run_for(S);
    assert!(s.b().app_received.iter().any(|(_, to, _)| *to == b2));
    assert!(s.connected());
    assert!(s.a().reached(IceConnectionState::Disconnected).is_none());
}
