//! RTCP packets: compound and reduced-size datagrams.
//!
//! Implemented: SR, RR, SDES, BYE, APP (RFC 3550 §6.4–§6.7); generic NACK and PLI (RFC 4585
//! §6.2.1, §6.3.1); FIR (RFC 5104 §4.3.1); REMB (draft-alvestrand-rmcat-remb-03);
//! transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01);
//! congestion control feedback (RFC 8888); XR with
//! RRTR and DLRR blocks (RFC 3611 §4.4, §4.5); reduced-size datagrams without a leading
//! report (RFC 5506). Any other packet type, feedback format or XR block is kept raw
//! ([`RtcpPacket::Unknown`], [`XrBlock::Unknown`]) and written back unchanged.
//!
//! Not implemented: SLI, RPSI, TMMBR/TMMBN, TSTR as typed packets (they round-trip as
//! `Unknown`); the compound-packet rules of RFC 3550 §6.1 are not enforced
//! on reading (a reduced-size datagram is fine) and are the sender's business on writing;
//! SRTCP (module `srtp`).
//!
//! Reading is liberal: the padding bit is honoured, trailing bytes a known packet does not
//! use (profile extensions, padding) are ignored. Every allocation is bounded by lengths
//! first checked against the datagram.

mod bye_app;
mod ccfb;
mod feedback;
mod report;
mod sdes;
mod twcc;
mod xr;

#[cfg(test)]
mod tests;

pub use bye_app::{App, Bye};
pub use ccfb::{
    ATO_OVER_RANGE, ATO_UNAVAILABLE, ATO_UNITS_PER_SECOND, CcfbArrival, CcfbBlock,
    CongestionControlFeedback, MAX_METRICS_PER_BLOCK,
};
pub use feedback::{
    Fir, GenericNack, MAX_FIR_ENTRIES, MAX_NACK_ENTRIES, Pli, REMB_IDENTIFIER, Remb,
};
pub use report::{REPORT_BLOCK_LEN, ReceiverReport, ReportBlock, SenderReport};
pub use sdes::{SDES_CNAME, SDES_NAME, SDES_PRIV, SDES_TOOL, Sdes, SdesChunk};
pub use twcc::{MAX_STATUSES, TransportCc};
pub use xr::{BT_DLRR, BT_RRTR, ExtendedReport, XrBlock};

use super::{RTP_VERSION, RtpError};
use std::fmt;

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of source description.
pub const PT_SDES: u8 = 202;
/// Packet type of goodbye.
pub const PT_BYE: u8 = 203;
/// Packet type of application-defined.
pub const PT_APP: u8 = 204;
/// Packet type of transport-layer feedback (RFC 4585).
pub const PT_RTPFB: u8 = 205;
/// Packet type of payload-specific feedback (RFC 4585).
pub const PT_PSFB: u8 = 206;
/// Packet type of extended reports (RFC 3611).
pub const PT_XR: u8 = 207;

/// RTPFB format of a generic NACK.
pub const FMT_NACK: u8 = 1;
/// RTPFB format of RFC 8888 congestion control feedback.
pub const FMT_CCFB: u8 = 11;
/// RTPFB format of transport-wide CC feedback.
pub const FMT_TWCC: u8 = 15;
/// PSFB format of a PLI.
pub const FMT_PLI: u8 = 1;
/// PSFB format of a FIR.
pub const FMT_FIR: u8 = 4;
/// PSFB format of application-layer feedback (REMB).
pub const FMT_AFB: u8 = 15;

/// The largest count a 5-bit count field holds.
pub(crate) const MAX_COUNT: usize = 31;
/// The largest body (after the 4-byte header) the 16-bit length field can describe.
pub const MAX_BODY_LEN: usize = 0xffff * 4;

