//! The sending side of a transceiver at the RTP level: our SSRC, a continuous sequence
//! number and timestamp space over whatever the application writes, the header extensions
//! we negotiated, and the counters sender reports and stats need.

use crate::rtp::extensions::{self, ExtensionMap};
use crate::rtp::rtcp::{ReportBlock, SenderReport};
use crate::rtp::writer::{self, Fixed};
use std::time::{Duration, Instant};

/// An RTP packet for a transceiver's sender, as the application has it: from its own
/// packetizer, or received from another peer and forwarded.
///
/// The core rewrites what is per peer: the SSRC becomes the sender's, and sequence numbers
/// and timestamps are moved into the sender's own space by a fixed offset (gaps and
/// reordering of the source are kept). When `source` changes (a forwarder switches to
/// another upstream stream), the offsets are chosen again so that numbering continues
/// without a jump. Header extensions are written for the URIs negotiated on this m-line
/// (the mid always, when negotiated); others are left out.
#[derive(Debug, Clone, Copy)]
pub struct RtpWrite<'a> {
    /// A payload type negotiated on this transceiver.
    pub payload_type: u8,
    /// The source's sequence number.
    pub sequence_number: u16,
    /// The source's RTP timestamp (in the codec's clock).
    pub timestamp: u32,
    /// The marker bit (last packet of a video frame, start of an audio talkspurt).
    pub marker: bool,
    /// The payload (a packetizer's output, or a received packet's payload).
    pub payload: &'a [u8],
    /// Identifies the source stream the numbers belong to (e.g. the upstream SSRC).
    pub source: u32,
    /// Header extension values by URI (see [`crate::rtp::extensions`]).
    pub extensions: &'a [(&'a str, &'a [u8])],
}

impl<'a> RtpWrite<'a> {
    /// A packet with no extensions from source 0.
    pub fn new(
        payload_type: u8,
        sequence_number: u16,
        timestamp: u32,
        marker: bool,
        payload: &'a [u8],
    ) -> Self {
        Self {
            payload_type,
            sequence_number,
            timestamp,
            marker,
            payload,
            source: 0,
            extensions: &[],
        }
    }
}

/// `outbound-rtp` statistics of one sender.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboundRtpStats {
    /// Our SSRC.
    pub ssrc: u32,
    /// The layer's RTP stream id, for a simulcast layer (`rid`).
    pub rid: Option<String>,
    /// Whether a simulcast layer is sent now (`active`); true without simulcast.
    pub active: bool,
    /// RTP packets sent.
    pub packets_sent: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Header bytes (RTP header and extensions) sent.
    pub header_bytes_sent: u64,
    /// NACK packets the peer sent about this stream.
    pub nack_count: u64,
    /// Packets sent again because the peer NACKed them (`retransmittedPacketsSent`).
    pub retransmitted_packets_sent: u64,
    /// Payload bytes of those (`retransmittedBytesSent`).
    pub retransmitted_bytes_sent: u64,
    /// NACKed packets not sent again: no longer in the history, resent less than a
    /// round trip ago, or over the retransmission rate cap.
    pub retransmissions_refused: u64,
    /// PLIs the peer sent.
    pub pli_count: u64,
    /// FIRs the peer sent.
    pub fir_count: u64,
    /// Frames written with `write_frame` and sent (`framesSent`; rtcpeer does not encode,
    /// so `framesEncoded` is the application's).
    pub frames_sent: u64,
    /// Those of them that were keyframes (`keyFramesSent`), as the payload format shows.
    pub key_frames_sent: u64,
    /// What the peer last reported about this stream (`remote-inbound-rtp`).
    pub remote: Option<RemoteInboundStats>,
}

/// `remote-inbound-rtp`: the peer's receiver report about one of our streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteInboundStats {
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost in total (may be negative with duplicates).
    pub packets_lost: i64,
    /// Interarrival jitter in RTP timestamp units.
    pub jitter: u32,
    /// Round-trip time from the report's LSR/DLSR (RFC 3550 §6.4.1), once known.
    pub round_trip_time: Option<Duration>,
    /// Reports received.
    pub reports_received: u64,
}

