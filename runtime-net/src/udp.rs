//! Batched UDP receive and send over any reactor's socket type.

use quinn_udp::{UdpSockRef, UdpSocketState};
use rtcpeer::Transmit;
use rtcpeer::runtime::{RecvBatch, RecvMeta};
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest UDP payload a GSO send may carry in total.
const MAX_GSO_BYTES: usize = 64_000;
/// Slot size without GRO: every WebRTC datagram fits; larger ones arrive truncated and
/// fail authentication in the core.
const PLAIN_SLOT: usize = 2048;
/// Slot size with GRO: the kernel coalesces at most 64 KiB.
const GRO_SLOT: usize = 65_536;
/// Slots per receive call with GRO (up to 4 × 64 KiB, some 200 datagrams). Larger batches
/// hand the core up to quinn-udp's 32 slots (2 MiB, the whole SCTP window) before anything it
/// answers (SACKs) goes out, so sender and receiver take turns instead of overlapping: 4
/// slots moved `bench` throughput up 5–15 % over 32 and keeps the buffer at 256 KiB per
/// socket instead of 2 MiB.
const GRO_SLOTS: usize = 4;
/// Receive calls in a row, each finding a datagram queued, after which a socket that uses
/// one slot per call switches to the whole batch (see [`UdpIo`]). A handshake or an idle
/// peer's keepalives find the socket empty again after a datagram or two; bulk traffic gets
/// there within the first milliseconds.
const WIDEN_AFTER: usize = 8;

/// The per-socket state of batched I/O: which offloads the OS grants, the socket's
/// address, and how many slots of a batch receive calls use. Works with any socket type
/// that exposes its file descriptor (std, tokio, async-io, mio), passed to each call.
///
/// Receive calls start with one slot of the batch and switch to all of them once
/// eight calls in a row (`WIDEN_AFTER`) found a datagram queued (traffic). The kernel writes each
/// datagram of a call into the next slot, so a quiet socket (an idle or merely handshaking
/// peer) only ever touches the first pages of its first slot; the rest of the batch is
/// allocated but never made resident (some 4 KiB per socket). There is no way back: pages
/// once written stay resident, so narrowing again would save nothing.
#[derive(Debug)]
pub struct UdpIo {
    state: UdpSocketState,
    local: SocketAddr,
    /// Receive calls in a row that found a datagram, while narrow; [`WIDEN_AFTER`] or more
    /// means wide: every slot of the batch.
    streak: AtomicUsize,
}

impl UdpIo {
    /// Probes and enables the offloads (GRO, packet info) on `socket`, bound to `local`.
    /// `socket` is any type that exposes its descriptor: std, tokio, async-io or mio.
    pub fn new<S>(socket: &S, local: SocketAddr) -> io::Result<Self>
    where
        for<'a> UdpSockRef<'a>: From<&'a S>,
    {
        Ok(Self {
            state: UdpSocketState::new(socket.into())?,
            local,
            streak: AtomicUsize::new(0),
        })
    }

    /// The socket's bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Slots and slot size for a [`RecvBatch`]: with GRO, 4 slots of 64 KiB (see `GRO_SLOTS`);
    /// without, quinn-udp's full `recvmmsg` batch of datagram-sized slots.
    pub fn batch_shape(&self) -> (usize, usize) {
        if self.state.gro_segments() > 1 {
            (GRO_SLOTS.min(quinn_udp::BATCH_SIZE), GRO_SLOT)
        } else {
            (quinn_udp::BATCH_SIZE, PLAIN_SLOT)
        }
    }

    /// A [`RecvBatch`] of [`batch_shape`](Self::batch_shape), in an anonymous memory
    /// mapping of its own: its pages stay unallocated until the kernel writes into them,
    /// so a quiet socket costs the page or two it received into. A heap allocation of the
    /// same size (hundreds of KiB with GRO) gives no such promise: once the process has
    /// freed one, the allocator serves the next from recycled memory and zeroes all of it.
    /// Falls back to the heap if the mapping is refused.
    pub fn new_batch(&self) -> RecvBatch {
        let (slots, slot_len) = self.batch_shape();
        let mapped = memmap2::MmapMut::map_anon(slots * slot_len)
            .inspect_err(|e| {
                tracing::debug!(local = %self.local, error = %e, "receive batch not mapped, on the heap");
            })
            .ok()
            .and_then(|map| RecvBatch::with_memory(Box::new(map), slot_len));
        mapped.unwrap_or_else(|| RecvBatch::new(slots, slot_len))
    }

