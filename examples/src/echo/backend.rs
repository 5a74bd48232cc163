//! What the echo server's HTTP layer needs from a WebRTC runtime, independent of which
//! adapter (tokio, smol, mio) drives the peer connections.

use rtcpeer::Seed;
use rtcpeer::ice::SelectedPair;
use rtcpeer::peer_connection::PeerConnectionState;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

/// How long ICE gathering may take before the offer or answer is refused.
pub const GATHER_TIMEOUT: Duration = Duration::from_secs(10);

/// A fresh seed for one peer connection (certificate, ICE credentials, DTLS randoms, ...):
/// all 32 bytes from the OS random source, as the runtime adapters seed theirs, so no
/// session's keys can be guessed from another's.
pub fn os_seed() -> Result<Seed, BackendError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| BackendError::Internal(format!("OS random source: {e}")))?;
    Ok(Seed::from_bytes(bytes))
}

/// A boxed, sendable future, as the backend's async methods return.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Identifies one session (one peer connection) of the server; printed in `Location` URLs.
///
/// 128 random bits from the OS ([`SessionId::random`]): the URL of a session is its only
/// credential (whoever knows it can read its figures or end it), so it must not be
/// guessable from another session's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u128);

impl SessionId {
    /// A fresh id from the OS random source.
    pub fn random() -> Result<Self, BackendError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)
            .map_err(|e| BackendError::Internal(format!("OS random source: {e}")))?;
        Ok(Self(u128::from_le_bytes(bytes)))
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl std::str::FromStr for SessionId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u128::from_str_radix(s, 16).map(SessionId)
    }
}

/// A new session and the SDP to hand back (an answer to the client's offer, or the server's
/// own offer when it is the offerer). The SDP is complete: gathering has finished.
#[derive(Debug, Clone)]
pub struct Created {
    /// The new session.
    pub id: SessionId,
    /// The complete local description.
    pub sdp: String,
}

/// Why a backend refused a request. Each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The client's SDP was rejected (400).
    #[error("invalid SDP: {0}")]
    BadSdp(String),
    /// No such session, or it has ended (404).
    #[error("no session {0}")]
    NoSession(SessionId),
    /// The session exists but is not waiting for this request (409).
    #[error("session {0} is not waiting for an answer")]
    WrongState(SessionId),
    /// The server is at its session limit (503).
    #[error("too many sessions (limit {0})")]
    Busy(usize),
    /// This client address is at its own session limit (429).
    #[error("too many sessions for {0} (limit {1} per client)")]
    ClientBusy(IpAddr, usize),
    /// Anything else that went wrong on the server side (500).
    #[error("{0}")]
    Internal(String),
}

/// Live figures of one session, served as JSON to the demo page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionStats {
    /// `connectionState`, in the browser's spelling.
    pub state: String,
    /// The candidate pair in use as `local -> remote` (like `getSelectedCandidatePair()`), if connected.
    pub selected_pair: Option<String>,
    /// Data channel messages and bytes received and echoed.
    pub messages_received: u64,
    /// Bytes of data channel payload received.
    pub bytes_received: u64,
    /// Messages sent (the echoes, plus anything the server sent itself).
    pub messages_sent: u64,
    /// Bytes of data channel payload sent.
    pub bytes_sent: u64,
    /// Open data channels.
    pub channels: usize,
    /// RTP packets received on the client's tracks.
    pub rtp_received: u64,
    /// RTP packets echoed back.
    pub rtp_echoed: u64,
    /// Payload bytes of the RTP packets received.
    pub rtp_bytes_received: u64,
    /// The SCTP association's loss-recovery counters, as of the last update.
    pub sctp: SctpRecovery,
}

/// How the session's SCTP association recovered from loss: what tells a slow message
/// that waited for the retransmission timer from one that was merely slow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SctpRecovery {
    /// Chunks resent after duplicate SACKs reported them missing.
    pub fast_retransmits: u64,
    /// Expiries of the retransmission timer (T3-rtx).
    pub t3_timeouts: u64,
    /// Chunks resent after such an expiry.
    pub timeout_retransmits: u64,
}

