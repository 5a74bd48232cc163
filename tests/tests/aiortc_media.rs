//! aiortc (from PyPI, with its own Opus/VP8 encoders and decoders) as the client of the
//! `echo` server: it offers audio, video and a data channel; the echoed tracks must decode in
//! aiortc, on each runtime, and with `--media decline` aiortc must accept the answer that
//! rejects its media and keep the data channel. Loopback-only namespace.
//!
//! aiortc lives in a virtual environment `tests/interop/.venv` that `tests/provision.sh`
//! makes; with `RTCPEER_SKIP_INTEROP=1` a missing one skips loudly instead.

mod example_bin;
mod provision;

use example_bin::example_binary;
use std::path::PathBuf;
use std::process::Command;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

fn aiortc_installed() -> bool {
    Command::new(interop_dir().join(".venv/bin/python"))
        .args(["-c", "import aiortc"])
        .status()
        .is_ok_and(|s| s.success())
}

fn aiortc_available() -> bool {
    if aiortc_installed() {
        return true;
    }
    if std::env::var("RTCPEER_SKIP_INTEROP").as_deref() == Ok("1") {
        eprintln!("\n!!!!! SKIPPED: aiortc is not installed (RTCPEER_SKIP_INTEROP=1) !!!!!\n");
        return false;
    }
    let provisioned = provision::provision_once();
    assert!(
        aiortc_installed(),
        "aiortc interop needs tests/interop/.venv with aiortc; provisioning failed: {provisioned:?}"
    );
    true
}

fn run(runtime: &str, media: &str) -> Option<serde_json::Value> {
    if !aiortc_available() {
        return None;
    }
    let server = example_binary("echo");
    let dir = interop_dir();
    let output = Command::new(dir.join("netns.sh"))
        .arg(dir.join("aiortc_echo.sh"))
        .args([server.to_str().expect("UTF-8 path"), runtime, media])
        .output()
        .expect("run tests/interop/aiortc_echo.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!("no JSON from the aiortc client\nstdout:\n{stdout}\nstderr:\n{stderr}")
        });
    let result: serde_json::Value = serde_json::from_str(line).expect("client JSON");
    eprintln!("aiortc result: {result:#}");
    assert_eq!(
        result["ok"], true,
        "failures: {:#}\nstderr:\n{stderr}",
        result["failures"]
    );
    Some(result)
}

fn assert_echoed(result: &serde_json::Value) {
    let decoded = &result["decoded"];
    assert!(decoded["video"].as_u64() > Some(30), "{decoded}");
    assert!(decoded["audio"].as_u64() > Some(100), "{decoded}");
}

#[test]
fn aiortc_audio_and_video_echoed_by_tokio() {
    if let Some(r) = run("tokio", "echo") {
        assert_echoed(&r);
    }
}

#[test]
fn aiortc_audio_and_video_echoed_by_smol() {
    if let Some(r) = run("smol", "echo") {
        assert_echoed(&r);
    }
}

#[test]
fn aiortc_audio_and_video_echoed_by_mio() {
    if let Some(r) = run("mio", "echo") {
        assert_echoed(&r);
    }
}

#[test]
fn aiortc_accepts_declined_media_and_keeps_its_data_channel() {
    if let Some(r) = run("tokio", "decline") {
        let answer = r["answer"].as_str().unwrap_or_default();
        assert!(
            answer.contains("m=audio 0 ") && answer.contains("m=video 0 "),
            "{answer}"
        );
        assert_eq!(r["tracks"].as_array().map(Vec::len), Some(0));
    }
}
