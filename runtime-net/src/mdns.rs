//! The mDNS multicast socket the adapters open for a connection that resolves remote
//! `.local` candidates.

use rtcpeer::mdns::{MDNS_IPV4, MDNS_PORT};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};

/// A non-blocking UDP socket bound to `0.0.0.0:5353` with `SO_REUSEADDR` and
/// `SO_REUSEPORT` (so it shares the port with the system's responder, Avahi or another
/// connection's socket), joined to 224.0.0.251 on the interface with address `interface`
/// (`0.0.0.0`: the one the kernel's route for the group names), with multicast loopback
/// on. It receives what responders multicast to the group: the answers a responder sends
/// there instead of (or besides) unicasting them to a one-shot query's source port.
///
/// Fails where the host has no multicast route or the interface cannot join the group
/// (a namespace with loopback only and no route to 224.0.0.0/4, for example).
pub fn bind_mdns_socket(interface: Ipv4Addr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, MDNS_PORT)).into())?;
    socket.join_multicast_v4(&MDNS_IPV4, &interface)?;
    socket.set_multicast_loop_v4(true)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two sockets share the port (as two connections' would); where the group cannot be
    /// joined (no multicast route) both fail alike, with an error rather than a panic.
    #[test]
    fn two_mdns_sockets_share_the_port_or_both_fail() {
        let a = bind_mdns_socket(Ipv4Addr::LOCALHOST);
        let b = bind_mdns_socket(Ipv4Addr::LOCALHOST);
        assert_eq!(a.is_ok(), b.is_ok(), "{a:?} {b:?}");
        if let (Ok(a), Ok(b)) = (a, b) {
            assert_eq!(a.local_addr().expect("bound").port(), MDNS_PORT);
            assert_eq!(b.local_addr().expect("bound").port(), MDNS_PORT);
        }
    }
}
