//! Data in flight: every DATA chunk sent and not yet cumulatively acknowledged, indexed by
//! TSN in a ring (`VecDeque`) so that lookups are O(1). SACK processing touches only the
//! chunks newly acknowledged and the holes below the highest acknowledged TSN, never the
//! whole queue; loss is detected by send order (a chunk is lost when three later-sent
//! chunks have been acknowledged since), which also catches lost retransmissions.
//! PR-SCTP abandonment (RFC 3758) drops whole messages and moves the advanced peer ack point.

use super::chunk::SackChunk;
use super::send::{Fragment, Policy};
use super::stats::SctpStats;
use bytes::Bytes;
use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

/// Acknowledgements from later-sent chunks after which a chunk counts as lost.
const DUP_THRESHOLD: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkState {
    InFlight,
    Acked,
    Lost,
    Abandoned,
}

/// One DATA chunk sent and not yet cumulatively acknowledged.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub stream: u16,
    pub ssn: u16,
    pub ppid: u32,
    pub flags: u8,
    pub payload: Bytes,
    pub sent_at: Instant,
    /// Transmission order (strictly increasing across first sends and retransmissions).
    send_order: u64,
    pub tx_count: u16,
    misses: u8,
    pub state: ChunkState,
    pub policy: Policy,
}

impl Sent {
    pub(crate) fn unordered(&self) -> bool {
        self.flags & 4 != 0
    }
    fn is_begin(&self) -> bool {
        self.flags & 2 != 0
    }
    fn is_end(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// A message given up by the partial reliability policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Abandoned {
    pub stream: u16,
    /// Its last fragment was never sent: the unsent rest must leave the send queue.
    pub truncated: bool,
}

/// What a SACK changed.
#[derive(Debug, Default)]
pub(crate) struct SackOutcome {
    pub acked_bytes: usize,
    pub cum_advanced: bool,
    pub rtt: Option<Duration>,
    pub new_loss: bool,
    /// Messages abandoned while marking losses.
    pub abandoned: Vec<Abandoned>,
}

/// The retransmission queue.
#[derive(Debug, Clone)]
pub(crate) struct InFlight {
    /// TSN (unwrapped) of `queue[0]`; the cumulative ack point is `base - 1`.
    base: u64,
    queue: VecDeque<Sent>,
    pub flight_bytes: usize,
    rtx: BTreeSet<u64>,
    pub peer_rwnd: usize,
    pub recovery_until: Option<u64>,
    /// Highest advanced peer ack point announced in a FORWARD TSN.
    pub fwd_sent: u64,
    /// Counter giving each transmission its `send_order`.
    send_counter: u64,
    /// Gap blocks of the last SACK (absolute TSNs), all of them marked acked.
    prev_blocks: Vec<(u64, u64)>,
}

impl InFlight {
    pub(crate) fn new(initial_tsn: u32, peer_rwnd: usize) -> Self {
        // Offset by 2^32 so that `base - 1` never underflows.
        let base = u64::from(initial_tsn) + (1 << 32);
        Self {
            base,
            queue: VecDeque::new(),
            flight_bytes: 0,
            rtx: BTreeSet::new(),
            peer_rwnd,
            recovery_until: None,
            fwd_sent: base - 1,
            send_counter: 0,
            prev_blocks: Vec::new(),
        }
    }

    pub(crate) fn next_tsn(&self) -> u64 {
        self.base + self.queue.len() as u64
    }