    /// One batched receive into `batch`; returns the number of filled slots.
    ///
    /// Uses only the first slot of `batch` until traffic arrives, then all of them (see
    /// [`UdpIo`]); the result is the same datagrams either way, only spread over more
    /// calls while narrow.
    ///
    /// `WouldBlock` means nothing is queued. ICMP-induced errors and interruptions are
    /// absorbed by trying again; other errors are returned.
    pub fn recv<S>(&self, socket: &S, batch: &mut RecvBatch) -> io::Result<usize>
    where
        for<'a> UdpSockRef<'a>: From<&'a S>,
    {
        let mut quinn_meta = [quinn_udp::RecvMeta::default(); quinn_udp::BATCH_SIZE];
        let streak = self.streak.load(Ordering::Relaxed);
        let active = if streak >= WIDEN_AFTER { usize::MAX } else { 1 };
        loop {
            let (bufs, _) = batch.parts_mut();
            let mut slices: Vec<IoSliceMut<'_>> = bufs.map(IoSliceMut::new).collect();
            let n = quinn_meta.len().min(slices.len()).min(active);
            match self
                .state
                .recv(socket.into(), &mut slices[..n], &mut quinn_meta[..n])
            {
                Ok(filled) => {
                    self.store_meta(batch, &quinn_meta[..filled]);
                    self.count_streak(streak);
                    return Ok(filled);
                }
                Err(e) if is_transient(&e) => {
                    tracing::trace!(local = %self.local, error = %e, "transient receive error");
                }
                Err(e) => {
                    if e.kind() == io::ErrorKind::WouldBlock {
                        self.reset_streak(streak);
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Counts a narrow call that found a datagram; the count widens the socket at
    /// [`WIDEN_AFTER`] and stops there.
    fn count_streak(&self, streak: usize) {
        if streak < WIDEN_AFTER {
            self.streak.store(streak + 1, Ordering::Relaxed);
            if streak + 1 == WIDEN_AFTER {
                tracing::trace!(local = %self.local, "receive traffic: using every batch slot");
            }
        }
    }

    /// The socket was found empty: a narrow socket's count starts again.
    fn reset_streak(&self, streak: usize) {
        if streak > 0 && streak < WIDEN_AFTER {
            self.streak.store(0, Ordering::Relaxed);
        }
    }

    fn store_meta(&self, batch: &mut RecvBatch, filled: &[quinn_udp::RecvMeta]) {
        let (_, meta) = batch.parts_mut();
        for (ours, theirs) in meta.iter_mut().zip(filled) {
            let destination = theirs
                .dst_ip
                .map_or(self.local, |ip| SocketAddr::new(ip, self.local.port()));
            *ours = RecvMeta {
                source: normalise(theirs.addr),
                destination,
                len: theirs.len,
                stride: theirs.stride,
            };
        }
        batch.set_filled(filled.len());
    }

    /// Sends a prefix of `transmits` in one system call (GSO when several consecutive
    /// datagrams go to one destination) and returns how many were consumed.
    ///
    /// `WouldBlock` when the send buffer is full and nothing was sent. Any other refusal
    /// drops the datagrams (traced) and counts them as consumed.
    pub fn send<S>(&self, socket: &S, transmits: &[Transmit]) -> io::Result<usize>
    where
        for<'a> UdpSockRef<'a>: From<&'a S>,
    {
        let Some(first) = transmits.first() else {
            return Ok(0);
        };
        let count = gso_run(transmits, self.state.max_gso_segments());
        let joined;
        let (contents, segment_size) = if count == 1 {
            (&first.payload[..], None)
        } else {
            joined = join_payloads(&transmits[..count]);
            (&joined[..], Some(first.payload.len()))
        };
        let transmit = quinn_udp::Transmit {
            destination: first.destination,
            ecn: None,
            contents,
            segment_size,
            src_ip: None,
        };
        match self.state.try_send(socket.into(), &transmit) {
            Ok(()) => Ok(count),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(e),
            Err(e) => {
                tracing::debug!(
                    local = %self.local, destination = %first.destination, count,
                    error = %e, "send failed, datagrams dropped"
                );
                Ok(count)
            }
        }
    }
}

/// How many leading transmits (at least one) can go out as one GSO send of at most
/// `max_segments` segments: same destination, equal sizes except a shorter last one, and
/// at most [`MAX_GSO_BYTES`] in total.
fn gso_run(transmits: &[Transmit], max_segments: usize) -> usize {
    let Some(first) = transmits.first() else {
        return 0;
    };
    let segment = first.payload.len();
    let max = max_segments.min(MAX_GSO_BYTES / segment.max(1)).max(1);
    let mut count = 1;
    for t in transmits.iter().skip(1).take(max - 1) {
        if t.destination != first.destination || t.payload.len() > segment {
            break;
        }
        count += 1;
        if t.payload.len() < segment {
            break;
        }
    }
    count
}

/// The payloads of `transmits` back to back, for one GSO send (one allocation, one
/// `memcpy` per datagram).
fn join_payloads(transmits: &[Transmit]) -> Vec<u8> {
    let total = transmits.iter().map(|t| t.payload.len()).sum();
    let mut joined = Vec::with_capacity(total);
    for t in transmits {
        joined.extend_from_slice(&t.payload);
    }
    joined
}

/// Whether a receive error is an after-effect of an earlier send (ICMP) or an interruption,
/// which says nothing about the socket's health.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// IPv4-mapped IPv6 sources (from dual-stack sockets) as plain IPv4.
fn normalise(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(port: u16, len: usize) -> Transmit {
        Transmit {
            source: SocketAddr::from(([127, 0, 0, 1], 1)),
            destination: SocketAddr::from(([127, 0, 0, 1], port)),
            payload: vec![0; len],
        }
    }

    #[test]
    fn gso_run_takes_equal_sizes_and_a_short_tail() {
        let ts = [t(9, 100), t(9, 100), t(9, 60), t(9, 100)];
        assert_eq!(gso_run(&ts, 64), 3);
    }

    #[test]
    fn gso_run_stops_at_another_destination_or_larger_datagram() {
        assert_eq!(gso_run(&[t(9, 100), t(8, 100)], 64), 1);
        assert_eq!(gso_run(&[t(9, 100), t(9, 100), t(9, 101)], 64), 2);
    }

    #[test]
    fn gso_run_respects_segment_and_byte_limits() {
        let ts = vec![t(9, 1000); 100];
        assert_eq!(gso_run(&ts, 10), 10);
        assert_eq!(gso_run(&ts, 1), 1);
        assert_eq!(gso_run(&ts, 1000), MAX_GSO_BYTES / 1000);
        assert_eq!(gso_run(&[], 10), 0);
    }

    #[test]
    fn joined_payloads_keep_order_and_bytes() {
        let mut a = t(9, 3);
        a.payload = vec![1, 2, 3];
        let mut b = t(9, 2);
        b.payload = vec![4, 5];
        assert_eq!(join_payloads(&[a, b]), vec![1, 2, 3, 4, 5]);
        assert!(join_payloads(&[]).is_empty());
    }

    /// A receiving socket with its `UdpIo` and batch, and a sender aimed at it.
    #[cfg(target_os = "linux")]
    fn loopback_pair() -> (std::net::UdpSocket, UdpIo, RecvBatch, std::net::UdpSocket) {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let receiver = crate::bind_socket(any, 1 << 20).expect("bind on loopback");
        let local = receiver.local_addr().expect("bound");
        let io = UdpIo::new(&receiver, local).expect("socket state");
        let batch = io.new_batch();
        let sender = std::net::UdpSocket::bind(any).expect("bind on loopback");
        sender.connect(local).expect("connect on loopback");
        (receiver, io, batch, sender)
    }

    /// Sends `count` datagrams, each one byte longer than the one before, so that GRO
    /// cannot coalesce them: every datagram takes a slot of its own.
    #[cfg(target_os = "linux")]
    fn send_growing(sender: &std::net::UdpSocket, count: usize) {
        for i in 0..count {
            sender.send(&vec![7; 100 + i]).expect("loopback send");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn receive_uses_one_slot_until_traffic_then_the_whole_batch() {
        let (receiver, io, mut batch, sender) = loopback_pair();
        assert!(batch.slots() > 1);
        send_growing(&sender, WIDEN_AFTER + 3);
        for _ in 0..WIDEN_AFTER {
            assert_eq!(io.recv(&receiver, &mut batch).expect("queued"), 1);
        }
        assert_eq!(io.recv(&receiver, &mut batch).expect("queued"), 3);
        let lengths: Vec<usize> = batch.datagrams().map(|d| d.payload.len()).collect();
        assert_eq!(
            lengths,
            [100 + WIDEN_AFTER, 101 + WIDEN_AFTER, 102 + WIDEN_AFTER]
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_empty_socket_restarts_the_count_towards_the_whole_batch() {
        let (receiver, io, mut batch, sender) = loopback_pair();
        send_growing(&sender, WIDEN_AFTER - 1);
        for _ in 0..WIDEN_AFTER - 1 {
            assert_eq!(io.recv(&receiver, &mut batch).expect("queued"), 1);
        }
        let empty = io.recv(&receiver, &mut batch).expect_err("nothing queued");
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
        send_growing(&sender, 3);
        for _ in 0..3 {
            assert_eq!(io.recv(&receiver, &mut batch).expect("queued"), 1);
        }
    }

    #[test]
    fn ipv4_mapped_sources_become_ipv4() {
        let mapped: SocketAddr = "[::ffff:192.0.2.1]:7".parse().expect("literal");
        assert_eq!(normalise(mapped), SocketAddr::from(([192, 0, 2, 1], 7)));
        let v6: SocketAddr = "[2001:db8::1]:7".parse().expect("literal");
        assert_eq!(normalise(v6), v6);
    }
}
