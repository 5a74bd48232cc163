//! Chromium's fake camera and microphone against the `echo` example: the browser offers
//! audio, video and a data channel; the server sends every track back on its transceiver.
//! Media is proven by what Chromium decodes (`getStats`: inbound video `framesDecoded`,
//! audio `packetsReceived` and concealment), for VP8 + Opus on each runtime and with H.264
//! forced by the page; the data channel echoes beside it. With `--media decline` the server
//! rejects the audio and video m-lines and Chromium must accept that answer and keep the data
//! channel (a camera in the offer used to break the whole session). The other way round, the
//! `play_file` example offers clips from `tests/data` (VP8, VP9, AV1 IVF and Ogg/Opus) through
//! the frame API, on a clean link and through a lossy UDP relay (5 % of rtcpeer's RTP
//! dropped, seeded): Chromium must decode the frames sent, play the audio, and recover lost
//! packets by NACK. Loopback-only namespace.

mod chromium_support;
mod example_bin;
mod provision;

use chromium_support::{assert_passed, browser_available, run_driver};
use example_bin::example_binary;

fn media_echo(runtime: &str, extra: &[&str]) -> Option<serde_json::Value> {
    if !browser_available("chromium_media") {
        return None;
    }
    let server = example_binary("echo");
    let server = server.to_str().expect("target path is UTF-8");
    let mut args = vec!["media-echo", "--server", server, "--runtime", runtime];
    args.extend_from_slice(extra);
    let result = run_driver(&args);
    assert_passed(&result);
    Some(result)
}

