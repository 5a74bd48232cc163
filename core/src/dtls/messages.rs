//! Handshake message bodies (RFC 5246 section 7.4, RFC 6347 section 4.2, RFC 8422 section 5).
//!
//! Each message has `parse(body) -> Option<Self>` (strict: trailing bytes refuse) and
//! `emit() -> Vec<u8>` of the body, without the handshake header.

use super::codec::{Reader, put_u16, put_vec8, put_vec16, put_vec24};
use super::extensions::HelloExtensions;
use super::types::{CipherSuite, NamedGroup, SignatureScheme};

/// Most certificates kept from a peer's chain (only the first is used).
const MAX_CHAIN: usize = 8;
/// ECCurveType named_curve (RFC 8422 section 5.4).
const NAMED_CURVE: u8 = 3;
/// ClientCertificateType ecdsa_sign (RFC 8422 section 5.5).
pub const ECDSA_SIGN: u8 = 64;

fn done<T>(r: &Reader<'_>, v: T) -> Option<T> {
    r.is_empty().then_some(v)
}

/// ClientHello (RFC 6347 section 4.2.1: with a cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// client_version.
    pub version: u16,
    /// random.
    pub random: [u8; 32],
    /// session_id.
    pub session_id: Vec<u8>,
    /// cookie (empty on the first hello).
    pub cookie: Vec<u8>,
    /// cipher_suites.
    pub cipher_suites: Vec<CipherSuite>,
    /// compression_methods.
    pub compression_methods: Vec<u8>,
    /// extensions.
    pub extensions: HelloExtensions,
}

impl ClientHello {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        let version = r.u16()?;
        let random = r.take(32)?.try_into().ok()?;
        let session_id = r.vec8()?.to_vec();
        let cookie = r.vec8()?.to_vec();
        let suites = r.vec16()?;
        if suites.len() % 2 != 0 || session_id.len() > 32 {
            return None;
        }
        let cipher_suites = suites
            .chunks_exact(2)
            .take(128)
            .map(|c| CipherSuite(u16::from_be_bytes([c[0], c[1]])))
            .collect();
        let compression_methods = r.vec8()?.to_vec();
        let extensions = if r.is_empty() {
            HelloExtensions::default()
        } else {
            HelloExtensions::parse(r.vec16()?)?
        };
        let hello = Self {
            version,
            random,
            session_id,
            cookie,
            cipher_suites,
            compression_methods,
            extensions,
        };
        done(&r, hello)
    }

    /// The body bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        put_u16(&mut out, self.version);
        out.extend_from_slice(&self.random);
        put_vec8(&mut out, &self.session_id);
        put_vec8(&mut out, &self.cookie);
        let suites: Vec<u8> = self
            .cipher_suites
            .iter()
            .flat_map(|s| s.0.to_be_bytes())
            .collect();
        put_vec16(&mut out, &suites);
        put_vec8(&mut out, &self.compression_methods);
        self.extensions.emit(&mut out);
        out
    }
}

/// HelloVerifyRequest (RFC 6347 section 4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloVerifyRequest {
    /// server_version.
    pub version: u16,
    /// cookie.
    pub cookie: Vec<u8>,
}

impl HelloVerifyRequest {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        let version = r.u16()?;
        let cookie = r.vec8()?.to_vec();
        done(&r, Self { version, cookie })
    }

    /// The body bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_u16(&mut out, self.version);
        put_vec8(&mut out, &self.cookie);
        out
    }
}

/// ServerHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// server_version.
    pub version: u16,
    /// random.
    pub random: [u8; 32],
    /// session_id.
    pub session_id: Vec<u8>,
    /// cipher_suite.
    pub cipher_suite: CipherSuite,
    /// compression_method.
    pub compression_method: u8,
    /// extensions.
    pub extensions: HelloExtensions,
}

