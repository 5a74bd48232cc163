//! The server side of the handshake (RFC 6347 section 4.2, RFC 5246 section 7.3), one type
//! per step:
//!
//! ```text
//! ExpectClientHello ─(no valid cookie: stateless HelloVerifyRequest)
//!   └→ sends ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone
//!      → ExpectCertificate → ExpectClientKeyExchange → ExpectCertificateVerify
//!      → ExpectFinished (sends ChangeCipherSpec, Finished) → Connected
//! ```
//!
//! The first ClientHello is handled outside the reassembler by [`on_client_hello`], so that
//! answering with a HelloVerifyRequest keeps no state. A hello split over several records
//! (Chromium's is) is first collected in the bounded reassembler.

use super::certificate::{FingerprintVerified, verify_peer_certificate};
use super::error::FailureReason;
use super::extensions::{HelloExtensions, UseSrtp};
use super::flight::FlightItem;
use super::keys::suite_params;
use super::messages::{
    CertificateMsg, CertificateRequest, CertificateVerify, ClientHello, ECDSA_SIGN,
    HelloVerifyRequest, ServerHello, ServerKeyExchange, parse_client_key_exchange,
};
use super::reassembly::Message;
use super::state::{
    Action, AgreedKeys, Connected, Cx, Negotiated, State, check_peer_finished, expect_type,
};
use super::types::{CipherSuite, DTLS_1_2, HandshakeType, NamedGroup, SignatureScheme};
use crate::crypto::ecdh::EcdhP256;
use crate::crypto::ecdsa::verify_p256_sha256_der;
use crate::crypto::{constant_time_eq, hmac_sha256};

/// The server's first step: it only takes ClientHellos, through [`on_client_hello`].
#[derive(Debug, Clone)]
pub(crate) struct ExpectClientHello;

impl State for ExpectClientHello {
    fn handle(
        self: Box<Self>,
        _cx: &mut Cx<'_>,
        _msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        Err(FailureReason::ProtocolViolation(
            "message before ClientHello",
        ))
    }

    fn expects_client_hello(&self) -> bool {
        true
    }
}

/// What the first ClientHello led to.
#[derive(Debug)]
pub(crate) enum HelloOutcome {
    /// Malformed: drop it, keep waiting.
    Ignore,
    /// No valid cookie: answer with this HelloVerifyRequest body, keep no state.
    VerifyRequest(Vec<u8>),
    /// The handshake proceeds with this step (flight 4 is in `cx.actions`).
    Accepted(Box<dyn State>),
}

fn cookie_for(secret: &[u8; 32], hello: &ClientHello) -> Vec<u8> {
    let suites: Vec<u8> = hello
        .cipher_suites
        .iter()
        .flat_map(|s| s.0.to_be_bytes())
        .collect();
    hmac_sha256(secret, &[&hello.random, &hello.session_id, &suites]).to_vec()
}

/// Handles a complete ClientHello with message_seq `seq` in the first step.
pub(crate) fn on_client_hello(
    cx: &mut Cx<'_>,
    cookie_secret: &[u8; 32],
    seq: u16,
    body: &[u8],
) -> Result<HelloOutcome, FailureReason> {
    let Some(hello) = ClientHello::parse(body) else {
        return Ok(HelloOutcome::Ignore);
    };
    if cx.config.hello_verify {
        let cookie = cookie_for(cookie_secret, &hello);
        if !constant_time_eq(&cookie, &hello.cookie) {
            let hvr = HelloVerifyRequest {
                version: DTLS_1_2,
                cookie,
            };
            return Ok(HelloOutcome::VerifyRequest(hvr.emit()));
        }
    }
    let n = negotiate(cx, &hello)?;
    cx.common.transcript.clear();
    cx.common.send_seq = seq;
    cx.common
        .transcript
        .extend_from_slice(&super::handshake::full_message(
            HandshakeType::CLIENT_HELLO,
            seq,
            body,
        ));
    Ok(HelloOutcome::Accepted(send_flight_4(cx, &hello, n)))
}

