//! One TURN connection's bytes, whatever socket carries them (feature `tls`): the part of
//! a driver's TCP/TLS connection to a TURN server that does not depend on the runtime.
//!
//! [`TurnStreamConn`] holds what the core asked to write ([`Event::TurnSend`]) as whole
//! messages (bounded), runs TLS for `turns:` ([`TlsClient`]), hands the driver the next
//! bytes for the socket ([`pending_write`](TurnStreamConn::pending_write) /
//! [`wrote`](TurnStreamConn::wrote)) and turns what the socket read into plaintext for
//! [`PeerConnection::handle_turn_data`]
//! ([`received`](TurnStreamConn::received)). The driver owns the socket: it connects it,
//! reads and writes it as far as it goes without blocking, and reports to the core what
//! this type says happened. The async driver and the mio event loop both use it, so the
//! TLS and queueing rules exist once.
//!
//! [`Event::TurnSend`]: crate::peer_connection::Event::TurnSend
//! [`PeerConnection::handle_turn_data`]: crate::peer_connection::PeerConnection::handle_turn_data

use super::tls::TlsClient;
use crate::turn::{TurnConnect, TurnConnectionId, TurnError, TurnTransport};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::SystemTime;

/// Messages queued for one connection before new ones are dropped (whole messages only:
/// a stream cannot lose bytes from its middle). The core bounds its side too.
pub const MAX_QUEUED_BYTES: usize = 4 << 20;

/// What a read completed; see [`TurnStreamConn::received`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StreamRead {
    /// The connection just became usable (TLS: the handshake finished): answer with
    /// `PeerConnection::handle_turn_connected` before handing over `plain`.
    pub connected: bool,
    /// Plaintext TURN framing for `PeerConnection::handle_turn_data` (may be empty).
    pub plain: Vec<u8>,
}

/// The socket-independent state of one TURN connection; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct TurnStreamConn {
    request: TurnConnect,
    tls: Option<TlsClient>,
    /// Told the core it is connected.
    reported: bool,
    /// Whole messages not yet on the wire (plaintext).
    queue: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    /// Bytes for the socket (ciphertext for TLS) and how much of them was written.
    wire: Vec<u8>,
    written: usize,
    /// Close once everything is written.
    closing: bool,
}

impl TurnStreamConn {
    /// The state of the connection the core asked for with `request`; the driver opens a
    /// TCP connection to [`server`](Self::server) and calls
    /// [`tcp_connected`](Self::tcp_connected) once it is up.
    pub fn new(request: TurnConnect) -> Self {
        Self {
            request,
            tls: None,
            reported: false,
            queue: VecDeque::new(),
            queued_bytes: 0,
            wire: Vec::new(),
            written: 0,
            closing: false,
        }
    }

    /// The core's id of the connection.
    pub fn id(&self) -> TurnConnectionId {
        self.request.id
    }

    /// The TURN server's address: where to connect.
    pub fn server(&self) -> SocketAddr {
        self.request.server
    }

    /// Whether the core was told the connection is up.
    pub fn is_connected(&self) -> bool {
        self.reported
    }

    /// The TCP connection is up. `Ok(true)`: the TURN connection is usable now (plain
    /// TCP) — answer `handle_turn_connected`; `Ok(false)`: the TLS handshake started
    /// (its ClientHello waits in [`pending_write`](Self::pending_write)); `Err`: TLS
    /// could not start (a bad configured root), report it with `handle_turn_failed`.
    /// `wall_clock` checks the server certificate's validity period.
    pub fn tcp_connected(&mut self, wall_clock: SystemTime) -> Result<bool, TurnError> {
        if self.request.transport != TurnTransport::Tls {
            self.reported = true;
            return Ok(true);
        }
        let mut tls = TlsClient::new(
            &self.request.server_name,
            &self.request.extra_roots_pem,
            wall_clock,
        )?;
        tls.take_ciphertext(&mut self.wire);
        self.tls = Some(tls);
        Ok(false)
    }

    /// Bytes the socket read. `Err`: the TLS session failed (a refused certificate is
    /// [`TurnError::Certificate`]); write out what [`pending_write`](Self::pending_write)
    /// still has (the alert) if convenient, then report the error and drop the connection.
    pub fn received(&mut self, data: &[u8]) -> Result<StreamRead, TurnError> {
        let plain = match self.tls.as_mut() {
            Some(tls) => {
                let result = tls.read_ciphertext(data);
                tls.take_ciphertext(&mut self.wire);
                result?
            }
            None => data.to_vec(),
        };
        let connected = !self.reported && self.tls.as_ref().is_some_and(TlsClient::is_connected);
        self.reported |= connected;
        Ok(StreamRead {
            connected,
            // After the core closed the connection it wants nothing more from it.
            plain: if self.closing { Vec::new() } else { plain },
        })
    }

    /// Why the connection is over when the socket reached its end (a read of 0 bytes).
    pub fn end_of_stream(&self) -> TurnError {
        match (&self.tls, self.reported) {
            (Some(_), false) => {
                TurnError::Tls("the server closed the connection during the handshake".into())
            }
            _ => TurnError::ConnectionClosed,
        }
    }

    /// Why the connection is over when a read or write failed with `error`: a connection
    /// that was up closed ([`TurnError::ConnectionClosed`]); else it could not be made.
    pub fn io_failed(&self, error: &std::io::Error) -> TurnError {
        if self.reported {
            TurnError::ConnectionClosed
        } else {
            TurnError::Connect(error.to_string())
        }
    }

