//! SCTP chunk codecs: an owned [`Chunk`] for every chunk type rtcpeer speaks, parsed from a
//! [`RawChunk`] and emitted into a
//! [`PacketWriter`].
//!
//! Implemented: DATA, INIT, INIT ACK, SACK, HEARTBEAT, HEARTBEAT ACK, ABORT, SHUTDOWN,
//! SHUTDOWN ACK, ERROR, COOKIE ECHO, COOKIE ACK, SHUTDOWN COMPLETE (RFC 9260), FORWARD TSN
//! (RFC 3758), RE-CONFIG with outgoing SSN reset request and response (RFC 6525).
//! Not implemented: I-DATA, I-FORWARD-TSN (RFC 8260), ASCONF, AUTH, PAD; they are unknown
//! chunks and handled by the type's upper two bits.

pub(crate) mod data;
mod init;
mod reconfig;
mod sack;

pub use data::DataChunk;
pub use init::{InitChunk, InitParams};
pub use reconfig::{ReconfigParam, ReconfigResult};
pub use sack::SackChunk;

use super::packet::{PacketWriter, RawChunk};
use bytes::{Buf, Bytes};

/// Chunk type numbers (open set: unknown values are kept as they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkType(pub u8);

impl ChunkType {
    /// Payload data.
    pub const DATA: Self = Self(0);
    /// Initiation.
    pub const INIT: Self = Self(1);
    /// Initiation acknowledgement.
    pub const INIT_ACK: Self = Self(2);
    /// Selective acknowledgement.
    pub const SACK: Self = Self(3);
    /// Heartbeat request.
    pub const HEARTBEAT: Self = Self(4);
    /// Heartbeat acknowledgement.
    pub const HEARTBEAT_ACK: Self = Self(5);
    /// Abort.
    pub const ABORT: Self = Self(6);
    /// Shutdown.
    pub const SHUTDOWN: Self = Self(7);
    /// Shutdown acknowledgement.
    pub const SHUTDOWN_ACK: Self = Self(8);
    /// Operation error.
    pub const ERROR: Self = Self(9);
    /// State cookie.
    pub const COOKIE_ECHO: Self = Self(10);
    /// Cookie acknowledgement.
    pub const COOKIE_ACK: Self = Self(11);
    /// Shutdown complete.
    pub const SHUTDOWN_COMPLETE: Self = Self(14);
    /// Re-configuration (RFC 6525).
    pub const RECONFIG: Self = Self(130);
    /// Forward cumulative TSN (RFC 3758).
    pub const FORWARD_TSN: Self = Self(192);
}

/// Error cause codes (RFC 9260 section 3.3.10), open set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CauseCode(pub u16);

impl CauseCode {
    /// Invalid stream identifier.
    pub const INVALID_STREAM: Self = Self(1);
    /// Missing mandatory parameter.
    pub const MISSING_PARAM: Self = Self(2);
    /// Out of resource.
    pub const OUT_OF_RESOURCE: Self = Self(4);
    /// Unrecognized chunk type.
    pub const UNRECOGNIZED_CHUNK: Self = Self(6);
    /// Invalid mandatory parameter.
    pub const INVALID_MANDATORY_PARAM: Self = Self(7);
    /// No user data.
    pub const NO_USER_DATA: Self = Self(9);
    /// User-initiated abort.
    pub const USER_ABORT: Self = Self(12);
    /// Protocol violation.
    pub const PROTOCOL_VIOLATION: Self = Self(13);
}

/// One error cause: code and its information bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCause {
    /// The cause code.
    pub code: CauseCode,
    /// Cause-specific information (without padding).
    pub info: Bytes,
}

/// A parse failure of a known chunk type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadChunk;