impl ServerHello {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        let version = r.u16()?;
        let random = r.take(32)?.try_into().ok()?;
        let session_id = r.vec8()?.to_vec();
        let cipher_suite = CipherSuite(r.u16()?);
        let compression_method = r.u8()?;
        let extensions = if r.is_empty() {
            HelloExtensions::default()
        } else {
            HelloExtensions::parse(r.vec16()?)?
        };
        let hello = Self {
            version,
            random,
            session_id,
            cipher_suite,
            compression_method,
            extensions,
        };
        done(&r, hello)
    }

    /// The body bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        put_u16(&mut out, self.version);
        out.extend_from_slice(&self.random);
        put_vec8(&mut out, &self.session_id);
        put_u16(&mut out, self.cipher_suite.0);
        out.push(self.compression_method);
        self.extensions.emit(&mut out);
        out
    }
}

/// Certificate: the sender's chain, leaf first, each entry DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateMsg {
    /// The chain.
    pub chain: Vec<Vec<u8>>,
}

impl CertificateMsg {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        let mut list = Reader::new(r.vec24()?);
        let mut chain = Vec::new();
        while !list.is_empty() {
            let cert = list.vec24()?;
            if chain.len() < MAX_CHAIN {
                chain.push(cert.to_vec());
            }
        }
        done(&r, Self { chain })
    }

    /// The body bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut list = Vec::new();
        for cert in &self.chain {
            put_vec24(&mut list, cert);
        }
        let mut out = Vec::with_capacity(list.len() + 3);
        put_vec24(&mut out, &list);
        out
    }
}

/// ServerKeyExchange for ECDHE_ECDSA with a named curve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// The curve.
    pub group: NamedGroup,
    /// The server's ephemeral public point.
    pub public: Vec<u8>,
    /// Signature scheme.
    pub scheme: SignatureScheme,
    /// DER signature over client_random + server_random + params.
    pub signature: Vec<u8>,
}

impl ServerKeyExchange {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        if r.u8()? != NAMED_CURVE {
            return None;
        }
        let group = NamedGroup(r.u16()?);
        let public = r.vec8()?.to_vec();
        let scheme = SignatureScheme(r.u16()?);
        let signature = r.vec16()?.to_vec();
        let ske = Self {
            group,
            public,
            scheme,
            signature,
        };
        done(&r, ske)
    }

    /// The signed ServerECDHParams bytes.
    pub fn params(group: NamedGroup, public: &[u8]) -> Vec<u8> {
        let mut out = vec![NAMED_CURVE];
        put_u16(&mut out, group.0);
        put_vec8(&mut out, public);
        out
    }

    /// The body bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Self::params(self.group, &self.public);
        put_u16(&mut out, self.scheme.0);
        put_vec16(&mut out, &self.signature);
        out
    }
}

/// CertificateRequest (TLS 1.2 form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// certificate_types.
    pub certificate_types: Vec<u8>,
    /// supported_signature_algorithms.
    pub schemes: Vec<SignatureScheme>,
}

impl CertificateRequest {
    /// Parses a body (the certificate_authorities list is skipped).
    pub fn parse(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        let certificate_types = r.vec8()?.to_vec();
        let list = r.vec16()?;
        if list.len() % 2 != 0 {
            return None;
        }
        let schemes = list
            .chunks_exact(2)
            .take(64)
            .map(|c| SignatureScheme(u16::from_be_bytes([c[0], c[1]])))
            .collect();
        let _authorities = r.vec16()?;
        done(
            &r,
            Self {
                certificate_types,
                schemes,
            },
        )
    }

    /// The body bytes (no certificate authorities).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_vec8(&mut out, &self.certificate_types);
        let list: Vec<u8> = self
            .schemes
            .iter()
            .flat_map(|s| s.0.to_be_bytes())
            .collect();
        put_vec16(&mut out, &list);
        put_vec16(&mut out, &[]);
        out
    }
}

/// ClientKeyExchange for ECDHE: the client's ephemeral point.
pub fn parse_client_key_exchange(body: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(body);
    let point = r.vec8()?.to_vec();
    done(&r, point)
}

