//! Chromium publishes its fake camera and microphone for 10 s to the `record` example, once
//! with VP8 and once with H.264; the files it writes are judged by Debian's `ffmpeg`: they
//! decode with `-v error` printing nothing, the video holds as many decodable frames as
//! Chromium says it encoded (`outbound-rtp` `framesEncoded`, within 5 %), and the Ogg/Opus
//! audio decodes to as long as Chromium published (within 5 %). rtcpeer's transport-cc feedback
//! makes Chromium's bandwidth estimate climb. Loopback-only namespace.

mod chromium_support;
mod example_bin;
mod provision;

use chromium_support::{assert_passed, browser_available, run_driver};
use example_bin::example_binary;
use std::path::{Path, PathBuf};
use std::process::Command;

const SECONDS: &str = "10";

/// A fresh output folder for one run.
fn out_dir(codec: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtcpeer-record-{codec}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the output folder");
    dir
}

/// Runs `program args`, returning its stdout; panics when it fails.
fn run(program: &str, args: &[&str]) -> (Vec<u8>, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e} (tests/provision.sh installs ffmpeg)"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{program} {args:?}: {stderr}");
    (out.stdout, stderr)
}

/// `ffmpeg -v error` decodes the whole file and prints nothing. Decoded frames keep the
/// file's own time base (`-enc_time_base:v -1`): by default ffmpeg retimes them to the frame
/// rate it guesses, and two frames that a loaded camera produced 8 ms apart then collide
/// ("non monotonically increasing dts" at its null output), though their timestamps in
/// the file increase.
fn assert_decodes_silently(path: &Path) {
    let path = path.to_str().expect("path is UTF-8");
    let args = [
        "-v",
        "error",
        "-i",
        path,
        "-enc_time_base:v",
        "-1",
        "-f",
        "null",
        "-",
    ];
    let (stdout, stderr) = run("ffmpeg", &args);
    assert!(
        stdout.is_empty() && stderr.trim().is_empty(),
        "ffmpeg complained about {path}: {stderr}"
    );
}

/// Video frames ffprobe decodes from the file.
fn decoded_video_frames(path: &Path) -> u64 {
    let path = path.to_str().expect("path is UTF-8");
    let args = [
        "-v",
        "error",
        "-count_frames",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=nb_read_frames",
        "-of",
        "csv=p=0",
        path,
    ];
    let (stdout, _) = run("ffprobe", &args);
    let text = String::from_utf8_lossy(&stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("ffprobe frame count {text:?}: {e}"))
}

/// Seconds of audio ffmpeg decodes from the file (mono 16-bit PCM at 48 kHz, counted).
fn decoded_audio_seconds(path: &Path) -> f64 {
    let path = path.to_str().expect("path is UTF-8");
    let args = [
        "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "48000", "-",
    ];
    let (pcm, _) = run("ffmpeg", &args);
    pcm.len() as f64 / 2.0 / 48_000.0
}

fn within_5_percent(got: f64, want: f64) -> bool {
    (got - want).abs() <= 0.05 * want
}

/// The recorded file of `kind` named in the recorder's summary.
fn track_file(summary: &serde_json::Value, kind: &str) -> PathBuf {
    let track = summary["tracks"]
        .as_array()
        .and_then(|tracks| tracks.iter().find(|t| t["kind"] == kind))
        .unwrap_or_else(|| panic!("no {kind} track in {summary}"));
    PathBuf::from(track["path"].as_str().expect("a recorded track has a path"))
}

/// rtcpeer's transport-cc feedback reaches Chromium's bandwidth estimator: its
/// `availableOutgoingBitrate` climbs from the 300 kbit/s start on a clean loopback link.
/// Without feedback (measured with the feedback switched off) it decays instead, to about
/// 70 kbit/s after 10 s.
fn assert_estimate_climbs(codec: &str, figures: &serde_json::Value, summary: &serde_json::Value) {
    let estimates: Vec<f64> = figures["bitrate"]
        .as_array()
        .map(|samples| {
            samples
                .iter()
                .filter_map(|s| s["availableOutgoingBitrate"].as_f64())
                .collect()
        })
        .unwrap_or_default();
    let feedback = summary["transport_cc"]["feedback_sent"]
        .as_u64()
        .unwrap_or(0);
    eprintln!(
        "{codec}: availableOutgoingBitrate each second {estimates:?}; {feedback} transport-cc feedback messages sent"
    );
    assert!(
        feedback >= 50,
        "only {feedback} transport-cc feedback messages in {SECONDS} s"
    );
    let last = estimates.last().copied().unwrap_or(0.0);
    assert!(
        last >= 500_000.0,
        "Chromium's estimate did not climb with our feedback: {estimates:?}"
    );
}

