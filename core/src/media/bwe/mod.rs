//! The send-side bandwidth estimator, in the spirit of Google congestion control
//! (draft-ietf-rmcat-gcc-02 and libwebrtc's GoogCC): transport-wide feedback (or RFC 8888
//! feedback, matched to the same history by SSRC and RTP sequence number) on what we
//! sent drives a delay-based controller (trendline filter, overuse detector, AIMD rate
//! control) and a loss-based bound; the acknowledged rate caps growth; probe clusters find
//! the capacity fast at the start and after application-limited spells; a REMB from a
//! peer caps the result. A peer that speaks only REMB drives the estimate by its REMBs
//! alone ([`SendSideBwe::driven_by_remb`]); when we receive from such a peer, the
//! receive-side estimator ([`ReceiveSideBwe`]) makes the REMBs we send, with the same
//! delay detector and rate control.
//!
//! Sans-IO and deterministic: packets sent, feedback and time come in; the target rate and
//! the probe clusters the pacer is to send come out. The peer connection feeds it from its
//! pacer and its RTCP; an application forwarding media can drive one itself.

mod aimd;
mod delay;
mod history;
mod loss;
mod probe;
mod rate;
mod remote;
#[cfg(test)]
mod tests;

pub use delay::BandwidthUsage;
pub use history::PacketResult;
pub use probe::ProbeCluster;
pub(crate) use rate::RateWindow;
pub use remote::{
    MAX_SSRCS, MAX_TIMELINES, REMB_DECREASE_PERCENT, REMB_INTERVAL, ReceiveBweStats,
    ReceiveSideBwe, SendTime,
};

use crate::rtp::rtcp::{CongestionControlFeedback, TransportCc};
use aimd::AimdControl;
use delay::DelayDetector;
use history::SendHistory;
use loss::LossBound;
use probe::{ProbeController, ProbeEstimator};
use rate::AlrDetector;
use std::time::{Duration, Instant};

/// Limits and start of the estimate, in bits per second (the browser's defaults: start at
/// 300 kbit/s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BweConfig {
    pub start_bitrate_bps: u64,
    pub min_bitrate_bps: u64,
    pub max_bitrate_bps: u64,
    /// While media flows, the share of the estimate (percent) that busy data channels may
    /// take even when media would use it all; media is announced the rest. Data channels
    /// always get what media leaves. Default 50.
    pub data_channel_share_percent: u8,
    /// Switch simulcast layers on and off as the estimate changes (the browser's
    /// behaviour): the cheapest active layer always, the others as their `max_bitrate`s
    /// fit. `false` leaves the layers to the application. Default `true`.
    pub allocate_simulcast: bool,
}

impl Default for BweConfig {
    fn default() -> Self {
        Self {
            start_bitrate_bps: 300_000,
            min_bitrate_bps: 30_000,
            max_bitrate_bps: 50_000_000,
            data_channel_share_percent: 50,
            allocate_simulcast: true,
        }
    }
}

impl BweConfig {
    /// The limits put in order (`min ≤ start ≤ max`, `min ≥ 1 kbit/s`).
    fn sanitized(self) -> Self {
        let min = self.min_bitrate_bps.max(1_000);
        let max = self.max_bitrate_bps.max(min);
        Self {
            min_bitrate_bps: min,
            max_bitrate_bps: max,
            start_bitrate_bps: self.start_bitrate_bps.clamp(min, max),
            data_channel_share_percent: self.data_channel_share_percent.min(100),
            allocate_simulcast: self.allocate_simulcast,
        }
    }
}

/// Figures of the estimator, for stats and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BweStats {
    /// The target rate now, bits per second.
    pub target_bps: u64,
    /// The delay-based estimate.
    pub delay_based_bps: u64,
    /// The loss-based bound.
    pub loss_bound_bps: u64,
    /// What the receiver acknowledged lately.
    pub acked_bps: Option<u64>,
    /// Loss fraction of the last loss interval.
    pub loss_fraction: f64,
    /// The detector's last verdict.
    pub usage: BandwidthUsage,
    /// Sending well below the estimate.
    pub in_alr: bool,
    pub probes_sent: u64,
    pub probe_results: u64,
    pub feedback_messages: u64,
    pub packets_reported: u64,
    pub packets_lost: u64,
    /// The last REMB heard, if any.
    pub remb_bps: Option<u64>,
}

