//! TLS for `turns:` (feature `tls`): a `rustls` client over bytes, with the pure-Rust
//! `rustls-graviola` crypto provider, shared by every adapter. It owns no socket: the
//! driver writes [`TlsClient::take_ciphertext`] to its TCP connection and gives what it
//! reads to [`TlsClient::read_ciphertext`], which returns the plaintext (TURN framing) for
//! [`PeerConnection::handle_turn_data`](crate::peer_connection::PeerConnection::handle_turn_data).
//!
//! Trust: Mozilla's roots (`webpki-roots`) plus the PEM roots the application configured
//! ([`RtcConfiguration::turn_tls_roots_pem`](crate::peer_connection::RtcConfiguration::turn_tls_roots_pem)),
//! the certificate checked for the URL's host (an IP literal for `turns:127.0.0.1`), which
//! is also the SNI. The validity period is checked against the wall clock the driver
//! passes in (the core reads no clock). The TLS randoms come from the provider's OS
//! source: TLS is not part of the replayable core.

use crate::turn::TurnError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Debug)]
struct FixedTime(UnixTime);

impl rustls::time_provider::TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(self.0)
    }
}

/// A TLS client session over bytes; see the [module documentation](self).
#[derive(Debug)]
pub struct TlsClient {
    conn: rustls::ClientConnection,
    connected: bool,
}

/// The trusted roots: Mozilla's plus `extra_pem` (PEM text, certificates only).
fn roots(extra_pem: &[String]) -> Result<rustls::RootCertStore, TurnError> {
    let mut store = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for pem in extra_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| {
                TurnError::Certificate(format!("configured root is not valid PEM: {e}"))
            })?;
            store.add(cert).map_err(|e| {
                TurnError::Certificate(format!("configured root is not usable: {e}"))
            })?;
        }
    }
    Ok(store)
}

/// A refused certificate says so; every other TLS failure is a TLS failure.
fn classify(e: rustls::Error) -> TurnError {
    match e {
        rustls::Error::InvalidCertificate(c) => TurnError::Certificate(format!("{c:?}")),
        rustls::Error::NoCertificatesPresented => {
            TurnError::Certificate("the server sent no certificate".into())
        }
        other => TurnError::Tls(other.to_string()),
    }
}

impl TlsClient {
    /// A session that will check the server's certificate for `server_name` against the
    /// default roots and `extra_roots_pem`, valid at `now`. Its ClientHello is ready in
    /// [`take_ciphertext`](Self::take_ciphertext).
    pub fn new(
        server_name: &str,
        extra_roots_pem: &[String],
        now: SystemTime,
    ) -> Result<Self, TurnError> {
        let since_epoch = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let config = rustls::ClientConfig::builder_with_details(
            Arc::new(rustls_graviola::default_provider()),
            Arc::new(FixedTime(UnixTime::since_unix_epoch(since_epoch))),
        )
        .with_safe_default_protocol_versions()
        .map_err(classify)?
        .with_root_certificates(roots(extra_roots_pem)?)
        .with_no_client_auth();
        let name = ServerName::try_from(server_name.to_string())
            .map_err(|e| TurnError::Tls(format!("bad server name {server_name:?}: {e}")))?;
        let mut conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(classify)?;
        // The driver bounds what it writes in (one message at a time, after the last
        // one's records went out), so rustls's own limit would only cut a large message.
        conn.set_buffer_limit(None);
        Ok(TlsClient {
            conn,
            connected: false,
        })
    }

    /// Whether the handshake completed (the certificate was accepted).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Bytes read from the TCP connection. Returns the plaintext they completed (may be
    /// empty), or why the session failed ([`TurnError::Certificate`] for a refused
    /// certificate, else [`TurnError::Tls`]); a failed session may still have an alert in
    /// [`take_ciphertext`](Self::take_ciphertext).
    pub fn read_ciphertext(&mut self, mut data: &[u8]) -> Result<Vec<u8>, TurnError> {
        let mut plain = Vec::new();
        while !data.is_empty() {
            let n = self
                .conn
                .read_tls(&mut data)
                .map_err(|e| TurnError::Tls(e.to_string()))?;
            if n == 0 {
                break;
            }
            self.conn.process_new_packets().map_err(classify)?;
            if !self.conn.is_handshaking() {
                self.connected = true;
            }
            loop {
                let mut buf = [0u8; 16 * 1024];
                match self.conn.reader().read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => plain.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(TurnError::Tls(e.to_string())),
                }
            }
        }
        Ok(plain)
    }

    /// Whether [`write_plaintext`](Self::write_plaintext) should take more now: connected,
    /// and no records wait in [`take_ciphertext`](Self::take_ciphertext).
    pub fn can_write(&self) -> bool {
        self.connected && !self.conn.wants_write()
    }

    /// Encrypts `data` (whole TURN messages) for [`take_ciphertext`](Self::take_ciphertext).
    pub fn write_plaintext(&mut self, data: &[u8]) -> Result<(), TurnError> {
        self.conn
            .writer()
            .write_all(data)
            .map_err(|e| TurnError::Tls(e.to_string()))
    }

    /// Appends what must go to the TCP connection (handshake, records, alerts) to `out`.
    pub fn take_ciphertext(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            match self.conn.write_tls(out) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    /// Starts closing (a close_notify alert for [`take_ciphertext`](Self::take_ciphertext)).
    pub fn close(&mut self) {
        self.conn.send_close_notify();
    }
}
