//! Tests of the `sdp` module: recorded and documented fixtures, a table of invalid inputs,
//! typed attribute values, builders, and property tests (no panics, round trips).

mod attributes;
mod builder;
mod corpus;
mod errors;
mod fixtures;
mod props;

/// Every fixture: (file name, text).
pub(super) const FIXTURES: &[(&str, &str)] = &[
    (
        "chromium-offer.sdp",
        include_str!("../fixtures/chromium-offer.sdp"),
    ),
    (
        "chromium-answer.sdp",
        include_str!("../fixtures/chromium-answer.sdp"),
    ),
    (
        "chromium-datachannel-offer.sdp",
        include_str!("../fixtures/chromium-datachannel-offer.sdp"),
    ),
    (
        "firefox-offer.sdp",
        include_str!("../fixtures/firefox-offer.sdp"),
    ),
    (
        "safari-offer.sdp",
        include_str!("../fixtures/safari-offer.sdp"),
    ),
    (
        "rfc8866-all-lines.sdp",
        include_str!("../fixtures/rfc8866-all-lines.sdp"),
    ),
];

/// `text` with every line ending as CRLF (the printer's canonical form).
pub(super) fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Parses a fixture by name, panicking with the error if it does not parse.
pub(super) fn fixture(name: &str) -> super::SessionDescription {
    let (_, text) = FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .expect("fixture exists");
    super::SessionDescription::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}
