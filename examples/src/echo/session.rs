//! One echo session as a sans-IO object: the echo rule and the session's live figures for
//! a [`PeerConnection`] that a driver runs by hand (the mio backend, whose connections
//! live in one core `Endpoint`): the driver hands the session each event of its
//! connection, together with the connection, and sends what the endpoint outputs.

use super::backend::{BackendError, SctpRecovery, SessionStats};
use rtcpeer::Seed;
use rtcpeer::dtls::DtlsCertificate;
use rtcpeer::peer_connection::{
    ChannelId, Event, IceGatheringState, IceServer, IceTransportPolicy, PeerConnection,
    PeerConnectionState, RtcConfiguration, RtcSessionDescription,
};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// `a=max-message-size` the server advertises: what Chromium itself allows.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024;

/// The label of the channel the server opens when it is the offerer.
pub const SERVER_CHANNEL_LABEL: &str = "echo";

/// Bytes a channel may have queued for sending before further echoes wait.
const HIGH_WATER: usize = 1024 * 1024;
/// The queue level at which waiting echoes are sent again (`bufferedamountlow`).
const LOW_WATER: usize = 256 * 1024;

/// The echo rule and live figures of one peer connection, which the driver owns.
///
/// Backpressure: while a channel has 1 MiB (`HIGH_WATER`) queued, its echoes wait here,
/// and the bytes waiting are reported to the connection as unread, so they count against
/// the SCTP receive window: a client that sends faster than it reads the echoes is slowed
/// down, and no message is dropped nor memory grown beyond that window.
#[derive(Debug)]
pub struct EchoSession {
    stats: Arc<Mutex<SessionStats>>,
    /// Echoes waiting for room in their channel's send queue, per channel.
    waiting: HashMap<ChannelId, VecDeque<(bytes::Bytes, bool)>>,
    /// Bytes in `waiting`, as reported to the connection.
    waiting_bytes: usize,
}

/// ICE servers and the relay-only policy of every session, set once at start.
static ICE: std::sync::OnceLock<(Vec<IceServer>, bool)> = std::sync::OnceLock::new();

/// Sets the `iceServers` and `iceTransportPolicy: relay` of every session created from now
/// on (once per process; later calls are ignored).
pub fn set_ice_servers(servers: Vec<IceServer>, relay_only: bool) {
    let _ = ICE.set((servers, relay_only));
}

/// Extra trusted roots (PEM) for `turns:` servers of every session, set once at start.
static TURN_TLS_ROOTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Makes every session created from now on trust `roots` (PEM text) besides Mozilla's
/// roots for `turns:` servers (once per process; later calls are ignored).
pub fn set_turn_tls_roots(roots: Vec<String>) {
    let _ = TURN_TLS_ROOTS.set(roots);
}

/// The certificate every session presents, when the server shares one
/// (`--shared-certificate`).
static CERTIFICATE: std::sync::OnceLock<DtlsCertificate> = std::sync::OnceLock::new();

/// Makes every session created from now on present `certificate` (once per process; later
/// calls are ignored): each new session then skips its own key generation and
/// self-signing, and all sessions announce the same `a=fingerprint`.
pub fn set_shared_certificate(certificate: DtlsCertificate) {
    let _ = CERTIFICATE.set(certificate);
}

/// Parses `--ice-server` values: `stun:host[:port]`, `turn:host[:port]`,
/// `turn:host[:port]?transport=tcp`, `turns:host[:port]`, each TURN URL optionally with
/// inline credentials (`turn:user:password@host[:port]`); `user`/`password` apply to TURN
/// URLs without inline ones. The endpoint's drivers open the TCP/TLS connections.
pub fn parse_ice_server(
    url: &str,
    user: Option<&str>,
    password: Option<&str>,
) -> Result<IceServer, String> {
    let (scheme, rest) = url
        .split_once(':')
        .ok_or_else(|| format!("{url:?}: not an ICE server URL"))?;
    let (creds, host) = match rest.rsplit_once('@') {
        Some((c, h)) if scheme.starts_with("turn") => (Some(c), h),
        _ => (None, rest),
    };
    let (username, credential) = match creds.and_then(|c| c.split_once(':')) {
        Some((u, p)) => (Some(u.to_owned()), Some(p.to_owned())),
        None if scheme.starts_with("turn") => {
            (user.map(str::to_owned), password.map(str::to_owned))
        }
        None => (None, None),
    };
    Ok(IceServer {
        urls: vec![format!("{scheme}:{host}")],
        username,
        credential,
    })
}

