//! From negotiation state to SDP and back: our descriptions are built on the `sdp` model
//! in the shape Chromium writes; a remote description is read into a [`RemoteTransport`].

use super::PeerConnectionError;
use crate::ice::Candidate;
use crate::media::codec::{self, NegotiatedCodec};
use crate::sdp::{
    Attribute, CandidateValue, ConnectionAddress, Direction, Fingerprint, Group, IceOptions,
    MediaDescription, MediaKind, Msid, MsidSemantic, Origin, SessionDescription, Setup, Ssrc,
    SsrcGroup,
};

/// One m-line of the negotiation: its slot in the ordering and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MLine {
    pub mid: String,
    pub kind: MediaKind,
    pub proto: String,
    pub formats: Vec<String>,
    pub rejected: bool,
}

impl MLine {
    pub fn application(mid: String) -> Self {
        Self {
            mid,
            kind: MediaKind::Application,
            proto: MediaDescription::PROTO_SCTP.into(),
            formats: vec![MediaDescription::FORMAT_DATACHANNEL.into()],
            rejected: false,
        }
    }

    pub fn is_data(&self) -> bool {
        self.kind == MediaKind::Application
            && self.proto.ends_with("DTLS/SCTP")
            && self
                .formats
                .iter()
                .any(|f| f == MediaDescription::FORMAT_DATACHANNEL)
    }
}

/// Our side of the transport, as written into a description.
#[derive(Debug, Clone)]
pub(crate) struct LocalTransport<'a> {
    pub ufrag: &'a str,
    pub pwd: &'a str,
    pub fingerprint: Fingerprint,
    pub setup: Setup,
    pub max_message_size: u64,
    pub candidates: Vec<&'a Candidate>,
    pub end_of_candidates: bool,
    pub ice_lite: bool,
    /// Our proposed Ta in milliseconds (`a=ice-pacing`).
    pub ice_pacing_ms: u32,
}

/// What a description says about one audio or video m-line beyond the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MediaSection {
    pub direction: Direction,
    pub codecs: Vec<NegotiatedCodec>,
    pub extensions: Vec<(u8, String)>,
    /// Stream ids and track id for `a=msid` (only when we send).
    pub msid: Option<(Vec<String>, String)>,
    /// Our media SSRC and RTX SSRC for `a=ssrc` / `a=ssrc-group:FID` (only when we send).
    pub ssrcs: Option<(u32, Option<u32>)>,
    /// `a=rid` lines and the `a=simulcast` line (RFC 8851, RFC 8853), when simulcast is
    /// offered or answered.
    pub rids: Vec<crate::sdp::Rid>,
    pub simulcast: Option<crate::sdp::Simulcast>,
    pub cname: String,
    /// The m-line is rejected (port 0); only `codecs` are written.
    pub rejected: bool,
}

impl MediaSection {
    /// A rejected m-line that lists `codecs` (without feedback, extensions or sources).
    pub fn rejected(codecs: Vec<NegotiatedCodec>) -> Self {
        Self {
            direction: Direction::Inactive,
            codecs,
            extensions: Vec::new(),
            msid: None,
            ssrcs: None,
            rids: Vec::new(),
            simulcast: None,
            cname: String::new(),
            rejected: true,
        }
    }
}

/// Builds a description with `mlines` in order; candidates go in the first accepted one.
/// `media` gives, per m-line, what an accepted audio/video section carries (`None` for
/// data m-lines, and for media m-lines it rejects them).
pub(crate) fn build(
    origin: Origin,
    mlines: &[MLine],
    t: &LocalTransport<'_>,
    media: &[Option<MediaSection>],
) -> SessionDescription {
    let mut sdp = SessionDescription::new(origin);
    let section = |i: usize| media.get(i).and_then(Option::as_ref);
    let accepted = |i: usize, m: &MLine| {
        !m.rejected && (m.is_data() || section(i).is_some_and(|s| !s.rejected))
    };
    let bundled: Vec<&str> = mlines
        .iter()
        .enumerate()
        .filter(|(i, m)| accepted(*i, m))
        .map(|(_, m)| m.mid.as_str())
        .collect();
    if !bundled.is_empty() {
        sdp.attributes
            .push(Attribute::Group(Group::bundle(bundled)));
    }
    if t.ice_lite {
        sdp.attributes.push(Attribute::IceLite);
    } else {
        sdp.attributes.push(Attribute::IcePacing(t.ice_pacing_ms));
    }
    sdp.attributes.push(Attribute::ExtmapAllowMixed);
    sdp.attributes.push(Attribute::MsidSemantic(MsidSemantic {
        leading_space: true,
        semantic: "WMS".into(),
        ids: Vec::new(),
    }));
    let mut first = true;
    for (i, m) in mlines.iter().enumerate() {
        sdp.media.push(if !accepted(i, m) {
            rejected_section(m, t, section(i))
        } else {
            let mut s = accepted_section(m, t, first);
            if let Some(Some(section)) = media.get(i) {
                write_media(&mut s, section);
            }
            first = false;
            s
        });
    }
    sdp
}

