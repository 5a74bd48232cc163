//! Tests of codec and header-extension negotiation: recorded browser offers (Chromium,
//! Firefox, Safari) and a reconstructed aiortc offer, H.264 profile/level rules, answers,
//! extension ids, write/read round trips and property tests.

mod answers;
mod extensions;
mod h264;
mod props;
mod reading;
mod writing;

use crate::media::codec::NegotiatedCodec;
use crate::sdp::{MediaDescription, MediaKind, SessionDescription};

/// Recorded and reconstructed offers: (name, text).
pub(super) const OFFERS: &[(&str, &str)] = &[
    (
        "chromium",
        include_str!("../../../sdp/fixtures/chromium-offer.sdp"),
    ),
    (
        "firefox",
        include_str!("../../../sdp/fixtures/firefox-offer.sdp"),
    ),
    (
        "safari",
        include_str!("../../../sdp/fixtures/safari-offer.sdp"),
    ),
    ("aiortc", include_str!("fixtures/aiortc-offer.sdp")),
];

/// The offer called `name`, parsed.
pub(super) fn offer(name: &str) -> SessionDescription {
    let (_, text) = OFFERS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("offer exists");
    SessionDescription::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The first section of `kind` in the offer called `name`.
pub(super) fn section(name: &str, kind: MediaKind) -> MediaDescription {
    offer(name)
        .media
        .into_iter()
        .find(|m| m.kind == kind)
        .expect("offer has a section of that kind")
}

/// The codec with payload type `pt`.
pub(super) fn by_pt(codecs: &[NegotiatedCodec], pt: u8) -> &NegotiatedCodec {
    codecs
        .iter()
        .find(|c| c.payload_type == pt)
        .unwrap_or_else(|| panic!("payload type {pt} in {codecs:#?}"))
}

/// `(payload type, rtx payload type)` of each codec, in order.
pub(super) fn pts(codecs: &[NegotiatedCodec]) -> Vec<(u8, Option<u8>)> {
    codecs
        .iter()
        .map(|c| (c.payload_type, c.rtx_payload_type))
        .collect()
}
