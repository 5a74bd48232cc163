//! Audio payload formats that carry one frame per packet, unchanged: Opus (RFC 7587 §4:
//! one Opus packet per RTP payload), G.711 PCMU/PCMA and G.722 (RFC 3551 §4.5: octets in
//! order). Every payload starts a frame; none says "keyframe" (every audio frame is
//! independently decodable, so [`is_keyframe`](Depacketizer::is_keyframe) is `true`).
//!
//! Not implemented: splitting a long G.711 buffer into packet-time chunks (the caller
//! chooses the frame duration).

use super::{DepacketizeError, Depacketizer, PacketizeError, Packetizer};

/// Puts each audio frame in one payload.
#[derive(Debug, Clone, Copy, Default)]
pub struct AudioPacketizer;

impl Packetizer for AudioPacketizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
    ) -> Result<Vec<Vec<u8>>, PacketizeError> {
        if frame.is_empty() {
            return Ok(Vec::new());
        }
        if frame.len() > max_payload {
            return Err(PacketizeError::UnitTooLarge {
                len: frame.len(),
                max_payload,
            });
        }
        Ok(vec![frame.to_vec()])
    }
}

/// Returns each audio payload as one frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct AudioDepacketizer;

impl Depacketizer for AudioDepacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError> {
        if payload.is_empty() {
            return Err(DepacketizeError::Truncated);
        }
        out.extend_from_slice(payload);
        Ok(())
    }

    fn is_frame_start(&self, payload: &[u8]) -> bool {
        !payload.is_empty()
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        !payload.is_empty()
    }
}
