//! The media pacer's queue and clock: RTP packets wait here, by priority, and leave at the
//! pacing rate (a multiple of the bandwidth estimate, so that a keyframe drains in a few
//! frame intervals instead of one burst), or at a probe cluster's rate while one is sent.
//!
//! Priorities: audio first and without waiting for tokens (it is small and late audio is
//! lost audio), then retransmissions (the receiver waits on them), then video. The queue
//! is bounded in time: when its oldest packet would wait longer than
//! [`MAX_QUEUE_TIME`], the rate rises to drain it in that time (an application that ignores
//! the estimate is paced, not dropped); and bounded in bytes: beyond [`MAX_QUEUE_BYTES`] the
//! oldest video packets are dropped and counted.

use super::bwe::ProbeCluster;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The pacing rate as a multiple of the target rate.
pub(crate) const PACING_FACTOR: f64 = 2.5;
/// The longest the queue is let to grow, in time at the pacing rate.
pub(crate) const MAX_QUEUE_TIME: Duration = Duration::from_millis(500);
/// Most bytes queued; older video goes first beyond it.
pub(crate) const MAX_QUEUE_BYTES: usize = 8 << 20;
/// Most bytes let out back to back after an idle spell, at least (a bucket holds 5 ms at
/// the pacing rate, and never less than this).
const MIN_BURST_BYTES: f64 = 2.0 * 1200.0;
/// Bucket depth in time at the rate.
const BURST_TIME: f64 = 0.005;

/// What a queued packet is, for its priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PacketKind {
    Audio = 0,
    Retransmission = 1,
    Video = 2,
}

/// A plaintext RTP packet waiting to leave.
#[derive(Debug, Clone)]
pub(crate) struct QueuedPacket {
    pub kind: PacketKind,
    pub packet: Vec<u8>,
    pub transport_seq: Option<u16>,
    pub enqueued: Instant,
}

/// A token bucket in bytes (fractional, so low rates work).
#[derive(Debug, Clone, Default)]
struct Bucket {
    tokens: f64,
    updated: Option<Instant>,
}

impl Bucket {
    fn refill(&mut self, now: Instant, rate_bytes_per_s: f64) {
        let depth = (rate_bytes_per_s * BURST_TIME).max(MIN_BURST_BYTES);
        if let Some(last) = self.updated {
            let dt = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + dt * rate_bytes_per_s).min(depth);
        } else {
            self.tokens = depth;
        }
        self.updated = Some(now);
    }

    /// When the bucket is positive again at `rate`.
    fn ready_at(&self, rate_bytes_per_s: f64) -> Option<Instant> {
        let at = self.updated?;
        if self.tokens > 0.0 {
            return Some(at);
        }
        let secs = (-self.tokens + 1.0) / rate_bytes_per_s.max(1.0);
        Some(at + Duration::from_secs_f64(secs.min(10.0)))
    }
}

/// A probe cluster being sent.
#[derive(Debug, Clone)]
pub(crate) struct ActiveProbe {
    pub cluster: ProbeCluster,
    bucket: Bucket,
    pub sent_bytes: usize,
    pub sent_packets: u32,
}

impl ActiveProbe {
    fn rate(&self) -> f64 {
        self.cluster.bitrate_bps as f64 / 8.0
    }

    /// Whether the cluster carried what it must.
    pub fn done(&self) -> bool {
        self.sent_bytes >= self.cluster.min_bytes && self.sent_packets >= self.cluster.min_packets
    }
}

/// Counters of the pacer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PacerStats {
    pub packets_queued: u64,
    pub packets_sent: u64,
    /// Video packets dropped because the queue exceeded its byte bound.
    pub packets_dropped: u64,
    pub padding_packets_sent: u64,
    pub padding_bytes_sent: u64,
    pub probe_clusters_sent: u64,
    /// Bytes waiting now.
    pub queued_bytes: u64,
    /// How long the oldest waiting packet has waited, at the last poll.
    pub queue_delay: Duration,
}

/// What the pacer lets out next.
#[derive(Debug)]
pub(crate) enum PacedOutput {
    /// A queued packet, and the probe cluster it counts for.
    Packet(QueuedPacket, Option<u32>),
    /// The probe cluster needs this many bytes of padding now (nothing is queued).
    Padding(usize, u32),
}

/// The queue, its bucket and the probe in progress.
#[derive(Debug, Clone, Default)]
pub(crate) struct MediaPacer {
    queues: [VecDeque<QueuedPacket>; 3],
    queued_bytes: usize,
    bucket: Bucket,
    probe: Option<ActiveProbe>,
    /// Bits per second of the target rate; `None`: nothing waits.
    target_bps: Option<u64>,
    pub stats: PacerStats,
}