/// One RTCP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket {
    /// Sender report (PT 200).
    SenderReport(SenderReport),
    /// Receiver report (PT 201).
    ReceiverReport(ReceiverReport),
    /// Source description (PT 202).
    Sdes(Sdes),
    /// Goodbye (PT 203).
    Bye(Bye),
    /// Application-defined (PT 204).
    App(App),
    /// Generic NACK (PT 205, FMT 1).
    Nack(GenericNack),
    /// Picture loss indication (PT 206, FMT 1).
    Pli(Pli),
    /// Full intra request (PT 206, FMT 4).
    Fir(Fir),
    /// Receiver estimated maximum bitrate (PT 206, FMT 15, "REMB").
    Remb(Remb),
    /// Transport-wide CC feedback (PT 205, FMT 15).
    TransportCc(TransportCc),
    /// RFC 8888 congestion control feedback (PT 205, FMT 11).
    Ccfb(CongestionControlFeedback),
    /// Extended report (PT 207).
    Xr(ExtendedReport),
    /// Any other packet, kept raw: its type, the 5-bit count/format field and the body
    /// after the 4-byte header (padding removed). Written zero-padded to 4 bytes.
    Unknown {
        /// The packet type.
        packet_type: u8,
        /// The count or format field (5 bits).
        count: u8,
        /// The body after the common header.
        body: Vec<u8>,
    },
}

/// A bounds-checked big-endian reader over a packet body.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], RtpError> {
        if n > self.data.len() {
            return Err(RtpError::TooShort);
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], RtpError> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| RtpError::TooShort)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, RtpError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, RtpError> {
        self.array().map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, RtpError> {
        self.array().map(u32::from_be_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, RtpError> {
        self.array().map(u64::from_be_bytes)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// Parses a compound or reduced-size (RFC 5506) RTCP datagram, one packet per item.
///
/// A packet whose framing (version, length, padding) or contents cannot be decoded yields
/// `Err` and ends the iteration: the lengths after it cannot be trusted.
///
/// One datagram may claim at most [`twcc::MAX_STATUSES`] transport-cc packet statuses in
/// all, as much as one feedback message can carry: a run-length chunk claims 8,191 statuses
/// in two bytes, so without this bound a 1,200-byte datagram of small feedback messages
/// would unfold into millions of statuses (tens of MB, milliseconds of work). The message
/// that would pass the bound is `Err` and ends the iteration.
pub fn parse_compound(buf: &[u8]) -> RtcpIter<'_> {
    RtcpIter {
        rest: buf,
        twcc_statuses_left: twcc::MAX_STATUSES,
    }
}

/// Iterator over the packets of an RTCP datagram; see [`parse_compound`].
#[derive(Debug, Clone)]
pub struct RtcpIter<'a> {
    rest: &'a [u8],
    /// Transport-cc statuses the rest of the datagram may still claim.
    twcc_statuses_left: usize,
}

impl RtcpIter<'_> {
    /// Takes the statuses a transport-cc message claims from the datagram's allowance.
    fn spend_twcc_statuses(&mut self, framed: &Framed<'_>) -> Result<(), RtpError> {
        if (framed.packet_type, framed.count) != (PT_RTPFB, FMT_TWCC) {
            return Ok(());
        }
        let claimed = TransportCc::claimed_statuses(framed.body);
        self.twcc_statuses_left =
            self.twcc_statuses_left
                .checked_sub(claimed)
                .ok_or(RtpError::Malformed(
                    "more transport-cc statuses in one datagram than one message may carry",
                ))?;
        Ok(())
    }
}

impl Iterator for RtcpIter<'_> {
    type Item = Result<RtcpPacket, RtpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let result = split_packet(self.rest).and_then(|framed| {
            self.rest = framed.rest;
            self.spend_twcc_statuses(&framed)?;
            RtcpPacket::decode(framed.count, framed.packet_type, framed.body)
        });
        if result.is_err() {
            self.rest = &[];
        }
        Some(result)
    }
}

