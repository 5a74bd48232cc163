//! Sender side of loss recovery: a bounded history of the RTP packets one outbound stream
//! sent, so that NACKed ones (RFC 4585 §6.2.1) can be sent again, and the RTX payload
//! format (RFC 4588 §4) that carries them on their own SSRC.
//!
//! The history holds the last [`HISTORY_PACKETS`] packets (a slot per sequence number
//! modulo that size) and at most [`HISTORY_BYTES`] of them, each for at least one second at
//! the rates video uses (512 packets is about 3 s at 1.5 Mbit/s). A packet is resent at
//! most once per round-trip time, so that the NACK retries of one loss do not each cost a
//! copy, and retransmissions are capped in rate ([`RetransmitBudget`]).

use std::time::{Duration, Instant};

/// Packets kept per stream (a power of two).
pub(crate) const HISTORY_PACKETS: usize = 1024;
/// Bytes of packets kept per stream.
pub(crate) const HISTORY_BYTES: usize = 2 << 20;

#[derive(Debug, Clone)]
struct Sent {
    seq: u16,
    /// The plaintext packet as first sent (header, extensions, payload).
    packet: Vec<u8>,
    header_len: usize,
    resent_at: Option<Instant>,
}

/// A packet to send again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resend<'a> {
    /// The whole plaintext packet as first sent.
    pub packet: &'a [u8],
    /// Length of its header.
    pub header_len: usize,
}

/// The sent-packet history of one outbound stream. See the [module documentation](self).
#[derive(Debug, Clone)]
pub(crate) struct SendHistory {
    slots: Vec<Option<Sent>>,
    bytes: usize,
}

impl Default for SendHistory {
    fn default() -> Self {
        Self {
            slots: (0..HISTORY_PACKETS).map(|_| None).collect(),
            bytes: 0,
        }
    }
}

impl SendHistory {
    /// Remembers a packet just sent (replacing the one `HISTORY_PACKETS` sequence numbers
    /// older). Past the byte limit the packet is not kept.
    pub fn insert(&mut self, seq: u16, packet: &[u8], header_len: usize) {
        let slot = &mut self.slots[usize::from(seq) % HISTORY_PACKETS];
        if let Some(old) = slot.take() {
            self.bytes -= old.packet.len();
        }
        if self.bytes + packet.len() > HISTORY_BYTES {
            return;
        }
        self.bytes += packet.len();
        *slot = Some(Sent {
            seq,
            packet: packet.to_vec(),
            header_len,
            resent_at: None,
        });
    }

    /// The packet `seq` to send again at `now`, unless it is no longer kept or was resent
    /// less than `rtt` ago (that request crossed the retransmission).
    pub fn resend(&mut self, now: Instant, seq: u16, rtt: Duration) -> Option<Resend<'_>> {
        let sent = self.slots[usize::from(seq) % HISTORY_PACKETS]
            .as_mut()
            .filter(|s| s.seq == seq)?;
        if sent
            .resent_at
            .is_some_and(|at| now.saturating_duration_since(at) < rtt)
        {
            return None;
        }
        sent.resent_at = Some(now);
        Some(Resend {
            packet: &sent.packet,
            header_len: sent.header_len,
        })
    }

    /// The packet `seq` as first sent, if kept (a probe sends it again as padding).
    pub fn get(&self, seq: u16) -> Option<&[u8]> {
        self.slots[usize::from(seq) % HISTORY_PACKETS]
            .as_ref()
            .filter(|s| s.seq == seq)
            .map(|s| &s.packet[..])
    }

    /// Bytes held.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A token bucket that caps retransmissions at a share of what the stream sends: it earns
/// [`RetransmitBudget::SHARE`] of every byte sent (at most [`RetransmitBudget::BURST`]
/// banked) and each retransmission spends its size. libwebrtc and str0m cap RTX in the
/// same spirit, so that NACK storms cannot multiply the sending rate.
#[derive(Debug, Clone)]
pub(crate) struct RetransmitBudget {
    tokens: usize,
}

impl Default for RetransmitBudget {
    fn default() -> Self {
        Self {
            tokens: Self::BURST,
        }
    }
}

impl RetransmitBudget {
    /// Share of the sent bytes that retransmissions may use, in percent.
    pub const SHARE: usize = 50;
    /// The most bytes banked (and the start).
    pub const BURST: usize = 64 << 10;

    /// `len` bytes of media were sent.
    pub fn earn(&mut self, len: usize) {
        self.tokens = (self.tokens + len * Self::SHARE / 100).min(Self::BURST);
    }

    /// Spends `len` bytes if the budget has them.
    pub fn spend(&mut self, len: usize) -> bool {
        if self.tokens < len {
            return false;
        }
        self.tokens -= len;
        true
    }
}

/// The RTX payload (RFC 4588 §4): the original sequence number, then the original payload.
pub(crate) fn rtx_payload(original_seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 2);
    out.extend_from_slice(&original_seq.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits an RTX payload into the original sequence number and payload; `None` for a
/// payload too short to hold the OSN (padding-only probes).
pub(crate) fn split_rtx_payload(payload: &[u8]) -> Option<(u16, &[u8])> {
    let (osn, rest) = payload.split_first_chunk::<2>()?;
    Some((u16::from_be_bytes(*osn), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    const RTT: Duration = Duration::from_millis(50);

    #[test]
    fn a_kept_packet_is_resent_at_most_once_per_rtt() {
        let now = t0();
        let mut h = SendHistory::default();
        h.insert(7, b"hdr+payload", 3);
        let r = h.resend(now, 7, RTT).expect("kept");
        assert_eq!((r.packet, r.header_len), (&b"hdr+payload"[..], 3));
        assert!(h.resend(now + RTT / 2, 7, RTT).is_none());
        assert!(h.resend(now + RTT, 7, RTT).is_some());
        assert!(h.resend(now, 8, RTT).is_none());
    }

    #[test]
    fn the_history_forgets_old_packets_and_stays_bounded() {
        let now = t0();
        let mut h = SendHistory::default();
        let packet = vec![0u8; 1200];
        for seq in 0..5000u16 {
            h.insert(seq, &packet, 12);
        }
        assert!(h.resend(now, 100, RTT).is_none(), "overwritten");
        assert!(h.resend(now, 4999, RTT).is_some());
        assert_eq!(h.bytes(), HISTORY_PACKETS * 1200);
        let big = vec![0u8; 64 << 10];
        for seq in 0..5000u16 {
            h.insert(seq, &big, 12);
            assert!(h.bytes() <= HISTORY_BYTES);
        }
    }

    #[test]
    fn rtx_payload_round_trips_and_short_payloads_are_probes() {
        let p = rtx_payload(0xabcd, b"media");
        assert_eq!(&p[..2], &[0xab, 0xcd]);
        assert_eq!(split_rtx_payload(&p), Some((0xabcd, &b"media"[..])));
        assert_eq!(split_rtx_payload(&[1]), None);
    }

    #[test]
    fn the_budget_caps_retransmissions_at_a_share_of_the_rate() {
        let mut b = RetransmitBudget::default();
        assert!(b.spend(RetransmitBudget::BURST));
        assert!(!b.spend(1));
        b.earn(1000);
        assert!(b.spend(1000 * RetransmitBudget::SHARE / 100));
        assert!(!b.spend(1));
    }
}
