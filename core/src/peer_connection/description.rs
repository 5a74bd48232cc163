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
/// held as its printed SDP text: a few hundred bytes, where the parsed form takes several
/// KiB of vectors and strings for every connection, for its whole life. Reading it parses
/// the text again; `parse(print(x)) == x` is a tested property of the SDP module, and
/// [`new`](Self::new) checks it once per description, keeping the parsed form in the
/// unexpected case that it does not hold, so reading never fails.
#[derive(Debug, Clone)]
pub(crate) struct StoredDescription {
    pub sdp_type: SdpType,
    text: Box<str>,
    /// Only when the text does not parse back to the description (never seen).
    parsed: Option<Box<crate::sdp::SessionDescription>>,
}

impl StoredDescription {
    /// Keeps `sdp` (already parsed and checked) as text.
    pub fn new(sdp_type: SdpType, sdp: &crate::sdp::SessionDescription) -> Self {
        let text = sdp.to_string().into_boxed_str();
        let parsed = match reparse(&text) {
            Ok(back) if back == *sdp => None,
            _ => {
                tracing::debug!("pc: description does not survive printing; kept parsed");
                Some(Box::new(sdp.clone()))
            }
        };
        Self {
            sdp_type,
            text,
            parsed,
        }
    }

    /// The printed SDP.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The description, parsed again.
    pub fn parse(&self) -> crate::sdp::SessionDescription {
        match &self.parsed {
            Some(sdp) => (**sdp).clone(),
            None => reparse(&self.text).expect("checked to parse back in `new`"),
        }
    }
}

/// Parses our own printing without size limits: it passed the limits once, and printing
/// may lengthen it (CRLF for LF).
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
    fn stored_description_reads_back_what_it_kept() {
        let sdp = SessionDescription::parse(OFFER).expect("fixture parses");
        let stored = StoredDescription::new(SdpType::Offer, &sdp);
        assert_eq!(stored.sdp_type, SdpType::Offer);
        assert_eq!(stored.text(), sdp.to_string());
        assert_eq!(stored.parse(), sdp);
    }

    #[test]
    fn stored_description_reads_back_text_that_printing_pushed_over_the_size_limit() {
        // LF-only lines that fit the default limit; printing them with CRLF does not.
        let limit = crate::sdp::SdpLimits::default().max_bytes;
        let mut text = OFFER.replace("\r\n", "\n");
        let line = format!("a=x-padding:{}\n", "p".repeat(40));
        while text.len() + line.len() <= limit {
            text.push_str(&line);
        }
        let sdp = SessionDescription::parse(&text).expect("within the limits");
        let stored = StoredDescription::new(SdpType::Answer, &sdp);
        assert!(stored.text().len() > limit);
        assert_eq!(stored.parse(), sdp);
    }
}
