//! Prints the bandwidth-adaptation table: rtcpeer video senders following the send-side
//! estimate through a bottleneck (drop-tail queue of 100 ms, 50 ms round trip) in the
//! simulator, on virtual time with fixed seeds.
//!
//! `cargo run --release -p rtcpeer-examples --bin bwe_table`

use rtcpeer_examples::bwe::{Bottleneck, Outcome, Scenario, run};
use std::time::Duration;

fn mbps(bps: f64) -> String {
    format!("{:.2}", bps / 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e3)
}

fn row(name: &str, o: &Outcome) {
    for (i, f) in o.flows.iter().enumerate() {
        println!(
            "{name:<28} {i:>4} {:>14} {:>10} {:>10} {:>10} {:>9} {:>8.2}",
            f.converged_after
                .map_or("never".to_string(), |d| format!("{:.2}", d.as_secs_f64())),
            mbps(f.final_estimate as f64),
            mbps(f.video_rate),
            mbps(f.data_rate),
            ms(f.queue_delay_p95),
            f.loss * 100.0,
        );
    }
}

const USAGE: &str = "usage: bwe_table

Runs the bandwidth-adaptation scenarios in the simulator (virtual time, fixed seeds) and
prints one row per flow: when the estimate first reached 85 % of the capacity, the media
rate announced at the end, video and data-channel rates received, the 95th percentile of
queuing delay and the video loss after the first 5 s (25 s for the REMB-only peer, whose
estimate comes from the receiver's REMBs and climbs at about 8 % a second). BWE_TRACE=1
adds the estimates announced for the fixed-capacity runs.";

fn main() {
    rtcpeer_examples::args::exit_if_help(USAGE);
    println!(
        "{:<28} {:>4} {:>14} {:>10} {:>10} {:>10} {:>9} {:>8}",
        "scenario",
        "flow",
        "to 85 % (s)",
        "media Mb/s",
        "video Mb/s",
        "data Mb/s",
        "q95 (ms)",
        "loss %"
    );
    for capacity in [1_000_000, 3_000_000, 10_000_000] {
        let o = run(&Scenario::new(Bottleneck::fixed(capacity), 1, false, 20));
        row(&format!("{} Mbit/s", capacity / 1_000_000), &o);
        if std::env::var("BWE_TRACE").is_ok() {
            for (t, e) in o.estimates.iter().take(60) {
                println!("  {:.3} s {}", t.as_secs_f64(), e);
            }
        }
    }
    let mut drop = Bottleneck::fixed(3_000_000);
    drop.capacity.push((Duration::from_secs(10), 1_000_000));
    let o = run(&Scenario::new(drop, 1, false, 20));
    row("3 -> 1 Mbit/s at 10 s", &o);
    let followed = o.followed_after(Duration::from_secs(10), 1_100_000);
    println!(
        "  estimate at or below 1.1 Mbit/s {} after the drop",
        followed.map_or("never".to_string(), |d| format!("{:.2} s", d.as_secs_f64()))
    );
    let o = run(&Scenario::new(Bottleneck::fixed(3_000_000), 2, false, 30));
    row("two flows, 3 Mbit/s", &o);
    let o = run(&Scenario::new(Bottleneck::fixed(3_000_000), 1, true, 20));
    row("video + bulk data, 3 Mbit/s", &o);
    let o = run(&Scenario::new(Bottleneck::fixed(3_000_000), 1, false, 20).with_ccfb());
    row("3 Mbit/s, RFC 8888 feedback", &o);
    let mut remb = Scenario::new(Bottleneck::fixed(1_000_000), 1, false, 45).with_remb();
    remb.measure_from = Duration::from_secs(25);
    row("REMB only (45 s), 1 Mbit/s", &run(&remb));
}
