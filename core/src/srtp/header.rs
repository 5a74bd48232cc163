//! The few header fields SRTP needs, read from untrusted bytes without panicking.
//!
//! RTP (RFC 3550 §5.1, §5.3.1): version, CSRC count, extension flag and length give where
//! the payload starts; sequence number and SSRC feed the packet index and IV.
//! RTCP (RFC 3550 §6.4): the first packet of a compound packet starts with an 8-byte
//! header whose second word is the sender's SSRC.

use super::SrtpError;

/// Fixed RTP header length.
const RTP_FIXED_LEN: usize = 12;
/// Header (first 8 bytes) of an RTCP packet that SRTCP leaves in the clear.
pub(super) const RTCP_HEADER_LEN: usize = 8;

/// What SRTP reads from an RTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RtpHeader {
    /// Length of the header including CSRCs and the extension: the payload starts here.
    pub len: usize,
    pub seq: u16,
    pub ssrc: u32,
}

/// Parses the RTP header at the start of `packet`.
///
/// Errors: `TooShort` if the fixed header does not fit, `Malformed` for a version other
/// than 2 or CSRCs/extension that run past the end of the packet.
pub(super) fn rtp_header(packet: &[u8]) -> Result<RtpHeader, SrtpError> {
    if packet.len() < RTP_FIXED_LEN {
        return Err(SrtpError::TooShort);
    }
    if packet[0] >> 6 != 2 {
        return Err(SrtpError::Malformed);
    }
    let csrc_count = usize::from(packet[0] & 0x0f);
    let mut len = RTP_FIXED_LEN + 4 * csrc_count;
    if packet[0] & 0x10 != 0 {
        // Extension: 16-bit profile, 16-bit length in 32-bit words, then the words.
        let ext = packet.get(len..len + 4).ok_or(SrtpError::Malformed)?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([ext[2], ext[3]]));
    }
    if len > packet.len() {
        return Err(SrtpError::Malformed);
    }
    Ok(RtpHeader {
        len,
        seq: u16::from_be_bytes([packet[2], packet[3]]),
        ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
    })
}

/// The sender SSRC of the first RTCP packet in `packet`.
///
/// Errors: `TooShort` below 8 bytes, `Malformed` for a version other than 2.
pub(super) fn rtcp_ssrc(packet: &[u8]) -> Result<u32, SrtpError> {
    if packet.len() < RTCP_HEADER_LEN {
        return Err(SrtpError::TooShort);
    }
    if packet[0] >> 6 != 2 {
        return Err(SrtpError::Malformed);
    }
    Ok(u32::from_be_bytes([
        packet[4], packet[5], packet[6], packet[7],
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_header_length_counts_csrcs_and_extension() {
        let mut p = vec![0x80, 0x60, 0x12, 0x34, 0, 0, 0, 1, 0xca, 0xfe, 0xba, 0xbe];
        assert_eq!(rtp_header(&p).unwrap().len, 12);
        // Two CSRCs and a one-word extension.
        p[0] = 0x92;
        p.extend_from_slice(&[0; 8]);
        p.extend_from_slice(&[0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4]);
        let h = rtp_header(&p).unwrap();
        assert_eq!((h.len, h.seq, h.ssrc), (28, 0x1234, 0xcafe_babe));
    }

    #[test]
    fn rtp_header_running_past_the_packet_is_malformed() {
        let mut p = vec![
            0x90, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0x00, 0x02,
        ];
        assert_eq!(rtp_header(&p), Err(SrtpError::Malformed));
        p.truncate(14);
        assert_eq!(rtp_header(&p), Err(SrtpError::Malformed));
        p[0] = 0x8f;
        assert_eq!(rtp_header(&p[..12]), Err(SrtpError::Malformed));
        assert_eq!(rtp_header(&p[..11]), Err(SrtpError::TooShort));
        p[0] = 0x40;
        assert_eq!(rtp_header(&p[..12]), Err(SrtpError::Malformed));
    }
}