/// An owned SCTP chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chunk {
    /// DATA.
    Data(DataChunk),
    /// INIT.
    Init(InitChunk),
    /// INIT ACK.
    InitAck(InitChunk),
    /// SACK.
    Sack(SackChunk),
    /// HEARTBEAT with its heartbeat info.
    Heartbeat(Bytes),
    /// HEARTBEAT ACK echoing the heartbeat info.
    HeartbeatAck(Bytes),
    /// ABORT; `reflected` is the T bit.
    Abort {
        /// T bit: the verification tag is the receiver's own.
        reflected: bool,
        /// Error causes.
        causes: Vec<ErrorCause>,
    },
    /// SHUTDOWN with the cumulative TSN ack.
    Shutdown(u32),
    /// SHUTDOWN ACK.
    ShutdownAck,
    /// ERROR.
    Error(Vec<ErrorCause>),
    /// COOKIE ECHO with the cookie.
    CookieEcho(Bytes),
    /// COOKIE ACK.
    CookieAck,
    /// SHUTDOWN COMPLETE; `reflected` is the T bit.
    ShutdownComplete {
        /// T bit.
        reflected: bool,
    },
    /// FORWARD TSN: new cumulative TSN and the (stream, SSN) pairs skipped.
    ForwardTsn {
        /// The new cumulative TSN.
        new_cumulative_tsn: u32,
        /// Ordered streams and the last SSN skipped on each.
        streams: Vec<(u16, u16)>,
    },
    /// RE-CONFIG with its parameters.
    Reconfig(Vec<ReconfigParam>),
    /// A chunk of a type rtcpeer does not know.
    Unknown(RawChunk),
}

