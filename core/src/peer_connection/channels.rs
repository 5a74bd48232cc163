//! Data channels as the application sees them: stable [`ChannelId`]s (a channel exists
//! before its SCTP stream id is known) and the borrowed [`DataChannelHandle`].

use super::{ChannelState, PeerConnection, PeerConnectionError};
use crate::datachannel::{DataChannelError, DataChannelInit, DataChannels};
use bytes::Bytes;
use std::collections::BTreeMap;

/// Identifies one data channel of a [`PeerConnection`] for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelId(pub u32);

#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub label: String,
    pub init: DataChannelInit,
    /// The SCTP stream id, once the transport exists.
    pub stream: Option<u16>,
    /// State as last reported (the live state comes from the transport while it exists).
    pub state: ChannelState,
    pub low_threshold: usize,
}

/// The channel table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Channels {
    pub slots: BTreeMap<ChannelId, Slot>,
    pub by_stream: BTreeMap<u16, ChannelId>,
    next: u32,
    /// Bytes of [`Event::ChannelMessage`]s queued in the connection's events, not yet
    /// taken by `poll_output`.
    pub queued_message_bytes: usize,
    /// What the application last reported with `set_application_unread`.
    pub app_unread: usize,
}

impl Channels {
    pub fn insert(&mut self, slot: Slot) -> ChannelId {
        let id = ChannelId(self.next);
        self.next += 1;
        if let Some(s) = slot.stream {
            self.by_stream.insert(s, id);
        }
        self.slots.insert(id, slot);
        id
    }

    pub fn open_count(&self) -> usize {
        self.slots
            .values()
            .filter(|s| s.state != ChannelState::Closed)
            .count()
    }

    /// Creates on the transport every channel still waiting for it.
    pub fn attach(&mut self, dc: &mut DataChannels) {
        for (id, slot) in self.slots.iter_mut() {
            if slot.stream.is_some() || slot.state == ChannelState::Closed {
                continue;
            }
            match dc.create_channel(&slot.label, slot.init.clone()) {
                Ok(stream) => {
                    slot.stream = Some(stream);
                    self.by_stream.insert(stream, *id);
                    if let Ok(mut h) = dc.channel(stream) {
                        h.set_buffered_amount_low_threshold(slot.low_threshold);
                    }
                }
                Err(e) => {
                    tracing::debug!(?id, %e, "pc: channel could not be created on the transport");
                    slot.state = ChannelState::Closed;
                }
            }
        }
    }
}

impl PeerConnection {
    /// `createDataChannel`: a new channel. It opens once the transport is up (DCEP OPEN,
    /// or at once when `init.negotiated`). The first channel of a connection without a
    /// negotiated data m-line fires [`Event::NegotiationNeeded`](super::Event::NegotiationNeeded).
    ///
    /// Errors: closed connection, inconsistent `init`, too many channels.
    pub fn create_data_channel(
        &mut self,
        label: &str,
        init: DataChannelInit,
    ) -> Result<ChannelId, crate::Error> {
        if self.closed {
            return Err(PeerConnectionError::Closed.into());
        }
        if init.max_retransmits.is_some() && init.max_packet_life_time.is_some() {
            return Err(DataChannelError::InvalidInit(
                "maxRetransmits and maxPacketLifeTime are exclusive",
            )
            .into());
        }
        if init.negotiated && init.id.is_none() {
            return Err(DataChannelError::InvalidInit("negotiated requires an id").into());
        }
        if self.channels.open_count() >= self.config.max_channels {
            return Err(PeerConnectionError::TooManyChannels.into());
        }
        let mut slot = Slot {
            label: label.to_string(),
            init: init.clone(),
            stream: None,
            state: ChannelState::Connecting,
            low_threshold: 0,
        };
        if let Some(dc) = self.sctp.as_mut() {
            slot.stream = Some(dc.create_channel(label, init)?);
        }
        let id = self.channels.insert(slot);
        if !self.jsep.has_application() {
            self.jsep.want_application = true;
            self.update_negotiation_needed();
        }
        Ok(id)
    }

    /// Tells the connection how many bytes of received messages (taken from
    /// [`poll_output`](Self::poll_output)) the application still holds unread, summed over
    /// its channels. They count against the SCTP receive window, so a slow reader slows
    /// the peer down instead of growing memory, without stopping to read the network.
    pub fn set_application_unread(&mut self, bytes: usize) {
        self.channels.app_unread = bytes;
        self.report_unread();
    }

