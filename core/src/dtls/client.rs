//! The client side of the handshake (RFC 6347 section 4.2, RFC 5246 section 7.3), one type
//! per step:
//!
//! ```text
//! start → ExpectServerHello ─(HelloVerifyRequest: resend hello with cookie)─┐
//!            │  ↑──────────────────────────────────────────────────────────────┘
//!            └→ ExpectCertificate → ExpectServerKeyExchange → ExpectCertificateRequest
//!               → ExpectServerHelloDone (sends Certificate, ClientKeyExchange,
//!                 CertificateVerify, ChangeCipherSpec, Finished) → ExpectFinished → Connected
//! ```

use super::certificate::{FingerprintVerified, verify_peer_certificate};
use super::error::FailureReason;
use super::extensions::{HelloExtensions, UseSrtp};
use super::flight::FlightItem;
use super::keys::suite_params;
use super::messages::{
    CertificateMsg, CertificateRequest, CertificateVerify, ClientHello, ECDSA_SIGN,
    HelloVerifyRequest, ServerHello, ServerKeyExchange, emit_client_key_exchange,
};
use super::reassembly::Message;
use super::state::{
    Action, AgreedKeys, Connected, Cx, Negotiated, State, check_peer_finished, expect_type,
};
use super::types::{CipherSuite, DTLS_1_2, HandshakeType, NamedGroup, SignatureScheme};
use crate::crypto::ecdh::EcdhP256;
use crate::crypto::ecdsa::verify_p256_sha256_der;

/// Most HelloVerifyRequests answered in one handshake.
const MAX_HELLO_VERIFY: u8 = 4;

/// Builds our ClientHello, sends flight 1 and returns the first step.
pub(crate) fn start(cx: &mut Cx<'_>) -> Box<dyn State> {
    let mut suites = cx.config.cipher_suites.clone();
    suites.push(CipherSuite::EMPTY_RENEGOTIATION_INFO_SCSV);
    let use_srtp = (!cx.config.srtp_profiles.is_empty()).then(|| UseSrtp {
        profiles: cx.config.srtp_profiles.clone(),
        mki: Vec::new(),
    });
    let hello = ClientHello {
        version: DTLS_1_2,
        random: cx.rng.array(),
        session_id: Vec::new(),
        cookie: Vec::new(),
        cipher_suites: suites,
        compression_methods: vec![0],
        extensions: HelloExtensions {
            supported_groups: Some(vec![NamedGroup::SECP256R1]),
            ec_point_formats: Some(vec![0]),
            signature_algorithms: Some(vec![SignatureScheme::ECDSA_SECP256R1_SHA256]),
            use_srtp,
            extended_master_secret: true,
            renegotiation_info: None,
        },
    };
    send_hello(cx, &hello);
    Box::new(ExpectServerHello {
        hello,
        verify_requests: 0,
    })
}

fn send_hello(cx: &mut Cx<'_>, hello: &ClientHello) {
    let item = cx.outgoing(0, HandshakeType::CLIENT_HELLO, hello.emit());
    cx.actions.push(Action::SendFlight {
        items: vec![item],
        expects_reply: true,
    });
}

/// Waiting for ServerHello (or HelloVerifyRequest).
#[derive(Debug, Clone)]
struct ExpectServerHello {
    hello: ClientHello,
    verify_requests: u8,
}

impl ExpectServerHello {
    fn on_verify_request(
        mut self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: &Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        let hvr = HelloVerifyRequest::parse(&msg.body).ok_or(FailureReason::ProtocolViolation(
            "malformed HelloVerifyRequest",
        ))?;
        if self.verify_requests >= MAX_HELLO_VERIFY || hvr.cookie.is_empty() {
            return Err(FailureReason::ProtocolViolation("HelloVerifyRequest loop"));
        }
        self.verify_requests += 1;
        // The first hello and the request stay out of the transcript (RFC 6347 4.2.1).
        cx.common.transcript.clear();
        self.hello.cookie = hvr.cookie;
        send_hello(cx, &self.hello);
        Ok(self)
    }

