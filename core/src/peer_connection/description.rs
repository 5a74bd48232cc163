//! `RTCSessionDescription`: a description type and its SDP text, JSON-compatible with
//! the browser's `{"type": "offer", "sdp": "..."}` (serde behind feature `serde`).

use std::fmt;

/// `RTCSdpType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SdpType {
    /// An offer.
    Offer,
    /// A provisional answer.
    Pranswer,
    /// A final answer.
    Answer,
    /// Undo the pending offer (set_local/remote_description only; `sdp` is ignored).
    Rollback,
}

impl SdpType {
    /// The JSON spelling: `offer`, `pranswer`, `answer`, `rollback`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offer => "offer",
            Self::Pranswer => "pranswer",
            Self::Answer => "answer",
            Self::Rollback => "rollback",
        }
    }
}

impl fmt::Display for SdpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `RTCSessionDescriptionInit`: what is exchanged through signalling.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RtcSessionDescription {
    /// The type (`"type"` in JSON).
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub sdp_type: SdpType,
    /// The SDP text (empty for a rollback).
    #[cfg_attr(feature = "serde", serde(default))]
    pub sdp: String,
}

impl RtcSessionDescription {
    /// An offer with `sdp`.
    pub fn offer(sdp: impl Into<String>) -> Self {
        Self {
            sdp_type: SdpType::Offer,
            sdp: sdp.into(),
        }
    }

    /// An answer with `sdp`.
    pub fn answer(sdp: impl Into<String>) -> Self {
        Self {
            sdp_type: SdpType::Answer,
            sdp: sdp.into(),
        }
    }

    /// A provisional answer with `sdp`.
    pub fn pranswer(sdp: impl Into<String>) -> Self {
        Self {
            sdp_type: SdpType::Pranswer,
            sdp: sdp.into(),
        }
    }

    /// A rollback.
    pub fn rollback() -> Self {
        Self {
            sdp_type: SdpType::Rollback,
            sdp: String::new(),
        }
    }
}

/// `RTCIceCandidateInit` / the `icecandidate` event's candidate.
///
/// `candidate` is the attribute value with its `candidate:` prefix, as browsers give it;
/// an empty `candidate` means end-of-candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct IceCandidate {
    /// `candidate:...`, or empty for end-of-candidates.
    pub candidate: String,
    /// The mid of the m-line it belongs to.
    #[cfg_attr(feature = "serde", serde(default))]
    pub sdp_mid: Option<String>,
    /// The index of the m-line it belongs to.
    #[cfg_attr(feature = "serde", serde(default, rename = "sdpMLineIndex"))]
    pub sdp_mline_index: Option<u16>,
    /// The ICE ufrag it belongs to.
    #[cfg_attr(feature = "serde", serde(default))]
    pub username_fragment: Option<String>,
}

impl IceCandidate {
    /// Whether this is the end-of-candidates marker.
    pub fn is_end_of_candidates(&self) -> bool {
        self.candidate.trim().is_empty()
    }
}
