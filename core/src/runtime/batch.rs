//! A reusable buffer for batched UDP receives.
//!
//! One receive call of a driver (Linux `recvmmsg`, possibly with UDP GRO) fills several
//! slots at once; with GRO one slot may hold several datagrams of equal size back to back
//! (`stride` bytes each, the last one possibly shorter). [`RecvBatch::datagrams`] splits
//! them again so the core sees one datagram per input.
//!
//! The slots live in a `Vec` by default, or in memory the driver supplies
//! ([`RecvBatch::with_memory`]), such as an anonymous memory mapping: with GRO a batch is
//! hundreds of KiB per socket of which a quiet socket touches a page, and only a mapping
//! of its own guarantees that the untouched rest never becomes resident (a heap allocator
//! may hand out, and zero, recycled memory).

use std::net::SocketAddr;

/// What the OS reported for one filled slot of a [`RecvBatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// The remote address the datagram(s) came from.
    pub source: SocketAddr,
    /// The local address they arrived at (the receiving socket's address).
    pub destination: SocketAddr,
    /// Bytes written into the slot.
    pub len: usize,
    /// Size of each datagram in the slot (equal to `len` without GRO). 0 is read as `len`.
    pub stride: usize,
}

/// One received datagram, borrowed from a [`RecvBatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The remote address it came from.
    pub source: SocketAddr,
    /// The local address it arrived at.
    pub destination: SocketAddr,
    /// Its bytes.
    pub payload: &'a [u8],
}

/// Memory a driver supplies for the slots of a [`RecvBatch`]: any owned byte buffer, for
/// example an anonymous memory mapping.
pub trait SlotMemory: AsRef<[u8]> + AsMut<[u8]> + Send + Sync + 'static {}

impl<T: AsRef<[u8]> + AsMut<[u8]> + Send + Sync + 'static> SlotMemory for T {}

/// `slots` receive buffers of `slot_len` bytes each plus their metadata.
///
/// Contract for drivers: take [`RecvBatch::parts_mut`], let the OS fill the first `n`
/// slots and their metadata, then call [`RecvBatch::set_filled`]`(n)`. Readers then iterate
/// [`RecvBatch::datagrams`]. Metadata that claims more bytes than a slot holds is clamped,
/// so a misbehaving driver cannot make the reader panic.
pub struct RecvBatch {
    buf: Box<dyn SlotMemory>,
    slot_len: usize,
    meta: Vec<RecvMeta>,
    filled: usize,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("slots", &self.meta.len())
            .field("slot_len", &self.slot_len)
            .field("filled", &self.filled)
            .finish_non_exhaustive()
    }
}

impl RecvBatch {
    /// A batch of `slots` buffers (at least 1) of `slot_len` bytes (at least 1) each, on
    /// the heap.
    pub fn new(slots: usize, slot_len: usize) -> Self {
        let slots = slots.max(1);
        let slot_len = slot_len.max(1);
        Self::over(Box::new(vec![0u8; slots * slot_len]), slots, slot_len)
    }

    /// A batch whose slots are `memory`, cut into as many buffers of `slot_len` bytes as
    /// fit (a shorter tail is unused). `None` if `memory` holds no full slot or `slot_len`
    /// is 0.
    pub fn with_memory(memory: Box<dyn SlotMemory>, slot_len: usize) -> Option<Self> {
        let slots = (*memory).as_ref().len().checked_div(slot_len)?;
        (slots > 0).then(|| Self::over(memory, slots, slot_len))
    }

    fn over(buf: Box<dyn SlotMemory>, slots: usize, slot_len: usize) -> Self {
        let unset = SocketAddr::from(([0, 0, 0, 0], 0));
        let meta = RecvMeta {
            source: unset,
            destination: unset,
            len: 0,
            stride: 0,
        };
        Self {
            buf,
            slot_len,
            meta: vec![meta; slots],
            filled: 0,
        }
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        self.meta.len()
    }

    /// Size of one slot in bytes.
    pub fn slot_len(&self) -> usize {
        self.slot_len
    }

    /// The slot buffers (each exactly [`slot_len`](Self::slot_len) bytes) and the metadata
    /// array, for a driver to fill. Clears the batch.
    pub fn parts_mut(&mut self) -> (std::slice::ChunksExactMut<'_, u8>, &mut [RecvMeta]) {
        self.filled = 0;
        let slots = self.meta.len();
        let bytes = &mut (*self.buf).as_mut()[..slots * self.slot_len];
        (bytes.chunks_exact_mut(self.slot_len), &mut self.meta)
    }

