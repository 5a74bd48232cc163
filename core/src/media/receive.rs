//! The receiving side at the RTP level: what a received packet gives the application, and
//! the per-SSRC statistics receiver reports carry (RFC 3550 §6.4.1, Appendix A.1, A.3, A.8).

use super::TransceiverId;
use super::packetize::SvcLayer;
use crate::rtp::rtcp::ReportBlock;
use bytes::Bytes;
use std::time::Instant;

/// A received RTP packet, decrypted and routed to its transceiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRtp {
    /// The transceiver whose receiver it belongs to.
    pub transceiver: TransceiverId,
    /// The sender's SSRC.
    pub ssrc: u32,
    /// The simulcast layer (the `rtp-stream-id` its stream was named by), if any.
    pub rid: Option<std::sync::Arc<str>>,
    /// The payload type (look it up in the transceiver's negotiated codecs).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence_number: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The marker bit.
    pub marker: bool,
    /// The whole plaintext packet: header, extensions, payload (and padding, if any).
    pub packet: Bytes,
    /// Length of the header (fixed part, CSRCs and extensions).
    pub header_len: usize,
    /// Length of the payload (without padding).
    pub payload_len: usize,
    /// The SVC layer the payload descriptor names (VP9 with `L`, AV1 OBU extension
    /// headers), for a forwarder choosing layers; `None` for other codecs.
    pub svc_layer: Option<SvcLayer>,
}

impl ReceivedRtp {
    /// The payload, without header and padding.
    pub fn payload(&self) -> &[u8] {
        &self.packet[self.header_len..self.header_len + self.payload_len]
    }
}

/// `inbound-rtp` statistics of one received SSRC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboundRtpStats {
    /// The sender's SSRC.
    pub ssrc: u32,
    /// The simulcast layer's rid, once a packet named it.
    pub rid: Option<String>,
    /// RTP packets received (duplicates included).
    pub packets_received: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// Header bytes received.
    pub header_bytes_received: u64,
    /// Expected minus received (RFC 3550 A.3); negative with duplicates.
    pub packets_lost: i64,
    /// Interarrival jitter in RTP timestamp units (RFC 3550 A.8).
    pub jitter: u32,
    /// Highest sequence number received, extended with the wrap count.
    pub highest_sequence_number: u32,
    /// PLIs we sent about this stream.
    pub pli_count: u64,
    /// FIRs we sent.
    pub fir_count: u64,
    /// NACK packets we sent about this stream (`nackCount`).
    pub nack_count: u64,
    /// Packets restored from retransmissions (RTX, or repeated on this SSRC when NACK
    /// without RTX was negotiated). Restored RTX packets are not in `packets_received`.
    pub retransmitted_packets_received: u64,
    /// Sequence numbers NACKed and given up (retry cap, age, or list overflow).
    pub nack_given_up: u64,
    /// Sender reports received from this SSRC.
    pub sender_reports_received: u64,
    /// Whole frames assembled and given to the application in frame mode
    /// (`framesReceived`; rtcpeer does not decode, so `framesDecoded` is the
    /// application's).
    pub frames_received: u64,
    /// Those of them that were keyframes.
    pub key_frames_received: u64,
}

/// Sequence and timing state of one received SSRC.
#[derive(Debug, Clone)]
pub(crate) struct InboundStream {
    pub ssrc: u32,
    clock_rate: u32,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Jitter estimate in RTP units, scaled by 16 (RFC 3550 A.8's integer form).
    jitter_q4: u64,
    last_transit: Option<i64>,
    /// First arrival: the origin of arrival time in RTP units.
    origin: Option<Instant>,
    /// Middle 32 bits of the last SR's NTP time and when it arrived.
    pub last_sr: Option<(u32, Instant)>,
    pub stats: InboundRtpStats,
    /// Sequence number of our next FIR to this SSRC (RFC 5104 §4.3.1.1).
    pub fir_seq: u8,
    /// Missing sequence numbers to NACK.
    pub nack: super::nack::NackGenerator,
    /// Frame assembly (frame mode): the payload type it was made for and the assembler.
    pub assembler: Option<(u8, super::assembler::FrameAssembler)>,
    /// Header extension values of frames being assembled (frame mode).
    pub frame_infos: super::frame_options::ReceivedFrameInfos,
    /// The simulcast layer's rid, from the first packet that carried it.
    pub rid: Option<std::sync::Arc<str>>,
    /// When the last packet arrived (for pause detection).
    pub last_arrival: Option<Instant>,
    /// The layer was reported paused and has not sent since.
    pub paused: bool,
}

impl InboundStream {
    pub fn new(ssrc: u32, first_seq: u16, clock_rate: u32) -> Self {
        Self {
            ssrc,
            clock_rate: clock_rate.max(1),
            base_seq: u32::from(first_seq),
            max_seq: first_seq.wrapping_sub(1),
            cycles: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter_q4: 0,
            last_transit: None,
            origin: None,
            last_sr: None,
            stats: InboundRtpStats {
                ssrc,
                ..InboundRtpStats::default()
            },
            fir_seq: 0,
            nack: super::nack::NackGenerator::default(),
            assembler: None,
            frame_infos: Default::default(),
            rid: None,
            last_arrival: None,
            paused: false,
        }
    }

