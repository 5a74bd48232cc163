//! A UDP socket for a mio `Poll`, with batched receive and send.

use rtcpeer::Transmit;
use rtcpeer::runtime::{RecvBatch, SocketConfig};
use rtcpeer_net::UdpIo;
use std::io;
use std::net::SocketAddr;

/// A non-blocking UDP socket bound to one local address, to be registered with a mio
/// `Poll`, plus its receive batch.
///
/// mio readiness is edge-triggered: after a readable event, call [`recv`](Self::recv)
/// until it returns `Ok(None)`; after [`send`](Self::send) fails with `WouldBlock`, wait
/// for a writable event before sending again.
#[derive(Debug)]
pub struct MioUdpSocket {
    io: mio::net::UdpSocket,
    udp: UdpIo,
    batch: RecvBatch,
}

impl MioUdpSocket {
    /// Binds one socket per local address selected by `config`.
    pub fn bind_all(config: &SocketConfig) -> io::Result<Vec<Self>> {
        rtcpeer_net::bind_sockets(config)?
            .into_iter()
            .map(Self::from_std)
            .collect()
    }

    /// Wraps an already bound std socket (switched to non-blocking mode).
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        let local = socket.local_addr()?;
        let io = mio::net::UdpSocket::from_std(socket);
        let udp = UdpIo::new(&io, local)?;
        let batch = udp.new_batch();
        Ok(Self { io, udp, batch })
    }

    /// The bound address: the host candidate address and the `Transmit::source` that
    /// selects this socket.
    pub fn local_addr(&self) -> SocketAddr {
        self.udp.local_addr()
    }

    /// The event source to register with a `mio::Registry`.
    pub fn source(&mut self) -> &mut mio::net::UdpSocket {
        &mut self.io
    }

    /// One batched receive. `Ok(None)` when nothing more is queued (wait for the next
    /// readable event); `Ok(Some(batch))` holds at least one datagram.
    pub fn recv(&mut self) -> io::Result<Option<&RecvBatch>> {
        match self.udp.recv(&self.io, &mut self.batch) {
            Ok(_) => Ok(Some(&self.batch)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends a prefix of `transmits` in one system call and returns how many were
    /// consumed; `WouldBlock` when the send buffer is full (wait for a writable event).
    /// Datagrams refused for other reasons are dropped, traced and counted as consumed.
    pub fn send(&self, transmits: &[Transmit]) -> io::Result<usize> {
        self.udp.send(&self.io, transmits)
    }

    /// Sends all of `transmits`, returning how many went out before the send buffer filled
    /// up (then the rest must wait for a writable event).
    pub fn send_all(&self, transmits: &[Transmit]) -> io::Result<usize> {
        let mut done = 0;
        while done < transmits.len() {
            match self.send(&transmits[done..]) {
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}
