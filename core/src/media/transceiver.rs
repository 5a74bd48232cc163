//! Transceivers: one m-line's sender and receiver, as the browser's `RTCRtpTransceiver`.

use super::codec::NegotiatedCodec;
use super::{InboundStream, OutboundStream};
use crate::rtp::extensions::ExtensionMap;
use crate::sdp::MediaKind;

/// `RTCRtpTransceiverDirection` (the same four values SDP writes).
pub use crate::sdp::Direction as TransceiverDirection;

/// Names one transceiver of a [`PeerConnection`](crate::peer_connection::PeerConnection)
/// for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransceiverId(pub u32);

/// A local track as the browser's `MediaStreamTrack` identifies it: what `add_track` takes.
/// The core carries encoded media only, so a track is its kind and its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    /// `audio` or `video`.
    pub kind: MediaKind,
    /// The track id, written in `a=msid` (the peer's `track.id` in Chromium before M116,
    /// the `msid` appdata everywhere).
    pub id: String,
    /// The ids of the streams the track belongs to (`a=msid:<stream> <track>`).
    pub stream_ids: Vec<String>,
}

impl TrackInfo {
    /// A track of `kind` named `id` in the stream `stream_id`.
    pub fn new(kind: MediaKind, id: impl Into<String>, stream_id: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
            stream_ids: vec![stream_id.into()],
        }
    }
}

/// `RTCRtpTransceiverInit`.
#[derive(Debug, Clone, PartialEq)]
pub struct TransceiverInit {
    /// The direction wanted. Default `sendrecv`.
    pub direction: TransceiverDirection,
    /// Streams the sender's track is announced in.
    pub stream_ids: Vec<String>,
    /// `sendEncodings`: empty or one for a single stream; two or three (each with a rid)
    /// for simulcast on a video transceiver (see [`super::simulcast`]).
    pub send_encodings: Vec<super::SendEncoding>,
}

impl Default for TransceiverInit {
    fn default() -> Self {
        Self {
            direction: TransceiverDirection::SendRecv,
            stream_ids: Vec::new(),
            send_encodings: Vec::new(),
        }
    }
}

/// The browser's `track` event (`RTCTrackEvent`): the peer sends media on a transceiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackEvent {
    /// The transceiver whose receiver carries the track.
    pub transceiver: TransceiverId,
    /// Its m-line's mid.
    pub mid: String,
    /// `audio` or `video`.
    pub kind: MediaKind,
    /// The remote track id (`a=msid` appdata), or a generated one.
    pub track_id: String,
    /// The remote stream ids (`a=msid`); empty for a track without stream.
    pub stream_ids: Vec<String>,
}

/// One RTP stream a sender sends: the only one, or a simulcast layer.
#[derive(Debug, Clone)]
pub(crate) struct SendLayer {
    pub outbound: OutboundStream,
    /// The packetizer once the application wrote a frame on this layer.
    pub frame_sender: Option<super::frames::FrameSender>,
    /// The application's encoding, for a simulcast layer.
    pub encoding: Option<super::SendEncoding>,
}

impl SendLayer {
    /// The layer's rid (simulcast only).
    pub fn rid(&self) -> Option<&str> {
        self.encoding.as_ref().map(|e| e.rid.as_str())
    }
}

/// Which feedback asked for a keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyframeRequestKind {
    /// Picture Loss Indication (RFC 4585 §6.3.1).
    Pli,
    /// Full Intra Request (RFC 5104 §4.3.1).
    Fir,
}