impl MediaPacer {
    /// Sets the target rate (`None`: unpaced), refilling the bucket at the old rate first.
    pub fn set_target(&mut self, now: Instant, target_bps: Option<u64>) {
        let rate = self.rate();
        self.bucket.refill(now, rate);
        self.target_bps = target_bps;
    }

    /// Bytes per second the queue drains at: the target times [`PACING_FACTOR`], or faster
    /// if that would keep the queue beyond [`MAX_QUEUE_TIME`].
    fn rate(&self) -> f64 {
        let Some(target) = self.target_bps else {
            return f64::MAX;
        };
        let paced = target as f64 / 8.0 * PACING_FACTOR;
        let drain = self.queued_bytes as f64 / MAX_QUEUE_TIME.as_secs_f64();
        paced.max(drain).max(1.0)
    }

    /// Queues a packet.
    pub fn push(&mut self, p: QueuedPacket) {
        self.stats.packets_queued += 1;
        self.queued_bytes += p.packet.len();
        self.queues[p.kind as usize].push_back(p);
        while self.queued_bytes > MAX_QUEUE_BYTES {
            let Some(old) = self.queues[PacketKind::Video as usize]
                .pop_front()
                .or_else(|| self.queues[PacketKind::Retransmission as usize].pop_front())
            else {
                break;
            };
            self.queued_bytes -= old.packet.len();
            self.stats.packets_dropped += 1;
        }
        self.stats.queued_bytes = self.queued_bytes as u64;
    }

    /// Starts sending a probe cluster (replacing one in progress).
    pub fn start_probe(&mut self, cluster: ProbeCluster, now: Instant) {
        let mut bucket = Bucket::default();
        bucket.refill(now, cluster.bitrate_bps as f64 / 8.0);
        // The first packet goes at once, the rest at the cluster's rate.
        bucket.tokens = bucket.tokens.min(1.0);
        self.probe = Some(ActiveProbe {
            cluster,
            bucket,
            sent_bytes: 0,
            sent_packets: 0,
        });
        self.stats.probe_clusters_sent += 1;
    }

    pub fn probing(&self) -> bool {
        self.probe.is_some()
    }

    fn pop_queued(&mut self, audio_only: bool) -> Option<QueuedPacket> {
        let kinds: &[usize] = if audio_only { &[0] } else { &[0, 1, 2] };
        let p = kinds.iter().find_map(|&k| self.queues[k].pop_front())?;
        self.queued_bytes -= p.packet.len();
        self.stats.queued_bytes = self.queued_bytes as u64;
        Some(p)
    }

    fn oldest(&self) -> Option<Instant> {
        self.queues
            .iter()
            .filter_map(|q| q.front())
            .map(|p| p.enqueued)
            .min()
    }

    /// The next thing to send now, if any may go.
    pub fn poll(&mut self, now: Instant) -> Option<PacedOutput> {
        self.stats.queue_delay = self
            .oldest()
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        if let Some(probe) = self.probe.as_mut() {
            let rate = probe.rate();
            probe.bucket.refill(now, rate);
            if probe.bucket.tokens <= 0.0 {
                return None;
            }
            let id = probe.cluster.id;
            let want = (probe.cluster.min_bytes.saturating_sub(probe.sent_bytes)).max(1);
            if let Some(p) = self.pop_queued(false) {
                return Some(PacedOutput::Packet(p, Some(id)));
            }
            return Some(PacedOutput::Padding(want, id));
        }
        let rate = self.rate();
        self.bucket.refill(now, rate);
        let audio_only = self.target_bps.is_some() && self.bucket.tokens <= 0.0;
        self.pop_queued(audio_only)
            .map(|p| PacedOutput::Packet(p, None))
    }

    /// `bytes` left (a packet from [`poll`](Self::poll), or padding), for cluster `probe`.
    pub fn on_sent(&mut self, bytes: usize, probe: Option<u32>, padding: bool) {
        self.stats.packets_sent += 1;
        if padding {
            self.stats.padding_packets_sent += 1;
            self.stats.padding_bytes_sent += bytes as u64;
        }
        if !padding {
            // Padding is extra: it must not delay the media behind it.
            self.bucket.tokens -= bytes as f64;
        }
        if let Some(p) = self.probe.as_mut()
            && probe == Some(p.cluster.id)
        {
            p.bucket.tokens -= bytes as f64;
            p.sent_bytes += bytes;
            p.sent_packets += 1;
            if p.done() {
                self.probe = None;
            }
        }
    }

    /// Padding could not be made: the probe ends with what it sent.
    pub fn end_probe(&mut self) {
        self.probe = None;
    }

