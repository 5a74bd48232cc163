//! Association behaviour over the in-memory shuttle.

mod flow;
mod throughput;

use super::testing::{Link, Pair};
use super::timer::Timer;
use super::*;
use crate::rng::Rng;
use bytes::Bytes;
use std::time::{Duration, Instant};

use crate::time::test_epoch as t0;

fn assoc(seed: u64) -> Association {
    Association::new(SctpConfig::default(), Rng::from_u64(seed))
}

fn pair_with(links: [Link; 2], seed: u64) -> Pair<Association> {
    let now = t0();
    let mut p = Pair::new(assoc(seed), assoc(seed + 1000), now, links, seed);
    p.a.connect(now).expect("closed");
    p.b.connect(now).expect("closed");
    p
}

fn established(links: [Link; 2], seed: u64) -> Pair<Association> {
    let mut p = pair_with(links, seed);
    let ok = p.run_until(Duration::from_secs(60), |p| {
        p.a.state() == AssociationState::Established && p.b.state() == AssociationState::Established
    });
    assert!(ok, "handshake did not finish");
    p
}

fn ideal(ms: u64) -> [Link; 2] {
    [
        Link::ideal(Duration::from_millis(ms)),
        Link::ideal(Duration::from_millis(ms)),
    ]
}

fn lossy(ms: u64, loss: f64) -> [Link; 2] {
    [
        Link::lossy(Duration::from_millis(ms), loss, 0.1, 0.05),
        Link::lossy(Duration::from_millis(ms), loss, 0.1, 0.05),
    ]
}

/// Drains messages from `b` into `got`.
fn drain_messages(a: &mut Association, got: &mut Vec<(u16, Bytes)>) {
    while let Some(e) = a.poll_event() {
        if let SctpEvent::Message {
            stream, payload, ..
        } = e
        {
            got.push((stream, payload));
        }
    }
}

fn payload(rng: &mut Rng, len: usize, tag: u32) -> Bytes {
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    v[..4.min(len)].copy_from_slice(&tag.to_be_bytes()[..4.min(len)]);
    Bytes::from(v)
}

/// Sends `msgs` from a to b with `opts`, pacing by the send buffer, until all are sent and
/// the deadline passes or all arrive. Returns what b received.
fn transfer(
    p: &mut Pair<Association>,
    msgs: &[Bytes],
    opts: SendOptions,
    limit: Duration,
) -> Vec<(u16, Bytes)> {
    let mut got = Vec::new();
    let mut next = 0;
    let end = p.now + limit;
    while p.now < end {
        while next < msgs.len() && p.a.total_buffered() < 1 << 20 {
            p.a.send(p.now, 1, 53, msgs[next].clone(), opts)
                .expect("send");
            next += 1;
        }
        if !p.step() {
            break;
        }
        drain_messages(&mut p.b, &mut got);
        if next == msgs.len() && got.len() == msgs.len() {
            break;
        }
        if next == msgs.len()
            && p.a.total_buffered() == 0
            && p.a.bytes_in_flight() == 0
            && opts.max_retransmits.is_some()
        {
            // Partial reliability: let the last SACK / FORWARD TSN settle.
            p.run_until(Duration::from_secs(2), |_| false);
            drain_messages(&mut p.b, &mut got);
            break;
        }
    }
    got
}

#[test]
fn handshake_establishes_both_sides() {
    let mut p = pair_with(ideal(10), 1);
    let ok = p.run_until(Duration::from_secs(5), |p| {
        p.a.state() == AssociationState::Established && p.b.state() == AssociationState::Established
    });
    assert!(ok);
    assert_eq!(p.a.poll_event(), Some(SctpEvent::Connected));
    assert_eq!(p.b.poll_event(), Some(SctpEvent::Connected));
    assert!(
        p.a.tx_zero_checksum && p.b.tx_zero_checksum,
        "zero checksum negotiated"
    );
}

