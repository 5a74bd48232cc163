//! The receive-side estimator: over-use on a growing delay, increase on a clean link, the
//! REMB schedule, both sender clocks, and bounded state under arbitrary input.

use super::*;
use proptest::prelude::*;

use crate::time::test_epoch as t0;

/// abs-send-time of `us` microseconds after the sender's epoch.
fn abs_send_time(us: u64) -> SendTime {
    SendTime::AbsSendTime(((us << 18) / 1_000_000) as u32 & 0x00ff_ffff)
}

/// A 1,200-byte packet every `interval_us` for `secs`, the n-th sent at `n·interval_us`
/// (plus `send_offset_us`) and arriving `delay_us(n)` later; REMBs polled as they fall
/// due. Returns the REMBs' bitrates.
fn feed(
    bwe: &mut ReceiveSideBwe,
    start: Instant,
    secs: u64,
    interval_us: u64,
    send_offset_us: u64,
    delay_us: impl Fn(u64) -> u64,
) -> Vec<u64> {
    let mut rembs = Vec::new();
    let packets = secs * 1_000_000 / interval_us;
    for n in 0..packets {
        let send_us = n * interval_us;
        let now = start + Duration::from_micros(send_us + delay_us(n));
        bwe.on_packet(now, 7, 1200, abs_send_time(send_us + send_offset_us));
        if let Some(r) = bwe.poll_remb(now, 1) {
            assert_eq!(r.ssrcs, [7]);
            rembs.push(r.bitrate_bps);
        }
    }
    rembs
}

#[test]
fn a_clean_link_raises_the_estimate_within_one_and_a_half_times_the_incoming_rate() {
    let mut bwe = ReceiveSideBwe::new(BweConfig::default());
    // 1,200 bytes every 4 ms: 2.4 Mbit/s arriving with a constant delay.
    let rembs = feed(&mut bwe, t0(), 10, 4_000, 0, |_| 20_000);
    let stats = bwe.stats();
    assert_eq!(stats.usage, BandwidthUsage::Normal);
    assert!(bwe.estimate() > 500_000, "{stats:?}");
    let incoming = stats.incoming_bps.expect("measured") as f64;
    assert!(
        bwe.estimate() as f64 <= 1.5 * incoming + 10_000.0,
        "{stats:?}"
    );
    // Rising: one REMB a second (the first at once), each at least the one before.
    assert!((10..=11).contains(&rembs.len()), "{rembs:?}");
    assert!(rembs.windows(2).all(|w| w[1] >= w[0]), "{rembs:?}");
}

#[test]
fn a_growing_delay_is_overuse_and_its_fall_is_sent_at_once() {
    let mut bwe = ReceiveSideBwe::new(BweConfig {
        start_bitrate_bps: 2_000_000,
        ..BweConfig::default()
    });
    let start = t0();
    // 2 s on a clean path, then each packet 0.5 ms later than the one before: a queue
    // that grows by 50 % of the send rate.
    let clean = 500u64;
    let rembs = feed(&mut bwe, start, 4, 4_000, 0, |n| {
        20_000 + n.saturating_sub(clean) * 500
    });
    let highest = *rembs.iter().max().expect("rembs");
    let last = *rembs.last().expect("rembs");
    assert!(
        last * 100 <= highest * 97,
        "the estimate fell: {rembs:?} ({:?})",
        bwe.stats()
    );
    // Falls are not held back for the one-second schedule: more REMBs than seconds.
    assert!(rembs.len() > 5, "{rembs:?}");
    // Nothing rose while the queue grew.
    let falling = &rembs[rembs.iter().position(|r| *r == highest).expect("max")..];
    assert!(falling.windows(2).all(|w| w[1] <= w[0]), "{rembs:?}");
}

#[test]
fn rtp_timestamps_serve_when_there_is_no_abs_send_time() {
    let mut bwe = ReceiveSideBwe::new(BweConfig::default());
    let start = t0();
    // 30 frames a second of 4 packets each, 90 kHz; from the 60th frame on each frame
    // arrives 4 ms later than the one before.
    for frame in 0..120u64 {
        let send_us = frame * 33_333;
        let late = frame.saturating_sub(60) * 4_000;
        for p in 0..4u64 {
            let now = start + Duration::from_micros(send_us + 20_000 + late + p * 500);
            let sent = SendTime::RtpTimestamp {
                timestamp: (frame * 3_000) as u32,
                clock_rate: 90_000,
            };
            bwe.on_packet(now, 9, 1_000, sent);
        }
        if frame == 59 {
            assert_eq!(bwe.stats().usage, BandwidthUsage::Normal);
        }
    }
    assert_eq!(bwe.stats().usage, BandwidthUsage::Overusing);
}

#[test]
fn abs_send_time_wraps_without_a_false_verdict() {
    let mut bwe = ReceiveSideBwe::new(BweConfig::default());
    // Start 2 s before the 64 s wrap of the 24-bit field.
    let rembs = feed(&mut bwe, t0(), 6, 5_000, 62_000_000, |_| 30_000);
    assert_eq!(bwe.stats().usage, BandwidthUsage::Normal);
    assert!(rembs.windows(2).all(|w| w[1] >= w[0]), "{rembs:?}");
}

#[test]
fn no_remb_before_the_incoming_rate_is_known_or_after_the_stream_stops() {
    let mut bwe = ReceiveSideBwe::new(BweConfig::default());
    let start = t0();
    bwe.on_packet(start, 7, 1200, abs_send_time(0));
    assert_eq!(bwe.deadline(), None);
    feed(&mut bwe, start, 1, 10_000, 0, |_| 0);
    let later = start + Duration::from_secs(10);
    assert_eq!(bwe.poll_remb(later, 1), None);
    assert_eq!(bwe.deadline(), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any packets (SSRCs, sizes, clocks, clock rates, time steps) never panic and keep
    /// the estimate within its limits and the state within its bounds.
    #[test]
    fn arbitrary_packets_keep_the_state_bounded(
        packets in prop::collection::vec(
            (any::<u32>(), 0usize..3_000, any::<bool>(), any::<u32>(), any::<u32>(), 0u64..300_000),
            1..400)
    ) {
        let config = BweConfig::default();
        let mut bwe = ReceiveSideBwe::new(config);
        let mut now = t0();
        for (ssrc, size, abs, value, clock_rate, step_us) in packets {
            now += Duration::from_micros(step_us);
            let sent = if abs {
                SendTime::AbsSendTime(value)
            } else {
                SendTime::RtpTimestamp { timestamp: value, clock_rate }
            };
            bwe.on_packet(now, ssrc % 16, size, sent);
            if let Some(r) = bwe.poll_remb(now, 1) {
                prop_assert!(r.ssrcs.len() <= MAX_SSRCS);
            }
            let e = bwe.estimate();
            prop_assert!((config.min_bitrate_bps..=config.max_bitrate_bps).contains(&e));
            prop_assert!(bwe.timelines() <= MAX_TIMELINES);
        }
    }
}
