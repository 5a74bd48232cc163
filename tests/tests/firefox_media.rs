//! Firefox ESR's fake camera and microphone (puppeteer-core over WebDriver BiDi) against the
//! `echo` example: Firefox offers audio, video and a data channel; the server sends each track
//! back. Proven by what Firefox decodes (`getStats` inbound video `framesDecoded`, audio
//! `packetsReceived`), with the data channel echoing beside it. Loopback-only namespace.

mod chromium_support;
mod example_bin;
mod firefox_support;
mod provision;

use chromium_support::{assert_passed, run_driver};
use example_bin::example_binary;
use firefox_support::firefox_available;

fn firefox_media_echo(runtime: &str, extra: &[&str]) -> Option<serde_json::Value> {
    if !firefox_available("firefox_media") {
        return None;
    }
    let server = example_binary("echo");
    let server = server.to_str().expect("target path is UTF-8");
    let mut args = vec![
        "media-echo",
        "--browser",
        "firefox",
        "--server",
        server,
        "--runtime",
        runtime,
    ];
    args.extend_from_slice(extra);
    let result = run_driver(&args);
    assert_passed(&result);
    assert!(
        result["browser"]
            .as_str()
            .is_some_and(|b| b.starts_with("firefox")),
        "{}",
        result["browser"]
    );
    Some(result)
}

#[test]
fn firefox_camera_and_mic_echoed_by_tokio() {
    if let Some(r) = firefox_media_echo("tokio", &["--codec", "VP8"]) {
        let video = &r["run"]["later"]["inbound"]["video"];
        assert!(video["framesDecoded"].as_u64() > Some(30), "{video}");
        let audio = &r["run"]["later"]["inbound"]["audio"];
        assert!(audio["packetsReceived"].as_u64() > Some(100), "{audio}");
    }
}

#[test]
fn firefox_camera_and_mic_echoed_by_smol() {
    if let Some(r) = firefox_media_echo("smol", &["--codec", "VP8"]) {
        let video = &r["run"]["later"]["inbound"]["video"];
        assert!(video["framesDecoded"].as_u64() > Some(30), "{video}");
    }
}

#[test]
fn firefox_camera_and_mic_echoed_by_mio() {
    if let Some(r) = firefox_media_echo("mio", &["--codec", "VP8"]) {
        let video = &r["run"]["later"]["inbound"]["video"];
        assert!(video["framesDecoded"].as_u64() > Some(30), "{video}");
    }
}

#[test]
fn firefox_media_declined_keeps_the_data_channel() {
    if let Some(r) = firefox_media_echo("tokio", &["--media", "decline"]) {
        assert_eq!(r["run"]["tracks"].as_array().map(Vec::len), Some(0));
    }
}
