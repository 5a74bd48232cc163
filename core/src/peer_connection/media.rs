//! Tracks and transceivers as the application sees them: `add_track`, `add_transceiver`,
//! `remove_track`, and the borrowed [`TransceiverHandle`] (direction, stop, the sender's
//! `write_rtp`, the receiver's `request_keyframe`, stats).

use super::{PeerConnection, PeerConnectionError};
use crate::media::ReportTimer;
use crate::media::codec::NegotiatedCodec;
use crate::media::{
    InboundRtpStats, KeyframeRequestKind, OutboundRtpStats, OutboundStream, RtpWrite, SendEncoding,
    TrackInfo, Transceiver, TransceiverDirection, TransceiverId, TransceiverInit,
};
use crate::sdp::MediaKind;
use crate::srtp::SrtpSession;
use std::collections::HashMap;

/// Most transceivers one connection holds (each is an m-line; a remote offer cannot make
/// more).
pub(crate) const MAX_TRANSCEIVERS: usize = 256;

/// Most SSRCs learned from received packets and routed without SDP.
pub(crate) const MAX_SSRC_ROUTES: usize = 1024;

/// Counters of the media transport (`transport` stats and drops).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MediaTransportStats {
    /// SRTP packets decrypted.
    pub srtp_packets_received: u64,
    /// SRTCP packets decrypted.
    pub srtcp_packets_received: u64,
    /// SRTP/SRTCP dropped: the authentication tag did not verify.
    pub srtp_auth_failures: u64,
    /// SRTP/SRTCP dropped: replayed (or too old for the replay window).
    pub srtp_replays: u64,
    /// SRTP/SRTCP dropped for another reason (malformed, too many streams).
    pub srtp_other_failures: u64,
    /// Media before the SRTP keys existed.
    pub dropped_before_keys: u64,
    /// RTP that matched no transceiver (mid, SSRC, payload type).
    pub rtp_unroutable: u64,
    /// RTP on a transceiver whose direction does not receive.
    pub rtp_not_receiving: u64,
    /// RTX packets not restored: an RTX stream whose media stream is unknown, a payload
    /// too short for the original sequence number.
    pub rtx_dropped: u64,
    /// RTX copies of packets already received (bandwidth probes padded with recent
    /// packets, or a retransmission that crossed the original): not delivered again.
    pub rtx_duplicates: u64,
    /// Padding-only RTX packets (bandwidth probes): counted in transport-cc feedback,
    /// then dropped.
    pub rtx_padding: u64,
    /// Packets of a transceiver in frame mode whose codec has no depacketizer here.
    pub frames_unsupported: u64,
    /// RTCP packets that did not parse.
    pub rtcp_malformed: u64,
    /// RTCP compound packets sent.
    pub rtcp_sent: u64,
    /// Transport-cc feedback about what the peer sent us (receiving side).
    pub transport_feedback: crate::media::TransportFeedbackStats,
    /// Transport-cc feedback messages received about what we sent.
    pub transport_feedback_received: u64,
    /// Of our transport-wide sequence numbers, how many the peer's feedback reported
    /// received and lost, each number counted at its first report.
    pub transport_feedback_acked: u64,
    /// See [`transport_feedback_acked`](Self::transport_feedback_acked).
    pub transport_feedback_lost: u64,
    /// RFC 8888 feedback about what the peer sent us (receiving side, when negotiated).
    pub ccfb_feedback: crate::media::CcfbStats,
    /// RFC 8888 feedback messages received about what we sent.
    pub ccfb_received: u64,
    /// The send-side estimate of what the path carries, bits per second (the browser's
    /// `availableOutgoingBitrate`), once transport-cc feedback or the peer's REMB drives
    /// the estimator.
    pub available_outgoing_bitrate: Option<u64>,
    /// The receive-side estimator's figures (REMBs sent among them), once it runs: with
    /// REMB negotiated and transport-cc not.
    pub receive_estimate: Option<crate::media::bwe::ReceiveBweStats>,
    /// The media pacer's counters.
    pub pacer: crate::media::PacerStats,
}

