//! What the simulator drives: anything that takes datagrams and time in and gives
//! datagrams and a next deadline out.

use crate::transmit::Transmit;
use std::net::SocketAddr;
use std::time::Instant;

/// A host on the simulated network, driven by the simulator's virtual clock.
///
/// The simulator calls [`Node::handle_receive`] for every datagram delivered to one of the
/// node's addresses and [`Node::handle_timeout`] when the virtual clock reaches the node's
/// deadline (an early call must be harmless). After each call it drains
/// [`Node::poll_transmit`] until `None` and then asks [`Node::poll_timeout`] for the next
/// deadline.
pub trait Node {
    /// A datagram arrived at `destination` (one of this node's addresses) from `source`.
    fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    );

    /// The virtual clock reached (or passed) the deadline this node asked for.
    fn handle_timeout(&mut self, now: Instant);

    /// The next datagram to put on the network, if any.
    fn poll_transmit(&mut self) -> Option<Transmit>;

    /// When this node next wants [`Node::handle_timeout`], if ever.
    fn poll_timeout(&self) -> Option<Instant>;
}
