//! AV1 over RTP (AOM "RTP Payload Format for AV1", v1.0): the aggregation header, OBU
//! elements with LEB128 lengths, OBU fragmentation across packets, and the N bit that marks
//! the first packet of a coded video sequence.
//!
//! Frames (temporal units) are given and returned in the low-overhead bitstream format:
//! OBUs each with `obu_has_size_field` set (an OBU without it extends to the end of the
//! frame). The packetizer removes temporal delimiters, tile lists and padding (§5), clears
//! the size fields (the element lengths replace them), remembers the latest sequence header
//! and puts it before every key frame that comes without one, and sets N on the first
//! packet of a temporal unit that carries a sequence header. Every element has its length
//! (W = 0). The depacketizer writes every OBU back with its size field.
//!
//! Not implemented: the dependency descriptor header extension (SVC structure), which
//! belongs to the RTP header layer.

use super::{DepacketizeError, Depacketizer, PacketizeError, Packetizer, SvcLayer};

const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_FRAME_HEADER: u8 = 3;
const OBU_METADATA: u8 = 5;
const OBU_FRAME: u8 = 6;
const OBU_TILE_LIST: u8 = 8;
const OBU_PADDING: u8 = 15;

const Z: u8 = 0x80;
const Y: u8 = 0x40;
const N: u8 = 0x08;

/// Reads a LEB128 value (at most 8 bytes, AV1 §4.10.5): `(value, length)`.
pub fn read_leb128(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in data.iter().take(8).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Appends `value` as LEB128 with as few bytes as it needs.
pub fn write_leb128(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn leb128_len(value: usize) -> usize {
    (usize::BITS - value.max(1).leading_zeros()).div_ceil(7) as usize
}

/// One OBU of a low-overhead stream: header (and extension) bytes, and payload.
struct Obu<'a> {
    header: &'a [u8],
    payload: &'a [u8],
}

impl Obu<'_> {
    fn kind(&self) -> u8 {
        (self.header[0] >> 3) & 0x0f
    }
}

/// Splits a low-overhead OBU stream.
fn parse_obus(mut data: &[u8]) -> Result<Vec<Obu<'_>>, PacketizeError> {
    let bad = PacketizeError::MalformedFrame;
    let mut obus = Vec::new();
    while let Some(&h) = data.first() {
        let header_len = if h & 0x04 != 0 { 2 } else { 1 };
        if h & 0x80 != 0 || data.len() < header_len {
            return Err(bad("bad OBU header"));
        }
        let (header, rest) = data.split_at(header_len);
        let (payload, rest) = if h & 0x02 != 0 {
            let (size, n) = read_leb128(rest).ok_or(bad("bad OBU size"))?;
            let size = usize::try_from(size).map_err(|_| bad("OBU size"))?;
            if rest.len() - n < size {
                return Err(bad("OBU longer than the frame"));
            }
            rest[n..].split_at(size)
        } else {
            (rest, &rest[rest.len()..])
        };
        obus.push(Obu { header, payload });
        data = rest;
    }
    Ok(obus)
}

/// Whether a frame or frame header OBU payload starts a key frame, given whether the
/// sequence uses `reduced_still_picture_header` (AV1 §5.9.2).
fn is_key_frame_header(payload: &[u8], reduced_still_picture: bool) -> bool {
    if reduced_still_picture {
        return true;
    }
    // show_existing_frame (1 bit) = 0, then frame_type (2 bits) = KEY_FRAME (0).
    payload.first().is_some_and(|b| b & 0xe0 == 0)
}

/// Splits AV1 temporal units into RTP payloads.
#[derive(Debug, Clone, Default)]
pub struct Av1Packetizer {
    sequence_header: Option<Vec<u8>>,
}

impl Av1Packetizer {
    /// A packetizer with no sequence header seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The OBU elements to send (header with the size flag cleared, then payload), and
    /// whether a sequence header is among them.
    fn elements(&mut self, frame: &[u8]) -> Result<(Vec<Vec<u8>>, bool), PacketizeError> {
        let obus = parse_obus(frame)?;
        let mut elements = Vec::with_capacity(obus.len() + 1);
        let mut has_sequence_header = false;
        for obu in &obus {
            let kind = obu.kind();
            if matches!(kind, OBU_TEMPORAL_DELIMITER | OBU_TILE_LIST | OBU_PADDING) {
                continue;
            }
            let mut e = Vec::with_capacity(obu.header.len() + obu.payload.len());
            e.push(obu.header[0] & !0x02);
            e.extend_from_slice(&obu.header[1..]);
            e.extend_from_slice(obu.payload);
            if kind == OBU_SEQUENCE_HEADER {
                has_sequence_header = true;
                self.sequence_header = Some(e.clone());
            } else if !has_sequence_header
                && matches!(kind, OBU_FRAME | OBU_FRAME_HEADER)
                && let Some(seq) = &self.sequence_header
            {
                let reduced = seq.get(1).is_some_and(|b| b & 0x08 != 0);
                if is_key_frame_header(obu.payload, reduced) {
                    elements.push(seq.clone());
                    has_sequence_header = true;
                }
            }
            elements.push(e);
        }
        Ok((elements, has_sequence_header))
    }
}