/// The configuration of every echo session: `seed`, [`MAX_MESSAGE_SIZE`], the ICE servers
/// given to [`set_ice_servers`], and whether ICE runs as a lite agent (see
/// [`EchoConfig::ice_lite`](super::config::EchoConfig::ice_lite)), and the certificate given
/// to [`set_shared_certificate`], if any; a relay-only server runs full ICE, since only a
/// full agent allocates relayed candidates.
pub fn echo_config(seed: Seed, ice_lite: bool) -> RtcConfiguration {
    let (ice_servers, relay_only) = ICE.get().cloned().unwrap_or_default();
    RtcConfiguration {
        certificate: CERTIFICATE.get().cloned(),
        max_message_size: MAX_MESSAGE_SIZE,
        ice_lite: ice_lite && !relay_only,
        ice_servers,
        turn_tls_roots_pem: TURN_TLS_ROOTS.get().cloned().unwrap_or_default(),
        ice_transport_policy: if relay_only {
            IceTransportPolicy::Relay
        } else {
            IceTransportPolicy::All
        },
        ..RtcConfiguration::with_secret_seed(seed)
    }
}

fn internal(e: impl std::fmt::Display) -> BackendError {
    BackendError::Internal(e.to_string())
}

impl EchoSession {
    /// Makes `pc` (fresh, with its sockets) answer `offer`.
    pub fn answering(pc: &mut PeerConnection, offer: &str) -> Result<Self, BackendError> {
        pc.set_remote_description(RtcSessionDescription::offer(offer))
            .map_err(|e| BackendError::BadSdp(e.to_string()))?;
        super::media::prepare_answer(pc);
        let answer = pc
            .create_answer()
            .map_err(|e| BackendError::BadSdp(e.to_string()))?;
        pc.set_local_description(answer).map_err(internal)?;
        Ok(Self::of(pc))
    }

    /// Makes `pc` (fresh, with its sockets) offer one data channel ([`SERVER_CHANNEL_LABEL`]).
    pub fn offering(pc: &mut PeerConnection) -> Result<Self, BackendError> {
        pc.create_data_channel(SERVER_CHANNEL_LABEL, Default::default())
            .map_err(internal)?;
        let offer = pc.create_offer().map_err(internal)?;
        pc.set_local_description(offer).map_err(internal)?;
        Ok(Self::of(pc))
    }

    fn of(pc: &PeerConnection) -> Self {
        let mut stats = SessionStats::default();
        stats.set_state(pc.connection_state(), None);
        Self {
            stats: Arc::new(Mutex::new(stats)),
            waiting: HashMap::new(),
            waiting_bytes: 0,
        }
    }

    /// The live figures, shared with whoever serves them.
    pub fn stats(&self) -> Arc<Mutex<SessionStats>> {
        Arc::clone(&self.stats)
    }

