//! What the estimator needs to know of the packets it sent: the transport-wide sequence
//! number, size, send time and probe cluster of each, kept until feedback covers it, and the
//! matching of feedback to them: transport-cc by transport-wide number, RFC 8888 by SSRC
//! and RTP sequence number (an index kept beside the packets, no larger than they are).
//!
//! Without transport-cc on the wire the numbers are the sender's own count of what it sent
//! (never written), so that both kinds of feedback drive the same history.

use crate::rtp::rtcp::{CongestionControlFeedback, TransportCc};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Longest a sent packet waits for feedback before it is forgotten.
pub(crate) const HISTORY_SPAN: Duration = Duration::from_secs(2);
/// Most packets kept (about 2 s at 50 Mbit/s of 1,200-byte packets would be 10,400).
pub(crate) const HISTORY_PACKETS: usize = 16_384;

/// One packet as it left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SentPacket {
    /// Bytes on the wire (RTP and SRTP; the IP and UDP headers are not counted).
    pub size: u32,
    pub send_time: Instant,
    /// The probe cluster it belonged to.
    pub cluster: Option<u32>,
    /// Reported by a feedback already (received or lost).
    pub reported: bool,
    /// Its SSRC and RTP sequence number, when indexed for RFC 8888 feedback.
    pub rtp: Option<(u32, u16)>,
}

/// What feedback said of one packet we sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketResult {
    pub size: u32,
    pub send_time: Instant,
    /// Arrival in the receiver's clock, microseconds from an arbitrary origin; `None` when
    /// reported lost.
    pub arrival_us: Option<i64>,
    pub cluster: Option<u32>,
}

/// Sent packets by extended (unwrapped) transport-wide sequence number.
#[derive(Debug, Clone, Default)]
pub(crate) struct SendHistory {
    /// The extended number of `packets[0]`.
    first: i64,
    /// Packets in sequence order; `None` for numbers never seen leave (dropped before
    /// sending, or sent out of order and not yet).
    packets: VecDeque<Option<SentPacket>>,
    /// The last extended number given to [`unwrap`](Self::unwrap), which anchors the next.
    last_seen: Option<i64>,
    /// The receiver's reference time of the last feedback (64 ms units, unwrapped), so
    /// that the 24-bit field's wrap is followed.
    last_reference: Option<i64>,
    /// The last RFC 8888 report timestamp (1/65536 s, unwrapped from 32 bits).
    last_report_timestamp: Option<i64>,
    /// (SSRC, RTP sequence number) → extended number, for the packets kept that carry one.
    by_rtp: BTreeMap<(u32, u16), i64>,
    /// Bytes sent, ever (for the sent-rate figures).
    pub bytes_sent: u64,
}

/// The extended value of a 16-bit sequence number nearest to `anchor`.
fn unwrap_near(anchor: i64, seq: u16) -> i64 {
    let diff = i64::from(seq.wrapping_sub(anchor as u16) as i16);
    anchor + diff
}

/// The extended value of the `bits`-bit field `raw` nearest to `anchor`.
fn unwrap_bits(anchor: i64, raw: i64, bits: u32) -> i64 {
    let span = 1i64 << bits;
    let delta = (raw - anchor).rem_euclid(span);
    let delta = if delta >= span / 2 {
        delta - span
    } else {
        delta
    };
    anchor + delta
}

/// The extended reference time nearest to `anchor` (a 24-bit signed field).
fn unwrap_reference(anchor: i64, value: i32) -> i64 {
    unwrap_bits(anchor, i64::from(value) & 0x00ff_ffff, 24)
}

impl SendHistory {
    /// The extended number of `seq`, nearest to the last one seen.
    fn unwrap(&mut self, seq: u16) -> i64 {
        let ext = match self.last_seen {
            Some(anchor) => unwrap_near(anchor, seq),
            None => i64::from(seq) + (1 << 16),
        };
        self.last_seen = Some(self.last_seen.map_or(ext, |l| l.max(ext)));
        ext
    }