    /// Whether a failure must be reported to the core: not when the core closed the
    /// connection itself.
    pub fn reports_failure(&self) -> bool {
        !self.closing
    }

    /// Queues `data` (whole framed messages from `Event::TurnSend`); dropped whole and
    /// traced past [`MAX_QUEUED_BYTES`].
    pub fn send(&mut self, data: Vec<u8>) {
        if self.queued_bytes + data.len() > MAX_QUEUED_BYTES {
            tracing::debug!(id = %self.request.id, "turn: connection send queue full, message dropped");
        } else {
            self.queued_bytes += data.len();
            self.queue.push_back(data);
        }
    }

    /// The core closed the connection (`Event::TurnClose`): what is queued still goes out
    /// (TLS: then a close_notify); drop the connection once [`is_finished`](Self::is_finished).
    pub fn close(&mut self) {
        self.closing = true;
        if let Some(tls) = self.tls.as_mut() {
            tls.close();
        }
    }

    /// Closing and everything written.
    pub fn is_finished(&self) -> bool {
        self.closing && self.written == self.wire.len() && self.queue.is_empty()
    }

    /// The next bytes for the socket, empty when there is nothing to write now. Write a
    /// prefix of them and say how much with [`wrote`](Self::wrote); call again until
    /// empty or the socket would block.
    pub fn pending_write(&mut self) -> Result<&[u8], TurnError> {
        if self.written == self.wire.len() {
            self.wire.clear();
            self.written = 0;
            self.refill()?;
        }
        Ok(&self.wire[self.written..])
    }

    /// `n` bytes of [`pending_write`](Self::pending_write) went to the socket.
    pub fn wrote(&mut self, n: usize) {
        self.written = (self.written + n).min(self.wire.len());
    }

    /// Refills the empty wire buffer: TLS records first; then one message, once the
    /// connection is up (TLS: once the last message's records are out).
    fn refill(&mut self) -> Result<(), TurnError> {
        let ready = self.reported && self.tls.as_ref().is_none_or(TlsClient::can_write);
        if ready && let Some(msg) = self.queue.pop_front() {
            self.queued_bytes -= msg.len();
            match self.tls.as_mut() {
                Some(tls) => tls.write_plaintext(&msg)?,
                None => {
                    self.wire = msg;
                    return Ok(());
                }
            }
        }
        if let Some(tls) = self.tls.as_mut() {
            tls.take_ciphertext(&mut self.wire);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::turn::TurnConnect;
    use std::sync::Arc;

    fn request(transport: TurnTransport) -> TurnConnect {
        TurnConnect {
            id: TurnConnectionId(3),
            server: "127.0.0.1:3478".parse().expect("addr"),
            transport,
            server_name: "127.0.0.1".into(),
            extra_roots_pem: Arc::from(Vec::new()),
        }
    }

    /// A fixed wall clock (2026-12-01): the core's tests read no clock.
    fn wall_clock() -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_083_200)
    }

    fn drain(c: &mut TurnStreamConn) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let bytes = c.pending_write().expect("write");
            if bytes.is_empty() {
                return out;
            }
            // Write in odd pieces, as a socket may take them.
            let n = bytes.len().min(4093);
            out.extend_from_slice(&bytes[..n]);
            c.wrote(n);
        }
    }

    #[test]
    fn tcp_messages_wait_for_the_connection_then_go_out_whole_and_in_order() {
        let mut c = TurnStreamConn::new(request(TurnTransport::Tcp));
        c.send(b"first".to_vec());
        c.send(b"second".to_vec());
        assert!(
            drain(&mut c).is_empty(),
            "nothing before the connection is up"
        );
        assert_eq!(c.tcp_connected(wall_clock()), Ok(true));
        assert_eq!(drain(&mut c), b"firstsecond");
        let read = c.received(b"abc").expect("tcp");
        assert_eq!(
            read,
            StreamRead {
                connected: false,
                plain: b"abc".to_vec()
            }
        );
        c.close();
        assert!(c.is_finished());
        assert!(!c.reports_failure());
    }

    #[test]
    fn the_send_queue_is_bounded_by_whole_messages() {
        let mut c = TurnStreamConn::new(request(TurnTransport::Tcp));
        c.send(vec![1; MAX_QUEUED_BYTES - 10]);
        c.send(vec![2; 11]); // would pass the bound: dropped whole
        c.send(vec![3; 10]);
        c.tcp_connected(wall_clock()).expect("tcp");
        let out = drain(&mut c);
        assert_eq!(out.len(), MAX_QUEUED_BYTES);
        assert_eq!(out.last(), Some(&3));
    }

    #[test]
    fn tls_starts_with_a_client_hello_and_sends_nothing_before_the_handshake() {
        let mut c = TurnStreamConn::new(request(TurnTransport::Tls));
        c.send(b"allocate".to_vec());
        assert_eq!(c.tcp_connected(wall_clock()), Ok(false));
        let hello = drain(&mut c);
        assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record");
        assert!(
            drain(&mut c).is_empty(),
            "the message waits for the handshake"
        );
        assert!(!c.is_connected());
        assert!(matches!(c.end_of_stream(), TurnError::Tls(_)));
        // Garbage from the "server" fails the session.
        assert!(
            c.received(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
                .is_err()
        );
    }
}
