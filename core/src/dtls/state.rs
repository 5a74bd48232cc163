//! What every handshake state shares: the trait each step implements, the context a step
//! works in, and the effects it asks the connection to carry out.
//!
//! Each step of the client and server handshakes is its own type, consumed when it handles
//! the message it expects (rustls style). A step can only finish the handshake by building
//! [`Established`], which needs the [`FingerprintVerified`] proof.

use super::certificate::FingerprintVerified;
use super::config::DtlsConfig;
use super::error::FailureReason;
use super::flight::FlightItem;
use super::handshake::full_message;
use super::keys::{KeyBlock, MasterSecret, SuiteParams};
use super::reassembly::Message;
use super::types::{HandshakeType, SrtpProfile};
use crate::rng::Rng;

/// Handshake data that outlives single steps.
#[derive(Debug, Clone, Default)]
pub(crate) struct Common {
    /// Every handshake message so far, as hashed for Finished and CertificateVerify.
    pub transcript: Vec<u8>,
    /// message_seq of our next handshake message.
    pub send_seq: u16,
}

/// Effects a step asks of the connection, applied in order.
#[derive(Debug)]
pub(crate) enum Action {
    /// Install epoch-1 keys for both directions.
    InstallKeys(KeyBlock),
    /// Send a new flight; `expects_reply` arms the retransmission timer.
    SendFlight {
        items: Vec<FlightItem>,
        expects_reply: bool,
    },
    /// The handshake completed.
    Established(Established),
    /// Append items to the flight just sent (and send them): the rest of a flight whose
    /// first part went out before its expensive tail was computed.
    ExtendFlight(Vec<FlightItem>),
    /// Call [`State::resume`] at the next input or timeout (due at once), so what is
    /// queued now can leave before the step goes on.
    Resume,
}

/// The context a step runs in.
pub(crate) struct Cx<'a> {
    pub config: &'a DtlsConfig,
    pub rng: &'a mut Rng,
    pub common: &'a mut Common,
    pub actions: Vec<Action>,
}

impl Cx<'_> {
    /// Adds a received message to the transcript.
    pub fn record_received(&mut self, msg: &Message) {
        self.common
            .transcript
            .extend_from_slice(&full_message(msg.msg_type, msg.seq, &msg.body));
    }

    /// Numbers one of our messages, adds it to the transcript, returns it as a flight item.
    pub fn outgoing(&mut self, epoch: u16, msg_type: HandshakeType, body: Vec<u8>) -> FlightItem {
        let seq = self.common.send_seq;
        self.common.send_seq = seq.wrapping_add(1);
        self.common
            .transcript
            .extend_from_slice(&full_message(msg_type, seq, &body));
        FlightItem::Handshake {
            epoch,
            msg_type,
            seq,
            body,
        }
    }
}

/// Values the hellos fixed, on either side.
#[derive(Debug, Clone)]
pub(crate) struct Negotiated {
    pub params: SuiteParams,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    pub extended_master_secret: bool,
    pub srtp_profile: Option<SrtpProfile>,
}

impl Negotiated {
    /// Derives the master secret from the ECDHE `pre_master`: with the extended master
    /// secret (RFC 7627) when negotiated, its session hash covering the transcript so far,
    /// which must end with the ClientKeyExchange. Carries the fingerprint `proof` along.
    pub fn agree(&self, cx: &Cx<'_>, pre_master: &[u8], proof: FingerprintVerified) -> AgreedKeys {
        let session_hash = self.session_hash(cx);
        self.agree_with(pre_master, session_hash.as_deref(), proof)
    }

    /// The RFC 7627 session hash of the transcript so far (which must end with the
    /// ClientKeyExchange), when the extended master secret was negotiated.
    pub fn session_hash(&self, cx: &Cx<'_>) -> Option<Vec<u8>> {
        self.extended_master_secret
            .then(|| self.params.hash.digest(&[&cx.common.transcript]))
    }

