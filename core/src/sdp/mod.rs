//! `sdp`: the Session Description Protocol as WebRTC uses it — a parser and a canonical
//! printer over a typed model.
//!
//! Implemented:
//! - RFC 8866: every line type (`v o s i u e p c b t r z k a m`) in the order §5 gives; CRLF
//!   on output, LF or CRLF on input; `parse(print(x)) == x` and printing is canonical.
//! - Typed attributes for what RFC 8829 (JSEP) §5 uses: `group` (RFC 5888/8843),
//!   `msid-semantic`, `msid` (RFC 8830), `ice-ufrag`/`ice-pwd`/`ice-options`/`ice-lite` and
//!   `candidate`/`end-of-candidates` (RFC 8839, 8840), `fingerprint` (RFC 8122), `setup`
//!   (RFC 4145), `mid`, `extmap` and `extmap-allow-mixed` (RFC 8285), the direction
//!   attributes, `rtcp` (RFC 3605), `rtcp-mux`, `rtcp-mux-only` (RFC 8858), `rtcp-rsize`
//!   (RFC 5506), `rtpmap`, `fmtp`, `rtcp-fb` (RFC 4585), `ssrc`, `ssrc-group` (RFC 5576),
//!   `rid` (RFC 8851), `simulcast` (RFC 8853), `sctp-port` and `max-message-size` (RFC 8841).
//!   Every other attribute is kept verbatim and in place ([`Attribute::Other`]).
//! - Placement: session-only (`group`, `msid-semantic`, `ice-lite`) and media-only
//!   attributes are rejected at the wrong level.
//! - Limits against hostile input ([`SdpLimits`]): size, lines, media sections.
//! - Liberal input, strict output: trailing spaces or tabs after an attribute that fails
//!   its grammar only because of them are ignored (`a=msid-semantic: WMS `); attributes
//!   that only describe (`msid-semantic`, `msid`, `ssrc`, `ssrc-group`, `rtcp`, `rtcp-fb`,
//!   `ice-options`) are kept verbatim as [`Attribute::Other`] when malformed; what
//!   negotiation depends on stays a line-numbered error. Tested against a corpus of offers
//!   and answers from other stacks (`tests/corpus`). A bundle-only section (port 0,
//!   `a=bundle-only`, in a BUNDLE group) is not rejected
//!   ([`SessionDescription::is_rejected`]).
//!
//! Not here: JSEP offer/answer rules and BUNDLE negotiation (built on this model), the typed
//! ICE candidate (`a=candidate` values are a validated [`CandidateValue`] string until the
//! `ice` module's candidate replaces it), and the semantics of `fmtp` parameters (kept as text
//! with a `name=value` iterator).
//!
//! ```
//! use rtcpeer::sdp::SessionDescription;
//! let text = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
//!             a=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
//!             c=IN IP4 0.0.0.0\r\na=mid:0\r\na=sctp-port:5000\r\n";
//! let sdp = SessionDescription::parse(text)?;
//! assert_eq!(sdp.media[0].mid(), Some("0"));
//! assert_eq!(sdp.media[0].sctp_port(), Some(5000));
//! assert_eq!(sdp.to_string(), text);
//! # Ok::<(), rtcpeer::sdp::SdpError>(())
//! ```

mod attribute;
mod candidate;
mod error;
mod media;
mod parser;
mod printer;
mod rtp_attrs;
mod session;
mod simulcast;
mod text;
mod transport_attrs;

#[cfg(test)]
mod tests;

pub use attribute::Attribute;
pub use candidate::{CandidateValue, InvalidCandidate};
pub use error::{SdpError, SdpErrorKind};
pub use media::{Codec, MediaDescription, MediaKind};
pub use parser::SdpLimits;
pub use rtp_attrs::{Extmap, Fmtp, Rtcp, RtcpFb, RtpMap, Ssrc, SsrcGroup};
pub use session::{
    Bandwidth, ConnectionAddress, Origin, Repeat, SessionDescription, TimeDescription, TimeUnit,
    TimeZoneAdjustment, TypedTime,
};
pub use simulcast::{
    Rid, RidDirection, RidRestrictions, Simulcast, SimulcastRid, SimulcastStreams,
};
pub use transport_attrs::{Direction, Fingerprint, Group, IceOptions, Msid, MsidSemantic, Setup};

impl SessionDescription {
    /// Parses an SDP text (LF or CRLF line endings) with the default [`SdpLimits`].
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        parser::parse(text, &SdpLimits::default())
    }

    /// Parses an SDP text within `limits`.
    pub fn parse_with_limits(text: &str, limits: &SdpLimits) -> Result<Self, SdpError> {
        parser::parse(text, limits)
    }

    /// Parses SDP bytes; text that is not UTF-8 is an error naming the line it is on.
    pub fn parse_bytes(bytes: &[u8], limits: &SdpLimits) -> Result<Self, SdpError> {
        if bytes.len() > limits.max_bytes {
            let line = parser::line_at(bytes, limits.max_bytes);
            return Err(SdpError::new(
                line,
                SdpErrorKind::TooLarge {
                    limit: limits.max_bytes,
                },
            ));
        }
        let text = core::str::from_utf8(bytes).map_err(|e| {
            SdpError::new(
                parser::line_at(bytes, e.valid_up_to()),
                SdpErrorKind::InvalidUtf8,
            )
        })?;
        parser::parse(text, limits)
    }
}

impl core::str::FromStr for SessionDescription {
    type Err = SdpError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