    fn negotiate(&self, sh: &ServerHello, cx: &Cx<'_>) -> Result<Negotiated, FailureReason> {
        if sh.version != DTLS_1_2 {
            return Err(FailureReason::NoCommonParameters("version"));
        }
        let params = suite_params(sh.cipher_suite)
            .filter(|_| cx.config.cipher_suites.contains(&sh.cipher_suite))
            .ok_or(FailureReason::NoCommonParameters("cipher suite"))?;
        if sh.compression_method != 0 {
            return Err(FailureReason::NoCommonParameters("compression"));
        }
        if sh
            .extensions
            .renegotiation_info
            .as_ref()
            .is_some_and(|r| !r.is_empty())
        {
            return Err(FailureReason::ProtocolViolation(
                "renegotiation_info not empty",
            ));
        }
        let srtp_profile = match &sh.extensions.use_srtp {
            None => None,
            Some(srtp) => match srtp.profiles.as_slice() {
                [p] if cx.config.srtp_profiles.contains(p) => Some(*p),
                _ => return Err(FailureReason::ProtocolViolation("use_srtp selection")),
            },
        };
        Ok(Negotiated {
            params,
            client_random: self.hello.random,
            server_random: sh.random,
            extended_master_secret: sh.extensions.extended_master_secret,
            srtp_profile,
        })
    }
}

impl State for ExpectServerHello {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        if msg.msg_type == HandshakeType::HELLO_VERIFY_REQUEST {
            return self.on_verify_request(cx, &msg);
        }
        expect_type(&msg, HandshakeType::SERVER_HELLO)?;
        let sh = ServerHello::parse(&msg.body)
            .ok_or(FailureReason::ProtocolViolation("malformed ServerHello"))?;
        let negotiated = self.negotiate(&sh, cx)?;
        cx.record_received(&msg);
        Ok(Box::new(ExpectCertificate { negotiated }))
    }
}

/// Waiting for the server's Certificate.
#[derive(Debug, Clone)]
struct ExpectCertificate {
    negotiated: Negotiated,
}

impl State for ExpectCertificate {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        expect_type(&msg, HandshakeType::CERTIFICATE)?;
        let cert = CertificateMsg::parse(&msg.body)
            .ok_or(FailureReason::ProtocolViolation("malformed Certificate"))?;
        let leaf = cert.chain.first().ok_or(FailureReason::BadCertificate)?;
        let proof = verify_peer_certificate(cx.config.remote_fingerprint.as_ref(), leaf)?;
        cx.record_received(&msg);
        Ok(Box::new(ExpectServerKeyExchange {
            negotiated: self.negotiated,
            proof,
        }))
    }
}

/// Waiting for ServerKeyExchange.
#[derive(Debug, Clone)]
struct ExpectServerKeyExchange {
    negotiated: Negotiated,
    proof: FingerprintVerified,
}

impl State for ExpectServerKeyExchange {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        expect_type(&msg, HandshakeType::SERVER_KEY_EXCHANGE)?;
        let ske = ServerKeyExchange::parse(&msg.body).ok_or(FailureReason::ProtocolViolation(
            "malformed ServerKeyExchange",
        ))?;
        if ske.group != NamedGroup::SECP256R1 {
            return Err(FailureReason::NoCommonParameters("group"));
        }
        if ske.scheme != SignatureScheme::ECDSA_SECP256R1_SHA256 {
            return Err(FailureReason::NoCommonParameters("signature scheme"));
        }
        let n = &self.negotiated;
        let params = ServerKeyExchange::params(ske.group, &ske.public);
        let signed = [&n.client_random[..], &n.server_random, &params].concat();
        if !verify_p256_sha256_der(self.proof.public_key(), &signed, &ske.signature) {
            return Err(FailureReason::BadSignature);
        }
        cx.record_received(&msg);
        Ok(Box::new(ExpectCertificateRequest {
            negotiated: self.negotiated,
            proof: self.proof,
            server_point: ske.public,
        }))
    }
}

/// Waiting for CertificateRequest (or ServerHelloDone without one).
#[derive(Debug, Clone)]
struct ExpectCertificateRequest {
    negotiated: Negotiated,
    proof: FingerprintVerified,
    server_point: Vec<u8>,
}

impl State for ExpectCertificateRequest {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        let next = ExpectServerHelloDone {
            negotiated: self.negotiated,
            proof: self.proof,
            server_point: self.server_point,
            certificate_requested: msg.msg_type == HandshakeType::CERTIFICATE_REQUEST,
        };
        if msg.msg_type == HandshakeType::SERVER_HELLO_DONE {
            return Box::new(next).handle(cx, msg);
        }
        expect_type(&msg, HandshakeType::CERTIFICATE_REQUEST)?;
        let cr = CertificateRequest::parse(&msg.body).ok_or(FailureReason::ProtocolViolation(
            "malformed CertificateRequest",
        ))?;
        if !cr.certificate_types.contains(&ECDSA_SIGN)
            || !cr
                .schemes
                .contains(&SignatureScheme::ECDSA_SECP256R1_SHA256)
        {
            return Err(FailureReason::NoCommonParameters("client certificate type"));
        }
        cx.record_received(&msg);
        Ok(Box::new(next))
    }
}