/// Numbering of one outbound stream.
#[derive(Debug, Clone)]
pub(crate) struct OutboundStream {
    pub ssrc: u32,
    /// The SSRC announced for retransmissions (`a=ssrc-group:FID`).
    pub rtx_ssrc: u32,
    /// Sequence number and timestamp of the first packet (random, RFC 3550 §5.1).
    next_seq: u16,
    next_ts_base: u32,
    /// Offsets from the current source's numbers to ours.
    mapping: Option<SourceMapping>,
    /// Our timestamp of the last packet and when it was sent, with its codec clock.
    last: Option<(u32, Instant, u32)>,
    /// The extensions every packet carries, fixed by the last negotiation.
    header: NegotiatedHeader,
    pub stats: OutboundRtpStats,
    /// Sent packets kept for retransmission (when NACK is negotiated).
    pub history: super::history::SendHistory,
    /// The cap on retransmissions.
    pub budget: super::history::RetransmitBudget,
    /// Next sequence number on the RTX SSRC.
    pub rtx_seq: u16,
    /// The simulcast layer's rid, written (`rtp-stream-id`) until the peer reports on our
    /// SSRC, and on every retransmission (`repaired-rtp-stream-id`).
    rid: Option<Box<[u8]>>,
    /// The peer's receiver report named our SSRC: it knows the stream, the rid may stop.
    rid_acked: bool,
}

/// The header extensions the core writes on every packet of a sender, resolved once per
/// negotiation: the mid's id and bytes, and the transport-wide sequence number's id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NegotiatedHeader {
    mid: Option<(u8, Box<[u8]>)>,
    transport_cc: Option<u8>,
    /// Ids of `rtp-stream-id` and `repaired-rtp-stream-id`, when negotiated and the
    /// stream has a rid.
    rid: Option<u8>,
    repaired_rid: Option<u8>,
}

#[derive(Debug, Clone, Copy)]
struct SourceMapping {
    source: u32,
    seq_offset: u16,
    ts_offset: u32,
    /// Highest sequence number written so far, in our space.
    highest_seq: u16,
}

impl OutboundStream {
    pub fn new(ssrc: u32, rtx_ssrc: u32, first_seq: u16, first_ts: u32) -> Self {
        Self {
            ssrc,
            rtx_ssrc,
            next_seq: first_seq,
            next_ts_base: first_ts,
            mapping: None,
            last: None,
            header: NegotiatedHeader::default(),
            stats: OutboundRtpStats {
                ssrc,
                active: true,
                ..OutboundRtpStats::default()
            },
            history: super::history::SendHistory::default(),
            budget: super::history::RetransmitBudget::default(),
            rtx_seq: first_seq ^ 0x5a5a,
            rid: None,
            rid_acked: false,
        }
    }

    /// Makes this stream the simulcast layer `rid`, or no layer (before the negotiation
    /// that fixes the header, see [`Self::set_negotiated`]).
    pub fn set_rid(&mut self, rid: Option<&str>) {
        self.rid = rid.map(|r| r.as_bytes().into());
        self.stats.rid = rid.map(str::to_string);
    }

    /// The rid extension for the next media packet (until the peer acknowledged the SSRC).
    fn rid_ext(&self) -> Option<(u8, &[u8])> {
        let id = self.header.rid.filter(|_| !self.rid_acked)?;
        Some((id, self.rid.as_deref()?))
    }

    /// The repaired-rid extension for a retransmission.
    fn repaired_rid_ext(&self) -> Option<(u8, &[u8])> {
        Some((self.header.repaired_rid?, self.rid.as_deref()?))
    }

