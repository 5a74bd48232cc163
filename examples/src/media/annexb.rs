//! H.264 (and H.265) elementary streams in Annex B form (`.h264`): access units one after the
//! other, every NAL unit behind a start code, no container. `ffmpeg` reads such a file by its
//! extension (`-f h264`) at an assumed 25 fps; there are no timestamps to keep.
//!
//! Why not IVF with an `H264` FourCC: IVF is specified by libvpx for VP8/VP9 (and AV1 by
//! AOM); an H.264 IVF is a tool-specific convention, while Annex B is the standard byte stream
//! (ITU-T H.264 Annex B) that every decoder and tool reads, and the form rtcpeer's H.264
//! depacketizer already returns (SPS and PPS before every IDR).

use std::io::{self, Write};

/// NAL unit type of an IDR slice.
const NAL_IDR: u8 = 5;
/// NAL unit type of a sequence parameter set.
const NAL_SPS: u8 = 7;
/// NAL unit type of a picture parameter set.
const NAL_PPS: u8 = 8;

/// Writes H.264 access units as an Annex B stream.
#[derive(Debug)]
pub struct AnnexBWriter<W: Write> {
    inner: W,
    frames: u64,
    bytes: u64,
}

impl<W: Write> AnnexBWriter<W> {
    /// A writer over `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            frames: 0,
            bytes: 0,
        }
    }

    /// Appends one access unit, which must already be Annex B (starts with a start code).
    pub fn write_frame(&mut self, access_unit: &[u8]) -> io::Result<()> {
        if !(access_unit.starts_with(&[0, 0, 1]) || access_unit.starts_with(&[0, 0, 0, 1])) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "Annex B: access unit without a leading start code",
            ));
        }
        self.inner.write_all(access_unit)?;
        self.frames += 1;
        self.bytes += access_unit.len() as u64;
        Ok(())
    }

    /// Access units written.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes written.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// NAL unit types of an Annex B access unit, in order.
pub fn h264_nal_types(access_unit: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut i = 0;
    while i + 3 < access_unit.len() {
        if access_unit[i..i + 3] == [0, 0, 1] {
            types.push(access_unit[i + 3] & 0x1f);
            i += 3;
        }
        i += 1;
    }
    types
}

/// Whether a decoder can start at this access unit: it carries an SPS, a PPS and an IDR slice.
pub fn h264_starts_decoding(access_unit: &[u8]) -> bool {
    let types = h264_nal_types(access_unit);
    [NAL_SPS, NAL_PPS, NAL_IDR]
        .iter()
        .all(|t| types.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDR_AU: &[u8] = &[
        0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88, 0x84,
    ];

    #[test]
    fn nal_types_and_decodable_start() {
        assert_eq!(h264_nal_types(IDR_AU), [7, 8, 5]);
        assert!(h264_starts_decoding(IDR_AU));
        assert!(!h264_starts_decoding(&[0, 0, 0, 1, 0x41, 0x9a]));
    }

    #[test]
    fn writer_concatenates_access_units_and_refuses_bare_nal_units() {
        let mut w = AnnexBWriter::new(Vec::new());
        w.write_frame(IDR_AU).unwrap();
        w.write_frame(&[0, 0, 1, 0x41, 0x9a]).unwrap();
        assert!(w.write_frame(&[0x41, 0x9a]).is_err());
        assert_eq!((w.frames(), w.bytes()), (2, IDR_AU.len() as u64 + 5));
        let bytes = w.finish().unwrap();
        assert_eq!(&bytes[..IDR_AU.len()], IDR_AU);
    }
}