/// Waiting for ServerHelloDone; then sends flight 5 in two parts.
#[derive(Debug, Clone)]
struct ExpectServerHelloDone {
    negotiated: Negotiated,
    proof: FingerprintVerified,
    server_point: Vec<u8>,
    certificate_requested: bool,
}

impl State for ExpectServerHelloDone {
    /// Sends Certificate, ClientKeyExchange and CertificateVerify at once and leaves the
    /// ECDH agreement, ChangeCipherSpec and Finished to [`FinishFlight`]: the server checks
    /// the first part while we compute the shared secret.
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        expect_type(&msg, HandshakeType::SERVER_HELLO_DONE)?;
        if !msg.body.is_empty() {
            return Err(FailureReason::ProtocolViolation(
                "malformed ServerHelloDone",
            ));
        }
        if !EcdhP256::is_valid_point(&self.server_point) {
            return Err(FailureReason::ProtocolViolation(
                "invalid server ECDH point",
            ));
        }
        cx.record_received(&msg);
        let ecdh = EcdhP256::generate(cx.rng);
        let mut items = Vec::with_capacity(3);
        if self.certificate_requested {
            let chain = vec![cx.config.certificate.der().to_vec()];
            items.push(cx.outgoing(
                0,
                HandshakeType::CERTIFICATE,
                CertificateMsg { chain }.emit(),
            ));
        }
        let cke = emit_client_key_exchange(ecdh.public_key());
        items.push(cx.outgoing(0, HandshakeType::CLIENT_KEY_EXCHANGE, cke));
        let session_hash = self.negotiated.session_hash(cx);
        if self.certificate_requested {
            let signature = cx
                .config
                .certificate
                .key()
                .sign_sha256_der(&cx.common.transcript);
            let cv = CertificateVerify {
                scheme: SignatureScheme::ECDSA_SECP256R1_SHA256,
                signature,
            };
            items.push(cx.outgoing(0, HandshakeType::CERTIFICATE_VERIFY, cv.emit()));
        }
        cx.actions.push(Action::SendFlight {
            items,
            expects_reply: true,
        });
        cx.actions.push(Action::Resume);
        Ok(Box::new(FinishFlight {
            negotiated: self.negotiated,
            proof: self.proof,
            ecdh,
            server_point: self.server_point,
            session_hash,
        }))
    }
}

/// Flight 5's first part is out; computes the shared secret and sends the rest.
#[derive(Debug, Clone)]
struct FinishFlight {
    negotiated: Negotiated,
    proof: FingerprintVerified,
    ecdh: EcdhP256,
    server_point: Vec<u8>,
    session_hash: Option<Vec<u8>>,
}

impl State for FinishFlight {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        // The connection resumes before any input; finish first if it did not.
        self.resume(cx)?.handle(cx, msg)
    }

    fn resume(self: Box<Self>, cx: &mut Cx<'_>) -> Result<Box<dyn State>, FailureReason> {
        let pre_master =
            self.ecdh
                .agree(&self.server_point)
                .ok_or(FailureReason::ProtocolViolation(
                    "invalid server ECDH point",
                ))?;
        let keys =
            self.negotiated
                .agree_with(&pre_master, self.session_hash.as_deref(), self.proof);
        let verify = keys
            .master
            .verify_data(b"client finished", &cx.common.transcript);
        let finished = cx.outgoing(1, HandshakeType::FINISHED, verify.to_vec());
        cx.actions
            .push(Action::InstallKeys(keys.master.key_block()));
        cx.actions.push(Action::ExtendFlight(vec![
            FlightItem::ChangeCipherSpec,
            finished,
        ]));
        Ok(Box::new(ExpectFinished(keys)))
    }
}

/// Waiting for the server's Finished (epoch 1).
#[derive(Debug, Clone)]
struct ExpectFinished(AgreedKeys);

impl State for ExpectFinished {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        check_peer_finished(cx, &self.0.master, &msg, b"server finished")?;
        cx.actions.push(Action::Established(self.0.established()));
        Ok(Box::new(Connected))
    }
}