    /// The RTX packet (RFC 4588 §4) that carries `original` again: our RTX SSRC and its own
    /// sequence number, the original's timestamp and marker, payload type `rtx_pt`, the
    /// original sequence number before the payload, and the negotiated header extensions
    /// (see [`Self::set_negotiated`]; a fresh transport-wide sequence number when
    /// transport-cc is negotiated) followed by the original's other extensions. `spare` bytes of capacity are left for the SRTP tag.
    /// `None` when `original` does not parse.
    pub fn build_rtx(
        &mut self,
        original: &[u8],
        rtx_pt: u8,
        ext: &ExtensionMap,
        transport_seq: Option<u16>,
        spare: usize,
    ) -> Option<Vec<u8>> {
        let p = crate::rtp::RtpPacket::new_checked(original).ok()?;
        let payload = super::history::rtx_payload(p.sequence_number(), p.payload());
        let w = RtpWrite::new(rtx_pt, 0, 0, p.marker(), &[]);
        let fixed = Fixed {
            marker: p.marker(),
            payload_type: rtx_pt,
            sequence_number: self.rtx_seq,
            timestamp: p.timestamp(),
            ssrc: self.rtx_ssrc,
        };
        self.rtx_seq = self.rtx_seq.wrapping_add(1);
        let twcc = transport_seq.map(u16::to_be_bytes);
        // The original's own values (audio level, capture time, ...) go along, so that a
        // repaired packet tells the receiver what the lost one would have.
        // The rid is replaced by the repaired-rid (RFC 8852 §3.2).
        let own = [
            ext.id_of(extensions::MID),
            ext.id_of(extensions::TRANSPORT_CC),
            ext.id_of(extensions::RID),
            ext.id_of(extensions::REPAIRED_RID),
        ];
        let carried = p
            .extensions()
            .filter(move |&(id, _)| !own.contains(&Some(id)));
        let rrid = self.repaired_rid_ext();
        let exts = header_extensions(&self.header, twcc.as_ref(), rrid, &w, ext).chain(carried);
        let header_len = writer::encoded_len(0, writer::layout(exts.clone()));
        let mut packet = Vec::with_capacity(header_len + payload.len() + spare);
        writer::append(&fixed, &[], exts, &mut packet);
        packet.extend_from_slice(&payload);
        Some(packet)
    }

    /// A negotiation fixed the m-line's `mid` and extension map `ext`: every packet from now
    /// on carries the mid (when the mid extension was negotiated and the mid is not empty).
    pub fn set_negotiated(&mut self, mid: Option<&str>, ext: &ExtensionMap) {
        let mid = mid.filter(|m| !m.is_empty());
        self.header = NegotiatedHeader {
            mid: ext
                .id_of(extensions::MID)
                .zip(mid)
                .map(|(id, mid)| (id, mid.as_bytes().into())),
            transport_cc: ext.id_of(extensions::TRANSPORT_CC),
            rid: ext.id_of(extensions::RID).filter(|_| self.rid.is_some()),
            repaired_rid: ext
                .id_of(extensions::REPAIRED_RID)
                .filter(|_| self.rid.is_some()),
        };
    }

    /// Whether the last negotiation agreed on transport-wide sequence numbers.
    pub fn uses_transport_cc(&self) -> bool {
        self.header.transport_cc.is_some()
    }

    /// Builds the RTP packet for `w` in our numbering: header with our SSRC, the mid and
    /// `transport_seq` (when negotiated, see [`Self::set_negotiated`]) and the application's
    /// extensions whose URIs `ext` maps; then the payload. Returns the plaintext packet,
    /// with `spare` bytes of capacity left for the SRTP tag.
    ///
    /// One allocation: the packet itself.
    pub fn build(
        &mut self,
        now: Instant,
        w: &RtpWrite<'_>,
        clock_rate: u32,
        ext: &ExtensionMap,
        transport_seq: Option<u16>,
        spare: usize,
    ) -> Vec<u8> {
        let map = self.map_source(now, w);
        let seq = w.sequence_number.wrapping_add(map.seq_offset);
        let ts = w.timestamp.wrapping_add(map.ts_offset);
        let fixed = Fixed {
            marker: w.marker,
            payload_type: w.payload_type,
            sequence_number: seq,
            timestamp: ts,
            ssrc: self.ssrc,
        };
        let twcc = transport_seq.map(u16::to_be_bytes);
        let rid = self.rid_ext();
        let exts = header_extensions(&self.header, twcc.as_ref(), rid, w, ext);
        let header_len = writer::encoded_len(0, writer::layout(exts.clone()));
        let mut packet = Vec::with_capacity(header_len + w.payload.len() + spare);
        writer::append(&fixed, &[], exts, &mut packet);
        packet.extend_from_slice(w.payload);
        self.record_sent(now, seq, ts, clock_rate, header_len, w.payload.len());
        packet
    }

