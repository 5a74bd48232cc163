//! Remote candidates through `addIceCandidate`, before or after the remote description.

use super::{IceCandidate, PeerConnection, PeerConnectionError};
use crate::ice::ParseCandidateError;

/// Remote candidates kept while no remote description is set.
const MAX_QUEUED: usize = 64;

impl PeerConnection {
    /// `addIceCandidate`: a remote candidate (or end-of-candidates when `candidate` is
    /// empty). Before the remote description it is queued (at most 64) and applied with it.
    /// A candidate for another ufrag (an older ICE generation) is ignored.
    ///
    /// A candidate whose address is an mDNS `.local` name (browsers hide local addresses
    /// behind them) is accepted and resolved by multicast queries unless
    /// [`RtcConfiguration::resolve_mdns`](super::RtcConfiguration::resolve_mdns) is off (see
    /// `mdns.rs`); one with another host name is accepted and ignored, as a browser does
    /// when it cannot resolve a name (the peer's checks still reach us, so its address is
    /// learned as peer-reflexive). Ignored and unresolved ones are counted in
    /// [`PeerConnectionStats::remote_candidates_unresolved`](super::PeerConnectionStats).
    ///
    /// Errors: closed; a candidate that does not parse; too many queued.
    pub fn add_ice_candidate(&mut self, candidate: IceCandidate) -> Result<(), crate::Error> {
        if self.closed {
            return Err(PeerConnectionError::Closed.into());
        }
        if self.jsep.remote.is_none() {
            if self.jsep.queued_candidates.len() >= MAX_QUEUED {
                return Err(PeerConnectionError::InvalidCandidate(
                    "too many candidates before the remote description".into(),
                )
                .into());
            }
            if !candidate.is_end_of_candidates() {
                parse(&candidate)?;
            }
            self.jsep.queued_candidates.push(candidate);
            return Ok(());
        }
        self.apply_candidate(candidate)
    }

    fn apply_candidate(&mut self, candidate: IceCandidate) -> Result<(), crate::Error> {
        let remote_ufrag = self.ice.remote_credentials().map(|c| c.ufrag.clone());
        if let (Some(u), Some(r)) = (&candidate.username_fragment, &remote_ufrag)
            && u != r
        {
            tracing::debug!(ufrag = %u, "pc: candidate of another ICE generation ignored");
            return Ok(());
        }
        if candidate.is_end_of_candidates() {
            self.end_of_remote_candidates(self.now);
        } else {
            match parse(&candidate)? {
                Parsed::Address(c) => self.ice.add_remote_candidate(self.now, c)?,
                Parsed::Name(name) => self.add_named_candidate(&candidate.candidate, &name),
            }
        }
        self.pump();
        Ok(())
    }

    pub(crate) fn apply_queued_candidates(&mut self) {
        for c in std::mem::take(&mut self.jsep.queued_candidates) {
            if let Err(e) = self.apply_candidate(c) {
                tracing::debug!(%e, "pc: queued candidate not used");
            }
        }
    }
}

/// A remote candidate line, parsed.
enum Parsed {
    /// Its address is an IP address.
    Address(crate::ice::Candidate),
    /// Its address is this host name.
    Name(String),
}

/// The candidate, or the host name in place of its address.
fn parse(c: &IceCandidate) -> Result<Parsed, PeerConnectionError> {
    match c.candidate.parse() {
        Ok(candidate) => Ok(Parsed::Address(candidate)),
        Err(ParseCandidateError::Address(name)) if is_host_name(&name) => Ok(Parsed::Name(name)),
        Err(e) => Err(PeerConnectionError::InvalidCandidate(e.to_string())),
    }
}

/// A DNS name (RFC 1123 labels), as opposed to a malformed address.
pub(crate) fn is_host_name(name: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    name.len() <= 253
        && name.bytes().any(|b| b.is_ascii_alphabetic())
        && name.trim_end_matches('.').split('.').all(label_ok)
}