fn negotiate(cx: &mut Cx<'_>, hello: &ClientHello) -> Result<Negotiated, FailureReason> {
    if hello.version > DTLS_1_2 {
        // DTLS versions count down: 0xFEFF (1.0) is older than 0xFEFD (1.2).
        return Err(FailureReason::NoCommonParameters("version"));
    }
    let suite = cx
        .config
        .cipher_suites
        .iter()
        .find(|s| hello.cipher_suites.contains(s))
        .ok_or(FailureReason::NoCommonParameters("cipher suite"))?;
    let params = suite_params(*suite).expect("configured suites are validated");
    let ext = &hello.extensions;
    if ext
        .supported_groups
        .as_ref()
        .is_some_and(|g| !g.contains(&NamedGroup::SECP256R1))
    {
        return Err(FailureReason::NoCommonParameters("group"));
    }
    if ext
        .signature_algorithms
        .as_ref()
        .is_some_and(|s| !s.contains(&SignatureScheme::ECDSA_SECP256R1_SHA256))
    {
        return Err(FailureReason::NoCommonParameters("signature scheme"));
    }
    if !hello.compression_methods.contains(&0) {
        return Err(FailureReason::NoCommonParameters("compression"));
    }
    let srtp_profile = ext.use_srtp.as_ref().and_then(|offer| {
        cx.config
            .srtp_profiles
            .iter()
            .find(|p| offer.profiles.contains(p))
            .copied()
    });
    Ok(Negotiated {
        params,
        client_random: hello.random,
        server_random: cx.rng.array(),
        extended_master_secret: ext.extended_master_secret,
        srtp_profile,
    })
}

fn server_hello(hello: &ClientHello, n: &Negotiated) -> ServerHello {
    let ext = &hello.extensions;
    let secure_renegotiation = ext.renegotiation_info.is_some()
        || hello
            .cipher_suites
            .contains(&CipherSuite::EMPTY_RENEGOTIATION_INFO_SCSV);
    ServerHello {
        version: DTLS_1_2,
        random: n.server_random,
        session_id: Vec::new(),
        cipher_suite: n.params.suite,
        compression_method: 0,
        extensions: HelloExtensions {
            supported_groups: None,
            ec_point_formats: ext.ec_point_formats.as_ref().map(|_| vec![0]),
            signature_algorithms: None,
            use_srtp: n.srtp_profile.map(|p| UseSrtp {
                profiles: vec![p],
                mki: Vec::new(),
            }),
            extended_master_secret: n.extended_master_secret,
            renegotiation_info: secure_renegotiation.then(Vec::new),
        },
    }
}

fn send_flight_4(cx: &mut Cx<'_>, hello: &ClientHello, n: Negotiated) -> Box<dyn State> {
    let mut items = Vec::with_capacity(5);
    let sh = server_hello(hello, &n).emit();
    items.push(cx.outgoing(0, HandshakeType::SERVER_HELLO, sh));
    let chain = vec![cx.config.certificate.der().to_vec()];
    items.push(cx.outgoing(
        0,
        HandshakeType::CERTIFICATE,
        CertificateMsg { chain }.emit(),
    ));
    let ecdh = EcdhP256::generate(cx.rng);
    let params = ServerKeyExchange::params(NamedGroup::SECP256R1, ecdh.public_key());
    let signed = [&n.client_random[..], &n.server_random, &params].concat();
    let ske = ServerKeyExchange {
        group: NamedGroup::SECP256R1,
        public: ecdh.public_key().to_vec(),
        scheme: SignatureScheme::ECDSA_SECP256R1_SHA256,
        signature: cx.config.certificate.key().sign_sha256_der(&signed),
    };
    items.push(cx.outgoing(0, HandshakeType::SERVER_KEY_EXCHANGE, ske.emit()));
    let cr = CertificateRequest {
        certificate_types: vec![ECDSA_SIGN],
        schemes: vec![SignatureScheme::ECDSA_SECP256R1_SHA256],
    };
    items.push(cx.outgoing(0, HandshakeType::CERTIFICATE_REQUEST, cr.emit()));
    items.push(cx.outgoing(0, HandshakeType::SERVER_HELLO_DONE, Vec::new()));
    cx.actions.push(Action::SendFlight {
        items,
        expects_reply: true,
    });
    Box::new(ExpectCertificate {
        negotiated: n,
        ecdh,
    })
}

