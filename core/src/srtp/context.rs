//! [`SrtpContext`]: one direction of an SRTP session, with per-SSRC index and replay state.

use super::header::{rtcp_ssrc, rtp_header};
use super::keys::SessionKeys;
use super::replay::{ReplayWindow, Verdict, estimate_index};
use super::transform::{RTCP_E_FLAG, rtcp_trailer_len, rtp_tag_len};
use super::{SrtpConfig, SrtpError, SrtpProfile};
use std::collections::BTreeMap;

/// Smallest replay window RFC 3711 §3.3.2 allows.
const MIN_REPLAY_WINDOW: u16 = 64;
/// Highest SRTCP index (31 bits).
const MAX_RTCP_INDEX: u32 = !RTCP_E_FLAG;

/// One direction of one SRTP session: every SSRC protected (or unprotected) with one master key
/// and salt. Session keys are derived once per context (and scheduled once), never per packet:
/// at the first packet, so that a context that never sees one costs little.
///
/// A context keeps, per SSRC, what it has sent (highest SRTP index, next SRTCP index) and
/// what it has received (replay windows whose highest index gives the rollover counter).
/// At most [`SrtpConfig::max_streams`] SSRCs are tracked; there is no eviction.
///
/// Protecting the same RTP sequence number twice reuses its index (and keystream): send
/// retransmissions with the same bytes or on an RTX stream.
#[derive(Clone)]
pub struct SrtpContext {
    profile: SrtpProfile,
    keys: SessionKeys,
    replay_window: u16,
    max_streams: usize,
    streams: BTreeMap<u32, Stream>,
}

impl core::fmt::Debug for SrtpContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SrtpContext")
            .field("profile", &self.profile)
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

/// What one context knows about one SSRC.
#[derive(Debug, Clone, Default)]
struct Stream {
    /// Highest SRTP packet index protected.
    rtp_sent: Option<u64>,
    /// Next SRTCP index to protect.
    rtcp_next: u32,
    /// SRTP indices received.
    rtp_received: Option<ReplayWindow>,
    /// SRTCP indices received.
    rtcp_received: Option<ReplayWindow>,
}

