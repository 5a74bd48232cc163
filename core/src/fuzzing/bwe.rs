//! The `bwe` target: the send-side estimator and the media pacer under arbitrary sends,
//! clock steps and feedback (transport-cc built from the input, or arbitrary bytes parsed
//! as RTCP: whatever transport-cc or REMB parses is fed in). After every step: the target
//! stays within its configured bounds, the history and the pacer's queue within theirs.
//!
//! Beside it, the receive-side estimator gets arbitrary received packets (any SSRC, size,
//! abs-send-time or RTP timestamp and clock rate, arrival step); the REMBs it makes drive
//! a REMB-driven send-side estimator. Its estimate, those REMBs and its state stay
//! bounded too.

use super::{Milestones, Ops, Target};
use crate::media::bwe::{
    BandwidthUsage, BweConfig, MAX_SSRCS, MAX_TIMELINES, ReceiveSideBwe, SendSideBwe, SendTime,
};
use crate::media::pacer::{MAX_QUEUE_BYTES, MediaPacer, PacedOutput, PacketKind, QueuedPacket};
use crate::rtp::rtcp::{RtcpPacket, TransportCc, parse_compound};
use std::time::{Duration, Instant};

pub(super) const TARGET: Target = Target {
    name: "bwe",
    run,
    seeds,
    deep: &[
        "feedback_matched",
        "packet_lost",
        "probe_result",
        "overuse",
        "estimate_fell",
        "estimate_rose",
        "probe_padding",
        "rtcp_fed",
        "remb_sent",
        "remb_fell",
    ],
};

const CONFIG: BweConfig = BweConfig {
    start_bitrate_bps: 300_000,
    min_bitrate_bps: 30_000,
    max_bitrate_bps: 20_000_000,
    data_channel_share_percent: 50,
    allocate_simulcast: true,
};

/// Op bytes from this one up feed the receive-side estimator (the others keep the send
/// side's meaning, so older corpora read as before).
const RECEIVE_OP: u8 = 240;

/// What the target drives, and the model it keeps.
struct Bench {
    bwe: SendSideBwe,
    pacer: MediaPacer,
    now: Instant,
    next_seq: u16,
    /// Sent packets not yet reported: (seq, send time).
    sent: Vec<(u16, Instant)>,
    /// The receiver's clock, µs: the last arrival reported.
    arrival_us: i64,
    /// The bottleneck queue the feedback describes, µs.
    queue_us: i64,
    origin: Instant,
    reached: Milestones,
    last_target: u64,
    /// The receive side: its estimator, the REMB-driven sender its REMBs reach, and the
    /// last REMB's bitrate.
    receiver: ReceiveSideBwe,
    remb_driven: SendSideBwe,
    last_remb: Option<u64>,
}

fn run(data: &[u8], now: Instant) -> Milestones {
    let mut b = Bench {
        bwe: SendSideBwe::new(CONFIG),
        pacer: MediaPacer::default(),
        now,
        next_seq: 0,
        sent: Vec::new(),
        arrival_us: 0,
        queue_us: 0,
        origin: now,
        reached: Milestones::new(),
        last_target: CONFIG.start_bitrate_bps,
        receiver: ReceiveSideBwe::new(CONFIG),
        remb_driven: SendSideBwe::driven_by_remb(CONFIG),
        last_remb: None,
    };
    let mut ops = Ops::new(data);
    let mut steps = 0;
    while !ops.is_empty() && steps < 4096 {
        steps += 1;
        let op = ops.u8();
        if op >= RECEIVE_OP {
            b.receive(&mut ops);
        } else {
            match op % 6 {
                0 => b.send(ops.u16() % 1500 + 20, ops.u8() & 1 == 0),
                1 => b.now += Duration::from_micros(u64::from(ops.u16()) * 16),
                2 => b.feedback(&mut ops),
                3 => b.rtcp(ops.long(1500)),
                4 => b.pace(),
                _ => b.bwe.on_timer(b.now),
            }
        }
        b.check();
    }
    b.reached
}

impl Bench {
    /// Queues a packet (audio or video) and lets the pacer send what it allows.
    fn send(&mut self, size: u16, video: bool) {
        self.pacer.push(QueuedPacket {
            kind: if video {
                PacketKind::Video
            } else {
                PacketKind::Audio
            },
            packet: vec![0; usize::from(size)],
            transport_seq: Some(self.next_seq),
            enqueued: self.now,
        });
        self.next_seq = self.next_seq.wrapping_add(1);
        self.pace();
    }

