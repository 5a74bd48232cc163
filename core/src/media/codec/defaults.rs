//! The default codec list (shaped like Chromium's offer) and list filters.

use super::extensions::uri;
use super::{CodecConfig, HeaderExtensionConfig, MediaCodecs, RtpCodec};
use crate::sdp::MediaKind;
use std::sync::{Arc, LazyLock};

/// The feedback Chromium offers for every video codec.
const VIDEO_FEEDBACK: &[&str] = &["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"];

impl Default for MediaCodecs {
    /// What Chromium offers (payload types included, so that answers to Chromium and offers to
    /// it look familiar):
    /// - audio: opus 111 (`minptime=10;useinbandfec=1`, feedback `transport-cc`), G722 9,
    ///   PCMU 0, PCMA 8;
    /// - video, each with `goog-remb`, `transport-cc`, `ccm fir`, `nack`, `nack pli` and RTX:
    ///   VP8 96/97, VP9 `profile-id=0` 98/99 and `profile-id=2` 100/101, H.264 (all with
    ///   `level-asymmetry-allowed=1`, level 3.1) Baseline `42001f` mode 1 102/103 and mode 0
    ///   104/105, Constrained Baseline `42e01f` mode 1 106/107 and mode 0 108/109, Main
    ///   `4d001f` mode 1 127/125 and mode 0 39/40, High `64001f` mode 1 112/113, Constrained
    ///   High `640c1f` mode 1 114/115, AV1 45/46 (`level-idx=5;profile=0;tier=0`);
    /// - header extensions: ssrc-audio-level (audio), abs-send-time, transport-wide-cc,
    ///   sdes:mid, abs-capture-time (both), rtp-stream-id, repaired-rtp-stream-id,
    ///   video-orientation, playout-delay (video).
    ///
    /// H.265 is not in the default list (Chromium offers it only with a hardware codec); add a
    /// [`CodecConfig`] for it to negotiate it.
    fn default() -> Self {
        Self {
            audio: default_audio(),
            video: default_video(),
            extensions: default_extensions(),
        }
    }
}

fn default_audio() -> Vec<CodecConfig> {
    let opus = RtpCodec::new("opus", 48_000, Some(2))
        .with_fmtp("minptime", Some("10"))
        .with_fmtp("useinbandfec", Some("1"))
        .with_feedback(&["transport-cc"]);
    vec![
        plain(111, opus),
        plain(9, RtpCodec::new("G722", 8_000, None)),
        plain(0, RtpCodec::new("PCMU", 8_000, None)),
        plain(8, RtpCodec::new("PCMA", 8_000, None)),
    ]
}

fn default_video() -> Vec<CodecConfig> {
    let vp9 = |profile: &str| video("VP9").with_fmtp("profile-id", Some(profile));
    let av1 = video("AV1")
        .with_fmtp("level-idx", Some("5"))
        .with_fmtp("profile", Some("0"))
        .with_fmtp("tier", Some("0"));
    vec![
        with_rtx(96, video("VP8"), 97),
        with_rtx(98, vp9("0"), 99),
        with_rtx(100, vp9("2"), 101),
        with_rtx(102, h264("42001f", 1), 103),
        with_rtx(104, h264("42001f", 0), 105),
        with_rtx(106, h264("42e01f", 1), 107),
        with_rtx(108, h264("42e01f", 0), 109),
        with_rtx(127, h264("4d001f", 1), 125),
        with_rtx(39, h264("4d001f", 0), 40),
        with_rtx(112, h264("64001f", 1), 113),
        with_rtx(114, h264("640c1f", 1), 115),
        with_rtx(45, av1, 46),
    ]
}

fn default_extensions() -> Vec<HeaderExtensionConfig> {
    let ext = |uri: &str, audio: bool, video: bool| HeaderExtensionConfig {
        uri: uri.into(),
        audio,
        video,
    };
    vec![
        ext(uri::AUDIO_LEVEL, true, false),
        ext(uri::ABS_SEND_TIME, true, true),
        ext(uri::TRANSPORT_CC, true, true),
        ext(uri::MID, true, true),
        ext(uri::RTP_STREAM_ID, false, true),
        ext(uri::REPAIRED_RTP_STREAM_ID, false, true),
        ext(uri::VIDEO_ORIENTATION, false, true),
        ext(uri::PLAYOUT_DELAY, false, true),
        ext(uri::ABS_CAPTURE_TIME, true, true),
    ]
}

