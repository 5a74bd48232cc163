//! SHIM (replaced by the srtp branch).
#![allow(missing_docs, unused_variables, clippy::missing_errors_doc)]
pub use crate::dtls::SrtpProfile;
#[derive(Debug, Clone)]
pub struct SrtpConfig {
    pub replay_window: u16,
    pub max_streams: usize,
}
impl Default for SrtpConfig {
    fn default() -> Self {
        Self {
            replay_window: 128,
            max_streams: 1024,
        }
    }
}
#[derive(Debug)]
pub struct SrtpContext;
impl SrtpContext {
    pub fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
        config: &SrtpConfig,
    ) -> Result<Self, SrtpError> {
        unimplemented!()
    }
    pub fn protect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        unimplemented!()
    }
    pub fn unprotect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        unimplemented!()
    }
    pub fn protect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        unimplemented!()
    }
    pub fn unprotect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        unimplemented!()
    }
}
#[derive(Debug)]
pub struct SrtpSession {
    pub outbound: SrtpContext,
    pub inbound: SrtpContext,
}
impl SrtpSession {
    pub fn from_keying_material(
        profile: SrtpProfile,
        material: &[u8],
        is_dtls_client: bool,
        config: &SrtpConfig,
    ) -> Result<Self, SrtpError> {
        unimplemented!()
    }
}
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SrtpError {
    #[error("too short")]
    TooShort,
    #[error("malformed")]
    Malformed,
    #[error("auth")]
    AuthenticationFailed,
    #[error("replayed")]
    Replayed,
    #[error("too many")]
    TooManyStreams,
    #[error("unsupported {0}")]
    UnsupportedProfile(u16),
    #[error("key length")]
    KeyLength,
    #[error("index")]
    IndexExhausted,
}