    /// Names this stream's simulcast layer (the first rid seen stays).
    pub fn set_rid(&mut self, rid: &str) {
        if self.rid.is_none() {
            self.rid = Some(rid.into());
            self.stats.rid = Some(rid.to_string());
        }
    }

    /// When a layer that keeps silent is due to be reported paused.
    pub fn pause_deadline(&self) -> Option<Instant> {
        self.rid.as_ref()?;
        if self.paused {
            return None;
        }
        Some(self.last_arrival? + super::simulcast::LAYER_PAUSE_AFTER)
    }

    /// Accounts one received packet.
    pub fn on_packet(
        &mut self,
        now: Instant,
        seq: u16,
        timestamp: u32,
        header_len: usize,
        payload_len: usize,
    ) {
        let delta = seq.wrapping_sub(self.max_seq);
        if delta != 0 && delta < 0x8000 {
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = seq;
        }
        self.received += 1;
        self.stats.packets_received += 1;
        self.stats.bytes_received += payload_len as u64;
        self.stats.header_bytes_received += header_len as u64;
        self.update_jitter(now, timestamp);
        self.stats.highest_sequence_number = self.extended_max();
        self.stats.packets_lost = self.expected() as i64 - self.received as i64;
        self.stats.jitter = (self.jitter_q4 >> 4) as u32;
    }

    fn update_jitter(&mut self, now: Instant, timestamp: u32) {
        let origin = *self.origin.get_or_insert(now);
        let arrival = now.saturating_duration_since(origin).as_nanos()
            * u128::from(self.clock_rate)
            / 1_000_000_000;
        let transit = (arrival as i64).wrapping_sub(i64::from(timestamp));
        if let Some(last) = self.last_transit {
            let d = transit.wrapping_sub(last).unsigned_abs() & 0xffff_ffff;
            // J += (|D| - J) / 16, in the ×16 fixed point of RFC 3550 A.8.
            self.jitter_q4 = self.jitter_q4 + d - ((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    fn expected(&self) -> u64 {
        u64::from(self.extended_max().wrapping_sub(self.base_seq)) + 1
    }

    /// A sender report from this SSRC arrived.
    pub fn on_sender_report(&mut self, now: Instant, ntp: u64) {
        self.last_sr = Some((((ntp >> 16) & 0xffff_ffff) as u32, now));
        self.stats.sender_reports_received += 1;
    }

    /// The report block about this SSRC for our next RR or SR (RFC 3550 A.3), moving the
    /// "since last report" counters on.
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction_lost = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        let lost = (expected as i64 - self.received as i64).clamp(-0x80_0000, 0x7f_ffff) as i32;
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((middle, at)) => {
                let held = now.saturating_duration_since(at);
                let units = (held.as_nanos() * 65536 / 1_000_000_000).min(u128::from(u32::MAX));
                (middle, units as u32)
            }
            None => (0, 0),
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: lost,
            highest_seq: self.extended_max(),
            jitter: (self.jitter_q4 >> 4) as u32,
            last_sr,
            delay_since_last_sr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::time::test_epoch as t0;

    #[test]
    fn loss_and_fraction_lost_follow_rfc_3550_a3() {
        let now = t0();
        let mut s = InboundStream::new(7, 65_530, 90_000);
        for seq in [65_530u16, 65_531, 65_533, 65_535, 0, 1, 3] {
            s.on_packet(now, seq, 0, 12, 100);
        }
        // Expected 65530..=65539 (10), received 7: 3 lost.
        let block = s.report_block(now);
        assert_eq!(block.cumulative_lost, 3);
        assert_eq!(block.highest_seq, (1 << 16) + 3);
        assert_eq!(block.fraction_lost, (3 * 256 / 10) as u8);
        // Nothing new: the next interval has no loss.
        assert_eq!(s.report_block(now).fraction_lost, 0);
    }

    #[test]
    fn jitter_stays_zero_for_perfectly_paced_packets() {
        let now = t0();
        let mut s = InboundStream::new(7, 0, 90_000);
        for i in 0..50u16 {
            let at = now + Duration::from_millis(33 * u64::from(i));
            s.on_packet(at, i, 2_970 * u32::from(i), 12, 1000);
        }
        assert!(s.stats.jitter <= 1, "jitter {}", s.stats.jitter);
    }

    #[test]
    fn jitter_grows_with_variable_delay() {
        let now = t0();
        let mut s = InboundStream::new(7, 0, 90_000);
        for i in 0..50u16 {
            let wobble = if i % 2 == 0 { 0 } else { 10 };
            let at = now + Duration::from_millis(33 * u64::from(i) + wobble);
            s.on_packet(at, i, 2_970 * u32::from(i), 12, 1000);
        }
        // 10 ms alternating = 900 ticks of |D| each packet: J converges towards 900.
        assert!(s.stats.jitter > 500, "jitter {}", s.stats.jitter);
    }

    #[test]
    fn dlsr_counts_the_time_since_the_sender_report() {
        let now = t0();
        let mut s = InboundStream::new(7, 0, 90_000);
        s.on_packet(now, 0, 0, 12, 10);
        s.on_sender_report(now, 0x1234_5678_9abc_def0);
        let block = s.report_block(now + Duration::from_millis(500));
        assert_eq!(block.last_sr, 0x5678_9abc);
        assert_eq!(block.delay_since_last_sr, 0x8000);
    }
}
