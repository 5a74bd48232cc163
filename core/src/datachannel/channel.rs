//! Channel types of the API: init dictionary, state, events, and the borrowed
//! [`DataChannel`] handle.

use super::DataChannelError;
use super::channels::{DataChannels, Entry};
use bytes::Bytes;

/// How a channel is set up (the browser's `RTCDataChannelInit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChannelInit {
    /// Deliver in order (default `true`).
    pub ordered: bool,
    /// Give up on a message after this many milliseconds.
    pub max_packet_life_time: Option<u16>,
    /// Give up on a message after this many retransmissions.
    pub max_retransmits: Option<u16>,
    /// Sub-protocol name.
    pub protocol: String,
    /// Set up by the application on both sides (no DCEP); `id` is then required.
    pub negotiated: bool,
    /// Stream id (required with `negotiated`; otherwise chosen by DTLS role).
    pub id: Option<u16>,
    /// Priority as in RFC 8832 section 6.4 (128 very low, 256 low, 512 medium, 1024 high).
    pub priority: u16,
}

impl Default for DataChannelInit {
    fn default() -> Self {
        Self {
            ordered: true,
            max_packet_life_time: None,
            max_retransmits: None,
            protocol: String::new(),
            negotiated: false,
            id: None,
            priority: 256,
        }
    }
}

/// The browser's `RTCDataChannelState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelState {
    /// Waiting for the association (or for the peer, when negotiated).
    Connecting,
    /// Messages can be sent.
    Open,
    /// Close started; waiting for both stream directions to reset.
    Closing,
    /// Closed; the id may be reused.
    Closed,
}

/// Something the application should know, drained with [`DataChannels::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataChannelEvent {
    /// The SCTP association is up.
    Connected,
    /// The peer opened a channel (the browser's `datachannel` event); `Open` follows.
    Incoming(u16),
    /// The channel is open.
    Open(u16),
    /// A message arrived.
    Message {
        /// Channel id.
        id: u16,
        /// The message bytes (empty for an empty message).
        data: Bytes,
        /// `true` for binary, `false` for text (UTF-8 is not checked).
        binary: bool,
    },
    /// The channel's buffered amount fell to or below its low threshold.
    BufferedAmountLow(u16),
    /// The channel is closing.
    Closing(u16),
    /// The channel is closed.
    Closed(u16),
    /// The association ended; every channel is closed.
    Disconnected(crate::sctp::CloseReason),
}

/// A short-lived handle on one channel, from [`DataChannels::channel`].
#[derive(Debug)]
pub struct DataChannel<'a> {
    pub(super) dc: &'a mut DataChannels,
    pub(super) id: u16,
}

impl DataChannel<'_> {
    fn entry(&self) -> &Entry {
        self.dc
            .entry(self.id)
            .expect("handle made for an existing channel")
    }

    /// The stream id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.entry().label
    }

    /// The sub-protocol.
    pub fn protocol(&self) -> &str {
        &self.entry().init.protocol
    }

    /// The init dictionary it was created with (or that the peer's OPEN described).
    pub fn init(&self) -> &DataChannelInit {
        &self.entry().init
    }

    /// The state.
    pub fn state(&self) -> ChannelState {
        self.entry().state
    }

    /// Sends a text message (PPID 51, or 56 when empty).
    pub fn send_text(&mut self, text: &str) -> Result<(), DataChannelError> {
        self.dc
            .send(self.id, Bytes::copy_from_slice(text.as_bytes()), false)
    }

    /// Sends a binary message (PPID 53, or 57 when empty).
    pub fn send_binary(&mut self, data: Bytes) -> Result<(), DataChannelError> {
        self.dc.send(self.id, data, true)
    }

    /// Bytes queued and not yet sent.
    pub fn buffered_amount(&self) -> usize {
        self.dc.association().buffered_amount(self.id)
    }

    /// The low threshold for [`DataChannelEvent::BufferedAmountLow`].
    pub fn buffered_amount_low_threshold(&self) -> usize {
        self.entry().low_threshold
    }

    /// Sets the low threshold for [`DataChannelEvent::BufferedAmountLow`].
    pub fn set_buffered_amount_low_threshold(&mut self, threshold: usize) {
        self.dc.set_low_threshold(self.id, threshold);
    }

    /// Closes the channel: its stream is reset, then it becomes `Closed` on both sides.
    pub fn close(&mut self) -> Result<(), DataChannelError> {
        self.dc.close_channel(self.id)
    }
}
