//! [`DataChannels`]: the SCTP association plus the channels on it.

use super::channel::{ChannelState, DataChannel, DataChannelEvent, DataChannelInit};
use super::dcep::{ChannelType, DcepMessage};
use super::{
    DataChannelError, PPID_BINARY, PPID_BINARY_EMPTY, PPID_DCEP, PPID_STRING, PPID_STRING_EMPTY,
};
use crate::rng::Rng;
use crate::sctp::{Association, AssociationState, SctpConfig, SctpEvent, SendOptions};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Our DTLS role, which picks the parity of the stream ids we choose (RFC 8832 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtlsRole {
    /// DTLS client: even stream ids.
    Client,
    /// DTLS server: odd stream ids.
    Server,
}

/// Configuration of [`DataChannels`].
#[derive(Debug, Clone)]
pub struct DataChannelConfig {
    /// The association's settings (our max-message-size is `sctp.max_message_size`).
    pub sctp: SctpConfig,
    /// Our DTLS role.
    pub role: DtlsRole,
    /// The peer's `a=max-message-size` (RFC 8841); 0 means no limit from the peer.
    pub remote_max_message_size: usize,
}

impl DataChannelConfig {
    /// Defaults for a role: 256 KiB max-message-size both ways.
    pub fn new(role: DtlsRole) -> Self {
        Self {
            sctp: SctpConfig::default(),
            role,
            remote_max_message_size: 256 * 1024,
        }
    }
}

/// Counters of the data channel layer (the association's are in
/// [`Association::stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataChannelStats {
    /// Messages for streams without an open channel.
    pub messages_without_channel: u64,
    /// DCEP messages that did not parse or came at the wrong time.
    pub bad_dcep: u64,
    /// Messages with a PPID we do not deliver.
    pub unknown_ppid: u64,
}

/// One channel's state.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub label: String,
    pub init: DataChannelInit,
    pub state: ChannelState,
    /// DCEP ACK received (or not needed): unordered channels may now send unordered.
    pub acked: bool,
    pub low_threshold: usize,
    pub outgoing_reset: bool,
    pub incoming_reset: bool,
}

/// Data channels on one SCTP association, sans-IO.
///
/// Inputs: [`handle_receive`](Self::handle_receive) (SCTP packets from DTLS),
/// [`handle_timeout`](Self::handle_timeout). Commands: [`connect`](Self::connect),
/// [`create_channel`](Self::create_channel), [`channel`](Self::channel) for a handle.
/// Outputs, drained after every input or command: [`poll_transmit`](Self::poll_transmit)
/// (SCTP packets for DTLS), [`poll_event`](Self::poll_event), then
/// [`poll_timeout`](Self::poll_timeout).
#[derive(Debug, Clone)]
pub struct DataChannels {
    assoc: Association,
    role: DtlsRole,
    remote_max_message_size: usize,
    channels: BTreeMap<u16, Entry>,
    events: VecDeque<DataChannelEvent>,
    now: Instant,
    stats: DataChannelStats,
    /// Bytes of message events queued here, reported to the association's window.
    unread: usize,
    /// Bytes of delivered messages the application still holds unread (its own queues).
    app_unread: usize,
}

fn channel_type(init: &DataChannelInit) -> (ChannelType, u32) {
    let u = if init.ordered { 0 } else { 0x80 };
    match (init.max_retransmits, init.max_packet_life_time) {
        (Some(n), _) => (ChannelType(0x01 | u), u32::from(n)),
        (None, Some(ms)) => (ChannelType(0x02 | u), u32::from(ms)),
        (None, None) => (ChannelType(u), 0),
    }
}

fn init_from_open(
    channel_type: ChannelType,
    reliability: u32,
    priority: u16,
    protocol: String,
) -> DataChannelInit {
    let r = u16::try_from(reliability).unwrap_or(u16::MAX);
    DataChannelInit {
        ordered: !channel_type.unordered(),
        max_retransmits: (channel_type.0 & 0x7f == 0x01).then_some(r),
        max_packet_life_time: (channel_type.0 & 0x7f == 0x02).then_some(r),
        protocol,
        negotiated: false,
        id: None,
        priority,
    }
}

impl DataChannels {
    /// A new, unconnected set of channels. `now` is the current time.
    pub fn new(config: DataChannelConfig, rng: Rng, now: Instant) -> Self {
        Self {
            assoc: Association::new(config.sctp, rng),
            role: config.role,
            remote_max_message_size: config.remote_max_message_size,
            channels: BTreeMap::new(),
            events: VecDeque::new(),
            now,
            stats: DataChannelStats::default(),
            unread: 0,
            app_unread: 0,
        }
    }

