//! Frames and loss recovery on the peer connection: `write_frame` packetized onto the RTP
//! path; received packets of a transceiver in frame mode assembled into `Event::Frame`;
//! generic NACKs (RFC 4585 §6.2.1) sent for missing packets when `nack` was negotiated;
//! NACKs from the peer answered from the send history, as RTX (RFC 4588) when negotiated,
//! else on the media SSRC; received RTX restored into its media stream; a keyframe
//! requested (PLI) when a frame is lost for good or the NACK list overflows, at most once per
//! [`keyframe_throttle`], and in frame mode repeated at that pace until a keyframe arrives
//! (the request or the keyframe may be lost too).

use super::{Event, PeerConnection, PeerConnectionError};
use crate::media::assembler::{AssemblerConfig, AssemblerEvent, AssemblerPacket, FrameAssembler};
use crate::media::frame_options::FrameOptionsState;
use crate::media::pacer::PacketKind;
use crate::media::packetize::depacketizer_for;
use crate::media::{
    DEFAULT_NACK_RTT, FRAME_SOURCE, FrameSender, FrameWrite, KeyframeRequestKind, ReceivedFrame,
    RtpWrite, TransceiverId, split_rtx_payload,
};
use crate::rtp::RtpPacket;
use crate::rtp::rtcp::{GenericNack, ReceiverReport, RtcpPacket};
use crate::sdp::MediaKind;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most sequence numbers of one received NACK answered (the rest are ignored: a NACK
/// from the network must not make us send without bound).
const MAX_RESENDS_PER_NACK: usize = 256;
/// Most sequence numbers put in one NACK we send (about 1 KB of FCI at worst).
const MAX_NACK_LIST: usize = 250;
/// Most RTX -> media SSRC pairs one transceiver keeps (declared and learned by rid).
const MAX_LEARNED_RTX: usize = 16;

/// The shortest spacing of keyframe requests the receiver makes on its own.
fn keyframe_throttle(rtt: Duration) -> Duration {
    (2 * rtt).max(Duration::from_millis(200))
}

impl PeerConnection {
    /// Sends one frame on transceiver `id` (see
    /// [`TransceiverHandle::write_frame`](super::TransceiverHandle::write_frame)).
    pub(crate) fn send_frame(
        &mut self,
        id: TransceiverId,
        f: &FrameWrite<'_>,
    ) -> Result<(), crate::Error> {
        self.send_frame_on(id, 0, f)
    }

    /// Sends one frame on layer `layer` of transceiver `id` (its own packetizer, SSRC and
    /// numbering).
    pub(crate) fn send_frame_on(
        &mut self,
        id: TransceiverId,
        layer: usize,
        f: &FrameWrite<'_>,
    ) -> Result<(), crate::Error> {
        if self.closed {
            return Err(PeerConnectionError::Closed.into());
        }
        let t = self
            .media
            .get(id)
            .ok_or(PeerConnectionError::NoSuchTransceiver(id))?;
        if !t.can_send() {
            return Err(PeerConnectionError::NotSending(id).into());
        }
        let pt = f
            .payload_type
            .or_else(|| {
                t.codecs
                    .iter()
                    .find(|c| !c.codec.is_rtx())
                    .map(|c| c.payload_type)
            })
            .ok_or(PeerConnectionError::NotSending(id))?;
        let codec = t
            .codec(pt)
            .filter(|c| !c.codec.is_rtx())
            .cloned()
            .ok_or(PeerConnectionError::UnknownPayloadType(pt))?;
        let video = t.kind == MediaKind::Video;
        let l = t
            .layers
            .get(layer)
            .ok_or(PeerConnectionError::NotSending(id))?;
        if !l.outbound.stats.active {
            let rid = l.rid().unwrap_or_default().to_string();
            return Err(PeerConnectionError::LayerInactive(rid).into());
        }
        let fresh = l.frame_sender.as_ref().is_none_or(|s| s.payload_type != pt);
        if fresh {
            let seed = self.rng.u32() as u16;
            let sender = FrameSender::new(&codec, seed)
                .ok_or(PeerConnectionError::UnknownPayloadType(pt))?;
            self.media.get_mut(id).expect("found above").layers[layer].frame_sender = Some(sender);
        }
        let t = self.media.get_mut(id).expect("found above");
        let sender = t.layers[layer].frame_sender.as_mut().expect("made above");
        let (first, payloads) = sender.packetize(f.data).map_err(|e| {
            tracing::debug!(%e, "pc: frame not packetized");
            PeerConnectionError::InvalidMedia("the codec's packetizer rejected the frame")
        })?;
        let keyframe = payloads.first().is_some_and(|p| sender.is_keyframe(p));
        let n = payloads.len();
        for (i, payload) in payloads.iter().enumerate() {
            let last = i + 1 == n;
            let exts = self
                .frame_sender_mut(id, layer)
                .packet_extensions(&f.options, keyframe, i, n);
            let mut pairs = [("", &[][..]); 4];
            for (slot, pair) in pairs.iter_mut().zip(exts.pairs()) {
                *slot = pair;
            }
            let mut w = RtpWrite::new(
                pt,
                first.wrapping_add(i as u16),
                f.timestamp,
                video && last,
                payload,
            );
            w.source = FRAME_SOURCE;
            w.extensions = &pairs[..exts.len()];
            self.send_rtp_on(id, layer, &w)?;
            if exts.has_playout_delay()
                && let Some(seq) = self
                    .media
                    .get(id)
                    .and_then(|t| t.layers[layer].outbound.last_sent_seq())
            {
                self.frame_sender_mut(id, layer).sent_playout_delay(seq);
            }
        }
        if let Some(t) = self.media.get_mut(id) {
            let stats = &mut t.layers[layer].outbound.stats;
            stats.frames_sent += 1;
            stats.key_frames_sent += u64::from(keyframe);
        }
        Ok(())
    }

    /// The option state of transceiver `id`'s frame sender on `layer`, which
    /// [`Self::send_frame_on`] made.
    fn frame_sender_mut(&mut self, id: TransceiverId, layer: usize) -> &mut FrameOptionsState {
        &mut self
            .media
            .get_mut(id)
            .and_then(|t| t.layers.get_mut(layer)?.frame_sender.as_mut())
            .expect("send_frame made the frame sender")
            .options
    }

    /// The round-trip time that spaces NACK retries and the waits for retransmissions:
    /// this transceiver's (from the peer's reports on what we send), else any other's,
    /// else [`DEFAULT_NACK_RTT`].
    pub(crate) fn recovery_rtt(&self, id: TransceiverId) -> Duration {
        let rtt_of = |t: &crate::media::Transceiver| {
            t.outbound()
                .stats
                .remote
                .as_ref()
                .and_then(|r| r.round_trip_time)
        };
        self.media
            .get(id)
            .and_then(rtt_of)
            .or_else(|| self.media.transceivers.iter().find_map(rtt_of))
            .unwrap_or(DEFAULT_NACK_RTT)
            .clamp(Duration::from_millis(5), Duration::from_secs(1))
    }

    /// Turns an RTX packet (RFC 4588 §4) into the packet it repairs, in place: the media
    /// SSRC (from `a=ssrc-group:FID`, else the last media stream received here), the
    /// original payload type and sequence number, the payload without the OSN. False for a
    /// padding-only probe or an RTX stream whose media stream is not known.
    pub(crate) fn repair_rtx(&mut self, id: TransceiverId, buf: &mut Vec<u8>) -> bool {
        let Ok(p) = RtpPacket::new_checked(&buf[..]) else {
            return false;
        };
        let (rtx_ssrc, rtx_pt, header_len) = (p.ssrc(), p.payload_type(), p.header_len());
        let Some((osn, _)) = split_rtx_payload(p.payload()) else {
            return false;
        };
        let Some(t) = self.media.get(id) else {
            return false;
        };
        let Some(apt) = t
            .codecs
            .iter()
            .find(|c| c.rtx_payload_type == Some(rtx_pt))
            .map(|c| c.payload_type)
        else {
            return false;
        };
        // A simulcast layer's RTX names its layer (RFC 8852 repaired-rid); the pair is
        // learned, as browsers announce no SSRCs with rids.
        let repaired_rid = t
            .extensions
            .id_of(crate::rtp::extensions::REPAIRED_RID)
            .and_then(|ext_id| p.extension(ext_id));
        let by_rid = repaired_rid.and_then(|rrid| {
            t.inbound
                .iter()
                .find(|s| s.rid.as_deref().is_some_and(|r| r.as_bytes() == rrid))
                .map(|s| s.ssrc)
        });
        let declared = t
            .remote_rtx
            .iter()
            .find(|(rtx, _)| *rtx == rtx_ssrc)
            .map(|(_, media)| *media);
        let simulcast = t.inbound.iter().any(|s| s.rid.is_some());
        let media_ssrc = declared.or(by_rid).or_else(|| {
            // Without rids the last media stream is the one repaired; with simulcast a
            // guess could corrupt another layer.
            (!simulcast)
                .then(|| t.inbound.iter().rev().find(|s| s.ssrc != rtx_ssrc))
                .flatten()
                .map(|s| s.ssrc)
        });
        let Some(media_ssrc) = media_ssrc else {
            return false;
        };
        if declared.is_none() && by_rid.is_some() {
            let t = self.media.get_mut(id).expect("found above");
            if t.remote_rtx.len() >= MAX_LEARNED_RTX {
                t.remote_rtx.remove(0);
            }
            t.remote_rtx.push((rtx_ssrc, media_ssrc));
        }
        buf.drain(header_len..header_len + 2);
        let Ok(mut p) = RtpPacket::new_checked(&mut buf[..]) else {
            return false;
        };
        p.set_payload_type(apt);
        p.set_sequence_number(osn);
        p.set_ssrc(media_ssrc);
        true
    }

    /// Feeds a received packet of `ssrc` to its assembler (made for the payload type on
    /// first use) and reports what comes out.
    pub(crate) fn assemble(&mut self, id: TransceiverId, ssrc: u32, packet: AssemblerPacket) {
        let now = self.now;
        let rtt = self.recovery_rtt(id);
        let Some(t) = self.media.get_mut(id) else {
            return;
        };
        let Some(codec) = t.codec(packet.payload_type).cloned() else {
            return;
        };
        let audio = t.kind == MediaKind::Audio;
        let nack = t.nack_enabled();
        let Some(stream) = t.inbound_mut(ssrc) else {
            return;
        };
        let pt = packet.payload_type;
        if stream.assembler.as_ref().is_none_or(|(p, _)| *p != pt) {
            let Some(depacketizer) = depacketizer_for(&codec.codec) else {
                self.media.stats.frames_unsupported += 1;
                return;
            };
            let rate = codec.codec.clock_rate;
            let config = if audio {
                AssemblerConfig::audio(rate)
            } else {
                AssemblerConfig::video(rate)
            };
            stream.assembler = Some((pt, FrameAssembler::new(config, depacketizer)));
        }
        let (_, assembler) = stream.assembler.as_mut().expect("made above");
        if nack && !audio {
            // Time for about three retransmission attempts.
            assembler.set_extra_wait(3 * rtt);
        }
        assembler.handle_packet(now, packet);
        self.drain_assembler(id, ssrc);
    }

    /// Moves an assembler's frames into `Event::Frame`; a frame lost for good in video asks
    /// for a keyframe.
    fn drain_assembler(&mut self, id: TransceiverId, ssrc: u32) {
        let Some(t) = self.media.get_mut(id) else {
            return;
        };
        let video = t.kind == MediaKind::Video;
        let codecs = &t.codecs;
        let Some(stream) = t.inbound.iter_mut().find(|s| s.ssrc == ssrc) else {
            return;
        };
        let rid = stream.rid.clone();
        let stream_infos = &mut stream.frame_infos;
        let stream_stats = &mut stream.stats;
        let Some((_, assembler)) = stream.assembler.as_mut() else {
            return;
        };
        let mut lost = false;
        let mut keyframe = false;
        while let Some(event) = assembler.poll_event() {
            match event {
                AssemblerEvent::Frame(f) => {
                    keyframe |= f.keyframe;
                    stream_stats.frames_received += 1;
                    stream_stats.key_frames_received += u64::from(f.keyframe);
                    let codec = codecs
                        .iter()
                        .find(|c| c.payload_type == f.payload_type)
                        .map(|c| c.codec.name.clone())
                        .unwrap_or_default();
                    self.events.push_back(Event::Frame(ReceivedFrame {
                        transceiver: id,
                        ssrc,
                        rid: rid.clone(),
                        payload_type: f.payload_type,
                        codec,
                        timestamp: f.timestamp,
                        keyframe: f.keyframe,
                        contiguous: f.contiguous,
                        sequence_numbers: (f.first_sequence_number, f.last_sequence_number),
                        received_at: f.received_at,
                        data: f.data.into(),
                        info: stream_infos.take(f.timestamp),
                        svc_layer: f.svc_layer,
                    }));
                }
                AssemblerEvent::Lost { .. } => lost = true,
                _ => {}
            }
        }
        if keyframe && let Some(t) = self.media.get_mut(id) {
            t.keyframe_wanted = false;
        }
        if lost && video {
            if let Some(t) = self.media.get_mut(id) {
                t.keyframe_wanted = true;
                t.keyframe_wanted_rid.clone_from(&rid);
            }
            self.auto_keyframe_request(id, rid);
        }
    }

    /// When the repeated keyframe request of transceiver `t` is due, if one is wanted.
    fn keyframe_repeat_at(&self, t: &crate::media::Transceiver) -> Option<Instant> {
        if !t.keyframe_wanted || !t.receive_frames {
            return None;
        }
        let throttle = keyframe_throttle(self.recovery_rtt(t.id));
        Some(t.last_auto_keyframe.map_or(self.now, |at| at + throttle))
    }

    /// A keyframe request the receiver decides on itself (recovery impossible), throttled.
    /// With simulcast, `rid` names the layer that needs it (the throttle is shared by the
    /// transceiver's layers).
    pub(crate) fn auto_keyframe_request(&mut self, id: TransceiverId, rid: Option<Arc<str>>) {
        let now = self.now;
        let throttle = keyframe_throttle(self.recovery_rtt(id));
        let Some(t) = self.media.get_mut(id) else {
            return;
        };
        if t.last_auto_keyframe
            .is_some_and(|at| now.saturating_duration_since(at) < throttle)
        {
            return;
        }
        t.last_auto_keyframe = Some(now);
        if let Err(e) = self.send_keyframe_request(id, rid.as_deref(), KeyframeRequestKind::Pli) {
            tracing::debug!(%e, "pc: keyframe request not sent");
        }
    }

    /// The peer NACKed packets of one of our streams: send those still kept again.
    pub(crate) fn on_nack(&mut self, nack: &GenericNack) {
        let now = self.now;
        let Some((id, layer)) = self.media.transceivers.iter().find_map(|t| {
            let i = t
                .layers
                .iter()
                .position(|l| l.outbound.ssrc == nack.media_ssrc)?;
            Some((t.id, i))
        }) else {
            return;
        };
        let rtt = self.recovery_rtt(id);
        let mut transport_seq = self.media.transport_seq;
        let srtp_overhead = self
            .media
            .srtp
            .as_ref()
            .map_or(0, |s| s.outbound.rtp_overhead());
        let t = self.media.get_mut(id).expect("found above");
        let can_send = t.can_send();
        let rtx_pts: Vec<(u8, Option<u8>)> = t
            .codecs
            .iter()
            .map(|c| (c.payload_type, c.rtx_payload_type))
            .collect();
        let extensions = &t.extensions;
        let o = &mut t.layers[layer].outbound;
        o.stats.nack_count += 1;
        if !can_send {
            return;
        }
        let twcc = o.uses_transport_cc();
        let mut out = Vec::new();
        for &seq in nack.lost.iter().take(MAX_RESENDS_PER_NACK) {
            let Some(r) = o.history.resend(now, seq, rtt) else {
                o.stats.retransmissions_refused += 1;
                continue;
            };
            let payload_len = r.packet.len() - r.header_len;
            let original = r.packet.to_vec();
            if !o.budget.spend(original.len()) {
                o.stats.retransmissions_refused += 1;
                continue;
            }
            let pt = original[1] & 0x7f;
            let rtx = rtx_pts.iter().find(|(p, _)| *p == pt).and_then(|(_, r)| *r);
            let (packet, ts) = match rtx {
                Some(rtx_pt) => {
                    let ts = twcc.then(|| {
                        let s = transport_seq;
                        transport_seq = transport_seq.wrapping_add(1);
                        s
                    });
                    let rtx = o.build_rtx(&original, rtx_pt, extensions, ts, srtp_overhead);
                    (rtx, ts)
                }
                // Resent as it was, with its original transport-wide number: not told to
                // the estimator again.
                None => (Some(original), None),
            };
            if let Some(packet) = packet {
                o.stats.retransmitted_packets_sent += 1;
                o.stats.retransmitted_bytes_sent += payload_len as u64;
                out.push((packet, ts));
            }
        }
        self.media.transport_seq = transport_seq;
        for (packet, ts) in out {
            if let Err(e) = self.queue_rtp(PacketKind::Retransmission, packet, ts) {
                tracing::debug!(%e, "pc: retransmission not sent");
            }
        }
    }

    /// Timers of loss recovery and frame assembly: NACKs due, assemblers that stopped
    /// waiting.
    pub(crate) fn poll_recovery_timeout(&mut self) {
        if self.media.srtp.is_none() {
            return;
        }
        let now = self.now;
        let ids: Vec<TransceiverId> = self.media.transceivers.iter().map(|t| t.id).collect();
        for id in ids {
            let rtt = self.recovery_rtt(id);
            let Some(t) = self.media.get_mut(id) else {
                continue;
            };
            let sender_ssrc = t.outbound().ssrc;
            let nack_on = t.nack_enabled();
            let mut nacks = Vec::new();
            let mut expired = Vec::new();
            for s in &mut t.inbound {
                if s.pause_deadline().is_some_and(|at| at <= now) {
                    s.paused = true;
                    self.events.push_back(Event::LayerPaused {
                        transceiver: id,
                        rid: s.rid.as_deref().unwrap_or_default().to_string(),
                        ssrc: s.ssrc,
                    });
                }
                if nack_on {
                    let (lost, _) = s.nack.take_due(now, rtt, MAX_NACK_LIST);
                    s.stats.nack_given_up = s.nack.given_up;
                    if !lost.is_empty() {
                        s.stats.nack_count += 1;
                        nacks.push(RtcpPacket::Nack(GenericNack {
                            sender_ssrc,
                            media_ssrc: s.ssrc,
                            lost,
                        }));
                    }
                }
                if let Some((_, a)) = s.assembler.as_mut()
                    && a.poll_timeout().is_some_and(|d| d <= now)
                {
                    a.handle_timeout(now);
                    expired.push(s.ssrc);
                }
            }
            if !nacks.is_empty() {
                let head = RtcpPacket::ReceiverReport(ReceiverReport {
                    ssrc: sender_ssrc,
                    reports: Vec::new(),
                });
                nacks.insert(0, head);
                if let Err(e) = self.send_rtcp(&nacks) {
                    tracing::debug!(%e, "pc: NACK not sent");
                }
            }
            for ssrc in expired {
                self.drain_assembler(id, ssrc);
            }
            let repeat = self.media.get(id).and_then(|t| self.keyframe_repeat_at(t));
            if repeat.is_some_and(|at| at <= now) {
                let rid = self
                    .media
                    .get(id)
                    .and_then(|t| t.keyframe_wanted_rid.clone());
                self.auto_keyframe_request(id, rid);
            }
        }
    }

    /// The earliest timer of loss recovery and frame assembly.
    pub(crate) fn recovery_deadline(&self) -> Option<Instant> {
        self.media.srtp.as_ref()?;
        let repeats = self
            .media
            .transceivers
            .iter()
            .filter_map(|t| self.keyframe_repeat_at(t));
        self.media
            .transceivers
            .iter()
            .flat_map(|t| {
                let nack_on = t.nack_enabled();
                t.inbound.iter().flat_map(move |s| {
                    let nack = if nack_on { s.nack.deadline() } else { None };
                    let assembly = s.assembler.as_ref().and_then(|(_, a)| a.poll_timeout());
                    [nack, assembly, s.pause_deadline()]
                })
            })
            .flatten()
            .chain(repeats)
            .min()
    }
}
