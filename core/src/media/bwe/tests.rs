//! The estimator as a whole: a fluid model of a bottleneck answers what it sends with
//! transport-cc feedback; and properties under arbitrary feedback.

use super::*;
use crate::rtp::rtcp::TransportCc;
use proptest::prelude::*;

use crate::time::test_epoch as t0;

/// A sender at the estimate through a `capacity` link with a 50 ms one-way delay and
/// an unbounded queue; feedback every 100 ms. Returns the estimate after `secs`.
fn through_bottleneck(capacity_bps: f64, secs: u64) -> (u64, BweStats) {
    let start = t0();
    let mut bwe = SendSideBwe::new(BweConfig::default());
    let mut seq: u16 = 0;
    let mut link_free_us = 0f64;
    let mut pending: Vec<(u16, i64)> = Vec::new();
    let mut next_feedback = 100_000i64;
    let step_us = 1_000i64;
    let mut budget = 0f64;
    // The probe cluster being sent: (id, rate in bytes/s, bytes left, credit).
    let mut probe: Option<(u32, f64, f64, f64)> = None;
    for t_us in (0..(secs as i64 * 1_000_000)).step_by(step_us as usize) {
        let now = start + Duration::from_micros(t_us as u64);
        budget += bwe.target_bitrate() as f64 / 8.0 * step_us as f64 / 1e6;
        if probe.is_none()
            && let Some(c) = bwe.take_probe()
        {
            probe = Some((c.id, c.bitrate_bps as f64 / 8.0, c.min_bytes as f64, 1200.0));
        }
        let mut sends: Vec<Option<u32>> = Vec::new();
        if let Some((id, rate, left, credit)) = probe.as_mut() {
            *credit += *rate * step_us as f64 / 1e6;
            while *credit >= 1200.0 && *left > 0.0 {
                *credit -= 1200.0;
                *left -= 1200.0;
                sends.push(Some(*id));
            }
            if *left <= 0.0 {
                probe = None;
            }
            budget = 0.0;
        }
        while budget >= 1200.0 {
            budget -= 1200.0;
            sends.push(None);
        }
        for cluster in sends {
            bwe.on_packet_sent(seq, 1200, now, cluster);
            let depart = link_free_us.max(t_us as f64) + 1200.0 * 8.0 / capacity_bps * 1e6;
            link_free_us = depart;
            pending.push((seq, depart as i64 + 50_000));
            seq = seq.wrapping_add(1);
        }
        if t_us >= next_feedback {
            next_feedback += 100_000;
            let arrived: Vec<_> = pending
                .iter()
                .copied()
                .filter(|(_, at)| *at <= t_us)
                .collect();
            pending.retain(|(_, at)| *at > t_us);
            if let Some(&(base, first_at)) = arrived.first() {
                let mut last = first_at - first_at % 64_000;
                let reference = (last / 64_000) as i32;
                let packets = arrived
                    .iter()
                    .map(|&(s, at)| {
                        let d = (at - last) / 250;
                        last += d * 250;
                        (s, Some(d))
                    })
                    .collect();
                let fb = TransportCc {
                    sender_ssrc: 1,
                    media_ssrc: 2,
                    base_seq: base,
                    reference_time: reference,
                    fb_pkt_count: 0,
                    packets,
                };
                // Feedback travels 50 ms back: applied now, it describes 50 ms ago.
                bwe.on_feedback(&fb, now);
            }
        }
        bwe.on_timer(now);
    }
    (bwe.target_bitrate(), bwe.stats())
}

#[test]
fn the_estimate_settles_near_the_bottleneck() {
    for capacity in [1_000_000.0, 4_000_000.0] {
        let (estimate, stats) = through_bottleneck(capacity, 20);
        let e = estimate as f64;
        assert!(
            (0.7 * capacity..=1.1 * capacity).contains(&e),
            "capacity {capacity}: estimate {e} ({stats:?})"
        );
    }
}

#[test]
fn limits_are_put_in_order() {
    let c = BweConfig {
        start_bitrate_bps: 10,
        min_bitrate_bps: 50_000,
        max_bitrate_bps: 20_000,
        data_channel_share_percent: 200,
        allocate_simulcast: true,
    }
    .sanitized();
    assert_eq!(
        (c.min_bitrate_bps, c.start_bitrate_bps, c.max_bitrate_bps),
        (50_000, 50_000, 50_000)
    );
    assert_eq!(c.data_channel_share_percent, 100);
}

#[test]
fn remb_caps_the_target() {
    let now = t0();
    let mut bwe = SendSideBwe::new(BweConfig::default());
    bwe.on_remb(100_000, now);
    assert_eq!(bwe.target_bitrate(), 100_000);
}

#[test]
fn a_remb_driven_estimate_follows_the_remb_both_ways() {
    let now = t0();
    let mut bwe = SendSideBwe::driven_by_remb(BweConfig::default());
    assert_eq!(bwe.target_bitrate(), 300_000);
    bwe.on_remb(2_000_000, now);
    assert_eq!(bwe.target_bitrate(), 2_000_000);
    bwe.on_remb(900_000, now);
    assert_eq!(bwe.target_bitrate(), 900_000);
    bwe.on_remb(u64::MAX, now);
    assert_eq!(bwe.target_bitrate(), BweConfig::default().max_bitrate_bps);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary sends and feedback (any numbers, deltas and losses) never panic, keep the
    /// target within its limits and the history within its bound.
    #[test]
    fn arbitrary_feedback_keeps_the_estimate_in_bounds(
        ops in prop::collection::vec(
            (any::<u16>(), 0u32..2_000, prop::collection::vec(
                (any::<u16>(), prop::option::of(-40_000i64..40_000)), 0..64),
             any::<i32>()),
            1..200)
    ) {
        let start = t0();
        let config = BweConfig::default();
        let mut bwe = SendSideBwe::new(config);
        let mut now = start;
        for (seq, size, statuses, reference) in ops {
            now += Duration::from_millis(u64::from(size % 50));
            bwe.on_packet_sent(seq, size as usize, now, (size % 3 == 0).then_some(seq as u32 % 4));
            let base = statuses.first().map_or(0, |s| s.0);
            let fb = TransportCc {
                sender_ssrc: 1,
                media_ssrc: 2,
                base_seq: base,
                reference_time: reference,
                fb_pkt_count: 0,
                packets: statuses,
            };
            bwe.on_feedback(&fb, now);
            bwe.on_timer(now);
            while bwe.take_probe().is_some() {}
            let target = bwe.target_bitrate();
            prop_assert!((config.min_bitrate_bps..=config.max_bitrate_bps).contains(&target));
            prop_assert!(bwe.history_len() <= 2 * history::HISTORY_PACKETS);
        }
    }
}
