//! Media on the wire: SRTP keys from DTLS (RFC 5764), received SRTP/SRTCP decrypted and
//! routed (RFC 8843 §9.2: mid extension, then SSRC, then payload type), RTCP consumed
//! (reports, keyframe requests), and what we send (RTP from the application, reports,
//! keyframe requests) protected and put on the data path.

use super::media::MAX_TRANSCEIVERS;
use super::{Event, PeerConnection, PeerConnectionError};
use crate::media::assembler::AssemblerPacket;
use crate::media::bwe::{ReceiveSideBwe, SendTime};
use crate::media::pacer::PacketKind;
use crate::media::{
    InboundStream, KeyframeRequestKind, NackUpdate, ReceivedRtp, RtpWrite, TransceiverId,
};
use crate::rtp::rtcp::{self, Fir, Pli, ReceiverReport, RtcpPacket, Sdes, SdesChunk};
use crate::rtp::{RtpPacket, extensions};
use crate::sdp::MediaKind;
use crate::srtp::{SrtpConfig, SrtpError, SrtpSession};
use bytes::Bytes;

/// The DTLS exporter label of DTLS-SRTP (RFC 5764 §4.2).
const SRTP_EXPORTER_LABEL: &str = "EXTRACTOR-dtls_srtp";

/// Most inbound SSRCs one transceiver tracks (the media SSRC and a few changes of it).
const MAX_INBOUND_PER_TRANSCEIVER: usize = 8;

/// RTCP SDES item type of the CNAME (RFC 3550 §6.5.1).
const SDES_CNAME: u8 = 1;

impl PeerConnection {
    /// Derives the SRTP keys once DTLS connected with a `use_srtp` profile.
    pub(crate) fn setup_srtp(&mut self, profile: Option<crate::dtls::SrtpProfile>) {
        let (Some(profile), Some(dtls)) = (profile, self.dtls.as_ref()) else {
            return;
        };
        let Some(len) = profile.keying_material_len() else {
            return;
        };
        let is_client = self.dtls_role == Some(crate::dtls::DtlsRole::Client);
        let keys = dtls
            .export_keying_material(SRTP_EXPORTER_LABEL, len)
            .map_err(|e| e.to_string())
            .and_then(|material| {
                SrtpSession::from_keying_material(
                    profile,
                    &material,
                    is_client,
                    &SrtpConfig::default(),
                )
                .map_err(|e| e.to_string())
            });
        match keys {
            Ok(session) => {
                self.media.srtp = Some(session);
                if self.media.transceivers.iter().any(|t| t.mid.is_some()) {
                    self.media.reports.start(self.now, &mut self.rng);
                }
                // Simulcast starts with the layers the start rate allows.
                self.allocate_simulcast(self.config.bandwidth.start_bitrate_bps);
            }
            Err(e) => tracing::warn!(%e, "pc: SRTP keys could not be derived"),
        }
    }

    /// A datagram in the RTP/RTCP range (first byte 128..=191).
    pub(crate) fn handle_media_datagram(&mut self, payload: &[u8]) {
        if self.media.srtp.is_none() {
            self.media.stats.dropped_before_keys += 1;
            return;
        }
        let mut buf = payload.to_vec();
        if crate::rtp::is_rtcp(payload) {
            let result = self
                .media
                .srtp
                .as_mut()
                .map(|s| s.inbound.unprotect_rtcp(&mut buf));
            if self.count_unprotect(result) {
                self.media.stats.srtcp_packets_received += 1;
                self.handle_rtcp(&buf);
            }
        } else {
            let result = self
                .media
                .srtp
                .as_mut()
                .map(|s| s.inbound.unprotect_rtp(&mut buf));
            if self.count_unprotect(result) {
                self.media.stats.srtp_packets_received += 1;
                self.handle_rtp(buf);
            }
        }
    }

    /// Counts a failed unprotect; true when the packet decrypted.
    fn count_unprotect(&mut self, result: Option<Result<(), SrtpError>>) -> bool {
        let stats = &mut self.media.stats;
        match result {
            Some(Ok(())) => return true,
            Some(Err(SrtpError::AuthenticationFailed)) => stats.srtp_auth_failures += 1,
            Some(Err(SrtpError::Replayed)) => stats.srtp_replays += 1,
            Some(Err(_)) | None => stats.srtp_other_failures += 1,
        }
        tracing::trace!(?result, "pc: SRTP/SRTCP packet dropped");
        false
    }