/// ClientKeyExchange body for `point`.
pub fn emit_client_key_exchange(point: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(point.len() + 1);
    put_vec8(&mut out, point);
    out
}

/// CertificateVerify (TLS 1.2 form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateVerify {
    /// Signature scheme.
    pub scheme: SignatureScheme,
    /// DER signature over the handshake messages so far.
    pub signature: Vec<u8>,
}

impl CertificateVerify {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        let scheme = SignatureScheme(r.u16()?);
        let signature = r.vec16()?.to_vec();
        done(&r, Self { scheme, signature })
    }

    /// The body bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_u16(&mut out, self.scheme.0);
        put_vec16(&mut out, &self.signature);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::types::DTLS_1_2;

    #[test]
    fn client_hello_round_trips() {
        let ch = ClientHello {
            version: DTLS_1_2,
            random: [7; 32],
            session_id: vec![],
            cookie: vec![1, 2, 3],
            cipher_suites: vec![CipherSuite::ECDHE_ECDSA_AES128_GCM_SHA256],
            compression_methods: vec![0],
            extensions: HelloExtensions {
                extended_master_secret: true,
                ..Default::default()
            },
        };
        let body = ch.emit();
        assert_eq!(body[..3], [0xfe, 0xfd, 7]);
        assert_eq!(body[34..39], [0, 3, 1, 2, 3]);
        assert_eq!(ClientHello::parse(&body), Some(ch));
    }

    #[test]
    fn client_hello_without_extensions_parses() {
        let mut body = vec![0xfe, 0xfd];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0, 0, 2, 0xc0, 0x2b, 1, 0]);
        let ch = ClientHello::parse(&body).unwrap();
        assert_eq!(
            ch.cipher_suites,
            [CipherSuite::ECDHE_ECDSA_AES128_GCM_SHA256]
        );
        assert!(ClientHello::parse(&body[..body.len() - 1]).is_none());
    }

    #[test]
    fn server_hello_round_trips() {
        let sh = ServerHello {
            version: DTLS_1_2,
            random: [9; 32],
            session_id: vec![1; 32],
            cipher_suite: CipherSuite::ECDHE_ECDSA_AES256_GCM_SHA384,
            compression_method: 0,
            extensions: HelloExtensions::default(),
        };
        assert_eq!(ServerHello::parse(&sh.emit()), Some(sh));
    }

    #[test]
    fn certificate_and_key_exchange_round_trip() {
        let cert = CertificateMsg {
            chain: vec![vec![0x30, 1, 2], vec![0x30]],
        };
        assert_eq!(cert.emit()[..6], [0, 0, 10, 0, 0, 3]);
        assert_eq!(CertificateMsg::parse(&cert.emit()), Some(cert));
        let ske = ServerKeyExchange {
            group: NamedGroup::SECP256R1,
            public: vec![4; 65],
            scheme: SignatureScheme::ECDSA_SECP256R1_SHA256,
            signature: vec![0x30, 0],
        };
        assert_eq!(ske.emit()[..4], [3, 0, 23, 65]);
        assert_eq!(ServerKeyExchange::parse(&ske.emit()), Some(ske));
        let cke = emit_client_key_exchange(&[4; 65]);
        assert_eq!(parse_client_key_exchange(&cke), Some(vec![4; 65]));
    }

    #[test]
    fn certificate_request_and_verify_round_trip() {
        let cr = CertificateRequest {
            certificate_types: vec![ECDSA_SIGN],
            schemes: vec![SignatureScheme::ECDSA_SECP256R1_SHA256],
        };
        assert_eq!(cr.emit(), [1, 64, 0, 2, 4, 3, 0, 0]);
        assert_eq!(CertificateRequest::parse(&cr.emit()), Some(cr));
        let cv = CertificateVerify {
            scheme: SignatureScheme::ECDSA_SECP256R1_SHA256,
            signature: vec![1, 2],
        };
        assert_eq!(CertificateVerify::parse(&cv.emit()), Some(cv));
    }
}
