//! The figures of each measure, the targets they are held against, and their JSON line.
//!
//! Every line carries `adapter`, `measure`, the figures, a `target` object with the
//! thresholds, a `checks` object with one boolean per threshold, and `meets_target`, true
//! when every check passes. A figure the system cannot provide (CPU time, RSS or UDP
//! counters off Linux) is `null` and fails its check.

use super::{Adapter, Measure, system::UdpErrors};
use serde_json::{Value, json};
use std::time::Duration;

/// Setup: the median connection must take at most this long (ms)...
pub const SETUP_MEDIAN_MS_MAX: f64 = 2.0;
/// ... and the 90th percentile at most this (ms).
pub const SETUP_P90_MS_MAX: f64 = 3.0;
/// Throughput in 16 KiB messages, at least (MB/s, 10^6 bytes).
pub const MB_PER_S_16K_MIN: f64 = 450.0;
/// Message rate in 1 KiB messages, at least (messages/s).
pub const MSG_PER_S_1K_MIN: f64 = 300_000.0;
/// CPU time of both peers together per 64 MiB moved in 16 KiB messages, at most (s).
pub const CPU_S_PER_64MIB_MAX: f64 = 0.35;
/// Resident memory per connected idle peer, at most (KiB).
pub const IDLE_KIB_PER_PEER_MAX: f64 = 32.0;

/// The message size the MB/s and CPU targets apply to.
pub const BULK_MESSAGE: usize = 16 * 1024;
/// The message size the message-rate target applies to.
pub const SMALL_MESSAGE: usize = 1024;

/// The result of one measure.
#[derive(Debug, Clone)]
pub enum Figures {
    /// Setup times of fresh connections, in the order measured.
    Setup(Vec<Duration>),
    /// One transfer per message size.
    Throughput(Vec<Transfer>),
    /// Memory of idle connected pairs.
    Idle(IdleMemory),
}

/// One bulk transfer.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// Size of every message.
    pub message_bytes: usize,
    /// Messages sent (and received, checked).
    pub messages: u64,
    /// From the first send to the last message checked by the receiver.
    pub elapsed: Duration,
    /// CPU time of the whole process (both peers) over the transfer.
    pub cpu: Option<Duration>,
    /// Kernel UDP receive errors over the transfer.
    pub udp: Option<UdpErrors>,
}

impl Transfer {
    fn bytes(&self) -> u64 {
        self.messages * self.message_bytes as u64
    }

    fn seconds(&self) -> f64 {
        self.elapsed.as_secs_f64().max(1e-9)
    }

    fn mb_per_s(&self) -> f64 {
        self.bytes() as f64 / 1e6 / self.seconds()
    }

    fn msg_per_s(&self) -> f64 {
        self.messages as f64 / self.seconds()
    }

    /// CPU seconds scaled to 64 MiB moved.
    fn cpu_per_64mib(&self) -> Option<f64> {
        let cpu = self.cpu?.as_secs_f64();
        Some(cpu * (64u64 << 20) as f64 / self.bytes().max(1) as f64)
    }

    fn to_json(&self) -> Value {
        json!({
            "message_bytes": self.message_bytes,
            "messages": self.messages,
            "bytes": self.bytes(),
            "seconds": round(self.seconds(), 4),
            "mb_per_s": round(self.mb_per_s(), 1),
            "msg_per_s": round(self.msg_per_s(), 0),
            "cpu_s": self.cpu.map(|c| round(c.as_secs_f64(), 3)),
            "cpu_s_per_64mib": self.cpu_per_64mib().map(|c| round(c, 3)),
            // CPU seconds per wall second: how many cores both peers kept busy.
            "cpu_cores_busy": self.cpu.map(|c| round(c.as_secs_f64() / self.seconds(), 2)),
            "udp_in_errors": self.udp.map(|u| u.in_errors),
            "udp_rcvbuf_errors": self.udp.map(|u| u.rcvbuf_errors),
        })
    }
}

