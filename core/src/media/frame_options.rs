//! Per-frame header extensions of the frame level: what a written frame may carry (audio
//! level, video orientation, playout delay, capture time), on which of its packets each is
//! written, and what a received frame reports of them.
//!
//! Wire forms (one-byte or two-byte header element bodies, RFC 8285):
//!
//! - audio level (RFC 6464 §3): one byte, `V` (voice activity) then the level in -dBov,
//!   0..=127; written on every packet of an audio frame.
//! - video orientation (3GPP TS 26.114 §7.4.5, "CVO"): one byte `0000 C F R1 R0` (camera,
//!   flip, rotation in quarter turns); written on the last packet of a keyframe and of any
//!   frame whose orientation differs from the last one sent, as §7.4.5 asks.
//! - playout delay (webrtc.org experiment): three bytes, 12-bit minimum and maximum in
//!   10 ms units; written on every packet from a change of value until a receiver report
//!   acknowledges a packet that carried it, and on every packet of a keyframe.
//! - abs-capture-time (webrtc.org experiment): eight bytes, the NTP UQ32.32 capture time of
//!   the frame; written on the first packet of each frame that has one.
//!
//! Each is written only when its URI was negotiated on the m-line (the extension map the
//! sender writes with drops the others). The values are written by the allocation-free
//! header writer from fixed-size arrays.

use crate::rtp::extensions::{self, ExtensionMap, ExtensionValue};

/// Audio level of an audio frame (RFC 6464).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioLevel {
    /// The sender thinks the frame holds voice (the `V` bit).
    pub voice: bool,
    /// Level in -dBov: 0 is the loudest, 127 silence (values above 127 are written as 127).
    pub level: u8,
}

impl AudioLevel {
    fn to_byte(self) -> u8 {
        (if self.voice { 0x80 } else { 0 }) | self.level.min(127)
    }
}

/// Orientation of a video frame (3GPP TS 26.114 §7.4.5): how the receiver should rotate
/// and flip it for display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VideoOrientation {
    /// The camera faces away from the user (the `C` bit).
    pub back_camera: bool,
    /// Flip horizontally before rotating (the `F` bit).
    pub flip: bool,
    /// Clockwise rotation in quarter turns, 0..=3 (higher values are taken modulo 4).
    pub rotation: u8,
}

impl VideoOrientation {
    fn to_byte(self) -> u8 {
        (if self.back_camera { 0x08 } else { 0 })
            | (if self.flip { 0x04 } else { 0 })
            | (self.rotation & 3)
    }
}

/// Playout delay limits asked of the receiver's jitter buffer, in 10 ms units (12 bits:
/// values above 4095 are written as 4095).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayoutDelay {
    /// Minimum delay.
    pub min: u16,
    /// Maximum delay.
    pub max: u16,
}

impl PlayoutDelay {
    fn to_bytes(self) -> [u8; 3] {
        let (min, max) = (self.min.min(0x0fff), self.max.min(0x0fff));
        [(min >> 4) as u8, ((min << 4) | (max >> 8)) as u8, max as u8]
    }
}

/// Options of one written frame; all absent by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameOptions {
    /// Audio level, written on every packet of an audio frame.
    pub audio_level: Option<AudioLevel>,
    /// Orientation of a video frame.
    pub orientation: Option<VideoOrientation>,
    /// Playout delay limits.
    pub playout_delay: Option<PlayoutDelay>,
    /// Capture time of the frame's first sample, NTP UQ32.32 in the sender's clock (see
    /// [`crate::time::ntp_timestamp`]).
    pub capture_time: Option<u64>,
}

/// What the header extensions of a received frame's packets said (the first value seen
/// for each, and for the orientation the last one the stream carried).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceivedFrameInfo {
    /// Capture time, NTP UQ32.32 in the sender's clock (abs-capture-time).
    pub capture_time: Option<u64>,
    /// Audio level (RFC 6464).
    pub audio_level: Option<AudioLevel>,
    /// Video orientation (CVO): carried by this frame or, as CVO is only sent on changes
    /// and keyframes, by an earlier frame of the stream.
    pub orientation: Option<VideoOrientation>,
    /// Playout delay limits.
    pub playout_delay: Option<PlayoutDelay>,
}