    /// Records a packet that just left. Returns false for a number too old to keep.
    pub fn on_sent(&mut self, seq: u16, size: usize, now: Instant, cluster: Option<u32>) -> bool {
        let ext = self.unwrap(seq);
        self.bytes_sent += size as u64;
        if self.packets.is_empty() {
            self.first = ext;
        }
        if ext < self.first {
            return false;
        }
        let index = (ext - self.first) as usize;
        if index >= HISTORY_PACKETS * 2 {
            // A jump far ahead: start over rather than fill a long gap.
            self.packets.clear();
            self.by_rtp.clear();
            self.first = ext;
        }
        let index = (ext - self.first) as usize;
        while self.packets.len() <= index {
            self.packets.push_back(None);
        }
        let old = self.packets[index].take();
        self.forget_index(old, ext);
        self.packets[index] = Some(SentPacket {
            size: u32::try_from(size).unwrap_or(u32::MAX),
            send_time: now,
            cluster,
            reported: false,
            rtp: None,
        });
        self.prune(now);
        true
    }

    /// Forgets packets older than [`HISTORY_SPAN`] and beyond [`HISTORY_PACKETS`].
    fn prune(&mut self, now: Instant) {
        while let Some(front) = self.packets.front() {
            let old =
                front.is_none_or(|p| now.saturating_duration_since(p.send_time) > HISTORY_SPAN);
            if !old && self.packets.len() <= HISTORY_PACKETS {
                break;
            }
            let gone = self.packets.pop_front().flatten();
            self.forget_index(gone, self.first);
            self.first += 1;
        }
    }

    /// Notes that the packet sent last with number `seq` is RTP packet `rtp_seq` of `ssrc`,
    /// for RFC 8888 feedback.
    pub fn index_rtp(&mut self, seq: u16, ssrc: u32, rtp_seq: u16) {
        let Some(anchor) = self.last_seen else {
            return;
        };
        let ext = unwrap_near(anchor, seq);
        let Some(p) = self.slot_mut(ext).and_then(|slot| slot.as_mut()) else {
            return;
        };
        p.rtp = Some((ssrc, rtp_seq));
        self.by_rtp.insert((ssrc, rtp_seq), ext);
    }

    /// Removes `packet` (which had extended number `ext`) from the RTP index.
    fn forget_index(&mut self, packet: Option<SentPacket>, ext: i64) {
        if let Some(key) = packet.and_then(|p| p.rtp)
            && self.by_rtp.get(&key) == Some(&ext)
        {
            self.by_rtp.remove(&key);
        }
    }

    fn slot_mut(&mut self, ext: i64) -> Option<&mut Option<SentPacket>> {
        let i = usize::try_from(ext.checked_sub(self.first)?).ok()?;
        self.packets.get_mut(i)
    }

    /// Entries of the RTP index (for bounds checks).
    pub fn indexed_len(&self) -> usize {
        self.by_rtp.len()
    }

    /// Packets kept (for bounds checks).
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Matches a transport-cc feedback message to what we sent: one result per reported
    /// packet we still know and had not seen reported, in sequence order. A packet reported
    /// lost and then received by a later message is given again, as received.
    pub fn on_feedback(&mut self, fb: &TransportCc, out: &mut Vec<PacketResult>) {
        let reference = match self.last_reference {
            Some(anchor) => unwrap_reference(anchor, fb.reference_time),
            None => i64::from(fb.reference_time) & 0x00ff_ffff,
        };
        self.last_reference = Some(reference);
        let mut arrival_us = reference * 64_000;
        let Some(anchor) = self.last_seen else {
            return;
        };
        let base = unwrap_near(anchor, fb.base_seq);
        for (i, (_, delta)) in fb.packets.iter().enumerate() {
            let arrival = delta.map(|d| {
                arrival_us += d * 250;
                Some(arrival_us)
            });
            self.report(base + i as i64, arrival, out);
        }
    }

    /// Matches an RFC 8888 feedback message to what we sent, by SSRC and RTP sequence
    /// number: results in the order the packets were sent, as for transport-cc. A packet
    /// received without a usable arrival time (over-range or unavailable) is taken as
    /// received and gives no result.
    pub fn on_ccfb(&mut self, fb: &CongestionControlFeedback, out: &mut Vec<PacketResult>) {
        let raw = i64::from(fb.report_timestamp);
        let rts = self
            .last_report_timestamp
            .map_or(raw, |anchor| unwrap_bits(anchor, raw, 32));
        self.last_report_timestamp = Some(rts);
        let rts_us = rts * 1_000_000 / 65_536;
        let mut found: Vec<(i64, Option<Option<i64>>)> = fb
            .blocks
            .iter()
            .flat_map(|b| b.iter().map(move |(seq, a)| ((b.media_ssrc, seq), a)))
            .filter_map(|(key, a)| {
                let ext = *self.by_rtp.get(&key)?;
                Some((ext, a.map(|a| a.offset_micros().map(|off| rts_us - off))))
            })
            .collect();
        found.sort_by_key(|(ext, _)| *ext);
        found.dedup_by_key(|(ext, _)| *ext);
        for (ext, arrival) in found {
            self.report(ext, arrival, out);
        }
    }