    /// The mapping for `w.source`, chosen so that numbering continues when a new source
    /// starts (the first one starts at our random initial numbers).
    fn map_source(&mut self, now: Instant, w: &RtpWrite<'_>) -> SourceMapping {
        if let Some(m) = self.mapping.filter(|m| m.source == w.source) {
            return m;
        }
        let ts_next = match self.last {
            Some((ts, at, rate)) => ts.wrapping_add(elapsed_ticks(at, now, rate).max(1)),
            None => self.next_ts_base,
        };
        let m = SourceMapping {
            source: w.source,
            seq_offset: self.next_seq.wrapping_sub(w.sequence_number),
            ts_offset: ts_next.wrapping_sub(w.timestamp),
            highest_seq: self.next_seq.wrapping_sub(1),
        };
        self.mapping = Some(m);
        m
    }

    fn record_sent(
        &mut self,
        now: Instant,
        seq: u16,
        ts: u32,
        clock_rate: u32,
        header_len: usize,
        payload_len: usize,
    ) {
        if let Some(m) = self.mapping.as_mut() {
            // A sequence number ahead of the highest (within half the space) moves it on.
            if seq.wrapping_sub(m.highest_seq) < 0x8000 {
                m.highest_seq = seq;
                self.next_seq = seq.wrapping_add(1);
                self.last = Some((ts, now, clock_rate));
            }
        }
        self.stats.packets_sent += 1;
        self.stats.bytes_sent += payload_len as u64;
        self.stats.header_bytes_sent += header_len as u64;
    }

    /// The sender report of this stream at `now`, or `None` before the first packet (an
    /// SR without RTP carries no valid NTP↔RTP mapping). `ntp` is the wall clock at `now`.
    pub fn sender_report(
        &self,
        now: Instant,
        ntp: u64,
        reports: Vec<ReportBlock>,
    ) -> Option<SenderReport> {
        let (ts, at, rate) = self.last?;
        Some(SenderReport {
            ssrc: self.ssrc,
            ntp_time: ntp,
            rtp_time: ts.wrapping_add(elapsed_ticks(at, now, rate)),
            packet_count: self.stats.packets_sent as u32,
            octet_count: self.stats.bytes_sent as u32,
            reports,
        })
    }

    /// Our sequence number of the last packet sent in order, if any.
    pub fn last_sent_seq(&self) -> Option<u16> {
        self.last.map(|_| self.next_seq.wrapping_sub(1))
    }

    /// A padding-only packet on the RTX stream (a bandwidth probe, as libwebrtc sends):
    /// our RTX SSRC and its next sequence number, payload type `rtx_pt`, the last media
    /// timestamp, the negotiated extensions with `transport_seq`, the padding bit set and
    /// `pad` bytes (1..=255) of padding whose last byte is their count (RFC 3550 §5.1).
    /// `spare` bytes of capacity are left for the SRTP tag. `None` for a `pad` out of range.
    pub fn build_padding(
        &mut self,
        rtx_pt: u8,
        ext: &ExtensionMap,
        transport_seq: u16,
        pad: usize,
        spare: usize,
    ) -> Option<Vec<u8>> {
        let pad_len = u8::try_from(pad).ok().filter(|p| *p > 0)?;
        let timestamp = self.last.map_or(self.next_ts_base, |(ts, _, _)| ts);
        let w = RtpWrite::new(rtx_pt, 0, timestamp, false, &[]);
        let fixed = Fixed {
            marker: false,
            payload_type: rtx_pt,
            sequence_number: self.rtx_seq,
            timestamp,
            ssrc: self.rtx_ssrc,
        };
        self.rtx_seq = self.rtx_seq.wrapping_add(1);
        let twcc = transport_seq.to_be_bytes();
        let rrid = self.repaired_rid_ext();
        let exts = header_extensions(&self.header, Some(&twcc), rrid, &w, ext);
        let header_len = writer::encoded_len(0, writer::layout(exts.clone()));
        let mut packet = Vec::with_capacity(header_len + pad + spare);
        writer::append(&fixed, &[], exts, &mut packet);
        packet[0] |= 0x20;
        packet.resize(header_len + pad - 1, 0);
        packet.push(pad_len);
        Some(packet)
    }