/// Extension values of one packet, by URI, in fixed-size storage.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PacketExtensions {
    audio_level: Option<[u8; 1]>,
    orientation: Option<[u8; 1]>,
    playout_delay: Option<[u8; 3]>,
    capture_time: Option<[u8; 8]>,
}

impl PacketExtensions {
    /// The `(uri, value)` pairs to hand to the RTP writer.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &[u8])> + Clone + '_ {
        let level = self
            .audio_level
            .as_ref()
            .map(|v| (extensions::AUDIO_LEVEL, &v[..]));
        let cvo = self
            .orientation
            .as_ref()
            .map(|v| (extensions::VIDEO_ORIENTATION, &v[..]));
        let delay = self
            .playout_delay
            .as_ref()
            .map(|v| (extensions::PLAYOUT_DELAY, &v[..]));
        let capture = self
            .capture_time
            .as_ref()
            .map(|v| (extensions::ABS_CAPTURE_TIME, &v[..]));
        level.into_iter().chain(cvo).chain(delay).chain(capture)
    }

    /// Whether a playout delay is among them.
    pub fn has_playout_delay(&self) -> bool {
        self.playout_delay.is_some()
    }

    /// How many pairs [`pairs`](Self::pairs) gives.
    pub fn len(&self) -> usize {
        self.pairs().count()
    }
}

/// Sender state of the options that are not sent on every frame.
#[derive(Debug, Clone, Default)]
pub(crate) struct FrameOptionsState {
    /// The orientation last written.
    last_orientation: Option<VideoOrientation>,
    /// The playout delay in force, the sequence number of its first packet (ours) and
    /// whether a report acknowledged it.
    playout: Option<(PlayoutDelay, Option<u16>, bool)>,
}

impl FrameOptionsState {
    /// The extensions of packet `index` of `count` of a frame with `options`
    /// (`keyframe` as the payload format shows).
    pub fn packet_extensions(
        &mut self,
        options: &FrameOptions,
        keyframe: bool,
        index: usize,
        count: usize,
    ) -> PacketExtensions {
        let last = index + 1 == count;
        let mut out = PacketExtensions {
            audio_level: options.audio_level.map(|l| [l.to_byte()]),
            capture_time: options
                .capture_time
                .filter(|_| index == 0)
                .map(u64::to_be_bytes),
            ..PacketExtensions::default()
        };
        if let Some(o) = options.orientation
            && last
            && (keyframe || self.last_orientation != Some(o))
        {
            self.last_orientation = Some(o);
            out.orientation = Some([o.to_byte()]);
        }
        if let Some(d) = options.playout_delay {
            if self.playout.is_none_or(|(p, _, _)| p != d) {
                self.playout = Some((d, None, false));
            }
            let acked = self.playout.is_some_and(|(_, _, acked)| acked);
            if keyframe || !acked {
                out.playout_delay = Some(d.to_bytes());
            }
        }
        out
    }

    /// Our sequence number `seq` went out carrying a playout delay.
    pub fn sent_playout_delay(&mut self, seq: u16) {
        if let Some((_, first @ None, _)) = self.playout.as_mut() {
            *first = Some(seq);
        }
    }

    /// A receiver report says the peer got packets up to `highest_seq` (extended): the
    /// playout delay is acknowledged once that reaches its first packet.
    pub fn on_report(&mut self, highest_seq: u32) {
        if let Some((_, Some(first), acked)) = self.playout.as_mut() {
            let ahead = (highest_seq as u16).wrapping_sub(*first);
            *acked |= ahead < 0x8000;
        }
    }
}

