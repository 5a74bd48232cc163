//! Chromium's fake camera and microphone against the `echo` example: the browser offers
//! audio, video and a data channel; the server sends every track back on its transceiver.
//! Media is proven by what Chromium decodes (`getStats`: inbound video `framesDecoded`,
//! audio `packetsReceived` and concealment), for VP8 + Opus on each runtime and with H.264
//! forced by the page; the data channel echoes beside it. With `--media decline` the server
//! rejects the audio and video m-lines and Chromium must accept that answer and keep the data
//! channel (a camera in the offer used to break the whole session). Loopback-only namespace.

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

#[test]
fn rtcpeer_offers_vp8_frames_from_a_file_and_chromium_decodes_them() {
    if !browser_available("chromium_media") {
        return;
    }
    let player = example_binary("play_file");
    let player = player.to_str().expect("target path is UTF-8");
    let ivf = chromium_support::repo_root().join("tests/data/testsrc-320x240-30fps-vp8.ivf");
    let ivf = ivf.to_str().expect("path is UTF-8");
    let result = run_driver(&[
        "play-vp8",
        "--player",
        player,
        "--ivf",
        ivf,
        "--seconds",
        "5",
    ]);
    assert_passed(&result);
    let summary = &result["run"]["summary"];
    let video = &result["run"]["figures"]["inbound"]["video"];
    let sent = summary["framesSent"].as_u64().unwrap_or(0);
    assert!(sent >= 140, "{summary}");
    assert!(
        video["framesDecoded"].as_u64().unwrap_or(0) * 10 >= sent * 9,
        "{video}"
    );
    assert_eq!(video["codec"], "video/VP8");
}
