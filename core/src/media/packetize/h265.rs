//! H.265 over RTP (RFC 7798): single NAL unit packets, aggregation packets (AP) and
//! fragmentation units (FU).
//!
//! Frames are Annex B byte streams. The packetizer drops access unit delimiters and filler
//! data, keeps the latest VPS, SPS and PPS and puts them before every IRAP picture that
//! comes without them. The depacketizer writes an Annex B stream with 4-byte start codes.
//!
//! Not implemented: decoding order numbers (DONL/DOND, used only when
//! `sprop-max-don-diff` > 0) and PACI packets (type 50, rejected as unsupported).

use super::nal::{START_CODE, aggregated_units, first_slice_bit, split_annex_b};
use super::{DepacketizeError, Depacketizer, PacketizeError, Packetizer};

const AP: u8 = 48;
const FU: u8 = 49;
const VPS: u8 = 32;
const SPS: u8 = 33;
const PPS: u8 = 34;
const AUD: u8 = 35;
const FILLER: u8 = 38;
const PREFIX_SEI: u8 = 39;

fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| (b >> 1) & 0x3f)
}

fn is_irap(t: u8) -> bool {
    (16..=21).contains(&t)
}

/// Splits H.265 Annex B access units into RTP payloads.
#[derive(Debug, Clone, Default)]
pub struct H265Packetizer {
    /// The latest VPS, SPS and PPS, by `type - 32`.
    parameter_sets: [Option<Vec<u8>>; 3],
}

impl H265Packetizer {
    /// A packetizer with no parameter set seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn units<'a>(&'a mut self, frame: &'a [u8]) -> Vec<&'a [u8]> {
        let mut units: Vec<&[u8]> = Vec::new();
        let mut seen = [false; 3];
        for nal in split_annex_b(frame) {
            if nal.len() < 2 {
                continue; // not even a NAL unit header
            }
            let t = nal_type(nal);
            if t == AUD || t == FILLER {
                continue;
            }
            if (VPS..=PPS).contains(&t) {
                seen[usize::from(t - VPS)] = true;
                self.parameter_sets[usize::from(t - VPS)] = Some(nal.to_vec());
            }
            units.push(nal);
        }
        if let Some(at) = units.iter().position(|n| is_irap(nal_type(n))) {
            let missing = self
                .parameter_sets
                .iter()
                .zip(seen)
                .filter_map(|(set, seen)| set.as_deref().filter(|_| !seen));
            units.splice(at..at, missing);
        }
        units
    }
}

impl Packetizer for H265Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
    ) -> Result<Vec<Vec<u8>>, PacketizeError> {
        let fu_room = super::room_after(3, max_payload)?;
        let units = self.units(frame);
        let mut out = Vec::new();
        let mut i = 0;
        while i < units.len() {
            let count = aggregatable(&units[i..], max_payload);
            match count {
                0 => fragment(units[i], fu_room, &mut out),
                1 => out.push(units[i].to_vec()),
                _ => out.push(aggregate(&units[i..i + count])),
            }
            i += count.max(1);
        }
        Ok(out)
    }
}

/// How many leading units fit in one AP of `max_payload` bytes (1 if only the first fits as
/// a single NAL unit packet, 0 if even that does not).
fn aggregatable(units: &[&[u8]], max_payload: usize) -> usize {
    if units[0].len() > max_payload {
        return 0;
    }
    let mut len = 2;
    let mut count = 0;
    for nal in units {
        if nal.len() > usize::from(u16::MAX) || len + 2 + nal.len() > max_payload {
            break;
        }
        len += 2 + nal.len();
        count += 1;
    }
    count.max(1)
}

/// An AP of `units` (RFC 7798 §4.4.2): F is the OR, LayerId and TID the lowest of theirs.
fn aggregate(units: &[&[u8]]) -> Vec<u8> {
    let f = units.iter().fold(0, |acc, n| acc | (n[0] & 0x80));
    let layer = units
        .iter()
        .map(|n| (u16::from(n[0] & 1) << 5) | u16::from(n[1] >> 3))
        .min()
        .unwrap_or(0);
    let tid = units.iter().map(|n| n[1] & 7).min().unwrap_or(1);
    let mut p = vec![
        f | (AP << 1) | (layer >> 5) as u8,
        ((layer as u8 & 0x1f) << 3) | tid,
    ];
    for nal in units {
        p.extend_from_slice(&(nal.len() as u16).to_be_bytes());
        p.extend_from_slice(nal);
    }
    p
}

