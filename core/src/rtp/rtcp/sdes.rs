//! Source description (SDES, RFC 3550 §6.5).

use super::{MAX_COUNT, Reader};
use crate::rtp::RtpError;

/// SDES item type of the canonical name, the one item WebRTC requires (RFC 3550 §6.5.1).
pub const SDES_CNAME: u8 = 1;
/// SDES item types 2..=8 (RFC 3550 §6.5.2–§6.5.8): NAME, EMAIL, PHONE, LOC, TOOL, NOTE, PRIV.
pub const SDES_NAME: u8 = 2;
/// SDES TOOL item (application or tool name).
pub const SDES_TOOL: u8 = 6;
/// SDES PRIV item (private extension).
pub const SDES_PRIV: u8 = 8;

/// One SDES chunk: a source and its items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdesChunk {
    /// The source described.
    pub ssrc: u32,
    /// Items as `(type, text)`; type 0 is the list terminator and is skipped when writing,
    /// texts are truncated to 255 bytes.
    pub items: Vec<(u8, Vec<u8>)>,
}

impl SdesChunk {
    /// The CNAME item's text, if present.
    pub fn cname(&self) -> Option<&[u8]> {
        self.items
            .iter()
            .find(|(k, _)| *k == SDES_CNAME)
            .map(|(_, t)| t.as_slice())
    }

    fn written_items(&self) -> impl Iterator<Item = (u8, &[u8])> + '_ {
        self.items
            .iter()
            .filter(|(kind, _)| *kind != 0)
            .map(|(kind, text)| (*kind, &text[..text.len().min(255)]))
    }

    fn len(&self) -> usize {
        let items: usize = self.written_items().map(|(_, t)| 2 + t.len()).sum();
        // At least one terminating zero byte, then up to the next 32-bit boundary.
        (4 + items + 1).next_multiple_of(4)
    }

    fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for (kind, text) in self.written_items() {
            out.push(kind);
            out.push(text.len() as u8);
            out.extend_from_slice(text);
        }
        out.resize(start + self.len(), 0);
    }

    fn read(r: &mut Reader<'_>, body_len: usize) -> Result<Self, RtpError> {
        let ssrc = r.u32()?;
        let mut items = Vec::new();
        while r.remaining() > 0 {
            let kind = r.u8()?;
            if kind == 0 {
                // Skip the rest of the terminator up to the next 32-bit boundary.
                let pos = body_len - r.remaining();
                r.take(pos.next_multiple_of(4).min(body_len) - pos)?;
                break;
            }
            let len = usize::from(r.u8()?);
            items.push((kind, r.take(len)?.to_vec()));
        }
        Ok(Self { ssrc, items })
    }
}

/// A source description packet (PT 202).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdes {
    /// The chunks; at most 31 are written.
    pub chunks: Vec<SdesChunk>,
}

impl Sdes {
    /// An SDES with one chunk holding just a CNAME, as WebRTC endpoints send.
    pub fn cname(ssrc: u32, cname: &str) -> Self {
        Self {
            chunks: vec![SdesChunk {
                ssrc,
                items: vec![(SDES_CNAME, cname.as_bytes().to_vec())],
            }],
        }
    }

    fn written(&self) -> &[SdesChunk] {
        &self.chunks[..self.chunks.len().min(MAX_COUNT)]
    }

    pub(super) fn read(count: u8, body: &[u8]) -> Result<Self, RtpError> {
        if usize::from(count) * 4 > body.len() {
            return Err(RtpError::Malformed("SDES chunk count exceeds the packet"));
        }
        let mut r = Reader::new(body);
        let chunks = (0..count)
            .map(|_| SdesChunk::read(&mut r, body.len()))
            .collect::<Result<_, _>>()?;
        Ok(Self { chunks })
    }

    pub(super) fn count(&self) -> u8 {
        self.written().len() as u8
    }

    pub(super) fn body_len(&self) -> usize {
        self.written().iter().map(SdesChunk::len).sum()
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        self.written().iter().for_each(|c| c.write(out));
    }
}