fn record_and_check(codec: &str, extension: &str) {
    if !browser_available("chromium_record") {
        return;
    }
    let recorder = example_binary("record");
    let recorder = recorder.to_str().expect("target path is UTF-8");
    let dir = out_dir(codec);
    let out = dir.to_str().expect("temp path is UTF-8");
    let result = run_driver(&[
        "record",
        "--recorder",
        recorder,
        "--out",
        out,
        "--codec",
        codec,
        "--seconds",
        SECONDS,
    ]);
    assert_passed(&result);
    let summary = &result["run"]["summary"];
    let figures = &result["run"]["figures"];

    let video = track_file(summary, "video");
    assert_eq!(video.extension().and_then(|e| e.to_str()), Some(extension));
    assert_decodes_silently(&video);
    let encoded = figures["outbound"]["video"]["framesEncoded"]
        .as_u64()
        .unwrap_or(0);
    let decoded = decoded_video_frames(&video);
    assert!(encoded > 0, "{figures}");
    assert!(
        within_5_percent(decoded as f64, encoded as f64),
        "{decoded} frames decoded from {}, Chromium encoded {encoded}",
        video.display()
    );

    assert_estimate_climbs(codec, figures, summary);

    let audio = track_file(summary, "audio");
    assert_decodes_silently(&audio);
    let published = figures["publishedMs"].as_f64().unwrap_or(0.0) / 1000.0;
    let seconds = decoded_audio_seconds(&audio);
    assert!(
        within_5_percent(seconds, published),
        "{seconds} s of audio decoded from {}, Chromium published for {published} s",
        audio.display()
    );
    eprintln!(
        "{codec}: {decoded} video frames decoded, {encoded} encoded by Chromium; \
         {seconds:.3} s of audio decoded, {published:.3} s published"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn chromium_camera_and_mic_recorded_as_vp8_ivf_and_ogg_opus_that_ffmpeg_decodes() {
    record_and_check("VP8", "ivf");
}

#[test]
fn chromium_camera_and_mic_recorded_as_h264_annex_b_and_ogg_opus_that_ffmpeg_decodes() {
    record_and_check("H264", "h264");
}

/// Chromium publishes through a 350 kbit/s uplink (a relay on loopback with a 100 ms
/// drop-tail queue): with rtcpeer's transport-cc feedback its estimate settles near the
/// link and its video follows it. For comparison: on a clean link its estimate climbs to
/// several Mbit/s and this camera's video runs at about 480 kbit/s; without feedback the
/// estimate decays to about 70 kbit/s. Either way this test fails.
#[test]
fn chromium_publisher_follows_a_350_kilobit_uplink() {
    if !browser_available("chromium_record") {
        return;
    }
    let recorder = example_binary("record");
    let dir = out_dir("shaped");
    let result = run_driver(&[
        "record",
        "--recorder",
        recorder.to_str().expect("target path is UTF-8"),
        "--out",
        dir.to_str().expect("temp path is UTF-8"),
        "--codec",
        "VP8",
        "--seconds",
        "16",
        "--rate-kbps",
        "350",
    ]);
    assert_passed(&result);
    let samples = result["run"]["figures"]["bitrate"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let estimates: Vec<f64> = samples
        .iter()
        .filter_map(|s| s["availableOutgoingBitrate"].as_f64())
        .collect();
    let bytes: Vec<f64> = samples
        .iter()
        .filter_map(|s| s["videoBytes"].as_f64())
        .collect();
    let rates: Vec<f64> = bytes.windows(2).map(|w| (w[1] - w[0]) * 8.0).collect();
    eprintln!(
        "shaped 350 kbit/s: estimate each second {estimates:?}; video sent each second {rates:?}; relay {}",
        result["run"]["relay"]
    );
    assert!(estimates.len() >= 10 && rates.len() >= 10, "{samples:?}");
    // The last six seconds, after the estimate had time to settle.
    let tail = |v: &[f64]| v[v.len() - 6..].iter().sum::<f64>() / 6.0;
    let (estimate, sent) = (tail(&estimates), tail(&rates));
    assert!(
        (200_000.0..=450_000.0).contains(&estimate),
        "Chromium's estimate did not settle near the 350 kbit/s link: {estimates:?}"
    );
    assert!(
        (150_000.0..=350_000.0).contains(&sent),
        "Chromium's video did not follow the 350 kbit/s link: {rates:?}"
    );
}
