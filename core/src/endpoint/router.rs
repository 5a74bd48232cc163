//! The routing table of an endpoint: which connection a received datagram belongs to.

use super::ConnectionHandle;
use crate::capacity::ShrinkWhenSparse;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;

/// Address routes kept per connection; learning one more forgets its oldest. A connection
/// sends from its few local sockets to the remote candidates it checks, which the ICE
/// agent bounds; this bounds the table against a peer that keeps changing addresses.
pub const MAX_ROUTES_PER_CONNECTION: usize = 256;

/// Routes datagrams to connections in O(1) each: by the 5-tuple (our socket, the peer's
/// address), learned from what each connection sends; for an unknown 5-tuple, by the
/// local-ufrag part of a STUN USERNAME (RFC 8445 section 7.2.2), through an index of every
/// connection's current local ufrag. Both lookups are hash-map look-ups, independent of
/// the number of connections.
///
/// Used by [`Endpoint`](super::Endpoint) and by the async endpoint of the runtime adapters.
#[derive(Debug, Default)]
pub struct Router {
    by_address: HashMap<(SocketAddr, SocketAddr), ConnectionHandle>,
    by_ufrag: HashMap<String, ConnectionHandle>,
    of_connection: HashMap<ConnectionHandle, ConnectionRoutes>,
}

#[derive(Debug, Default)]
struct ConnectionRoutes {
    ufrag: String,
    /// In the order learned, oldest first.
    addresses: Vec<(SocketAddr, SocketAddr)>,
}

impl Router {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `ufrag` as connection `h`'s local ufrag, replacing its previous one (after
    /// an ICE restart). Cheap when unchanged: call it after every drain of `h`.
    pub fn set_ufrag(&mut self, h: ConnectionHandle, ufrag: &str) {
        let routes = self.of_connection.entry(h).or_default();
        if routes.ufrag == ufrag {
            return;
        }
        let old = std::mem::replace(&mut routes.ufrag, ufrag.to_owned());
        if self.by_ufrag.get(&old) == Some(&h) {
            self.by_ufrag.remove(&old);
        }
        self.by_ufrag.insert(ufrag.to_owned(), h);
    }

    /// Connection `h` sends from our socket `local` to `remote`: datagrams from `remote`
    /// to `local` are routed to it.
    pub fn learn(&mut self, h: ConnectionHandle, local: SocketAddr, remote: SocketAddr) {
        let key = (local, remote);
        match self.by_address.entry(key) {
            Entry::Occupied(e) if *e.get() == h => return,
            Entry::Occupied(mut e) => {
                e.insert(h);
            }
            Entry::Vacant(e) => {
                e.insert(h);
            }
        }
        let routes = self.of_connection.entry(h).or_default();
        routes.addresses.push(key);
        if routes.addresses.len() > MAX_ROUTES_PER_CONNECTION {
            let oldest = routes.addresses.remove(0);
            if self.by_address.get(&oldest) == Some(&h) {
                self.by_address.remove(&oldest);
            }
        }
    }

    /// The connection a datagram from `source` to our socket `destination` belongs to:
    /// by its 5-tuple, else by the local ufrag of a STUN request's USERNAME (and the
    /// 5-tuple is learned). `None`: nobody's; drop it.
    pub fn route(
        &mut self,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) -> Option<ConnectionHandle> {
        if let Some(h) = self.by_address.get(&(destination, source)) {
            return Some(*h);
        }
        let view = crate::stun::StunView::new_checked(payload).ok()?;
        let local = view.username()?.split(':').next()?;
        let h = *self.by_ufrag.get(local)?;
        self.learn(h, destination, source);
        Some(h)
    }

    /// Forgets every route of connection `h`.
    pub fn remove(&mut self, h: ConnectionHandle) {
        let Some(routes) = self.of_connection.remove(&h) else {
            return;
        };
        if self.by_ufrag.get(&routes.ufrag) == Some(&h) {
            self.by_ufrag.remove(&routes.ufrag);
        }
        for key in routes.addresses {
            if self.by_address.get(&key) == Some(&h) {
                self.by_address.remove(&key);
            }
        }
        self.by_ufrag.shrink_when_sparse();
        self.by_address.shrink_when_sparse();
        self.of_connection.shrink_when_sparse();
    }

    /// Address routes currently known.
    pub fn address_routes(&self) -> usize {
        self.by_address.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 1], port))
    }

    #[test]
    fn learned_addresses_route_and_are_forgotten_with_their_connection() {
        let mut r = Router::new();
        let (a, b) = (ConnectionHandle(1), ConnectionHandle(2));
        r.learn(a, addr(1), addr(100));
        r.learn(b, addr(1), addr(200));
        assert_eq!(r.route(addr(100), addr(1), b"x"), Some(a));
        assert_eq!(r.route(addr(200), addr(1), b"x"), Some(b));
        r.remove(a);
        assert_eq!(r.route(addr(100), addr(1), b"x"), None);
        assert_eq!(r.route(addr(200), addr(1), b"x"), Some(b));
        assert_eq!(r.address_routes(), 1);
    }

    #[test]
    fn a_route_taken_over_by_another_connection_survives_the_first_ones_removal() {
        let mut r = Router::new();
        let (a, b) = (ConnectionHandle(1), ConnectionHandle(2));
        r.learn(a, addr(1), addr(100));
        r.learn(b, addr(1), addr(100));
        r.remove(a);
        assert_eq!(r.route(addr(100), addr(1), b"x"), Some(b));
    }

    #[test]
    fn routes_per_connection_are_bounded() {
        let mut r = Router::new();
        let h = ConnectionHandle(1);
        for port in 0..(MAX_ROUTES_PER_CONNECTION as u16 + 10) {
            r.learn(h, addr(1), addr(1000 + port));
        }
        assert_eq!(r.address_routes(), MAX_ROUTES_PER_CONNECTION);
        assert_eq!(r.route(addr(1000), addr(1), b"x"), None, "oldest forgotten");
    }

    #[test]
    fn a_changed_ufrag_replaces_the_old_one() {
        let mut r = Router::new();
        let h = ConnectionHandle(1);
        r.set_ufrag(h, "old");
        r.set_ufrag(h, "new");
        assert_eq!(r.by_ufrag.len(), 1);
        assert_eq!(r.by_ufrag.get("new"), Some(&h));
    }
}
