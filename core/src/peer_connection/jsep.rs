//! JSEP (RFC 8829): offers, answers, provisional answers, rollback and the signaling
//! state machine. Applying a final (or provisional) answer sets up the transport.

use super::config::DEFAULT_ICE_PACING;
use super::description::{RtcSessionDescription, SdpType, StoredDescription};
use super::sdp_build::{self, LocalTransport, MLine, RemoteTransport};
use super::{Event, PeerConnection, PeerConnectionError, SignalingState};
use crate::ice::{Credentials, IceError, IceGatheringState, IceRole};
use crate::sdp::{Fingerprint, Origin, SessionDescription, Setup};
use std::time::Duration;

/// Negotiation state.
#[derive(Debug, Clone)]
pub(crate) struct Jsep {
    pub state: SignalingState,
    session_id: u64,
    version: u64,
    /// The m-lines of the last completed negotiation, in order.
    pub mlines: Vec<MLine>,
    pub pending_local: Option<StoredDescription>,
    pub current_local: Option<StoredDescription>,
    pub pending_remote: Option<StoredDescription>,
    pub current_remote: Option<StoredDescription>,
    pub remote: Option<RemoteTransport>,
    pub next_mid: u32,
    /// A data channel was created: the next offer carries an application m-line.
    pub want_application: bool,
    pub negotiation_needed: bool,
    pub restart_pending: bool,
    /// Remote candidates that came before the remote description (bounded).
    pub queued_candidates: Vec<super::IceCandidate>,
}

impl Jsep {
    pub fn new(session_id: u64) -> Self {
        Self {
            state: SignalingState::Stable,
            session_id,
            version: 1,
            mlines: Vec::new(),
            pending_local: None,
            current_local: None,
            pending_remote: None,
            current_remote: None,
            remote: None,
            next_mid: 0,
            want_application: false,
            negotiation_needed: false,
            restart_pending: false,
            queued_candidates: Vec::new(),
        }
    }

    /// Whether the last completed negotiation accepted a data m-line.
    pub fn has_application(&self) -> bool {
        self.mlines.iter().any(|m| m.is_data() && !m.rejected)
    }

    fn origin(&mut self) -> Origin {
        self.version += 1;
        Origin::jsep(self.session_id, self.version)
    }

    /// The m-lines of a new offer: the negotiated ones in order, plus a data m-line when
    /// wanted and missing (recycling a rejected slot first).
    fn offer_mlines(&mut self) -> Vec<MLine> {
        let mut lines = self.mlines.clone();
        if self.want_application && !lines.iter().any(|m| m.is_data() && !m.rejected) {
            let mid = self.fresh_mid(&lines);
            let new = MLine::application(mid);
            match lines.iter_mut().find(|m| m.rejected) {
                Some(slot) => *slot = new,
                None => lines.push(new),
            }
        }
        lines
    }

    fn fresh_mid(&mut self, lines: &[MLine]) -> String {
        fresh_mid(&mut self.next_mid, lines)
    }
}

/// The next mid from `counter` that no m-line in `lines` uses.
fn fresh_mid(counter: &mut u32, lines: &[MLine]) -> String {
    loop {
        let mid = counter.to_string();
        *counter += 1;
        if !lines.iter().any(|m| m.mid == mid) {
            return mid;
        }
    }
}

/// The m-lines of our answer to `offer`: the first data m-line accepted, the rest rejected.
fn answer_mlines(offer: &[MLine]) -> Vec<MLine> {
    let mut accepted = false;
    offer
        .iter()
        .map(|m| {
            let take = !accepted && !m.rejected && m.is_data();
            accepted |= take;
            MLine {
                rejected: !take,
                ..m.clone()
            }
        })
        .collect()
}

impl PeerConnection {
    fn check_state(&self, call: &'static str, ok: &[SignalingState]) -> Result<(), crate::Error> {
        if self.closed {
            return Err(PeerConnectionError::Closed.into());
        }
        if ok.contains(&self.jsep.state) {
            Ok(())
        } else {
            Err(PeerConnectionError::InvalidState {
                call,
                state: self.jsep.state,
            }
            .into())
        }
    }

