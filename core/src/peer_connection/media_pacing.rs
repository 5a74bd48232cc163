//! Media through the pacer and the bandwidth estimator: every RTP packet we send is queued
//! ([`PeerConnection::queue_rtp`]) and leaves when the pacer lets it, at 2.5× the estimate
//! (audio first, then retransmissions, then video), or as part of a probe cluster padded
//! with RTX (a recent media packet again, or padding only); what leaves with a
//! transport-wide sequence number is told to the estimator, which the peer's feedback then
//! drives. With RFC 8888 feedback instead, every packet is told to the estimator by its
//! SSRC and RTP sequence number, under a transport-wide number that is only counted.

use super::{Event, PeerConnection, PeerConnectionError};
use crate::media::bwe::SendSideBwe;
use crate::media::pacer::{PacedOutput, PacketKind, QueuedPacket};
use crate::rtp::RtpPacket;
use std::time::Instant;

/// Largest RTP padding (its length is one byte).
const MAX_PADDING: usize = 255;
/// Relative change of the estimate that is announced as an event.
const ANNOUNCE_CHANGE: f64 = 0.05;

impl PeerConnection {
    /// Queues a plaintext RTP packet of `kind` for the pacer; `transport_seq` is the
    /// transport-wide sequence number it carries.
    pub(crate) fn queue_rtp(
        &mut self,
        kind: PacketKind,
        packet: Vec<u8>,
        transport_seq: Option<u16>,
    ) -> Result<(), crate::Error> {
        if self.media.srtp.is_none() {
            return Err(PeerConnectionError::MediaNotReady("no SRTP keys yet").into());
        }
        if (transport_seq.is_some() || self.media.ccfb) && self.media.bwe.is_none() {
            self.media.bwe = Some(SendSideBwe::new(self.config.bandwidth));
        }
        self.media.pacer.push(QueuedPacket {
            kind,
            packet,
            transport_seq,
            enqueued: self.now,
        });
        self.pump_media_pacer();
        Ok(())
    }

    /// Lets out what the pacer allows now. Returns whether anything left.
    pub(crate) fn pump_media_pacer(&mut self) -> bool {
        let now = self.now;
        let target = self.media.bwe.as_ref().map(SendSideBwe::target_bitrate);
        self.media.pacer.set_target(now, target);
        let mut moved = false;
        loop {
            if !self.media.pacer.probing()
                && let Some(cluster) = self.media.bwe.as_mut().and_then(SendSideBwe::take_probe)
            {
                self.media.pacer.start_probe(cluster, now);
            }
            match self.media.pacer.poll(now) {
                None => break,
                Some(PacedOutput::Packet(q, probe)) => {
                    // Taken off the queue whether or not it could be protected.
                    self.send_paced(q.packet, q.transport_seq, probe, false);
                }
                Some(PacedOutput::Padding(want, probe)) => {
                    // Padding that cannot be built or protected ends the probe: the pacer
                    // would otherwise ask for the same padding again and again, for ever
                    // (found by the peer_connection fuzz target).
                    let sent = self.build_padding(want).is_some_and(|(packet, seq)| {
                        self.send_paced(packet, Some(seq), Some(probe), true)
                    });
                    if !sent {
                        self.media.pacer.end_probe();
                    }
                }
            }
            moved = true;
        }
        moved
    }

    /// Protects and sends one packet the pacer let out, and tells the estimator; `false`
    /// if it could not be protected (then nothing left and the pacer was not charged).
    fn send_paced(
        &mut self,
        mut packet: Vec<u8>,
        transport_seq: Option<u16>,
        probe: Option<u32>,
        padding: bool,
    ) -> bool {
        let Some(srtp) = self.media.srtp.as_mut() else {
            return false;
        };
        // Read before protection: SRTP's tag would hide the padding length.
        let rtp_id = RtpPacket::new_checked(&packet[..])
            .ok()
            .map(|p| (p.ssrc(), p.sequence_number()));
        if let Err(e) = srtp.outbound.protect_rtp(&mut packet) {
            tracing::debug!(%e, "pc: RTP packet not protected");
            return false;
        }
        let size = packet.len();
        self.media.pacer.on_sent(size, probe, padding);
        if !padding {
            let t = self.rates_micros();
            self.media
                .media_sent
                .add(t, u32::try_from(size).unwrap_or(u32::MAX));
        }
        self.tell_estimator(rtp_id, transport_seq, size, probe);
        self.transmit_data(packet);
        true
    }