    /// Whether any packet was sent.
    pub fn has_sent(&self) -> bool {
        self.last.is_some()
    }

    /// A receiver report block about this stream arrived at `arrival_ntp`.
    pub fn on_report_block(&mut self, block: &ReportBlock, arrival_ntp: u64) {
        self.rid_acked |= block.ssrc == self.ssrc;
        let remote = self
            .stats
            .remote
            .get_or_insert_with(RemoteInboundStats::default);
        remote.fraction_lost = block.fraction_lost;
        remote.packets_lost = i64::from(block.cumulative_lost);
        remote.jitter = block.jitter;
        remote.reports_received += 1;
        if block.last_sr != 0 {
            let arrival = ((arrival_ntp >> 16) & 0xffff_ffff) as u32;
            let rtt = arrival
                .wrapping_sub(block.last_sr)
                .wrapping_sub(block.delay_since_last_sr);
            // Above 2^31 the subtraction went negative: clocks disagree, no RTT.
            if rtt < 0x8000_0000 {
                let nanos = (u64::from(rtt) * 1_000_000_000) >> 16;
                remote.round_trip_time = Some(Duration::from_nanos(nanos));
            }
        }
    }
}

/// RTP clock ticks between `from` and `to` at `clock_rate` Hz (wrapping like RTP time).
fn elapsed_ticks(from: Instant, to: Instant, clock_rate: u32) -> u32 {
    let d = to.saturating_duration_since(from);
    ((d.as_nanos() * u128::from(clock_rate)) / 1_000_000_000) as u32
}

