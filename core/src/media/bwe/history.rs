//! What the estimator needs to know of the packets it sent: the transport-wide sequence
//! number, size, send time and probe cluster of each, kept until feedback covers it, and the
//! matching of transport-cc feedback to them.

use crate::rtp::rtcp::TransportCc;
use std::collections::VecDeque;
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
    /// Bytes sent, ever (for the sent-rate figures).
    pub bytes_sent: u64,
}

/// The extended value of a 16-bit sequence number nearest to `anchor`.
fn unwrap_near(anchor: i64, seq: u16) -> i64 {
    let diff = i64::from(seq.wrapping_sub(anchor as u16) as i16);
    anchor + diff
}

/// The extended reference time nearest to `anchor` (a 24-bit signed field).
fn unwrap_reference(anchor: i64, value: i32) -> i64 {
    let raw = i64::from(value) & 0x00ff_ffff;
    let delta = (raw - anchor).rem_euclid(1 << 24);
    let delta = if delta >= 1 << 23 {
        delta - (1 << 24)
    } else {
        delta
    };
    anchor + delta
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
            self.first = ext;
        }
        let index = (ext - self.first) as usize;
        while self.packets.len() <= index {
            self.packets.push_back(None);
        }
        self.packets[index] = Some(SentPacket {
            size: u32::try_from(size).unwrap_or(u32::MAX),
            send_time: now,
            cluster,
            reported: false,
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
            self.packets.pop_front();
            self.first += 1;
        }
    }

    /// Packets kept (for bounds checks).
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Matches a feedback message to what we sent: one result per reported packet we still
    /// know and had not seen reported, in sequence order. A packet reported lost and then
    /// received by a later message is given again, as received.
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
            let ext = base + i as i64;
            let arrival = delta.map(|d| {
                arrival_us += d * 250;
                arrival_us
            });
            let Some(slot) = ext
                .checked_sub(self.first)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.packets.get_mut(i))
            else {
                continue;
            };
            let Some(p) = slot.as_mut() else { continue };
            if p.reported && arrival.is_none() {
                continue;
            }
            p.reported = true;
            out.push(PacketResult {
                size: p.size,
                send_time: p.send_time,
                arrival_us: arrival,
                cluster: p.cluster,
            });
            if arrival.is_some() {
                // Received: never given again.
                *slot = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_and_reference_time_unwrap_across_their_wraps() {
        assert_eq!(unwrap_near(65_535, 0), 65_536);
        assert_eq!(unwrap_near(65_536, 65_535), 65_535);
        assert_eq!(unwrap_reference(0x00ff_fffe, 1), 0x0100_0001);
        assert_eq!(unwrap_reference(0x0100_0001, 0x00ff_fffe), 0x00ff_fffe);
    }
}
