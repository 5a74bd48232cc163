//! Bandwidth probing: short clusters of packets sent at a chosen rate, whose arrival rate
//! at the receiver tells how much the path carries (faster than the AIMD increase could
//! find out). Clusters are asked for at the start (3× and 6× the start rate), again at
//! twice a result that came close to what was probed (the path may carry more), and
//! every few seconds while the application sends less than the estimate.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Packets in a cluster, at least.
pub const MIN_PROBE_PACKETS: u32 = 5;
/// Duration a cluster lasts, at least.
pub const MIN_PROBE_DURATION: Duration = Duration::from_millis(15);
/// Size of a full probe packet, for the least bytes of a cluster.
const PROBE_PACKET_BYTES: usize = 1200;
/// Spacing of probes while application-limited.
const ALR_PROBE_INTERVAL: Duration = Duration::from_secs(5);
/// A result above this fraction of what was probed asks for another probe, at twice it.
const FURTHER_PROBE_FRACTION: f64 = 0.7;
/// Clusters tracked for results at most.
const MAX_TRACKED: usize = 8;

/// A cluster the pacer is to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeCluster {
    pub id: u32,
    /// Bits per second the cluster is sent at.
    pub bitrate_bps: u64,
    /// Bytes it carries at least.
    pub min_bytes: usize,
    /// Packets it carries at least.
    pub min_packets: u32,
}

impl ProbeCluster {
    fn new(id: u32, bitrate_bps: u64) -> Self {
        let bytes = bitrate_bps as f64 * MIN_PROBE_DURATION.as_secs_f64() / 8.0;
        Self {
            id,
            bitrate_bps,
            // At least five full-size packets, so that the send and arrival spans are long
            // against one packet's serialization.
            min_bytes: (bytes as usize).max(MIN_PROBE_PACKETS as usize * PROBE_PACKET_BYTES),
            min_packets: MIN_PROBE_PACKETS,
        }
    }
}

/// Decides when to probe and at what rate.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProbeController {
    next_id: u32,
    pending: VecDeque<ProbeCluster>,
    started: bool,
    /// The rate of the last exponential probe, while waiting for its result.
    awaiting: Option<(u64, Instant)>,
    last_probe: Option<Instant>,
}

impl ProbeController {
    fn push(&mut self, bitrate_bps: u64, now: Instant) {
        self.next_id = self.next_id.wrapping_add(1);
        self.pending
            .push_back(ProbeCluster::new(self.next_id, bitrate_bps));
        self.last_probe = Some(now);
        if self.pending.len() > 4 {
            self.pending.pop_front();
        }
    }

    /// The first media left: probe at 3× and 6× the start rate.
    pub fn on_start(&mut self, start_bps: u64, max_bps: u64, now: Instant) {
        if self.started {
            return;
        }
        self.started = true;
        self.push((3 * start_bps).min(max_bps), now);
        let second = (6 * start_bps).min(max_bps);
        self.push(second, now);
        self.awaiting = Some((second, now));
    }

    /// The result of a cluster sent at `probed_bps` came back.
    pub fn on_result(&mut self, result_bps: u64, probed_bps: u64, max_bps: u64, now: Instant) {
        let Some((awaited, _)) = self.awaiting else {
            return;
        };
        if probed_bps != awaited {
            // An earlier, lower cluster of the same series.
            return;
        }
        if (result_bps as f64) > FURTHER_PROBE_FRACTION * probed_bps as f64 && result_bps < max_bps
        {
            let next = (2 * result_bps).min(max_bps);
            self.push(next, now);
            self.awaiting = Some((next, now));
        } else {
            self.awaiting = None;
        }
    }

    /// The periodic check: probe while application-limited, and stop waiting for a result
    /// that never came.
    pub fn on_timer(&mut self, now: Instant, in_alr: bool, estimate_bps: u64, max_bps: u64) {
        if let Some((_, at)) = self.awaiting
            && now.saturating_duration_since(at) > Duration::from_secs(1)
        {
            self.awaiting = None;
        }
        let due = self
            .last_probe
            .is_none_or(|t| now.saturating_duration_since(t) >= ALR_PROBE_INTERVAL);
        if self.started && in_alr && due && estimate_bps < max_bps {
            self.push((2 * estimate_bps).min(max_bps), now);
        }
    }

