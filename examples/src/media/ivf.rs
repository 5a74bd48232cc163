//! IVF, the container of raw VP8/VP9/AV1 frames that `ffmpeg` and libvpx's tools write: a
//! 32-byte file header (`DKIF`, codec FourCC, size, time base), then frames each behind a
//! 12-byte header (size, presentation timestamp). [`IvfReader`] reads such a file,
//! [`IvfWriter`] writes one.

use std::io::{self, Read, Seek, SeekFrom, Write};

/// The file header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvfHeader {
    /// Codec FourCC: `VP80`, `VP90`, `AV01`.
    pub fourcc: [u8; 4],
    /// Frame width in pixels.
    pub width: u16,
    /// Frame height in pixels.
    pub height: u16,
    /// Time base numerator and denominator: timestamps count `num/den` seconds.
    pub timebase: (u32, u32),
    /// Frames the header announces (writers do not always fill it in).
    pub frame_count: u32,
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvfFrame {
    /// Presentation timestamp in time-base units.
    pub pts: u64,
    /// The encoded frame.
    pub data: Vec<u8>,
}

/// Largest frame accepted (a corrupt size field must not allocate gigabytes).
const MAX_FRAME: usize = 16 << 20;

/// Reads an IVF stream.
#[derive(Debug)]
pub struct IvfReader<R> {
    inner: R,
    header: IvfHeader,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("IVF: {what}"))
}

impl<R: Read> IvfReader<R> {
    /// Reads and checks the file header.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut h = [0u8; 32];
        inner.read_exact(&mut h)?;
        if &h[0..4] != b"DKIF" {
            return Err(invalid("not an IVF file (no DKIF signature)"));
        }
        let header_len = u16::from_le_bytes([h[6], h[7]]) as usize;
        if header_len < 32 {
            return Err(invalid("header shorter than 32 bytes"));
        }
        io::copy(
            &mut (&mut inner).take((header_len - 32) as u64),
            &mut io::sink(),
        )?;
        let le32 = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let header = IvfHeader {
            fourcc: [h[8], h[9], h[10], h[11]],
            width: u16::from_le_bytes([h[12], h[13]]),
            height: u16::from_le_bytes([h[14], h[15]]),
            timebase: (le32(20), le32(16)),
            frame_count: le32(24),
        };
        if header.timebase.0 == 0 || header.timebase.1 == 0 {
            return Err(invalid("zero time base"));
        }
        Ok(Self { inner, header })
    }

    /// The file header.
    pub fn header(&self) -> &IvfHeader {
        &self.header
    }

    /// The next frame, or `None` at the end of the file.
    pub fn next_frame(&mut self) -> io::Result<Option<IvfFrame>> {
        let mut h = [0u8; 12];
        match self.inner.read_exact(&mut h) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let size = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if size > MAX_FRAME {
            return Err(invalid("frame larger than 16 MiB"));
        }
        let mut pts = [0u8; 8];
        pts.copy_from_slice(&h[4..12]);
        let mut data = vec![0u8; size];
        self.inner.read_exact(&mut data)?;
        Ok(Some(IvfFrame {
            pts: u64::from_le_bytes(pts),
            data,
        }))
    }
}

/// Writes an IVF file: the header first (frame count 0), frames as they come, and on
/// [`finish`](Self::finish) the real frame count patched into the header.
#[derive(Debug)]
pub struct IvfWriter<W: Write + Seek> {
    inner: W,
    frames: u32,
    bytes: u64,
}