impl MediaTransportStats {
    /// Media datagrams dropped, every reason summed.
    pub fn dropped(&self) -> u64 {
        self.dropped_before_keys
            + self.srtp_auth_failures
            + self.srtp_replays
            + self.srtp_other_failures
            + self.rtp_unroutable
            + self.rtp_not_receiving
            + self.rtx_dropped
            + self.rtcp_malformed
    }
}

/// Media state of a connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct MediaState {
    pub transceivers: Vec<Transceiver>,
    next_id: u32,
    /// The SRTP keys, once DTLS-SRTP completed.
    pub srtp: Option<SrtpSession>,
    /// RTCP CNAME of every stream we send (RFC 7022: random per connection).
    pub cname: String,
    pub reports: ReportTimer,
    /// Next transport-wide sequence number (transport-cc extension).
    pub transport_seq: u16,
    /// Arrivals of the peer's transport-wide sequence numbers, for transport-cc feedback.
    pub transport_feedback: crate::media::TransportFeedbackReceiver,
    /// RFC 8888 congestion control feedback is the connection's feedback both ways: some
    /// codec negotiated `ack ccfb` and the BUNDLE group has no transport-cc extension
    /// (which stays preferred when both are agreed). Our packets are then counted for the
    /// estimator by `transport_seq` without writing it.
    pub ccfb: bool,
    /// Arrivals of the peer's RTP packets by stream, for RFC 8888 feedback.
    pub ccfb_feedback: crate::media::CcfbReceiver,
    /// The highest of our transport-wide sequence numbers the peer's feedback covered
    /// (compared by 16-bit distance), so each number is counted once.
    pub transport_feedback_covered: Option<u16>,
    /// SSRC -> transceiver, from descriptions and from routed packets.
    pub routes: HashMap<u32, TransceiverId>,
    /// Header extension ids of the BUNDLE group (one id means one URI in the group).
    pub bundle_extensions: crate::rtp::extensions::ExtensionMap,
    pub stats: MediaTransportStats,
    /// The send-side bandwidth estimator, made when the first packet with a
    /// transport-wide sequence number is sent, or at the first REMB from a peer that
    /// negotiated no transport-cc.
    pub bwe: Option<crate::media::bwe::SendSideBwe>,
    /// The last negotiation agreed on REMB (`goog-remb` on a codec we receive) and not on
    /// transport-wide sequence numbers: we estimate what we receive and send REMBs.
    pub remb_only: bool,
    /// The receive-side estimator behind our REMBs, made at the first packet received
    /// while `remb_only`.
    pub remote_bwe: Option<crate::media::bwe::ReceiveSideBwe>,
    /// Every RTP packet we send waits here for its turn.
    pub pacer: crate::media::pacer::MediaPacer,
    /// The estimate last announced in `Event::BandwidthEstimate`.
    pub announced_estimate: Option<u64>,
    /// Media (not padding) and data-channel bytes sent lately, by time since
    /// `rates_origin`, to share the estimate between them.
    pub media_sent: crate::media::bwe::RateWindow,
    pub data_sent: crate::media::bwe::RateWindow,
    pub rates_origin: Option<std::time::Instant>,
}

impl MediaState {
    pub fn get(&self, id: TransceiverId) -> Option<&Transceiver> {
        self.transceivers.iter().find(|t| t.id == id)
    }

    pub fn get_mut(&mut self, id: TransceiverId) -> Option<&mut Transceiver> {
        self.transceivers.iter_mut().find(|t| t.id == id)
    }

    pub fn by_mid(&self, mid: &str) -> Option<&Transceiver> {
        self.transceivers
            .iter()
            .find(|t| t.mid.as_deref() == Some(mid))
    }

