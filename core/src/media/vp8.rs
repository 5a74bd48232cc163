//! VP8 over RTP (RFC 7741): the payload descriptor, a packetizer that splits an encoded
//! frame into RTP payloads, and keyframe detection on the RTP level (an SFU must know
//! without decoding).
//!
//! The packetizer writes what Chromium writes: the extended descriptor with a 15-bit
//! picture id (`X=1`, `I=1`, `M=1`), `S=1` on the first packet of a frame, partition index 0
//! (the frame is not split at partition boundaries, which RFC 7741 §4.4 allows).

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

    /// The payloads of one encoded frame, each at most `max_payload` bytes (descriptor
    /// included, at least [`VP8_DESCRIPTOR_LEN`] + 1). The last one carries the frame's end:
    /// send it with the marker bit. An empty frame gives no payload.
    pub fn packetize(&mut self, frame: &[u8], max_payload: usize) -> Vec<Vec<u8>> {
        let room = max_payload.saturating_sub(VP8_DESCRIPTOR_LEN).max(1);
        let pid = self.picture_id;
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        frame
            .chunks(room)
            .enumerate()
            .map(|(i, chunk)| {
                let mut p = Vec::with_capacity(VP8_DESCRIPTOR_LEN + chunk.len());
                let start = if i == 0 { 0x10 } else { 0 };
                p.push(0x80 | start); // X, S, PID 0
                p.push(0x80); // I: a picture id follows
                p.extend_from_slice(&(0x8000 | pid).to_be_bytes()); // M: 15 bits
                p.extend_from_slice(chunk);
                p
            })
            .collect()
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

    #[test]
    fn a_frame_is_split_with_a_descriptor_on_every_payload() {
        let frame: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let mut p = Vp8Packetizer::new(0x7ffe);
        let payloads = p.packetize(&frame, 1000);
        assert_eq!(payloads.len(), 3);
        assert_eq!(&payloads[0][..4], &[0x90, 0x80, 0xff, 0xfe]);
        assert_eq!(&payloads[1][..4], &[0x80, 0x80, 0xff, 0xfe]);
        let joined: Vec<u8> = payloads.iter().flat_map(|p| p[4..].to_vec()).collect();
        assert_eq!(joined, frame);
        assert!(payloads.iter().all(|p| p.len() <= 1000));
        // The picture id wraps at 15 bits.
        assert_eq!(&p.packetize(b"x", 1000)[0][2..4], &[0xff, 0xff]);
        assert_eq!(&p.packetize(b"x", 1000)[0][2..4], &[0x80, 0x00]);
    }

    #[test]
    fn keyframes_are_seen_on_the_rtp_level() {
        let mut p = Vp8Packetizer::new(1);
        let key = p.packetize(&[0x50, 0x01, 0x00, 0x9d, 0x01, 0x2a], 1200);
        let delta = p.packetize(&[0x31, 0x02, 0x00], 1200);
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
