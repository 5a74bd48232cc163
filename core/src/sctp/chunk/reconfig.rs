//! RE-CONFIG parameters (RFC 6525 sections 4.1 and 4.4): outgoing SSN reset request and
//! re-configuration response. Other request types are kept as unknown.

use super::BadChunk;
use bytes::{Buf, Bytes};

const OUTGOING_RESET: u16 = 13;
const RESPONSE: u16 = 16;

/// Most streams in one reset request that rtcpeer parses.
const MAX_STREAMS: usize = 4096;

/// Result codes of a re-configuration response (open set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconfigResult(pub u32);

impl ReconfigResult {
    /// Success - nothing to do.
    pub const SUCCESS_NOTHING: Self = Self(0);
    /// Success - performed.
    pub const SUCCESS_PERFORMED: Self = Self(1);
    /// Denied.
    pub const DENIED: Self = Self(2);
    /// Error - wrong SSN.
    pub const ERROR_WRONG_SSN: Self = Self(3);
    /// Error - request already in progress.
    pub const ERROR_IN_PROGRESS: Self = Self(4);
    /// Error - bad sequence number.
    pub const ERROR_BAD_SEQUENCE: Self = Self(5);
    /// In progress.
    pub const IN_PROGRESS: Self = Self(6);
}

/// One RE-CONFIG parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReconfigParam {
    /// Outgoing SSN Reset Request.
    OutgoingReset {
        /// Request sequence number.
        request_seq: u32,
        /// Response sequence number (the last request of the peer we answered + 1 - 1).
        response_seq: u32,
        /// The sender's last assigned TSN.
        last_tsn: u32,
        /// Streams to reset; empty means all.
        streams: Vec<u16>,
    },
    /// Re-configuration Response.
    Response {
        /// The request sequence number answered.
        response_seq: u32,
        /// The result.
        result: ReconfigResult,
    },
    /// Another parameter: (type, value).
    Unknown(u16, Bytes),
}

fn u32_at(v: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([v[at], v[at + 1], v[at + 2], v[at + 3]])
}

pub(super) fn parse_params(v: &Bytes) -> Result<Vec<ReconfigParam>, BadChunk> {
    let mut v = v.clone();
    let mut out = Vec::new();
    while !v.is_empty() {
        if v.len() < 4 || out.len() >= 2 {
            return Err(BadChunk);
        }
        let typ = u16::from_be_bytes([v[0], v[1]]);
        let len = usize::from(u16::from_be_bytes([v[2], v[3]]));
        if len < 4 || len > v.len() {
            return Err(BadChunk);
        }
        let value = v.slice(4..len);
        out.push(parse_param(typ, value)?);
        v.advance(((len + 3) & !3).min(v.len()));
    }
    Ok(out)
}

fn parse_param(typ: u16, value: Bytes) -> Result<ReconfigParam, BadChunk> {
    Ok(match typ {
        OUTGOING_RESET => {
            if value.len() < 12
                || !value.len().is_multiple_of(2)
                || (value.len() - 12) / 2 > MAX_STREAMS
            {
                return Err(BadChunk);
            }
            ReconfigParam::OutgoingReset {
                request_seq: u32_at(&value, 0),
                response_seq: u32_at(&value, 4),
                last_tsn: u32_at(&value, 8),
                streams: value[12..]
                    .chunks_exact(2)
                    .map(|s| u16::from_be_bytes([s[0], s[1]]))
                    .collect(),
            }
        }
        // The response may carry two optional TSN fields (RFC 6525 4.4); rtcpeer ignores them.
        RESPONSE if value.len() >= 8 => ReconfigParam::Response {
            response_seq: u32_at(&value, 0),
            result: ReconfigResult(u32_at(&value, 4)),
        },
        RESPONSE => return Err(BadChunk),
        _ => ReconfigParam::Unknown(typ, value),
    })
}

pub(super) fn params_bytes(params: &[ReconfigParam]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in params {
        let (typ, value) = match p {
            ReconfigParam::OutgoingReset {
                request_seq,
                response_seq,
                last_tsn,
                streams,
            } => {
                let mut b = Vec::with_capacity(12 + 2 * streams.len());
                b.extend_from_slice(&request_seq.to_be_bytes());
                b.extend_from_slice(&response_seq.to_be_bytes());
                b.extend_from_slice(&last_tsn.to_be_bytes());
                for s in streams {
                    b.extend_from_slice(&s.to_be_bytes());
                }
                (OUTGOING_RESET, b)
            }
            ReconfigParam::Response {
                response_seq,
                result,
            } => {
                let mut b = response_seq.to_be_bytes().to_vec();
                b.extend_from_slice(&result.0.to_be_bytes());
                (RESPONSE, b)
            }
            ReconfigParam::Unknown(t, value) => (*t, value.to_vec()),
        };
        let len = u16::try_from(4 + value.len()).expect("bounded stream list");
        v.extend_from_slice(&typ.to_be_bytes());
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&value);
        v.resize((v.len() + 3) & !3, 0);
    }
    v
}