    /// Starts the SCTP handshake (both peers do, as in WebRTC).
    pub fn connect(&mut self, now: Instant) -> Result<(), DataChannelError> {
        self.now = now;
        Ok(self.assoc.connect(now)?)
    }

    /// The association (for state and stats).
    pub fn association(&self) -> &Association {
        &self.assoc
    }

    /// The association, for commands that end it ([`Association::abort`],
    /// [`Association::shutdown`]); channel events follow on the next
    /// [`poll_event`](Self::poll_event).
    pub fn association_mut(&mut self) -> &mut Association {
        &mut self.assoc
    }

    /// Counters of this layer.
    pub fn stats(&self) -> &DataChannelStats {
        &self.stats
    }

    /// Sets the peer's max-message-size (from its SDP); 0 means unlimited.
    pub fn set_remote_max_message_size(&mut self, size: usize) {
        self.remote_max_message_size = size;
    }

    /// Ids of the channels that exist (not yet closed).
    pub fn channel_ids(&self) -> impl Iterator<Item = u16> + '_ {
        self.channels.keys().copied()
    }

    /// A handle on channel `id`.
    pub fn channel(&mut self, id: u16) -> Result<DataChannel<'_>, DataChannelError> {
        if !self.channels.contains_key(&id) {
            return Err(DataChannelError::NoSuchChannel(id));
        }
        Ok(DataChannel { dc: self, id })
    }

    pub(super) fn entry(&self, id: u16) -> Option<&Entry> {
        self.channels.get(&id)
    }

    /// Creates a channel; returns its stream id. It opens once the association is up
    /// (negotiated channels open at once then; others send DATA_CHANNEL_OPEN).
    pub fn create_channel(
        &mut self,
        label: &str,
        init: DataChannelInit,
    ) -> Result<u16, DataChannelError> {
        if init.max_retransmits.is_some() && init.max_packet_life_time.is_some() {
            return Err(DataChannelError::InvalidInit(
                "maxRetransmits and maxPacketLifeTime are exclusive",
            ));
        }
        if label.len() > 65535 || init.protocol.len() > 65535 {
            return Err(DataChannelError::InvalidInit(
                "label or protocol longer than 65535 bytes",
            ));
        }
        let id = match (init.negotiated, init.id) {
            (true, None) => return Err(DataChannelError::InvalidInit("negotiated requires an id")),
            (_, Some(id)) => id,
            (false, None) => self.free_id()?,
        };
        if id >= self.assoc.outbound_streams() || id == u16::MAX {
            return Err(DataChannelError::InvalidInit("id beyond the stream count"));
        }
        if self.channels.contains_key(&id) {
            return Err(DataChannelError::IdInUse(id));
        }
        self.channels.insert(
            id,
            Entry {
                label: label.to_owned(),
                init: DataChannelInit {
                    id: Some(id),
                    ..init
                },
                state: ChannelState::Connecting,
                acked: false,
                low_threshold: 0,
                outgoing_reset: false,
                incoming_reset: false,
            },
        );
        if self.assoc.state() == AssociationState::Established {
            self.start_channel(id);
        }
        Ok(id)
    }

    fn free_id(&self) -> Result<u16, DataChannelError> {
        let first = match self.role {
            DtlsRole::Client => 0,
            DtlsRole::Server => 1,
        };
        (first..self.assoc.outbound_streams())
            .step_by(2)
            .find(|id| !self.channels.contains_key(id))
            .ok_or(DataChannelError::NoFreeId)
    }

    /// Opens a channel on an established association.
    fn start_channel(&mut self, id: u16) {
        let Some(e) = self.channels.get_mut(&id) else {
            return;
        };
        if e.state != ChannelState::Connecting {
            return;
        }
        if !e.init.negotiated {
            let (channel_type, reliability) = channel_type(&e.init);
            let open = DcepMessage::Open {
                channel_type,
                priority: e.init.priority,
                reliability,
                label: e.label.clone(),
                protocol: e.init.protocol.clone(),
            };
            let sent = self.assoc.send(
                self.now,
                id,
                PPID_DCEP,
                open.to_bytes(),
                SendOptions::default(),
            );
            if let Err(err) = sent {
                tracing::debug!(%err, id, "datachannel: could not send OPEN");
                return;
            }
            tracing::debug!(id, label = %e.label, "datachannel: OPEN sent");
        } else {
            e.acked = true;
        }
        e.state = ChannelState::Open;
        self.events.push_back(DataChannelEvent::Open(id));
    }

    pub(super) fn send(
        &mut self,
        id: u16,
        data: Bytes,
        binary: bool,
    ) -> Result<(), DataChannelError> {
        let e = self
            .channels
            .get(&id)
            .ok_or(DataChannelError::NoSuchChannel(id))?;
        if e.state != ChannelState::Open {
            return Err(DataChannelError::NotOpen { id, state: e.state });
        }
        let limit = self.remote_max_message_size;
        if limit != 0 && data.len() > limit {
            return Err(DataChannelError::MessageTooLarge {
                size: data.len(),
                limit,
            });
        }
        let (ppid, payload) = match (data.is_empty(), binary) {
            (true, true) => (PPID_BINARY_EMPTY, Bytes::from_static(&[0])),
            (true, false) => (PPID_STRING_EMPTY, Bytes::from_static(&[0])),
            (false, true) => (PPID_BINARY, data),
            (false, false) => (PPID_STRING, data),
        };
        let opts = SendOptions {
            // Ordered until the DCEP ACK arrives (RFC 8832 section 6.6).
            unordered: !e.init.ordered && e.acked,
            max_retransmits: e.init.max_retransmits,
            lifetime: e
                .init
                .max_packet_life_time
                .map(|ms| Duration::from_millis(u64::from(ms))),
        };
        Ok(self.assoc.send(self.now, id, ppid, payload, opts)?)
    }

    pub(super) fn set_low_threshold(&mut self, id: u16, threshold: usize) {
        if let Some(e) = self.channels.get_mut(&id) {
            e.low_threshold = threshold;
        }
        self.assoc.set_buffered_amount_low_threshold(id, threshold);
    }

    pub(super) fn close_channel(&mut self, id: u16) -> Result<(), DataChannelError> {
        let e = self
            .channels
            .get_mut(&id)
            .ok_or(DataChannelError::NoSuchChannel(id))?;
        match e.state {
            ChannelState::Closing | ChannelState::Closed => return Ok(()),
            ChannelState::Connecting if self.assoc.state() != AssociationState::Established => {
                self.channels.remove(&id);
                self.events.push_back(DataChannelEvent::Closed(id));
                return Ok(());
            }
            _ => {}
        }
        e.state = ChannelState::Closing;
        self.events.push_back(DataChannelEvent::Closing(id));
        self.assoc.reset_streams(self.now, &[id])?;
        Ok(())
    }

    /// Feeds one SCTP packet (the payload of a DTLS application data record).
    pub fn handle_receive(&mut self, now: Instant, packet: impl Into<Bytes>) {
        self.now = now;
        self.assoc.handle_receive(now, packet);
        self.pump();
    }

    /// Handles expired timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.assoc.handle_timeout(now);
        self.pump();
    }

    /// The next SCTP packet to send over DTLS.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.now = now;
        let pkt = self.assoc.poll_transmit(now);
        self.pump();
        pkt
    }

    /// The next SCTP packet that carries no DATA (acknowledgements, control chunks), for a
    /// caller whose pacer holds DATA back; see [`Association::poll_control`].
    pub fn poll_control(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.now = now;
        let pkt = self.assoc.poll_control(now);
        self.pump();
        pkt
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DataChannelEvent> {
        self.pump();
        let ev = self.events.pop_front()?;
        if let DataChannelEvent::Message { data, .. } = &ev {
            self.unread -= data.len();
            self.report_unread();
        }
        Some(ev)
    }

    /// Tells the association how many bytes of messages already taken with
    /// [`poll_event`](Self::poll_event) the application still holds unread. They count
    /// against the SCTP receive window, so a slow reader pushes back on the peer while
    /// acknowledgements, heartbeats and everything else keep flowing.
    pub fn set_application_unread(&mut self, bytes: usize) {
        self.app_unread = bytes;
        self.report_unread();
    }

    fn report_unread(&mut self) {
        self.assoc
            .set_external_unread(self.unread.saturating_add(self.app_unread));
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.assoc.poll_timeout()
    }

    /// Turns association events into channel events.
    fn pump(&mut self) {
        while let Some(ev) = self.assoc.poll_event() {
            match ev {
                SctpEvent::Connected => {
                    self.events.push_back(DataChannelEvent::Connected);
                    let ids: Vec<u16> = self.channels.keys().copied().collect();
                    for id in ids {
                        self.start_channel(id);
                    }
                }
                SctpEvent::Message {
                    stream,
                    ppid,
                    payload,
                    ..
                } => self.on_message(stream, ppid, payload),
                SctpEvent::BufferedAmountLow(id) if self.channels.contains_key(&id) => {
                    self.events
                        .push_back(DataChannelEvent::BufferedAmountLow(id));
                }
                SctpEvent::IncomingStreamsReset(ids) => self.on_incoming_reset(&ids),
                SctpEvent::OutgoingStreamsReset(ids) => {
                    for id in ids {
                        if let Some(e) = self.channels.get_mut(&id) {
                            e.outgoing_reset = true;
                        }
                        self.maybe_closed(id);
                    }
                }
                SctpEvent::Closed(reason) => {
                    for (id, _) in std::mem::take(&mut self.channels) {
                        self.events.push_back(DataChannelEvent::Closed(id));
                    }
                    self.events
                        .push_back(DataChannelEvent::Disconnected(reason));
                }
                _ => {}
            }
        }
    }

    fn on_message(&mut self, id: u16, ppid: u32, payload: Bytes) {
        if ppid == PPID_DCEP {
            return self.on_dcep(id, &payload);
        }
        let Some(e) = self.channels.get_mut(&id) else {
            self.stats.messages_without_channel += 1;
            return;
        };
        if e.state != ChannelState::Open {
            self.stats.messages_without_channel += 1;
            return;
        }
        // Data on the stream means the peer got our OPEN (RFC 8832 section 6.6).
        e.acked = true;
        let (data, binary) = match ppid {
            PPID_STRING => (payload, false),
            PPID_BINARY => (payload, true),
            PPID_STRING_EMPTY => (Bytes::new(), false),
            PPID_BINARY_EMPTY => (Bytes::new(), true),
            _ => {
                self.stats.unknown_ppid += 1;
                return;
            }
        };
        self.unread += data.len();
        self.report_unread();
        self.events
            .push_back(DataChannelEvent::Message { id, data, binary });
    }

    fn on_dcep(&mut self, id: u16, payload: &[u8]) {
        match DcepMessage::parse(payload) {
            Ok(DcepMessage::Ack) => match self.channels.get_mut(&id) {
                Some(e) => {
                    tracing::debug!(id, "datachannel: ACK received");
                    e.acked = true;
                }
                None => self.stats.bad_dcep += 1,
            },
            Ok(DcepMessage::Open {
                channel_type,
                priority,
                reliability,
                label,
                protocol,
            }) => self.on_open(
                id,
                init_from_open(channel_type, reliability, priority, protocol),
                label,
            ),
            Err(_) => self.stats.bad_dcep += 1,
        }
    }

    fn on_open(&mut self, id: u16, init: DataChannelInit, label: String) {
        if self.channels.contains_key(&id) {
            self.stats.bad_dcep += 1;
            tracing::debug!(id, "datachannel: OPEN for a stream in use");
            return;
        }
        let ack = self.assoc.send(
            self.now,
            id,
            PPID_DCEP,
            DcepMessage::Ack.to_bytes(),
            SendOptions::default(),
        );
        if ack.is_err() {
            self.stats.bad_dcep += 1;
            return;
        }
        self.channels.insert(
            id,
            Entry {
                label,
                init: DataChannelInit {
                    id: Some(id),
                    ..init
                },
                state: ChannelState::Open,
                acked: true,
                low_threshold: 0,
                outgoing_reset: false,
                incoming_reset: false,
            },
        );
        tracing::debug!(id, "datachannel: OPEN received; ACK sent");
        self.events.push_back(DataChannelEvent::Incoming(id));
        self.events.push_back(DataChannelEvent::Open(id));
    }

    /// The peer reset its outgoing streams: close those channels, resetting ours in turn.
    fn on_incoming_reset(&mut self, ids: &[u16]) {
        for &id in ids {
            let Some(e) = self.channels.get_mut(&id) else {
                continue;
            };
            e.incoming_reset = true;
            if e.state != ChannelState::Closing {
                e.state = ChannelState::Closing;
                self.events.push_back(DataChannelEvent::Closing(id));
                if let Err(err) = self.assoc.reset_streams(self.now, &[id]) {
                    tracing::debug!(%err, id, "datachannel: could not reset outgoing stream");
                }
            }
            self.maybe_closed(id);
        }
    }

    fn maybe_closed(&mut self, id: u16) {
        let done = self
            .channels
            .get(&id)
            .is_some_and(|e| e.outgoing_reset && e.incoming_reset);
        if done {
            self.channels.remove(&id);
            self.events.push_back(DataChannelEvent::Closed(id));
        }
    }
}