    fn handle_rtp(&mut self, mut buf: Vec<u8>) {
        let Ok(packet) = RtpPacket::new_checked(&buf[..]) else {
            self.media.stats.srtp_other_failures += 1;
            return;
        };
        self.record_transport_seq(&packet);
        if self.media.ccfb {
            let now = self.now;
            self.media
                .ccfb_feedback
                .on_packet(now, packet.ssrc(), packet.sequence_number());
        }
        let Some(id) = self.route_rtp(&packet) else {
            self.media.stats.rtp_unroutable += 1;
            return;
        };
        let pt = packet.payload_type();
        let is_rtx = self
            .media
            .get(id)
            .is_some_and(|t| t.rtx_payload_types.contains(&pt));
        self.feed_receive_estimator(id, &packet, is_rtx);
        if is_rtx && packet.payload().len() < 2 {
            // Padding only: a bandwidth probe, counted for feedback above.
            self.media.stats.rtx_padding += 1;
            return;
        }
        if is_rtx && !self.repair_rtx(id, &mut buf) {
            self.media.stats.rtx_dropped += 1;
            return;
        }
        self.deliver_rtp(id, buf, is_rtx);
    }

    /// Every packet with the transport-wide sequence number counts for transport-cc
    /// feedback, before routing: RTX and padding probes (Chromium's on SSRC 0) too.
    fn record_transport_seq(&mut self, packet: &RtpPacket<&[u8]>) {
        let Some(id) = self.media.bundle_extensions.id_of(extensions::TRANSPORT_CC) else {
            return;
        };
        if let Some(&[hi, lo]) = packet.extension(id) {
            let seq = u16::from_be_bytes([hi, lo]);
            let now = self.now;
            self.media
                .transport_feedback
                .on_packet(now, seq, packet.ssrc());
        }
    }

    /// With REMB and no transport-cc negotiated, every packet routed to transceiver `id`
    /// counts for the receive-side estimate behind our REMBs: by its abs-send-time when it
    /// has one (RTX and padding too), else by its RTP timestamp (media packets only: an RTX
    /// packet carries the original's timestamp, not its own send time).
    fn feed_receive_estimator(
        &mut self,
        id: TransceiverId,
        packet: &RtpPacket<&[u8]>,
        is_rtx: bool,
    ) {
        if !self.media.remb_only {
            return;
        }
        let abs_send_time = self
            .media
            .bundle_extensions
            .id_of(extensions::ABS_SEND_TIME)
            .and_then(|ext_id| packet.extension(ext_id))
            .and_then(|v| <[u8; 3]>::try_from(v).ok());
        let sent = match abs_send_time {
            Some([a, b, c]) => SendTime::AbsSendTime(u32::from_be_bytes([0, a, b, c])),
            None if !is_rtx => SendTime::RtpTimestamp {
                timestamp: packet.timestamp(),
                clock_rate: self
                    .media
                    .get(id)
                    .and_then(|t| t.codec(packet.payload_type()))
                    .map_or(90_000, |c| c.codec.clock_rate),
            },
            None => return,
        };
        let size = packet.header_len() + packet.payload().len();
        let (now, config) = (self.now, self.config.bandwidth);
        self.media
            .remote_bwe
            .get_or_insert_with(|| ReceiveSideBwe::new(config))
            .on_packet(now, packet.ssrc(), size, sent);
    }