    /// What feedback said of the packet with extended number `ext`: `None` lost, `Some(t)`
    /// received at `t` (µs in the receiver's clock, `None` when unknown). Gives a result
    /// unless the packet is unknown, already given as received, or given lost again.
    fn report(&mut self, ext: i64, arrival: Option<Option<i64>>, out: &mut Vec<PacketResult>) {
        let Some(slot) = self.slot_mut(ext) else {
            return;
        };
        let Some(p) = slot.as_mut() else { return };
        if p.reported && arrival.is_none() {
            return;
        }
        p.reported = true;
        let p = *p;
        if arrival.is_some() {
            // Received: never given again.
            *slot = None;
            self.forget_index(Some(p), ext);
        }
        let arrival_us = match arrival {
            None => None,
            Some(Some(t)) => Some(t),
            Some(None) => return,
        };
        out.push(PacketResult {
            size: p.size,
            send_time: p.send_time,
            arrival_us,
            cluster: p.cluster,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::rtcp::{CcfbArrival, CcfbBlock};

    use crate::time::test_epoch as t0;

    #[test]
    fn ccfb_is_matched_by_ssrc_and_sequence_and_given_in_send_order() {
        let start = t0();
        let mut h = SendHistory::default();
        // Sent in this order: media 10 of SSRC 1, RTX 500 of SSRC 2, media 11 of SSRC 1.
        for (seq, (ssrc, rtp_seq)) in [(7u16, (1, 10)), (8, (2, 500)), (9, (1, 11))] {
            h.on_sent(
                seq,
                1000,
                start + Duration::from_millis(u64::from(seq)),
                None,
            );
            h.index_rtp(seq, ssrc, rtp_seq);
        }
        assert_eq!(h.indexed_len(), 3);
        let arrived = |offset| Some(CcfbArrival { ecn: 0, offset });
        let fb = CongestionControlFeedback {
            sender_ssrc: 9,
            // The RTX stream first, then media with 11 lost; an unknown stream is ignored.
            blocks: vec![
                CcfbBlock {
                    media_ssrc: 2,
                    begin_seq: 500,
                    reports: vec![arrived(512)],
                },
                CcfbBlock {
                    media_ssrc: 1,
                    begin_seq: 10,
                    reports: vec![arrived(1024), None],
                },
                CcfbBlock {
                    media_ssrc: 3,
                    begin_seq: 0,
                    reports: vec![arrived(0)],
                },
            ],
            report_timestamp: 10 << 16, // 10 s
        };
        let mut out = Vec::new();
        h.on_ccfb(&fb, &mut out);
        let got: Vec<_> = out.iter().map(|r| (r.send_time, r.arrival_us)).collect();
        let at = |ms| start + Duration::from_millis(ms);
        assert_eq!(
            got,
            [
                (at(7), Some(9_000_000)),
                (at(8), Some(9_500_000)),
                (at(9), None)
            ]
        );
        // Received packets leave the index; the lost one stays, reported once.
        assert_eq!(h.indexed_len(), 1);
        out.clear();
        h.on_ccfb(&fb, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn the_rtp_index_never_outgrows_the_history() {
        let start = t0();
        let mut h = SendHistory::default();
        for i in 0..(HISTORY_PACKETS as u32 + 500) {
            let seq = i as u16;
            h.on_sent(seq, 100, start + Duration::from_micros(u64::from(i)), None);
            h.index_rtp(seq, i % 3, seq);
        }
        assert!(h.len() <= HISTORY_PACKETS);
        assert!(h.indexed_len() <= h.len());
    }

    #[test]
    fn sequence_and_reference_time_unwrap_across_their_wraps() {
        assert_eq!(unwrap_near(65_535, 0), 65_536);
        assert_eq!(unwrap_near(65_536, 65_535), 65_535);
        assert_eq!(unwrap_reference(0x00ff_fffe, 1), 0x0100_0001);
        assert_eq!(unwrap_reference(0x0100_0001, 0x00ff_fffe), 0x00ff_fffe);
    }
}
