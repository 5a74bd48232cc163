//! The endpoint certificate (self-signed ECDSA P-256, made with `rcgen`), SDP fingerprints
//! (RFC 8122 section 5) and the check of the peer certificate against its fingerprint.
//!
//! The peer certificate is not validated as X.509 (WebRTC authenticates by fingerprint);
//! rtcpeer only extracts its P-256 public key with a minimal DER walk.

use super::error::{DtlsError, FailureReason};
use crate::crypto::ecdsa::EcdsaP256Key;
use crate::crypto::prf::{sha384, sha512};
use crate::crypto::{constant_time_eq, sha256};
use crate::rng::Rng;
use crate::time::WallClock;
use core::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The hash of a certificate fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FingerprintAlgorithm {
    /// sha-256 (what rtcpeer emits).
    Sha256,
    /// sha-384.
    Sha384,
    /// sha-512.
    Sha512,
}

impl FingerprintAlgorithm {
    fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha-256",
            Self::Sha384 => "sha-384",
            Self::Sha512 => "sha-512",
        }
    }

    fn digest(self, der: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => sha256(&[der]).to_vec(),
            Self::Sha384 => sha384(&[der]).to_vec(),
            Self::Sha512 => sha512(&[der]).to_vec(),
        }
    }
}

/// A certificate fingerprint as in the SDP `a=fingerprint` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The hash.
    pub algorithm: FingerprintAlgorithm,
    /// The digest.
    pub value: Vec<u8>,
}

impl Fingerprint {
    /// The fingerprint of a DER certificate.
    pub fn of(algorithm: FingerprintAlgorithm, der: &[u8]) -> Self {
        Self {
            algorithm,
            value: algorithm.digest(der),
        }
    }

    /// Parses `sha-256 AB:CD:...` (algorithm case-insensitive, hex either case).
    pub fn parse(s: &str) -> Result<Self, DtlsError> {
        let (alg, hex) = s
            .trim()
            .split_once(' ')
            .ok_or(DtlsError::InvalidFingerprint("expected `<hash> <hex>`"))?;
        let algorithm = match alg.to_ascii_lowercase().as_str() {
            "sha-256" => FingerprintAlgorithm::Sha256,
            "sha-384" => FingerprintAlgorithm::Sha384,
            "sha-512" => FingerprintAlgorithm::Sha512,
            _ => return Err(DtlsError::InvalidFingerprint("unsupported hash")),
        };
        let value = hex
            .trim()
            .split(':')
            .map(|p| match p.len() {
                2 => u8::from_str_radix(p, 16).ok(),
                _ => None,
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or(DtlsError::InvalidFingerprint("bad hex pair"))?;
        if value.len() != algorithm.digest(&[]).len() {
            return Err(DtlsError::InvalidFingerprint("wrong digest length"));
        }
        Ok(Self { algorithm, value })
    }

    /// True if `der` has this fingerprint.
    pub fn matches(&self, der: &[u8]) -> bool {
        constant_time_eq(&self.algorithm.digest(der), &self.value)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.algorithm.name())?;
        for (i, b) in self.value.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ":" })?;
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// Proof that the peer certificate matched the expected fingerprint. Only
/// the peer-certificate check builds it; it carries the public key later signature checks
/// use, so no signature can be checked against an unverified certificate.
#[derive(Debug, Clone)]
pub struct FingerprintVerified {
    public_key: Vec<u8>,
}

impl FingerprintVerified {
    /// The peer's P-256 public key (uncompressed SEC1).
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }
}

/// Checks `der` against `expected` and extracts its P-256 key.
pub fn verify_peer_certificate(
    expected: Option<&Fingerprint>,
    der: &[u8],
) -> Result<FingerprintVerified, FailureReason> {
    let expected = expected.ok_or(FailureReason::NoRemoteFingerprint)?;
    if !expected.matches(der) {
        return Err(FailureReason::FingerprintMismatch);
    }
    let public_key = p256_public_key_of(der)
        .ok_or(FailureReason::BadCertificate)?
        .to_vec();
    Ok(FingerprintVerified { public_key })
}

/// Validity window of a generated certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateValidity {
    /// notBefore.
    pub not_before: SystemTime,
    /// notAfter.
    pub not_after: SystemTime,
}