/// The first packet of a datagram, split off by [`split_packet`].
struct Framed<'a> {
    count: u8,
    packet_type: u8,
    /// The body after the common header, padding removed.
    body: &'a [u8],
    /// The packets after this one.
    rest: &'a [u8],
}

/// Splits the first packet off `buf`, checking version, length and padding.
fn split_packet(buf: &[u8]) -> Result<Framed<'_>, RtpError> {
    if buf.len() < 4 {
        return Err(RtpError::TooShort);
    }
    if buf[0] >> 6 != RTP_VERSION {
        return Err(RtpError::BadVersion);
    }
    let total = 4 * (usize::from(u16::from_be_bytes([buf[2], buf[3]])) + 1);
    if total > buf.len() {
        return Err(RtpError::BadLength);
    }
    let (packet, rest) = buf.split_at(total);
    let mut end = total;
    if packet[0] & 0x20 != 0 {
        let pad = usize::from(packet[total - 1]);
        if pad == 0 || pad > total - 4 {
            return Err(RtpError::BadLength);
        }
        end -= pad;
    }
    Ok(Framed {
        count: packet[0] & 0x1f,
        packet_type: packet[1],
        body: &packet[4..end],
        rest,
    })
}

impl RtcpPacket {
    /// Decodes one packet from its count/format field, packet type and body.
    fn decode(count: u8, packet_type: u8, body: &[u8]) -> Result<Self, RtpError> {
        Ok(match (packet_type, count) {
            (PT_SR, _) => Self::SenderReport(SenderReport::read(count, body)?),
            (PT_RR, _) => Self::ReceiverReport(ReceiverReport::read(count, body)?),
            (PT_SDES, _) => Self::Sdes(Sdes::read(count, body)?),
            (PT_BYE, _) => Self::Bye(Bye::read(count, body)?),
            (PT_APP, _) => Self::App(App::read(count, body)?),
            (PT_RTPFB, FMT_NACK) => Self::Nack(GenericNack::read(body)?),
            (PT_RTPFB, FMT_TWCC) => Self::TransportCc(TransportCc::read(body)?),
            (PT_RTPFB, FMT_CCFB) => Self::Ccfb(CongestionControlFeedback::read(body)?),
            (PT_PSFB, FMT_PLI) => Self::Pli(Pli::read(body)?),
            (PT_PSFB, FMT_FIR) => Self::Fir(Fir::read(body)?),
            (PT_PSFB, FMT_AFB) if Remb::is_remb(body) => Self::Remb(Remb::read(body)?),
            (PT_XR, _) => Self::Xr(ExtendedReport::read(body)?),
            _ => Self::Unknown {
                packet_type,
                count,
                body: body.to_vec(),
            },
        })
    }

    /// The packet type and count/format field written in the common header.
    fn type_and_count(&self) -> (u8, u8) {
        match self {
            Self::SenderReport(p) => (PT_SR, p.count()),
            Self::ReceiverReport(p) => (PT_RR, p.count()),
            Self::Sdes(p) => (PT_SDES, p.count()),
            Self::Bye(p) => (PT_BYE, p.count()),
            Self::App(p) => (PT_APP, p.subtype & 0x1f),
            Self::Nack(_) => (PT_RTPFB, FMT_NACK),
            Self::TransportCc(_) => (PT_RTPFB, FMT_TWCC),
            Self::Ccfb(_) => (PT_RTPFB, FMT_CCFB),
            Self::Pli(_) => (PT_PSFB, FMT_PLI),
            Self::Fir(_) => (PT_PSFB, FMT_FIR),
            Self::Remb(_) => (PT_PSFB, FMT_AFB),
            Self::Xr(_) => (PT_XR, 0),
            Self::Unknown {
                packet_type, count, ..
            } => (*packet_type, count & 0x1f),
        }
    }

