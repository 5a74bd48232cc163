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

/// A description the connection applied and keeps (pending or current, local or remote),
/// held as the SDP text it was parsed from: a few hundred bytes, where the parsed form takes
/// several KiB of vectors and strings for every connection, for its whole life. Reading it
/// parses the text again, which cannot fail and gives the same description: parsing is a
/// function of the text, and this text parsed once already.
#[derive(Debug, Clone)]
pub(crate) struct StoredDescription {
    pub sdp_type: SdpType,
    text: Box<str>,
    /// Index and mid of the first m-line not rejected (port 0), which every trickled
    /// candidate names, kept so that gathering does not parse the text per candidate.
    first_accepted: Option<(u16, Box<str>)>,
}

impl StoredDescription {
    /// Keeps `text`, which `sdp` was parsed from.
    pub fn from_text(sdp_type: SdpType, text: &str, sdp: &crate::sdp::SessionDescription) -> Self {
        Self {
            sdp_type,
            text: text.into(),
            first_accepted: first_accepted(sdp),
        }
    }

    /// The SDP text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The description, parsed again.
    pub fn parse(&self) -> crate::sdp::SessionDescription {
        reparse(&self.text).expect("the text parsed once already (`from_text`)")
    }

    /// Index and mid of the first m-line that is not rejected, if it has a mid.
    pub fn first_accepted(&self) -> Option<(u16, &str)> {
        self.first_accepted
            .as_ref()
            .map(|(index, mid)| (*index, &**mid))
    }
}

fn first_accepted(sdp: &crate::sdp::SessionDescription) -> Option<(u16, Box<str>)> {
    let (index, media) = sdp
        .media
        .iter()
        .enumerate()
        .find(|(_, m)| !m.is_port_zero())?;
    Some((u16::try_from(index).ok()?, media.mid()?.into()))
}

/// Parses a kept text without size limits: it passed them once.
fn reparse(text: &str) -> Result<crate::sdp::SessionDescription, crate::sdp::SdpError> {
    let unlimited = crate::sdp::SdpLimits {
        max_bytes: usize::MAX,
        max_lines: usize::MAX,
        max_media: usize::MAX,
    };
    crate::sdp::SessionDescription::parse_with_limits(text, &unlimited)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::SessionDescription;

    const OFFER: &str = include_str!("../sdp/fixtures/chromium-datachannel-offer.sdp");

    #[test]
    fn a_description_kept_as_its_own_text_reads_back_the_same() {
        for text in [OFFER.to_owned(), OFFER.replace("\r\n", "\n")] {
            let sdp = SessionDescription::parse(&text).expect("fixture parses");
            let stored = StoredDescription::from_text(SdpType::Offer, &text, &sdp);
            assert_eq!(stored.sdp_type, SdpType::Offer);
            assert_eq!(stored.text(), text);
            assert_eq!(stored.parse(), sdp);
            assert_eq!(stored.first_accepted(), Some((0, "0")));
        }
    }

    #[test]
    fn the_first_accepted_line_skips_rejected_ones() {
        let rejected_first = OFFER.replacen("m=application 35119 ", "m=application 0 ", 1);
        let sdp = SessionDescription::parse(&rejected_first).expect("parses");
        let stored = StoredDescription::from_text(SdpType::Offer, &rejected_first, &sdp);
        assert_eq!(stored.first_accepted(), None);
    }
}
