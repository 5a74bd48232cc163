//! Association counters.

/// Counters of one association; read with [`Association::stats`](super::Association::stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SctpStats {
    /// Packets accepted.
    pub packets_received: u64,
    /// Packets produced.
    pub packets_sent: u64,
    /// Packets dropped for a bad CRC-32c.
    pub dropped_bad_checksum: u64,
    /// Packets dropped for a wrong verification tag or port.
    pub dropped_bad_vtag: u64,
    /// Packets or chunks dropped as malformed.
    pub dropped_malformed: u64,
    /// Chunks of unknown type seen.
    pub unknown_chunks: u64,
    /// Chunks that arrived in a state that does not expect them.
    pub unexpected_chunks: u64,
    /// Cookies refused (bad MAC, stale, wrong tag).
    pub bad_cookies: u64,
    /// DATA chunks sent for the first time.
    pub data_chunks_sent: u64,
    /// DATA chunks received (new).
    pub data_chunks_received: u64,
    /// Duplicate DATA chunks received.
    pub duplicate_data_received: u64,
    /// DATA chunks dropped by the receiver (window full, too far ahead, bad stream).
    pub data_dropped: u64,
    /// Chunks retransmitted after fast loss detection.
    pub fast_retransmits: u64,
    /// T3-rtx expirations.
    pub t3_timeouts: u64,
    /// Chunks retransmitted after a T3 expiry.
    pub timeout_retransmits: u64,
    /// Messages abandoned by the partial reliability policy.
    pub messages_abandoned: u64,
    /// SACKs sent.
    pub sacks_sent: u64,
    /// SACKs received.
    pub sacks_received: u64,
    /// Messages delivered to the application.
    pub messages_delivered: u64,
}