    /// Body length after the common header, a multiple of 4.
    fn body_len(&self) -> usize {
        match self {
            Self::SenderReport(p) => p.body_len(),
            Self::ReceiverReport(p) => p.body_len(),
            Self::Sdes(p) => p.body_len(),
            Self::Bye(p) => p.body_len(),
            Self::App(p) => p.body_len(),
            Self::Nack(p) => p.body_len(),
            Self::TransportCc(p) => p.body_len(),
            Self::Ccfb(p) => p.body_len(),
            Self::Pli(_) => 8,
            Self::Fir(p) => p.body_len(),
            Self::Remb(p) => p.body_len(),
            Self::Xr(p) => p.body_len(),
            Self::Unknown { body, .. } => body.len().next_multiple_of(4),
        }
    }

    fn write_body(&self, out: &mut Vec<u8>) {
        match self {
            Self::SenderReport(p) => p.write_body(out),
            Self::ReceiverReport(p) => p.write_body(out),
            Self::Sdes(p) => p.write_body(out),
            Self::Bye(p) => p.write_body(out),
            Self::App(p) => p.write_body(out),
            Self::Nack(p) => p.write_body(out),
            Self::TransportCc(p) => p.write_body(out),
            Self::Ccfb(p) => p.write_body(out),
            Self::Pli(p) => p.write_body(out),
            Self::Fir(p) => p.write_body(out),
            Self::Remb(p) => p.write_body(out),
            Self::Xr(p) => p.write_body(out),
            Self::Unknown { body, .. } => {
                out.extend_from_slice(body);
                out.resize(out.len() + body.len().next_multiple_of(4) - body.len(), 0);
            }
        }
    }

    /// Bytes [`RtcpPacket::write_to`] appends: 0 when the body would exceed
    /// [`MAX_BODY_LEN`] (such a packet cannot be framed and is not written).
    pub fn encoded_len(&self) -> usize {
        match self.body_len() {
            len if len > MAX_BODY_LEN => 0,
            len => 4 + len,
        }
    }

    /// Appends the packet to `out` without padding bit: version 2, the count/format field,
    /// the type and the length in 32-bit words minus one. Lists longer than their count or
    /// length fields allow are cut (see each type); a packet whose body would still exceed
    /// [`MAX_BODY_LEN`] is not written at all (and traced).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let len = self.body_len();
        if len > MAX_BODY_LEN {
            tracing::warn!(len, "RTCP packet too long to frame; not written");
            return;
        }
        let (packet_type, count) = self.type_and_count();
        out.reserve(4 + len);
        out.push((RTP_VERSION << 6) | count);
        out.push(packet_type);
        out.extend_from_slice(&((len / 4) as u16).to_be_bytes());
        let start = out.len();
        self.write_body(out);
        debug_assert_eq!(out.len() - start, len, "body_len matches write_body");
    }

    /// The packet as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write_to(&mut out);
        out
    }

    /// Writes `packets` one after the other into `out` (a compound datagram, or a
    /// reduced-size one when the first is not a report).
    pub fn write_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) {
        packets.iter().for_each(|p| p.write_to(out));
    }

    /// The SSRC of the participant that sent the packet, where the packet names one.
    pub fn sender_ssrc(&self) -> Option<u32> {
        match self {
            Self::SenderReport(p) => Some(p.ssrc),
            Self::ReceiverReport(p) => Some(p.ssrc),
            Self::App(p) => Some(p.ssrc),
            Self::Nack(p) => Some(p.sender_ssrc),
            Self::TransportCc(p) => Some(p.sender_ssrc),
            Self::Ccfb(p) => Some(p.sender_ssrc),
            Self::Pli(p) => Some(p.sender_ssrc),
            Self::Fir(p) => Some(p.sender_ssrc),
            Self::Remb(p) => Some(p.sender_ssrc),
            Self::Xr(p) => Some(p.ssrc),
            Self::Sdes(_) | Self::Bye(_) | Self::Unknown { .. } => None,
        }
    }

    /// The media SSRCs this packet is about, for routing: report-block sources (SR, RR),
    /// the NACK/PLI/TWCC media source, the streams a CCFB reports on, FIR entries, REMB streams, DLRR receivers, SDES chunk
    /// and BYE sources. Empty for APP and unknown packets.
    pub fn media_ssrcs(&self) -> Vec<u32> {
        match self {
            Self::SenderReport(p) => p.reports.iter().map(|r| r.ssrc).collect(),
            Self::ReceiverReport(p) => p.reports.iter().map(|r| r.ssrc).collect(),
            Self::Sdes(p) => p.chunks.iter().map(|c| c.ssrc).collect(),
            Self::Bye(p) => p.ssrcs.clone(),
            Self::Nack(p) => vec![p.media_ssrc],
            Self::TransportCc(p) => vec![p.media_ssrc],
            Self::Ccfb(p) => p.blocks.iter().map(|b| b.media_ssrc).collect(),
            Self::Pli(p) => vec![p.media_ssrc],
            Self::Fir(p) => p.entries.iter().map(|(s, _)| *s).collect(),
            Self::Remb(p) => p.ssrcs.clone(),
            Self::Xr(p) => p
                .blocks
                .iter()
                .filter_map(|b| match b {
                    XrBlock::Dlrr(items) => Some(items.iter().map(|(ssrc, _, _)| *ssrc)),
                    _ => None,
                })
                .flatten()
                .collect(),
            Self::App(_) | Self::Unknown { .. } => Vec::new(),
        }
    }
}

