//! Media in the echo server: every track the client sends comes back on the same
//! transceiver (the answer says `sendrecv`), payload untouched; the core gives the echo our
//! own SSRC, sequence numbers and timestamps. A keyframe request from the client (PLI or
//! FIR about what we send) is forwarded to the client's sender on that transceiver, which
//! is where our keyframes come from.
//!
//! `--media decline` makes the server a data-only one that refuses cameras and microphones:
//! each audio/video m-line of an offer is rejected (transceiver `stop()`), and the rest of
//! the session, data channel included, works as usual.

use rtcpeer::media::{KeyframeRequestKind, ReceivedRtp, RtpWrite, TrackInfo, TransceiverId};
use rtcpeer::peer_connection::PeerConnection;
use rtcpeer::sdp::Direction;
use std::sync::OnceLock;

/// What the server does with the audio and video a client offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaPolicy {
    /// Send every track back on its transceiver.
    #[default]
    Echo,
    /// Reject audio and video m-lines; data channels only.
    Decline,
}

impl std::str::FromStr for MediaPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "echo" => Ok(Self::Echo),
            "decline" => Ok(Self::Decline),
            other => Err(format!("--media takes echo or decline, not {other:?}")),
        }
    }
}

static POLICY: OnceLock<MediaPolicy> = OnceLock::new();

/// Sets the process's media policy (once, at start-up; later calls are ignored).
pub fn set_policy(policy: MediaPolicy) {
    let _ = POLICY.set(policy);
}

/// The media policy in force (default [`MediaPolicy::Echo`]).
pub fn policy() -> MediaPolicy {
    POLICY.get().copied().unwrap_or_default()
}

/// After the client's offer was applied and before answering: each transceiver the offer
/// created sends back what it receives (`sendrecv`, with an echo track announced), or is
/// stopped under [`MediaPolicy::Decline`].
pub fn prepare_answer(pc: &mut PeerConnection) {
    let decline = policy() == MediaPolicy::Decline;
    for id in pc.transceivers() {
        let Ok(mut t) = pc.transceiver(id) else {
            continue;
        };
        if t.mid().is_none() || t.is_stopped() {
            continue;
        }
        if decline {
            t.stop();
            continue;
        }
        let track = TrackInfo::new(t.kind().clone(), format!("echo-{}", id.0), "echo");
        t.replace_track(Some(track));
        if let Err(e) = t.set_direction(Direction::SendRecv) {
            tracing::debug!(%e, "echo: transceiver not set to sendrecv");
        }
    }
}

/// Sends `packet` back on its transceiver. Returns whether it was sent.
pub fn echo_rtp(pc: &mut PeerConnection, packet: &ReceivedRtp) -> bool {
    let write = echo_write(packet);
    match pc
        .transceiver(packet.transceiver)
        .and_then(|mut t| t.write_rtp(write))
    {
        Ok(()) => true,
        Err(e) => {
            tracing::trace!(%e, "echo: RTP packet not echoed");
            false
        }
    }
}

/// The write that echoes `packet`: same payload type, numbers, marker and payload; the
/// client's SSRC names the source so that a new client SSRC continues our numbering.
pub fn echo_write(packet: &ReceivedRtp) -> RtpWrite<'_> {
    RtpWrite {
        source: packet.ssrc,
        ..RtpWrite::new(
            packet.payload_type,
            packet.sequence_number,
            packet.timestamp,
            packet.marker,
            packet.payload(),
        )
    }
}

/// The client asked for a keyframe of what we send on `transceiver`: ask the client's own
/// sender on that transceiver, whose frames we echo.
pub fn forward_keyframe_request(
    pc: &mut PeerConnection,
    transceiver: TransceiverId,
    kind: KeyframeRequestKind,
) {
    let sent = pc
        .transceiver(transceiver)
        .and_then(|mut t| t.request_keyframe(kind));
    if let Err(e) = sent {
        tracing::debug!(%e, "echo: keyframe request not forwarded");
    }
}