    /// Tells the data channel layer what is received but not yet read beyond its own
    /// queue: the messages waiting in our event queue plus what the application holds. Both
    /// count against the SCTP receive window, so that a window advertised while messages
    /// wait here cannot promise room they already take.
    pub(crate) fn report_unread(&mut self) {
        let unread = self.channels.app_unread + self.channels.queued_message_bytes;
        if let Some(dc) = self.sctp.as_mut() {
            dc.set_application_unread(unread);
        }
    }

    /// A handle on channel `id`, or an error if it never existed.
    pub fn data_channel(&mut self, id: ChannelId) -> Result<DataChannelHandle<'_>, crate::Error> {
        if !self.channels.slots.contains_key(&id) {
            return Err(PeerConnectionError::NoSuchChannel(id).into());
        }
        Ok(DataChannelHandle { pc: self, id })
    }

    /// Ids of every channel not yet closed, in creation order.
    pub fn data_channel_ids(&self) -> Vec<ChannelId> {
        self.channels
            .slots
            .iter()
            .filter(|(_, s)| s.state != ChannelState::Closed)
            .map(|(id, _)| *id)
            .collect()
    }
}

/// A short-lived handle on one data channel (the browser's `RTCDataChannel` methods).
/// What it sends leaves through [`PeerConnection::poll_output`].
#[derive(Debug)]
pub struct DataChannelHandle<'a> {
    pc: &'a mut PeerConnection,
    id: ChannelId,
}

impl DataChannelHandle<'_> {
    fn slot(&self) -> &Slot {
        self.pc
            .channels
            .slots
            .get(&self.id)
            .expect("handle made for an existing channel")
    }

    fn stream(&self) -> Option<u16> {
        self.slot().stream
    }

    /// The id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// `label`.
    pub fn label(&self) -> &str {
        &self.slot().label
    }

    /// The SCTP stream id (the browser's `id`), once known.
    pub fn stream_id(&self) -> Option<u16> {
        self.stream()
    }

    /// `readyState`.
    pub fn state(&self) -> ChannelState {
        self.slot().state
    }

    /// `send(string)`.
    pub fn send_text(&mut self, text: &str) -> Result<(), crate::Error> {
        self.with_channel(|h| h.send_text(text))
    }

    /// `send(ArrayBuffer)`.
    pub fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), crate::Error> {
        let data = data.into();
        self.with_channel(|h| h.send_binary(data))
    }

    /// `close()`: starts closing (stream reset); `ChannelClosed` follows.
    pub fn close(&mut self) -> Result<(), crate::Error> {
        if self.stream().is_none() || self.pc.sctp.is_none() {
            let id = self.id;
            let slot = self.pc.channels.slots.get_mut(&id).expect("exists");
            if slot.state != ChannelState::Closed {
                slot.state = ChannelState::Closed;
                self.pc.events.push_back(super::Event::ChannelClosed(id));
            }
            return Ok(());
        }
        self.with_channel(|h| h.close())
    }

    /// `bufferedAmount`: bytes queued and not yet sent.
    pub fn buffered_amount(&mut self) -> usize {
        self.with_channel(|h| Ok(h.buffered_amount())).unwrap_or(0)
    }

    /// `bufferedAmountLowThreshold` (default 0).
    pub fn buffered_amount_low_threshold(&self) -> usize {
        self.slot().low_threshold
    }

    /// Sets `bufferedAmountLowThreshold`: [`Event::ChannelBufferedAmountLow`](super::Event::ChannelBufferedAmountLow)
    /// fires when `bufferedAmount` falls from above it to at or below it.
    pub fn set_buffered_amount_low_threshold(&mut self, threshold: usize) {
        let id = self.id;
        if let Some(slot) = self.pc.channels.slots.get_mut(&id) {
            slot.low_threshold = threshold;
        }
        let _ = self.with_channel(|h| {
            h.set_buffered_amount_low_threshold(threshold);
            Ok(())
        });
    }

    fn with_channel<T>(
        &mut self,
        f: impl FnOnce(&mut crate::datachannel::DataChannel<'_>) -> Result<T, DataChannelError>,
    ) -> Result<T, crate::Error> {
        let state = self.state();
        let stream = self.stream();
        let (Some(stream), Some(dc)) = (stream, self.pc.sctp.as_mut()) else {
            return Err(DataChannelError::NotOpen {
                id: stream.unwrap_or(u16::MAX),
                state,
            }
            .into());
        };
        let mut h = dc.channel(stream)?;
        Ok(f(&mut h)?)
    }
}