impl fmt::Display for RtcpPacket {
    /// One compact line per packet for traces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SenderReport(p) => write!(
                f,
                "SR ssrc={:#010x} ntp={:#x} rtp={} pkts={} octets={} reports={}",
                p.ssrc,
                p.ntp_time,
                p.rtp_time,
                p.packet_count,
                p.octet_count,
                p.reports.len()
            ),
            Self::ReceiverReport(p) => {
                write!(f, "RR ssrc={:#010x} reports={}", p.ssrc, p.reports.len())
            }
            Self::Sdes(p) => write!(f, "SDES chunks={}", p.chunks.len()),
            Self::Bye(p) => write!(f, "BYE ssrcs={:x?}", p.ssrcs),
            Self::App(p) => write!(
                f,
                "APP ssrc={:#010x} name={} data={}B",
                p.ssrc,
                String::from_utf8_lossy(&p.name),
                p.data.len()
            ),
            Self::Nack(p) => write!(
                f,
                "NACK {:#010x}->{:#010x} lost={:?}",
                p.sender_ssrc, p.media_ssrc, p.lost
            ),
            Self::TransportCc(p) => write!(
                f,
                "TWCC {:#010x} base={} n={} recv={} ref={} fb={}",
                p.sender_ssrc,
                p.base_seq,
                p.packets.len(),
                p.received_count(),
                p.reference_time,
                p.fb_pkt_count
            ),
            Self::Ccfb(p) => write!(
                f,
                "CCFB {:#010x} streams={} reports={} rts={:#010x}",
                p.sender_ssrc,
                p.blocks.len(),
                p.report_count(),
                p.report_timestamp
            ),
            Self::Pli(p) => write!(f, "PLI {:#010x}->{:#010x}", p.sender_ssrc, p.media_ssrc),
            Self::Fir(p) => write!(f, "FIR {:#010x} entries={:x?}", p.sender_ssrc, p.entries),
            Self::Remb(p) => write!(
                f,
                "REMB {:#010x} {} bps ssrcs={:x?}",
                p.sender_ssrc, p.bitrate_bps, p.ssrcs
            ),
            Self::Xr(p) => write!(f, "XR ssrc={:#010x} blocks={}", p.ssrc, p.blocks.len()),
            Self::Unknown {
                packet_type,
                count,
                body,
            } => write!(
                f,
                "RTCP pt={packet_type} count={count} body={}B",
                body.len()
            ),
        }
    }
}