#[test]
fn passive_side_answers_an_init_without_connecting() {
    let now = t0();
    let mut p = Pair::new(assoc(3), assoc(4), now, ideal(5), 3);
    p.a.connect(now).expect("closed");
    let ok = p.run_until(Duration::from_secs(5), |p| {
        p.a.state() == AssociationState::Established && p.b.state() == AssociationState::Established
    });
    assert!(ok);
}

#[test]
fn handshake_survives_loss() {
    let mut p = pair_with(lossy(20, 0.3), 5);
    let ok = p.run_until(Duration::from_secs(60), |p| {
        p.a.state() == AssociationState::Established && p.b.state() == AssociationState::Established
    });
    assert!(ok);
}

#[test]
fn ordered_messages_arrive_complete_and_in_order_through_heavy_loss() {
    let mut p = established(lossy(15, 0.2), 7);
    let mut rng = Rng::from_u64(99);
    let msgs: Vec<Bytes> = (0..300)
        .map(|i| {
            let len = 1 + rng.below(256 * 1024) as usize;
            payload(&mut rng, len, i)
        })
        .collect();
    let got = transfer(
        &mut p,
        &msgs,
        SendOptions::default(),
        Duration::from_secs(600),
    );
    assert_eq!(got.len(), msgs.len(), "all messages arrive");
    for (i, (_, m)) in got.iter().enumerate() {
        assert!(m == &msgs[i], "message {i} byte-exact and in order");
    }
    assert!(p.a.stats().fast_retransmits > 0);
}

#[test]
fn unordered_messages_each_arrive_exactly_once() {
    let mut p = established(lossy(10, 0.2), 11);
    let mut rng = Rng::from_u64(5);
    let msgs: Vec<Bytes> = (0..500u32)
        .map(|i| {
            let len = 4 + rng.below(20_000) as usize;
            payload(&mut rng, len, i)
        })
        .collect();
    let opts = SendOptions {
        unordered: true,
        ..Default::default()
    };
    let got = transfer(&mut p, &msgs, opts, Duration::from_secs(600));
    let mut seen = vec![0u32; msgs.len()];
    for (_, m) in &got {
        let i = u32::from_be_bytes([m[0], m[1], m[2], m[3]]) as usize;
        assert!(m == &msgs[i], "message {i} byte-exact");
        seen[i] += 1;
    }
    assert!(seen.iter().all(|&n| n == 1), "exactly once each");
}

#[test]
fn zero_retransmits_loses_messages_but_the_association_stays_healthy() {
    let mut p = established(lossy(10, 0.2), 13);
    let mut rng = Rng::from_u64(6);
    let msgs: Vec<Bytes> = (0..400u32).map(|i| payload(&mut rng, 3000, i)).collect();
    let opts = SendOptions {
        max_retransmits: Some(0),
        ..Default::default()
    };
    let got = transfer(&mut p, &msgs, opts, Duration::from_secs(120));
    assert!(got.len() < msgs.len(), "some are lost");
    assert!(got.len() > msgs.len() / 3, "most arrive: {}", got.len());
    let mut last = None;
    for (_, m) in &got {
        let i = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
        assert!(last.is_none_or(|l| i > l), "still ordered");
        last = Some(i);
    }
    assert!(p.a.stats().messages_abandoned > 0);
    // Later reliable messages still flow.
    p.links = ideal(10);
    let later: Vec<Bytes> = (1000..1010u32)
        .map(|i| payload(&mut rng, 5000, i))
        .collect();
    let got = transfer(
        &mut p,
        &later,
        SendOptions::default(),
        Duration::from_secs(30),
    );
    assert!(
        got.iter().map(|g| &g.1).eq(later.iter()),
        "later messages arrive: {} of {}",
        got.len(),
        later.len()
    );
    assert_eq!(p.a.state(), AssociationState::Established);
}