/// One transceiver's state inside the peer connection.
#[derive(Debug, Clone)]
pub(crate) struct Transceiver {
    pub id: TransceiverId,
    pub kind: MediaKind,
    /// The m-line's mid, once an offer or answer associated one.
    pub mid: Option<String>,
    /// The mid was assigned by a description not yet negotiated (undone by rollback).
    pub mid_provisional: bool,
    /// Created by applying a remote offer that is not yet answered (removed by rollback).
    pub created_by_remote_offer: bool,
    /// Created by `add_track` (JSEP §5.10: may be matched to a remote offer's m-line).
    pub added_by_track: bool,
    /// `direction`: what the application wants.
    pub direction: TransceiverDirection,
    /// `currentDirection`: what the last completed negotiation agreed.
    pub current_direction: Option<TransceiverDirection>,
    /// `stop()` was called; the next negotiation rejects the m-line.
    pub stopping: bool,
    /// The m-line was rejected: the transceiver is dead.
    pub stopped: bool,
    /// The sender's track, if any.
    pub track: Option<TrackInfo>,
    /// The sender's stream ids (from `add_track` or the init).
    pub stream_ids: Vec<String>,
    /// The sender's RTP streams: one, or one per simulcast layer (in the order of the
    /// application's encodings). Never empty.
    pub layers: Vec<SendLayer>,
    /// The last negotiation accepted our simulcast layers (else only the first is sent,
    /// without rid).
    pub simulcast_negotiated: bool,
    /// The rids of our layers the peer's answer accepted (`a=simulcast:recv`).
    pub accepted_rids: Vec<String>,
    /// The rids the peer's last description offered to send us (`a=simulcast:send`).
    pub remote_send_rids: Vec<String>,
    /// Remote track identity from the last remote description.
    pub remote_track_id: String,
    pub remote_stream_ids: Vec<String>,
    /// SSRCs the remote description announced for this m-line (media, then RTX).
    pub remote_ssrcs: Vec<u32>,
    /// `ontrack` fired and the remote side still sends.
    pub receiving: bool,
    /// The remote description says the peer sends on this m-line.
    pub remote_sends: bool,
    pub inbound: Vec<InboundStream>,
    /// SSRC we use in receiver-only RTCP for this m-line (the sender's when it sends).
    pub codecs: Vec<NegotiatedCodec>,
    pub extensions: ExtensionMap,
    /// Payload types of RTX codecs among `codecs`.
    pub rtx_payload_types: Vec<u8>,
    /// The receiver gives whole frames (`Event::Frame`) instead of RTP packets.
    pub receive_frames: bool,
    /// The peer's RTX SSRC -> media SSRC pairs (`a=ssrc-group:FID`).
    pub remote_rtx: Vec<(u32, u32)>,
    /// When the receiver last asked for a keyframe on its own (throttle).
    pub last_auto_keyframe: Option<std::time::Instant>,
    /// In frame mode, a frame was lost for good and no keyframe has come since: the
    /// request is repeated until one does.
    pub keyframe_wanted: bool,
    /// The simulcast layer a wanted keyframe is for (the last one that lost a frame).
    pub keyframe_wanted_rid: Option<std::sync::Arc<str>>,
}

impl Transceiver {
    pub fn new(
        id: TransceiverId,
        kind: MediaKind,
        direction: TransceiverDirection,
        outbound: OutboundStream,
    ) -> Self {
        Self {
            id,
            kind,
            mid: None,
            mid_provisional: false,
            created_by_remote_offer: false,
            added_by_track: false,
            direction,
            current_direction: None,
            stopping: false,
            stopped: false,
            track: None,
            stream_ids: Vec::new(),
            layers: vec![SendLayer {
                outbound,
                frame_sender: None,
                encoding: None,
            }],
            simulcast_negotiated: false,
            accepted_rids: Vec::new(),
            remote_send_rids: Vec::new(),
            remote_track_id: String::new(),
            remote_stream_ids: Vec::new(),
            remote_ssrcs: Vec::new(),
            receiving: false,
            remote_sends: false,
            inbound: Vec::new(),
            codecs: Vec::new(),
            extensions: ExtensionMap::default(),
            rtx_payload_types: Vec::new(),
            receive_frames: false,
            remote_rtx: Vec::new(),
            last_auto_keyframe: None,
            keyframe_wanted: false,
            keyframe_wanted_rid: None,
        }
    }

    /// The first (or only) sending stream.
    pub fn outbound(&self) -> &OutboundStream {
        &self.layers[0].outbound
    }

    /// Whether `ssrc` is one of our media or RTX SSRCs on this transceiver.
    pub fn sends_ssrc(&self, ssrc: u32) -> bool {
        self.layer_of_ssrc(ssrc).is_some()
    }

    /// The index of the layer whose media or RTX SSRC is `ssrc`.
    pub fn layer_of_ssrc(&self, ssrc: u32) -> Option<usize> {
        self.layers
            .iter()
            .position(|l| l.outbound.ssrc == ssrc || l.outbound.rtx_ssrc == ssrc)
    }

    /// Switches the simulcast layers by what `target_bps` allows
    /// ([`allocate_layers`](crate::media::allocate_layers) over the encodings); returns the
    /// flags, in the order of the encodings.
    pub fn allocate_layers(&mut self, target_bps: u64) -> Vec<bool> {
        let encodings: Vec<_> = self
            .layers
            .iter()
            .filter_map(|l| l.encoding.clone())
            .collect();
        let on = crate::media::allocate_layers(target_bps, &encodings);
        for (l, &a) in self.layers.iter_mut().zip(&on) {
            l.outbound.stats.active = a;
        }
        on
    }

