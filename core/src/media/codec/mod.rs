//! SHIM (replaced by the codecs branch).
#![allow(missing_docs, unused_variables)]
use crate::sdp::{MediaDescription, MediaKind};
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpCodec {
    pub name: String,
    pub clock_rate: u32,
    pub channels: Option<u16>,
    pub fmtp: Vec<(String, Option<String>)>,
    pub feedback: Vec<String>,
}
impl RtpCodec {
    pub fn fmtp_param(&self, name: &str) -> Option<&str> {
        unimplemented!()
    }
    pub fn is_rtx(&self) -> bool {
        unimplemented!()
    }
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecConfig {
    pub payload_type: u8,
    pub codec: RtpCodec,
    pub rtx_payload_type: Option<u8>,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderExtensionConfig {
    pub uri: String,
    pub audio: bool,
    pub video: bool,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaCodecs {
    pub audio: Vec<CodecConfig>,
    pub video: Vec<CodecConfig>,
    pub extensions: Vec<HeaderExtensionConfig>,
}
impl Default for MediaCodecs {
    fn default() -> Self {
        unimplemented!()
    }
}
impl MediaCodecs {
    pub fn only(self, names: &[&str]) -> Self {
        unimplemented!()
    }
    pub fn for_kind(&self, kind: &MediaKind) -> &[CodecConfig] {
        unimplemented!()
    }
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedCodec {
    pub payload_type: u8,
    pub codec: RtpCodec,
    pub rtx_payload_type: Option<u8>,
}
pub fn read_codecs(m: &MediaDescription) -> Vec<NegotiatedCodec> {
    unimplemented!()
}
pub fn offer_codecs(local: &MediaCodecs, kind: &MediaKind) -> Vec<NegotiatedCodec> {
    unimplemented!()
}
pub fn answer_codecs(
    local: &MediaCodecs,
    kind: &MediaKind,
    offered: &[NegotiatedCodec],
) -> Vec<NegotiatedCodec> {
    unimplemented!()
}
pub fn codecs_match(a: &RtpCodec, b: &RtpCodec) -> bool {
    unimplemented!()
}
pub fn write_codecs(m: &mut MediaDescription, codecs: &[NegotiatedCodec]) {
    unimplemented!()
}
pub fn read_extensions(m: &MediaDescription) -> Vec<(u8, String)> {
    unimplemented!()
}
pub fn offer_extensions(local: &MediaCodecs, kind: &MediaKind) -> Vec<(u8, String)> {
    unimplemented!()
}
pub fn answer_extensions(
    local: &MediaCodecs,
    kind: &MediaKind,
    offered: &[(u8, String)],
) -> Vec<(u8, String)> {
    unimplemented!()
}
pub fn write_extensions(m: &mut MediaDescription, exts: &[(u8, String)]) {
    unimplemented!()
}
