//! H.264 over RTP (RFC 6184): single NAL unit packets, STAP-A aggregation and FU-A
//! fragmentation; packetization mode 0 (single NAL unit only) and 1 (non-interleaved).
//!
//! Frames are Annex B byte streams. The packetizer drops access unit delimiters and filler
//! data, keeps the latest SPS and PPS it saw and puts them before every IDR picture that
//! comes without them (so a receiver can join at any keyframe). The depacketizer writes an
//! Annex B stream with 4-byte start codes.
//!
//! Not implemented: interleaved mode 2 (STAP-B, MTAP16/24, FU-B are rejected as
//! unsupported).

use super::nal::{START_CODE, aggregated_units, first_slice_bit, split_annex_b};
use super::{DepacketizeError, Depacketizer, PacketizeError, Packetizer};

const STAP_A: u8 = 24;
const FU_A: u8 = 28;
const IDR: u8 = 5;
const SEI: u8 = 6;
const SPS: u8 = 7;
const PPS: u8 = 8;
const AUD: u8 = 9;
const FILLER: u8 = 12;

/// RFC 6184 §6: which packet types the packetizer may use (the `packetization-mode` fmtp
/// parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PacketizationMode {
    /// Mode 0: one NAL unit per packet, no aggregation or fragmentation.
    SingleNal,
    /// Mode 1: single NAL units, STAP-A and FU-A.
    NonInterleaved,
}

fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| b & 0x1f)
}

/// Splits H.264 Annex B access units into RTP payloads.
#[derive(Debug, Clone)]
pub struct H264Packetizer {
    mode: PacketizationMode,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
}

impl H264Packetizer {
    /// A packetizer using `mode`.
    pub fn new(mode: PacketizationMode) -> Self {
        Self {
            mode,
            sps: None,
            pps: None,
        }
    }

    /// The NAL units to send for `frame`: AUD and filler dropped, SPS/PPS remembered and
    /// inserted before an IDR that lacks them.
    fn units<'a>(&'a mut self, frame: &'a [u8]) -> Vec<&'a [u8]> {
        let mut units: Vec<&[u8]> = Vec::new();
        let (mut saw_sps, mut saw_pps) = (false, false);
        for nal in split_annex_b(frame) {
            match nal_type(nal) {
                AUD | FILLER => continue,
                SPS => {
                    saw_sps = true;
                    self.sps = Some(nal.to_vec());
                }
                PPS => {
                    saw_pps = true;
                    self.pps = Some(nal.to_vec());
                }
                _ => {}
            }
            units.push(nal);
        }
        let idr = units.iter().position(|n| nal_type(n) == IDR);
        if let Some(at) = idr {
            let mut inserted = Vec::new();
            if let (false, Some(sps)) = (saw_sps, self.sps.as_deref()) {
                inserted.push(sps);
            }
            if let (false, Some(pps)) = (saw_pps, self.pps.as_deref()) {
                inserted.push(pps);
            }
            units.splice(at..at, inserted);
        }
        units
    }
}

impl Packetizer for H264Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
    ) -> Result<Vec<Vec<u8>>, PacketizeError> {
        let mode = self.mode;
        let units = self.units(frame);
        let mut out = Vec::new();
        match mode {
            PacketizationMode::SingleNal => {
                for nal in units {
                    if nal.len() > max_payload {
                        return Err(PacketizeError::UnitTooLarge {
                            len: nal.len(),
                            max_payload,
                        });
                    }
                    out.push(nal.to_vec());
                }
            }
            PacketizationMode::NonInterleaved => {
                let fu_room = super::room_after(2, max_payload)?;
                let mut i = 0;
                while i < units.len() {
                    let before = out.len();
                    let used = aggregate(&units[i..], max_payload, &mut out);
                    if out.len() == before {
                        fragment(units[i], fu_room, &mut out);
                    }
                    i += used;
                }
            }
        }
        Ok(out)
    }
}

/// Writes a STAP-A of as many leading `units` as fit in `max_payload`, or a single NAL unit
/// packet when only one fits; a unit larger than `max_payload` is left for the caller to
/// fragment. Returns how many units were consumed (at least one).
fn aggregate(units: &[&[u8]], max_payload: usize, out: &mut Vec<Vec<u8>>) -> usize {
    let mut len = 1;
    let mut count = 0;
    for nal in units {
        if nal.len() > usize::from(u16::MAX) || len + 2 + nal.len() > max_payload {
            break;
        }
        len += 2 + nal.len();
        count += 1;
    }
    match count {
        0 if units[0].len() > max_payload => return 1, // fragmented by the caller
        0 | 1 => out.push(units[0].to_vec()),
        _ => {
            let taken = &units[..count];
            let f_nri = taken.iter().fold(0u8, |acc, n| acc | (n[0] & 0x80))
                | taken.iter().map(|n| n[0] & 0x60).max().unwrap_or(0);
            let mut p = Vec::with_capacity(len);
            p.push(f_nri | STAP_A);
            for nal in taken {
                p.extend_from_slice(&(nal.len() as u16).to_be_bytes());
                p.extend_from_slice(nal);
            }
            out.push(p);
        }
    }
    count.max(1)
}

