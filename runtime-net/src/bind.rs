//! Choosing local addresses and binding UDP sockets on them.

use rtcpeer::runtime::SocketConfig;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};

/// The local addresses `config` selects: its address list as given, or else the addresses
/// of every interface that is up, filtered by [`SocketConfig::wants`]. No duplicates.
///
/// Fails with `InvalidInput` when a listed address can never be bound (unspecified or
/// multicast), and with the OS error when interfaces cannot be enumerated.
pub fn local_addresses(config: &SocketConfig) -> io::Result<Vec<IpAddr>> {
    let candidates: Vec<IpAddr> = match &config.addresses {
        Some(list) => {
            if let Some(bad) = list.iter().find(|ip| !config.wants(**ip)) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{bad} cannot be bound as a host candidate address"),
                ));
            }
            list.clone()
        }
        None => if_addrs::get_if_addrs()?
            .into_iter()
            .filter(|iface| iface.is_oper_up() || iface.is_loopback())
            .map(|iface| iface.ip())
            .filter(|ip| config.wants(*ip))
            .collect(),
    };
    let mut out = Vec::with_capacity(candidates.len());
    for ip in candidates {
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    Ok(out)
}

/// Binds one non-blocking UDP socket on `addr`, asking for `buffer_size` bytes of kernel
/// receive and send buffer (a smaller size granted by the kernel is accepted). IPv6
/// sockets are IPv6-only, so an IPv4 socket on the same port can coexist.
pub fn bind_socket(addr: SocketAddr, buffer_size: usize) -> io::Result<UdpSocket> {
    bind_socket_with(addr, buffer_size, false)
}

/// [`bind_socket`], with `SO_REUSEPORT` set first when `reuse_port` (Unix; ignored
/// elsewhere): several sockets of this process may then bind the same address and port.
pub fn bind_socket_with(
    addr: SocketAddr,
    buffer_size: usize,
    reuse_port: bool,
) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    #[cfg(not(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    )))]
    let _ = reuse_port;
    for (what, result) in [
        ("receive", socket.set_recv_buffer_size(buffer_size)),
        ("send", socket.set_send_buffer_size(buffer_size)),
    ] {
        if let Err(e) = result {
            tracing::debug!(%addr, what, error = %e, "socket buffer size not applied");
        }
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    let socket: UdpSocket = socket.into();
    tracing::debug!(
        local = %socket.local_addr()?,
        requested = buffer_size,
        granted = socket2::SockRef::from(&socket).recv_buffer_size().unwrap_or(0),
        "bound UDP socket (receive buffer as the kernel reports it: Linux doubles the request, capped at twice net.core.rmem_max)"
    );
    Ok(socket)
}

/// Binds one socket per address of [`local_addresses`] on `config.port`.
///
/// Fails when no address qualifies (`AddrNotAvailable`) or when any bind fails (then no
/// socket stays open).
pub fn bind_sockets(config: &SocketConfig) -> io::Result<Vec<UdpSocket>> {
    let addresses = local_addresses(config)?;
    if addresses.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            "no local address matches the socket configuration",
        ));
    }
    addresses
        .into_iter()
        .map(|ip| {
            let addr = SocketAddr::new(ip, config.port);
            bind_socket_with(addr, config.buffer_size, config.reuse_port)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_addresses_are_taken_as_given_without_duplicates() {
        let lo = IpAddr::from([127, 0, 0, 1]);
        let config = SocketConfig::with_addresses([lo, lo]);
        assert_eq!(local_addresses(&config).expect("valid list"), vec![lo]);
    }

    #[test]
    fn enumeration_honours_the_loopback_switch() {
        let without = SocketConfig {
            ipv6: false,
            ..SocketConfig::default()
        };
        let found = local_addresses(&without).expect("enumerate");
        assert!(found.iter().all(|ip| !ip.is_loopback() && ip.is_ipv4()));
        let with = SocketConfig {
            include_loopback: true,
            ..without
        };
        let found = local_addresses(&with).expect("enumerate");
        assert!(found.contains(&IpAddr::from([127, 0, 0, 1])));
    }

    #[test]
    fn bound_socket_gets_large_buffers_where_the_kernel_allows() {
        let socket = bind_socket(SocketAddr::from(([127, 0, 0, 1], 0)), 4 << 20).expect("bind");
        let granted = socket2::SockRef::from(&socket)
            .recv_buffer_size()
            .expect("getsockopt");
        // Linux doubles the request for bookkeeping, capped at twice `rmem_max`; a cap
        // below 4 MiB is accepted, but the request must not be ignored outright.
        assert!(granted >= 200 * 1024, "granted {granted}");
    }
}