/// The estimator (see the module documentation).
#[derive(Debug, Clone)]
pub struct SendSideBwe {
    config: BweConfig,
    history: SendHistory,
    delay: DelayDetector,
    aimd: AimdControl,
    loss: LossBound,
    acked: RateWindow,
    /// What we sent, by our clock (µs since `origin`), media and data alike.
    sent: RateWindow,
    /// What we sent outside transport-wide feedback (data channels), by our clock.
    unreported: RateWindow,
    alr: AlrDetector,
    probes: ProbeController,
    probe_results: ProbeEstimator,
    origin: Option<Instant>,
    rtt: Duration,
    remb: Option<u64>,
    /// No transport-wide feedback will come: the REMB alone sets the target.
    remb_driven: bool,
    target: u64,
    stats: BweStats,
    results: Vec<PacketResult>,
    /// The clusters handed to the pacer lately, for their results.
    clusters: std::collections::VecDeque<ProbeCluster>,
}

impl SendSideBwe {
    pub fn new(config: BweConfig) -> Self {
        let config = config.sanitized();
        let start = config.start_bitrate_bps;
        Self {
            config,
            history: SendHistory::default(),
            delay: DelayDetector::default(),
            aimd: AimdControl::new(start, config.min_bitrate_bps, config.max_bitrate_bps),
            loss: LossBound::new(config.max_bitrate_bps),
            acked: RateWindow::default(),
            sent: RateWindow::default(),
            unreported: RateWindow::default(),
            alr: AlrDetector::default(),
            probes: ProbeController::default(),
            probe_results: ProbeEstimator::default(),
            origin: None,
            rtt: Duration::from_millis(100),
            remb: None,
            remb_driven: false,
            target: start,
            stats: BweStats::default(),
            results: Vec::new(),
            clusters: std::collections::VecDeque::new(),
        }
    }

    /// An estimator for a peer that negotiated REMB and not transport-wide feedback: the
    /// target is the peer's last REMB (within the limits), the start rate before the first.
    /// Should transport-wide feedback come after all, the delay-based estimate bounds the
    /// target again.
    pub fn driven_by_remb(config: BweConfig) -> Self {
        Self {
            remb_driven: true,
            ..Self::new(config)
        }
    }

    pub fn config(&self) -> BweConfig {
        self.config
    }

    /// The target rate: what all traffic together may send, bits per second.
    pub fn target_bitrate(&self) -> u64 {
        self.target
    }

    /// Whether we send well below the estimate.
    pub fn in_alr(&self) -> bool {
        self.alr.in_alr()
    }

    pub fn stats(&self) -> BweStats {
        BweStats {
            target_bps: self.target,
            delay_based_bps: self.aimd.estimate(),
            loss_bound_bps: self.loss.bound() as u64,
            acked_bps: self
                .acked
                .last_time()
                .and_then(|t| self.acked.rate(t))
                .map(|r| r as u64),
            loss_fraction: self.loss.last_loss,
            usage: self.delay.usage(),
            in_alr: self.alr.in_alr(),
            remb_bps: self.remb,
            ..self.stats
        }
    }

    fn micros(&mut self, now: Instant) -> i64 {
        let origin = *self.origin.get_or_insert(now);
        i64::try_from(now.saturating_duration_since(origin).as_micros()).unwrap_or(i64::MAX)
    }

    /// A packet carrying transport-wide sequence number `seq` left, `size` bytes, as part
    /// of probe cluster `cluster`. The first one starts the start-up probes.
    pub fn on_packet_sent(&mut self, seq: u16, size: usize, now: Instant, cluster: Option<u32>) {
        self.probes.on_start(
            self.config.start_bitrate_bps,
            self.config.max_bitrate_bps,
            now,
        );
        self.history.on_sent(seq, size, now, cluster);
        let t = self.micros(now);
        self.sent.add(t, u32::try_from(size).unwrap_or(u32::MAX));
        if cluster.is_some() {
            self.stats.probes_sent += 1;
        }
    }

    /// `size` bytes left that no feedback will report (SCTP beside media): counted in
    /// what the path was shown to carry.
    pub fn on_unreported_sent(&mut self, size: usize, now: Instant) {
        let t = self.micros(now);
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        self.unreported.add(t, size);
        self.sent.add(t, size);
    }

    /// The round-trip time measured by reports.
    pub fn on_rtt(&mut self, rtt: Duration) {
        self.rtt = rtt.clamp(Duration::from_millis(1), Duration::from_secs(2));
    }

    /// A REMB from the peer: the target never exceeds it.
    pub fn on_remb(&mut self, bitrate_bps: u64, now: Instant) {
        self.remb = Some(bitrate_bps.max(self.config.min_bitrate_bps));
        self.update_target(now);
    }