#[test]
fn expired_lifetime_messages_are_abandoned() {
    let mut p = established(lossy(50, 0.3), 17);
    let mut rng = Rng::from_u64(8);
    let msgs: Vec<Bytes> = (0..200u32).map(|i| payload(&mut rng, 2000, i)).collect();
    let opts = SendOptions {
        lifetime: Some(Duration::from_millis(150)),
        ..Default::default()
    };
    let got = transfer(&mut p, &msgs, opts, Duration::from_secs(120));
    assert!(got.len() < msgs.len());
    assert!(p.a.stats().messages_abandoned > 0);
    assert_eq!(p.a.state(), AssociationState::Established);
}

#[test]
fn stream_reset_restarts_sequence_numbers_on_both_sides() {
    let mut p = established(ideal(5), 19);
    let now = p.now;
    p.a.send(
        now,
        3,
        53,
        Bytes::from_static(b"one"),
        SendOptions::default(),
    )
    .expect("send");
    p.a.reset_streams(now, &[3]).expect("reset");
    assert_eq!(
        p.a.send(now, 3, 53, Bytes::from_static(b"x"), SendOptions::default()),
        Err(SctpError::StreamResetting(3))
    );
    let mut a_events = Vec::new();
    let mut b_events = Vec::new();
    p.run_until(Duration::from_secs(5), |p| {
        a_events.extend(std::iter::from_fn(|| p.a.poll_event()));
        b_events.extend(std::iter::from_fn(|| p.b.poll_event()));
        a_events.contains(&SctpEvent::OutgoingStreamsReset(vec![3]))
    });
    assert!(b_events.contains(&SctpEvent::IncomingStreamsReset(vec![3])));
    assert!(matches!(&b_events[1], SctpEvent::Message { payload, .. } if payload == "one"));
    // SSN restarts at 0 and the receiver expects 0: the next message is delivered.
    p.a.send(
        p.now,
        3,
        53,
        Bytes::from_static(b"two"),
        SendOptions::default(),
    )
    .expect("send");
    assert_eq!(p.a.send.stream(3).map(|s| s.next_ssn), Some(0));
    let mut got = Vec::new();
    p.run_until(Duration::from_secs(5), |p| {
        drain_messages(&mut p.b, &mut got);
        !got.is_empty()
    });
    assert_eq!(got[0].1, "two");
}

#[test]
fn oversized_message_aborts_the_association() {
    let now = t0();
    let big = SctpConfig {
        max_message_size: 1 << 20,
        ..SctpConfig::default()
    };
    let mut p = Pair::new(
        Association::new(big, Rng::from_u64(1)),
        assoc(2),
        now,
        ideal(5),
        1,
    );
    p.a.connect(now).expect("closed");
    p.run_until(Duration::from_secs(5), |p| {
        p.b.state() == AssociationState::Established
    });
    p.a.send(
        p.now,
        0,
        53,
        Bytes::from(vec![0u8; 300 * 1024]),
        SendOptions::default(),
    )
    .expect("send");
    let mut closed = None;
    p.run_until(Duration::from_secs(10), |p| {
        while let Some(e) = p.b.poll_event() {
            if let SctpEvent::Closed(r) = e {
                closed = Some(r);
            }
        }
        closed.is_some()
    });
    assert!(matches!(closed, Some(CloseReason::ProtocolViolation(_))));
    p.run_until(Duration::from_secs(1), |_| false);
    assert_eq!(p.a.state(), AssociationState::Closed, "peer got the ABORT");
}

#[test]
fn shutdown_closes_both_sides_after_data() {
    let mut p = established(ideal(5), 23);
    p.a.send(
        p.now,
        0,
        53,
        Bytes::from(vec![1u8; 50_000]),
        SendOptions::default(),
    )
    .expect("send");
    p.a.shutdown(p.now).expect("established");
    let ok = p.run_until(Duration::from_secs(10), |p| {
        p.a.state() == AssociationState::Closed && p.b.state() == AssociationState::Closed
    });
    assert!(ok);
    let mut got = Vec::new();
    drain_messages(&mut p.b, &mut got);
    assert_eq!(got.len(), 1);
    assert!(
        std::iter::from_fn(|| p.a.poll_event())
            .any(|e| e == SctpEvent::Closed(CloseReason::Shutdown))
    );
}

