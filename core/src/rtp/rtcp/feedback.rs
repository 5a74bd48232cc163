//! Feedback messages (RFC 4585 §6): generic NACK, PLI, FIR (RFC 5104 §4.3.1) and REMB
//! (draft-alvestrand-rmcat-remb-03).

use super::Reader;
use crate::rtp::RtpError;

/// Most NACK FCI entries written (each covers up to 17 sequence numbers), well inside the
/// 16-bit length field.
pub const MAX_NACK_ENTRIES: usize = 16_000;
/// Most FIR entries written.
pub const MAX_FIR_ENTRIES: usize = 32_000;
/// The REMB unique identifier that follows the common feedback header.
pub const REMB_IDENTIFIER: [u8; 4] = *b"REMB";

/// Reads the sender and media SSRCs that start every feedback message.
fn read_ssrcs(r: &mut Reader<'_>) -> Result<(u32, u32), RtpError> {
    Ok((r.u32()?, r.u32()?))
}

fn write_ssrcs(out: &mut Vec<u8>, sender: u32, media: u32) {
    out.extend_from_slice(&sender.to_be_bytes());
    out.extend_from_slice(&media.to_be_bytes());
}

/// Generic NACK (RTPFB, FMT 1): sequence numbers the receiver misses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenericNack {
    /// The receiver asking.
    pub sender_ssrc: u32,
    /// The stream with the losses.
    pub media_ssrc: u32,
    /// The missing sequence numbers. Writing packs them greedily, in order, into PID+BLP
    /// pairs: give them in ascending (wrapping) order for the smallest packet and for a
    /// round trip that keeps the order.
    pub lost: Vec<u16>,
}

impl GenericNack {
    /// Packs `lost` into `(pid, blp)` pairs: each pair covers pid and pid+1..=pid+16.
    pub fn pairs(&self) -> Vec<(u16, u16)> {
        let mut pairs: Vec<(u16, u16)> = Vec::new();
        for &seq in &self.lost {
            if let Some((pid, blp)) = pairs.last_mut() {
                let diff = seq.wrapping_sub(*pid);
                if (1..=16).contains(&diff) {
                    *blp |= 1 << (diff - 1);
                    continue;
                }
            }
            if pairs.len() == MAX_NACK_ENTRIES {
                break;
            }
            pairs.push((seq, 0));
        }
        pairs
    }

    pub(super) fn read(body: &[u8]) -> Result<Self, RtpError> {
        let mut r = Reader::new(body);
        let (sender_ssrc, media_ssrc) = read_ssrcs(&mut r)?;
        let mut lost = Vec::with_capacity(r.remaining());
        while r.remaining() >= 4 {
            let pid = r.u16()?;
            let blp = r.u16()?;
            lost.push(pid);
            lost.extend(
                (0..16u16)
                    .filter(|bit| blp & (1 << bit) != 0)
                    .map(|bit| pid.wrapping_add(bit + 1)),
            );
        }
        Ok(Self {
            sender_ssrc,
            media_ssrc,
            lost,
        })
    }

    pub(super) fn body_len(&self) -> usize {
        8 + 4 * self.pairs().len()
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        write_ssrcs(out, self.sender_ssrc, self.media_ssrc);
        for (pid, blp) in self.pairs() {
            out.extend_from_slice(&pid.to_be_bytes());
            out.extend_from_slice(&blp.to_be_bytes());
        }
    }
}

/// Picture loss indication (PSFB, FMT 1): please send a keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pli {
    /// The receiver asking.
    pub sender_ssrc: u32,
    /// The stream that needs a keyframe.
    pub media_ssrc: u32,
}

impl Pli {
    pub(super) fn read(body: &[u8]) -> Result<Self, RtpError> {
        let (sender_ssrc, media_ssrc) = read_ssrcs(&mut Reader::new(body))?;
        Ok(Self {
            sender_ssrc,
            media_ssrc,
        })
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        write_ssrcs(out, self.sender_ssrc, self.media_ssrc);
    }
}

