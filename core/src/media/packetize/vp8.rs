//! VP8 over RTP (RFC 7741): the payload descriptor, a packetizer that splits an encoded
//! frame into RTP payloads, a depacketizer, and keyframe detection on the RTP level (an SFU
//! must know without decoding).
//!
//! The packetizer writes what Chromium writes: the extended descriptor with a 15-bit
//! picture id (`X=1`, `I=1`, `M=1`), `S=1` on the first packet of a frame, partition index 0
//! (the frame is not split at partition boundaries, which RFC 7741 §4.4 allows). The
//! depacketizer reads every descriptor form ([`Vp8Descriptor`]).

use super::{DepacketizeError, Depacketizer, PacketizeError, Packetizer};

/// Length of the descriptor the packetizer writes: required byte, extension byte, and a
/// two-byte picture id.
pub const VP8_DESCRIPTOR_LEN: usize = 4;

/// Splits encoded VP8 frames into RTP payloads, numbering pictures.
#[derive(Debug, Clone)]
pub struct Vp8Packetizer {
    picture_id: u16,
}

impl Vp8Packetizer {
    /// A packetizer whose first picture id is `first_picture_id` (taken modulo 2^15; choose
    /// it at random per stream).
    pub fn new(first_picture_id: u16) -> Self {
        Self {
            picture_id: first_picture_id & 0x7fff,
        }
    }
}

impl Packetizer for Vp8Packetizer {
    /// The payloads of one encoded frame, each at most `max_payload` bytes (descriptor
    /// included, at least [`VP8_DESCRIPTOR_LEN`] + 1).
    fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
    ) -> Result<Vec<Vec<u8>>, PacketizeError> {
        let room = super::room_after(VP8_DESCRIPTOR_LEN, max_payload)?;
        let pid = self.picture_id;
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        let pid = (0x8000 | pid).to_be_bytes(); // M: 15 bits
        Ok(frame
            .chunks(room)
            .enumerate()
            .map(|(i, chunk)| {
                let mut p = Vec::with_capacity(VP8_DESCRIPTOR_LEN + chunk.len());
                let start = if i == 0 { 0x10 } else { 0 };
                p.extend_from_slice(&[0x80 | start, 0x80, pid[0], pid[1]]); // X, S, PID 0; I
                p.extend_from_slice(chunk);
                p
            })
            .collect())
    }
}

/// The fields of a VP8 payload descriptor (RFC 7741 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp8Descriptor {
    /// N: a non-reference frame (may be discarded).
    pub non_reference: bool,
    /// S: the payload starts a partition.
    pub start_of_partition: bool,
    /// PID: the partition index.
    pub partition_index: u8,
    /// The picture id, 7 or 15 bits, if present.
    pub picture_id: Option<u16>,
    /// TL0PICIDX, if present.
    pub tl0_pic_idx: Option<u8>,
    /// TID (temporal layer) and the Y (layer sync) bit, if present.
    pub temporal: Option<(u8, bool)>,
    /// KEYIDX, if present.
    pub key_idx: Option<u8>,
    /// Length of the descriptor in bytes.
    pub len: usize,
}

impl Vp8Descriptor {
    /// Parses the descriptor at the start of `payload`; `None` if it is truncated.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let first = *payload.first()?;
        let mut d = Self {
            non_reference: first & 0x20 != 0,
            start_of_partition: first & 0x10 != 0,
            partition_index: first & 0x07,
            len: 1,
            ..Self::default()
        };
        if first & 0x80 == 0 {
            return Some(d);
        }
        let ext = *payload.get(1)?;
        d.len = 2;
        if ext & 0x80 != 0 {
            let b = *payload.get(2)?;
            if b & 0x80 != 0 {
                d.picture_id = Some(u16::from_be_bytes([b & 0x7f, *payload.get(3)?]));
                d.len = 4;
            } else {
                d.picture_id = Some(u16::from(b));
                d.len = 3;
            }
        }
        if ext & 0x40 != 0 {
            d.tl0_pic_idx = Some(*payload.get(d.len)?);
            d.len += 1;
        }
        if ext & 0x30 != 0 {
            let b = *payload.get(d.len)?;
            if ext & 0x20 != 0 {
                d.temporal = Some((b >> 6, b & 0x20 != 0));
            }
            if ext & 0x10 != 0 {
                d.key_idx = Some(b & 0x1f);
            }
            d.len += 1;
        }
        Some(d)
    }
}