/// The extensions of one packet, in write order: the mid, the transport-wide sequence
/// number (both when negotiated), the rid or repaired rid `rid` (when given), then the
/// application's values for negotiated URIs other than those.
fn header_extensions<'e>(
    header: &'e NegotiatedHeader,
    twcc: Option<&'e [u8; 2]>,
    rid: Option<(u8, &'e [u8])>,
    w: &'e RtpWrite<'_>,
    ext: &'e ExtensionMap,
) -> impl Iterator<Item = (u8, &'e [u8])> + Clone + 'e {
    let mid = header.mid.as_ref().map(|(id, mid)| (*id, &mid[..]));
    let twcc = header
        .transport_cc
        .zip(twcc)
        .map(|(id, seq)| (id, &seq[..]));
    let app = w.extensions.iter().filter_map(move |&(uri, value)| {
        let ours = [
            extensions::MID,
            extensions::TRANSPORT_CC,
            extensions::RID,
            extensions::REPAIRED_RID,
        ]
        .contains(&uri);
        (!ours)
            .then(|| ext.id_of(uri))
            .flatten()
            .map(|id| (id, value))
    });
    mid.into_iter().chain(twcc).chain(rid).chain(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::time::test_epoch as t0;

    use crate::rtp::RtpHeader;

    fn ext() -> ExtensionMap {
        let mut m = ExtensionMap::default();
        m.insert(4, extensions::MID);
        m
    }

    /// A stream negotiated on mid "0" with [`ext`].
    fn stream(ssrc: u32, rtx_ssrc: u32, first_seq: u16, first_ts: u32) -> OutboundStream {
        let mut s = OutboundStream::new(ssrc, rtx_ssrc, first_seq, first_ts);
        s.set_negotiated(Some("0"), &ext());
        s
    }

    #[test]
    fn rewrites_ssrc_and_offsets_numbers() {
        let now = t0();
        let mut s = stream(0x1234, 0x5678, 1000, 50_000);
        let a = s.build(
            now,
            &RtpWrite::new(96, 7, 90, true, b"ab"),
            90_000,
            &ext(),
            None,
            0,
        );
        let b = s.build(
            now,
            &RtpWrite::new(96, 9, 180, false, b"cd"),
            90_000,
            &ext(),
            None,
            0,
        );
        let (ha, _) = RtpHeader::parse(&a).unwrap();
        let (hb, _) = RtpHeader::parse(&b).unwrap();
        assert_eq!(
            (ha.ssrc, ha.sequence_number, ha.timestamp),
            (0x1234, 1000, 50_000)
        );
        // The gap of the source (8 missing) is kept.
        assert_eq!((hb.sequence_number, hb.timestamp), (1002, 50_090));
        assert_eq!(ha.extensions, vec![(4, b"0".to_vec())]);
        assert!(a.ends_with(b"ab"));
    }

    #[test]
    fn a_new_source_continues_the_numbering() {
        let now = t0();
        let mut s = stream(1, 2, 100, 0);
        s.build(
            now,
            &RtpWrite::new(96, 500, 1000, false, b"x"),
            90_000,
            &ext(),
            None,
            0,
        );
        let mut w = RtpWrite::new(96, 7, 77, false, b"y");
        w.source = 9;
        let later = now + Duration::from_millis(100);
        let p = s.build(later, &w, 90_000, &ext(), None, 0);
        let (h, _) = RtpHeader::parse(&p).unwrap();
        assert_eq!(h.sequence_number, 101);
        assert_eq!(h.timestamp, 9_000);
    }

    #[test]
    fn negotiated_mid_and_transport_seq_come_first_then_mapped_app_extensions() {
        let mut map = ext();
        map.insert(3, extensions::TRANSPORT_CC);
        map.insert(2, extensions::ABS_SEND_TIME);
        let mut s = OutboundStream::new(0xdead_beef, 2, 0x1234, 0x1122_3344);
        s.set_negotiated(Some("0"), &map);
        assert!(s.uses_transport_cc());
        let mut w = RtpWrite::new(96, 1, 1, true, &[0x90, 0x80]);
        // The mid and transport-cc values are the core's; an unmapped URI is left out.
        w.extensions = &[
            (extensions::ABS_SEND_TIME, &[0x12, 0x34, 0x56]),
            (extensions::MID, b"x"),
            (extensions::AUDIO_LEVEL, &[0x7f]),
        ];
        let p = s.build(t0(), &w, 90_000, &map, Some(7), 16);
        #[rustfmt::skip]
        let want = [
            0x90, 0xe0, 0x12, 0x34, 0x11, 0x22, 0x33, 0x44, 0xde, 0xad, 0xbe, 0xef,
            0xbe, 0xde, 0x00, 0x03, // one-byte form, 3 words
            0x40, b'0', // mid "0"
            0x31, 0x00, 0x07, // transport-wide seq 7
            0x22, 0x12, 0x34, 0x56, // abs-send-time
            0x00, 0x00, 0x00, // padding
            0x90, 0x80,
        ];
        assert_eq!(p, want);
        assert!(p.capacity() >= p.len() + 16, "room for the SRTP tag");
        assert_eq!(s.stats.header_bytes_sent, 28);
    }

    #[test]
    fn rtx_carries_the_original_extensions_with_a_fresh_transport_seq() {
        let mut map = ext();
        map.insert(3, extensions::TRANSPORT_CC);
        map.insert(1, extensions::AUDIO_LEVEL);
        let mut s = OutboundStream::new(0x0a0b_0c0d, 0x1122_3344, 0x0100, 0x0200);
        s.set_negotiated(Some("0"), &map);
        s.rtx_seq = 0x0900;
        let mut w = RtpWrite::new(96, 0, 0, true, b"pp");
        w.extensions = &[(extensions::AUDIO_LEVEL, &[0x85])];
        let original = s.build(t0(), &w, 90_000, &map, Some(5), 0);
        let rtx = s
            .build_rtx(&original, 97, &map, Some(6), 0)
            .expect("parses");
        #[rustfmt::skip]
        let want = [
            0x90, 0xe1, 0x09, 0x00, 0x00, 0x00, 0x02, 0x00, 0x11, 0x22, 0x33, 0x44,
            0xbe, 0xde, 0x00, 0x02,
            0x40, b'0', // mid
            0x31, 0x00, 0x06, // the retransmission's own transport-wide seq
            0x10, 0x85, // the original's audio level
            0x00, // padding
            0x01, 0x00, // original sequence number
            b'p', b'p',
        ];
        assert_eq!(rtx, want);
    }

    #[test]
    fn a_layer_writes_its_rid_until_reported_on_and_repaired_rid_on_every_rtx() {
        let mut map = ext();
        map.insert(10, extensions::RID);
        map.insert(11, extensions::REPAIRED_RID);
        let mut s = OutboundStream::new(0x0101_0101, 0x0202_0202, 10, 0);
        s.set_rid(Some("hi"));
        s.set_negotiated(Some("0"), &map);
        let w = RtpWrite::new(96, 0, 0, true, b"x");
        let first = s.build(t0(), &w, 90_000, &map, None, 0);
        let (h, _) = RtpHeader::parse(&first).unwrap();
        assert_eq!(h.extensions, vec![(4, b"0".to_vec()), (10, b"hi".to_vec())]);
        let rtx = s.build_rtx(&first, 97, &map, None, 0).expect("parses");
        let (h, _) = RtpHeader::parse(&rtx).unwrap();
        assert_eq!(h.ssrc, 0x0202_0202);
        assert_eq!(
            h.extensions,
            vec![(4, b"0".to_vec()), (11, b"hi".to_vec())],
            "the rid is replaced by the repaired rid"
        );
        // A report about another SSRC changes nothing; one about ours ends the rid.
        let other = ReportBlock {
            ssrc: 9,
            ..ReportBlock::default()
        };
        s.on_report_block(&other, 0);
        let w = RtpWrite::new(96, 1, 0, true, b"x");
        let (h, _) = RtpHeader::parse(&s.build(t0(), &w, 90_000, &map, None, 0)).unwrap();
        assert_eq!(h.extensions.len(), 2, "still named");
        let ours = ReportBlock {
            ssrc: 0x0101_0101,
            ..ReportBlock::default()
        };
        s.on_report_block(&ours, 0);
        let w = RtpWrite::new(96, 2, 0, true, b"x");
        let later = s.build(t0(), &w, 90_000, &map, None, 0);
        let (h, _) = RtpHeader::parse(&later).unwrap();
        assert_eq!(h.extensions, vec![(4, b"0".to_vec())]);
        let rtx = s.build_rtx(&later, 97, &map, None, 0).expect("parses");
        let (h, _) = RtpHeader::parse(&rtx).unwrap();
        assert_eq!(h.extensions, vec![(4, b"0".to_vec()), (11, b"hi".to_vec())]);
        // Without a rid (no simulcast), neither is written.
        s.set_rid(None);
        s.set_negotiated(Some("0"), &map);
        let rtx = s.build_rtx(&later, 97, &map, None, 0).expect("parses");
        let (h, _) = RtpHeader::parse(&rtx).unwrap();
        assert_eq!(h.extensions, vec![(4, b"0".to_vec())]);
    }

    #[test]
    fn without_negotiated_mid_extension_no_mid_is_written() {
        let mut s = OutboundStream::new(1, 2, 0, 0);
        s.set_negotiated(Some("0"), &ExtensionMap::default());
        assert!(!s.uses_transport_cc());
        let p = s.build(
            t0(),
            &RtpWrite::new(96, 1, 1, false, b"x"),
            90_000,
            &ExtensionMap::default(),
            Some(9),
            0,
        );
        assert_eq!(p.len(), 12 + 1);
        assert_eq!(p[0] & 0x10, 0, "no X bit");
    }

    #[test]
    fn no_sender_report_before_the_first_packet() {
        let s = OutboundStream::new(1, 2, 0, 0);
        assert!(s.sender_report(t0(), 0, Vec::new()).is_none());
    }

    #[test]
    fn round_trip_time_from_lsr_and_dlsr() {
        let mut s = OutboundStream::new(1, 2, 0, 0);
        // SR sent at NTP middle 0x0001_0000 (1 s); receiver held it 0.25 s; report
        // arrives at 1.5 s: RTT 0.25 s.
        let block = ReportBlock {
            ssrc: 1,
            last_sr: 0x0001_0000,
            delay_since_last_sr: 0x4000,
            ..ReportBlock::default()
        };
        s.on_report_block(&block, 0x0001_8000u64 << 16);
        let rtt = s.stats.remote.unwrap().round_trip_time.unwrap();
        assert_eq!(rtt, Duration::from_millis(250));
    }
}