#[test]
fn abort_closes_the_peer() {
    let mut p = established(ideal(5), 29);
    p.a.abort(p.now);
    p.run_until(Duration::from_secs(1), |p| {
        p.b.state() == AssociationState::Closed
    });
    assert!(
        std::iter::from_fn(|| p.b.poll_event())
            .any(|e| e == SctpEvent::Closed(CloseReason::AbortedByPeer))
    );
}

#[test]
fn unanswered_init_times_out() {
    let now = t0();
    let mut a = assoc(1);
    a.connect(now).expect("closed");
    let mut t = now;
    while a.state() != AssociationState::Closed {
        while a.poll_transmit(t).is_some() {}
        t = a.poll_timeout().expect("T1 runs");
        a.handle_timeout(t);
    }
    assert!(
        std::iter::from_fn(|| a.poll_event()).any(|e| e == SctpEvent::Closed(CloseReason::Timeout))
    );
}

#[test]
fn corrupted_and_forged_packets_are_counted_and_dropped() {
    let mut p = established(ideal(5), 31);
    let mut w = packet::PacketWriter::new(5000, 5000, p.b.local_tag, 1200);
    w.push_chunk(3, 0, &[&[0u8; 12]]);
    let mut pkt = w.finish(false);
    pkt[13] ^= 0xff;
    p.b.handle_receive(p.now, Bytes::from(pkt));
    assert_eq!(p.b.stats().dropped_bad_checksum, 1);
    let mut w = packet::PacketWriter::new(5000, 5000, p.b.local_tag ^ 1, 1200);
    w.push_chunk(11, 0, &[]);
    p.b.handle_receive(p.now, Bytes::from(w.finish(false)));
    assert_eq!(p.b.stats().dropped_bad_vtag, 1);
    let mut w = packet::PacketWriter::new(5000, 5000, p.b.local_tag, 1200);
    w.push_chunk(0, 3, &[&[1, 2]]);
    p.b.handle_receive(p.now, Bytes::from(w.finish(false)));
    assert_eq!(p.b.stats().dropped_malformed, 1);
    assert_eq!(p.b.state(), AssociationState::Established);
}

#[test]
fn forged_cookie_is_refused() {
    let now = t0();
    let mut b = assoc(2);
    let mut w = packet::PacketWriter::new(5000, 5000, b.local_tag, 1200);
    w.push_chunk(10, 0, &[&[7u8; cookie::COOKIE_LEN]]);
    b.handle_receive(now, Bytes::from(w.finish(false)));
    assert_eq!(b.stats().bad_cookies, 1);
    assert_eq!(b.state(), AssociationState::Closed);
}

#[test]
fn random_garbage_never_panics() {
    let mut p = established(ideal(5), 37);
    let mut rng = Rng::from_u64(1);
    for i in 0..20_000u32 {
        let len = rng.below(300) as usize;
        let mut pkt = vec![0u8; len];
        rng.fill(&mut pkt);
        if len >= 12 {
            pkt[..4].copy_from_slice(&[0x13, 0x88, 0x13, 0x88]);
            pkt[4..8].copy_from_slice(&p.b.local_tag.to_be_bytes());
            if i % 2 == 0 {
                pkt[8..12].fill(0);
            } else {
                let c = packet::checksum(&pkt);
                pkt[8..12].copy_from_slice(&c.to_le_bytes());
            }
        }
        p.b.handle_receive(p.now, Bytes::from(pkt));
        while p.b.poll_transmit(p.now).is_some() {}
    }
    let s = p.b.stats();
    assert!(s.dropped_malformed + s.unknown_chunks + s.unexpected_chunks > 0);
}

