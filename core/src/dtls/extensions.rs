//! Hello extensions rtcpeer understands; others are skipped on parse (RFC 5246 7.4.1.4).
//!
//! Implemented: supported_groups and ec_point_formats (RFC 8422), signature_algorithms
//! (RFC 5246), use_srtp (RFC 5764), extended_master_secret (RFC 7627), renegotiation_info
//! (RFC 5746, initial handshake only, always empty).

use super::codec::{Reader, put_u16, put_vec8, put_vec16};
use super::types::{ExtensionType, NamedGroup, SignatureScheme, SrtpProfile};

/// Upper bound on list entries kept from a peer's extension (everything else is ignored).
const MAX_LIST: usize = 64;

/// The use_srtp extension body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UseSrtp {
    /// Offered (client) or selected (server, exactly one) profiles.
    pub profiles: Vec<SrtpProfile>,
    /// The SRTP MKI; rtcpeer sends it empty.
    pub mki: Vec<u8>,
}

/// The extensions of a ClientHello or ServerHello.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HelloExtensions {
    /// supported_groups.
    pub supported_groups: Option<Vec<NamedGroup>>,
    /// ec_point_formats.
    pub ec_point_formats: Option<Vec<u8>>,
    /// signature_algorithms.
    pub signature_algorithms: Option<Vec<SignatureScheme>>,
    /// use_srtp.
    pub use_srtp: Option<UseSrtp>,
    /// extended_master_secret present.
    pub extended_master_secret: bool,
    /// renegotiation_info content.
    pub renegotiation_info: Option<Vec<u8>>,
}

fn u16_list(body: &[u8]) -> Option<Vec<u16>> {
    let mut r = Reader::new(body);
    let list = r.vec16()?;
    if list.len() % 2 != 0 || !r.is_empty() {
        return None;
    }
    Some(
        list.chunks_exact(2)
            .take(MAX_LIST)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect(),
    )
}

fn parse_use_srtp(body: &[u8]) -> Option<UseSrtp> {
    let mut r = Reader::new(body);
    let list = r.vec16()?;
    if list.len() % 2 != 0 {
        return None;
    }
    let mki = r.vec8()?.to_vec();
    if !r.is_empty() {
        return None;
    }
    let profiles = list
        .chunks_exact(2)
        .take(MAX_LIST)
        .map(|c| SrtpProfile(u16::from_be_bytes([c[0], c[1]])))
        .collect();
    Some(UseSrtp { profiles, mki })
}

impl HelloExtensions {
    /// Parses an extensions block (without its outer length); an empty slice means none.
    /// `None` if it is malformed or repeats an extension.
    pub fn parse(block: &[u8]) -> Option<Self> {
        let mut ext = Self::default();
        let mut seen: Vec<u16> = Vec::new();
        let mut r = Reader::new(block);
        while !r.is_empty() {
            let typ = r.u16()?;
            let body = r.vec16()?;
            if seen.contains(&typ) {
                return None;
            }
            if seen.len() < MAX_LIST {
                seen.push(typ);
            }
            ext.parse_one(ExtensionType(typ), body)?;
        }
        Some(ext)
    }

    fn parse_one(&mut self, typ: ExtensionType, body: &[u8]) -> Option<()> {
        match typ {
            ExtensionType::SUPPORTED_GROUPS => {
                self.supported_groups = Some(u16_list(body)?.into_iter().map(NamedGroup).collect());
            }
            ExtensionType::EC_POINT_FORMATS => {
                let mut r = Reader::new(body);
                self.ec_point_formats = Some(r.vec8()?.to_vec());
            }
            ExtensionType::SIGNATURE_ALGORITHMS => {
                self.signature_algorithms =
                    Some(u16_list(body)?.into_iter().map(SignatureScheme).collect());
            }
            ExtensionType::USE_SRTP => self.use_srtp = Some(parse_use_srtp(body)?),
            ExtensionType::EXTENDED_MASTER_SECRET => {
                if !body.is_empty() {
                    return None;
                }
                self.extended_master_secret = true;
            }
            ExtensionType::RENEGOTIATION_INFO => {
                let mut r = Reader::new(body);
                self.renegotiation_info = Some(r.vec8()?.to_vec());
            }
            _ => {} // unknown extensions are ignored
        }
        Some(())
    }