/// A 90 kHz video codec with Chromium's feedback set.
fn video(name: &str) -> RtpCodec {
    RtpCodec::new(name, 90_000, None).with_feedback(VIDEO_FEEDBACK)
}

/// H.264 with `level-asymmetry-allowed=1`, in Chromium's parameter order.
fn h264(profile_level_id: &str, packetization_mode: u8) -> RtpCodec {
    video("H264")
        .with_fmtp("level-asymmetry-allowed", Some("1"))
        .with_fmtp("packetization-mode", Some(&packetization_mode.to_string()))
        .with_fmtp("profile-level-id", Some(profile_level_id))
}

fn plain(payload_type: u8, codec: RtpCodec) -> CodecConfig {
    CodecConfig {
        payload_type,
        codec,
        rtx_payload_type: None,
    }
}

fn with_rtx(payload_type: u8, codec: RtpCodec, rtx: u8) -> CodecConfig {
    CodecConfig {
        payload_type,
        codec,
        rtx_payload_type: Some(rtx),
    }
}

impl MediaCodecs {
    /// `self` behind an `Arc`; the default list is allocated once per process and shared, so
    /// that a server's thousands of connections with the default configuration do not each
    /// hold their own copy (about 4.5 KiB).
    pub(crate) fn into_shared(self) -> Arc<Self> {
        static DEFAULT: LazyLock<Arc<MediaCodecs>> =
            LazyLock::new(|| Arc::new(MediaCodecs::default()));
        if self == **DEFAULT {
            Arc::clone(&DEFAULT)
        } else {
            Arc::new(self)
        }
    }

    /// No codecs and no header extensions (rejects every audio and video m-line).
    pub(crate) fn none() -> Self {
        Self {
            audio: Vec::new(),
            video: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// Adds RFC 8888 congestion control feedback (`a=rtcp-fb:<pt> ack ccfb`) to every
    /// codec, so that offers ask for it (Chromium offers it only behind a field trial;
    /// answers accept it from an offer without it). Transport-cc stays preferred while its
    /// header extension is configured: to agree on RFC 8888 alone, also drop the
    /// transport-cc extension ([`without_extension`](Self::without_extension)).
    pub fn with_ccfb(mut self) -> Self {
        for c in self.audio.iter_mut().chain(self.video.iter_mut()) {
            if !c
                .codec
                .feedback
                .iter()
                .any(|f| f.eq_ignore_ascii_case("ack ccfb"))
            {
                c.codec.feedback.push("ack ccfb".to_string());
            }
        }
        self
    }

    /// Removes header extension `uri` (see [`uri`]) from what we offer and accept.
    pub fn without_extension(mut self, uri: &str) -> Self {
        self.extensions.retain(|e| e.uri != uri);
        self
    }

    /// Keeps only the codecs whose name is one of `names` (ASCII case-insensitive), in their
    /// order of preference; a codec's RTX stays with it. Extensions are unchanged.
    ///
    /// `MediaCodecs::default().only(&["opus", "H264"])` keeps Opus and every H.264 variant.
    pub fn only(mut self, names: &[&str]) -> Self {
        let keep = |c: &CodecConfig| names.iter().any(|n| c.codec.is_named(n));
        self.audio.retain(keep);
        self.video.retain(keep);
        self
    }

    /// The codecs for sections of `kind`: audio, video, or none for any other kind.
    pub fn for_kind(&self, kind: &MediaKind) -> &[CodecConfig] {
        match kind {
            MediaKind::Audio => &self.audio,
            MediaKind::Video => &self.video,
            _ => &[],
        }
    }

    /// The header extensions for sections of `kind`.
    pub fn extensions_for(&self, kind: &MediaKind) -> impl Iterator<Item = &HeaderExtensionConfig> {
        self.extensions.iter().filter(move |e| match kind {
            MediaKind::Audio => e.audio,
            MediaKind::Video => e.video,
            _ => false,
        })
    }
}