#[test]
fn same_seed_gives_identical_packets() {
    let run = || {
        let mut p = established(lossy(10, 0.1), 41);
        let mut out = Vec::new();
        p.tamper = None;
        let mut rng = Rng::from_u64(3);
        let msgs: Vec<Bytes> = (0..50u32).map(|i| payload(&mut rng, 9000, i)).collect();
        for m in &msgs {
            p.a.send(p.now, 0, 53, m.clone(), SendOptions::default())
                .expect("send");
        }
        for _ in 0..200 {
            p.flush();
            out.push((
                p.a.stats().clone(),
                p.b.stats().clone(),
                p.a.inflight.next_tsn(),
            ));
            p.step();
        }
        out
    };
    assert_eq!(run(), run());
}

#[test]
fn sixty_four_streams_at_once_in_both_directions() {
    let mut p = established(lossy(5, 0.05), 43);
    for s in 0..64u16 {
        for k in 0..5u8 {
            let msg = Bytes::from(vec![k; 100 + usize::from(s)]);
            p.a.send(p.now, s, 53, msg.clone(), SendOptions::default())
                .expect("a");
            p.b.send(p.now, s, 53, msg, SendOptions::default())
                .expect("b");
        }
    }
    let (mut ga, mut gb) = (Vec::new(), Vec::new());
    p.run_until(Duration::from_secs(60), |p| {
        drain_messages(&mut p.a, &mut ga);
        drain_messages(&mut p.b, &mut gb);
        ga.len() == 320 && gb.len() == 320
    });
    for got in [&ga, &gb] {
        assert_eq!(got.len(), 320);
        for s in 0..64u16 {
            let per: Vec<u8> = got.iter().filter(|g| g.0 == s).map(|g| g.1[0]).collect();
            assert_eq!(per, vec![0, 1, 2, 3, 4], "stream {s} in order");
        }
    }
}

#[test]
fn a_receiver_that_does_not_read_stays_bounded_and_catches_up() {
    let mut p = established(ideal(5), 47);
    let msg = Bytes::from(vec![3u8; 64 * 1024]);
    for _ in 0..200 {
        p.a.send(p.now, 0, 53, msg.clone(), SendOptions::default())
            .expect("send");
    }
    p.run_until(Duration::from_secs(20), |_| false);
    let window = SctpConfig::default().receive_window as usize;
    assert!(p.b.unread <= window + 64 * 1024, "unread {}", p.b.unread);
    assert!(p.a.total_buffered() > 0, "the sender is held back");
    let mut got = Vec::new();
    p.run_until(Duration::from_secs(120), |p| {
        drain_messages(&mut p.b, &mut got);
        got.len() == 200
    });
    assert_eq!(got.len(), 200);
    assert_eq!(p.a.state(), AssociationState::Established);
}

#[test]
fn sixteen_mebibyte_message_arrives_when_configured() {
    let now = t0();
    let config = SctpConfig {
        max_message_size: 16 << 20,
        receive_window: 16 << 20,
        ..SctpConfig::default()
    };
    let mut p = Pair::new(
        Association::new(config.clone(), Rng::from_u64(1)),
        Association::new(config, Rng::from_u64(2)),
        now,
        lossy(10, 0.02),
        51,
    );
    p.a.connect(now).expect("closed");
    let mut rng = Rng::from_u64(4);
    let big = payload(&mut rng, 16 << 20, 7);
    let got = {
        p.run_until(Duration::from_secs(5), |p| {
            p.a.state() == AssociationState::Established
        });
        transfer(
            &mut p,
            std::slice::from_ref(&big),
            SendOptions::default(),
            Duration::from_secs(300),
        )
    };
    assert_eq!(got.len(), 1);
    assert!(got[0].1 == big, "byte-exact");
}