    fn local_transport(&self, setup: Setup) -> LocalTransport<'_> {
        let creds = self.ice.local_credentials();
        let fp = self.certificate.fingerprint();
        LocalTransport {
            ufrag: &creds.ufrag,
            pwd: &creds.pwd,
            fingerprint: Fingerprint {
                hash: "sha-256".into(),
                bytes: fp.value.clone(),
            },
            setup,
            max_message_size: self.config.max_message_size as u64,
            candidates: self.ice.local_candidates().collect(),
            end_of_candidates: self.gathering_state == IceGatheringState::Complete,
            ice_lite: self.config.ice_lite,
            ice_pacing_ms: u32::try_from(self.config.ice_timing.ta.as_millis()).unwrap_or(u32::MAX),
        }
    }

    /// `createOffer`: an offer with every negotiated m-line in order, a data m-line if a
    /// channel was created, new ICE credentials after [`restart_ice`](Self::restart_ice),
    /// `a=setup:actpass` and the candidates gathered so far.
    ///
    /// Errors: `InvalidState` unless stable or have-local-offer; closed.
    pub fn create_offer(&mut self) -> Result<RtcSessionDescription, crate::Error> {
        self.check_state(
            "create_offer",
            &[SignalingState::Stable, SignalingState::HaveLocalOffer],
        )?;
        if self.jsep.restart_pending {
            self.jsep.restart_pending = false;
            self.ice.restart(self.now)?;
            self.pump();
        }
        let mut lines = self.jsep.offer_mlines();
        let mut counter = self.jsep.next_mid;
        self.offer_media_mlines(&mut lines, &mut |ls| fresh_mid(&mut counter, ls));
        self.jsep.next_mid = counter;
        let media: Vec<_> = lines.iter().map(|l| self.offer_media_section(l)).collect();
        let origin = self.jsep.origin();
        let sdp = sdp_build::build(
            origin,
            &lines,
            &self.local_transport(Setup::ActPass),
            &media,
        );
        Ok(RtcSessionDescription::offer(sdp.to_string()))
    }

    /// `createAnswer`: answers the remote offer: its first data m-line is accepted; each
    /// audio/video m-line is answered from its transceiver (codecs in common, direction per
    /// RFC 3264) or rejected with port 0 when the transceiver is stopped or no codec is in
    /// common; other m-lines are rejected. `a=setup` is `active` unless the offer said
    /// `active` (then `passive`).
    ///
    /// Errors: `InvalidState` unless have-remote-offer or have-local-pranswer; closed.
    pub fn create_answer(&mut self) -> Result<RtcSessionDescription, crate::Error> {
        self.check_state(
            "create_answer",
            &[
                SignalingState::HaveRemoteOffer,
                SignalingState::HaveLocalPranswer,
            ],
        )?;
        let offer = self
            .jsep
            .pending_remote
            .as_ref()
            .expect("have-remote-offer holds the offer")
            .parse();
        let mut lines = answer_mlines(&sdp_build::mlines_of(&offer));
        let media: Vec<_> = lines
            .iter_mut()
            .zip(&offer.media)
            .map(|(line, m)| {
                let section = self.answer_media_section(m, &line.mid);
                if section.as_ref().is_some_and(|s| !s.rejected) {
                    line.rejected = false;
                }
                section
            })
            .collect();
        let setup = match self.jsep.remote.as_ref().and_then(|r| r.setup) {
            Some(Setup::Active) => Setup::Passive,
            _ => Setup::Active,
        };
        let origin = self.jsep.origin();
        let sdp = sdp_build::build(origin, &lines, &self.local_transport(setup), &media);
        Ok(RtcSessionDescription::answer(sdp.to_string()))
    }

    /// `setLocalDescription`. An empty `sdp` with type offer or answer creates one (the
    /// browser's argument-less form). Starts ICE gathering on first use.
    ///
    /// Errors: `InvalidState` for a type not allowed in the current state; an SDP error
    /// with its line; `InvalidDescription` if the ICE credentials are not ours.
    pub fn set_local_description(
        &mut self,
        desc: RtcSessionDescription,
    ) -> Result<(), crate::Error> {
        use SignalingState::*;
        let desc = match (desc.sdp_type, desc.sdp.is_empty()) {
            (SdpType::Offer, true) => self.create_offer()?,
            (SdpType::Answer | SdpType::Pranswer, true) => RtcSessionDescription {
                sdp_type: desc.sdp_type,
                sdp: self.create_answer()?.sdp,
            },
            _ => desc,
        };
        let next = match desc.sdp_type {
            SdpType::Rollback => return self.rollback(true),
            SdpType::Offer => {
                self.check_state("set_local_description(offer)", &[Stable, HaveLocalOffer])?;
                HaveLocalOffer
            }
            SdpType::Answer => {
                self.check_state(
                    "set_local_description(answer)",
                    &[HaveRemoteOffer, HaveLocalPranswer],
                )?;
                Stable
            }
            SdpType::Pranswer => {
                self.check_state(
                    "set_local_description(pranswer)",
                    &[HaveRemoteOffer, HaveLocalPranswer],
                )?;
                HaveLocalPranswer
            }
        };
        let sdp = SessionDescription::parse(&desc.sdp)?;
        if let Some(m) = sdp.media.iter().find(|m| !m.is_port_zero()) {
            let ours = self.ice.local_credentials();
            if sdp.ice_credentials(m) != Some((ours.ufrag.as_str(), ours.pwd.as_str())) {
                return Err(PeerConnectionError::InvalidDescription(
                    "local description ICE credentials are not this connection's".into(),
                )
                .into());
            }
        }
        match desc.sdp_type {
            SdpType::Offer => {
                self.jsep.pending_local = Some(StoredDescription::from_text(
                    SdpType::Offer,
                    &desc.sdp,
                    &sdp,
                ));
                self.start_gathering()?;
            }
            _ => {
                let local_setup = sdp
                    .media
                    .iter()
                    .find(|m| !m.is_port_zero())
                    .and_then(|m| sdp.setup_for(m));
                let lines = sdp_build::mlines_of(&sdp);
                self.retarget_bundle_transport(&lines)?;
                self.apply_negotiated(lines, local_setup.map(|s| s == Setup::Active))?;
                self.apply_negotiated_media(&sdp, true);
                self.finish_answer(
                    StoredDescription::from_text(desc.sdp_type, &desc.sdp, &sdp),
                    true,
                );
                self.start_gathering()?;
            }
        }
        self.set_signaling(next);
        Ok(())
    }

    /// `setRemoteDescription`. Offers and answers set the remote ICE credentials,
    /// candidates and fingerprint; an answer (or pranswer) completes the negotiation and
    /// sets up DTLS and SCTP.
    ///
    /// Errors: `InvalidState`; an SDP error with its line number; `InvalidDescription`
    /// (missing credentials or fingerprint, an answer whose m-lines do not match the offer).
    pub fn set_remote_description(
        &mut self,
        desc: RtcSessionDescription,
    ) -> Result<(), crate::Error> {
        use SignalingState::*;
        let next = match desc.sdp_type {
            SdpType::Rollback => return self.rollback(false),
            SdpType::Offer => {
                self.check_state("set_remote_description(offer)", &[Stable, HaveRemoteOffer])?;
                HaveRemoteOffer
            }
            SdpType::Answer => {
                self.check_state(
                    "set_remote_description(answer)",
                    &[HaveLocalOffer, HaveRemotePranswer],
                )?;
                Stable
            }
            SdpType::Pranswer => {
                self.check_state(
                    "set_remote_description(pranswer)",
                    &[HaveLocalOffer, HaveRemotePranswer],
                )?;
                HaveRemotePranswer
            }
        };
        let sdp = SessionDescription::parse(&desc.sdp)?;
        let remote = sdp_build::remote_transport(&sdp)?;
        if desc.sdp_type != SdpType::Offer {
            self.check_answer_matches(&sdp)?;
        }
        if let Some(r) = &remote {
            self.apply_remote_ice(r, desc.sdp_type == SdpType::Offer)?;
        }
        self.jsep.remote = remote.or(self.jsep.remote.take());
        match desc.sdp_type {
            SdpType::Offer => {
                self.jsep.pending_remote = Some(StoredDescription::from_text(
                    SdpType::Offer,
                    &desc.sdp,
                    &sdp,
                ));
                self.apply_remote_media_offer(&sdp);
            }
            _ => {
                let remote_setup = self.jsep.remote.as_ref().and_then(|r| r.setup);
                let lines = sdp_build::mlines_of(&sdp);
                // The answerer says active: it is the DTLS client and we are the server.
                self.apply_negotiated(lines, remote_setup.map(|s| s != Setup::Active))?;
                self.apply_negotiated_media(&sdp, false);
                self.finish_answer(
                    StoredDescription::from_text(desc.sdp_type, &desc.sdp, &sdp),
                    false,
                );
            }
        }
        self.apply_queued_candidates();
        self.set_signaling(next);
        Ok(())
    }

    fn check_answer_matches(&self, answer: &SessionDescription) -> Result<(), crate::Error> {
        let Some(offer) = &self.jsep.pending_local else {
            return Ok(());
        };
        let offered = sdp_build::mlines_of(&offer.parse());
        let answered = sdp_build::mlines_of(answer);
        let same = offered.len() == answered.len()
            && offered
                .iter()
                .zip(&answered)
                .all(|(o, a)| o.mid == a.mid && o.kind == a.kind);
        if same {
            Ok(())
        } else {
            Err(PeerConnectionError::InvalidDescription(
                "the answer's m-lines do not match the offer's".into(),
            )
            .into())
        }
    }

    /// After we answered: the BUNDLE transport is the first m-line we accepted (RFC 8843
    /// section 7.3). When that is not the m-line read on `set_remote_description` (we
    /// rejected the first ones), the remote transport — credentials, fingerprint,
    /// candidates — is read again from it.
    fn retarget_bundle_transport(&mut self, answered: &[MLine]) -> Result<(), crate::Error> {
        let Some(first) = answered.iter().find(|m| !m.rejected) else {
            return Ok(());
        };
        let current = self.jsep.remote.as_ref();
        if current.is_none_or(|r| r.mid == first.mid) {
            return Ok(());
        }
        let Some(offer) = self
            .jsep
            .pending_remote
            .as_ref()
            .map(StoredDescription::parse)
        else {
            return Ok(());
        };
        let Some(target) = sdp_build::remote_transport_of(&offer, &first.mid)? else {
            return Ok(());
        };
        // Candidates differ even where credentials are shared (aiortc keeps one socket per
        // m-line until BUNDLE is agreed), so the remote side is applied afresh.
        match self.ice.forget_remote(self.now) {
            Ok(()) => self.apply_remote_ice(&target, true)?,
            Err(e) => {
                tracing::debug!(%e, "pc: BUNDLE transport not moved: checks already succeeded");
                return Ok(());
            }
        }
        self.jsep.remote = Some(target);
        Ok(())
    }

    /// Ta for checks to this peer: the larger of our proposal and the peer's
    /// `a=ice-pacing`, which counts as 50 ms when absent (RFC 8445 section 14.2). Never
    /// below 5 ms: the configuration refuses a smaller proposal of ours.
    fn agreed_pacing(&self, r: &RemoteTransport) -> Duration {
        let theirs = r
            .ice_pacing_ms
            .map_or(DEFAULT_ICE_PACING, |ms| Duration::from_millis(ms.into()));
        self.config.ice_timing.ta.max(theirs)
    }

    /// Remote ICE credentials (restarting our agent when the peer restarted), role,
    /// and candidates from the SDP.
    fn apply_remote_ice(
        &mut self,
        r: &RemoteTransport,
        is_offer: bool,
    ) -> Result<(), crate::Error> {
        let now = self.now;
        if is_offer && self.ice.remote_credentials().is_none() {
            let role = if r.ice_lite && !self.config.ice_lite {
                IceRole::Controlling
            } else {
                IceRole::Controlled
            };
            self.ice.set_role(role);
        }
        self.ice.set_pacing(now, self.agreed_pacing(r))?;
        let creds = Credentials::new(r.ufrag.clone(), r.pwd.clone());
        match self.ice.set_remote_credentials(now, creds.clone()) {
            Err(IceError::RestartRequired) => {
                self.ice.restart(now)?;
                self.ice.set_remote_credentials(now, creds)?;
            }
            other => other?,
        }
        for c in &r.candidates {
            match c.parse::<crate::ice::Candidate>() {
                Ok(c) => {
                    if let Err(e) = self.ice.add_remote_candidate(now, c) {
                        tracing::debug!(%e, "pc: remote SDP candidate not used");
                    }
                }
                Err(crate::ice::ParseCandidateError::Address(name)) => {
                    self.add_named_candidate(c, &name);
                }
                Err(e) => tracing::debug!(%e, "pc: remote SDP candidate does not parse"),
            }
        }
        if r.end_of_candidates {
            self.end_of_remote_candidates(now);
        }
        Ok(())
    }

    fn finish_answer(&mut self, mine: StoredDescription, local: bool) {
        let sdp_type = mine.sdp_type;
        if local {
            if sdp_type == SdpType::Answer {
                self.jsep.current_local = Some(mine);
                self.jsep.pending_local = None;
                self.jsep.current_remote = self.jsep.pending_remote.take();
            } else {
                self.jsep.pending_local = Some(mine);
            }
        } else if sdp_type == SdpType::Answer {
            self.jsep.current_remote = Some(mine);
            self.jsep.pending_remote = None;
            self.jsep.current_local = self.jsep.pending_local.take();
        } else {
            self.jsep.pending_remote = Some(mine);
        }
    }

    /// Records the negotiated m-lines and sets up the transport the first time a data
    /// m-line is accepted. `dtls_client` says whether we start the DTLS handshake.
    fn apply_negotiated(
        &mut self,
        lines: Vec<MLine>,
        dtls_client: Option<bool>,
    ) -> Result<(), crate::Error> {
        self.jsep.mlines = lines;
        if self.dtls.is_none() && self.jsep.mlines.iter().any(|m| !m.rejected) {
            let client = dtls_client.ok_or_else(|| {
                PeerConnectionError::InvalidDescription("missing or unusable a=setup".into())
            })?;
            self.create_transport(client)?;
        }
        Ok(())
    }

    fn rollback(&mut self, local: bool) -> Result<(), crate::Error> {
        use SignalingState::*;
        let allowed: &[SignalingState] = if local {
            &[HaveLocalOffer, HaveLocalPranswer]
        } else {
            &[HaveRemoteOffer, HaveRemotePranswer]
        };
        self.check_state("rollback", allowed)?;
        self.rollback_media(matches!(
            self.jsep.state,
            HaveLocalOffer | HaveRemotePranswer
        ));
        match self.jsep.state {
            HaveLocalOffer | HaveRemotePranswer => self.jsep.pending_local = None,
            _ => self.jsep.pending_remote = None,
        }
        if matches!(self.jsep.state, HaveRemotePranswer) {
            self.jsep.pending_remote = None;
        }
        if matches!(self.jsep.state, HaveLocalPranswer) {
            self.jsep.pending_local = None;
        }
        self.set_signaling(Stable);
        Ok(())
    }

    fn set_signaling(&mut self, next: SignalingState) {
        if self.jsep.state != next {
            self.jsep.state = next;
            self.events.push_back(Event::SignalingStateChange(next));
        }
        if next == SignalingState::Stable {
            self.jsep.negotiation_needed = false;
            self.update_negotiation_needed();
        }
    }

    /// Fires `negotiationneeded` once when something needs an offer and the state is stable.
    pub(crate) fn update_negotiation_needed(&mut self) {
        let needed = (self.jsep.want_application && !self.jsep.has_application())
            || self.jsep.restart_pending
            || self.media_negotiation_needed();
        if needed
            && !self.jsep.negotiation_needed
            && self.jsep.state == SignalingState::Stable
            && !self.closed
        {
            self.jsep.negotiation_needed = true;
            self.events.push_back(Event::NegotiationNeeded);
        }
    }

    /// `restartIce`: the next offer carries new ICE credentials; fires `negotiationneeded`.
    pub fn restart_ice(&mut self) {
        if self.closed {
            return;
        }
        self.jsep.restart_pending = true;
        self.update_negotiation_needed();
    }

    /// `localDescription`: the pending local description, else the current one, with
    /// every candidate gathered so far (and end-of-candidates once gathering completed).
    pub fn local_description(&self) -> Option<RtcSessionDescription> {
        let stored = self
            .jsep
            .pending_local
            .as_ref()
            .or(self.jsep.current_local.as_ref())?;
        let mut sdp = stored.parse();
        let lt = self.local_transport(Setup::ActPass);
        if let Some(m) = sdp.media.iter_mut().find(|m| !m.is_port_zero()) {
            use crate::sdp::Attribute;
            m.attributes
                .retain(|a| !matches!(a, Attribute::Candidate(_) | Attribute::EndOfCandidates));
            let at = m
                .attributes
                .iter()
                .position(|a| matches!(a, Attribute::IceUfrag(_)))
                .unwrap_or(0);
            let mut extra: Vec<Attribute> = lt
                .candidates
                .iter()
                .filter_map(|c| {
                    let text = c.to_string();
                    let v = text.strip_prefix("candidate:").unwrap_or(&text).to_string();
                    crate::sdp::CandidateValue::new(v)
                        .ok()
                        .map(Attribute::Candidate)
                })
                .collect();
            let n = extra.len();
            m.attributes.splice(at..at, extra.drain(..));
            if lt.end_of_candidates && n > 0 {
                m.attributes.push(Attribute::EndOfCandidates);
            }
        }
        Some(RtcSessionDescription {
            sdp_type: stored.sdp_type,
            sdp: sdp.to_string(),
        })
    }

    /// `remoteDescription`: the pending remote description, else the current one.
    pub fn remote_description(&self) -> Option<RtcSessionDescription> {
        let stored = self
            .jsep
            .pending_remote
            .as_ref()
            .or(self.jsep.current_remote.as_ref())?;
        Some(RtcSessionDescription {
            sdp_type: stored.sdp_type,
            sdp: stored.text().to_string(),
        })
    }

    fn start_gathering(&mut self) -> Result<(), crate::Error> {
        if self.gathering_started {
            return Ok(());
        }
        self.gathering_started = true;
        for addr in self.sockets.clone() {
            self.ice.add_local_socket(self.now, addr)?;
        }
        self.pump();
        Ok(())
    }
}
