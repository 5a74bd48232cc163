//! The bandwidth-adaptation acceptance table, asserted: rtcpeer video senders following the
//! send-side estimate through a bottleneck with a 100 ms drop-tail queue and a 50 ms round
//! trip, in the simulator (`cargo run --release -p rtcpeer-examples --bin bwe_table`
//! prints the same figures).

use rtcpeer_examples::bwe::{Bottleneck, FlowFigures, Outcome, Scenario, run};
use std::time::Duration;

fn converges_with_low_delay_and_loss(capacity: u64) {
    let s = Scenario::new(Bottleneck::fixed(capacity), 1, false, 20);
    let f = check_convergence(capacity, &s);
    assert!(f.transport_cc_received > 0 && f.ccfb_received == 0);
}

/// The estimate reaches 85 % of `capacity` within 5 s, then the video uses the path with
/// low queuing delay and loss.
fn check_convergence(capacity: u64, scenario: &Scenario) -> FlowFigures {
    let o = run(scenario);
    let f = &o.flows[0];
    let converged = f
        .converged_after
        .expect("the estimate reached 85 % of capacity");
    assert!(
        converged <= Duration::from_secs(5),
        "{capacity}: {converged:?}"
    );
    assert!(
        f.queue_delay_p95 < Duration::from_millis(100),
        "{capacity}: p95 queuing {:?}",
        f.queue_delay_p95
    );
    assert!(f.loss < 0.01, "{capacity}: loss {}", f.loss);
    // The video actually used the path, and did not exceed it.
    assert!(
        f.video_rate > 0.7 * capacity as f64 && f.video_rate <= 1.02 * capacity as f64,
        "{capacity}: video {}",
        f.video_rate
    );
    o.flows[0].clone()
}

#[test]
fn one_megabit_is_reached_within_five_seconds_with_low_delay_and_loss() {
    converges_with_low_delay_and_loss(1_000_000);
}

#[test]
fn three_megabits_are_reached_within_five_seconds_with_low_delay_and_loss() {
    converges_with_low_delay_and_loss(3_000_000);
}

#[test]
fn ten_megabits_are_reached_within_five_seconds_with_low_delay_and_loss() {
    converges_with_low_delay_and_loss(10_000_000);
}

#[test]
fn three_megabits_are_reached_within_five_seconds_on_rfc_8888_feedback_alone() {
    let s = Scenario::new(Bottleneck::fixed(3_000_000), 1, false, 20).with_ccfb();
    let f = check_convergence(3_000_000, &s);
    assert_eq!(f.transport_cc_received, 0);
    // 20 s of reports every 50 ms.
    assert!(
        f.ccfb_received > 300,
        "{} RFC 8888 reports",
        f.ccfb_received
    );
}

#[test]
fn a_drop_from_three_to_one_megabit_is_followed_within_two_seconds() {
    let mut b = Bottleneck::fixed(3_000_000);
    b.capacity.push((Duration::from_secs(10), 1_000_000));
    let o = run(&Scenario::new(b, 1, false, 20));
    let after = o
        .followed_after(Duration::from_secs(10), 1_100_000)
        .expect("the estimate came down");
    assert!(after <= Duration::from_secs(2), "followed after {after:?}");
}

#[test]
fn two_flows_share_a_link_within_twenty_percent() {
    let o = run(&Scenario::new(Bottleneck::fixed(3_000_000), 2, false, 30));
    let (a, b) = (o.flows[0].video_rate, o.flows[1].video_rate);
    let unfairness = (a - b).abs() / a.max(b);
    assert!(unfairness <= 0.2, "rates {a} and {b}");
    assert!(a + b > 0.7 * 3_000_000.0, "together {}", a + b);
}

#[test]
fn a_bulk_data_channel_beside_the_video_does_not_starve_it() {
    let o: Outcome = run(&Scenario::new(Bottleneck::fixed(3_000_000), 1, true, 20));
    let f = &o.flows[0];
    assert!(f.video_rate > 0.3 * 3_000_000.0, "video {}", f.video_rate);
    assert!(f.data_rate > 0.2 * 3_000_000.0, "data {}", f.data_rate);
    assert!(
        f.queue_delay_p95 < Duration::from_millis(100),
        "p95 {:?}",
        f.queue_delay_p95
    );
}

/// The estimate in force at `at`: the last one announced before it.
fn estimate_at(estimates: &[(Duration, u64)], at: Duration) -> u64 {
    estimates
        .iter()
        .take_while(|(t, _)| *t <= at)
        .last()
        .map_or(0, |(_, e)| *e)
}

/// A peer that negotiated REMB and not transport-cc: the receiver's estimate, sent as REMB,
/// is all the sender's estimate follows. Through a 1 Mbit/s bottleneck it settles in a
/// sawtooth just below it (AIMD: up by about 8 % a second, down to 85 % of the incoming
/// rate at overuse), averaging within 15 % below the capacity, without a standing queue.
#[test]
fn a_remb_only_peer_drives_the_estimate_to_the_bottleneck() {
    let capacity = 1_000_000.0;
    let mut s = Scenario::new(Bottleneck::fixed(1_000_000), 1, false, 45).with_remb();
    s.measure_from = Duration::from_secs(25);
    let o = run(&s);
    let f = &o.flows[0];
    // Sampled every 10 ms from 25 s to the end.
    let samples: Vec<u64> = (2_500..4_500)
        .map(|cs| estimate_at(&o.estimates, Duration::from_millis(cs * 10)))
        .collect();
    let mean = samples.iter().sum::<u64>() as f64 / samples.len() as f64;
    let (low, high) = (samples.iter().min(), samples.iter().max());
    let trace = || format!("mean {mean}, {f:?}, {:?}", o.estimates);
    assert!((0.85 * capacity..=capacity).contains(&mean), "{}", trace());
    assert!(
        low.is_some_and(|l| *l as f64 >= 0.8 * capacity),
        "{}",
        trace()
    );
    assert!(high.is_some_and(|h| *h as f64 <= capacity), "{}", trace());
    assert!(
        f.queue_delay_p95 < Duration::from_millis(100),
        "p95 queuing {:?}",
        f.queue_delay_p95
    );
    assert!(f.loss < 0.01, "loss {}", f.loss);
    eprintln!("REMB-only: {}", trace());
}

#[test]
fn the_same_seed_gives_the_same_estimates() {
    let s = Scenario::new(Bottleneck::fixed(3_000_000), 1, true, 8);
    assert_eq!(run(&s).estimates, run(&s).estimates);
}