/// RSS before any pair and after every pair is connected and idle.
#[derive(Debug, Clone, Copy)]
pub struct IdleMemory {
    /// Pairs created (two peers each).
    pub pairs: usize,
    /// RSS in bytes before the first pair.
    pub before: Option<u64>,
    /// RSS in bytes with every pair connected, one channel open each, idle.
    pub after: Option<u64>,
}

impl IdleMemory {
    fn per_peer_kib(&self) -> Option<f64> {
        let delta = self.after?.saturating_sub(self.before?);
        Some(delta as f64 / 1024.0 / (2 * self.pairs.max(1)) as f64)
    }
}

impl Figures {
    /// The measure these figures belong to.
    pub fn measure(&self) -> Measure {
        match self {
            Figures::Setup(_) => Measure::Setup,
            Figures::Throughput(_) => Measure::Throughput,
            Figures::Idle(_) => Measure::Idle,
        }
    }

    /// The JSON line for `adapter`.
    pub fn to_json(&self, adapter: Adapter) -> String {
        let (mut line, target, checks) = match self {
            Figures::Setup(samples) => setup_json(samples),
            Figures::Throughput(transfers) => throughput_json(transfers),
            Figures::Idle(memory) => idle_json(memory),
        };
        let meets = checks
            .as_object()
            .is_some_and(|c| c.values().all(|v| v == &Value::Bool(true)));
        line["adapter"] = adapter.name().into();
        line["measure"] = self.measure().name().into();
        line["target"] = target;
        line["checks"] = checks;
        line["meets_target"] = meets.into();
        line.to_string()
    }
}

/// The line printed when a measure could not complete.
pub fn error_line(adapter: Adapter, measure: Measure, error: &str) -> String {
    json!({
        "adapter": adapter.name(),
        "measure": measure.name(),
        "error": error,
        "meets_target": false,
    })
    .to_string()
}

fn setup_json(samples: &[Duration]) -> (Value, Value, Value) {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let median = percentile(&ms, 50.0);
    let p90 = percentile(&ms, 90.0);
    let line = json!({
        "runs": ms.len(),
        "median_ms": median.map(|v| round(v, 3)),
        "p90_ms": p90.map(|v| round(v, 3)),
        "min_ms": ms.first().map(|v| round(*v, 3)),
        "max_ms": ms.last().map(|v| round(*v, 3)),
    });
    let target = json!({ "median_ms_max": SETUP_MEDIAN_MS_MAX, "p90_ms_max": SETUP_P90_MS_MAX });
    let checks = json!({
        "median": at_most(median, SETUP_MEDIAN_MS_MAX),
        "p90": at_most(p90, SETUP_P90_MS_MAX),
    });
    (line, target, checks)
}

fn throughput_json(transfers: &[Transfer]) -> (Value, Value, Value) {
    let of_size = |size| transfers.iter().find(|t| t.message_bytes == size);
    let bulk = of_size(BULK_MESSAGE);
    let small = of_size(SMALL_MESSAGE);
    let line = json!({
        "transfers": transfers.iter().map(Transfer::to_json).collect::<Vec<_>>(),
    });
    let target = json!({
        "mb_per_s_16k_min": MB_PER_S_16K_MIN,
        "msg_per_s_1k_min": MSG_PER_S_1K_MIN,
        "cpu_s_per_64mib_16k_max": CPU_S_PER_64MIB_MAX,
    });
    let checks = json!({
        "mb_per_s_16k": at_least(bulk.map(Transfer::mb_per_s), MB_PER_S_16K_MIN),
        "msg_per_s_1k": at_least(small.map(Transfer::msg_per_s), MSG_PER_S_1K_MIN),
        "cpu_16k": at_most(bulk.and_then(Transfer::cpu_per_64mib), CPU_S_PER_64MIB_MAX),
    });
    (line, target, checks)
}

fn idle_json(memory: &IdleMemory) -> (Value, Value, Value) {
    let per_peer = memory.per_peer_kib();
    let line = json!({
        "pairs": memory.pairs,
        "peers": 2 * memory.pairs,
        "rss_before_kib": memory.before.map(|b| b / 1024),
        "rss_after_kib": memory.after.map(|a| a / 1024),
        "kib_per_peer": per_peer.map(|v| round(v, 2)),
    });
    let target = json!({ "kib_per_peer_max": IDLE_KIB_PER_PEER_MAX });
    let checks = json!({ "kib_per_peer": at_most(per_peer, IDLE_KIB_PER_PEER_MAX) });
    (line, target, checks)
}

