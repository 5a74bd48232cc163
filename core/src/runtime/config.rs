//! Which local addresses a driver binds its UDP sockets on.

use std::net::IpAddr;

/// Where and how a driver binds its UDP sockets.
///
/// By default a driver binds one socket on every address of every interface that is up,
/// except loopback and IPv6 link-local addresses (these need a scope and are of no use as
/// WebRTC host candidates), each on an ephemeral port, with 4 MiB kernel buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketConfig {
    /// Bind only on these addresses (each must be an address of a local interface, or
    /// a loopback address). `None`: every interface address.
    pub addresses: Option<Vec<IpAddr>>,
    /// Also bind on loopback addresses when enumerating interfaces. Ignored when
    /// `addresses` is given: a listed loopback address is always bound.
    pub include_loopback: bool,
    /// Bind IPv6 addresses as well as IPv4 ones when enumerating interfaces.
    pub ipv6: bool,
    /// The port to bind on every address; 0 lets the OS pick a free port per socket.
    pub port: u16,
    /// Requested kernel receive and send buffer size in bytes. The kernel may cap it (on
    /// Linux at `net.core.rmem_max` / `wmem_max`); a cap is not an error.
    pub buffer_size: usize,
    /// Set `SO_REUSEPORT` before binding (Unix), so that several sockets bind the same
    /// address and port: the kernel spreads received datagrams over them by the sender's
    /// address. The async endpoint uses it to give each of its driver tasks a socket of its
    /// own on the one published port. Ignored where the OS has no such option.
    pub reuse_port: bool,
}

impl SocketConfig {
    /// The default kernel buffer size: large enough to absorb bursts at hundreds of Mbit/s.
    pub const DEFAULT_BUFFER_SIZE: usize = 4 * 1024 * 1024;

    /// Binds only on the given addresses.
    pub fn with_addresses(addresses: impl IntoIterator<Item = IpAddr>) -> Self {
        Self {
            addresses: Some(addresses.into_iter().collect()),
            ..Self::default()
        }
    }

    /// Binds only on IPv4 loopback, 127.0.0.1: the configuration for tests and for peers
    /// on one machine.
    pub fn loopback() -> Self {
        Self::with_addresses([IpAddr::from([127, 0, 0, 1])])
    }

    /// Whether an enumerated interface address is to be bound under this configuration.
    pub fn wants(&self, ip: IpAddr) -> bool {
        if ip.is_unspecified() || ip.is_multicast() {
            return false;
        }
        if let Some(list) = &self.addresses {
            return list.contains(&ip);
        }
        match ip {
            IpAddr::V4(v4) => self.include_loopback || !v4.is_loopback(),
            IpAddr::V6(v6) => {
                let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
                self.ipv6 && !link_local && (self.include_loopback || !v6.is_loopback())
            }
        }
    }
}

impl Default for SocketConfig {
    fn default() -> Self {
        Self {
            addresses: None,
            include_loopback: false,
            ipv6: true,
            port: 0,
            buffer_size: Self::DEFAULT_BUFFER_SIZE,
            reuse_port: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn default_skips_loopback_and_link_local() {
        let c = SocketConfig::default();
        assert!(!c.wants(IpAddr::from([127, 0, 0, 1])));
        assert!(!c.wants(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(!c.wants("fe80::1".parse().expect("valid literal")));
        assert!(c.wants(IpAddr::from([192, 0, 2, 7])));
        assert!(c.wants("2001:db8::7".parse().expect("valid literal")));
    }

    #[test]
    fn include_loopback_adds_loopback() {
        let c = SocketConfig {
            include_loopback: true,
            ..SocketConfig::default()
        };
        assert!(c.wants(IpAddr::from([127, 0, 0, 1])));
    }

    #[test]
    fn address_list_restricts_and_admits_loopback() {
        let c = SocketConfig::loopback();
        assert!(c.wants(IpAddr::from([127, 0, 0, 1])));
        assert!(!c.wants(IpAddr::from([192, 0, 2, 7])));
    }

    #[test]
    fn unspecified_and_multicast_are_never_bound() {
        let c = SocketConfig::with_addresses([
            IpAddr::from([0, 0, 0, 0]),
            IpAddr::from([224, 0, 0, 1]),
        ]);
        assert!(!c.wants(IpAddr::from([0, 0, 0, 0])));
        assert!(!c.wants(IpAddr::from([224, 0, 0, 1])));
    }

    #[test]
    fn ipv6_can_be_turned_off() {
        let c = SocketConfig {
            ipv6: false,
            ..SocketConfig::default()
        };
        assert!(!c.wants("2001:db8::7".parse().expect("valid literal")));
    }
}