    /// Tells the estimator that a packet of `size` bytes (SSRC and sequence number
    /// `rtp_id`) left with `transport_seq`; with RFC 8888 feedback, under the next number
    /// counted (the wire carries none) and by its SSRC and sequence number.
    fn tell_estimator(
        &mut self,
        rtp_id: Option<(u32, u16)>,
        transport_seq: Option<u16>,
        size: usize,
        probe: Option<u32>,
    ) {
        let now = self.now;
        let rtp_id = rtp_id.filter(|_| self.media.ccfb);
        let seq = match (transport_seq, rtp_id) {
            (Some(seq), _) => seq,
            (None, Some(_)) => {
                let seq = self.media.transport_seq;
                self.media.transport_seq = seq.wrapping_add(1);
                seq
            }
            (None, None) => return,
        };
        let Some(bwe) = self.media.bwe.as_mut() else {
            return;
        };
        match rtp_id {
            Some(id) => bwe.on_rtp_packet_sent(seq, id, size, now, probe),
            None => bwe.on_packet_sent(seq, size, now, probe),
        }
    }

    /// A packet of about `want` bytes for a probe, on the first sending video transceiver
    /// with RTX, with the next transport-wide sequence number: a padding-only RTX packet
    /// (RFC 4588 §4 and RFC 3550 §5.1's padding), or the newest media packet again as RTX
    /// when more than a padding packet holds is wanted. `None` when there is no such
    /// transceiver.
    fn build_padding(&mut self, want: usize) -> Option<(Vec<u8>, u16)> {
        let seq = self.media.transport_seq;
        let spare = self
            .media
            .srtp
            .as_ref()
            .map_or(0, |s| s.outbound.rtp_overhead());
        // A layer that sends (with simulcast, the first one switched on that has sent).
        let ccfb = self.media.ccfb;
        let sending = |l: &crate::media::SendLayer| {
            l.outbound.stats.active
                && l.outbound.has_sent()
                && (l.outbound.uses_transport_cc() || ccfb)
        };
        let t = self.media.transceivers.iter_mut().find(|t| {
            t.kind == crate::sdp::MediaKind::Video && t.can_send() && t.layers.iter().any(sending)
        })?;
        let layer = t.layers.iter().position(sending)?;
        let rtx_pt = t
            .codecs
            .iter()
            .filter(|c| !c.codec.is_rtx())
            .find_map(|c| c.rtx_payload_type)?;
        let extensions = &t.extensions;
        let o = &mut t.layers[layer].outbound;
        // A probe wanting more than a padding-only packet holds is padded with a recent
        // media packet again, as RTX (the receiver drops the duplicate): fewer, fuller
        // packets, the way libwebrtc probes.
        let redundant = (want > MAX_PADDING)
            .then(|| o.last_sent_seq())
            .flatten()
            .and_then(|last| {
                // The largest of the last few packets kept (a frame's last one is short).
                (0..8u16)
                    .filter_map(|back| o.history.get(last.wrapping_sub(back)))
                    .max_by_key(|p| p.len())
            })
            .map(<[u8]>::to_vec);
        let packet = match redundant {
            Some(original) => o.build_rtx(&original, rtx_pt, extensions, Some(seq), spare)?,
            None => {
                let pad = want.clamp(1, MAX_PADDING);
                o.build_padding(rtx_pt, extensions, seq, pad, spare)?
            }
        };
        self.media.transport_seq = seq.wrapping_add(1);
        Some((packet, seq))
    }

    /// The peer's congestion feedback on what we sent (transport-cc or RFC 8888), given
    /// to the estimator by `apply`, after the round-trip time.
    pub(crate) fn feed_estimator(&mut self, apply: impl FnOnce(&mut SendSideBwe, Instant)) {
        let rtt = self.media.transceivers.iter().find_map(|t| {
            t.outbound()
                .stats
                .remote
                .as_ref()
                .and_then(|r| r.round_trip_time)
        });
        let now = self.now;
        let Some(bwe) = self.media.bwe.as_mut() else {
            return;
        };
        if let Some(rtt) = rtt {
            bwe.on_rtt(rtt);
        }
        apply(bwe, now);
        self.announce_estimate();
    }