    /// [`agree`](Self::agree) with a session hash taken earlier.
    pub fn agree_with(
        &self,
        pre_master: &[u8],
        session_hash: Option<&[u8]>,
        proof: FingerprintVerified,
    ) -> AgreedKeys {
        let master = MasterSecret::derive(
            self.params,
            pre_master,
            session_hash,
            self.client_random,
            self.server_random,
        );
        AgreedKeys {
            master,
            srtp_profile: self.srtp_profile,
            proof,
        }
    }
}

/// What the last handshake steps of either side carry: the agreed keys and the proof that
/// the peer's certificate matched its fingerprint.
#[derive(Debug, Clone)]
pub(crate) struct AgreedKeys {
    pub master: MasterSecret,
    pub srtp_profile: Option<SrtpProfile>,
    pub proof: FingerprintVerified,
}

impl AgreedKeys {
    /// The handshake's result, once the peer's Finished has been checked.
    pub fn established(self) -> Established {
        Established::new(self.master, self.srtp_profile, self.proof)
    }
}

/// The result of a completed handshake. Building it takes the fingerprint proof.
#[derive(Debug, Clone)]
pub(crate) struct Established {
    pub master: MasterSecret,
    pub srtp_profile: Option<SrtpProfile>,
    _proof: FingerprintVerified,
}

impl Established {
    pub fn new(
        master: MasterSecret,
        srtp_profile: Option<SrtpProfile>,
        proof: FingerprintVerified,
    ) -> Self {
        Self {
            master,
            srtp_profile,
            _proof: proof,
        }
    }
}

/// One step of a handshake.
pub(crate) trait State: CloneState + core::fmt::Debug + Send {
    /// Handles the next in-order handshake message; returns the next step.
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason>;

    /// True only for the server's first step, which takes ClientHellos statelessly.
    fn expects_client_hello(&self) -> bool {
        false
    }

    /// Goes on after an [`Action::Resume`]; steps that never ask for one keep the default.
    fn resume(self: Box<Self>, _cx: &mut Cx<'_>) -> Result<Box<dyn State>, FailureReason> {
        Err(FailureReason::ProtocolViolation("no step to resume"))
    }
}

crate::boxed_clone::boxed_clone!(
    /// Clones a boxed handshake step (a cloned connection goes on from the same step).
    pub(crate) trait CloneState for State
);

/// Fails unless `msg` has type `expected`.
pub(crate) fn expect_type(msg: &Message, expected: HandshakeType) -> Result<(), FailureReason> {
    if msg.msg_type == expected {
        Ok(())
    } else {
        Err(FailureReason::ProtocolViolation(
            "unexpected handshake message",
        ))
    }
}

/// Checks the peer's Finished against the transcript so far (RFC 5246 section 7.4.9):
/// it must be a Finished, arrive under epoch 1 (after ChangeCipherSpec) and carry the
/// `verify_data` for `peer_label` ("client finished" or "server finished"). On success
/// the message joins the transcript.
pub(crate) fn check_peer_finished(
    cx: &mut Cx<'_>,
    master: &MasterSecret,
    msg: &Message,
    peer_label: &[u8],
) -> Result<(), FailureReason> {
    expect_type(msg, HandshakeType::FINISHED)?;
    if msg.epoch != 1 {
        return Err(FailureReason::ProtocolViolation(
            "Finished before ChangeCipherSpec",
        ));
    }
    let expected = master.verify_data(peer_label, &cx.common.transcript);
    if !crate::crypto::constant_time_eq(&expected, &msg.body) {
        return Err(FailureReason::BadFinished);
    }
    cx.record_received(msg);
    Ok(())
}

/// The handshake is over; later messages are ignored.
#[derive(Debug, Clone)]
pub(crate) struct Connected;

impl State for Connected {
    fn handle(
        self: Box<Self>,
        _cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        tracing::debug!(
            msg_type = msg.msg_type.0,
            "dtls: handshake message after completion ignored"
        );
        Ok(self)
    }
}