/// Keeps the picture ids and TL0PICIDX of a forwarded VP8 stream continuous when the
/// stream switches between sources (the layers of a simulcast publisher, each with its own
/// numbering), as RFC 7741 §4.2 numbering must be for the receiver: a receiver that sees
/// them jump can take the new layer's frames for old ones and drop them (libwebrtc's
/// reference finder does). Sequence numbers and timestamps are the core's part
/// (`RtpWrite::source`); this is the codec's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vp8NumberingRewriter {
    source: Option<u32>,
    picture_offset: u16,
    tl0_offset: u8,
    /// The newest picture id and TL0PICIDX written.
    last_picture: Option<u16>,
    last_tl0: Option<u8>,
}

impl Vp8NumberingRewriter {
    /// Rewrites the descriptor at the start of `payload` (a packet of `source`) in place.
    /// The first packet of a new source (the first of its keyframe, for a decodable
    /// switch) gets the picture id and TL0PICIDX after the newest ones written; the
    /// source's other packets keep their distance from it. Returns `false`, leaving
    /// `payload` as it was, when the descriptor is truncated.
    pub fn rewrite(&mut self, source: u32, payload: &mut [u8]) -> bool {
        let Some(d) = Vp8Descriptor::parse(payload) else {
            return false;
        };
        if self.source != Some(source) {
            self.source = Some(source);
            if let (Some(last), Some(pid)) = (self.last_picture, d.picture_id) {
                self.picture_offset = last.wrapping_add(1).wrapping_sub(pid);
            }
            if let (Some(last), Some(tl0)) = (self.last_tl0, d.tl0_pic_idx) {
                self.tl0_offset = last.wrapping_add(1).wrapping_sub(tl0);
            }
        }
        if let Some(pid) = d.picture_id {
            let out = pid.wrapping_add(self.picture_offset);
            // M: a 15-bit picture id (the descriptor's third byte starts with it).
            if payload[2] & 0x80 != 0 {
                let out = out & 0x7fff;
                payload[2] = 0x80 | (out >> 8) as u8;
                payload[3] = out as u8;
                self.last_picture = Some(newer(self.last_picture, out, 0x7fff));
            } else {
                let out = out & 0x7f;
                payload[2] = out as u8;
                self.last_picture = Some(newer(self.last_picture, out, 0x7f));
            }
        }
        if let Some(tl0) = d.tl0_pic_idx {
            let at = d.len - 1 - usize::from(d.temporal.is_some() || d.key_idx.is_some());
            let out = tl0.wrapping_add(self.tl0_offset);
            payload[at] = out;
            let newest = newer(self.last_tl0.map(u16::from), u16::from(out), 0xff);
            self.last_tl0 = Some(newest as u8);
        }
        true
    }
}

/// The newer of `last` and `value` in a counter space masked by `mask` (one less than a
/// power of two): `value` when it is ahead by less than half the space.
fn newer(last: Option<u16>, value: u16, mask: u16) -> u16 {
    match last {
        Some(last) if value.wrapping_sub(last) & mask > mask / 2 => last,
        _ => value,
    }
}

/// Strips VP8 payload descriptors, giving back the encoded frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vp8Depacketizer;

impl Depacketizer for Vp8Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError> {
        let len = vp8_descriptor_len(payload).ok_or(DepacketizeError::Truncated)?;
        if len >= payload.len() {
            return Err(DepacketizeError::Truncated);
        }
        out.extend_from_slice(&payload[len..]);
        Ok(())
    }

    fn is_frame_start(&self, payload: &[u8]) -> bool {
        payload.first().is_some_and(|b| b & 0x17 == 0x10)
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        vp8_is_keyframe(payload) == Some(true)
    }
}

/// The length of the payload descriptor at the start of a VP8 RTP payload, or `None` if the
/// payload is too short for what its flags announce.
pub fn vp8_descriptor_len(payload: &[u8]) -> Option<usize> {
    let first = *payload.first()?;
    if first & 0x80 == 0 {
        return Some(1);
    }
    let ext = *payload.get(1)?;
    let mut len = 2;
    if ext & 0x80 != 0 {
        let pid = *payload.get(len)?;
        len += if pid & 0x80 != 0 { 2 } else { 1 };
    }
    if ext & 0x40 != 0 {
        len += 1; // TL0PICIDX
    }
    if ext & 0x30 != 0 {
        len += 1; // TID/Y/KEYIDX
    }
    (payload.len() >= len).then_some(len)
}