impl Packetizer for Av1Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
    ) -> Result<Vec<Vec<u8>>, PacketizeError> {
        // Room for the aggregation header, a length byte and one byte of data.
        super::room_after(2, max_payload)?;
        let (elements, new_sequence) = self.elements(frame)?;
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut packet = vec![if new_sequence { N } else { 0 }];
        for element in &elements {
            let mut rest = &element[..];
            while !rest.is_empty() {
                let free = max_payload - packet.len();
                let whole = leb128_len(rest.len()) + rest.len();
                if whole <= free {
                    write_leb128(rest.len() as u64, &mut packet);
                    packet.extend_from_slice(rest);
                    break;
                }
                let piece = free.saturating_sub(leb128_len(free));
                if piece == 0 {
                    out.push(std::mem::replace(&mut packet, vec![0]));
                    continue;
                }
                write_leb128(piece as u64, &mut packet);
                packet.extend_from_slice(&rest[..piece]);
                rest = &rest[piece..];
                packet[0] |= Y;
                out.push(std::mem::replace(&mut packet, vec![Z]));
            }
        }
        if packet.len() > 1 {
            out.push(packet);
        }
        Ok(out)
    }
}

/// Turns AV1 RTP payloads back into a low-overhead OBU stream.
#[derive(Debug, Clone, Default)]
pub struct Av1Depacketizer {
    /// An OBU element whose fragments are still arriving.
    pending: Vec<u8>,
    in_fragment: bool,
}

impl Depacketizer for Av1Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError> {
        let (&aggregation, body) = payload.split_first().ok_or(DepacketizeError::Truncated)?;
        if aggregation & Z != 0 && !self.in_fragment {
            return Err(DepacketizeError::MissingFragmentStart);
        }
        if aggregation & Z == 0 && self.in_fragment {
            self.reset();
            return Err(DepacketizeError::Malformed("fragment not continued"));
        }
        let count = elements(aggregation, body).count();
        for (i, element) in elements(aggregation, body).enumerate() {
            let element = element?;
            let first = i == 0;
            let last = i + 1 == count;
            if first && aggregation & Z != 0 {
                self.pending.extend_from_slice(element);
            } else {
                self.pending.clear();
                self.pending.extend_from_slice(element);
            }
            self.in_fragment = last && aggregation & Y != 0;
            if !self.in_fragment {
                write_obu(&self.pending, out)?;
                self.pending.clear();
            }
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.pending.clear();
        self.in_fragment = false;
    }

    fn is_frame_start(&self, payload: &[u8]) -> bool {
        let Some((&aggregation, body)) = payload.split_first() else {
            return false;
        };
        if aggregation & Z != 0 {
            return false;
        }
        let first = elements(aggregation, body).next();
        first.is_some_and(|e| {
            e.is_ok_and(|e| {
                let kind = (e[0] >> 3) & 0x0f;
                matches!(
                    kind,
                    OBU_SEQUENCE_HEADER
                        | OBU_TEMPORAL_DELIMITER
                        | OBU_FRAME_HEADER
                        | OBU_METADATA
                        | OBU_FRAME
                )
            })
        })
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        payload.first().is_some_and(|a| a & (N | Z) == N)
    }

    fn svc_layer(&self, payload: &[u8]) -> Option<SvcLayer> {
        svc_layer(payload)
    }
}

/// The layer ids of the first OBU in `payload` that starts here (not the continuation of
/// a fragment) and has an extension header (AV1 §5.3.3: `temporal_id`, `spatial_id`).
pub(super) fn svc_layer(payload: &[u8]) -> Option<SvcLayer> {
    let (&aggregation, body) = payload.split_first()?;
    let skip = usize::from(aggregation & Z != 0);
    elements(aggregation, body)
        .skip(skip)
        .map_while(Result::ok)
        .find_map(|e| match e {
            [header, extension, ..] if header & 0x04 != 0 => Some(SvcLayer {
                spatial: (extension >> 3) & 0x03,
                temporal: extension >> 5,
                switching_up: None,
                inter_layer_dependency: None,
            }),
            _ => None,
        })
}

/// The OBU elements of a payload body: with W = 0 each has a length; otherwise W elements,
/// all but the last with a length.
fn elements(
    aggregation: u8,
    mut body: &[u8],
) -> impl Iterator<Item = Result<&[u8], DepacketizeError>> {
    let w = usize::from((aggregation >> 4) & 0x03);
    let mut index = 0;
    std::iter::from_fn(move || {
        if body.is_empty() || (w != 0 && index == w) {
            return None;
        }
        index += 1;
        let element = if w != 0 && index == w {
            std::mem::take(&mut body)
        } else {
            let Some((len, n)) = read_leb128(body) else {
                body = &[];
                return Some(Err(DepacketizeError::Truncated));
            };
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len == 0 || body.len() - n < len {
                body = &[];
                return Some(Err(DepacketizeError::Truncated));
            }
            let (element, rest) = body[n..].split_at(len);
            body = rest;
            element
        };
        Some(Ok(element))
    })
}

/// Writes an OBU element (header without size field, payload) as an OBU with its size.
fn write_obu(element: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError> {
    let header = *element.first().ok_or(DepacketizeError::Truncated)?;
    if header & 0x80 != 0 {
        return Err(DepacketizeError::Malformed("OBU forbidden bit"));
    }
    let header_len = if header & 0x04 != 0 { 2 } else { 1 };
    if element.len() < header_len {
        return Err(DepacketizeError::Truncated);
    }
    if header & 0x02 != 0 {
        // The sender kept the size field: the element is already a whole OBU.
        out.extend_from_slice(element);
        return Ok(());
    }
    out.push(header | 0x02);
    out.extend_from_slice(&element[1..header_len]);
    write_leb128((element.len() - header_len) as u64, out);
    out.extend_from_slice(&element[header_len..]);
    Ok(())
}
