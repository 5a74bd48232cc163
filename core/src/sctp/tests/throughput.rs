//! Throughput over a bottleneck with delay and random loss (the shuttle models the link
//! rate with a drop-tail queue of one bandwidth-delay product).

use crate::rng::Rng;
use crate::sctp::testing::{Link, Pair};
use crate::sctp::*;
use bytes::Bytes;
use std::time::{Duration, Instant};

const RATE: u64 = 100_000_000;

/// Goodput in bits per second of one ordered reliable stream, measured after a warm-up.
fn goodput(rtt_ms: u64, loss: f64, seconds: u64, seed: u64) -> f64 {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let config = SctpConfig {
        receive_window: 16 * 1024 * 1024,
        ..SctpConfig::default()
    };
    let one_way = Duration::from_millis(rtt_ms / 2);
    let bdp = (RATE as f64 / 8.0 * (rtt_ms as f64 / 1000.0)) as usize;
    let queue = bdp.max(64 * 1200);
    let links = [
        Link::bottleneck(one_way, loss, RATE, queue),
        Link::bottleneck(one_way, loss, RATE, queue),
    ];
    let mut p = Pair::new(
        Association::new(config.clone(), Rng::from_u64(seed)),
        Association::new(config, Rng::from_u64(seed + 1)),
        now,
        links,
        seed,
    );
    p.a.connect(now).expect("closed");
    p.run_until(Duration::from_secs(5), |p| {
        p.a.state() == AssociationState::Established
    });
    let msg = Bytes::from(vec![0x5a; 64 * 1024]);
    let warmup = p.now + Duration::from_secs(2);
    let end = warmup + Duration::from_secs(seconds);
    let mut bytes = 0usize;
    while p.now < end {
        while p.a.total_buffered() < 4 << 20 {
            p.a.send(p.now, 0, 53, msg.clone(), SendOptions::default())
                .expect("send");
        }
        p.step();
        while let Some(e) = p.b.poll_event() {
            if let SctpEvent::Message { payload, .. } = e
                && p.now >= warmup
            {
                bytes += payload.len();
            }
        }
        while p.a.poll_event().is_some() {}
    }
    eprintln!(
        "rtt {rtt_ms} loss {loss}: {:.1} Mbit/s cwnd {} ssthresh {} srtt {:?} stats {:?}",
        bytes as f64 * 8.0 / seconds as f64 / 1e6,
        p.a.cc.cwnd,
        p.a.cc.ssthresh,
        p.a.rto.srtt(),
        p.a.stats()
    );
    bytes as f64 * 8.0 / seconds as f64
}

#[test]
fn long_lossy_path_reaches_sixty_percent_of_the_link() {
    let bps = goodput(50, 0.01, 6, 1);
    assert!(bps >= 0.6 * RATE as f64, "goodput {:.1} Mbit/s", bps / 1e6);
}

/// Prints the table RTT x loss; run with
/// `cargo test --release -p rtcpeer sctp_throughput_table -- --ignored --nocapture`.
#[test]
#[ignore = "long-running report"]
fn sctp_throughput_table() {
    println!("goodput of one ordered channel over a 100 Mbit/s link, Mbit/s");
    println!("{:>8} {:>8} {:>8} {:>8}", "RTT", "0 %", "1 %", "5 %");
    for rtt in [2, 50, 100] {
        let row: Vec<String> = [0.0, 0.01, 0.05]
            .iter()
            .map(|&loss| format!("{:>8.1}", goodput(rtt, loss, 10, 7) / 1e6))
            .collect();
        println!("{:>6}ms {}", rtt, row.join(" "));
    }
}