/// Whether a VP8 RTP payload starts a key frame: it starts partition 0 of a frame (`S=1`,
/// `PID=0`) and the frame tag's inverse key frame bit is clear (RFC 6386 §9.1). `None` when
/// the payload is not the start of a frame or is malformed.
pub fn vp8_is_keyframe(payload: &[u8]) -> Option<bool> {
    let first = *payload.first()?;
    if first & 0x10 == 0 || first & 0x07 != 0 {
        return None;
    }
    let tag = *payload.get(vp8_descriptor_len(payload)?)?;
    Some(tag & 0x01 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A descriptor with a 15-bit picture id, TL0PICIDX and TID 0, then one payload byte.
    fn described(picture_id: u16, tl0: u8) -> Vec<u8> {
        let pid = (0x8000 | picture_id).to_be_bytes();
        vec![0x90, 0xe0, pid[0], pid[1], tl0, 0x00, 0xaa]
    }

    #[test]
    fn numbering_continues_across_a_switch_of_source_and_comes_back() {
        let mut r = Vp8NumberingRewriter::default();
        let mut out = |source: u32, pid: u16, tl0: u8| {
            let mut p = described(pid, tl0);
            assert!(r.rewrite(source, &mut p));
            let d = Vp8Descriptor::parse(&p).expect("still a descriptor");
            assert_eq!(p[6], 0xaa, "the payload is untouched");
            (d.picture_id.expect("pid"), d.tl0_pic_idx.expect("tl0"))
        };
        // The first source passes as it is.
        assert_eq!(out(1, 100, 7), (100, 7));
        assert_eq!(out(1, 101, 8), (101, 8));
        // A second source far behind in both: it continues after 101 / 8.
        assert_eq!(out(2, 32_000, 250), (102, 9));
        assert_eq!(out(2, 32_001, 251), (103, 10));
        // Its picture id wraps at 2^15, TL0PICIDX at 2^8; ours follow.
        assert_eq!(out(2, 32_767, 255), (869, 14));
        assert_eq!(out(2, 0, 0), (870, 15));
        // Back to the first source: after the newest again, not where it left off.
        assert_eq!(out(1, 400, 30), (871, 16));
        // Truncated descriptors are refused and left alone.
        let mut short = vec![0x90, 0xe0, 0x80];
        assert!(!r.rewrite(3, &mut short));
        assert_eq!(short, [0x90, 0xe0, 0x80]);
    }

    fn packetize(p: &mut Vp8Packetizer, frame: &[u8], max: usize) -> Vec<Vec<u8>> {
        Packetizer::packetize(p, frame, max).expect("fits")
    }

    #[test]
    fn a_frame_is_split_with_a_descriptor_on_every_payload() {
        let frame: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let mut p = Vp8Packetizer::new(0x7ffe);
        let payloads = packetize(&mut p, &frame, 1000);
        assert_eq!(payloads.len(), 3);
        assert_eq!(&payloads[0][..4], &[0x90, 0x80, 0xff, 0xfe]);
        assert_eq!(&payloads[1][..4], &[0x80, 0x80, 0xff, 0xfe]);
        let joined: Vec<u8> = payloads.iter().flat_map(|p| p[4..].to_vec()).collect();
        assert_eq!(joined, frame);
        assert!(payloads.iter().all(|p| p.len() <= 1000));
        // The picture id wraps at 15 bits.
        assert_eq!(&packetize(&mut p, b"x", 1000)[0][2..4], &[0xff, 0xff]);
        assert_eq!(&packetize(&mut p, b"x", 1000)[0][2..4], &[0x80, 0x00]);
    }

    #[test]
    fn keyframes_are_seen_on_the_rtp_level() {
        let mut p = Vp8Packetizer::new(1);
        let key = packetize(&mut p, &[0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a], 1200);
        let delta = packetize(&mut p, &[0x31, 0x02, 0x00], 1200);
        assert_eq!(vp8_is_keyframe(&key[0]), Some(true));
        assert_eq!(vp8_is_keyframe(&delta[0]), Some(false));
        // Chromium-style short descriptors too: X=1 with a 7-bit picture id.
        assert_eq!(vp8_is_keyframe(&[0x90, 0x80, 0x05, 0x50]), Some(true));
        assert_eq!(vp8_is_keyframe(&[0x10, 0x51]), Some(false));
    }

    #[test]
    fn continuation_and_truncated_payloads_say_nothing() {
        assert_eq!(vp8_is_keyframe(&[0x80, 0x80, 0x81, 0x01, 0x50]), None);
        assert_eq!(vp8_is_keyframe(&[0x90, 0x80, 0x81]), None);
        assert_eq!(vp8_is_keyframe(&[]), None);
        assert_eq!(
            vp8_descriptor_len(&[0x80, 0xf0, 0x81, 0x01, 0x02, 0x03]),
            Some(6)
        );
    }
}