/// A rejected m-line (port 0). Media m-lines keep the transport attributes, `a=rtcp-mux`
/// and their codecs, as Chromium writes its own rejected sections: Chromium checks RTCP
/// multiplexing, and aiortc reads ICE credentials and wants a known codec on every m-line,
/// rejected or not; `a=end-of-candidates` says no candidate follows.
fn rejected_section(
    m: &MLine,
    t: &LocalTransport<'_>,
    media: Option<&MediaSection>,
) -> MediaDescription {
    let formats = if m.formats.is_empty() {
        vec!["0".to_string()]
    } else {
        m.formats.clone()
    };
    let mut s = MediaDescription::new(m.kind.clone(), 0, m.proto.clone(), formats)
        .with_connection(ConnectionAddress::ip4("0.0.0.0"));
    if m.is_data() || !matches!(m.kind, MediaKind::Audio | MediaKind::Video) {
        return s.with_attribute(Attribute::Mid(m.mid.clone()));
    }
    push_transport(&mut s, t);
    s.attributes.push(Attribute::Mid(m.mid.clone()));
    s.attributes.push(Attribute::Direction(Direction::Inactive));
    s.attributes.push(Attribute::RtcpMux);
    let codecs: Vec<NegotiatedCodec> = media
        .map(|section| {
            let plain = section.codecs.iter().filter(|c| !c.codec.is_rtx());
            plain.cloned().collect()
        })
        .unwrap_or_default();
    if !codecs.is_empty() {
        codec::write_codecs(&mut s, &codecs);
    }
    // No candidate will ever come for it: a peer that keeps a transport per m-line until
    // BUNDLE is agreed (aiortc) gives up on this one at once instead of waiting.
    s.attributes.push(Attribute::EndOfCandidates);
    s
}

fn push_transport(s: &mut MediaDescription, t: &LocalTransport<'_>) {
    s.attributes.push(Attribute::IceUfrag(t.ufrag.into()));
    s.attributes.push(Attribute::IcePwd(t.pwd.into()));
    s.attributes.push(Attribute::IceOptions(IceOptions(vec![
        IceOptions::TRICKLE.into(),
    ])));
    s.attributes
        .push(Attribute::Fingerprint(t.fingerprint.clone()));
    s.attributes.push(Attribute::Setup(t.setup));
}

/// The media attributes after `a=mid`, in Chromium's order: extensions, direction, msid,
/// rtcp-mux, rtcp-rsize, codecs, then the SSRC lines.
fn write_media(s: &mut MediaDescription, m: &MediaSection) {
    codec::write_extensions(s, &m.extensions);
    s.attributes.push(Attribute::Direction(m.direction));
    if let Some((streams, track)) = &m.msid {
        let streams: Vec<&str> = if streams.is_empty() {
            vec!["-"]
        } else {
            streams.iter().map(String::as_str).collect()
        };
        for stream in streams {
            s.attributes.push(Attribute::Msid(Msid {
                stream_id: stream.to_string(),
                track_id: Some(track.clone()),
            }));
        }
    }
    s.attributes.push(Attribute::RtcpMux);
    s.attributes.push(Attribute::RtcpRsize);
    codec::write_codecs(s, &m.codecs);
    for rid in &m.rids {
        s.attributes.push(Attribute::Rid(rid.clone()));
    }
    if let Some(sc) = &m.simulcast {
        s.attributes.push(Attribute::Simulcast(sc.clone()));
    }
    if let Some((ssrc, rtx)) = m.ssrcs {
        if let Some(rtx) = rtx {
            s.attributes.push(Attribute::SsrcGroup(SsrcGroup {
                semantics: "FID".into(),
                ssrcs: vec![ssrc, rtx],
            }));
        }
        for source in std::iter::once(ssrc).chain(rtx) {
            s.attributes.push(Attribute::Ssrc(Ssrc {
                ssrc: source,
                attribute: Ssrc::CNAME.into(),
                value: Some(m.cname.clone()),
            }));
            if let Some((streams, track)) = &m.msid {
                let stream = streams.first().map_or("-", String::as_str);
                s.attributes.push(Attribute::Ssrc(Ssrc {
                    ssrc: source,
                    attribute: "msid".into(),
                    value: Some(format!("{stream} {track}")),
                }));
            }
        }
    }
}

