use super::*;
use crate::rtp::rtcp::{ATO_UNAVAILABLE, MAX_METRICS_PER_BLOCK, RtcpPacket, parse_compound};
use proptest::prelude::*;

use crate::time::test_epoch as start;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Every message survives the wire and stays near 1 KB.
fn assert_wire_round_trip(messages: &[CongestionControlFeedback]) {
    for m in messages {
        let bytes = RtcpPacket::Ccfb(m.clone()).to_bytes();
        assert!(bytes.len() <= 1_200, "feedback of {} bytes", bytes.len());
        let parsed: Vec<_> = parse_compound(&bytes).collect();
        assert_eq!(parsed, vec![Ok(RtcpPacket::Ccfb(m.clone()))]);
    }
}

#[test]
fn nothing_is_due_before_a_packet_and_the_first_report_comes_one_interval_later() {
    let t0 = start();
    let mut r = CcfbReceiver::default();
    assert_eq!(r.deadline(), None);
    assert!(r.poll_feedback(t0, 1, 0).is_empty());
    r.on_packet(t0, 0xabc, 10);
    assert_eq!(r.deadline(), Some(t0 + CCFB_INTERVAL));
    assert!(r.poll_feedback(t0 + ms(49), 1, 0).is_empty());
}

#[test]
fn each_stream_gets_a_block_with_losses_and_arrival_offsets_before_the_report() {
    let t0 = start();
    let mut r = CcfbReceiver::default();
    // Stream A: 65534, 65535, (0 lost), 1; stream B (RTX): 7.
    r.on_packet(t0, 0xa, 65534);
    r.on_packet(t0 + ms(10), 0xa, 65535);
    r.on_packet(t0 + ms(20), 0xb, 7);
    r.on_packet(t0 + ms(30), 0xa, 1);
    let due = r.deadline().expect("due");
    let messages = r.poll_feedback(due, 42, 0x0001_2345_6789_abcd);
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!((m.sender_ssrc, m.report_timestamp), (42, 0x2345_6789));
    let a = &m.blocks[0];
    assert_eq!(
        (a.media_ssrc, a.begin_seq, a.reports.len()),
        (0xa, 65534, 4)
    );
    // 50 ms before the report is 51.2 units of 1/1024 s.
    let offsets: Vec<Option<u16>> = a.reports.iter().map(|r| r.map(|x| x.offset)).collect();
    assert_eq!(offsets, [Some(51), Some(40), None, Some(20)]);
    let b = &m.blocks[1];
    assert_eq!((b.media_ssrc, b.begin_seq, b.reports.len()), (0xb, 7, 1));
    assert_wire_round_trip(&messages);
    // All reported: nothing due until the next packet.
    assert_eq!(r.deadline(), None);
    r.on_packet(due + ms(5), 0xa, 2);
    let next = r.poll_feedback(r.deadline().expect("due"), 42, 0);
    assert_eq!(next[0].blocks.len(), 1);
    assert_eq!(next[0].blocks[0].begin_seq, 2);
}

#[test]
fn a_packet_reported_missing_is_reported_again_when_it_arrives_late() {
    let t0 = start();
    let mut r = CcfbReceiver::default();
    r.on_packet(t0, 5, 100);
    r.on_packet(t0, 5, 102);
    let first = r.poll_feedback(t0 + CCFB_INTERVAL, 1, 0);
    assert_eq!(first[0].blocks[0].reports[1], None);
    r.on_packet(t0 + ms(60), 5, 101);
    let again = r.poll_feedback(r.deadline().expect("due"), 1, 0);
    let block = &again[0].blocks[0];
    assert_eq!(block.begin_seq, 101);
    assert!(block.reports[0].is_some());
}

#[test]
fn old_arrivals_are_over_range() {
    let t = start();
    assert_eq!(
        arrival(t + Duration::from_secs(9), t).offset,
        ATO_OVER_RANGE
    );
    assert_eq!(arrival(t + ms(500), t).offset, 512);
    assert!(arrival(t, t).offset < ATO_UNAVAILABLE);
}

#[test]
fn streams_are_bounded_and_the_quietest_makes_room() {
    let t0 = start();
    let mut r = CcfbReceiver::default();
    for ssrc in 0..MAX_STREAMS as u32 + 5 {
        r.on_packet(t0 + ms(u64::from(ssrc)), ssrc, 1);
    }
    assert_eq!(r.streams.len(), MAX_STREAMS);
    assert_eq!(r.stats().streams_evicted, 5);
    assert!(r.streams.iter().all(|s| s.ssrc >= 5), "the first five went");
}

#[test]
fn a_long_run_is_split_over_messages_of_bounded_size() {
    let t0 = start();
    let mut r = CcfbReceiver::default();
    for i in 0..1_800u16 {
        r.on_packet(t0 + Duration::from_micros(u64::from(i) * 20), 9, i);
    }
    let messages = r.poll_feedback(r.deadline().expect("due"), 1, 0);
    assert_eq!(messages.len(), 4);
    assert!(
        messages
            .iter()
            .all(|m| m.report_count() <= MAX_REPORTS_PER_MESSAGE)
    );
    let total: usize = messages
        .iter()
        .map(CongestionControlFeedback::report_count)
        .sum();
    assert_eq!(total, 1_800);
    assert_wire_round_trip(&messages);
}

proptest! {
    /// Whatever arrives on a few streams — any order, duplicates, jumps — memory stays
    /// bounded, every message fits the wire and a block, and nothing is due forever.
    #[test]
    fn feedback_stays_bounded_and_fits_the_wire(
        steps in prop::collection::vec((0u32..3, any::<i16>(), 0u64..40), 1..300),
    ) {
        let mut now = start();
        let mut r = CcfbReceiver::default();
        let mut seqs = [100u16, 30_000, 65_000];
        for (stream, jump, gap_ms) in steps {
            let step = if jump % 8 == 0 { jump } else { jump % 4 };
            let seq = &mut seqs[stream as usize];
            *seq = seq.wrapping_add(step as u16);
            now += ms(gap_ms);
            while let Some(at) = r.deadline().filter(|&at| at <= now) {
                let messages = r.poll_feedback(at, 1, 0);
                assert_wire_round_trip(&messages);
                for m in &messages {
                    prop_assert!(m.report_count() <= MAX_REPORTS_PER_MESSAGE);
                    prop_assert!(m.blocks.iter().all(|b| b.reports.len() <= MAX_METRICS_PER_BLOCK));
                }
            }
            r.on_packet(now, stream, *seq);
            prop_assert!(r.streams.iter().all(|s| s.log.len() as i64 <= super::super::arrival_log::MAX_PACKETS));
        }
        for _ in 0..64 {
            let Some(at) = r.deadline() else { break };
            r.poll_feedback(at.max(now), 1, 0);
        }
        prop_assert_eq!(r.deadline(), None);
    }
}
