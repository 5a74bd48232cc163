//! From negotiation state to SDP and back: our descriptions are built on the `sdp` model
//! in the shape Chromium writes; a remote description is read into a [`RemoteTransport`].

use super::PeerConnectionError;
use crate::ice::Candidate;
use crate::sdp::{
    Attribute, CandidateValue, ConnectionAddress, Fingerprint, Group, IceOptions, MediaDescription,
    MediaKind, MsidSemantic, Origin, SessionDescription, Setup,
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

/// Builds a description with `mlines` in order; candidates go in the first accepted one.
pub(crate) fn build(
    origin: Origin,
    mlines: &[MLine],
    t: &LocalTransport<'_>,
) -> SessionDescription {
    let mut sdp = SessionDescription::new(origin);
    let bundled: Vec<&str> = mlines
        .iter()
        .filter(|m| !m.rejected)
        .map(|m| m.mid.as_str())
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
    for m in mlines {
        sdp.media.push(if m.rejected {
            rejected_section(m)
        } else {
            let s = accepted_section(m, t, first);
            first = false;
            s
        });
    }
    sdp
}

fn rejected_section(m: &MLine) -> MediaDescription {
    MediaDescription::new(m.kind.clone(), 0, m.proto.clone(), m.formats.clone())
        .with_connection(ConnectionAddress::ip4("0.0.0.0"))
        .with_attribute(Attribute::Mid(m.mid.clone()))
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
    s.attributes.push(Attribute::IceUfrag(t.ufrag.into()));
    s.attributes.push(Attribute::IcePwd(t.pwd.into()));
    s.attributes.push(Attribute::IceOptions(IceOptions(vec![
        IceOptions::TRICKLE.into(),
    ])));
    s.attributes
        .push(Attribute::Fingerprint(t.fingerprint.clone()));
    s.attributes.push(Attribute::Setup(t.setup));
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
    let Some((index, m)) = sdp
        .media
        .iter()
        .enumerate()
        .find(|(_, m)| !m.is_port_zero())
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