impl CertificateValidity {
    /// A fixed window (2020-01-01 to 2050-01-01), independent of any clock: deterministic.
    pub fn fixed() -> Self {
        Self {
            not_before: SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_836_800),
            not_after: SystemTime::UNIX_EPOCH + Duration::from_secs(2_524_608_000),
        }
    }

    /// From one day before to 30 days after the injected wall clock's reading at `now`.
    pub fn from_wall_clock(clock: &dyn WallClock, now: Instant) -> Self {
        Self::around(clock.system_time(now))
    }

    /// From one day before `now` (a wall-clock reading) to 30 days after.
    pub fn around(now: SystemTime) -> Self {
        const DAY: Duration = Duration::from_secs(86_400);
        Self {
            not_before: now - DAY,
            not_after: now + 30 * DAY,
        }
    }
}

/// Our certificate and its private key: the browser's `RTCCertificate`.
///
/// Generate one once ([`generate`](Self::generate), or `generate_certificate` of the async
/// adapters) and pass it in [`RtcConfiguration::certificate`](crate::peer_connection::RtcConfiguration::certificate)
/// of every connection that should present it: each then skips the key generation and
/// self-signing (the costliest part of a new session after the handshake's own ECDHE and
/// signature), and all announce the same `a=fingerprint`. Clones share the certificate and
/// key (reference-counted), so a server holding one certificate for thousands of sessions
/// holds one copy.
#[derive(Debug, Clone)]
pub struct DtlsCertificate {
    der: Arc<[u8]>,
    key: Arc<EcdsaP256Key>,
}

/// rcgen signing through our crypto module.
struct RcgenSigner<'a>(&'a EcdsaP256Key);

impl rcgen::PublicKeyData for RcgenSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0.public_key_sec1()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for RcgenSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.0.sign_sha256_der(msg))
    }
}

impl DtlsCertificate {
    /// A fresh self-signed certificate with a key and serial number drawn from `rng`.
    pub fn generate(rng: &mut Rng, validity: CertificateValidity) -> Result<Self, DtlsError> {
        let key = EcdsaP256Key::generate(rng);
        let mut serial = rng.array::<16>();
        serial[0] = (serial[0] & 0x7f) | 0x01;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|_| DtlsError::InvalidCertificate("certificate parameters"))?;
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        params.not_before = validity.not_before.into();
        params.not_after = validity.not_after.into();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, "rtcpeer");
        params.distinguished_name = dn;
        let cert = params
            .self_signed(&RcgenSigner(&key))
            .map_err(|_| DtlsError::InvalidCertificate("self-signing failed"))?;
        Ok(Self {
            der: cert.der().to_vec().into(),
            key: Arc::new(key),
        })
    }

    /// A user-supplied certificate (DER) and its P-256 private key (PKCS#8 DER).
    pub fn from_der(cert_der: &[u8], pkcs8_der: &[u8]) -> Result<Self, DtlsError> {
        let key = EcdsaP256Key::from_pkcs8_der(pkcs8_der)
            .ok_or(DtlsError::InvalidCertificate("not a P-256 PKCS#8 key"))?;
        let public = p256_public_key_of(cert_der)
            .ok_or(DtlsError::InvalidCertificate("not a P-256 certificate"))?;
        if public != key.public_key_sec1() {
            return Err(DtlsError::InvalidCertificate(
                "key does not match certificate",
            ));
        }
        Ok(Self {
            der: cert_der.into(),
            key: Arc::new(key),
        })
    }

    /// The certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The SHA-256 fingerprint for SDP.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(FingerprintAlgorithm::Sha256, &self.der)
    }

    pub(crate) fn key(&self) -> &EcdsaP256Key {
        &self.key
    }

    /// Whether `self` and `other` are the same certificate instance (clones of one
    /// generated or loaded certificate), not merely equal bytes.
    pub fn shares_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.der, &other.der)
    }
}

