//! A bounds-checked reader and small writer helpers shared by the DTLS wire formats.
//!
//! Every read returns `None` instead of panicking when the input is short, so parsers built
//! on [`Reader`] are safe on arbitrary bytes.

/// A cursor over untrusted bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u24(&mut self) -> Option<u32> {
        self.take(3)
            .map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub(crate) fn u48(&mut self) -> Option<u64> {
        self.take(6)
            .map(|b| u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]))
    }

    /// A vector with a one-byte length prefix.
    pub(crate) fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// A vector with a two-byte length prefix.
    pub(crate) fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// A vector with a three-byte length prefix.
    pub(crate) fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = self.u24()?;
        self.take(n as usize)
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

pub(crate) fn put_u48(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes()[2..]);
}

/// Appends `body` with a one-byte length prefix. `body` must be shorter than 256 bytes.
pub(crate) fn put_vec8(out: &mut Vec<u8>, body: &[u8]) {
    out.push(u8::try_from(body.len()).expect("caller keeps vec8 bodies under 256 bytes"));
    out.extend_from_slice(body);
}

/// Appends `body` with a two-byte length prefix. `body` must be shorter than 64 KiB.
pub(crate) fn put_vec16(out: &mut Vec<u8>, body: &[u8]) {
    put_u16(
        out,
        u16::try_from(body.len()).expect("caller keeps vec16 bodies under 64 KiB"),
    );
    out.extend_from_slice(body);
}

/// Appends `body` with a three-byte length prefix. `body` must be shorter than 16 MiB.
pub(crate) fn put_vec24(out: &mut Vec<u8>, body: &[u8]) {
    put_u24(
        out,
        u32::try_from(body.len()).expect("caller keeps vec24 bodies under 16 MiB"),
    );
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_short_input() {
        let mut r = Reader::new(&[0, 5, 1]);
        assert_eq!(r.vec16(), None);
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(r.u48(), Some(0x0102_0304_0506));
        assert_eq!(r.u8(), None);
    }

    #[test]
    fn writers_prefix_lengths() {
        let mut out = Vec::new();
        put_vec8(&mut out, b"ab");
        put_vec16(&mut out, b"c");
        put_vec24(&mut out, b"");
        assert_eq!(out, [2, b'a', b'b', 0, 1, b'c', 0, 0, 0]);
    }
}