impl SrtpContext {
    /// A context for `profile` with its master key and salt (16 or 32 and 14 or 12 bytes,
    /// as the profile says).
    ///
    /// Errors: `UnsupportedProfile`, `KeyLength` for a key or salt of the wrong length,
    /// `InvalidConfig` for a replay window below 64 or `max_streams` of 0.
    pub fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
        config: &SrtpConfig,
    ) -> Result<Self, SrtpError> {
        if config.replay_window < MIN_REPLAY_WINDOW || config.max_streams == 0 {
            return Err(SrtpError::InvalidConfig);
        }
        Ok(Self {
            profile,
            keys: SessionKeys::new(profile, master_key, master_salt)?,
            replay_window: config.replay_window,
            max_streams: config.max_streams,
            streams: BTreeMap::new(),
        })
    }

    /// The protection profile.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// How many SSRCs this context tracks.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Bytes [`protect_rtp`](Self::protect_rtp) appends (the tag).
    pub fn rtp_overhead(&self) -> usize {
        rtp_tag_len(self.profile)
    }

    /// Bytes [`protect_rtcp`](Self::protect_rtcp) appends (the tag and `E|index`).
    pub fn rtcp_overhead(&self) -> usize {
        rtcp_trailer_len(self.profile)
    }

    /// In place: encrypts the payload of the RTP packet in `packet` and appends the tag.
    ///
    /// The packet index continues the SSRC's sequence: the rollover counter steps when the
    /// sequence number wraps. Errors (nothing changed): `TooShort`/`Malformed` header,
    /// `TooManyStreams`, `IndexExhausted` after 2^48 packets.
    pub fn protect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let hdr = rtp_header(packet)?;
        let stream = self.stream_for_sending(hdr.ssrc)?;
        let index = match stream.rtp_sent {
            Some(highest) => estimate_index(highest, hdr.seq).ok_or(SrtpError::IndexExhausted)?,
            None => u64::from(hdr.seq),
        };
        stream.rtp_sent = Some(stream.rtp_sent.map_or(index, |h| h.max(index)));
        self.keys.derived()?.protect_rtp(packet, &hdr, index);
        Ok(())
    }

    /// In place: checks the tag, the replay window, decrypts, truncates the tag. On error the
    /// packet must be dropped by the caller (its bytes are unspecified) and NO state changed
    /// (ROC, window) — a forged packet must not advance anything.
    pub fn unprotect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let hdr = rtp_header(packet)?;
        let tag_len = rtp_tag_len(self.profile);
        if packet.len() < hdr.len + tag_len {
            return Err(SrtpError::TooShort);
        }
        let window = self.received_window(hdr.ssrc, |s| s.rtp_received.as_ref())?;
        let index = match window.and_then(ReplayWindow::highest) {
            Some(highest) => estimate_index(highest, hdr.seq).ok_or(SrtpError::Replayed)?,
            None => u64::from(hdr.seq),
        };
        if window.is_some_and(|w| w.check(index) == Verdict::Replayed) {
            return Err(SrtpError::Replayed);
        }
        self.keys.derived()?.unprotect_rtp(packet, &hdr, index)?;
        let size = self.replay_window;
        let stream = self.streams.entry(hdr.ssrc).or_default();
        stream
            .rtp_received
            .get_or_insert_with(|| ReplayWindow::new(size))
            .commit(index);
        packet.truncate(packet.len() - tag_len);
        Ok(())
    }

    /// In place: encrypts the RTCP (compound) packet in `packet` after its first 8 bytes and
    /// appends the `E|index` word and the tag. The SRTCP index of the sender SSRC (bytes 4..8)
    /// starts at 0 and steps by one per packet.
    ///
    /// Errors (nothing changed): `TooShort`/`Malformed`, `TooManyStreams`,
    /// `IndexExhausted` after 2^31 packets of one SSRC.
    pub fn protect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let ssrc = rtcp_ssrc(packet)?;
        let stream = self.stream_for_sending(ssrc)?;
        let index = stream.rtcp_next;
        if index > MAX_RTCP_INDEX {
            return Err(SrtpError::IndexExhausted);
        }
        stream.rtcp_next = index + 1;
        self.keys.derived()?.protect_rtcp(packet, ssrc, index);
        Ok(())
    }

    /// In place: checks the tag and the replay window, decrypts (if the E flag is set) and
    /// strips the `E|index` word and the tag. On error the packet must be dropped (its bytes
    /// are unspecified) and no state changed.
    pub fn unprotect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let ssrc = rtcp_ssrc(packet)?;
        let e_index = self.keys.derived()?.rtcp_e_index(packet)?;
        let index = u64::from(e_index & MAX_RTCP_INDEX);
        let window = self.received_window(ssrc, |s| s.rtcp_received.as_ref())?;
        if window.is_some_and(|w| w.check(index) == Verdict::Replayed) {
            return Err(SrtpError::Replayed);
        }
        let plain_len = self.keys.derived()?.unprotect_rtcp(packet, ssrc, e_index)?;
        let size = self.replay_window;
        let stream = self.streams.entry(ssrc).or_default();
        stream
            .rtcp_received
            .get_or_insert_with(|| ReplayWindow::new(size))
            .commit(index);
        packet.truncate(plain_len);
        Ok(())
    }

    /// The state of `ssrc` for sending, created if new and there is room.
    fn stream_for_sending(&mut self, ssrc: u32) -> Result<&mut Stream, SrtpError> {
        if !self.streams.contains_key(&ssrc) && self.streams.len() >= self.max_streams {
            return Err(SrtpError::TooManyStreams);
        }
        Ok(self.streams.entry(ssrc).or_default())
    }

    /// A receive window of `ssrc` (picked by `pick`) if any, without creating anything;
    /// `TooManyStreams` if `ssrc` is new and there is no room for it.
    fn received_window(
        &self,
        ssrc: u32,
        pick: impl FnOnce(&Stream) -> Option<&ReplayWindow>,
    ) -> Result<Option<&ReplayWindow>, SrtpError> {
        match self.streams.get(&ssrc) {
            Some(stream) => Ok(pick(stream)),
            None if self.streams.len() >= self.max_streams => Err(SrtpError::TooManyStreams),
            None => Ok(None),
        }
    }

    /// Test hook: a GCM context from session keys (RFC 7714 vectors skip the KDF).
    #[cfg(test)]
    pub(super) fn from_gcm_session_keys(profile: SrtpProfile, key: &[u8], salt: &[u8]) -> Self {
        Self {
            profile,
            keys: SessionKeys::Derived(super::transform::Transform::gcm_session(key, salt)),
            replay_window: 128,
            max_streams: 16,
            streams: BTreeMap::new(),
        }
    }

    /// Test hook: whether the session keys have been derived.
    #[cfg(test)]
    pub(super) fn keys_derived(&self) -> bool {
        self.keys.is_derived()
    }

    /// Test hook: the next SRTCP index `ssrc` will send (vectors start mid-session).
    #[cfg(test)]
    pub(super) fn set_next_rtcp_index(&mut self, ssrc: u32, index: u32) {
        self.streams.entry(ssrc).or_default().rtcp_next = index;
    }
}