    pub(crate) fn cum_ack(&self) -> u64 {
        self.base - 1
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub(crate) fn has_retransmissions(&self) -> bool {
        !self.rtx.is_empty()
    }

    /// Records a fragment sent for the first time; returns its TSN.
    pub(crate) fn push(&mut self, now: Instant, f: Fragment) -> u64 {
        self.flight_bytes += f.payload.len();
        self.send_counter += 1;
        self.queue.push_back(Sent {
            stream: f.stream,
            ssn: f.ssn,
            ppid: f.ppid,
            flags: f.flags,
            payload: f.payload,
            sent_at: now,
            send_order: self.send_counter,
            tx_count: 1,
            misses: 0,
            state: ChunkState::InFlight,
            policy: f.policy,
        });
        self.next_tsn() - 1
    }

    fn get_mut(&mut self, tsn: u64) -> Option<&mut Sent> {
        let idx = usize::try_from(tsn.checked_sub(self.base)?).ok()?;
        self.queue.get_mut(idx)
    }

    pub(crate) fn get(&self, tsn: u64) -> Option<&Sent> {
        let idx = usize::try_from(tsn.checked_sub(self.base)?).ok()?;
        self.queue.get(idx)
    }

    /// Maps a 32-bit TSN from the peer to our unwrapped space near the cumulative ack.
    pub(crate) fn unwrap_tsn(&self, tsn: u32) -> u64 {
        let cum = self.cum_ack();
        let delta = tsn.wrapping_sub(cum as u32) as i32;
        cum.wrapping_add_signed(i64::from(delta))
    }

    /// Processes a SACK. Stale or impossible SACKs change nothing.
    pub(crate) fn on_sack(
        &mut self,
        now: Instant,
        sack: &SackChunk,
        stats: &mut SctpStats,
    ) -> SackOutcome {
        let mut out = SackOutcome::default();
        let cum = self.unwrap_tsn(sack.cumulative_tsn_ack);
        if cum < self.cum_ack() || cum >= self.next_tsn() {
            return out;
        }
        let mut newest_sent: Option<u64> = None;
        let mut rtt_from: Option<Instant> = None;
        while self.base <= cum {
            let s = self.queue.pop_front().expect("cum < next_tsn");
            self.base += 1;
            out.cum_advanced = true;
            self.ack_one(&s, &mut out, &mut newest_sent, &mut rtt_from);
        }
        let mut highest_gap = None;
        let mut blocks = Vec::with_capacity(sack.gap_blocks.len());
        for &(start, end) in &sack.gap_blocks {
            if start == 0 || end < start {
                continue;
            }
            let (lo, hi) = (
                cum + u64::from(start),
                (cum + u64::from(end)).min(self.next_tsn().saturating_sub(1)),
            );
            // A block usually repeats or extends one of the previous SACK: skip what that
            // one already covered, so each SACK costs what it newly acknowledges.
            let from = self.first_unseen_in_block(lo);
            for tsn in from..=hi {
                self.ack_gap(tsn, &mut out, &mut newest_sent, &mut rtt_from);
            }
            if lo <= hi {
                highest_gap = Some(highest_gap.map_or(hi, |h: u64| h.max(hi)));
                blocks.push((lo, hi));
            }
        }
        self.prev_blocks = blocks;
        out.rtt = rtt_from.map(|t| now.saturating_duration_since(t));
        if let (Some(newest), Some(highest)) = (newest_sent, highest_gap) {
            self.detect_losses(now, cum, &sack.gap_blocks, newest, highest, &mut out, stats);
        }
        self.peer_rwnd = (sack.a_rwnd as usize).saturating_sub(self.flight_bytes);
        if self.recovery_until.is_some_and(|r| r <= cum) {
            self.recovery_until = None;
        }
        out
    }

    fn ack_one(
        &mut self,
        s: &Sent,
        out: &mut SackOutcome,
        newest: &mut Option<u64>,
        rtt_from: &mut Option<Instant>,
    ) {
        match s.state {
            ChunkState::InFlight | ChunkState::Lost => {
                if s.state == ChunkState::InFlight {
                    self.flight_bytes -= s.payload.len();
                    *newest = Some(newest.map_or(s.send_order, |n| n.max(s.send_order)));
                    if s.tx_count == 1 {
                        *rtt_from = Some(s.sent_at);
                    }
                }
                out.acked_bytes += s.payload.len();
            }
            ChunkState::Acked | ChunkState::Abandoned => {}
        }
    }

    fn ack_gap(
        &mut self,
        tsn: u64,
        out: &mut SackOutcome,
        newest: &mut Option<u64>,
        rtt_from: &mut Option<Instant>,
    ) {
        let Some(s) = self.get_mut(tsn) else { return };
        let prev = s.state;
        if matches!(prev, ChunkState::Acked | ChunkState::Abandoned) {
            return;
        }
        s.state = ChunkState::Acked;
        let (len, sent_at, order, once) =
            (s.payload.len(), s.sent_at, s.send_order, s.tx_count == 1);
        out.acked_bytes += len;
        if prev == ChunkState::InFlight {
            self.flight_bytes -= len;
            *newest = Some(newest.map_or(order, |n| n.max(order)));
            if once {
                *rtt_from = Some(sent_at);
            }
        }
    }

    /// The first TSN from `lo` on that the previous SACK's blocks did not already cover.
    fn first_unseen_in_block(&self, lo: u64) -> u64 {
        // Blocks come sorted from a sane peer; if not, a miss here only costs a re-walk.
        let idx = self.prev_blocks.partition_point(|&(_, phi)| phi < lo);
        match self.prev_blocks.get(idx) {
            Some(&(plo, phi)) if plo <= lo => phi + 1,
            _ => lo,
        }
    }

    /// Counts a miss for every unacknowledged chunk in the holes that was sent before the
    /// newest chunk this SACK acknowledged; marks it lost at [`DUP_THRESHOLD`].
    #[allow(clippy::too_many_arguments)]
    fn detect_losses(
        &mut self,
        now: Instant,
        cum: u64,
        gaps: &[(u16, u16)],
        newest: u64,
        highest: u64,
        out: &mut SackOutcome,
        stats: &mut SctpStats,
    ) {
        let mut hole_start = cum + 1;
        let mut ends: Vec<(u64, u64)> = gaps
            .iter()
            .filter(|(s, e)| *s != 0 && e >= s)
            .map(|&(s, e)| (cum + u64::from(s), cum + u64::from(e)))
            .collect();
        ends.sort_unstable();
        for (lo, hi) in ends {
            for tsn in hole_start..lo.min(highest + 1) {
                self.count_miss(now, tsn, newest, out, stats);
            }
            hole_start = hole_start.max(hi + 1);
        }
    }

    fn count_miss(
        &mut self,
        now: Instant,
        tsn: u64,
        newest: u64,
        out: &mut SackOutcome,
        stats: &mut SctpStats,
    ) {
        let Some(s) = self.get_mut(tsn) else { return };
        if s.state != ChunkState::InFlight || s.send_order > newest {
            return;
        }
        s.misses += 1;
        if s.misses < DUP_THRESHOLD {
            return;
        }
        s.state = ChunkState::Lost;
        s.misses = 0;
        self.flight_bytes -= s.payload.len();
        out.new_loss = true;
        stats.fast_retransmits += 1;
        if self.should_abandon(tsn, now) {
            if let Some(m) = self.abandon_message(tsn) {
                stats.messages_abandoned += 1;
                out.abandoned.push(m);
            }
        } else {
            self.rtx.insert(tsn);
        }
    }

    /// Whether the message of `tsn` must be given up rather than retransmitted.
    pub(crate) fn should_abandon(&self, tsn: u64, now: Instant) -> bool {
        let Some(s) = self.get(tsn) else { return false };
        let by_count = s.policy.max_retransmits.is_some_and(|m| s.tx_count > m);
        let by_time = s.policy.expires.is_some_and(|e| e <= now);
        by_count || by_time
    }

    /// Marks every chunk of the message containing `tsn` abandoned. If the message's last
    /// fragment was never sent, a placeholder TSN (never transmitted) is appended for it, so
    /// that only a FORWARD TSN can move the peer past the message; the caller drops the
    /// unsent rest from the send queue. `None` if `tsn` is not in the queue.
    pub(crate) fn abandon_message(&mut self, tsn: u64) -> Option<Abandoned> {
        let mut first = tsn;
        while !self.get(first)?.is_begin() && first > self.base {
            first -= 1;
        }
        let mut last = tsn;
        while !self.get(last)?.is_end() && last + 1 < self.next_tsn() {
            last += 1;
        }
        let (stream, ssn, flags, policy) = {
            let s = self.get(tsn)?;
            (s.stream, s.ssn, s.flags, s.policy)
        };
        for t in first..=last {
            let idx = usize::try_from(t - self.base).expect("within queue");
            let s = &mut self.queue[idx];
            if s.state == ChunkState::InFlight {
                self.flight_bytes -= s.payload.len();
            }
            s.state = ChunkState::Abandoned;
            s.payload = Bytes::new();
            self.rtx.remove(&t);
        }
        let truncated = !self.get(last)?.is_end();
        if truncated {
            self.queue.push_back(Sent {
                stream,
                ssn,
                ppid: 0,
                flags: (flags & 4) | 1,
                payload: Bytes::new(),
                sent_at: self.get(last)?.sent_at,
                send_order: 0,
                tx_count: 0,
                misses: 0,
                state: ChunkState::Abandoned,
                policy,
            });
        }
        Some(Abandoned { stream, truncated })
    }

    /// T3-rtx expiry: everything in flight is to be retransmitted.
    pub(crate) fn on_timeout(&mut self) -> usize {
        let mut n = 0;
        for (i, s) in self.queue.iter_mut().enumerate() {
            if s.state == ChunkState::InFlight {
                s.state = ChunkState::Lost;
                s.misses = 0;
                self.rtx.insert(self.base + i as u64);
                n += 1;
            }
        }
        self.flight_bytes = 0;
        n
    }

    /// The next chunk to retransmit, if any (skipping ones acked or abandoned meanwhile).
    pub(crate) fn peek_retransmit(&mut self) -> Option<u64> {
        while let Some(&tsn) = self.rtx.first() {
            if self.get(tsn).is_some_and(|s| s.state == ChunkState::Lost) {
                return Some(tsn);
            }
            self.rtx.pop_first();
        }
        None
    }

    /// Marks `tsn` retransmitted now and returns the chunk.
    pub(crate) fn mark_retransmitted(&mut self, now: Instant, tsn: u64) -> &Sent {
        self.rtx.remove(&tsn);
        self.send_counter += 1;
        let order = self.send_counter;
        let s = self.get_mut(tsn).expect("peeked");
        s.state = ChunkState::InFlight;
        s.sent_at = now;
        s.send_order = order;
        s.tx_count = s.tx_count.saturating_add(1);
        self.flight_bytes += s.payload.len();
        self.get(tsn).expect("peeked")
    }

    /// The advanced peer ack point (RFC 3758 section 3.5 C): the cumulative ack moved past
    /// abandoned (and already gap-acked) chunks that directly follow it.
    pub(crate) fn advanced_ack_point(&self) -> u64 {
        let mut point = self.cum_ack();
        for s in &self.queue {
            match s.state {
                ChunkState::Abandoned | ChunkState::Acked => point += 1,
                _ => break,
            }
        }
        point
    }

    /// Ordered streams with the highest abandoned SSN up to `point`, for a FORWARD TSN.
    pub(crate) fn forward_streams(&self, point: u64) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for tsn in self.base..=point {
            let Some(s) = self.get(tsn) else { break };
            if s.state != ChunkState::Abandoned || s.unordered() {
                continue;
            }
            match out.iter_mut().find(|(sid, _)| *sid == s.stream) {
                Some(e) => e.1 = s.ssn,
                None => out.push((s.stream, s.ssn)),
            }
        }
        out
    }

    /// Checks abandonment of in-flight timed messages whose lifetime ended (called on T3).
    pub(crate) fn abandon_expired(
        &mut self,
        now: Instant,
        stats: &mut SctpStats,
    ) -> Vec<Abandoned> {
        let mut out = Vec::new();
        let mut tsn = self.base;
        while tsn < self.next_tsn() {
            let expired = self.get(tsn).is_some_and(|s| {
                !matches!(s.state, ChunkState::Abandoned | ChunkState::Acked)
                    && s.policy.expires.is_some_and(|e| e <= now)
            });
            if expired && let Some(m) = self.abandon_message(tsn) {
                stats.messages_abandoned += 1;
                out.push(m);
            }
            tsn += 1;
        }
        out
    }
}
