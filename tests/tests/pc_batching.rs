//! How a `PeerConnection` answers datagrams fed in batches, driven by hand (not through the
//! simulator's drain-after-every-input): one SACK per batch, SCTP packets built a batch at a
//! time as the caller drains, and messages left in `poll_output` counting against the
//! receive window.

mod pc_common;
use pc_common::*;
use rtcpeer::Transmit;
use rtcpeer::peer_connection::{ChannelId, Event, Input, Output, PeerConnection};
use std::time::{Duration, Instant};

/// SCTP's default receive window (what each peer advertises).
const WINDOW: usize = 2 * 1024 * 1024;
/// Message size of the transfers.
const MESSAGE: usize = 16 * 1024;

/// A connected pair with an open channel `ca` (at a) / `cb` (at b), after a 2 MiB transfer
/// a → b in [`round`]s that grew a's congestion window; also returns the current time.
fn warm_pair(seed: u64) -> (Pair, ChannelId, ChannelId, Instant) {
    let (mut p, ca, cb) = open_pair(seed);
    let total = WINDOW;
    {
        let mut h = p.pa().pc.data_channel(ca).expect("channel");
        for _ in 0..total / MESSAGE {
            h.send_binary(vec![1u8; MESSAGE]).expect("send");
        }
    }
    let mut now = p.sim.now();
    let mut received = 0;
    for _ in 0..1000 {
        now += Duration::from_millis(1);
        received += message_bytes(&round(&mut p, now));
        if received == total {
            return (p, ca, cb, now);
        }
    }
    panic!("the warm-up transfer did not finish ({received} of {total} bytes)");
}

/// One round trip driven by hand: a's output to b in one batch, b's answer to a in one
/// batch. Returns b's events.
fn round(p: &mut Pair, now: Instant) -> Vec<Event> {
    let (data, _) = drain(&mut p.pa().pc);
    let b = &mut p.pb().pc;
    feed(b, now, &data);
    let (answer, events) = drain(b);
    feed(&mut p.pa().pc, now, &answer);
    events
}

/// Calls `poll_output` until it asks for a timeout; returns the transmits and events.
fn drain(pc: &mut PeerConnection) -> (Vec<Transmit>, Vec<Event>) {
    let (mut transmits, mut events) = (Vec::new(), Vec::new());
    loop {
        match pc.poll_output() {
            Output::Transmit(t) => transmits.push(t),
            Output::Event(e) => events.push(e),
            Output::Timeout(_) => return (transmits, events),
        }
    }
}

/// Feeds `datagrams` to `pc` one after the other, without draining in between.
fn feed(pc: &mut PeerConnection, now: Instant, datagrams: &[Transmit]) {
    for t in datagrams {
        pc.handle_input(
            now,
            Input::Receive {
                source: t.source,
                destination: t.destination,
                payload: &t.payload,
            },
        );
    }
}

fn sacks_sent(pc: &PeerConnection) -> u64 {
    pc.stats().sctp.expect("sctp").sacks_sent
}

fn sctp_packets_sent(pc: &PeerConnection) -> u64 {
    pc.stats().sctp.expect("sctp").packets_sent
}

fn message_bytes(events: &[Event]) -> usize {
    events
        .iter()
        .map(|e| match e {
            Event::ChannelMessage { data, .. } => data.len(),
            _ => 0,
        })
        .sum()
}

#[test]
fn a_batch_of_data_fed_before_draining_is_acknowledged_by_one_sack() {
    let (mut p, ca, _, now) = warm_pair(31);
    let a = &mut p.pa().pc;
    let mut h = a.data_channel(ca).expect("channel");
    h.send_binary(vec![2u8; MESSAGE]).expect("send");
    h.send_binary(vec![2u8; MESSAGE]).expect("send");
    let (data, _) = drain(a);
    assert!(
        data.len() >= 8,
        "a sends a burst ({} datagrams)",
        data.len()
    );
    let b = &mut p.pb().pc;
    let before = sacks_sent(b);
    feed(b, now, &data);
    assert_eq!(sacks_sent(b), before, "nothing is built while feeding");
    let (answer, _) = drain(b);
    assert_eq!(sacks_sent(b) - before, 1);
    assert_eq!(answer.len(), 1, "the SACK is the only answer");
}

#[test]
fn poll_output_keeps_only_a_batch_of_sctp_packets_built_ahead() {
    let (mut p, ca, _, mut now) = warm_pair(32);
    {
        let mut h = p.pa().pc.data_channel(ca).expect("channel");
        for _ in 0..4 * WINDOW / MESSAGE {
            h.send_binary(vec![3u8; MESSAGE]).expect("send");
        }
    }
    for _ in 0..10 {
        now += Duration::from_millis(1);
        round(&mut p, now);
    }
    // Half a round by hand: b's SACK for a's whole flight reaches a.
    let (data, _) = drain(&mut p.pa().pc);
    let b = &mut p.pb().pc;
    feed(b, now, &data);
    let (answer, _) = drain(b);
    // The SACK arrives a little later: SCTP output is paced, and a's last burst left at
    // `now`.
    now += Duration::from_millis(1);
    let a = &mut p.pa().pc;
    feed(a, now, &answer);
    let before = sctp_packets_sent(a);
    assert!(matches!(a.poll_output(), Output::Transmit(_)));
    let ahead = sctp_packets_sent(a) - before;
    assert!(ahead <= 33, "{ahead} packets built after one poll_output");
    // The rest is built as the caller drains: paced, over the next rounds.
    let mut rest = 0;
    for _ in 0..20 {
        let data = drain(&mut p.pa().pc).0;
        now += Duration::from_millis(1);
        rest += data.len();
        let b = &mut p.pb().pc;
        feed(b, now, &data);
        let (answer, _) = drain(b);
        feed(&mut p.pa().pc, now, &answer);
    }
    assert!(rest > 33, "the drains build the rest ({rest} datagrams)");
}

#[test]
fn a_sack_answering_a_batch_counts_the_messages_still_in_poll_output() {
    let (mut p, ca, _, mut now) = warm_pair(33);
    let total = 3 * WINDOW;
    {
        let mut h = p.pa().pc.data_channel(ca).expect("channel");
        for _ in 0..total / MESSAGE {
            h.send_binary(vec![4u8; MESSAGE]).expect("send");
        }
    }
    // b's application takes every message and holds it unread, reporting so after each
    // drain; the SACK of each drain is built while the batch's messages still wait in
    // poll_output, so it must count them itself.
    let mut held = 0;
    for _ in 0..400 {
        now += Duration::from_millis(1);
        held += message_bytes(&round(&mut p, now));
        p.pb().pc.set_application_unread(held);
    }
    assert!(held <= WINDOW, "{held} bytes held (window {WINDOW})");
    assert!(
        held >= WINDOW - 2 * MESSAGE,
        "the window filled ({held} bytes)"
    );
    let dropped = p.pc(false).stats().sctp.expect("sctp").data_dropped;
    assert!(
        dropped <= 1,
        "b dropped {dropped} DATA chunks; only a zero window probe may be refused"
    );
}
