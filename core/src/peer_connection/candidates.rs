//! Remote candidates through `addIceCandidate`, before or after the remote description.

use super::{IceCandidate, PeerConnection, PeerConnectionError};

/// Remote candidates kept while no remote description is set.
const MAX_QUEUED: usize = 64;

impl PeerConnection {
    /// `addIceCandidate`: a remote candidate (or end-of-candidates when `candidate` is
    /// empty). Before the remote description it is queued (at most 64) and applied with it.
    /// A candidate for another ufrag (an older ICE generation) is ignored.
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
            self.ice.end_of_remote_candidates(self.now);
        } else {
            let c = parse(&candidate)?;
            self.ice.add_remote_candidate(self.now, c)?;
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

fn parse(c: &IceCandidate) -> Result<crate::ice::Candidate, PeerConnectionError> {
    c.candidate
        .parse()
        .map_err(|e: crate::ice::ParseCandidateError| {
            PeerConnectionError::InvalidCandidate(e.to_string())
        })
}