fn assert_decoded(result: &serde_json::Value, codec: &str) {
    let video = &result["run"]["later"]["inbound"]["video"];
    assert!(video["framesDecoded"].as_u64() > Some(30), "{video}");
    let got = video["codec"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert_eq!(
        got,
        format!("video/{}", codec.to_ascii_lowercase()),
        "{video}"
    );
    let audio = &result["run"]["later"]["inbound"]["audio"];
    assert!(audio["packetsReceived"].as_u64() > Some(100), "{audio}");
    assert_eq!(audio["codec"], "audio/opus", "{audio}");
}

#[test]
fn chromium_camera_and_mic_echoed_by_tokio_vp8_opus() {
    if let Some(r) = media_echo("tokio", &["--codec", "VP8"]) {
        assert_decoded(&r, "VP8");
    }
}

#[test]
fn chromium_camera_and_mic_echoed_by_tokio_h264() {
    if let Some(r) = media_echo("tokio", &["--codec", "H264"]) {
        assert_decoded(&r, "H264");
    }
}

#[test]
fn chromium_camera_and_mic_echoed_by_smol_vp8_opus() {
    if let Some(r) = media_echo("smol", &["--codec", "VP8"]) {
        assert_decoded(&r, "VP8");
    }
}

#[test]
fn chromium_camera_and_mic_echoed_by_smol_h264() {
    if let Some(r) = media_echo("smol", &["--codec", "H264"]) {
        assert_decoded(&r, "H264");
    }
}

#[test]
fn chromium_camera_and_mic_echoed_by_mio_vp8_opus() {
    if let Some(r) = media_echo("mio", &["--codec", "VP8"]) {
        assert_decoded(&r, "VP8");
    }
}

#[test]
fn chromium_camera_and_mic_echoed_by_mio_h264() {
    if let Some(r) = media_echo("mio", &["--codec", "H264"]) {
        assert_decoded(&r, "H264");
    }
}

#[test]
fn declined_camera_and_mic_leave_the_data_channel_working() {
    if let Some(r) = media_echo("tokio", &["--media", "decline"]) {
        let answer = r["run"]["answer"].as_str().unwrap_or_default();
        assert!(answer.contains("m=audio 0 "), "{answer}");
        assert!(answer.contains("m=video 0 "), "{answer}");
        assert!(answer.contains("m=application 9 "), "{answer}");
        assert_eq!(r["run"]["tracks"].as_array().map(Vec::len), Some(0));
    }
}

/// Playback is judged on timing (`freezeCount`): one player and one Chromium at a time, so
/// that two decoders starting together on a two-core machine do not stall each other.
static ONE_PLAYBACK_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the `play-file` scenario: the `play_file` example offers the given test clips
/// (`tests/data`) for `seconds` of media, Chromium answers and decodes; `extra` goes to the
/// driver (e.g. `--loss`). `None` when the browser tests are skipped.
fn play_files(
    ivf: Option<&str>,
    ogg: Option<&str>,
    seconds: u32,
    extra: &[&str],
) -> Option<serde_json::Value> {
    if !browser_available("chromium_media") {
        return None;
    }
    let _alone = ONE_PLAYBACK_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let player = example_binary("play_file");
    let data = chromium_support::repo_root().join("tests/data");
    let path = |name: &str| data.join(name).to_str().expect("path is UTF-8").to_owned();
    let seconds = seconds.to_string();
    let mut args = vec![
        "play-file".to_owned(),
        "--player".to_owned(),
        player.to_str().expect("target path is UTF-8").to_owned(),
        "--seconds".to_owned(),
        seconds,
    ];
    for (option, file) in [("--ivf", ivf), ("--ogg", ogg)] {
        if let Some(file) = file {
            args.extend([option.to_owned(), path(file)]);
        }
    }
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = run_driver(&args);
    assert_passed(&result);
    Some(result)
}

/// Chromium decoded at least `percent` % of the video frames the player sent, in `codec`;
/// returns the browser's inbound video figures.
fn assert_video_decoded(
    result: &serde_json::Value,
    codec: &str,
    percent: u64,
) -> serde_json::Value {
    let sent = &result["run"]["summary"]["video"];
    let video = result["run"]["figures"]["inbound"]["video"].clone();
    let frames = sent["framesSent"].as_u64().unwrap_or(0);
    assert!(frames >= 140, "{sent}");
    let decoded = video["framesDecoded"].as_u64().unwrap_or(0);
    assert!(
        decoded * 100 >= frames * percent,
        "{decoded} of {frames}: {video}"
    );
    assert_eq!(video["codec"], format!("video/{codec}"), "{video}");
    video
}

/// A clean link: at least 90 % of the frames decoded and not one freeze.
fn assert_clean_playback(result: &serde_json::Value, codec: &str) {
    let video = assert_video_decoded(result, codec, 90);
    assert_eq!(video["freezeCount"].as_u64(), Some(0), "{video}");
}

#[test]
fn rtcpeer_plays_a_vp8_file_and_chromium_decodes_it_without_freezes() {
    let clip = Some("testsrc-320x240-30fps-vp8.ivf");
    if let Some(r) = play_files(clip, None, 5, &[]) {
        assert_clean_playback(&r, "VP8");
    }
}

#[test]
fn rtcpeer_plays_a_vp9_file_and_chromium_decodes_it_without_freezes() {
    let clip = Some("testsrc-320x240-30fps-vp9.ivf");
    if let Some(r) = play_files(clip, None, 5, &[]) {
        assert_clean_playback(&r, "VP9");
    }
}

#[test]
fn rtcpeer_plays_an_av1_file_and_chromium_decodes_it_without_freezes() {
    let clip = Some("testsrc-320x240-30fps-av1.ivf");
    if let Some(r) = play_files(clip, None, 5, &[]) {
        assert_clean_playback(&r, "AV1");
    }
}

#[test]
fn rtcpeer_plays_vp8_and_ogg_opus_files_and_chromium_plays_the_audio_for_their_duration() {
    let video = Some("testsrc-320x240-30fps-vp8.ivf");
    let audio = Some("sine-440hz-48khz-opus.opus");
    let Some(r) = play_files(video, audio, 5, &[]) else {
        return;
    };
    assert_clean_playback(&r, "VP8");
    let sent_ms = r["run"]["summary"]["audio"]["mediaMs"]
        .as_u64()
        .unwrap_or(0);
    assert!(sent_ms >= 4900, "{}", r["run"]["summary"]);
    let audio = &r["run"]["figures"]["inbound"]["audio"];
    assert_eq!(audio["codec"], "audio/opus", "{audio}");
    assert!(audio["packetsReceived"].as_u64() > Some(0), "{audio}");
    // 48 samples a millisecond: decoded (not concealed) samples cover the audio sent, and
    // the total is no more than what played until the figures were read (~1 s later).
    let total = audio["totalSamplesReceived"].as_u64().unwrap_or(0);
    let decoded = total.saturating_sub(audio["concealedSamples"].as_u64().unwrap_or(0));
    assert!(decoded * 10 >= 48 * sent_ms * 9, "{audio}");
    assert!(total <= 48 * (sent_ms + 2500), "{audio}");
}

#[test]
fn rtcpeer_plays_vp8_through_a_5_percent_lossy_relay_and_chromium_recovers_by_nack() {
    let clip = Some("testsrc-320x240-30fps-vp8.ivf");
    let lossy = ["--loss", "0.05", "--seed", "7"];
    let Some(r) = play_files(clip, None, 8, &lossy) else {
        return;
    };
    let relay = &r["run"]["relay"];
    assert!(relay["rtpDropped"].as_u64() > Some(0), "{relay}");
    let video = assert_video_decoded(&r, "VP8", 95);
    assert!(video["nackCount"].as_u64() > Some(0), "{video}");
    let sent = &r["run"]["summary"]["video"];
    assert!(
        sent["retransmittedPacketsSent"].as_u64() > Some(0),
        "{sent}"
    );
}
