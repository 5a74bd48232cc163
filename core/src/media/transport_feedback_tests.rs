use super::*;
use crate::rtp::rtcp::{RtcpPacket, parse_compound};
use proptest::prelude::*;
use std::collections::BTreeSet;

use crate::time::test_epoch as start;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sequence numbers reported received, with their arrival offsets from the reference time
/// in microseconds (summing the deltas), over all `messages`.
fn received(messages: &[TransportCc]) -> Vec<(u16, i64)> {
    let mut out = Vec::new();
    for m in messages {
        let mut at = i64::from(m.reference_time) * 64_000;
        for &(seq, delta) in &m.packets {
            if let Some(d) = delta {
                at += d * 250;
                out.push((seq, at));
            }
        }
    }
    out
}

/// Every message survives the wire: written, parsed back equal, and about 1 KB at most.
fn assert_wire_round_trip(messages: &[TransportCc]) {
    for m in messages {
        let bytes = RtcpPacket::TransportCc(m.clone()).to_bytes();
        assert!(bytes.len() <= 1_200, "feedback of {} bytes", bytes.len());
        let parsed: Vec<_> = parse_compound(&bytes).collect();
        assert_eq!(parsed, vec![Ok(RtcpPacket::TransportCc(m.clone()))]);
    }
}

#[test]
fn nothing_is_due_before_a_packet_and_the_first_feedback_comes_one_interval_later() {
    let t0 = start();
    let mut r = TransportFeedbackReceiver::default();
    assert_eq!(r.deadline(), None);
    assert!(r.poll_feedback(t0, 1).is_empty());
    r.on_packet(t0, 10, 0xabc);
    assert_eq!(r.deadline(), Some(t0 + FEEDBACK_INTERVAL));
    assert!(r.poll_feedback(t0 + ms(99), 1).is_empty());
}

#[test]
fn in_order_packets_are_reported_once_with_their_arrival_spacing() {
    let t0 = start();
    let mut r = TransportFeedbackReceiver::default();
    for i in 0..100u16 {
        r.on_packet(t0 + ms(u64::from(i)), 65_500u16.wrapping_add(i), 7);
    }
    let due = r.deadline().expect("due");
    assert_eq!(due, t0 + FEEDBACK_INTERVAL);
    let messages = r.poll_feedback(due, 42);
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!((m.sender_ssrc, m.media_ssrc, m.base_seq), (42, 7, 65_500));
    assert_eq!(m.fb_pkt_count, 0);
    let got = received(&messages);
    assert_eq!(got.len(), 100);
    for (i, (seq, at)) in got.iter().enumerate() {
        assert_eq!(*seq, 65_500u16.wrapping_add(i as u16));
        assert_eq!(*at, i as i64 * 1_000, "arrival of packet {i}");
    }
    assert_wire_round_trip(&messages);
    // Nothing new: nothing due.
    assert_eq!(r.deadline(), None);
    r.on_packet(due + ms(1), 65_500u16.wrapping_add(100), 7);
    assert_eq!(r.deadline(), Some(due + FEEDBACK_INTERVAL));
    let next = r.poll_feedback(due + FEEDBACK_INTERVAL, 42);
    assert_eq!(next[0].base_seq, 65_500u16.wrapping_add(100));
    assert_eq!(next[0].fb_pkt_count, 1);
}

#[test]
fn a_gap_brings_feedback_forward_but_not_within_the_minimum_interval() {
    let t0 = start();
    let mut r = TransportFeedbackReceiver::default();
    r.on_packet(t0, 1, 7);
    let first = r.poll_feedback(t0 + FEEDBACK_INTERVAL, 1);
    assert_eq!(first.len(), 1);
    let sent = t0 + FEEDBACK_INTERVAL;
    r.on_packet(sent + ms(10), 2, 7);
    assert_eq!(r.deadline(), Some(sent + FEEDBACK_INTERVAL));
    r.on_packet(sent + ms(20), 4, 7); // 3 is missing
    assert_eq!(r.deadline(), Some(sent + MIN_FEEDBACK_INTERVAL));
    let m = r.poll_feedback(sent + MIN_FEEDBACK_INTERVAL, 1);
    assert_eq!(
        m[0].packets
            .iter()
            .map(|p| (p.0, p.1.is_some()))
            .collect::<Vec<_>>(),
        vec![(2, true), (3, false), (4, true)]
    );
}

#[test]
fn a_loss_right_after_a_feedback_is_reported_at_the_start_of_the_next() {
    let t0 = start();
    let mut r = TransportFeedbackReceiver::default();
    r.on_packet(t0, 1, 7);
    let first = r.poll_feedback(r.deadline().unwrap(), 1);
    assert_eq!(first[0].packets, vec![(1, Some(0))]);
    r.on_packet(t0 + ms(120), 3, 7); // 2 lost
    let next = r.poll_feedback(r.deadline().unwrap(), 1);
    assert_eq!(next[0].base_seq, 2);
    assert_eq!(next[0].packets[0], (2, None));
    assert_eq!(received(&next).iter().map(|p| p.0).collect::<Vec<_>>(), [3]);
    assert_wire_round_trip(&next);
}