    /// The index of the sending layer named `rid`; `None` names the first layer.
    pub fn layer_index(&self, rid: Option<&str>) -> Option<usize> {
        match rid {
            None => Some(0),
            Some(rid) => self
                .layers
                .iter()
                .position(|l| l.encoding.as_ref().is_some_and(|e| e.rid == rid)),
        }
    }

    /// Whether generic NACK (`a=rtcp-fb:<pt> nack`) was negotiated on a media codec.
    pub fn nack_enabled(&self) -> bool {
        self.feedback_negotiated("nack")
    }

    /// Whether REMB (`a=rtcp-fb:<pt> goog-remb`) was negotiated on a media codec.
    pub fn remb_enabled(&self) -> bool {
        self.feedback_negotiated("goog-remb")
    }

    /// Whether the feedback value `value` (ASCII case-insensitive) was negotiated on a
    /// media (not RTX) codec.
    fn feedback_negotiated(&self, value: &str) -> bool {
        self.codecs.iter().any(|c| {
            !c.codec.is_rtx()
                && c.codec
                    .feedback
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(value))
        })
    }

    /// Whether we may send RTP now: negotiated with a sending direction and not stopped.
    pub fn can_send(&self) -> bool {
        !self.stopped
            && matches!(
                self.current_direction,
                Some(TransceiverDirection::SendRecv | TransceiverDirection::SendOnly)
            )
    }

    /// Whether the negotiated direction lets us receive.
    pub fn can_receive(&self) -> bool {
        !self.stopped
            && matches!(
                self.current_direction,
                Some(TransceiverDirection::SendRecv | TransceiverDirection::RecvOnly)
            )
    }

    /// The codec a payload type names in the negotiation, if any.
    pub fn codec(&self, payload_type: u8) -> Option<&NegotiatedCodec> {
        self.codecs.iter().find(|c| c.payload_type == payload_type)
    }

    /// The inbound stream of `ssrc`, created when new (bounded by the caller).
    pub fn inbound_mut(&mut self, ssrc: u32) -> Option<&mut InboundStream> {
        self.inbound.iter_mut().find(|s| s.ssrc == ssrc)
    }
}

/// The direction an answerer agrees to, given what it wants and what the offer says
/// (RFC 8829 §5.3.1, RFC 3264 §6.1): it can send only if the offerer receives, and receive
/// only if the offerer sends.
pub(crate) fn answer_direction(
    wanted: TransceiverDirection,
    offered: TransceiverDirection,
) -> TransceiverDirection {
    compose(
        sends(wanted) && receives(offered),
        receives(wanted) && sends(offered),
    )
}

/// The direction seen from the other side: sendonly <-> recvonly.
pub(crate) fn reverse(d: TransceiverDirection) -> TransceiverDirection {
    compose(receives(d), sends(d))
}

/// `d` with sending switched on or off, receiving unchanged.
pub(crate) fn with_send(d: TransceiverDirection, send: bool) -> TransceiverDirection {
    compose(send, receives(d))
}

pub(crate) fn sends(d: TransceiverDirection) -> bool {
    matches!(
        d,
        TransceiverDirection::SendRecv | TransceiverDirection::SendOnly
    )
}

pub(crate) fn receives(d: TransceiverDirection) -> bool {
    matches!(
        d,
        TransceiverDirection::SendRecv | TransceiverDirection::RecvOnly
    )
}

pub(crate) fn compose(send: bool, receive: bool) -> TransceiverDirection {
    match (send, receive) {
        (true, true) => TransceiverDirection::SendRecv,
        (true, false) => TransceiverDirection::SendOnly,
        (false, true) => TransceiverDirection::RecvOnly,
        (false, false) => TransceiverDirection::Inactive,
    }
}

#[cfg(test)]
mod tests {
    use super::TransceiverDirection::*;
    use super::*;

    #[test]
    fn answer_direction_follows_rfc_3264() {
        assert_eq!(answer_direction(SendRecv, SendRecv), SendRecv);
        assert_eq!(answer_direction(SendRecv, SendOnly), RecvOnly);
        assert_eq!(answer_direction(SendRecv, RecvOnly), SendOnly);
        assert_eq!(answer_direction(RecvOnly, SendRecv), RecvOnly);
        assert_eq!(answer_direction(RecvOnly, RecvOnly), Inactive);
        assert_eq!(answer_direction(SendOnly, SendOnly), Inactive);
        assert_eq!(answer_direction(SendRecv, Inactive), Inactive);
    }

    #[test]
    fn reverse_swaps_send_and_receive() {
        assert_eq!(reverse(SendOnly), RecvOnly);
        assert_eq!(reverse(RecvOnly), SendOnly);
        assert_eq!(reverse(SendRecv), SendRecv);
        assert_eq!(reverse(Inactive), Inactive);
    }
}