    pub fn next_id(&mut self) -> TransceiverId {
        let id = TransceiverId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Remembers that `ssrc` belongs to `id` (bounded: beyond the limit nothing new is
    /// learned and routing falls back to mid and payload type).
    pub fn learn_route(&mut self, ssrc: u32, id: TransceiverId) {
        if self.routes.len() < MAX_SSRC_ROUTES || self.routes.contains_key(&ssrc) {
            self.routes.insert(ssrc, id);
        }
    }
}

/// The stats entry of one transceiver.
pub(crate) fn transceiver_stats(t: &Transceiver) -> super::TransceiverStats {
    super::TransceiverStats {
        transceiver: Some(t.id),
        mid: t.mid.clone(),
        kind: t.kind.to_string(),
        outbound: t.outbound().stats.clone(),
        outbound_layers: if t.layers.len() > 1 {
            t.layers.iter().map(|l| l.outbound.stats.clone()).collect()
        } else {
            Vec::new()
        },
        inbound: t.inbound.iter().map(|i| i.stats.clone()).collect(),
        codecs: t
            .codecs
            .iter()
            .map(|c| (format!("{}/{}", t.kind, c.codec.name), c.payload_type))
            .collect(),
    }
}

impl PeerConnection {
    /// A new transceiver of `kind` with fresh SSRCs and numbering from the seeded RNG.
    pub(crate) fn new_transceiver(
        &mut self,
        kind: MediaKind,
        direction: TransceiverDirection,
    ) -> Result<TransceiverId, crate::Error> {
        if self.closed {
            return Err(PeerConnectionError::Closed.into());
        }
        if !matches!(kind, MediaKind::Audio | MediaKind::Video) {
            return Err(
                PeerConnectionError::InvalidMedia("a transceiver is audio or video").into(),
            );
        }
        if self.media.transceivers.len() >= MAX_TRANSCEIVERS {
            return Err(PeerConnectionError::InvalidMedia("too many transceivers").into());
        }
        if self.media.cname.is_empty() {
            self.media.cname = self.rng.ice_chars(16);
        }
        let outbound = self.new_outbound_stream();
        let id = self.media.next_id();
        self.media
            .transceivers
            .push(Transceiver::new(id, kind, direction, outbound));
        Ok(id)
    }

    /// A sending stream with fresh SSRCs and numbering from the seeded RNG.
    fn new_outbound_stream(&mut self) -> OutboundStream {
        let mut outbound = OutboundStream::new(
            self.fresh_ssrc(),
            self.fresh_ssrc(),
            (self.rng.u32() & 0x7fff) as u16,
            self.rng.u32(),
        );
        outbound.rtx_seq = (self.rng.u32() & 0x7fff) as u16;
        outbound
    }

    /// An SSRC not used by any of our streams.
    fn fresh_ssrc(&mut self) -> u32 {
        loop {
            let ssrc = self.rng.u32();
            let taken = ssrc == 0 || self.media.transceivers.iter().any(|t| t.sends_ssrc(ssrc));
            if !taken {
                return ssrc;
            }
        }
    }

    /// Gives transceiver `id` one sending layer per encoding (simulcast when there are
    /// two or more; one encoding only names the single stream's limits).
    fn set_send_encodings(
        &mut self,
        id: TransceiverId,
        encodings: Vec<SendEncoding>,
    ) -> Result<(), crate::Error> {
        crate::media::simulcast::validate_encodings(&encodings)
            .map_err(PeerConnectionError::InvalidMedia)?;
        let kind = self.media.get(id).map(|t| t.kind.clone());
        if encodings.len() > 1 && kind != Some(MediaKind::Video) {
            return Err(PeerConnectionError::InvalidMedia("simulcast is for video").into());
        }
        let mut layers = Vec::new();
        for (i, e) in encodings.into_iter().enumerate() {
            let outbound = if i == 0 {
                None
            } else {
                Some(self.new_outbound_stream())
            };
            layers.push((outbound, e));
        }
        let t = self.media.get_mut(id).expect("caller made it");
        let simulcast = layers.len() > 1;
        for (i, (outbound, e)) in layers.into_iter().enumerate() {
            if let Some(o) = outbound {
                t.layers.push(crate::media::SendLayer {
                    outbound: o,
                    frame_sender: None,
                    encoding: None,
                });
            }
            let layer = &mut t.layers[i];
            layer.outbound.stats.active = e.active;
            if simulcast {
                layer.outbound.set_rid(Some(&e.rid));
                layer.encoding = Some(e);
            }
        }
        Ok(())
    }

    /// `addTransceiver(kind, init)`: a new m-line of `kind` (audio or video) with the
    /// direction wanted. Fires `negotiationneeded`.
    ///
    /// `init.send_encodings` with two or three rids sends simulcast (video only): each
    /// layer is its own RTP stream, written with
    /// [`TransceiverHandle::write_layer_frame`] and switched with
    /// [`TransceiverHandle::set_layer_active`].
    ///
    /// Errors: closed connection, a kind other than audio or video, too many transceivers,
    /// invalid encodings (more than three, rids not distinct or not RFC 8851 tokens,
    /// simulcast on audio).
    pub fn add_transceiver(
        &mut self,
        kind: MediaKind,
        init: TransceiverInit,
    ) -> Result<TransceiverId, crate::Error> {
        if init.send_encodings.len() > 1 && kind != MediaKind::Video {
            return Err(PeerConnectionError::InvalidMedia("simulcast is for video").into());
        }
        crate::media::simulcast::validate_encodings(&init.send_encodings)
            .map_err(PeerConnectionError::InvalidMedia)?;
        let id = self.new_transceiver(kind, init.direction)?;
        if let Some(t) = self.media.get_mut(id) {
            t.stream_ids = init.stream_ids;
        }
        self.set_send_encodings(id, init.send_encodings)?;
        self.update_negotiation_needed();
        Ok(id)
    }

    /// `addTrack(track, ...streams)`: sends `track` on a transceiver of its kind whose
    /// sender never had a track (one a remote offer created, JSEP §5.10), switching its
    /// direction to include sending; else on a new `sendrecv` transceiver. Fires
    /// `negotiationneeded` when the negotiation must change.
    ///
    /// Errors: closed connection, a kind other than audio or video, a track already added,
    /// too many transceivers.
    pub fn add_track(&mut self, track: TrackInfo) -> Result<TransceiverId, crate::Error> {
        if self.closed {
            return Err(PeerConnectionError::Closed.into());
        }
        let duplicate = self
            .media
            .transceivers
            .iter()
            .any(|t| t.track.as_ref().is_some_and(|x| x.id == track.id));
        if duplicate {
            return Err(PeerConnectionError::InvalidMedia("this track is already added").into());
        }
        let reusable = self.media.transceivers.iter_mut().find(|t| {
            t.kind == track.kind
                && !t.stopping
                && !t.stopped
                && t.track.is_none()
                && !t.added_by_track
        });
        let id = match reusable {
            Some(t) => {
                t.direction = crate::media::transceiver_with_send(t.direction, true);
                t.id
            }
            None => self.new_transceiver(track.kind.clone(), TransceiverDirection::SendRecv)?,
        };
        let t = self.media.get_mut(id).expect("found or created above");
        t.added_by_track = true;
        t.stream_ids = track.stream_ids.clone();
        t.track = Some(track);
        self.update_negotiation_needed();
        Ok(id)
    }

    /// `removeTrack(sender)`: the transceiver stops sending (its direction loses `send`);
    /// fires `negotiationneeded`.
    ///
    /// Errors: no such transceiver.
    pub fn remove_track(&mut self, id: TransceiverId) -> Result<(), crate::Error> {
        let t = self
            .media
            .get_mut(id)
            .ok_or(PeerConnectionError::NoSuchTransceiver(id))?;
        t.track = None;
        t.direction = crate::media::transceiver_with_send(t.direction, false);
        self.update_negotiation_needed();
        Ok(())
    }

    /// A handle on transceiver `id`.
    ///
    /// Errors: no such transceiver.
    pub fn transceiver(
        &mut self,
        id: TransceiverId,
    ) -> Result<TransceiverHandle<'_>, crate::Error> {
        if self.media.get(id).is_none() {
            return Err(PeerConnectionError::NoSuchTransceiver(id).into());
        }
        Ok(TransceiverHandle { pc: self, id })
    }

    /// `getTransceivers()`: every transceiver's id, in creation order.
    pub fn transceivers(&self) -> Vec<TransceiverId> {
        self.media.transceivers.iter().map(|t| t.id).collect()
    }

    /// Whether a transceiver's wanted state differs from the last negotiation (JSEP §4.1.5's
    /// "negotiation needed" for media).
    pub(crate) fn media_negotiation_needed(&self) -> bool {
        self.media.transceivers.iter().any(|t| {
            if t.stopped {
                return false;
            }
            match (&t.mid, t.current_direction) {
                (None, _) => !t.stopping,
                (Some(_), _) if t.stopping => true,
                (Some(_), Some(current)) => current != t.direction && !t.mid_provisional,
                (Some(_), None) => false,
            }
        })
    }
}

/// A short-lived handle on one transceiver (the browser's `RTCRtpTransceiver` with its
/// `sender` and `receiver`). What it sends leaves through
/// [`PeerConnection::poll_output`](super::PeerConnection::poll_output).
#[derive(Debug)]
pub struct TransceiverHandle<'a> {
    pc: &'a mut PeerConnection,
    id: TransceiverId,
}

