//! Transport-wide congestion control feedback (RTPFB, FMT 15,
//! draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
//!
//! Packet statuses travel in 16-bit chunks: run-length chunks (one symbol repeated up to
//! 8,191 times) and status-vector chunks (14 one-bit or 7 two-bit symbols), followed by
//! one receive delta per received packet (one byte for 0..=255 × 250 µs, else two bytes
//! signed). Reading accepts every chunk form in any order; writing chooses chunks greedily
//! so that long runs become run-length chunks and mixed stretches vectors.

use super::Reader;
use crate::rtp::RtpError;

/// Most packet statuses one feedback message can carry (16-bit status count).
pub const MAX_STATUSES: usize = 0xffff;
/// Longest run a run-length chunk can describe.
const MAX_RUN: usize = 0x1fff;

const NOT_RECEIVED: u8 = 0;
const SMALL_DELTA: u8 = 1;
const LARGE_DELTA: u8 = 2;

/// Transport-wide CC feedback: which transport-wide sequence numbers arrived, and when.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransportCc {
    /// The receiver sending feedback.
    pub sender_ssrc: u32,
    /// The media source (Chromium sends the SSRC of one of the reported streams).
    pub media_ssrc: u32,
    /// Transport-wide sequence number of the first packet reported.
    pub base_seq: u16,
    /// Reference time in 64 ms units, a 24-bit signed value (wrapped to 24 bits when
    /// written).
    pub reference_time: i32,
    /// Feedback packet counter, to detect lost feedback.
    pub fb_pkt_count: u8,
    /// One entry per sequence number from `base_seq` on, in order: the sequence number and
    /// the receive delta in 250 µs units (to the previous received packet, or to the
    /// reference time for the first), `None` when not received. Writing uses the order of
    /// entries (sequence numbers are implied as `base_seq + index`), writes at most
    /// 65,535 entries and clamps deltas to the 16-bit signed range.
    pub packets: Vec<(u16, Option<i64>)>,
}

fn symbol(delta: Option<i64>) -> u8 {
    match delta {
        None => NOT_RECEIVED,
        Some(0..=255) => SMALL_DELTA,
        Some(_) => LARGE_DELTA,
    }
}

/// The next chunk for `symbols` (non-empty) and how many symbols it covers.
fn next_chunk(symbols: &[u8]) -> (u16, usize) {
    let first = symbols[0];
    let run = symbols
        .iter()
        .take(MAX_RUN)
        .take_while(|&&s| s == first)
        .count();
    let one_bit = symbols.len().min(14);
    if run < one_bit && symbols[..one_bit].iter().all(|&s| s <= SMALL_DELTA) {
        let bits = symbols[..one_bit]
            .iter()
            .enumerate()
            .fold(0u16, |acc, (i, &s)| acc | (u16::from(s) << (13 - i)));
        return (0x8000 | bits, one_bit);
    }
    let two_bit = symbols.len().min(7);
    if run >= two_bit {
        return ((u16::from(first) << 13) | run as u16, run);
    }
    let bits = symbols[..two_bit]
        .iter()
        .enumerate()
        .fold(0u16, |acc, (i, &s)| acc | (u16::from(s) << (12 - 2 * i)));
    (0xc000 | bits, two_bit)
}

/// Appends the symbols a chunk describes (at most `limit` of them) to `out`.
fn read_chunk(chunk: u16, limit: usize, out: &mut Vec<u8>) {
    if chunk & 0x8000 == 0 {
        let symbol = ((chunk >> 13) & 3) as u8;
        let run = usize::from(chunk & 0x1fff).min(limit);
        out.extend(std::iter::repeat_n(symbol, run));
    } else if chunk & 0x4000 == 0 {
        out.extend((0..14.min(limit)).map(|i| ((chunk >> (13 - i)) & 1) as u8));
    } else {
        out.extend((0..7.min(limit)).map(|i| ((chunk >> (12 - 2 * i)) & 3) as u8));
    }
}

impl TransportCc {
    fn written(&self) -> &[(u16, Option<i64>)] {
        &self.packets[..self.packets.len().min(MAX_STATUSES)]
    }

    fn symbols(&self) -> Vec<u8> {
        self.written().iter().map(|(_, d)| symbol(*d)).collect()
    }

    /// Number of received packets reported.
    pub fn received_count(&self) -> usize {
        self.packets.iter().filter(|(_, d)| d.is_some()).count()
    }

    /// The packet status count a message body claims (0 if too short to say; reading it
    /// then fails anyway).
    pub(super) fn claimed_statuses(body: &[u8]) -> usize {
        body.get(10..12).map_or(0, |count| {
            usize::from(u16::from_be_bytes([count[0], count[1]]))
        })
    }

    pub(super) fn read(body: &[u8]) -> Result<Self, RtpError> {
        let mut r = Reader::new(body);
        let sender_ssrc = r.u32()?;
        let media_ssrc = r.u32()?;
        let base_seq = r.u16()?;
        let count = usize::from(r.u16()?);
        let word = r.u32()?;
        let mut symbols = Vec::new();
        while symbols.len() < count {
            let chunk = r.u16()?;
            read_chunk(chunk, count - symbols.len(), &mut symbols);
        }
        let mut packets = Vec::with_capacity(count);
        for (i, &s) in symbols.iter().enumerate() {
            let delta = match s {
                NOT_RECEIVED => None,
                SMALL_DELTA => Some(i64::from(r.u8()?)),
                LARGE_DELTA => Some(i64::from(r.u16()? as i16)),
                _ => return Err(RtpError::Malformed("reserved TWCC status symbol")),
            };
            packets.push((base_seq.wrapping_add(i as u16), delta));
        }
        // What remains is padding.
        Ok(Self {
            sender_ssrc,
            media_ssrc,
            base_seq,
            reference_time: (word as i32) >> 8,
            fb_pkt_count: word as u8,
            packets,
        })
    }

    pub(super) fn body_len(&self) -> usize {
        let symbols = self.symbols();
        let mut chunks = 0;
        let mut at = 0;
        while at < symbols.len() {
            at += next_chunk(&symbols[at..]).1;
            chunks += 1;
        }
        let deltas: usize = symbols.iter().map(|&s| usize::from(s)).sum();
        (16 + 2 * chunks + deltas).next_multiple_of(4)
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let symbols = self.symbols();
        out.extend_from_slice(&self.sender_ssrc.to_be_bytes());
        out.extend_from_slice(&self.media_ssrc.to_be_bytes());
        out.extend_from_slice(&self.base_seq.to_be_bytes());
        out.extend_from_slice(&(symbols.len() as u16).to_be_bytes());
        let word = ((self.reference_time as u32) << 8) | u32::from(self.fb_pkt_count);
        out.extend_from_slice(&word.to_be_bytes());
        let mut at = 0;
        while at < symbols.len() {
            let (chunk, used) = next_chunk(&symbols[at..]);
            out.extend_from_slice(&chunk.to_be_bytes());
            at += used;
        }
        for &(_, delta) in self.written() {
            match delta {
                None => {}
                Some(d @ 0..=255) => out.push(d as u8),
                Some(d) => {
                    let d = d.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16;
                    out.extend_from_slice(&d.to_be_bytes());
                }
            }
        }
        let padded = (out.len() - start).next_multiple_of(4);
        out.resize(start + padded, 0);
    }
}
