//! INIT and INIT ACK chunks (RFC 9260 sections 3.3.2, 3.3.3) with the parameters WebRTC
//! uses: State Cookie, Supported Extensions (RFC 5061), Forward-TSN-Supported (RFC 3758),
//! Zero Checksum Acceptable (RFC 9653). Other parameters are kept as unknown.

use super::BadChunk;
use bytes::{Buf, Bytes};

/// Parameter type numbers.
mod param {
    pub const STATE_COOKIE: u16 = 7;
    pub const ZERO_CHECKSUM: u16 = 0x8001;
    pub const SUPPORTED_EXTENSIONS: u16 = 0x8008;
    pub const FORWARD_TSN_SUPPORTED: u16 = 0xC000;
}

/// Most parameters parsed from one INIT; more is malformed.
const MAX_PARAMS: usize = 32;

/// Optional and variable parameters of INIT / INIT ACK.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InitParams {
    /// State cookie (INIT ACK only).
    pub cookie: Option<Bytes>,
    /// Forward-TSN-Supported present.
    pub forward_tsn: bool,
    /// Supported Extensions: chunk types.
    pub extensions: Vec<u8>,
    /// Zero Checksum Acceptable with its error detection method identifier.
    pub zero_checksum: Option<u32>,
    /// Parameters rtcpeer does not interpret: (type, value).
    pub unknown: Vec<(u16, Bytes)>,
}

/// An INIT or INIT ACK chunk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InitChunk {
    /// Initiate tag: the verification tag the sender expects to see.
    pub initiate_tag: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    /// Number of outbound streams.
    pub outbound_streams: u16,
    /// Maximum inbound streams.
    pub inbound_streams: u16,
    /// Initial TSN.
    pub initial_tsn: u32,
    /// Parameters.
    pub params: InitParams,
}

impl InitChunk {
    /// Parses an INIT / INIT ACK value. A zero initiate tag or zero stream count is
    /// malformed (RFC 9260 section 3.3.2).
    pub fn parse(v: &Bytes) -> Result<Self, BadChunk> {
        if v.len() < 16 {
            return Err(BadChunk);
        }
        let init = Self {
            initiate_tag: u32::from_be_bytes([v[0], v[1], v[2], v[3]]),
            a_rwnd: u32::from_be_bytes([v[4], v[5], v[6], v[7]]),
            outbound_streams: u16::from_be_bytes([v[8], v[9]]),
            inbound_streams: u16::from_be_bytes([v[10], v[11]]),
            initial_tsn: u32::from_be_bytes([v[12], v[13], v[14], v[15]]),
            params: parse_params(v.slice(16..))?,
        };
        if init.initiate_tag == 0 || init.outbound_streams == 0 || init.inbound_streams == 0 {
            return Err(BadChunk);
        }
        Ok(init)
    }

    /// The chunk value bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&self.initiate_tag.to_be_bytes());
        v.extend_from_slice(&self.a_rwnd.to_be_bytes());
        v.extend_from_slice(&self.outbound_streams.to_be_bytes());
        v.extend_from_slice(&self.inbound_streams.to_be_bytes());
        v.extend_from_slice(&self.initial_tsn.to_be_bytes());
        let p = &self.params;
        if let Some(cookie) = &p.cookie {
            push_param(&mut v, param::STATE_COOKIE, cookie);
        }
        if p.forward_tsn {
            push_param(&mut v, param::FORWARD_TSN_SUPPORTED, &[]);
        }
        if !p.extensions.is_empty() {
            push_param(&mut v, param::SUPPORTED_EXTENSIONS, &p.extensions);
        }
        if let Some(method) = p.zero_checksum {
            push_param(&mut v, param::ZERO_CHECKSUM, &method.to_be_bytes());
        }
        for (typ, value) in &p.unknown {
            push_param(&mut v, *typ, value);
        }
        v
    }
}

fn push_param(v: &mut Vec<u8>, typ: u16, value: &[u8]) {
    let len = u16::try_from(4 + value.len()).expect("parameters are small");
    v.extend_from_slice(&typ.to_be_bytes());
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(value);
    v.resize((v.len() + 3) & !3, 0);
}

fn parse_params(mut v: Bytes) -> Result<InitParams, BadChunk> {
    let mut p = InitParams::default();
    let mut count = 0;
    while !v.is_empty() {
        if v.len() < 4 || count >= MAX_PARAMS {
            return Err(BadChunk);
        }
        count += 1;
        let typ = u16::from_be_bytes([v[0], v[1]]);
        let len = usize::from(u16::from_be_bytes([v[2], v[3]]));
        if len < 4 || len > v.len() {
            return Err(BadChunk);
        }
        let value = v.slice(4..len);
        match typ {
            param::STATE_COOKIE => p.cookie = Some(value),
            param::FORWARD_TSN_SUPPORTED => p.forward_tsn = true,
            param::SUPPORTED_EXTENSIONS => p.extensions = value.to_vec(),
            param::ZERO_CHECKSUM if value.len() == 4 => {
                p.zero_checksum = Some(u32::from_be_bytes([value[0], value[1], value[2], value[3]]))
            }
            _ => p.unknown.push((typ, value)),
        }
        v.advance(((len + 3) & !3).min(v.len()));
    }
    Ok(p)
}