/// Splits one NAL unit into FUs (RFC 7798 §4.4.3) of at most `room` bytes of data each.
fn fragment(nal: &[u8], room: usize, out: &mut Vec<Vec<u8>>) {
    let t = nal_type(nal);
    let header = [(nal[0] & 0x81) | (FU << 1), nal[1]];
    let body = &nal[2..];
    let chunks = body.len().div_ceil(room);
    for (i, chunk) in body.chunks(room).enumerate() {
        let mut fu = t;
        if i == 0 {
            fu |= 0x80;
        }
        if i + 1 == chunks {
            fu |= 0x40;
        }
        let mut p = Vec::with_capacity(3 + chunk.len());
        p.extend_from_slice(&[header[0], header[1], fu]);
        p.extend_from_slice(chunk);
        out.push(p);
    }
}

/// Turns H.265 RTP payloads back into an Annex B stream.
#[derive(Debug, Clone, Default)]
pub struct H265Depacketizer {
    in_fragment: bool,
}

impl Depacketizer for H265Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError> {
        if payload.len() < 3 {
            return Err(DepacketizeError::Truncated);
        }
        match nal_type(payload) {
            AP => {
                for nal in aggregated_units(&payload[2..], 2) {
                    out.extend_from_slice(&START_CODE);
                    out.extend_from_slice(nal?);
                }
                Ok(())
            }
            FU => self.fu(payload, out),
            50..=63 => Err(DepacketizeError::Unsupported("PACI or reserved type")),
            _ => {
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(payload);
                Ok(())
            }
        }
    }

    fn reset(&mut self) {
        self.in_fragment = false;
    }

    fn is_frame_start(&self, payload: &[u8]) -> bool {
        match nal_type(payload) {
            AP => aggregated_units(payload.get(2..).unwrap_or_default(), 2)
                .next()
                .is_some_and(|n| n.is_ok_and(starts_picture)),
            FU => match payload {
                [_, _, fu, first, ..] if fu & 0x80 != 0 => {
                    starts_picture_parts(fu & 0x3f, *first & 0x80 != 0)
                }
                _ => false,
            },
            _ => payload.len() >= 3 && starts_picture(payload),
        }
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        let key = |t: u8| is_irap(t) || t == VPS || t == SPS;
        match nal_type(payload) {
            AP => aggregated_units(payload.get(2..).unwrap_or_default(), 2)
                .any(|n| n.is_ok_and(|n| key(nal_type(n)))),
            FU => payload
                .get(2)
                .is_some_and(|fu| fu & 0x80 != 0 && key(fu & 0x3f)),
            t => payload.len() >= 2 && key(t),
        }
    }
}

impl H265Depacketizer {
    fn fu(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError> {
        if payload.len() < 4 {
            return Err(DepacketizeError::Truncated);
        }
        let fu = payload[2];
        if fu & 0x80 != 0 {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(&[(payload[0] & 0x81) | ((fu & 0x3f) << 1), payload[1]]);
            self.in_fragment = true;
        } else if !self.in_fragment {
            return Err(DepacketizeError::MissingFragmentStart);
        }
        out.extend_from_slice(&payload[3..]);
        if fu & 0x40 != 0 {
            self.in_fragment = false;
        }
        Ok(())
    }
}

fn starts_picture(nal: &[u8]) -> bool {
    starts_picture_parts(nal_type(nal), first_slice_bit(nal, 2))
}

/// Whether a NAL unit of type `t` begins a picture: parameter sets, AUD, prefix SEI, or a
/// slice segment with `first_slice_segment_in_pic_flag` set.
fn starts_picture_parts(t: u8, first_slice: bool) -> bool {
    match t {
        VPS | SPS | PPS | AUD | PREFIX_SEI => true,
        0..=31 => first_slice,
        _ => false,
    }
}