/// Nearest-rank percentile of sorted values (`p` in 0..=100); the median of an even
/// count is the mean of the two middle values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if p == 50.0 && n.is_multiple_of(2) {
        return Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0);
    }
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted.get(rank.clamp(1, n) - 1).copied()
}

fn at_most(value: Option<f64>, max: f64) -> bool {
    value.is_some_and(|v| v <= max)
}

fn at_least(value: Option<f64>, min: f64) -> bool {
    value.is_some_and(|v| v >= min)
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Value {
        serde_json::from_str(line).expect("valid JSON")
    }

    #[test]
    fn percentiles_use_nearest_rank_and_mean_median() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(10.5));
        assert_eq!(percentile(&v, 90.0), Some(18.0));
        assert_eq!(percentile(&[4.0, 1.0][..1], 90.0), Some(4.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn setup_line_meets_target_only_when_both_checks_pass() {
        let fast = vec![Duration::from_millis(1); 5];
        let line = parse(&Figures::Setup(fast).to_json(Adapter::Tokio));
        assert_eq!(line["adapter"], "tokio");
        assert_eq!(line["measure"], "setup");
        assert_eq!(line["meets_target"], true);
        let mut slow = vec![Duration::from_millis(1); 8];
        slow.extend([Duration::from_millis(9); 2]);
        let line = parse(&Figures::Setup(slow).to_json(Adapter::Mio));
        assert_eq!(line["checks"]["median"], true);
        assert_eq!(line["checks"]["p90"], false);
        assert_eq!(line["meets_target"], false);
    }

    #[test]
    fn throughput_line_scales_cpu_to_64_mib() {
        let t = |size: usize, messages, ms| Transfer {
            message_bytes: size,
            messages,
            elapsed: Duration::from_millis(ms),
            cpu: Some(Duration::from_millis(50)),
            udp: None,
        };
        // 16 MiB in 10 ms = 1677.7 MB/s; 50 ms CPU per 16 MiB = 0.2 s per 64 MiB.
        let figures = Figures::Throughput(vec![t(16384, 1024, 10), t(1024, 1000, 10)]);
        let line = parse(&figures.to_json(Adapter::Smol));
        let bulk = &line["transfers"][0];
        assert_eq!(bulk["mb_per_s"], 1677.7);
        assert_eq!(bulk["cpu_s_per_64mib"], 0.2);
        assert_eq!(bulk["cpu_cores_busy"], 5.0, "50 ms of CPU in 10 ms");
        assert_eq!(bulk["udp_in_errors"], Value::Null);
        assert_eq!(line["checks"]["cpu_16k"], true);
        assert_eq!(
            line["checks"]["msg_per_s_1k"], false,
            "100 K msg/s is too slow"
        );
        assert_eq!(line["meets_target"], false);
    }

    #[test]
    fn idle_line_divides_growth_by_both_peers_of_every_pair() {
        let memory = IdleMemory {
            pairs: 4,
            before: Some(10 << 20),
            after: Some((10 << 20) + 8 * 20 * 1024),
        };
        let line = parse(&Figures::Idle(memory).to_json(Adapter::Mio));
        assert_eq!(line["kib_per_peer"], 20.0);
        assert_eq!(line["meets_target"], true);
        let unknown = IdleMemory {
            after: None,
            ..memory
        };
        let line = parse(&Figures::Idle(unknown).to_json(Adapter::Mio));
        assert_eq!(line["kib_per_peer"], Value::Null);
        assert_eq!(line["meets_target"], false);
    }

    #[test]
    fn error_line_names_the_measure_and_fails() {
        let line = parse(&error_line(Adapter::Smol, Measure::Idle, "timed out"));
        assert_eq!(line["error"], "timed out");
        assert_eq!(line["meets_target"], false);
    }
}