    /// A REMB from the peer caps the estimate; from a peer that negotiated no
    /// transport-wide sequence numbers it is the estimate (the estimator is made then).
    pub(crate) fn on_remb(&mut self, bitrate_bps: u64) {
        let now = self.now;
        let twcc = self
            .media
            .bundle_extensions
            .id_of(crate::rtp::extensions::TRANSPORT_CC)
            .is_some();
        let config = self.config.bandwidth;
        let bwe = self.media.bwe.get_or_insert_with(|| {
            if twcc {
                SendSideBwe::new(config)
            } else {
                SendSideBwe::driven_by_remb(config)
            }
        });
        bwe.on_remb(bitrate_bps, now);
        self.announce_estimate();
        self.pump_media_pacer();
    }

    /// The estimator's periodic work (ALR, probe scheduling), on the connection's timer.
    pub(crate) fn poll_estimator_timeout(&mut self) {
        let now = self.now;
        if let Some(bwe) = self.media.bwe.as_mut() {
            bwe.on_timer(now);
        }
    }

    /// Microseconds since the origin of the media and data rate windows.
    fn rates_micros(&mut self) -> i64 {
        let origin = *self.media.rates_origin.get_or_insert(self.now);
        i64::try_from(self.now.saturating_duration_since(origin).as_micros()).unwrap_or(i64::MAX)
    }

    /// What busy data channels may send while media flows, bytes per second: what media
    /// leaves of the estimate, and never less than the configured share of it. `None`
    /// (SCTP's own pacing only) before the estimator runs or when no media left lately.
    pub(crate) fn data_channel_rate(&mut self) -> Option<u64> {
        let t = self.rates_micros();
        let estimate = self.media.bwe.as_ref()?.target_bitrate() as f64;
        let recent = self
            .media
            .media_sent
            .last_time()
            .is_some_and(|last| t - last < 1_000_000);
        if !recent {
            return None;
        }
        let media = self.media.media_sent.rate(t).unwrap_or(0.0);
        let share = self.data_share() * estimate;
        Some(((estimate - media).max(share) / 8.0) as u64)
    }

    fn data_share(&self) -> f64 {
        f64::from(self.config.bandwidth.data_channel_share_percent.min(100)) / 100.0
    }

    /// A DATA-carrying SCTP packet of `len` bytes left.
    pub(crate) fn on_data_sent(&mut self, len: usize) {
        if self.media.bwe.is_none() {
            return;
        }
        let t = self.rates_micros();
        self.media
            .data_sent
            .add(t, u32::try_from(len).unwrap_or(u32::MAX));
        let now = self.now;
        if let Some(bwe) = self.media.bwe.as_mut() {
            bwe.on_unreported_sent(len, now);
        }
    }

    /// The rate media may use: the estimate less what data channels send lately (at most
    /// their share of it).
    pub(crate) fn media_target(&mut self) -> Option<u64> {
        let t = self.rates_micros();
        let estimate = self.media.bwe.as_ref()?.target_bitrate() as f64;
        let data = self.media.data_sent.rate(t).unwrap_or(0.0);
        let taken = data.min(self.data_share() * estimate);
        Some((estimate - taken) as u64)
    }

    /// Emits `Event::BandwidthEstimate` when the media target moved by 5 % or more.
    fn announce_estimate(&mut self) {
        let Some(target) = self.media_target() else {
            return;
        };
        let moved = self.media.announced_estimate.is_none_or(|last| {
            (target as f64 - last as f64).abs() >= ANNOUNCE_CHANGE * last as f64
        });
        if moved {
            self.media.announced_estimate = Some(target);
            self.events.push_back(Event::BandwidthEstimate(target));
            self.allocate_simulcast(target);
        }
    }

    /// Switches the simulcast layers of every sending transceiver by the media target,
    /// shared evenly among them ([`allocate_layers`](crate::media::allocate_layers): the
    /// cheapest active layer always, more as they fit; layers the application switched
    /// off stay off).
    pub(crate) fn allocate_simulcast(&mut self, target: u64) {
        if !self.config.bandwidth.allocate_simulcast {
            return;
        }
        let simulcast = |t: &crate::media::Transceiver| {
            t.can_send() && t.layers.iter().filter(|l| l.encoding.is_some()).count() > 1
        };
        let senders = self
            .media
            .transceivers
            .iter()
            .filter(|t| simulcast(t))
            .count();
        if senders == 0 {
            return;
        }
        let share = target / senders as u64;
        for t in self.media.transceivers.iter_mut().filter(|t| simulcast(t)) {
            t.allocate_layers(share);
        }
    }

    /// The estimator's figures, once transport-cc feedback drives it.
    pub fn bandwidth_estimate(&self) -> Option<crate::media::bwe::BweStats> {
        self.media.bwe.as_ref().map(SendSideBwe::stats)
    }
}
