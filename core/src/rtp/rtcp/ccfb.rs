//! RTCP congestion control feedback (RTPFB, FMT 11, RFC 8888 §3.1).
//!
//! One message reports, per RTP stream, a run of consecutive sequence numbers from
//! `begin_seq`: a 16-bit metric block each (R bit: received; 2-bit ECN; 13-bit arrival time
//! offset before the report timestamp, in 1/1024 s), padded to 32 bits per stream. The
//! report timestamp closing the message is the middle 32 bits of an NTP time (16.16 s).
//!
//! Reading is liberal: ECN and offset bits of a packet not received are ignored, a last
//! block without its padding word is accepted, and a tail too short for a block header is
//! ignored. Writing is strict: a packet not received is written as zero, ECN is cut to 2
//! bits, the offset clamped to 13, and a block to [`MAX_METRICS_PER_BLOCK`] reports (RFC
//! 8888 §3.1: at most a quarter of the sequence space).

use super::Reader;
use crate::rtp::RtpError;

/// Most metric blocks one report block carries (RFC 8888 §3.1).
pub const MAX_METRICS_PER_BLOCK: usize = 16_384;
/// Arrival time offset of a packet that arrived more than 8189/1024 s before the report.
pub const ATO_OVER_RANGE: u16 = 0x1ffe;
/// Arrival time offset of a packet whose arrival time is unknown (or after the report).
pub const ATO_UNAVAILABLE: u16 = 0x1fff;
/// Arrival time offsets per second.
pub const ATO_UNITS_PER_SECOND: u32 = 1024;

const RECEIVED_BIT: u16 = 0x8000;
const ATO_MASK: u16 = 0x1fff;

/// How one reported packet arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CcfbArrival {
    /// The ECN codepoint it carried (RFC 3168: 0 not-ECT, 1 ECT(1), 2 ECT(0), 3 CE);
    /// 2 bits are written.
    pub ecn: u8,
    /// How long before the report timestamp it arrived, in 1/1024 s; [`ATO_OVER_RANGE`] and
    /// [`ATO_UNAVAILABLE`] are the RFC's special values. Written clamped to 13 bits.
    pub offset: u16,
}

impl CcfbArrival {
    /// The offset in microseconds, `None` for the two special values.
    pub fn offset_micros(&self) -> Option<i64> {
        (self.offset < ATO_OVER_RANGE)
            .then(|| i64::from(self.offset) * 1_000_000 / i64::from(ATO_UNITS_PER_SECOND))
    }

    fn word(&self) -> u16 {
        RECEIVED_BIT | (u16::from(self.ecn & 3) << 13) | self.offset.min(ATO_MASK)
    }
}

/// The reports on one RTP stream: a run of sequence numbers from `begin_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CcfbBlock {
    /// The stream reported on.
    pub media_ssrc: u32,
    /// The sequence number of the first report.
    pub begin_seq: u16,
    /// One entry per sequence number from `begin_seq` on (wrapping): `None` when not
    /// received. At most [`MAX_METRICS_PER_BLOCK`] are written.
    pub reports: Vec<Option<CcfbArrival>>,
}

impl CcfbBlock {
    fn written(&self) -> &[Option<CcfbArrival>] {
        &self.reports[..self.reports.len().min(MAX_METRICS_PER_BLOCK)]
    }

    /// `(sequence number, arrival)` of every report, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, Option<CcfbArrival>)> + '_ {
        self.reports
            .iter()
            .enumerate()
            .map(|(i, r)| (self.begin_seq.wrapping_add(i as u16), *r))
    }

    fn len(&self) -> usize {
        8 + (2 * self.written().len()).next_multiple_of(4)
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, RtpError> {
        let media_ssrc = r.u32()?;
        let begin_seq = r.u16()?;
        let count = usize::from(r.u16()?);
        if 2 * count > r.remaining() {
            return Err(RtpError::Malformed("CCFB num_reports exceeds the packet"));
        }
        let reports = (0..count)
            .map(|_| r.u16().map(read_metric))
            .collect::<Result<_, _>>()?;
        if count % 2 == 1 && r.remaining() >= 2 {
            r.take(2)?; // padding to the word
        }
        Ok(Self {
            media_ssrc,
            begin_seq,
            reports,
        })
    }

    fn write(&self, out: &mut Vec<u8>) {
        let reports = self.written();
        out.extend_from_slice(&self.media_ssrc.to_be_bytes());
        out.extend_from_slice(&self.begin_seq.to_be_bytes());
        out.extend_from_slice(&(reports.len() as u16).to_be_bytes());
        for r in reports {
            let word = r.map_or(0, |a| a.word());
            out.extend_from_slice(&word.to_be_bytes());
        }
        if reports.len() % 2 == 1 {
            out.extend_from_slice(&[0, 0]);
        }
    }
}

fn read_metric(word: u16) -> Option<CcfbArrival> {
    (word & RECEIVED_BIT != 0).then_some(CcfbArrival {
        ecn: ((word >> 13) & 3) as u8,
        offset: word & ATO_MASK,
    })
}

/// RFC 8888 congestion control feedback: which packets of which streams arrived, and when.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CongestionControlFeedback {
    /// The receiver sending feedback.
    pub sender_ssrc: u32,
    /// One block per reported stream.
    pub blocks: Vec<CcfbBlock>,
    /// When the report was made: the middle 32 bits of an NTP timestamp (16.16 seconds).
    pub report_timestamp: u32,
}

impl CongestionControlFeedback {
    /// Packets reported (received or not), over every block.
    pub fn report_count(&self) -> usize {
        self.blocks.iter().map(|b| b.reports.len()).sum()
    }

    pub(super) fn read(body: &[u8]) -> Result<Self, RtpError> {
        let Some(split) = body.len().checked_sub(4).filter(|&s| s >= 4) else {
            return Err(RtpError::TooShort);
        };
        let (head, tail) = body.split_at(split);
        let report_timestamp = Reader::new(tail).u32()?;
        let mut r = Reader::new(head);
        let sender_ssrc = r.u32()?;
        let mut blocks = Vec::new();
        // A tail shorter than a block header is ignored.
        while r.remaining() >= 8 {
            blocks.push(CcfbBlock::read(&mut r)?);
        }
        Ok(Self {
            sender_ssrc,
            blocks,
            report_timestamp,
        })
    }

    pub(super) fn body_len(&self) -> usize {
        8 + self.blocks.iter().map(CcfbBlock::len).sum::<usize>()
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.sender_ssrc.to_be_bytes());
        self.blocks.iter().for_each(|b| b.write(out));
        out.extend_from_slice(&self.report_timestamp.to_be_bytes());
    }
}
