//! One agent driven by hand: Ta pacing, retransmission backoff, timeouts.

use super::shuttle::addr;
use crate::ice::{Credentials, IceAgent, IceConfig, IceConnectionState, PairState};
use crate::rng::Rng;
use std::time::{Duration, Instant};

fn agent(seed: u64) -> (IceAgent, Instant) {
    #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
    let t0 = Instant::now();
    let mut a = IceAgent::new(IceConfig::default(), Rng::from_u64(seed)).unwrap();
    let creds = Credentials::new("peer", "peerpasswordpeerpassword");
    a.set_remote_credentials(t0, creds).unwrap();
    a.add_local_socket(t0, addr("10.0.0.1:5000")).unwrap();
    (a, t0)
}

fn add_remote(a: &mut IceAgent, now: Instant, ip_last: u8, foundation: u32) {
    let line = format!("candidate:{foundation} 1 udp 2130706431 10.0.0.{ip_last} 6000 typ host");
    a.add_remote_candidate(now, line.parse().unwrap()).unwrap();
}

/// Runs the agent alone until `end`, returning (time since t0, destination) of each
/// datagram it sent.
fn run(a: &mut IceAgent, t0: Instant, end: Duration) -> Vec<(Duration, std::net::SocketAddr)> {
    let mut sent = Vec::new();
    let mut now = t0;
    loop {
        while let Some(t) = a.poll_transmit() {
            sent.push((now - t0, t.destination));
        }
        match a.poll_timeout() {
            Some(at) if at <= t0 + end => {
                now = now.max(at);
                a.handle_timeout(now);
            }
            _ => return sent,
        }
    }
}

#[test]
fn new_checks_are_paced_by_ta() {
    let (mut a, t0) = agent(60);
    for i in 0..4 {
        add_remote(&mut a, t0, 2 + i, u32::from(i));
    }
    let sent = run(&mut a, t0, Duration::from_millis(240));
    let times: Vec<_> = sent.iter().map(|s| s.0.as_millis()).collect();
    assert_eq!(times, [0, 50, 100, 150], "one new check per Ta");
    let mut dests: Vec<_> = sent.iter().map(|s| s.1).collect();
    dests.dedup();
    assert_eq!(dests.len(), 4);
}

#[test]
fn unanswered_check_backs_off_then_fails() {
    let (mut a, t0) = agent(61);
    add_remote(&mut a, t0, 2, 1);
    let sent = run(&mut a, t0, Duration::from_secs(20));
    let times: Vec<_> = sent.iter().map(|s| s.0.as_millis()).collect();
    // 250 ms doubling, capped at 3 s, seven transmissions.
    assert_eq!(times, [0, 250, 750, 1750, 3750, 6750, 9750]);
    assert_eq!(a.pairs()[0].state, PairState::Failed);
    assert_eq!(a.stats().checks_failed, 1);
    // Without end-of-candidates the agent keeps waiting for trickled candidates.
    assert_eq!(a.connection_state(), IceConnectionState::Checking);
}

#[test]
fn checking_times_out_without_end_of_candidates() {
    let (mut a, t0) = agent(62);
    add_remote(&mut a, t0, 2, 1);
    run(&mut a, t0, Duration::from_secs(29));
    assert_eq!(a.connection_state(), IceConnectionState::Checking);
    run(&mut a, t0, Duration::from_secs(31));
    assert_eq!(a.connection_state(), IceConnectionState::Failed);
}

#[test]
fn end_of_candidates_fails_once_every_pair_failed() {
    let (mut a, t0) = agent(63);
    add_remote(&mut a, t0, 2, 1);
    a.end_of_remote_candidates(t0);
    run(&mut a, t0, Duration::from_secs(12));
    assert_eq!(a.connection_state(), IceConnectionState::Checking);
    run(&mut a, t0, Duration::from_secs(13));
    assert_eq!(a.connection_state(), IceConnectionState::Failed);
}

#[test]
fn candidate_trickled_after_failure_revives_checking() {
    let (mut a, t0) = agent(64);
    add_remote(&mut a, t0, 2, 1);
    run(&mut a, t0, Duration::from_secs(13));
    let later = t0 + Duration::from_secs(13);
    add_remote(&mut a, later, 3, 2);
    assert_eq!(a.connection_state(), IceConnectionState::Checking);
    let due = a.poll_timeout().expect("a deadline");
    assert!(due <= later, "the new pair is checked at once");
    a.handle_timeout(later);
    let check = a.poll_transmit().expect("check on the new pair");
    assert_eq!(check.destination, addr("10.0.0.3:6000"));
}

#[test]
fn early_handle_timeout_is_harmless() {
    let (mut a, t0) = agent(65);
    add_remote(&mut a, t0, 2, 1);
    a.handle_timeout(t0);
    let first = a.poll_transmit().expect("first check");
    for ms in [1, 10, 100, 249] {
        a.handle_timeout(t0 + Duration::from_millis(ms));
        assert_eq!(a.poll_transmit(), None, "nothing due at {ms} ms");
    }
    a.handle_timeout(t0 + Duration::from_millis(250));
    assert_eq!(
        a.poll_transmit().map(|t| t.payload),
        Some(first.payload),
        "same bytes"
    );
}