    /// Declares the first `n` slots filled (clamped to the number of slots).
    pub fn set_filled(&mut self, n: usize) {
        self.filled = n.min(self.meta.len());
    }

    /// Forgets the received datagrams.
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Whether no datagram is held.
    pub fn is_empty(&self) -> bool {
        self.meta[..self.filled].iter().all(|m| m.len == 0)
    }

    /// The received datagrams, GRO-coalesced slots split into single datagrams.
    pub fn datagrams(&self) -> impl Iterator<Item = Datagram<'_>> + '_ {
        self.meta[..self.filled]
            .iter()
            .zip((*self.buf).as_ref().chunks_exact(self.slot_len))
            .flat_map(|(meta, slot)| {
                let data = &slot[..meta.len.min(slot.len())];
                let stride = if meta.stride == 0 {
                    data.len().max(1)
                } else {
                    meta.stride
                };
                data.chunks(stride).map(move |payload| Datagram {
                    source: meta.source,
                    destination: meta.destination,
                    payload,
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn fill(batch: &mut RecvBatch, slots: &[(&[u8], usize)]) {
        let (mut bufs, meta) = batch.parts_mut();
        for (i, (bytes, stride)) in slots.iter().enumerate() {
            let buf = bufs.next().expect("enough slots");
            buf[..bytes.len()].copy_from_slice(bytes);
            meta[i] = RecvMeta {
                source: addr(1000 + i as u16),
                destination: addr(2000),
                len: bytes.len(),
                stride: *stride,
            };
        }
        batch.set_filled(slots.len());
    }

    #[test]
    fn yields_one_datagram_per_plain_slot() {
        let mut b = RecvBatch::new(4, 16);
        fill(&mut b, &[(b"abc", 3), (b"de", 0)]);
        let got: Vec<_> = b
            .datagrams()
            .map(|d| (d.source.port(), d.payload))
            .collect();
        assert_eq!(got, vec![(1000, &b"abc"[..]), (1001, &b"de"[..])]);
    }

    #[test]
    fn splits_gro_slot_by_stride_with_short_tail() {
        let mut b = RecvBatch::new(1, 16);
        fill(&mut b, &[(b"aaabbbcc", 3)]);
        let got: Vec<_> = b.datagrams().map(|d| d.payload).collect();
        assert_eq!(got, vec![&b"aaa"[..], b"bbb", b"cc"]);
    }

    #[test]
    fn overlong_metadata_is_clamped_to_the_slot() {
        let mut b = RecvBatch::new(2, 4);
        {
            let (_, meta) = b.parts_mut();
            meta[0].len = 100;
        }
        b.set_filled(99);
        assert_eq!(b.datagrams().next().map(|d| d.payload.len()), Some(4));
        assert_eq!(b.datagrams().count(), 1, "an empty slot yields nothing");
    }

    #[test]
    fn supplied_memory_is_cut_into_whole_slots() {
        let mut b = RecvBatch::with_memory(Box::new(vec![0u8; 10]), 4).expect("two slots fit");
        assert_eq!((b.slots(), b.slot_len()), (2, 4));
        assert_eq!(b.parts_mut().0.count(), 2);
        fill(&mut b, &[(b"abcd", 0), (b"ef", 0)]);
        let got: Vec<_> = b.datagrams().map(|d| d.payload).collect();
        assert_eq!(got, vec![&b"abcd"[..], b"ef"]);
    }

    #[test]
    fn supplied_memory_without_a_full_slot_is_refused() {
        assert!(RecvBatch::with_memory(Box::new(vec![0u8; 3]), 4).is_none());
        assert!(RecvBatch::with_memory(Box::new(vec![0u8; 3]), 0).is_none());
    }

    #[test]
    fn parts_mut_clears_previous_contents() {
        let mut b = RecvBatch::new(2, 8);
        fill(&mut b, &[(b"x", 0)]);
        assert!(!b.is_empty());
        let _ = b.parts_mut();
        assert!(b.is_empty());
        assert_eq!(b.datagrams().count(), 0);
    }
}