    /// Acts on one event of `pc`, the session's connection: echoes messages and RTP,
    /// forwards keyframe requests and updates the figures.
    pub fn on_event(&mut self, pc: &mut PeerConnection, event: Event) {
        match event {
            Event::ChannelMessage { id, data, binary } => self.hold(pc, id, data, binary),
            Event::ChannelBufferedAmountLow(id) => self.release(pc, id),
            Event::Rtp(packet) => {
                let sent = super::media::echo_rtp(pc, &packet);
                self.lock().count_rtp(packet.payload_len, sent);
            }
            Event::KeyframeRequest {
                transceiver, kind, ..
            } => {
                super::media::forward_keyframe_request(pc, transceiver, kind);
            }
            Event::ConnectionStateChange(state) => {
                let pair = pc.data_path();
                self.lock().set_state(state, pair);
            }
            Event::ChannelOpen(id) => {
                if let Ok(mut channel) = pc.data_channel(id) {
                    channel.set_buffered_amount_low_threshold(LOW_WATER);
                }
                self.lock().channels = pc.data_channel_ids().len();
            }
            Event::ChannelClosed(id) => {
                if let Some(dropped) = self.waiting.remove(&id) {
                    let bytes: usize = dropped.iter().map(|(data, _)| data.len()).sum();
                    self.set_waiting_bytes(pc, self.waiting_bytes - bytes);
                }
                self.lock().channels = pc.data_channel_ids().len();
            }
            _ => {}
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SessionStats> {
        self.stats.lock().expect("stats lock is never poisoned")
    }

    /// Queues the echo of one message behind those already waiting on channel `id`, then
    /// sends what fits.
    fn hold(&mut self, pc: &mut PeerConnection, id: ChannelId, data: bytes::Bytes, binary: bool) {
        let len = data.len();
        self.waiting
            .entry(id)
            .or_default()
            .push_back((data, binary));
        self.set_waiting_bytes(pc, self.waiting_bytes + len);
        self.release(pc, id);
    }

    /// Sends waiting echoes of channel `id` while its send queue is below [`HIGH_WATER`].
    fn release(&mut self, pc: &mut PeerConnection, id: ChannelId) {
        let mut sent_bytes = 0;
        while pc
            .data_channel(id)
            .is_ok_and(|mut channel| channel.buffered_amount() < HIGH_WATER)
        {
            let Some((data, binary)) = self.waiting.get_mut(&id).and_then(VecDeque::pop_front)
            else {
                break;
            };
            sent_bytes += data.len();
            self.echo(pc, id, data, binary);
        }
        if self.waiting.get(&id).is_some_and(VecDeque::is_empty) {
            self.waiting.remove(&id);
        }
        if sent_bytes > 0 {
            self.set_waiting_bytes(pc, self.waiting_bytes - sent_bytes);
        }
    }

    fn set_waiting_bytes(&mut self, pc: &mut PeerConnection, bytes: usize) {
        self.waiting_bytes = bytes;
        pc.set_application_unread(bytes);
    }

    fn echo(&mut self, pc: &mut PeerConnection, id: ChannelId, data: bytes::Bytes, binary: bool) {
        let data_len = data.len();
        let sent = match pc.data_channel(id) {
            Ok(mut channel) if binary => channel.send_binary(data),
            Ok(mut channel) => match std::str::from_utf8(&data) {
                Ok(text) => channel.send_text(text),
                // Not UTF-8 although sent as text: echo the same bytes, as binary.
                Err(_) => channel.send_binary(data),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = &sent {
            tracing::debug!(%e, "echo: could not send the echo");
        }
        let sctp = SctpRecovery::of(pc.sctp_stats());
        let mut stats = self.lock();
        stats.count_echo(data_len, sent.is_ok());
        stats.sctp = sctp;
    }
}

/// Applies the client's answer to `pc`, a session made by [`EchoSession::offering`].
pub fn accept_answer(pc: &mut PeerConnection, answer: &str) -> Result<(), BackendError> {
    let description = RtcSessionDescription {
        sdp_type: rtcpeer::peer_connection::SdpType::Answer,
        sdp: answer.to_owned(),
    };
    pc.set_remote_description(description)
        .map_err(|e| BackendError::BadSdp(e.to_string()))
}

/// `pc`'s complete local description, once ICE gathering has finished.
pub fn gathered_sdp(pc: &PeerConnection) -> Option<String> {
    if pc.ice_gathering_state() != IceGatheringState::Complete {
        return None;
    }
    pc.local_description().map(|d| d.sdp)
}

/// Whether `pc` has ended (closed or failed) and can be freed.
pub fn is_finished(pc: &PeerConnection) -> bool {
    matches!(
        pc.connection_state(),
        PeerConnectionState::Closed | PeerConnectionState::Failed
    )
}

#[cfg(test)]
mod ice_server_flag_tests {
    use super::parse_ice_server;

    #[test]
    fn ice_server_flags_take_inline_or_separate_credentials() {
        let s = parse_ice_server("turn:alice:s3cret@127.0.0.1:3478", None, None).expect("url");
        assert_eq!(s.urls, ["turn:127.0.0.1:3478"]);
        assert_eq!(
            (s.username.as_deref(), s.credential.as_deref()),
            (Some("alice"), Some("s3cret"))
        );
        let s = parse_ice_server("turn:127.0.0.1", Some("u"), Some("p")).expect("url");
        assert_eq!(
            (s.username.as_deref(), s.credential.as_deref()),
            (Some("u"), Some("p"))
        );
        let s = parse_ice_server("turns:bob:pw@127.0.0.1:5349", None, None).expect("turns");
        assert_eq!(s.urls, ["turns:127.0.0.1:5349"]);
        assert_eq!(s.username.as_deref(), Some("bob"));
        let s = parse_ice_server("turn:127.0.0.1:3478?transport=tcp", Some("u"), Some("p"))
            .expect("tcp");
        assert_eq!(s.urls, ["turn:127.0.0.1:3478?transport=tcp"]);
        let s = parse_ice_server("stun:127.0.0.1:3478", Some("u"), Some("p")).expect("url");
        assert_eq!((s.urls.len(), s.username), (1, None));
        assert!(parse_ice_server("nonsense", None, None).is_err());
    }
}

#[cfg(test)]
mod seed_tests {
    use super::echo_config;
    use crate::echo::backend::os_seed;
    use rtcpeer::peer_connection::PeerConnection;

    /// `(ice-pwd, fingerprint)` of a fresh session's offer.
    fn secrets_of_a_new_session() -> (String, String) {
        let config = echo_config(os_seed().expect("OS random source"), false);
        let mut pc = PeerConnection::new(config, std::time::Instant::now()).expect("pc");
        pc.create_data_channel("s", Default::default())
            .expect("channel");
        let sdp = pc.create_offer().expect("offer").sdp;
        let attr = |name: &str| {
            sdp.lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .unwrap_or_else(|| panic!("{name} in {sdp}"))
                .to_owned()
        };
        (attr("a=ice-pwd:"), attr("a=fingerprint:"))
    }

    #[test]
    fn session_seeds_carry_all_256_os_bits() {
        let (one, two) = (os_seed().expect("seed"), os_seed().expect("seed"));
        // `Seed`'s `Debug` names its kind: 32 bytes, not a replayable 64-bit number.
        assert_eq!(format!("{one:?}"), "Seed(32 bytes, ..)");
        assert_ne!(one, two, "two draws from the OS gave the same seed");
    }

    #[test]
    fn two_sessions_share_no_ice_password_or_certificate() {
        let (a, b) = (secrets_of_a_new_session(), secrets_of_a_new_session());
        assert_ne!(a.0, b.0, "ice-pwd shared");
        assert_ne!(a.1, b.1, "certificate fingerprint shared");
    }
}