/// Full intra request (PSFB, FMT 4, RFC 5104 §4.3.1): a keyframe request per stream with a
/// command sequence number that tells repeats from new requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fir {
    /// The receiver asking.
    pub sender_ssrc: u32,
    /// `(media ssrc, command sequence number)` per requested stream.
    pub entries: Vec<(u32, u8)>,
}

impl Fir {
    fn written(&self) -> &[(u32, u8)] {
        &self.entries[..self.entries.len().min(MAX_FIR_ENTRIES)]
    }

    pub(super) fn read(body: &[u8]) -> Result<Self, RtpError> {
        let mut r = Reader::new(body);
        // The media source field is unused in FIR (RFC 5104 §4.3.1.2).
        let (sender_ssrc, _) = read_ssrcs(&mut r)?;
        let mut entries = Vec::with_capacity(r.remaining() / 8);
        while r.remaining() >= 8 {
            let ssrc = r.u32()?;
            let seq = r.u8()?;
            r.take(3)?;
            entries.push((ssrc, seq));
        }
        Ok(Self {
            sender_ssrc,
            entries,
        })
    }

    pub(super) fn body_len(&self) -> usize {
        8 + 8 * self.written().len()
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        write_ssrcs(out, self.sender_ssrc, 0);
        for (ssrc, seq) in self.written() {
            out.extend_from_slice(&ssrc.to_be_bytes());
            out.extend_from_slice(&[*seq, 0, 0, 0]);
        }
    }
}

/// Receiver estimated maximum bitrate (PSFB, FMT 15, "REMB" application layer feedback).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Remb {
    /// The receiver estimating.
    pub sender_ssrc: u32,
    /// The estimate in bits per second. On the wire it is an 18-bit mantissa and a 6-bit
    /// exponent, so writing rounds down to the nearest representable value; a received
    /// value that overflows 64 bits reads as `u64::MAX`.
    pub bitrate_bps: u64,
    /// The streams the estimate applies to; at most 255 are written.
    pub ssrcs: Vec<u32>,
}

impl Remb {
    /// Whether an application-layer feedback body (after the common header) is a REMB.
    pub(super) fn is_remb(body: &[u8]) -> bool {
        body.get(8..12) == Some(&REMB_IDENTIFIER[..])
    }

    fn written(&self) -> &[u32] {
        &self.ssrcs[..self.ssrcs.len().min(255)]
    }

    /// The `(exponent, mantissa)` that represent `bitrate_bps`, rounded down.
    pub fn exponent_mantissa(&self) -> (u8, u32) {
        let bits = 64 - self.bitrate_bps.leading_zeros();
        let exp = bits.saturating_sub(18);
        (exp as u8, (self.bitrate_bps >> exp) as u32)
    }

    pub(super) fn read(body: &[u8]) -> Result<Self, RtpError> {
        let mut r = Reader::new(body);
        let (sender_ssrc, _) = read_ssrcs(&mut r)?;
        r.take(4)?; // "REMB", checked by the caller
        let word = r.u32()?;
        let count = (word >> 24) as usize;
        let exp = (word >> 18) & 0x3f;
        let mantissa = u64::from(word & 0x3_ffff);
        let bitrate_bps = if mantissa.leading_zeros() < exp {
            u64::MAX
        } else {
            mantissa << exp
        };
        if count * 4 > r.remaining() {
            return Err(RtpError::Malformed("REMB SSRC count exceeds the packet"));
        }
        let ssrcs = (0..count).map(|_| r.u32()).collect::<Result<_, _>>()?;
        Ok(Self {
            sender_ssrc,
            bitrate_bps,
            ssrcs,
        })
    }

    pub(super) fn body_len(&self) -> usize {
        16 + 4 * self.written().len()
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        write_ssrcs(out, self.sender_ssrc, 0);
        out.extend_from_slice(&REMB_IDENTIFIER);
        let (exp, mantissa) = self.exponent_mantissa();
        let ssrcs = self.written();
        let word = ((ssrcs.len() as u32) << 24) | (u32::from(exp) << 18) | mantissa;
        out.extend_from_slice(&word.to_be_bytes());
        ssrcs
            .iter()
            .for_each(|s| out.extend_from_slice(&s.to_be_bytes()));
    }
}
