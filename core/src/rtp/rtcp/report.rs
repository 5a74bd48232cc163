//! Sender and receiver reports (RFC 3550 §6.4).

use super::{MAX_COUNT, Reader};
use crate::rtp::RtpError;

/// Bytes of one report block on the wire.
pub const REPORT_BLOCK_LEN: usize = 24;

/// One reception report block (RFC 3550 §6.4.1) about one media source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the previous report, in 1/256 units.
    pub fraction_lost: u8,
    /// Cumulative packets lost, a 24-bit signed value (negative with duplicates); clamped
    /// to that range when writing.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles << 16 | seq).
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR from this source (0: none yet).
    pub last_sr: u32,
    /// Delay since that SR in 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, RtpError> {
        let ssrc = r.u32()?;
        let lost = r.u32()?;
        // Sign-extend the 24-bit count: shift it to the top, then back arithmetically.
        let cumulative_lost = ((lost << 8) as i32) >> 8;
        Ok(Self {
            ssrc,
            fraction_lost: (lost >> 24) as u8,
            cumulative_lost,
            highest_seq: r.u32()?,
            jitter: r.u32()?,
            last_sr: r.u32()?,
            delay_since_last_sr: r.u32()?,
        })
    }

    pub(super) fn write(&self, out: &mut Vec<u8>) {
        let lost = self.cumulative_lost.clamp(-(1 << 23), (1 << 23) - 1) as u32 & 0x00ff_ffff;
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&((u32::from(self.fraction_lost) << 24) | lost).to_be_bytes());
        out.extend_from_slice(&self.highest_seq.to_be_bytes());
        out.extend_from_slice(&self.jitter.to_be_bytes());
        out.extend_from_slice(&self.last_sr.to_be_bytes());
        out.extend_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }
}

fn read_blocks(r: &mut Reader<'_>, count: u8) -> Result<Vec<ReportBlock>, RtpError> {
    if usize::from(count) * REPORT_BLOCK_LEN > r.remaining() {
        return Err(RtpError::Malformed("report count exceeds the packet"));
    }
    (0..count).map(|_| ReportBlock::read(r)).collect()
}

fn written_blocks(reports: &[ReportBlock]) -> &[ReportBlock] {
    &reports[..reports.len().min(MAX_COUNT)]
}

/// A sender report (PT 200): the sender's clocks and counters plus reception reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderReport {
    /// The sender.
    pub ssrc: u32,
    /// NTP timestamp (seconds since 1900 in 32.32 fixed point) of this report.
    pub ntp_time: u64,
    /// The RTP timestamp matching `ntp_time`.
    pub rtp_time: u32,
    /// Packets sent since the start.
    pub packet_count: u32,
    /// Payload octets sent since the start.
    pub octet_count: u32,
    /// Reception reports; at most 31 are written.
    pub reports: Vec<ReportBlock>,
}

impl SenderReport {
    /// Decodes the body after the common header; profile extensions after the report
    /// blocks are ignored.
    pub(super) fn read(count: u8, body: &[u8]) -> Result<Self, RtpError> {
        let mut r = Reader::new(body);
        Ok(Self {
            ssrc: r.u32()?,
            ntp_time: r.u64()?,
            rtp_time: r.u32()?,
            packet_count: r.u32()?,
            octet_count: r.u32()?,
            reports: read_blocks(&mut r, count)?,
        })
    }

    pub(super) fn count(&self) -> u8 {
        written_blocks(&self.reports).len() as u8
    }

    pub(super) fn body_len(&self) -> usize {
        24 + REPORT_BLOCK_LEN * written_blocks(&self.reports).len()
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&self.ntp_time.to_be_bytes());
        out.extend_from_slice(&self.rtp_time.to_be_bytes());
        out.extend_from_slice(&self.packet_count.to_be_bytes());
        out.extend_from_slice(&self.octet_count.to_be_bytes());
        written_blocks(&self.reports)
            .iter()
            .for_each(|b| b.write(out));
    }
}

/// A receiver report (PT 201): reception reports from a participant that does not send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiverReport {
    /// The reporter.
    pub ssrc: u32,
    /// Reception reports; at most 31 are written.
    pub reports: Vec<ReportBlock>,
}

impl ReceiverReport {
    /// Decodes the body after the common header; profile extensions are ignored.
    pub(super) fn read(count: u8, body: &[u8]) -> Result<Self, RtpError> {
        let mut r = Reader::new(body);
        Ok(Self {
            ssrc: r.u32()?,
            reports: read_blocks(&mut r, count)?,
        })
    }

    pub(super) fn count(&self) -> u8 {
        written_blocks(&self.reports).len() as u8
    }

    pub(super) fn body_len(&self) -> usize {
        4 + REPORT_BLOCK_LEN * written_blocks(&self.reports).len()
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        written_blocks(&self.reports)
            .iter()
            .for_each(|b| b.write(out));
    }
}