    /// Appends the extensions block with its two-byte length, or nothing if there are none.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let mut block = Vec::new();
        if let Some(groups) = &self.supported_groups {
            let list: Vec<u8> = groups.iter().flat_map(|g| g.0.to_be_bytes()).collect();
            emit_one(&mut block, ExtensionType::SUPPORTED_GROUPS, |b| {
                put_vec16(b, &list)
            });
        }
        if let Some(formats) = &self.ec_point_formats {
            emit_one(&mut block, ExtensionType::EC_POINT_FORMATS, |b| {
                put_vec8(b, formats)
            });
        }
        if let Some(schemes) = &self.signature_algorithms {
            let list: Vec<u8> = schemes.iter().flat_map(|s| s.0.to_be_bytes()).collect();
            emit_one(&mut block, ExtensionType::SIGNATURE_ALGORITHMS, |b| {
                put_vec16(b, &list)
            });
        }
        if let Some(srtp) = &self.use_srtp {
            let list: Vec<u8> = srtp
                .profiles
                .iter()
                .flat_map(|p| p.0.to_be_bytes())
                .collect();
            emit_one(&mut block, ExtensionType::USE_SRTP, |b| {
                put_vec16(b, &list);
                put_vec8(b, &srtp.mki);
            });
        }
        if self.extended_master_secret {
            emit_one(&mut block, ExtensionType::EXTENDED_MASTER_SECRET, |_| {});
        }
        if let Some(info) = &self.renegotiation_info {
            emit_one(&mut block, ExtensionType::RENEGOTIATION_INFO, |b| {
                put_vec8(b, info)
            });
        }
        if !block.is_empty() {
            put_vec16(out, &block);
        }
    }
}

fn emit_one(block: &mut Vec<u8>, typ: ExtensionType, body: impl FnOnce(&mut Vec<u8>)) {
    let mut b = Vec::new();
    body(&mut b);
    put_u16(block, typ.0);
    put_vec16(block, &b);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> HelloExtensions {
        HelloExtensions {
            supported_groups: Some(vec![NamedGroup::SECP256R1]),
            ec_point_formats: Some(vec![0]),
            signature_algorithms: Some(vec![SignatureScheme::ECDSA_SECP256R1_SHA256]),
            use_srtp: Some(UseSrtp {
                profiles: vec![
                    SrtpProfile::AEAD_AES_128_GCM,
                    SrtpProfile::AES128_CM_HMAC_SHA1_80,
                ],
                mki: vec![],
            }),
            extended_master_secret: true,
            renegotiation_info: Some(vec![]),
        }
    }

    #[test]
    fn extensions_round_trip() {
        let mut out = Vec::new();
        sample().emit(&mut out);
        let parsed = HelloExtensions::parse(&out[2..]).unwrap();
        assert_eq!(parsed, sample());
    }

    #[test]
    fn use_srtp_encodes_per_rfc5764() {
        let ext = HelloExtensions {
            use_srtp: Some(UseSrtp {
                profiles: vec![SrtpProfile::AES128_CM_HMAC_SHA1_80],
                mki: vec![],
            }),
            ..Default::default()
        };
        let mut out = Vec::new();
        ext.emit(&mut out);
        assert_eq!(out, [0, 9, 0, 14, 0, 5, 0, 2, 0, 1, 0]);
    }

    #[test]
    fn unknown_extension_is_ignored() {
        let block = [0x12, 0x34, 0, 2, 9, 9, 0, 23, 0, 0];
        let parsed = HelloExtensions::parse(&block).unwrap();
        assert!(parsed.extended_master_secret);
    }

    #[test]
    fn duplicate_extension_is_refused() {
        let block = [0, 23, 0, 0, 0, 23, 0, 0];
        assert!(HelloExtensions::parse(&block).is_none());
    }
}