    /// A packet routed to transceiver `id` (`repaired`: restored from RTX): stream
    /// statistics, NACK bookkeeping, then `Event::Rtp` or frame assembly.
    fn deliver_rtp(&mut self, id: TransceiverId, buf: Vec<u8>, repaired: bool) {
        let Ok(packet) = RtpPacket::new_checked(&buf[..]) else {
            self.media.stats.srtp_other_failures += 1;
            return;
        };
        let ssrc = packet.ssrc();
        let pt = packet.payload_type();
        let (seq, ts, marker) = (
            packet.sequence_number(),
            packet.timestamp(),
            packet.marker(),
        );
        let header_len = packet.header_len();
        let payload_len = packet.payload().len();
        let now = self.now;
        let t = self
            .media
            .get_mut(id)
            .expect("routed to an existing transceiver");
        if !t.can_receive() {
            self.media.stats.rtp_not_receiving += 1;
            return;
        }
        let clock_rate = t.codec(pt).map_or(90_000, |c| c.codec.clock_rate);
        let svc_layer = t.codec(pt).and_then(|c| {
            let payload = &buf[header_len..header_len + payload_len];
            crate::media::packetize::svc_layer_of(&c.codec, payload)
        });
        let rid = t
            .extensions
            .id_of(extensions::RID)
            .and_then(|ext_id| packet.extension(ext_id))
            .and_then(|v| std::str::from_utf8(v).ok())
            .filter(|v| !v.is_empty());
        if t.inbound_mut(ssrc).is_none() {
            if repaired {
                // A retransmission of a stream never received: nothing to repair.
                self.media.stats.rtx_dropped += 1;
                return;
            }
            if t.inbound.len() >= MAX_INBOUND_PER_TRANSCEIVER {
                t.inbound.remove(0);
            }
            t.inbound.push(InboundStream::new(ssrc, seq, clock_rate));
        }
        let nack_on = t.nack_enabled();
        let frames = t.receive_frames;
        let stream = t.inbound_mut(ssrc).expect("inserted above");
        if repaired && nack_on && !stream.nack.awaits(seq) {
            // A copy of a packet we have (bandwidth probes resend recent packets as RTX).
            self.media.stats.rtx_duplicates += 1;
            return;
        }
        if let Some(rid) = rid {
            stream.set_rid(rid);
        }
        if repaired {
            stream.stats.retransmitted_packets_received += 1;
        } else {
            stream.on_packet(now, seq, ts, header_len, payload_len);
            stream.last_arrival = Some(now);
            if std::mem::take(&mut stream.paused)
                && let Some(rid) = &stream.rid
            {
                self.events.push_back(Event::LayerResumed {
                    transceiver: id,
                    rid: rid.to_string(),
                    ssrc,
                });
            }
        }
        let stream_rid = stream.rid.clone();
        let mut keyframe = false;
        if nack_on {
            keyframe = stream.nack.on_packet(now, seq) == NackUpdate::KeyframeNeeded;
            stream.stats.nack_given_up = stream.nack.given_up;
        }
        if frames {
            let ext = &t.extensions;
            if let Some(s) = t.inbound.iter_mut().find(|s| s.ssrc == ssrc) {
                s.frame_infos
                    .entry(ts)
                    .absorb(ext, |ext_id| packet.extension(ext_id));
            }
        }
        if !repaired {
            self.media.learn_route(ssrc, id);
        }
        let packet = Bytes::from(buf);
        if frames {
            let payload = packet.slice(header_len..header_len + payload_len);
            self.assemble(
                id,
                ssrc,
                AssemblerPacket {
                    sequence_number: seq,
                    timestamp: ts,
                    marker,
                    payload_type: pt,
                    payload,
                },
            );
        } else {
            self.events.push_back(Event::Rtp(ReceivedRtp {
                transceiver: id,
                ssrc,
                rid: stream_rid.clone(),
                payload_type: pt,
                sequence_number: seq,
                timestamp: ts,
                marker,
                packet,
                header_len,
                payload_len,
                svc_layer,
            }));
        }
        if keyframe {
            self.auto_keyframe_request(id, stream_rid);
        }
    }

    /// RFC 8843 §9.2: the mid header extension names the m-line; else a known SSRC; else a
    /// payload type that only one receiving m-line uses.
    fn route_rtp(&mut self, packet: &RtpPacket<&[u8]>) -> Option<TransceiverId> {
        if let Some(ext_id) = self.media.bundle_extensions.id_of(extensions::MID)
            && let Some(mid) = packet.extension(ext_id)
        {
            let by_mid = std::str::from_utf8(mid)
                .ok()
                .and_then(|mid| self.media.by_mid(mid))
                .map(|t| t.id);
            if by_mid.is_some() {
                return by_mid;
            }
        }
        if let Some(id) = self.media.routes.get(&packet.ssrc()) {
            return Some(*id);
        }
        let pt = packet.payload_type();
        let mut candidates = self.media.transceivers.iter().filter(|t| {
            t.can_receive() && (t.codec(pt).is_some() || t.rtx_payload_types.contains(&pt))
        });
        match (candidates.next(), candidates.next()) {
            (Some(t), None) => Some(t.id),
            _ => None,
        }
    }

