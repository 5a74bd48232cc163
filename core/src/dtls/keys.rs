//! The TLS 1.2 key schedule for the two AEAD suites: master secret (RFC 5246 8.1, extended
//! master secret of RFC 7627), key block (RFC 5246 6.3, RFC 5288), Finished verify_data
//! (RFC 5246 7.4.9) and the keying material exporter (RFC 5705).

use super::types::CipherSuite;
use crate::crypto::prf::{PrfHash, tls12_prf};

/// What a negotiated cipher suite fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteParams {
    /// The suite.
    pub suite: CipherSuite,
    /// PRF and transcript hash.
    pub hash: PrfHash,
    /// AES key length in bytes.
    pub key_len: usize,
}

/// Parameters of a suite rtcpeer implements, `None` otherwise.
pub fn suite_params(suite: CipherSuite) -> Option<SuiteParams> {
    match suite {
        CipherSuite::ECDHE_ECDSA_AES128_GCM_SHA256 => Some(SuiteParams {
            suite,
            hash: PrfHash::Sha256,
            key_len: 16,
        }),
        CipherSuite::ECDHE_ECDSA_AES256_GCM_SHA384 => Some(SuiteParams {
            suite,
            hash: PrfHash::Sha384,
            key_len: 32,
        }),
        _ => None,
    }
}

/// The 48-byte master secret and the values derived from it.
#[derive(Clone)]
pub struct MasterSecret {
    params: SuiteParams,
    secret: [u8; 48],
    client_random: [u8; 32],
    server_random: [u8; 32],
}

impl core::fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MasterSecret")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Write keys and implicit nonce salts of both directions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBlock {
    /// client_write_key.
    pub client_key: Vec<u8>,
    /// server_write_key.
    pub server_key: Vec<u8>,
    /// client_write_IV (GCM salt).
    pub client_salt: [u8; 4],
    /// server_write_IV (GCM salt).
    pub server_salt: [u8; 4],
}

impl MasterSecret {
    /// Derives the master secret from the ECDHE shared secret. With `session_hash` (the hash
    /// of the transcript through ClientKeyExchange) it is the RFC 7627 extended master secret.
    pub fn derive(
        params: SuiteParams,
        pre_master: &[u8],
        session_hash: Option<&[u8]>,
        client_random: [u8; 32],
        server_random: [u8; 32],
    ) -> Self {
        let mut secret = [0u8; 48];
        match session_hash {
            Some(hash) => tls12_prf(
                params.hash,
                pre_master,
                b"extended master secret",
                hash,
                &mut secret,
            ),
            None => {
                let seed = [client_random, server_random].concat();
                tls12_prf(
                    params.hash,
                    pre_master,
                    b"master secret",
                    &seed,
                    &mut secret,
                );
            }
        }
        Self {
            params,
            secret,
            client_random,
            server_random,
        }
    }

    /// The record protection keys.
    pub fn key_block(&self) -> KeyBlock {
        let k = self.params.key_len;
        let mut block = vec![0u8; 2 * k + 8];
        let seed = [self.server_random, self.client_random].concat();
        tls12_prf(
            self.params.hash,
            &self.secret,
            b"key expansion",
            &seed,
            &mut block,
        );
        KeyBlock {
            client_key: block[..k].to_vec(),
            server_key: block[k..2 * k].to_vec(),
            client_salt: block[2 * k..2 * k + 4].try_into().expect("4 bytes"),
            server_salt: block[2 * k + 4..].try_into().expect("4 bytes"),
        }
    }

    /// Finished verify_data for `label` ("client finished" / "server finished") over the
    /// concatenated handshake messages `transcript`.
    pub fn verify_data(&self, label: &[u8], transcript: &[u8]) -> [u8; 12] {
        let hash = self.params.hash.digest(&[transcript]);
        let mut out = [0u8; 12];
        tls12_prf(self.params.hash, &self.secret, label, &hash, &mut out);
        out
    }

    /// RFC 5705 keying material without context.
    pub fn export(&self, label: &[u8], len: usize) -> Vec<u8> {
        let seed = [self.client_random, self.server_random].concat();
        let mut out = vec![0u8; len];
        tls12_prf(self.params.hash, &self.secret, label, &seed, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> SuiteParams {
        suite_params(CipherSuite::ECDHE_ECDSA_AES128_GCM_SHA256).unwrap()
    }

    #[test]
    fn extended_master_secret_differs_from_classic() {
        let a = MasterSecret::derive(params(), &[1; 32], None, [2; 32], [3; 32]);
        let b = MasterSecret::derive(params(), &[1; 32], Some(&[9; 32]), [2; 32], [3; 32]);
        assert_ne!(a.export(b"x", 16), b.export(b"x", 16));
    }

    #[test]
    fn key_block_sizes_follow_the_suite() {
        let p = suite_params(CipherSuite::ECDHE_ECDSA_AES256_GCM_SHA384).unwrap();
        let kb = MasterSecret::derive(p, &[1; 32], None, [2; 32], [3; 32]).key_block();
        assert_eq!(kb.client_key.len(), 32);
        assert_ne!(kb.client_key, kb.server_key);
    }

    #[test]
    fn unknown_suite_has_no_params() {
        assert!(suite_params(CipherSuite(0x002f)).is_none());
    }
}