impl SctpRecovery {
    /// The counters of `stats`, zero while no association exists.
    pub fn of(stats: Option<&rtcpeer::sctp::SctpStats>) -> Self {
        stats.map_or_else(Self::default, |s| Self {
            fast_retransmits: s.fast_retransmits,
            t3_timeouts: s.t3_timeouts,
            timeout_retransmits: s.timeout_retransmits,
        })
    }
}

impl SessionStats {
    /// Counts one received RTP packet of `payload_len` bytes, and its echo if `echoed`.
    pub fn count_rtp(&mut self, payload_len: usize, echoed: bool) {
        self.rtp_received += 1;
        self.rtp_bytes_received += payload_len as u64;
        self.rtp_echoed += u64::from(echoed);
    }

    /// Counts one received message of `len` bytes, and its echo if `echoed`.
    pub fn count_echo(&mut self, len: usize, echoed: bool) {
        let len = len as u64;
        self.messages_received += 1;
        self.bytes_received += len;
        if echoed {
            self.messages_sent += 1;
            self.bytes_sent += len;
        }
    }

    /// Records a `connectionState` change and the selected pair at that moment.
    /// A failure is logged as a warning with what usually causes it, so that the server
    /// says why a browser shows "failed".
    pub fn set_state(&mut self, state: PeerConnectionState, pair: Option<SelectedPair>) {
        if state == PeerConnectionState::Failed {
            tracing::warn!(
                "echo: a session failed (ICE found no working candidate pair, or DTLS failed); \
                 a browser on this machine needs loopback candidates to reach 127.0.0.1 \
                 (see the README), RUST_LOG=rtcpeer=debug shows the checks"
            );
        } else {
            tracing::debug!(state = state_name(state), "echo: session state");
        }
        self.state = state_name(state).to_owned();
        self.selected_pair = pair.map(|p| format!("{} -> {}", p.local, p.remote));
    }

    /// The stats as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "state": self.state,
            "selectedPair": self.selected_pair,
            "messagesReceived": self.messages_received,
            "bytesReceived": self.bytes_received,
            "messagesSent": self.messages_sent,
            "bytesSent": self.bytes_sent,
            "channels": self.channels,
            "rtpReceived": self.rtp_received,
            "rtpEchoed": self.rtp_echoed,
            "rtpBytesReceived": self.rtp_bytes_received,
            "sctpFastRetransmits": self.sctp.fast_retransmits,
            "sctpT3Timeouts": self.sctp.t3_timeouts,
            "sctpTimeoutRetransmits": self.sctp.timeout_retransmits,
        })
    }
}

/// `connectionState` as the browser spells it.
pub fn state_name(state: PeerConnectionState) -> &'static str {
    match state {
        PeerConnectionState::New => "new",
        PeerConnectionState::Connecting => "connecting",
        PeerConnectionState::Connected => "connected",
        PeerConnectionState::Disconnected => "disconnected",
        PeerConnectionState::Failed => "failed",
        PeerConnectionState::Closed => "closed",
        _ => "unknown",
    }
}

/// The echo server's sessions, driven by one runtime adapter.
///
/// Contract for implementations: every session echoes each data channel message back on the
/// channel it came in on, text as text and binary as binary; a session is freed (and stops
/// counting in [`session_count`](Self::session_count)) once it is closed or has failed.
pub trait SessionBackend: Send + Sync + 'static {
    /// Answers the offer of the client at `client`. Resolves once ICE gathering is
    /// complete, so the answer carries every host candidate (non-trickle).
    fn answer_offer(
        &self,
        offer: String,
        client: IpAddr,
    ) -> BoxFuture<Result<Created, BackendError>>;

    /// Starts a session for the client at `client` with the server as offerer (one data
    /// channel, `echo`). Resolves with the complete offer;
    /// [`accept_answer`](Self::accept_answer) finishes it.
    fn create_offer(&self, client: IpAddr) -> BoxFuture<Result<Created, BackendError>>;

    /// Applies the client's answer to a session made by [`create_offer`](Self::create_offer).
    fn accept_answer(&self, id: SessionId, answer: String) -> BoxFuture<Result<(), BackendError>>;

    /// Closes a session. `false` if there is no such session.
    fn close(&self, id: SessionId) -> bool;

    /// Live figures of a session, `None` if there is no such session.
    fn stats(&self, id: SessionId) -> Option<SessionStats>;

    /// Sessions currently alive (not yet closed or failed).
    fn session_count(&self) -> usize;
}