    /// Like [`on_packet_sent`](Self::on_packet_sent), for a packet that RFC 8888 feedback
    /// will name by `ssrc` and `rtp_seq` rather than by the number `seq` (which need not
    /// be on the wire: any count of the packets sent, unique among those in flight).
    pub fn on_rtp_packet_sent(
        &mut self,
        seq: u16,
        (ssrc, rtp_seq): (u32, u16),
        size: usize,
        now: Instant,
        cluster: Option<u32>,
    ) {
        self.on_packet_sent(seq, size, now, cluster);
        self.history.index_rtp(seq, ssrc, rtp_seq);
    }

    /// Transport-wide feedback from the peer.
    pub fn on_feedback(&mut self, fb: &TransportCc, now: Instant) {
        let mut results = std::mem::take(&mut self.results);
        results.clear();
        self.history.on_feedback(fb, &mut results);
        self.apply_feedback(results, now);
    }

    /// RFC 8888 congestion control feedback from the peer, on packets sent with
    /// [`on_rtp_packet_sent`](Self::on_rtp_packet_sent).
    pub fn on_ccfb(&mut self, fb: &CongestionControlFeedback, now: Instant) {
        let mut results = std::mem::take(&mut self.results);
        results.clear();
        self.history.on_ccfb(fb, &mut results);
        self.apply_feedback(results, now);
    }

    /// One feedback message's results, in send order: the detectors, then the rates.
    fn apply_feedback(&mut self, results: Vec<PacketResult>, now: Instant) {
        self.stats.feedback_messages += 1;
        for r in &results {
            self.on_result(r, now);
        }
        self.results = results;
        let t = self.micros(now);
        let acked = self.acked.last_time().and_then(|a| self.acked.rate(a));
        let beside = self.unreported.rate(t).unwrap_or(0.0);
        let shown = acked.map(|a| a + beside);
        self.aimd.update(self.delay.usage(), shown, self.rtt, now);
        self.loss.update(now, self.aimd.estimate() as f64, self.rtt);
        self.update_target(now);
    }

    fn on_result(&mut self, r: &PacketResult, now: Instant) {
        self.stats.packets_reported += 1;
        self.loss.on_packet(r.arrival_us.is_some(), now);
        let Some(arrival) = r.arrival_us else {
            self.stats.packets_lost += 1;
            return;
        };
        let sent_us = self.micros(r.send_time);
        self.delay.add(sent_us, arrival);
        self.acked.add(arrival, r.size);
        if let Some(id) = r.cluster
            && let Some(cluster) = self.clusters.iter().find(|c| c.id == id)
            && let Some(result) = self
                .probe_results
                .add(cluster, r.size, r.send_time, arrival)
        {
            self.stats.probe_results += 1;
            let probed = cluster.bitrate_bps;
            self.on_probe_result(result, probed, now);
        }
    }

    fn on_probe_result(&mut self, result: u64, probed: u64, now: Instant) {
        // A probe raises the estimate only; one that hit the path's limit also stops
        // further probing (its result is below what was probed).
        if result > self.aimd.estimate() && self.delay.usage() != BandwidthUsage::Overusing {
            self.aimd.set_estimate(result, now);
        }
        self.probes
            .on_result(result, probed, self.config.max_bitrate_bps, now);
    }

    fn update_target(&mut self, now: Instant) {
        let remb_alone = self.remb_driven && self.stats.feedback_messages == 0;
        let delay = if remb_alone {
            u64::MAX
        } else {
            self.aimd.estimate()
        };
        let mut target = delay.min(self.loss.bound() as u64);
        if let Some(remb) = self.remb {
            target = target.min(remb);
        }
        self.target = target.clamp(self.config.min_bitrate_bps, self.config.max_bitrate_bps);
        let t = self.micros(now);
        if let Some(sent) = self.sent.rate(t) {
            self.alr.update(sent, self.target as f64);
        }
    }

    /// The periodic tick (the pacer calls it as it runs): ALR and probe scheduling.
    pub fn on_timer(&mut self, now: Instant) {
        let t = self.micros(now);
        if let Some(sent) = self.sent.rate(t) {
            self.alr.update(sent, self.target as f64);
        }
        self.probes.on_timer(
            now,
            self.alr.in_alr(),
            self.target,
            self.config.max_bitrate_bps,
        );
    }

    /// The next probe cluster the pacer is to send.
    pub fn take_probe(&mut self) -> Option<ProbeCluster> {
        let cluster = self.probes.take()?;
        if self.clusters.len() >= 8 {
            self.clusters.pop_front();
        }
        self.clusters.push_back(cluster);
        Some(cluster)
    }

    /// Packets remembered for feedback (bounded).
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Entries of the (SSRC, RTP sequence number) index for RFC 8888 feedback; never more
    /// than [`history_len`](Self::history_len).
    pub fn indexed_len(&self) -> usize {
        self.history.indexed_len()
    }
}