fn u32_be(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn parse_causes(mut v: Bytes) -> Result<Vec<ErrorCause>, BadChunk> {
    let mut out = Vec::new();
    while v.len() >= 4 {
        let code = CauseCode(u16::from_be_bytes([v[0], v[1]]));
        let len = usize::from(u16::from_be_bytes([v[2], v[3]]));
        if len < 4 || len > v.len() || out.len() >= 64 {
            return Err(BadChunk);
        }
        out.push(ErrorCause {
            code,
            info: v.slice(4..len),
        });
        v.advance(((len + 3) & !3).min(v.len()));
    }
    Ok(out)
}

fn causes_bytes(causes: &[ErrorCause]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in causes {
        let len = u16::try_from(4 + c.info.len()).expect("causes are small");
        out.extend_from_slice(&c.code.0.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&c.info);
        out.resize((out.len() + 3) & !3, 0);
    }
    out
}

fn parse_forward_tsn(v: &Bytes) -> Result<Chunk, BadChunk> {
    if v.len() < 4 || !(v.len() - 4).is_multiple_of(4) {
        return Err(BadChunk);
    }
    let streams = v[4..]
        .chunks_exact(4)
        .map(|p| {
            (
                u16::from_be_bytes([p[0], p[1]]),
                u16::from_be_bytes([p[2], p[3]]),
            )
        })
        .collect();
    Ok(Chunk::ForwardTsn {
        new_cumulative_tsn: u32_be(v),
        streams,
    })
}

impl Chunk {
    /// Parses a raw chunk. Unknown types come back as [`Chunk::Unknown`]; a known type with
    /// a malformed value is an error.
    pub fn parse(raw: RawChunk) -> Result<Chunk, BadChunk> {
        let v = &raw.value;
        let t_bit = raw.flags & 1 == 1;
        Ok(match ChunkType(raw.typ) {
            ChunkType::DATA => Chunk::Data(DataChunk::parse(raw.flags, &raw.value)?),
            ChunkType::INIT => Chunk::Init(InitChunk::parse(v)?),
            ChunkType::INIT_ACK => Chunk::InitAck(InitChunk::parse(v)?),
            ChunkType::SACK => Chunk::Sack(SackChunk::parse(v)?),
            ChunkType::HEARTBEAT => Chunk::Heartbeat(raw.value),
            ChunkType::HEARTBEAT_ACK => Chunk::HeartbeatAck(raw.value),
            ChunkType::ABORT => Chunk::Abort {
                reflected: t_bit,
                causes: parse_causes(raw.value)?,
            },
            ChunkType::SHUTDOWN if v.len() == 4 => Chunk::Shutdown(u32_be(v)),
            ChunkType::SHUTDOWN => return Err(BadChunk),
            ChunkType::SHUTDOWN_ACK => Chunk::ShutdownAck,
            ChunkType::ERROR => Chunk::Error(parse_causes(raw.value)?),
            ChunkType::COOKIE_ECHO => Chunk::CookieEcho(raw.value),
            ChunkType::COOKIE_ACK => Chunk::CookieAck,
            ChunkType::SHUTDOWN_COMPLETE => Chunk::ShutdownComplete { reflected: t_bit },
            ChunkType::FORWARD_TSN => parse_forward_tsn(v)?,
            ChunkType::RECONFIG => Chunk::Reconfig(reconfig::parse_params(v)?),
            _ => Chunk::Unknown(raw),
        })
    }

    /// The encoded length of this chunk including header and padding.
    pub fn encoded_len(&self) -> usize {
        let mut w = PacketWriter::new(0, 0, 0, 0);
        self.emit(&mut w);
        w.finish(true).len() - super::packet::COMMON_HEADER_LEN
    }

    /// Appends this chunk to `w`.
    pub fn emit(&self, w: &mut PacketWriter) {
        match self {
            Chunk::Data(d) => d.emit(w),
            Chunk::Init(i) => w.push_chunk(ChunkType::INIT.0, 0, &[&i.to_bytes()]),
            Chunk::InitAck(i) => w.push_chunk(ChunkType::INIT_ACK.0, 0, &[&i.to_bytes()]),
            Chunk::Sack(s) => s.emit(w),
            Chunk::Heartbeat(info) => w.push_chunk(ChunkType::HEARTBEAT.0, 0, &[info]),
            Chunk::HeartbeatAck(info) => w.push_chunk(ChunkType::HEARTBEAT_ACK.0, 0, &[info]),
            Chunk::Abort { reflected, causes } => w.push_chunk(
                ChunkType::ABORT.0,
                u8::from(*reflected),
                &[&causes_bytes(causes)],
            ),
            Chunk::Shutdown(cum) => w.push_chunk(ChunkType::SHUTDOWN.0, 0, &[&cum.to_be_bytes()]),
            Chunk::ShutdownAck => w.push_chunk(ChunkType::SHUTDOWN_ACK.0, 0, &[]),
            Chunk::Error(causes) => w.push_chunk(ChunkType::ERROR.0, 0, &[&causes_bytes(causes)]),
            Chunk::CookieEcho(c) => w.push_chunk(ChunkType::COOKIE_ECHO.0, 0, &[c]),
            Chunk::CookieAck => w.push_chunk(ChunkType::COOKIE_ACK.0, 0, &[]),
            Chunk::ShutdownComplete { reflected } => {
                w.push_chunk(ChunkType::SHUTDOWN_COMPLETE.0, u8::from(*reflected), &[])
            }
            Chunk::ForwardTsn {
                new_cumulative_tsn,
                streams,
            } => {
                let mut v = new_cumulative_tsn.to_be_bytes().to_vec();
                for (sid, ssn) in streams {
                    v.extend_from_slice(&sid.to_be_bytes());
                    v.extend_from_slice(&ssn.to_be_bytes());
                }
                w.push_chunk(ChunkType::FORWARD_TSN.0, 0, &[&v]);
            }
            Chunk::Reconfig(params) => {
                w.push_chunk(ChunkType::RECONFIG.0, 0, &[&reconfig::params_bytes(params)])
            }
            Chunk::Unknown(raw) => w.push_chunk(raw.typ, raw.flags, &[&raw.value]),
        }
    }
}

#[cfg(test)]
mod tests;