impl ReceivedFrameInfo {
    /// Takes in the extensions of one received packet of the frame: `ext` is the m-line's
    /// map, `value_of` gives the packet's element body for an id. A value already set is
    /// kept; a malformed one is ignored.
    pub fn absorb<'p>(&mut self, ext: &ExtensionMap, value_of: impl Fn(u8) -> Option<&'p [u8]>) {
        let decode = |uri: &str| {
            let id = ext.id_of(uri)?;
            ExtensionValue::parse(uri, value_of(id)?)
        };
        if self.capture_time.is_none()
            && let Some(ExtensionValue::AbsCaptureTime { timestamp, .. }) =
                decode(extensions::ABS_CAPTURE_TIME)
        {
            self.capture_time = Some(timestamp);
        }
        if self.audio_level.is_none()
            && let Some(ExtensionValue::AudioLevel { voice, level }) =
                decode(extensions::AUDIO_LEVEL)
        {
            self.audio_level = Some(AudioLevel { voice, level });
        }
        if self.orientation.is_none()
            && let Some(ExtensionValue::VideoOrientation {
                back_camera,
                flip,
                rotation,
            }) = decode(extensions::VIDEO_ORIENTATION)
        {
            self.orientation = Some(VideoOrientation {
                back_camera,
                flip,
                rotation,
            });
        }
        if self.playout_delay.is_none()
            && let Some(ExtensionValue::PlayoutDelay { min, max }) =
                decode(extensions::PLAYOUT_DELAY)
        {
            self.playout_delay = Some(PlayoutDelay { min, max });
        }
    }
}

/// Most frames whose extension values a stream keeps while they are being assembled.
const MAX_PENDING_FRAMES: usize = 32;

/// Per received stream: the extension values of frames not yet assembled, by RTP
/// timestamp (bounded: the oldest is forgotten first), and the orientation in force.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReceivedFrameInfos {
    pending: std::collections::VecDeque<(u32, ReceivedFrameInfo)>,
    orientation: Option<VideoOrientation>,
}

impl ReceivedFrameInfos {
    /// The entry of the frame at `timestamp`, made when new.
    pub fn entry(&mut self, timestamp: u32) -> &mut ReceivedFrameInfo {
        let at = match self.pending.iter().position(|(ts, _)| *ts == timestamp) {
            Some(at) => at,
            None => {
                if self.pending.len() >= MAX_PENDING_FRAMES {
                    self.pending.pop_front();
                }
                self.pending
                    .push_back((timestamp, ReceivedFrameInfo::default()));
                self.pending.len() - 1
            }
        };
        &mut self.pending[at].1
    }