/// Waiting for the client's Certificate (required: WebRTC authenticates both sides).
#[derive(Debug, Clone)]
struct ExpectCertificate {
    negotiated: Negotiated,
    ecdh: EcdhP256,
}

impl State for ExpectCertificate {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        if msg.msg_type == HandshakeType::CLIENT_KEY_EXCHANGE {
            return Err(FailureReason::BadCertificate); // no client certificate
        }
        expect_type(&msg, HandshakeType::CERTIFICATE)?;
        let cert = CertificateMsg::parse(&msg.body)
            .ok_or(FailureReason::ProtocolViolation("malformed Certificate"))?;
        let leaf = cert.chain.first().ok_or(FailureReason::BadCertificate)?;
        let proof = verify_peer_certificate(cx.config.remote_fingerprint.as_ref(), leaf)?;
        cx.record_received(&msg);
        Ok(Box::new(ExpectClientKeyExchange {
            negotiated: self.negotiated,
            ecdh: self.ecdh,
            proof,
        }))
    }
}

/// Waiting for ClientKeyExchange.
#[derive(Debug, Clone)]
struct ExpectClientKeyExchange {
    negotiated: Negotiated,
    ecdh: EcdhP256,
    proof: FingerprintVerified,
}

impl State for ExpectClientKeyExchange {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        expect_type(&msg, HandshakeType::CLIENT_KEY_EXCHANGE)?;
        let point = parse_client_key_exchange(&msg.body).ok_or(
            FailureReason::ProtocolViolation("malformed ClientKeyExchange"),
        )?;
        let pre_master = self
            .ecdh
            .agree(&point)
            .ok_or(FailureReason::ProtocolViolation(
                "invalid client ECDH point",
            ))?;
        cx.record_received(&msg);
        let keys = self.negotiated.agree(cx, &pre_master, self.proof);
        cx.actions
            .push(Action::InstallKeys(keys.master.key_block()));
        Ok(Box::new(ExpectCertificateVerify(keys)))
    }
}

/// Waiting for CertificateVerify.
#[derive(Debug, Clone)]
struct ExpectCertificateVerify(AgreedKeys);

impl State for ExpectCertificateVerify {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        expect_type(&msg, HandshakeType::CERTIFICATE_VERIFY)?;
        let cv = CertificateVerify::parse(&msg.body).ok_or(FailureReason::ProtocolViolation(
            "malformed CertificateVerify",
        ))?;
        if cv.scheme != SignatureScheme::ECDSA_SECP256R1_SHA256 {
            return Err(FailureReason::NoCommonParameters("signature scheme"));
        }
        if !verify_p256_sha256_der(
            self.0.proof.public_key(),
            &cx.common.transcript,
            &cv.signature,
        ) {
            return Err(FailureReason::BadSignature);
        }
        cx.record_received(&msg);
        Ok(Box::new(ExpectFinished(self.0)))
    }
}

/// Waiting for the client's Finished (epoch 1); then sends flight 6.
#[derive(Debug, Clone)]
struct ExpectFinished(AgreedKeys);

impl State for ExpectFinished {
    fn handle(
        self: Box<Self>,
        cx: &mut Cx<'_>,
        msg: Message,
    ) -> Result<Box<dyn State>, FailureReason> {
        check_peer_finished(cx, &self.0.master, &msg, b"client finished")?;
        let verify = self
            .0
            .master
            .verify_data(b"server finished", &cx.common.transcript);
        let finished = cx.outgoing(1, HandshakeType::FINISHED, verify.to_vec());
        cx.actions.push(Action::SendFlight {
            items: vec![FlightItem::ChangeCipherSpec, finished],
            expects_reply: false,
        });
        cx.actions.push(Action::Established(self.0.established()));
        Ok(Box::new(Connected))
    }
}