/// One DER TLV: tag and content; the high-tag-number form and lengths over 4 bytes refuse.
fn der_tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = buf.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The uncompressed P-256 point of a certificate's SubjectPublicKeyInfo (RFC 5280 4.1,
/// RFC 5480), or `None` if the DER is malformed or holds another key type.
pub fn p256_public_key_of(cert: &[u8]) -> Option<&[u8]> {
    let (0x30, cert, _) = der_tlv(cert)? else {
        return None;
    };
    let (0x30, tbs, _) = der_tlv(cert)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, after) = der_tlv(rest)?;
    if tag == 0xa0 {
        rest = after; // explicit version
    }
    // serialNumber, signature, issuer, validity, subject
    for expected in [0x02, 0x30, 0x30, 0x30, 0x30] {
        let (tag, _, after) = der_tlv(rest)?;
        if tag != expected {
            return None;
        }
        rest = after;
    }
    let (0x30, spki, _) = der_tlv(rest)? else {
        return None;
    };
    let (0x30, alg, bits) = der_tlv(spki)? else {
        return None;
    };
    let (0x06, oid, params) = der_tlv(alg)? else {
        return None;
    };
    let (0x06, curve, _) = der_tlv(params)? else {
        return None;
    };
    if oid != OID_EC_PUBLIC_KEY || curve != OID_PRIME256V1 {
        return None;
    }
    let (0x03, bits, _) = der_tlv(bits)? else {
        return None;
    };
    let (&0, point) = bits.split_first()? else {
        return None;
    };
    (point.len() == 65 && point[0] == 4).then_some(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(seed: u64) -> DtlsCertificate {
        DtlsCertificate::generate(&mut Rng::from_u64(seed), CertificateValidity::fixed()).unwrap()
    }

    #[test]
    fn generated_certificate_carries_its_key() {
        let c = cert(1);
        assert_eq!(p256_public_key_of(c.der()), Some(c.key().public_key_sec1()));
    }

    #[test]
    fn generation_is_deterministic_per_seed() {
        assert_eq!(cert(2).der(), cert(2).der());
        assert_ne!(cert(2).der(), cert(3).der());
    }

    #[test]
    fn fingerprint_prints_and_parses() {
        let c = cert(4);
        let fp = c.fingerprint();
        let text = fp.to_string();
        assert!(text.starts_with("sha-256 "));
        assert_eq!(text.len(), 8 + 32 * 3 - 1);
        assert_eq!(Fingerprint::parse(&text.to_lowercase()).unwrap(), fp);
        assert!(fp.matches(c.der()));
    }

    #[test]
    fn fingerprint_parse_refuses_bad_input() {
        assert!(Fingerprint::parse("md5 AB:CD").is_err());
        assert!(Fingerprint::parse("sha-256 AB:CD").is_err());
        assert!(Fingerprint::parse("sha-256").is_err());
        assert!(Fingerprint::parse("sha-384 zz").is_err());
    }

    #[test]
    fn sha512_fingerprints_are_accepted() {
        let c = cert(5);
        let fp = Fingerprint::of(FingerprintAlgorithm::Sha512, c.der());
        let parsed = Fingerprint::parse(&fp.to_string()).unwrap();
        assert!(verify_peer_certificate(Some(&parsed), c.der()).is_ok());
    }

    #[test]
    fn wrong_fingerprint_is_a_mismatch() {
        let fp = cert(6).fingerprint();
        assert_eq!(
            verify_peer_certificate(Some(&fp), cert(7).der()).unwrap_err(),
            FailureReason::FingerprintMismatch
        );
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
    fn validity_follows_the_injected_wall_clock() {
        let t0 = Instant::now();
        let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = crate::time::AnchoredWallClock::new(t0, epoch);
        let v = CertificateValidity::from_wall_clock(&clock, t0 + Duration::from_secs(10));
        assert_eq!(
            v.not_before,
            epoch + Duration::from_secs(10) - Duration::from_secs(86_400)
        );
        let c = DtlsCertificate::generate(&mut Rng::from_u64(11), v).unwrap();
        assert!(p256_public_key_of(c.der()).is_some());
    }

    #[test]
    fn user_certificate_needs_a_p256_pkcs8_key() {
        let a = cert(8);
        assert!(DtlsCertificate::from_der(a.der(), b"not a key").is_err());
    }

    #[test]
    fn der_walk_refuses_truncations() {
        let c = cert(10);
        for cut in 0..c.der().len() {
            assert!(p256_public_key_of(&c.der()[..cut]).is_none());
        }
    }
}