#[test]
fn sacks_handled_before_the_next_send_add_up_their_burst_budgets() {
    let mut p = established(ideal(1), 77);
    let now = p.now;
    // Only the burst limit may hold a back: a large window, 1000-byte messages (one per
    // packet, 1000 bytes of budget each).
    p.a.cc.cwnd = 1 << 20;
    for i in 0..64u8 {
        let msg = Bytes::from(vec![i; 1000]);
        p.a.send(now, 0, 53, msg, SendOptions::default())
            .expect("send");
    }
    let first: Vec<_> = std::iter::from_fn(|| p.a.poll_transmit(now)).collect();
    // b answers packet by packet: a SACK every second packet.
    let mut sacks = Vec::new();
    for pkt in &first {
        p.b.handle_receive(now, pkt.clone());
        sacks.extend(std::iter::from_fn(|| p.b.poll_transmit(now)));
    }
    assert!(
        sacks.len() >= 2,
        "{} SACKs for {} packets",
        sacks.len(),
        first.len()
    );
    let acked = 2 * sacks.len() * 1000;
    for sack in sacks {
        p.a.handle_receive(now, sack);
    }
    let second = std::iter::from_fn(|| p.a.poll_transmit(now)).count();
    let budget = acked + p.a.config.max_burst * p.a.config.max_packet_size;
    assert_eq!(
        second,
        budget.div_ceil(1000),
        "all SACKs' bytes plus one Max.Burst"
    );
}

#[test]
fn every_sack_of_a_batch_for_a_full_window_grows_it_in_slow_start() {
    let mut p = established(ideal(1), 78);
    let now = p.now;
    p.a.cc.cwnd = 10_000;
    p.a.burst_budget = 1 << 20;
    for i in 0..64u8 {
        let msg = Bytes::from(vec![i; 1000]);
        p.a.send(now, 0, 53, msg, SendOptions::default())
            .expect("send");
    }
    let flight: Vec<_> = std::iter::from_fn(|| p.a.poll_transmit(now)).collect();
    assert_eq!(flight.len(), 10, "cwnd fills with ten 1000-byte chunks");
    let mut sacks = Vec::new();
    for pkt in &flight {
        p.b.handle_receive(now, pkt.clone());
        sacks.extend(std::iter::from_fn(|| p.b.poll_transmit(now)));
    }
    assert_eq!(sacks.len(), 5, "a SACK every second packet");
    for sack in sacks {
        p.a.handle_receive(now, sack);
    }
    // Each SACK acknowledged 2000 bytes of a full window: slow start adds them all.
    assert_eq!(p.a.cc.cwnd, 20_000);
}

/// Queues `n` messages of 1,000 bytes on `x`.
fn queue_messages(x: &mut Association, now: Instant, n: u8) {
    for i in 0..n {
        let msg = Bytes::from(vec![i; 1000]);
        x.send(now, 0, 53, msg, SendOptions::default())
            .expect("send");
    }
}

#[test]
fn poll_control_sends_a_due_sack_but_holds_data_back() {
    let mut p = established(ideal(1), 79);
    let now = p.now;
    queue_messages(&mut p.a, now, 2);
    queue_messages(&mut p.b, now, 4);
    let to_b: Vec<_> = std::iter::from_fn(|| p.a.poll_transmit(now)).collect();
    assert_eq!(to_b.len(), 2);
    for pkt in to_b {
        p.b.handle_receive(now, pkt);
    }
    // Two packets make b's SACK due; a pacer holds b's own DATA back.
    let sent_before = p.b.stats().data_chunks_sent;
    let control: Vec<_> = std::iter::from_fn(|| p.b.poll_control(now)).collect();
    assert_eq!(control.len(), 1, "one packet: the SACK");
    assert_eq!(p.b.stats().data_chunks_sent, sent_before, "no DATA");
    let sacks_before = p.a.stats().sacks_received;
    p.a.handle_receive(now, control[0].clone());
    assert_eq!(p.a.stats().sacks_received, sacks_before + 1);
    assert_eq!(p.a.bytes_in_flight(), 0, "everything acknowledged");
    // Nothing of a's is due: no packet, and the SACK's burst budget stays for a's DATA.
    assert!(p.a.burst_pending);
    assert!(p.a.poll_control(now).is_none());
    assert!(
        p.a.burst_pending,
        "poll_control does not end the send opportunity"
    );
    // Once the pacer lets go, the DATA leaves.
    assert!(p.b.poll_transmit(now).is_some());
    assert!(p.b.stats().data_chunks_sent > sent_before);
}