fn accepted_section(m: &MLine, t: &LocalTransport<'_>, with_candidates: bool) -> MediaDescription {
    let mut s = MediaDescription::new(m.kind.clone(), 9, m.proto.clone(), m.formats.clone())
        .with_connection(ConnectionAddress::ip4("0.0.0.0"));
    if with_candidates {
        for c in &t.candidates {
            let text = c.to_string();
            let value = text.strip_prefix("candidate:").unwrap_or(&text);
            match CandidateValue::new(value) {
                Ok(v) => s.attributes.push(Attribute::Candidate(v)),
                Err(_) => tracing::debug!(%text, "pc: local candidate not printable in SDP"),
            }
        }
    }
    if !m.is_data() {
        s.attributes.push(Attribute::Rtcp(crate::sdp::Rtcp {
            port: 9,
            address: Some(ConnectionAddress::ip4("0.0.0.0")),
        }));
    }
    push_transport(&mut s, t);
    s.attributes.push(Attribute::Mid(m.mid.clone()));
    if m.is_data() {
        s.attributes
            .push(Attribute::SctpPort(crate::sctp::DEFAULT_PORT));
        s.attributes
            .push(Attribute::MaxMessageSize(t.max_message_size));
    }
    if with_candidates && t.end_of_candidates {
        s.attributes.push(Attribute::EndOfCandidates);
    }
    s
}

/// The m-lines a description carries.
pub(crate) fn mlines_of(sdp: &SessionDescription) -> Vec<MLine> {
    sdp.media
        .iter()
        .enumerate()
        .map(|(i, m)| MLine {
            mid: m.mid().map_or_else(|| i.to_string(), str::to_string),
            kind: m.kind.clone(),
            proto: m.proto.clone(),
            formats: m.formats.clone(),
            rejected: sdp.is_rejected(m),
        })
        .collect()
}

/// What a remote description says about the (bundled) transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteTransport {
    pub ufrag: String,
    pub pwd: String,
    pub fingerprint: Fingerprint,
    pub setup: Option<Setup>,
    pub sctp_port: Option<u16>,
    pub max_message_size: Option<u64>,
    pub candidates: Vec<String>,
    pub end_of_candidates: bool,
    pub ice_lite: bool,
    /// The peer's proposed Ta in milliseconds (`a=ice-pacing`), if it wrote one.
    pub ice_pacing_ms: Option<u32>,
    /// Index and mid of the m-line the transport was read from.
    pub mline_index: usize,
    pub mid: String,
}

fn invalid(msg: &str) -> PeerConnectionError {
    PeerConnectionError::InvalidDescription(msg.to_string())
}

/// Reads the transport of the first accepted m-line (max-bundle: every bundled m-line
/// shares it). `None` when every m-line is rejected.
pub(crate) fn remote_transport(
    sdp: &SessionDescription,
) -> Result<Option<RemoteTransport>, PeerConnectionError> {
    remote_transport_where(sdp, |_, _| true)
}

/// Like [`remote_transport`], from the m-line with `mid`.
pub(crate) fn remote_transport_of(
    sdp: &SessionDescription,
    mid: &str,
) -> Result<Option<RemoteTransport>, PeerConnectionError> {
    remote_transport_where(sdp, |i, m| {
        m.mid().map_or_else(|| i.to_string(), str::to_string) == mid
    })
}

fn remote_transport_where(
    sdp: &SessionDescription,
    pick: impl Fn(usize, &MediaDescription) -> bool,
) -> Result<Option<RemoteTransport>, PeerConnectionError> {
    let Some((index, m)) = sdp
        .media
        .iter()
        .enumerate()
        .find(|(i, m)| !m.is_port_zero() && pick(*i, m))
    else {
        return Ok(None);
    };
    let (ufrag, pwd) = sdp
        .ice_credentials(m)
        .ok_or_else(|| invalid("missing a=ice-ufrag or a=ice-pwd"))?;
    let fingerprint = sdp
        .fingerprints_for(m)
        .into_iter()
        .find(|f| f.hash.eq_ignore_ascii_case("sha-256"))
        .or_else(|| sdp.fingerprints_for(m).into_iter().next())
        .ok_or_else(|| invalid("missing a=fingerprint"))?
        .clone();
    let data = sdp
        .media
        .iter()
        .find(|m| !sdp.is_rejected(m) && m.sctp_port().is_some());
    Ok(Some(RemoteTransport {
        ufrag: ufrag.to_string(),
        pwd: pwd.to_string(),
        fingerprint,
        setup: sdp.setup_for(m),
        sctp_port: data.and_then(MediaDescription::sctp_port),
        max_message_size: data.and_then(MediaDescription::max_message_size),
        candidates: m.candidates().map(|c| c.as_str().to_string()).collect(),
        end_of_candidates: m.end_of_candidates(),
        ice_lite: sdp.ice_lite(),
        ice_pacing_ms: sdp.ice_pacing(),
        mline_index: index,
        mid: m.mid().map_or_else(|| index.to_string(), str::to_string),
    }))
}
