//! Goodbye (BYE, RFC 3550 §6.6) and application-defined (APP, RFC 3550 §6.7) packets.

use super::{MAX_COUNT, Reader};
use crate::rtp::RtpError;

/// A goodbye packet (PT 203): the sources are leaving.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bye {
    /// The leaving sources; at most 31 are written.
    pub ssrcs: Vec<u32>,
    /// Reason for leaving (empty: none sent); at most 255 bytes are written.
    pub reason: Vec<u8>,
}

impl Bye {
    fn written(&self) -> (&[u32], &[u8]) {
        (
            &self.ssrcs[..self.ssrcs.len().min(MAX_COUNT)],
            &self.reason[..self.reason.len().min(255)],
        )
    }

    pub(super) fn read(count: u8, body: &[u8]) -> Result<Self, RtpError> {
        if usize::from(count) * 4 > body.len() {
            return Err(RtpError::Malformed("BYE source count exceeds the packet"));
        }
        let mut r = Reader::new(body);
        let ssrcs = (0..count).map(|_| r.u32()).collect::<Result<_, _>>()?;
        let reason = if r.remaining() > 0 {
            let len = usize::from(r.u8()?);
            r.take(len)?.to_vec()
        } else {
            Vec::new()
        };
        Ok(Self { ssrcs, reason })
    }

    pub(super) fn count(&self) -> u8 {
        self.written().0.len() as u8
    }

    pub(super) fn body_len(&self) -> usize {
        let (ssrcs, reason) = self.written();
        let reason = if reason.is_empty() {
            0
        } else {
            (1 + reason.len()).next_multiple_of(4)
        };
        4 * ssrcs.len() + reason
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let (ssrcs, reason) = self.written();
        ssrcs
            .iter()
            .for_each(|s| out.extend_from_slice(&s.to_be_bytes()));
        if !reason.is_empty() {
            out.push(reason.len() as u8);
            out.extend_from_slice(reason);
        }
        out.resize(start + self.body_len(), 0);
    }
}

/// An application-defined packet (PT 204).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct App {
    /// The 5-bit subtype (carried in the count field); higher bits are dropped.
    pub subtype: u8,
    /// The sender.
    pub ssrc: u32,
    /// Four ASCII characters naming the application.
    pub name: [u8; 4],
    /// Application data; zero-padded to a multiple of 4 bytes when written.
    pub data: Vec<u8>,
}

impl App {
    pub(super) fn read(count: u8, body: &[u8]) -> Result<Self, RtpError> {
        let mut r = Reader::new(body);
        let ssrc = r.u32()?;
        let name = r.array::<4>()?;
        Ok(Self {
            subtype: count,
            ssrc,
            name,
            data: r.rest().to_vec(),
        })
    }

    pub(super) fn body_len(&self) -> usize {
        8 + self.data.len().next_multiple_of(4)
    }

    pub(super) fn write_body(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&self.name);
        out.extend_from_slice(&self.data);
        out.resize(start + self.body_len(), 0);
    }
}