    /// The next cluster to send, taken.
    pub fn take(&mut self) -> Option<ProbeCluster> {
        self.pending.pop_front()
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct ClusterStats {
    first_send: Option<Instant>,
    last_send: Option<Instant>,
    last_send_size: u32,
    bytes_sent: u64,
    first_arrival_us: Option<i64>,
    last_arrival_us: i64,
    first_arrival_size: u32,
    bytes_received: u64,
    received: u32,
    done: bool,
}

/// Computes a cluster's result from the feedback on its packets.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProbeEstimator {
    clusters: HashMap<u32, ClusterStats>,
}

impl ProbeEstimator {
    /// A reported packet of cluster `id`, received at `arrival_us`. Returns the cluster's
    /// result once enough of it arrived.
    pub fn add(
        &mut self,
        cluster: &ProbeCluster,
        size: u32,
        send: Instant,
        arrival_us: i64,
    ) -> Option<u64> {
        let id = cluster.id;
        if !self.clusters.contains_key(&id) && self.clusters.len() >= MAX_TRACKED {
            let oldest = *self.clusters.keys().min()?;
            self.clusters.remove(&oldest);
        }
        let c = self.clusters.entry(id).or_default();
        if c.done {
            return None;
        }
        if c.first_send.is_none_or(|f| send < f) {
            c.first_send = Some(send);
        }
        if c.last_send.is_none_or(|l| send >= l) {
            c.last_send = Some(send);
            c.last_send_size = size;
        }
        c.bytes_sent += u64::from(size);
        if c.first_arrival_us.is_none_or(|f| arrival_us < f) {
            c.first_arrival_us = Some(arrival_us);
            c.first_arrival_size = size;
        }
        c.last_arrival_us = c.last_arrival_us.max(arrival_us);
        c.bytes_received += u64::from(size);
        c.received += 1;
        // 80 % of the cluster's packets and bytes, as libwebrtc waits for.
        if c.received * 5 < cluster.min_packets * 4
            || c.bytes_received * 5 < cluster.min_bytes as u64 * 4
        {
            return None;
        }
        let result = Self::result(c)?;
        c.done = true;
        Some(result)
    }

    fn result(c: &ClusterStats) -> Option<u64> {
        let send_s = c.last_send?.duration_since(c.first_send?).as_secs_f64();
        let recv_s = (c.last_arrival_us - c.first_arrival_us?) as f64 / 1e6;
        if !(0.0..=1.0).contains(&send_s) || send_s == 0.0 || recv_s <= 0.0 || recv_s > 1.0 {
            return None;
        }
        let send_bps = (c.bytes_sent - u64::from(c.last_send_size)) as f64 * 8.0 / send_s;
        let recv_bps = (c.bytes_received - u64::from(c.first_arrival_size)) as f64 * 8.0 / recv_s;
        if send_bps / recv_bps > 2.0 {
            // Most of the cluster was lost or its arrivals bunched: no verdict.
            return None;
        }
        let result = if recv_bps < 0.9 * send_bps {
            // The path could not carry the cluster: what arrived is its capacity.
            0.95 * recv_bps
        } else {
            send_bps.min(recv_bps)
        };
        Some(result as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    #[test]
    fn a_cluster_squeezed_by_the_path_reads_as_the_path() {
        let mut e = ProbeEstimator::default();
        let start = t0();
        let mut result = None;
        // Sent at 4 Mbit/s (1,000 bytes per 2 ms), arriving at 2 Mbit/s (per 4 ms).
        for i in 0..30i64 {
            let send = start + Duration::from_millis(2 * i as u64);
            let cluster = ProbeCluster::new(1, 4_000_000);
            if let Some(r) = e.add(&cluster, 1000, send, 4_000 * i) {
                result = Some(r);
                break;
            }
        }
        let r = result.expect("a result") as f64;
        assert!((r - 1_900_000.0).abs() < 20_000.0, "{r}");
    }

    #[test]
    fn start_probes_then_probes_further_after_a_high_result() {
        let mut c = ProbeController::default();
        let now = t0();
        c.on_start(300_000, 10_000_000, now);
        assert_eq!(c.take().map(|p| p.bitrate_bps), Some(900_000));
        assert_eq!(c.take().map(|p| p.bitrate_bps), Some(1_800_000));
        assert!(c.take().is_none());
        c.on_result(900_000, 900_000, 10_000_000, now);
        assert!(
            c.take().is_none(),
            "the lower cluster's result waits for the higher"
        );
        c.on_result(1_700_000, 1_800_000, 10_000_000, now);
        assert_eq!(c.take().map(|p| p.bitrate_bps), Some(3_400_000));
        c.on_result(1_000_000, 3_400_000, 10_000_000, now);
        assert!(
            c.take().is_none(),
            "a result far below the probe ends probing"
        );
    }
}