    fn pace(&mut self) {
        self.pacer
            .set_target(self.now, Some(self.bwe.target_bitrate()));
        for _ in 0..256 {
            if !self.pacer.probing()
                && let Some(c) = self.bwe.take_probe()
            {
                self.pacer.start_probe(c, self.now);
            }
            match self.pacer.poll(self.now) {
                None => break,
                Some(PacedOutput::Packet(q, probe)) => {
                    let seq = q.transport_seq.unwrap_or(0);
                    self.bwe
                        .on_packet_sent(seq, q.packet.len(), self.now, probe);
                    self.pacer.on_sent(q.packet.len(), probe, false);
                    self.remember(seq);
                }
                Some(PacedOutput::Padding(want, probe)) => {
                    self.reached.insert("probe_padding");
                    let seq = self.next_seq;
                    self.next_seq = seq.wrapping_add(1);
                    let size = want.min(1200);
                    self.bwe.on_packet_sent(seq, size, self.now, Some(probe));
                    self.pacer.on_sent(size, Some(probe), true);
                    self.remember(seq);
                }
            }
        }
    }

    fn remember(&mut self, seq: u16) {
        if self.sent.len() >= 4096 {
            self.sent.remove(0);
        }
        self.sent.push((seq, self.now));
    }

    /// Feedback on the oldest unreported packets: each received (after a delay from the
    /// input, so queues build or drain) or lost.
    fn feedback(&mut self, ops: &mut Ops<'_>) {
        let n = (usize::from(ops.u8()) + 1).min(self.sent.len());
        if n == 0 {
            return;
        }
        let reported: Vec<_> = self.sent.drain(..n).collect();
        let base_seq = reported[0].0;
        let mut packets = Vec::with_capacity(n);
        // Arrival: send time, 20 ms of path and the queue, which each packet's input byte
        // grows (above 8) or drains (below), within 0..2 s. Feedback deltas count from the
        // message's first arrival; the receiver's clock never goes back.
        let mut last: Option<i64> = None;
        let mut reference = None;
        for (i, (_, send)) in reported.iter().enumerate() {
            let status = ops.u8();
            let lost = status.is_multiple_of(16);
            self.queue_us = (self.queue_us + (i64::from(ops.u8()) - 8) * 100).clamp(0, 2_000_000);
            let sent_us = send.saturating_duration_since(self.origin).as_micros() as i64;
            let at = (sent_us + 20_000 + self.queue_us).max(self.arrival_us);
            let seq = base_seq.wrapping_add(i as u16);
            if lost {
                packets.push((seq, None));
            } else {
                // The first arrival counts from the reference time (64 ms units).
                let base = *reference.get_or_insert(at - at % 64_000);
                let from = last.unwrap_or(base);
                let delta = (at - from) / 250;
                let at = from + delta * 250;
                packets.push((seq, Some(delta)));
                last = Some(at);
                self.arrival_us = at;
            }
        }
        let fb = TransportCc {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_seq,
            reference_time: reference.map_or(0, |r| (r / 64_000) as i32),
            fb_pkt_count: 0,
            packets,
        };
        let before = self.bwe.stats();
        self.bwe.on_feedback(&fb, self.now);
        let after = self.bwe.stats();
        if after.packets_reported > before.packets_reported {
            self.reached.insert("feedback_matched");
        }
        if after.packets_lost > before.packets_lost {
            self.reached.insert("packet_lost");
        }
        if after.probe_results > before.probe_results {
            self.reached.insert("probe_result");
        }
        if after.usage == BandwidthUsage::Overusing {
            self.reached.insert("overuse");
        }
    }

    /// Arbitrary bytes as RTCP: transport-cc and REMB that parse are fed in.
    fn rtcp(&mut self, bytes: &[u8]) {
        for packet in parse_compound(bytes).flatten() {
            match packet {
                RtcpPacket::TransportCc(fb) => {
                    self.bwe.on_feedback(&fb, self.now);
                    self.reached.insert("rtcp_fed");
                }
                RtcpPacket::Remb(r) => {
                    self.bwe.on_remb(r.bitrate_bps, self.now);
                    self.reached.insert("rtcp_fed");
                }
                _ => {}
            }
        }
    }

    /// One received packet for the receive-side estimator: SSRC, size, abs-send-time or
    /// RTP timestamp (with a clock rate), then the arrival step; a REMB due goes to the
    /// REMB-driven sender.
    fn receive(&mut self, ops: &mut Ops<'_>) {
        let ssrc = u32::from(ops.u8() % 16);
        let size = usize::from(ops.u16() % 1500);
        let sent = if ops.u8() & 1 == 0 {
            SendTime::AbsSendTime(ops.u32())
        } else {
            SendTime::RtpTimestamp {
                timestamp: ops.u32(),
                clock_rate: ops.u32(),
            }
        };
        self.now += Duration::from_micros(u64::from(ops.u16()));
        self.receiver.on_packet(self.now, ssrc, size, sent);
        let Some(remb) = self.receiver.poll_remb(self.now, 1) else {
            return;
        };
        assert!(remb.ssrcs.len() <= MAX_SSRCS, "REMB names too many SSRCs");
        self.reached.insert("remb_sent");
        if self.last_remb.is_some_and(|last| remb.bitrate_bps < last) {
            self.reached.insert("remb_fell");
        }
        self.last_remb = Some(remb.bitrate_bps);
        self.remb_driven.on_remb(remb.bitrate_bps, self.now);
    }