/// Splits one NAL unit into FU-A payloads of at most `room` bytes of NAL data each.
fn fragment(nal: &[u8], room: usize, out: &mut Vec<Vec<u8>>) {
    let header = nal[0];
    let body = &nal[1..];
    let chunks = body.len().div_ceil(room);
    for (i, chunk) in body.chunks(room).enumerate() {
        let mut fu_header = header & 0x1f;
        if i == 0 {
            fu_header |= 0x80;
        }
        if i + 1 == chunks {
            fu_header |= 0x40;
        }
        let mut p = Vec::with_capacity(2 + chunk.len());
        p.extend_from_slice(&[(header & 0xe0) | FU_A, fu_header]);
        p.extend_from_slice(chunk);
        out.push(p);
    }
}

/// Turns H.264 RTP payloads back into an Annex B stream.
#[derive(Debug, Clone, Default)]
pub struct H264Depacketizer {
    in_fragment: bool,
}

impl Depacketizer for H264Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError> {
        let header = *payload.first().ok_or(DepacketizeError::Truncated)?;
        match header & 0x1f {
            0 => Err(DepacketizeError::Malformed("NAL unit type 0")),
            1..=23 => {
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(payload);
                Ok(())
            }
            STAP_A => {
                for nal in aggregated_units(&payload[1..], 1) {
                    let nal = nal?;
                    out.extend_from_slice(&START_CODE);
                    out.extend_from_slice(nal);
                }
                Ok(())
            }
            FU_A => self.fu_a(payload, out),
            _ => Err(DepacketizeError::Unsupported("STAP-B, MTAP or FU-B")),
        }
    }

    fn reset(&mut self) {
        self.in_fragment = false;
    }

    fn is_frame_start(&self, payload: &[u8]) -> bool {
        match first_nal(payload) {
            Some((nal, 1)) => starts_picture(nal, 1),
            Some((fu, 2)) => fu[1] & 0x80 != 0 && starts_picture(&[fu[1], fu[2]], 1),
            _ => false,
        }
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        let key = |t: u8| t == IDR || t == SPS;
        match payload.first().map(|b| b & 0x1f) {
            Some(STAP_A) => {
                aggregated_units(&payload[1..], 1).any(|n| n.is_ok_and(|n| key(nal_type(n))))
            }
            Some(FU_A) => payload
                .get(1)
                .is_some_and(|h| h & 0x80 != 0 && key(h & 0x1f)),
            Some(t) => key(t),
            None => false,
        }
    }
}

impl H264Depacketizer {
    fn fu_a(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError> {
        if payload.len() < 3 {
            return Err(DepacketizeError::Truncated);
        }
        let fu = payload[1];
        if fu & 0x80 != 0 {
            out.extend_from_slice(&START_CODE);
            out.push((payload[0] & 0xe0) | (fu & 0x1f));
            self.in_fragment = true;
        } else if !self.in_fragment {
            return Err(DepacketizeError::MissingFragmentStart);
        }
        out.extend_from_slice(&payload[2..]);
        if fu & 0x40 != 0 {
            self.in_fragment = false;
        }
        Ok(())
    }
}

/// The first NAL unit a payload carries and the length of its header: 1 for a NAL unit
/// (single or first of a STAP-A), 2 for a FU-A (the slice data follows two bytes).
fn first_nal(payload: &[u8]) -> Option<(&[u8], usize)> {
    match payload.first()? & 0x1f {
        STAP_A => aggregated_units(&payload[1..], 1)
            .next()?
            .ok()
            .map(|n| (n, 1)),
        FU_A if payload.len() >= 3 => Some((payload, 2)),
        1..=23 => Some((payload, 1)),
        _ => None,
    }
}

/// Whether a NAL unit begins a picture: SEI, SPS, PPS or AUD, or a slice whose
/// `first_mb_in_slice` is 0 (its exp-Golomb code is the single bit `1`).
fn starts_picture(nal: &[u8], header_len: usize) -> bool {
    match nal_type(nal) {
        SEI | SPS | PPS | AUD => true,
        1..=5 => first_slice_bit(nal, header_len),
        _ => false,
    }
}
