//! One echo session as a sans-IO object: a [`PeerConnection`] plus the echo rule and the
//! session's live figures, for a driver that runs the core by hand (the mio backend): it
//! feeds the session datagrams and timeouts and sends what [`EchoSession::drain`] hands out.

use super::backend::{BackendError, SessionStats};
use rtcpeer::Transmit;
use rtcpeer::peer_connection::{
    ChannelId, Event, IceGatheringState, Input, Output, PeerConnection, PeerConnectionState,
    RtcConfiguration, RtcSessionDescription,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// `a=max-message-size` the server advertises: what Chromium itself allows.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024;

/// The label of the channel the server opens when it is the offerer.
pub const SERVER_CHANNEL_LABEL: &str = "echo";

/// A peer connection that echoes every data channel message back on its channel.
#[derive(Debug)]
pub struct EchoSession {
    pc: PeerConnection,
    stats: Arc<Mutex<SessionStats>>,
}

/// The configuration of every echo session: `seed`, [`MAX_MESSAGE_SIZE`] and whether ICE
/// runs as a lite agent (see [`EchoConfig::ice_lite`](super::config::EchoConfig::ice_lite)).
pub fn echo_config(seed: u64, ice_lite: bool) -> RtcConfiguration {
    RtcConfiguration {
        max_message_size: MAX_MESSAGE_SIZE,
        ice_lite,
        ..RtcConfiguration::with_seed(seed)
    }
}

fn internal(e: impl std::fmt::Display) -> BackendError {
    BackendError::Internal(e.to_string())
}

impl EchoSession {
    /// A session that answers `offer`, with one UDP socket bound at `socket`.
    pub fn answering(
        offer: &str,
        socket: SocketAddr,
        config: RtcConfiguration,
        now: Instant,
    ) -> Result<Self, BackendError> {
        let mut pc = PeerConnection::new(config, now).map_err(internal)?;
        pc.add_local_socket(now, socket).map_err(internal)?;
        pc.set_remote_description(RtcSessionDescription::offer(offer))
            .map_err(|e| BackendError::BadSdp(e.to_string()))?;
        let answer = pc
            .create_answer()
            .map_err(|e| BackendError::BadSdp(e.to_string()))?;
        pc.set_local_description(answer).map_err(internal)?;
        Ok(Self::with(pc))
    }

    /// A session that offers one data channel ([`SERVER_CHANNEL_LABEL`]).
    pub fn offering(
        socket: SocketAddr,
        config: RtcConfiguration,
        now: Instant,
    ) -> Result<Self, BackendError> {
        let mut pc = PeerConnection::new(config, now).map_err(internal)?;
        pc.add_local_socket(now, socket).map_err(internal)?;
        pc.create_data_channel(SERVER_CHANNEL_LABEL, Default::default())
            .map_err(internal)?;
        let offer = pc.create_offer().map_err(internal)?;
        pc.set_local_description(offer).map_err(internal)?;
        Ok(Self::with(pc))
    }

    fn with(pc: PeerConnection) -> Self {
        let mut stats = SessionStats::default();
        stats.set_state(pc.connection_state(), None);
        Self {
            pc,
            stats: Arc::new(Mutex::new(stats)),
        }
    }

    /// Applies the client's answer to an [`offering`](Self::offering) session.
    pub fn accept_answer(&mut self, answer: &str) -> Result<(), BackendError> {
        let description = RtcSessionDescription {
            sdp_type: rtcpeer::peer_connection::SdpType::Answer,
            sdp: answer.to_owned(),
        };
        self.pc
            .set_remote_description(description)
            .map_err(|e| BackendError::BadSdp(e.to_string()))
    }

    /// The complete local description, once ICE gathering has finished.
    pub fn gathered_sdp(&self) -> Option<String> {
        if self.pc.ice_gathering_state() != IceGatheringState::Complete {
            return None;
        }
        self.pc.local_description().map(|d| d.sdp)
    }

    /// Whether the session has ended (closed or failed) and can be freed.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.pc.connection_state(),
            PeerConnectionState::Closed | PeerConnectionState::Failed
        )
    }

    /// Whether the connection is closed (by either side), as opposed to failed.
    pub fn is_closed(&self) -> bool {
        self.pc.connection_state() == PeerConnectionState::Closed
    }

    /// Whether the connection is up (ICE and DTLS connected).
    pub fn is_connected(&self) -> bool {
        self.pc.connection_state() == PeerConnectionState::Connected
    }

    /// The live figures, shared with whoever serves them.
    pub fn stats(&self) -> Arc<Mutex<SessionStats>> {
        Arc::clone(&self.stats)
    }

    /// A datagram arrived at `destination` (our socket) from `source`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) {
        let input = Input::Receive {
            source,
            destination,
            payload,
        };
        self.pc.handle_input(now, input);
    }

    /// The deadline from the last [`drain`](Self::drain) has passed (early calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.pc.handle_timeout(now);
    }

    /// Whether an ICE connectivity check has arrived (the client is really there).
    pub fn saw_check(&self) -> bool {
        self.pc.stats().ice.checks_received > 0
    }

    /// The connection's counters.
    pub fn pc_stats(&self) -> rtcpeer::peer_connection::PeerConnectionStats {
        self.pc.stats()
    }

    /// Closes the peer connection.
    pub fn close(&mut self) {
        self.pc.close();
    }

    /// Runs the poll loop: hands every datagram to `send`, echoes messages, updates the
    /// figures, and returns the instant by which [`handle_timeout`](Self::handle_timeout)
    /// must be called.
    pub fn drain(&mut self, send: &mut impl FnMut(Transmit)) -> Instant {
        loop {
            match self.pc.poll_output() {
                Output::Transmit(t) => send(t),
                Output::Event(e) => self.on_event(e),
                Output::Timeout(at) => return at,
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::ChannelMessage { id, data, binary } => self.echo(id, data, binary),
            Event::ConnectionStateChange(state) => {
                let pair = self.pc.data_path();
                self.stats
                    .lock()
                    .expect("stats lock is never poisoned")
                    .set_state(state, pair);
            }
            Event::ChannelOpen(_) | Event::ChannelClosed(_) => {
                let open = self.pc.data_channel_ids().len();
                self.stats
                    .lock()
                    .expect("stats lock is never poisoned")
                    .channels = open;
            }
            _ => {}
        }
    }

    fn echo(&mut self, id: ChannelId, data: bytes::Bytes, binary: bool) {
        let data_len = data.len();
        let sent = match self.pc.data_channel(id) {
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
        self.stats
            .lock()
            .expect("stats lock is never poisoned")
            .count_echo(data_len, sent.is_ok());
    }
}