    fn handle_rtcp(&mut self, buf: &[u8]) {
        let arrival_ntp = self.ntp_now();
        for item in rtcp::parse_compound(buf) {
            let packet = match item {
                Ok(p) => p,
                Err(e) => {
                    self.media.stats.rtcp_malformed += 1;
                    tracing::trace!(%e, "pc: RTCP packet does not parse");
                    break;
                }
            };
            self.handle_rtcp_packet(packet, arrival_ntp);
        }
    }

    fn handle_rtcp_packet(&mut self, packet: RtcpPacket, arrival_ntp: u64) {
        let now = self.now;
        match &packet {
            RtcpPacket::SenderReport(sr) => {
                if let Some(s) = self.inbound_stream_mut(sr.ssrc) {
                    s.on_sender_report(now, sr.ntp_time);
                }
                self.on_report_blocks(&sr.reports, arrival_ntp);
            }
            RtcpPacket::ReceiverReport(rr) => self.on_report_blocks(&rr.reports, arrival_ntp),
            RtcpPacket::Pli(pli) => {
                self.on_keyframe_request(pli.media_ssrc, KeyframeRequestKind::Pli)
            }
            RtcpPacket::Fir(fir) => {
                for (ssrc, _seq) in fir.entries.clone() {
                    self.on_keyframe_request(ssrc, KeyframeRequestKind::Fir);
                }
            }
            RtcpPacket::Nack(nack) => self.on_nack(nack),
            RtcpPacket::TransportCc(feedback) => {
                self.on_transport_feedback(feedback);
                self.feed_estimator(|bwe, now| bwe.on_feedback(feedback, now));
            }
            RtcpPacket::Ccfb(feedback) => {
                self.media.stats.ccfb_received += 1;
                if self.media.ccfb {
                    self.feed_estimator(|bwe, now| bwe.on_ccfb(feedback, now));
                }
            }
            RtcpPacket::Remb(remb) => self.on_remb(remb.bitrate_bps),
            _ => {}
        }
        let target = packet
            .media_ssrcs()
            .into_iter()
            .find_map(|ssrc| self.transceiver_of_ssrc(ssrc));
        if let Some(transceiver) = target {
            self.events.push_back(Event::Rtcp {
                transceiver,
                packet,
            });
        }
    }

    /// Counts what the peer's transport-cc feedback says of our packets, each sequence
    /// number once, at the first message that covers it.
    fn on_transport_feedback(&mut self, feedback: &rtcp::TransportCc) {
        let stats = &mut self.media.stats;
        stats.transport_feedback_received += 1;
        let next = self.media.transport_seq;
        for &(seq, delta) in &feedback.packets {
            // Sequence numbers compared by their 16-bit distance: feedback covers packets
            // sent recently.
            let not_sent_yet = seq.wrapping_sub(next) as i16 >= 0;
            let covered = self
                .media
                .transport_feedback_covered
                .is_some_and(|c| seq.wrapping_sub(c) as i16 <= 0);
            if not_sent_yet || covered {
                continue;
            }
            self.media.transport_feedback_covered = Some(seq);
            match delta {
                Some(_) => stats.transport_feedback_acked += 1,
                None => stats.transport_feedback_lost += 1,
            }
        }
    }

    fn on_report_blocks(&mut self, blocks: &[rtcp::ReportBlock], arrival_ntp: u64) {
        for block in blocks {
            if let Some(layer) = self.sender_layer_mut(block.ssrc) {
                layer.outbound.on_report_block(block, arrival_ntp);
                if let Some(f) = layer.frame_sender.as_mut() {
                    f.options.on_report(block.highest_seq);
                }
            }
        }
    }

    fn on_keyframe_request(&mut self, ssrc: u32, kind: KeyframeRequestKind) {
        let Some(t) = self
            .media
            .transceivers
            .iter_mut()
            .find(|t| t.sends_ssrc(ssrc))
        else {
            return;
        };
        let transceiver = t.id;
        let i = t.layer_of_ssrc(ssrc).expect("found by it");
        let layer = &mut t.layers[i];
        match kind {
            KeyframeRequestKind::Pli => layer.outbound.stats.pli_count += 1,
            _ => layer.outbound.stats.fir_count += 1,
        }
        let rid = layer.rid().map(str::to_string);
        self.events.push_back(Event::KeyframeRequest {
            transceiver,
            kind,
            rid,
        });
    }

