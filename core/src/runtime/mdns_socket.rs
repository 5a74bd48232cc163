//! The socket joined to the mDNS group that a driver opens, lazily, for a connection that
//! resolves remote `.local` candidates.
//!
//! The core sends its one-shot queries (RFC 6762 section 5.1) from its own sockets to
//! 224.0.0.251:5353. A responder that follows section 6.7 unicasts the answer back to that
//! source port, which the connection's socket receives anyway; many responders (Chrome's,
//! for one) multicast every answer to the group instead, and only a socket bound to port
//! 5353 that joined the group receives those. The driver opens that socket the first time
//! the core emits a transmit to the IPv4 group, on the interface of the socket the query
//! leaves from, and feeds what arrives on it from port 5353 to the core (other datagrams,
//! such as our own query looped back, cannot be answers and are not fed). A connection
//! that never sees a `.local` candidate opens nothing. A socket that cannot be opened (no
//! multicast route) is logged once, counted in the connection's `mdns_socket_errors`, and
//! not tried again; resolution goes on with unicast answers. IPv6 (`ff02::fb`) is not
//! joined.

use super::driver::SocketIo;
use super::{Datagram, Runtime};
use crate::Transmit;
use crate::mdns::{MDNS_IPV4, MDNS_PORT};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::task::{Context, Poll};

/// Receive batches per wake-up: answers are few; the rest waits for the next round.
const BATCHES: usize = 4;

/// The driver's mDNS socket: not needed yet, open, or failed for good.
#[derive(Default)]
pub(super) enum MdnsSocket {
    #[default]
    Unopened,
    Open(SocketIo),
    Failed,
}

impl std::fmt::Debug for MdnsSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unopened => "Unopened",
            Self::Open(_) => "Open",
            Self::Failed => "Failed",
        })
    }
}

/// Whether `t` is an mDNS query to the IPv4 group, and the interface it leaves from.
pub(super) fn query_interface(t: &Transmit) -> Option<Ipv4Addr> {
    if t.destination != SocketAddr::from((MDNS_IPV4, MDNS_PORT)) {
        return None;
    }
    match t.source.ip() {
        IpAddr::V4(ip) => Some(ip),
        IpAddr::V6(_) => None,
    }
}

impl MdnsSocket {
    /// Opens the socket if `t` is the first query to the group. Returns `Some(false)` when
    /// opening failed just now (the caller counts it on the connection), `Some(true)` when
    /// it opened, `None` when nothing was tried.
    pub(super) fn on_transmit(&mut self, runtime: &dyn Runtime, t: &Transmit) -> Option<bool> {
        if !matches!(self, Self::Unopened) {
            return None;
        }
        let interface = query_interface(t)?;
        match runtime.bind_mdns(interface) {
            Ok(socket) => {
                tracing::debug!(%interface, "mDNS socket joined 224.0.0.251 on port 5353");
                *self = Self::Open(SocketIo::new(socket));
                Some(true)
            }
            Err(e) => {
                tracing::warn!(%interface, error = %e, "mDNS socket not opened: only answers unicast to our query's source will resolve .local candidates");
                *self = Self::Failed;
                Some(false)
            }
        }
    }

    /// Reads what is queued on the socket and hands each datagram from port 5353 to
    /// `feed`; returns whether anything was read. A receive error closes the socket for
    /// good (traced): it is not the connection's.
    pub(super) fn poll_recv(
        &mut self,
        cx: &mut Context<'_>,
        mut feed: impl FnMut(Datagram<'_>),
    ) -> bool {
        let Self::Open(io) = self else {
            return false;
        };
        let mut progress = false;
        for _ in 0..BATCHES {
            match io.socket.poll_recv(cx, &mut io.batch) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => {
                    tracing::warn!(error = %e, "mDNS socket failed; closed");
                    *self = Self::Failed;
                    return true;
                }
                Poll::Pending => break,
            }
            progress = true;
            for d in io.batch.datagrams() {
                if d.source.port() == MDNS_PORT {
                    feed(d);
                }
            }
        }
        progress
    }
}