    /// When something may go next, if anything waits.
    pub fn next_send(&self) -> Option<Instant> {
        if let Some(p) = &self.probe {
            return p.bucket.ready_at(p.rate());
        }
        if self.queued_bytes == 0 {
            return None;
        }
        self.bucket.ready_at(self.rate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    fn packet(kind: PacketKind, now: Instant) -> QueuedPacket {
        QueuedPacket {
            kind,
            packet: vec![0; 1000],
            transport_seq: None,
            enqueued: now,
        }
    }

    fn drain(p: &mut MediaPacer, now: Instant) -> Vec<PacketKind> {
        let mut out = Vec::new();
        while let Some(PacedOutput::Packet(q, probe)) = p.poll(now) {
            p.on_sent(q.packet.len(), probe, false);
            out.push(q.kind);
        }
        out
    }

    #[test]
    fn unpaced_lets_everything_out_by_priority() {
        let mut p = MediaPacer::default();
        let now = t0();
        p.push(packet(PacketKind::Video, now));
        p.push(packet(PacketKind::Retransmission, now));
        p.push(packet(PacketKind::Audio, now));
        assert_eq!(
            drain(&mut p, now),
            [
                PacketKind::Audio,
                PacketKind::Retransmission,
                PacketKind::Video
            ]
        );
    }

    #[test]
    fn paced_video_leaves_at_two_and_a_half_times_the_target() {
        let mut p = MediaPacer::default();
        let now = t0();
        // 1.6 Mbit/s × 2.5 = 500 kB/s: 1,000-byte packets every 2 ms.
        p.set_target(now, Some(1_600_000));
        for _ in 0..100 {
            p.push(packet(PacketKind::Video, now));
        }
        let first = drain(&mut p, now).len();
        assert!((2..=4).contains(&first), "first burst {first}");
        let mut t = now;
        let mut sent = first;
        while sent < 100 {
            t = p.next_send().expect("waiting");
            sent += drain(&mut p, t).len();
        }
        let took = t.duration_since(now).as_secs_f64();
        assert!((0.18..0.21).contains(&took), "{took}");
    }

    #[test]
    fn audio_does_not_wait_for_tokens() {
        let mut p = MediaPacer::default();
        let now = t0();
        p.set_target(now, Some(100_000));
        for _ in 0..10 {
            p.push(packet(PacketKind::Video, now));
        }
        drain(&mut p, now);
        p.push(packet(PacketKind::Audio, now));
        assert_eq!(drain(&mut p, now), [PacketKind::Audio]);
    }

    #[test]
    fn a_probe_sends_its_bytes_at_its_rate_and_asks_for_padding() {
        let mut p = MediaPacer::default();
        let now = t0();
        p.set_target(now, Some(300_000));
        let cluster = ProbeCluster {
            id: 7,
            bitrate_bps: 8_000_000,
            min_bytes: 15_000,
            min_packets: 5,
        };
        p.start_probe(cluster, now);
        let mut t = now;
        let mut sent = 0;
        while p.probing() {
            match p.poll(t) {
                Some(PacedOutput::Padding(_, id)) => {
                    assert_eq!(id, 7);
                    p.on_sent(1000, Some(id), true);
                    sent += 1000;
                }
                Some(PacedOutput::Packet(..)) => unreachable!("nothing queued"),
                None => t = p.next_send().expect("probing"),
            }
        }
        assert_eq!(sent, 15_000);
        let took = t.duration_since(now).as_secs_f64();
        // 15 kB at 1 MB/s: 15 ms, less the first packet's head start.
        assert!((0.012..0.016).contains(&took), "{took}");
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::time::test_epoch as t0;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever is queued, at whatever target: audio never leaves behind queued video,
        /// the queue stays within its byte bound, and everything drains.
        #[test]
        fn priorities_hold_and_the_queue_stays_bounded(
            ops in prop::collection::vec((0u8..3, 1usize..70_000, 0u64..20, 0u64..40_000_000), 1..300)
        ) {
            let mut p = MediaPacer::default();
            let mut now = t0();
            for (kind, size, wait_ms, target) in ops {
                let kind = [PacketKind::Audio, PacketKind::Retransmission, PacketKind::Video][usize::from(kind)];
                p.set_target(now, (target > 0).then_some(target.max(10_000)));
                p.push(QueuedPacket { kind, packet: vec![0; size], transport_seq: None, enqueued: now });
                prop_assert!(p.stats.queued_bytes <= (MAX_QUEUE_BYTES + size) as u64);
                now += Duration::from_millis(wait_ms);
                while let Some(PacedOutput::Packet(q, probe)) = p.poll(now) {
                    if q.kind != PacketKind::Audio {
                        prop_assert!(p.queues[0].is_empty(), "audio waited behind {:?}", q.kind);
                    }
                    p.on_sent(q.packet.len(), probe, false);
                }
            }
            // Drains: the pacer always names a time when something may go.
            for _ in 0..100_000 {
                let Some(at) = p.next_send() else { break };
                now = now.max(at);
                while let Some(PacedOutput::Packet(q, probe)) = p.poll(now) {
                    p.on_sent(q.packet.len(), probe, false);
                }
            }
            prop_assert_eq!(p.stats.queued_bytes, 0);
        }
    }
}