    /// Our sending layer (of any transceiver) whose media or RTX SSRC is `ssrc`.
    fn sender_layer_mut(&mut self, ssrc: u32) -> Option<&mut crate::media::SendLayer> {
        self.media.transceivers.iter_mut().find_map(|t| {
            let i = t.layer_of_ssrc(ssrc)?;
            Some(&mut t.layers[i])
        })
    }

    fn inbound_stream_mut(&mut self, ssrc: u32) -> Option<&mut InboundStream> {
        self.media
            .transceivers
            .iter_mut()
            .find_map(|t| t.inbound_mut(ssrc))
    }

    /// The transceiver an SSRC (ours or the peer's) belongs to.
    fn transceiver_of_ssrc(&self, ssrc: u32) -> Option<TransceiverId> {
        self.media
            .transceivers
            .iter()
            .find(|t| t.sends_ssrc(ssrc) || t.inbound.iter().any(|s| s.ssrc == ssrc))
            .map(|t| t.id)
            .or_else(|| self.media.routes.get(&ssrc).copied())
    }

    /// The wall clock now as an NTP timestamp.
    pub(crate) fn ntp_now(&self) -> u64 {
        let time = match &self.config.wall_clock {
            Some(clock) => clock.system_time(self.now),
            None => std::time::UNIX_EPOCH,
        };
        crate::time::ntp_timestamp(time)
    }

    /// Sends one RTP packet on transceiver `id` (see [`RtpWrite`]), on its first layer.
    pub(crate) fn send_rtp(
        &mut self,
        id: TransceiverId,
        w: &RtpWrite<'_>,
    ) -> Result<(), crate::Error> {
        self.send_rtp_on(id, 0, w)
    }

    /// The index of transceiver `id`'s layer `rid`, when it may be written now: the rid
    /// exists, the peer accepted simulcast (else only the first layer is sent), active.
    pub(crate) fn writable_layer(
        &self,
        id: TransceiverId,
        rid: &str,
    ) -> Result<usize, crate::Error> {
        let t = self
            .media
            .get(id)
            .ok_or(PeerConnectionError::NoSuchTransceiver(id))?;
        let no_layer = || PeerConnectionError::NoSuchLayer(rid.to_string());
        let i = t.layer_index(Some(rid)).ok_or_else(no_layer)?;
        let accepted = t.accepted_rids.iter().any(|r| r == rid);
        if (t.simulcast_negotiated && !accepted) || (!t.simulcast_negotiated && i > 0) {
            return Err(no_layer().into());
        }
        Ok(i)
    }

    /// Sends one RTP packet on layer `layer` of transceiver `id`.
    pub(crate) fn send_rtp_on(
        &mut self,
        id: TransceiverId,
        layer: usize,
        w: &RtpWrite<'_>,
    ) -> Result<(), crate::Error> {
        if self.closed {
            return Err(PeerConnectionError::Closed.into());
        }
        let now = self.now;
        let transport_seq = self.media.transport_seq;
        let srtp_overhead = self.media.srtp.as_ref().map(|s| s.outbound.rtp_overhead());
        let t = self
            .media
            .get_mut(id)
            .ok_or(PeerConnectionError::NoSuchTransceiver(id))?;
        if !t.can_send() {
            return Err(PeerConnectionError::NotSending(id).into());
        }
        let Some(codec) = t.codec(w.payload_type).filter(|c| !c.codec.is_rtx()) else {
            return Err(PeerConnectionError::UnknownPayloadType(w.payload_type).into());
        };
        let clock_rate = codec.codec.clock_rate;
        let nack = t.nack_enabled();
        let l = &mut t.layers[layer];
        if !l.outbound.stats.active {
            let rid = l.rid().unwrap_or_default().to_string();
            return Err(PeerConnectionError::LayerInactive(rid).into());
        }
        let uses_twcc = l.outbound.uses_transport_cc();
        let srtp_overhead =
            srtp_overhead.ok_or(PeerConnectionError::MediaNotReady("no SRTP keys yet"))?;
        let packet = l.outbound.build(
            now,
            w,
            clock_rate,
            &t.extensions,
            uses_twcc.then_some(transport_seq),
            srtp_overhead,
        );
        l.outbound.budget.earn(packet.len());
        if nack && let Ok(p) = RtpPacket::new_checked(&packet[..]) {
            l.outbound
                .history
                .insert(p.sequence_number(), &packet, p.header_len());
        }
        let kind = match t.kind {
            MediaKind::Audio => PacketKind::Audio,
            _ => PacketKind::Video,
        };
        if uses_twcc {
            self.media.transport_seq = transport_seq.wrapping_add(1);
        }
        self.queue_rtp(kind, packet, uses_twcc.then_some(transport_seq))
    }

