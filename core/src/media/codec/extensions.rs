//! RTP header extensions in SDP (`a=extmap`, RFC 8285 §8): read, offer, answer, write.
//!
//! In a BUNDLE group every section shares one RTP session, so an id must mean one URI across
//! the whole group (RFC 8843 §9.1): our offers take each URI's id from a fixed table
//! (Chromium's ids), so the same URI has the same id in every section and every offer.

use std::collections::BTreeSet;

use super::MediaCodecs;
use crate::sdp::{Attribute, Extmap, MediaDescription, MediaKind};

/// Header extension URIs.
pub mod uri {
    /// Audio level of the packet (RFC 6464).
    pub const AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    /// Absolute send time (Google's REMB companion).
    pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    /// Transport-wide sequence number for transport-cc feedback.
    pub const TRANSPORT_CC: &str =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    /// The section's mid (RFC 8843 §15).
    pub const MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
    /// Playout delay limits.
    pub const PLAYOUT_DELAY: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
    /// Screen content / camera marker.
    pub const VIDEO_CONTENT_TYPE: &str =
        "http://www.webrtc.org/experiments/rtp-hdrext/video-content-type";
    /// Frame timing information.
    pub const VIDEO_TIMING: &str = "http://www.webrtc.org/experiments/rtp-hdrext/video-timing";
    /// Colour space of the frame.
    pub const COLOR_SPACE: &str = "http://www.webrtc.org/experiments/rtp-hdrext/color-space";
    /// Capture time of the frame in the sender's NTP clock.
    pub const ABS_CAPTURE_TIME: &str =
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";
    /// RTP stream id, the simulcast `rid` (RFC 8852).
    pub const RTP_STREAM_ID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    /// The `rid` an RTX stream repairs (RFC 8852).
    pub const REPAIRED_RTP_STREAM_ID: &str =
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    /// Coordination of video orientation (3GPP TS 26.114).
    pub const VIDEO_ORIENTATION: &str = "urn:3gpp:video-orientation";
    /// Transmission time offset (RFC 5450).
    pub const TOFFSET: &str = "urn:ietf:params:rtp-hdrext:toffset";
}

/// The id our offers give each URI we know: the ids Chromium offers.
const ID_TABLE: &[(u8, &str)] = &[
    (1, uri::AUDIO_LEVEL),
    (2, uri::ABS_SEND_TIME),
    (3, uri::TRANSPORT_CC),
    (4, uri::MID),
    (5, uri::PLAYOUT_DELAY),
    (6, uri::VIDEO_CONTENT_TYPE),
    (7, uri::VIDEO_TIMING),
    (8, uri::COLOR_SPACE),
    (9, uri::ABS_CAPTURE_TIME),
    (10, uri::RTP_STREAM_ID),
    (11, uri::REPAIRED_RTP_STREAM_ID),
    (13, uri::VIDEO_ORIENTATION),
    (14, uri::TOFFSET),
];

/// The section's header extensions as `(id, uri)`, in order. Lines with an id outside
/// 1..=255 (RFC 8285's 4096..=4351 "answerer picks" range) are skipped; direction and
/// extension attributes are ignored.
pub fn read_extensions(m: &MediaDescription) -> Vec<(u8, String)> {
    m.extmaps()
        .filter_map(|e| Some((u8::try_from(e.id).ok()?, e.uri.clone())))
        .filter(|(id, _)| *id != 0)
        .collect()
}

/// Our offer's header extensions for a section of `kind`, in configuration order.
///
/// A URI's id does not depend on `kind` or on the section: URIs of the fixed table (Chromium's
/// ids: audio-level 1, abs-send-time 2, transport-cc 3, mid 4, playout-delay 5, abs-capture-time
/// 9, rid 10, repaired-rid 11, video-orientation 13, toffset 14, ...) get theirs; any other
/// configured URI gets, in configuration order, the lowest id in 1..=14 that no configured URI
/// holds, then ids from 16 up (two-byte form; 15 is never used). A repeated URI is offered
/// once; URIs beyond id 255 are not offered.
pub fn offer_extensions(local: &MediaCodecs, kind: &MediaKind) -> Vec<(u8, String)> {
    let ids = assign_ids(local);
    let mut out: Vec<(u8, String)> = Vec::new();
    for e in local.extensions_for(kind) {
        let offered = out.iter().any(|(_, u)| *u == e.uri);
        match ids.iter().find(|(_, u)| *u == e.uri) {
            Some(pair) if !offered => out.push(pair.clone()),
            _ => {}
        }
    }
    out
}

/// `(id, uri)` for every distinct configured URI, whatever its kinds.
fn assign_ids(local: &MediaCodecs) -> Vec<(u8, String)> {
    let mut out: Vec<(u8, String)> = Vec::new();
    for e in &local.extensions {
        if out.iter().any(|(_, u)| *u == e.uri) {
            continue;
        }
        if let Some((id, _)) = ID_TABLE.iter().find(|(_, u)| *u == e.uri) {
            out.push((*id, e.uri.clone()));
        }
    }
    let used: BTreeSet<u8> = out.iter().map(|(id, _)| *id).collect();
    let mut free = (1..=14u8).chain(16..=255).filter(|id| !used.contains(id));
    let mut unknown = Vec::new();
    for e in &local.extensions {
        let known = out.iter().chain(&unknown).any(|(_, u)| *u == e.uri);
        if known {
            continue;
        }
        if let Some(id) = free.next() {
            unknown.push((id, e.uri.clone()));
        }
    }
    out.extend(unknown);
    out
}

/// The answer's header extensions for an offered section of `kind`: the offered `(id, uri)`
/// pairs whose URI we support for `kind`, with the offer's ids, in the offer's order. A
/// repeated id or URI in the offer is answered once (its first occurrence).
pub fn answer_extensions(
    local: &MediaCodecs,
    kind: &MediaKind,
    offered: &[(u8, String)],
) -> Vec<(u8, String)> {
    let mut ids = BTreeSet::new();
    let mut uris = BTreeSet::new();
    offered
        .iter()
        .filter(|(_, u)| local.extensions_for(kind).any(|e| e.uri == *u))
        .filter(|(id, u)| ids.insert(*id) && uris.insert(u.as_str()))
        .cloned()
        .collect()
}

/// Writes `exts` as `a=extmap:<id> <uri>` lines into `m`, replacing every `a=extmap` line it
/// has: the new lines take the place of the first old one, or follow `a=mid`, or go at the
/// end.
pub fn write_extensions(m: &mut MediaDescription, exts: &[(u8, String)]) {
    let old = m
        .attributes
        .iter()
        .position(|a| matches!(a, Attribute::Extmap(_)));
    let after_mid = || {
        m.attributes
            .iter()
            .position(|a| matches!(a, Attribute::Mid(_)))
            .map(|i| i + 1)
    };
    let at = old.or_else(after_mid).unwrap_or(m.attributes.len());
    m.attributes.retain(|a| !matches!(a, Attribute::Extmap(_)));
    let lines = exts.iter().map(|(id, uri)| {
        Attribute::Extmap(Extmap {
            id: u16::from(*id),
            direction: None,
            uri: uri.clone(),
            attributes: None,
        })
    });
    m.attributes.splice(at..at, lines);
}