impl TransceiverHandle<'_> {
    fn get(&self) -> &Transceiver {
        self.pc
            .media
            .get(self.id)
            .expect("handle made for an existing transceiver")
    }

    fn get_mut(&mut self) -> &mut Transceiver {
        self.pc
            .media
            .get_mut(self.id)
            .expect("handle made for an existing transceiver")
    }

    /// The id.
    pub fn id(&self) -> TransceiverId {
        self.id
    }

    /// `mid`, once negotiation associated one.
    pub fn mid(&self) -> Option<&str> {
        self.get().mid.as_deref()
    }

    /// `audio` or `video`.
    pub fn kind(&self) -> &MediaKind {
        &self.get().kind
    }

    /// `direction`: what the application wants.
    pub fn direction(&self) -> TransceiverDirection {
        self.get().direction
    }

    /// `currentDirection`: what the last negotiation agreed (`None` before, or once stopped).
    pub fn current_direction(&self) -> Option<TransceiverDirection> {
        let t = self.get();
        if t.stopped { None } else { t.current_direction }
    }

    /// Whether `stop()` was called or the m-line was rejected.
    pub fn is_stopped(&self) -> bool {
        let t = self.get();
        t.stopped || t.stopping
    }

    /// `direction = d`: fires `negotiationneeded` when it differs from the negotiated one.
    ///
    /// Errors: the transceiver is stopped.
    pub fn set_direction(&mut self, d: TransceiverDirection) -> Result<(), crate::Error> {
        if self.is_stopped() {
            return Err(PeerConnectionError::TransceiverStopped(self.id).into());
        }
        self.get_mut().direction = d;
        self.pc.update_negotiation_needed();
        Ok(())
    }

    /// `sender.replaceTrack(track)`: the track announced for what we send (no
    /// renegotiation unless it is the first track of a transceiver without one).
    pub fn replace_track(&mut self, track: Option<TrackInfo>) {
        let t = self.get_mut();
        if let Some(track) = &track
            && t.stream_ids.is_empty()
        {
            t.stream_ids = track.stream_ids.clone();
        }
        t.track = track;
    }

    /// `stop()`: the next negotiation rejects the m-line (port 0); sending stops at once.
    pub fn stop(&mut self) {
        let t = self.get_mut();
        if !t.stopped && !t.stopping {
            t.stopping = true;
            t.direction = TransceiverDirection::Inactive;
            // Not yet negotiated at all: nothing to tell the peer.
            if t.mid.is_none() {
                t.stopped = true;
            }
            self.pc.update_negotiation_needed();
        }
    }

    /// The codecs the last negotiation agreed, in preference order (RTX included).
    pub fn codecs(&self) -> &[NegotiatedCodec] {
        &self.get().codecs
    }

    /// The codec a negotiated payload type stands for.
    pub fn codec(&self, payload_type: u8) -> Option<&NegotiatedCodec> {
        self.get().codec(payload_type)
    }

    /// Our SSRC for this sender (the first layer's with simulcast).
    pub fn sender_ssrc(&self) -> u32 {
        self.get().outbound().ssrc
    }

    /// `outbound-rtp` stats of the sender (the first layer's with simulcast).
    pub fn sender_stats(&self) -> OutboundRtpStats {
        self.get().outbound().stats.clone()
    }

    /// `outbound-rtp` stats of every layer (one entry without simulcast).
    pub fn layer_stats(&self) -> Vec<OutboundRtpStats> {
        self.get()
            .layers
            .iter()
            .map(|l| l.outbound.stats.clone())
            .collect()
    }

    /// The sender's encodings (`getParameters().encodings`), with their current `active`.
    pub fn send_encodings(&self) -> Vec<SendEncoding> {
        self.get()
            .layers
            .iter()
            .filter_map(|l| {
                let mut e = l.encoding.clone()?;
                e.active = l.outbound.stats.active;
                Some(e)
            })
            .collect()
    }

    /// Whether the last negotiation accepted simulcast on this sender.
    pub fn simulcast_negotiated(&self) -> bool {
        self.get().simulcast_negotiated
    }

    /// Switches the simulcast layer `rid` on or off (`encodings[i].active`). An inactive
    /// layer refuses writes (`LayerInactive`) and sends no reports; when it comes back,
    /// its numbering continues and the application should start it with a keyframe.
    ///
    /// Errors: `NoSuchLayer` for a rid this sender does not have.
    pub fn set_layer_active(&mut self, rid: &str, active: bool) -> Result<(), crate::Error> {
        let t = self.get_mut();
        let i = t
            .layer_index(Some(rid))
            .ok_or_else(|| PeerConnectionError::NoSuchLayer(rid.to_string()))?;
        t.layers[i].outbound.stats.active = active;
        // The application's choice: the bandwidth estimate's allocation keeps it.
        if let Some(e) = t.layers[i].encoding.as_mut() {
            e.active = active;
        }
        Ok(())
    }

    /// Switches every layer by `active` (in the order of the encodings), e.g. from
    /// [`allocate_layers`](crate::media::allocate_layers).
    ///
    /// Errors: `InvalidMedia` when `active` does not have one entry per encoding.
    pub fn set_layers_active(&mut self, active: &[bool]) -> Result<(), crate::Error> {
        let t = self.get_mut();
        if t.layers.iter().filter(|l| l.encoding.is_some()).count() != active.len() {
            return Err(PeerConnectionError::InvalidMedia("one flag per encoding").into());
        }
        for (l, &a) in t.layers.iter_mut().zip(active) {
            l.outbound.stats.active = a;
        }
        Ok(())
    }

    /// Which layers `target_bps` allows ([`allocate_layers`](crate::media::allocate_layers)
    /// over this sender's encodings), switched on and off accordingly; returns the flags.
    pub fn allocate_layers(&mut self, target_bps: u64) -> Vec<bool> {
        self.get_mut().allocate_layers(target_bps)
    }

    /// `write_rtp` on the simulcast layer `rid` (see [`write_rtp`](Self::write_rtp)).
    ///
    /// Errors: those of `write_rtp`; `NoSuchLayer` for an unknown rid or one the peer
    /// did not accept; `LayerInactive` for a layer switched off.
    pub fn write_layer_rtp(&mut self, rid: &str, packet: RtpWrite<'_>) -> Result<(), crate::Error> {
        let id = self.id;
        let layer = self.pc.writable_layer(id, rid)?;
        self.pc.send_rtp_on(id, layer, &packet)
    }

    /// `write_frame` on the simulcast layer `rid` (see [`write_frame`](Self::write_frame)):
    /// the application encodes each layer at its own resolution and bitrate.
    ///
    /// Errors: those of `write_frame` and of [`write_layer_rtp`](Self::write_layer_rtp).
    pub fn write_layer_frame(
        &mut self,
        rid: &str,
        frame: crate::media::FrameWrite<'_>,
    ) -> Result<(), crate::Error> {
        let id = self.id;
        let layer = self.pc.writable_layer(id, rid)?;
        self.pc.send_frame_on(id, layer, &frame)
    }

    /// The rids the peer offered to send us on this m-line (`a=simulcast:send`), in its
    /// order; empty without simulcast.
    pub fn remote_rids(&self) -> &[String] {
        &self.get().remote_send_rids
    }

    /// `inbound-rtp` stats of every SSRC received on this transceiver.
    pub fn receiver_stats(&self) -> Vec<InboundRtpStats> {
        self.get().inbound.iter().map(|s| s.stats.clone()).collect()
    }

    /// The sender's `write_rtp`: sends one RTP packet (see [`RtpWrite`] for what is
    /// rewritten), protected with SRTP, on the connection's path.
    ///
    /// Errors: `NotSending` unless the negotiated direction sends; `UnknownPayloadType`
    /// for a payload type not negotiated on this m-line; `MediaNotReady` before DTLS-SRTP
    /// completed or without a path; closed connection.
    pub fn write_rtp(&mut self, packet: RtpWrite<'_>) -> Result<(), crate::Error> {
        let id = self.id;
        self.pc.send_rtp(id, &packet)
    }

    /// The sender's `write_frame`: packetizes one encoded frame with the negotiated
    /// codec's packetizer (see [`FrameWrite`](crate::media::FrameWrite)) and sends its
    /// packets like [`write_rtp`](Self::write_rtp) does, the marker bit on the last packet
    /// of a video frame. Frames and RTP packets may be mixed: numbering continues.
    ///
    /// Errors: those of `write_rtp`; `UnknownPayloadType` also for a codec without a
    /// payload format here; `InvalidMedia` when the packetizer rejects the frame.
    pub fn write_frame(&mut self, frame: crate::media::FrameWrite<'_>) -> Result<(), crate::Error> {
        let id = self.id;
        self.pc.send_frame(id, &frame)
    }

    /// Chooses what the receiver gives: whole frames (`Event::Frame`, assembled, in order,
    /// after loss recovery) when `frames` is true, RTP packets (`Event::Rtp`, the default,
    /// for forwarding) when false.
    pub fn set_receive_frames(&mut self, frames: bool) {
        let t = self.get_mut();
        t.receive_frames = frames;
        if !frames {
            for s in &mut t.inbound {
                s.assembler = None;
            }
        }
    }

    /// Whether the receiver gives frames (see [`set_receive_frames`](Self::set_receive_frames)).
    pub fn receives_frames(&self) -> bool {
        self.get().receive_frames
    }

    /// The receiver's keyframe request: a PLI (or FIR) to the peer's current SSRC on this
    /// m-line.
    ///
    /// Errors: `MediaNotReady` before keys or before the peer's SSRC is known.
    pub fn request_keyframe(&mut self, kind: KeyframeRequestKind) -> Result<(), crate::Error> {
        let id = self.id;
        self.pc.send_keyframe_request(id, None, kind)
    }

    /// A keyframe request for the peer's simulcast layer `rid` received here.
    ///
    /// Errors: `MediaNotReady` before keys or before a packet of that layer arrived.
    pub fn request_layer_keyframe(
        &mut self,
        rid: &str,
        kind: KeyframeRequestKind,
    ) -> Result<(), crate::Error> {
        let id = self.id;
        self.pc.send_keyframe_request(id, Some(rid), kind)
    }
}