    /// Sends a PLI or FIR about the peer's current SSRC on transceiver `id` (of its
    /// simulcast layer `rid`, when given).
    pub(crate) fn send_keyframe_request(
        &mut self,
        id: TransceiverId,
        rid: Option<&str>,
        kind: KeyframeRequestKind,
    ) -> Result<(), crate::Error> {
        let t = self
            .media
            .get_mut(id)
            .ok_or(PeerConnectionError::NoSuchTransceiver(id))?;
        let sender_ssrc = t.outbound().ssrc;
        let media_ssrc = match rid {
            Some(rid) => t
                .inbound
                .iter()
                .find(|s| s.rid.as_deref() == Some(rid))
                .map(|s| s.ssrc),
            None => t
                .inbound
                .last()
                .map(|s| s.ssrc)
                .or_else(|| t.remote_ssrcs.first().copied()),
        }
        .ok_or(PeerConnectionError::MediaNotReady(
            "the peer's SSRC is not known yet",
        ))?;
        let feedback = match kind {
            KeyframeRequestKind::Pli => {
                if let Some(s) = t.inbound_mut(media_ssrc) {
                    s.stats.pli_count += 1;
                }
                RtcpPacket::Pli(Pli {
                    sender_ssrc,
                    media_ssrc,
                })
            }
            _ => {
                let seq = t.inbound_mut(media_ssrc).map_or(0, |s| {
                    s.stats.fir_count += 1;
                    s.fir_seq = s.fir_seq.wrapping_add(1);
                    s.fir_seq
                });
                RtcpPacket::Fir(Fir {
                    sender_ssrc,
                    entries: vec![(media_ssrc, seq)],
                })
            }
        };
        let head = RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: sender_ssrc,
            reports: Vec::new(),
        });
        self.send_rtcp(&[head, feedback])
    }

    /// Sends the transport-cc and RFC 8888 feedback that is due, each message in its own
    /// compound behind an empty receiver report (RFC 3550 §6.1; reduced-size RTCP is not
    /// negotiated).
    fn send_congestion_feedback(&mut self) {
        let now = self.now;
        // Deadlines checked here too (poll_feedback does) so that the timer path, taken on
        // every timeout, does not look for a sender SSRC when nothing is due.
        let due = |deadline: Option<std::time::Instant>| deadline.is_some_and(|at| at <= now);
        let twcc_due = due(self.media.transport_feedback.deadline());
        let ccfb_due = due(self.media.ccfb_feedback.deadline());
        if !twcc_due && !ccfb_due {
            return;
        }
        let sender_ssrc = self.feedback_sender_ssrc();
        let mut messages: Vec<RtcpPacket> = Vec::new();
        if twcc_due {
            let twcc = self
                .media
                .transport_feedback
                .poll_feedback(now, sender_ssrc);
            messages.extend(twcc.into_iter().map(RtcpPacket::TransportCc));
        }
        if ccfb_due {
            let ntp = self.ntp_now();
            let ccfb = self
                .media
                .ccfb_feedback
                .poll_feedback(now, sender_ssrc, ntp);
            messages.extend(ccfb.into_iter().map(RtcpPacket::Ccfb));
        }
        for message in messages {
            let head = RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: sender_ssrc,
                reports: Vec::new(),
            });
            if let Err(e) = self.send_rtcp(&[head, message]) {
                tracing::debug!(%e, "pc: congestion control feedback not sent");
            }
        }
    }

    /// The SSRC our feedback (transport-cc, REMB) is sent from: the first live
    /// transceiver's.
    fn feedback_sender_ssrc(&self) -> u32 {
        self.media
            .transceivers
            .iter()
            .find(|t| !t.stopped)
            .map_or(0, |t| t.outbound().ssrc)
    }

    /// Sends the REMB the receive-side estimator has due, behind an empty receiver report.
    fn send_remb(&mut self) {
        let now = self.now;
        let due = self
            .media
            .remote_bwe
            .as_ref()
            .and_then(ReceiveSideBwe::deadline)
            .is_some_and(|at| at <= now);
        if !due {
            return;
        }
        let sender_ssrc = self.feedback_sender_ssrc();
        let Some(remb) = self
            .media
            .remote_bwe
            .as_mut()
            .and_then(|bwe| bwe.poll_remb(now, sender_ssrc))
        else {
            return;
        };
        let head = RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: sender_ssrc,
            reports: Vec::new(),
        });
        if let Err(e) = self.send_rtcp(&[head, RtcpPacket::Remb(remb)]) {
            tracing::debug!(%e, "pc: REMB not sent");
        }
    }

    /// Protects and sends one compound RTCP packet.
    pub(crate) fn send_rtcp(&mut self, packets: &[RtcpPacket]) -> Result<(), crate::Error> {
        let srtp = self
            .media
            .srtp
            .as_mut()
            .ok_or(PeerConnectionError::MediaNotReady("no SRTP keys yet"))?;
        let mut buf =
            Vec::with_capacity(packets.iter().map(RtcpPacket::encoded_len).sum::<usize>() + 32);
        for p in packets {
            p.write_to(&mut buf);
        }
        srtp.outbound.protect_rtcp(&mut buf).map_err(|e| {
            tracing::debug!(%e, "pc: RTCP packet not protected");
            PeerConnectionError::MediaNotReady("SRTCP refused the packet")
        })?;
        self.media.stats.rtcp_sent += 1;
        self.transmit_data(buf);
        Ok(())
    }

    /// The report timer: one compound per transceiver that sends or receives — an SR
    /// (after its first RTP packet) or an RR with a block for each SSRC received, then the
    /// SDES CNAME (RFC 3550 §6.1).
    pub(crate) fn poll_media_timeout(&mut self) {
        let now = self.now;
        if self.media.srtp.is_none() {
            return;
        }
        self.send_congestion_feedback();
        self.send_remb();
        if !self.media.reports.poll_due(now, &mut self.rng) {
            return;
        }
        let ntp = self.ntp_now();
        let cname = self.media.cname.clone().into_bytes();
        let mut compounds = Vec::new();
        for t in self.media.transceivers.iter_mut().take(MAX_TRANSCEIVERS) {
            if t.stopped || t.current_direction.is_none() {
                continue;
            }
            let blocks: Vec<_> = t
                .inbound
                .iter_mut()
                .take(31)
                .map(|s| s.report_block(now))
                .collect();
            if blocks.is_empty() && !t.layers.iter().any(|l| l.outbound.has_sent()) {
                continue;
            }
            let ssrc = t.outbound().ssrc;
            let head = match t.outbound().sender_report(now, ntp, blocks.clone()) {
                Some(sr) => RtcpPacket::SenderReport(sr),
                None => RtcpPacket::ReceiverReport(ReceiverReport {
                    ssrc,
                    reports: blocks,
                }),
            };
            let mut compound = vec![head];
            let mut chunks = vec![ssrc];
            // Every other simulcast layer that sent reports on itself (RFC 3550 §6.1: an
            // SR per sending SSRC, each named in the SDES).
            for l in &t.layers[1..] {
                if let Some(sr) = l.outbound.sender_report(now, ntp, Vec::new()) {
                    compound.push(RtcpPacket::SenderReport(sr));
                    chunks.push(l.outbound.ssrc);
                }
            }
            compound.push(RtcpPacket::Sdes(Sdes {
                chunks: chunks
                    .into_iter()
                    .map(|ssrc| SdesChunk {
                        ssrc,
                        items: vec![(SDES_CNAME, cname.clone())],
                    })
                    .collect(),
            }));
            compounds.push(compound);
        }
        for compound in compounds {
            if let Err(e) = self.send_rtcp(&compound) {
                tracing::debug!(%e, "pc: RTCP report not sent");
            }
        }
    }
}