#[test]
fn a_packet_reported_missing_that_arrives_late_is_reported_again() {
    let t0 = start();
    let mut r = TransportFeedbackReceiver::default();
    for seq in [1u16, 2, 4, 5] {
        r.on_packet(t0 + ms(u64::from(seq)), seq, 7);
    }
    let at = r.deadline().unwrap();
    let first = r.poll_feedback(at, 1);
    assert!(first[0].packets.contains(&(3, None)));
    r.on_packet(at + ms(5), 3, 7);
    let at2 = r.deadline().unwrap();
    let again = r.poll_feedback(at2, 1);
    assert_eq!(again[0].base_seq, 3);
    assert_eq!(
        received(&again).iter().map(|p| p.0).collect::<Vec<_>>(),
        [3, 4, 5]
    );
    assert_wire_round_trip(&again);
}

#[test]
fn reordered_arrivals_give_negative_deltas_that_survive_the_wire() {
    let t0 = start();
    let mut r = TransportFeedbackReceiver::default();
    r.on_packet(t0, 1, 7);
    r.on_packet(t0 + ms(30), 3, 7);
    r.on_packet(t0 + ms(40), 2, 7);
    let m = r.poll_feedback(r.deadline().unwrap(), 1);
    assert_eq!(received(&m), vec![(1, 0), (2, 40_000), (3, 30_000)]);
    assert_wire_round_trip(&m);
}

#[test]
fn duplicates_and_packets_far_behind_are_ignored() {
    let t0 = start();
    let mut r = TransportFeedbackReceiver::default();
    r.on_packet(t0, 20_000, 7);
    r.on_packet(t0, 20_000, 7);
    r.on_packet(t0, 20_000 - MAX_PACKETS as u16, 7);
    assert_eq!(r.stats().packets_recorded, 1);
    assert_eq!(r.stats().packets_ignored, 2);
}

#[test]
fn a_long_burst_is_split_into_messages_of_bounded_size() {
    let t0 = start();
    let mut r = TransportFeedbackReceiver::default();
    let n = MAX_RECEIVED_PER_MESSAGE * 3 + 17;
    for i in 0..n {
        // Every other packet lost, large alternating deltas: the worst case for size.
        let at = t0 + Duration::from_micros((i as u64 % 2) * 70_000 + i as u64 * 50);
        r.on_packet(at, (i * 2) as u16, 7);
    }
    let messages = r.poll_feedback(t0 + ms(200), 1);
    assert_eq!(messages.len(), 4);
    assert_wire_round_trip(&messages);
    assert_eq!(received(&messages).len(), n);
    let counts: Vec<_> = messages.iter().map(|m| m.fb_pkt_count).collect();
    assert_eq!(counts, [0, 1, 2, 3]);
}

/// Polls what is due at `at` and checks that every packet recorded since the last poll,
/// unless a later jump put it [`MAX_PACKETS`] behind, is reported received.
fn poll_and_check(
    r: &mut TransportFeedbackReceiver,
    at: Instant,
    pending: &mut Vec<i64>,
) -> Result<(), TestCaseError> {
    let messages = r.poll_feedback(at, 1);
    assert_wire_round_trip(&messages);
    let highest = r.highest().expect("a packet came");
    let reported: BTreeSet<i64> = received(&messages)
        .into_iter()
        .map(|(seq, _)| highest + i64::from(seq.wrapping_sub(highest as u16) as i16))
        .collect();
    for e in pending.drain(..) {
        prop_assert!(
            e <= highest - MAX_PACKETS || reported.contains(&e),
            "packet {e} recorded but not reported (highest {highest})"
        );
    }
    Ok(())
}

proptest! {
    /// Driven like a connection drives it (feedback polled when due), whatever arrives —
    /// any order, duplicates, jumps — memory stays bounded, every message fits the wire,
    /// and every recorded packet is reported received in the next feedback.
    #[test]
    fn every_recorded_packet_is_reported_and_memory_stays_bounded(
        steps in prop::collection::vec((any::<i16>(), 0u64..40), 1..400),
    ) {
        let mut now = start();
        let mut r = TransportFeedbackReceiver::default();
        let mut seq: u16 = 1_000;
        let mut pending = Vec::new();
        for (jump, gap_ms) in steps {
            // Mostly small steps back and forth, sometimes anything.
            let step = if jump % 8 == 0 { jump } else { jump % 4 };
            seq = seq.wrapping_add(step as u16);
            now += ms(gap_ms);
            while let Some(at) = r.deadline().filter(|&at| at <= now) {
                poll_and_check(&mut r, at, &mut pending)?;
            }
            let before = r.stats().packets_recorded;
            let ext = r.extend(seq);
            r.on_packet(now, seq, 7);
            if r.stats().packets_recorded > before {
                pending.push(ext);
            }
            prop_assert!(r.arrivals.len() as i64 <= MAX_PACKETS);
        }
        while let Some(at) = r.deadline() {
            poll_and_check(&mut r, at.max(now), &mut pending)?;
        }
        prop_assert!(pending.is_empty());
    }
}