    /// The values of the frame at `timestamp`, which came out whole: its entry is
    /// removed, and its orientation (or the one in force) reported.
    pub fn take(&mut self, timestamp: u32) -> ReceivedFrameInfo {
        let mut info = match self.pending.iter().position(|(ts, _)| *ts == timestamp) {
            Some(at) => self.pending.remove(at).map(|(_, i)| i).unwrap_or_default(),
            None => ReceivedFrameInfo::default(),
        };
        if info.orientation.is_some() {
            self.orientation = info.orientation;
        }
        info.orientation = self.orientation;
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{OutboundStream, RtpWrite};
    use std::time::Instant;

    const LEVEL: AudioLevel = AudioLevel {
        voice: true,
        level: 42,
    };
    const TURNED: VideoOrientation = VideoOrientation {
        back_camera: true,
        flip: false,
        rotation: 1,
    };
    const DELAY: PlayoutDelay = PlayoutDelay { min: 10, max: 100 };

    fn options() -> FrameOptions {
        FrameOptions {
            audio_level: Some(LEVEL),
            orientation: Some(TURNED),
            playout_delay: Some(DELAY),
            capture_time: Some(0x0123_4567_89ab_cdef),
        }
    }

    fn map() -> ExtensionMap {
        let mut m = ExtensionMap::default();
        m.insert(1, extensions::AUDIO_LEVEL);
        m.insert(5, extensions::PLAYOUT_DELAY);
        m.insert(9, extensions::ABS_CAPTURE_TIME);
        m.insert(13, extensions::VIDEO_ORIENTATION);
        m
    }

    /// The plaintext packet an outbound stream writes for `exts`.
    fn packet(exts: &PacketExtensions, ext: &ExtensionMap) -> Vec<u8> {
        let mut s = OutboundStream::new(0x0102_0304, 9, 0x0506, 0x0708_090a);
        s.set_negotiated(None, ext);
        let pairs: Vec<(&str, &[u8])> = exts.pairs().collect();
        let mut w = RtpWrite::new(111, 0, 0, false, &[0xee]);
        w.extensions = &pairs;
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        s.build(now, &w, 48_000, ext, None, 0)
    }

    #[test]
    fn every_option_is_written_in_its_wire_layout() {
        let exts = FrameOptionsState::default().packet_extensions(&options(), true, 0, 1);
        #[rustfmt::skip]
        let want = [
            0x90, 0x6f, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x01, 0x02, 0x03, 0x04,
            0xbe, 0xde, 0x00, 0x05, // one-byte form (RFC 8285 §4.2), 5 words
            0x10, 0xaa, // audio level id 1, L=0: V=1, level 42 (RFC 6464 §3)
            0xd0, 0x09, // CVO id 13: C=1, F=0, R=01 (TS 26.114 §7.4.5)
            0x52, 0x00, 0xa0, 0x64, // playout delay id 5: min 10, max 100 (12 bits each)
            0x97, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // abs-capture-time id 9
            0x00, 0x00, 0x00, // padding to the word
            0xee,
        ];
        assert_eq!(packet(&exts, &map()), want);
    }

    #[test]
    fn options_whose_uri_was_not_negotiated_are_left_out() {
        let exts = FrameOptionsState::default().packet_extensions(&options(), true, 0, 1);
        let mut only_level = ExtensionMap::default();
        only_level.insert(1, extensions::AUDIO_LEVEL);
        let p = packet(&exts, &only_level);
        assert_eq!(
            &p[12..20],
            &[0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00]
        );
        assert_eq!(p.len(), 21);
    }

    #[test]
    fn audio_level_goes_on_every_packet_and_capture_time_on_the_first() {
        let mut state = FrameOptionsState::default();
        let o = FrameOptions {
            audio_level: Some(LEVEL),
            capture_time: Some(7),
            ..FrameOptions::default()
        };
        let exts: Vec<_> = (0..3)
            .map(|i| state.packet_extensions(&o, false, i, 3))
            .collect();
        assert!(exts.iter().all(|e| e.audio_level == Some([0xaa])));
        assert_eq!(exts[0].capture_time, Some(7u64.to_be_bytes()));
        assert!(exts[1..].iter().all(|e| e.capture_time.is_none()));
    }

    #[test]
    fn orientation_goes_on_the_last_packet_of_keyframes_and_of_changes() {
        let mut state = FrameOptionsState::default();
        let with = |o| FrameOptions {
            orientation: Some(o),
            ..FrameOptions::default()
        };
        let cvo = |state: &mut FrameOptionsState, o, key, i, n| {
            state.packet_extensions(&with(o), key, i, n).orientation
        };
        // First frame: a change from nothing; on its last packet only.
        assert_eq!(cvo(&mut state, TURNED, false, 0, 2), None);
        assert_eq!(cvo(&mut state, TURNED, false, 1, 2), Some([0x09]));
        // Same orientation on a delta frame: not repeated.
        assert_eq!(cvo(&mut state, TURNED, false, 0, 1), None);
        // A keyframe repeats it.
        assert_eq!(cvo(&mut state, TURNED, true, 0, 1), Some([0x09]));
        // A change is sent at once.
        let flipped = VideoOrientation {
            flip: true,
            ..TURNED
        };
        assert_eq!(cvo(&mut state, flipped, false, 0, 1), Some([0x0d]));
        assert_eq!(cvo(&mut state, flipped, false, 0, 1), None);
    }

    #[test]
    fn playout_delay_is_sent_until_a_report_acknowledges_it_then_on_keyframes() {
        let mut state = FrameOptionsState::default();
        let o = FrameOptions {
            playout_delay: Some(DELAY),
            ..FrameOptions::default()
        };
        let delay = |state: &mut FrameOptionsState, key| {
            state.packet_extensions(&o, key, 0, 1).playout_delay
        };
        assert!(delay(&mut state, false).is_some());
        state.sent_playout_delay(65_535);
        assert!(delay(&mut state, false).is_some());
        state.sent_playout_delay(0);
        // A report up to just before the first packet (wrapping) does not acknowledge.
        state.on_report(65_534);
        assert!(delay(&mut state, false).is_some());
        // One covering it (extended across the wrap) does.
        state.on_report((1 << 16) + 3);
        assert!(delay(&mut state, false).is_none());
        assert!(delay(&mut state, true).is_some(), "keyframes carry it");
        // A new value starts over.
        let o2 = FrameOptions {
            playout_delay: Some(PlayoutDelay { min: 0, max: 0 }),
            ..FrameOptions::default()
        };
        let e = state.packet_extensions(&o2, false, 0, 1);
        assert_eq!(e.playout_delay, Some([0, 0, 0]));
    }

    #[test]
    fn wide_values_are_clamped_to_their_wire_fields() {
        let loud = AudioLevel {
            voice: false,
            level: 200,
        };
        assert_eq!(loud.to_byte(), 127);
        let wide = PlayoutDelay {
            min: 5000,
            max: 0xffff,
        };
        assert_eq!(wide.to_bytes(), [0xff, 0xff, 0xff]);
        let spun = VideoOrientation {
            rotation: 6,
            ..VideoOrientation::default()
        };
        assert_eq!(spun.to_byte(), 2);
    }

    #[test]
    fn received_values_are_read_back_by_the_negotiated_ids() {
        let exts = FrameOptionsState::default().packet_extensions(&options(), true, 0, 1);
        let p = packet(&exts, &map());
        let rtp = crate::rtp::RtpPacket::new_checked(&p[..]).expect("parses");
        let mut info = ReceivedFrameInfo::default();
        info.absorb(&map(), |id| rtp.extension(id));
        assert_eq!(
            info,
            ReceivedFrameInfo {
                capture_time: Some(0x0123_4567_89ab_cdef),
                audio_level: Some(LEVEL),
                orientation: Some(TURNED),
                playout_delay: Some(DELAY),
            }
        );
        // The first value seen for a frame stays; an unmapped id is not read.
        let mut other = map();
        other.remove(1);
        let mut info2 = ReceivedFrameInfo {
            capture_time: Some(1),
            ..ReceivedFrameInfo::default()
        };
        info2.absorb(&other, |id| rtp.extension(id));
        assert_eq!(info2.capture_time, Some(1));
        assert_eq!(info2.audio_level, None);
    }

    #[test]
    fn pending_frame_values_are_bounded_and_orientation_carries_over() {
        let mut infos = ReceivedFrameInfos::default();
        infos.entry(0).orientation = Some(TURNED);
        for ts in 1..=100 {
            infos.entry(ts).capture_time = Some(u64::from(ts));
        }
        assert!(infos.pending.len() <= MAX_PENDING_FRAMES);
        // Frame 0's entry was forgotten: nothing known of it.
        assert_eq!(infos.take(0), ReceivedFrameInfo::default());
        infos.entry(200).orientation = Some(TURNED);
        assert_eq!(infos.take(200).orientation, Some(TURNED));
        // A later frame without CVO keeps the orientation in force.
        let later = infos.take(100);
        assert_eq!(later.capture_time, Some(100));
        assert_eq!(later.orientation, Some(TURNED));
    }
}