impl<W: Write + Seek> IvfWriter<W> {
    /// Writes the 32-byte header of `header` (its `frame_count` is ignored).
    pub fn new(mut inner: W, header: &IvfHeader) -> io::Result<Self> {
        let mut h = Vec::with_capacity(32);
        h.extend_from_slice(b"DKIF");
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&32u16.to_le_bytes());
        h.extend_from_slice(&header.fourcc);
        h.extend_from_slice(&header.width.to_le_bytes());
        h.extend_from_slice(&header.height.to_le_bytes());
        // Rate then scale: timestamps count `scale / rate` seconds.
        h.extend_from_slice(&header.timebase.1.to_le_bytes());
        h.extend_from_slice(&header.timebase.0.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&[0; 4]);
        inner.write_all(&h)?;
        Ok(Self {
            inner,
            frames: 0,
            bytes: 32,
        })
    }

    /// Appends one frame at presentation time `pts` (time-base units).
    pub fn write_frame(&mut self, pts: u64, data: &[u8]) -> io::Result<()> {
        if data.len() > MAX_FRAME {
            return Err(invalid("frame larger than 16 MiB"));
        }
        self.inner.write_all(&(data.len() as u32).to_le_bytes())?;
        self.inner.write_all(&pts.to_le_bytes())?;
        self.inner.write_all(data)?;
        self.frames += 1;
        self.bytes += 12 + data.len() as u64;
        Ok(())
    }

    /// Frames written.
    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// Bytes written, header included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Patches the frame count into the header, flushes, and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.seek(SeekFrom::Start(24))?;
        self.inner.write_all(&self.frames.to_le_bytes())?;
        self.inner.seek(SeekFrom::End(0))?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Width and height of a VP8 keyframe (RFC 6386 §9.1: the 3-byte frame tag, the start code
/// `9d 01 2a`, then 14-bit width and height); `None` for an interframe or a short frame.
pub fn vp8_keyframe_size(frame: &[u8]) -> Option<(u16, u16)> {
    let is_key = frame.first()? & 0x01 == 0;
    if !is_key || frame.get(3..6)? != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let dim = |i: usize| u16::from_le_bytes([frame[i], frame[i + 1]]) & 0x3fff;
    frame.get(9)?;
    Some((dim(6), dim(8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(frames: &[(u64, &[u8])]) -> Vec<u8> {
        let mut f = b"DKIF".to_vec();
        f.extend_from_slice(&0u16.to_le_bytes());
        f.extend_from_slice(&32u16.to_le_bytes());
        f.extend_from_slice(b"VP80");
        f.extend_from_slice(&320u16.to_le_bytes());
        f.extend_from_slice(&240u16.to_le_bytes());
        f.extend_from_slice(&30u32.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&(frames.len() as u32).to_le_bytes());
        f.extend_from_slice(&[0; 4]);
        for (pts, data) in frames {
            f.extend_from_slice(&(data.len() as u32).to_le_bytes());
            f.extend_from_slice(&pts.to_le_bytes());
            f.extend_from_slice(data);
        }
        f
    }

    #[test]
    fn reads_header_and_frames() {
        let bytes = file(&[(0, b"key"), (1, b"delta")]);
        let mut r = IvfReader::new(&bytes[..]).unwrap();
        assert_eq!(r.header().fourcc, *b"VP80");
        assert_eq!((r.header().width, r.header().height), (320, 240));
        assert_eq!(r.header().timebase, (1, 30));
        assert_eq!(r.next_frame().unwrap().unwrap().data, b"key");
        assert_eq!(r.next_frame().unwrap().unwrap().pts, 1);
        assert!(r.next_frame().unwrap().is_none());
    }

    #[test]
    fn writer_output_reads_back_with_its_frame_count() {
        let header = IvfHeader {
            fourcc: *b"VP80",
            width: 640,
            height: 480,
            timebase: (1, 90_000),
            frame_count: 0,
        };
        let mut w = IvfWriter::new(std::io::Cursor::new(Vec::new()), &header).unwrap();
        w.write_frame(0, b"key").unwrap();
        w.write_frame(3000, b"delta").unwrap();
        assert_eq!(w.bytes(), 32 + 12 + 3 + 12 + 5);
        let bytes = w.finish().unwrap().into_inner();
        assert_eq!(bytes, {
            let mut expected = file(&[(0, b"key"), (3000, b"delta")]);
            expected[16..24].copy_from_slice(&[0x90, 0x5f, 0x01, 0, 1, 0, 0, 0]);
            expected[12..16].copy_from_slice(&[0x80, 0x02, 0xe0, 0x01]);
            expected
        });
        let mut r = IvfReader::new(&bytes[..]).unwrap();
        assert_eq!(
            *r.header(),
            IvfHeader {
                frame_count: 2,
                ..header
            }
        );
        assert_eq!(r.next_frame().unwrap().unwrap().data, b"key");
        assert_eq!(r.next_frame().unwrap().unwrap().pts, 3000);
    }

    #[test]
    fn vp8_keyframe_size_reads_the_keyframe_header() {
        let key = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
        assert_eq!(vp8_keyframe_size(&key), Some((640, 480)));
        let mut delta = key;
        delta[0] |= 1;
        assert_eq!(vp8_keyframe_size(&delta), None);
        assert_eq!(vp8_keyframe_size(&key[..9]), None);
    }

    #[test]
    fn refuses_what_is_not_ivf_and_absurd_sizes() {
        assert!(IvfReader::new(&b"RIFF0000000000000000000000000000"[..]).is_err());
        let mut bytes = file(&[]);
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        let mut r = IvfReader::new(&bytes[..]).unwrap();
        assert!(r.next_frame().is_err());
    }
}