    fn check(&mut self) {
        let bounds = CONFIG.min_bitrate_bps..=CONFIG.max_bitrate_bps;
        assert!(
            bounds.contains(&self.receiver.estimate()),
            "receive-side estimate out of bounds"
        );
        assert!(
            bounds.contains(&self.remb_driven.target_bitrate()),
            "REMB-driven target out of bounds"
        );
        assert!(
            self.receiver.timelines() <= MAX_TIMELINES,
            "receive-side timelines unbounded"
        );
        let target = self.bwe.target_bitrate();
        assert!(
            (CONFIG.min_bitrate_bps..=CONFIG.max_bitrate_bps).contains(&target),
            "target {target} out of bounds"
        );
        assert!(self.bwe.history_len() <= 2 * 16_384, "history unbounded");
        assert!(
            self.pacer.stats.queued_bytes <= (MAX_QUEUE_BYTES + 1500) as u64,
            "pacer queue unbounded"
        );
        if target < self.last_target {
            self.reached.insert("estimate_fell");
        }
        if target > self.last_target {
            self.reached.insert("estimate_rose");
        }
        self.last_target = target;
    }
}

/// Seeds: a steady flow with prompt feedback (the estimate rises, probes report), one
/// whose arrivals spread out (overuse, the estimate falls), one with losses, feedback
/// given as RTCP bytes, and received packets whose arrivals spread out after 3 s (the
/// receive side's REMBs rise, then fall).
fn seeds(_: Instant) -> Vec<Vec<u8>> {
    let flow = |queue_growth: u8, loss_every: u8| {
        let mut out = Vec::new();
        for round in 0..60u8 {
            for _ in 0..8 {
                out.extend_from_slice(&[0, 4, 176, 0]); // a 1,200-byte video packet
                out.extend_from_slice(&[1, 0, 120]); // 1.9 ms
            }
            out.extend_from_slice(&[2, 15]);
            for i in 0..16u8 {
                let lost = loss_every > 0 && i % loss_every == 0;
                out.push(if lost { 0 } else { 1 });
                // 8 keeps the queue; more grows it (from round 20 on), less drains it.
                out.push(if round >= 20 { 8 + queue_growth } else { 8 });
            }
            out.extend_from_slice(&[5, 4]);
        }
        out
    };
    let mut rtcp = Vec::new();
    let fb = RtcpPacket::TransportCc(TransportCc {
        sender_ssrc: 1,
        media_ssrc: 2,
        base_seq: 0,
        reference_time: 5,
        fb_pkt_count: 1,
        packets: (0..8u16).map(|s| (s, Some(4))).collect(),
    });
    let mut bytes = Vec::new();
    fb.write_to(&mut bytes);
    let remb = RtcpPacket::Remb(crate::rtp::rtcp::Remb {
        sender_ssrc: 1,
        bitrate_bps: 250_000,
        ssrcs: vec![2],
    });
    remb.write_to(&mut bytes);
    for _ in 0..8 {
        rtcp.extend_from_slice(&[0, 4, 176, 0]);
    }
    rtcp.push(3);
    let len = u16::try_from(bytes.len()).expect("short");
    rtcp.extend_from_slice(&len.to_be_bytes());
    rtcp.extend_from_slice(&bytes);
    vec![flow(0, 0), flow(6, 0), flow(0, 3), rtcp, received()]
}

/// 1,200-byte packets sent every 40 ms by abs-send-time (240 kbit/s, below the start
/// estimate), arriving 40 ms apart for 3 s, then 45 ms apart (a queue that grows).
fn received() -> Vec<u8> {
    let mut out = Vec::new();
    for n in 0..150u32 {
        let abs_send_time = ((u64::from(n) * 40_000) << 18) / 1_000_000;
        let step: u16 = if n < 75 { 40_000 } else { 45_000 };
        out.push(RECEIVE_OP);
        out.push(7); // SSRC
        out.extend_from_slice(&1200u16.to_be_bytes());
        out.push(0); // abs-send-time
        out.extend_from_slice(&(abs_send_time as u32).to_be_bytes());
        out.extend_from_slice(&step.to_be_bytes());
    }
    out
}
