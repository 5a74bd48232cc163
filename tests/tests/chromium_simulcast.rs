//! Chromium publishes its fake camera at 1280x720 with simulcast (`sendEncodings` with rids
//! h, m, l at full, half and quarter resolution) to the `record` example, which answers
//! `a=simulcast:recv h;m;l`, tells the layers apart by their rid extension (Chromium
//! announces no SSRCs) and writes one IVF file per layer. ffprobe judges the files: each
//! decodes every frame with `-v error` silent (not `ffmpeg -f null`, whose constant-rate
//! muxer rejects two frames Chromium encodes 18 ms apart), at its own resolution (three different sizes, each the
//! size Chromium says it encoded that layer at), holding at least 90 % of the frames
//! Chromium encoded for it. Loopback-only namespace.

mod chromium_support;
mod example_bin;
mod provision;

use chromium_support::{assert_passed, browser_available, run_driver};
use example_bin::example_binary;
use std::path::Path;
use std::process::Command;

/// Runs `program args`, returning its stdout and stderr; panics when it fails.
fn run(program: &str, args: &[&str]) -> (String, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e} (tests/provision.sh installs ffmpeg)"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{program} {args:?}: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// Width, height and decoded frame count of a video file, by ffprobe, which decodes every
/// frame (`-count_frames`) and must print no error.
fn probe(path: &Path) -> (u64, u64, u64) {
    let path = path.to_str().expect("path is UTF-8");
    let args = [
        "-v",
        "error",
        "-count_frames",
        "-select_streams",
        "v:0",
        "-show_entries",
        "stream=width,height,nb_read_frames",
        "-of",
        "csv=p=0",
        path,
    ];
    let (stdout, stderr) = run("ffprobe", &args);
    assert!(stderr.trim().is_empty(), "ffprobe on {path}: {stderr}");
    let fields: Vec<u64> = stdout
        .trim()
        .split(',')
        .map(|f| {
            f.parse()
                .unwrap_or_else(|e| panic!("ffprobe {stdout:?}: {e}"))
        })
        .collect();
    assert_eq!(fields.len(), 3, "ffprobe {stdout:?}");
    (fields[0], fields[1], fields[2])
}

#[test]
fn chromium_simulcast_three_layers_recorded_per_rid_at_three_resolutions() {
    if !browser_available("chromium_simulcast") {
        return;
    }
    let recorder = example_binary("record");
    let recorder = recorder.to_str().expect("target path is UTF-8");
    let dir = std::env::temp_dir().join(format!("rtcpeer-simulcast-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the output folder");
    let out = dir.to_str().expect("temp path is UTF-8");
    let result = run_driver(&[
        "record",
        "--recorder",
        recorder,
        "--out",
        out,
        "--codec",
        "VP8",
        "--seconds",
        "12",
        "--simulcast",
        "1",
    ]);
    assert_passed(&result);
    let summary = &result["run"]["summary"];
    let layers = &result["run"]["figures"]["outboundLayers"];
    let mut sizes = Vec::new();
    for rid in ["h", "m", "l"] {
        let track = summary["tracks"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["rid"] == rid))
            .unwrap_or_else(|| panic!("no layer {rid} recorded: {summary}"));
        let path = Path::new(track["path"].as_str().expect("a recorded layer has a path"));
        assert!(
            path.to_str()
                .is_some_and(|p| p.ends_with(&format!("-{rid}.ivf"))),
            "{path:?}"
        );
        let (width, height, decoded) = probe(path);
        let chromium = &layers[rid];
        let encoded = chromium["framesEncoded"].as_u64().unwrap_or(0);
        eprintln!(
            "layer {rid}: {width}x{height}, {decoded} frames decoded from the file; Chromium \
             encoded {encoded} at {}x{} ({} limitation)",
            chromium["frameWidth"], chromium["frameHeight"], chromium["qualityLimitationReason"]
        );
        assert!(encoded > 0, "Chromium encoded nothing on {rid}: {layers}");
        assert!(
            decoded as f64 >= 0.9 * encoded as f64,
            "layer {rid}: {decoded} frames decoded, Chromium encoded {encoded}"
        );
        // The size the decoder saw is the one Chromium says it encoded the layer at.
        let encoded_size = (
            chromium["frameWidth"].as_u64().unwrap_or(0),
            chromium["frameHeight"].as_u64().unwrap_or(0),
        );
        assert_eq!((width, height), encoded_size, "layer {rid}");
        sizes.push((rid, width, height));
    }
    let (h, m, l) = (sizes[0], sizes[1], sizes[2]);
    assert!(
        h.1 > m.1 && m.1 > l.1 && h.2 > m.2 && m.2 > l.2,
        "three resolutions, h > m > l: {sizes:?}"
    );
    assert_eq!(
        (h.1, h.2),
        (1280, 720),
        "the full layer is the camera's size"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// rtcpeer → Chromium: Chromium publishes three layers to the `simulcast_forward` example,
/// which forwards one of them to a second Chromium connection that receives a single
/// ordinary stream. The layer forwarded goes l → h → m; after each switch the receiving
/// connection keeps decoding (`framesDecoded` grows by at least 30 in 3 s) at the new
/// layer's width (320, 1280, 640).
#[test]
fn rtcpeer_forwards_the_chosen_simulcast_layer_to_chromium_which_decodes_each_size() {
    if !browser_available("chromium_simulcast") {
        return;
    }
    let forwarder = example_binary("simulcast_forward");
    let forwarder = forwarder.to_str().expect("target path is UTF-8");
    let result = run_driver(&["simulcast-forward", "--forwarder", forwarder]);
    assert_passed(&result);
    let samples = result["run"]["samples"].as_array().expect("samples");
    let widths: Vec<u64> = samples
        .iter()
        .map(|s| s["after"]["frameWidth"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(widths, [320, 1280, 640], "{samples:?}");
    let switches = &result["run"]["summary"]["switches"];
    assert_eq!(switches, &serde_json::json!(["l", "h", "m"]));
}

/// rtcpeer → Chromium with the layer chosen by the estimate (issue 16): Chromium publishes
/// three layers to `simulcast_forward`, which forwards the one its bandwidth estimate of the
/// link to the viewer allows. That link runs through a relay on loopback whose
/// forwarder→viewer direction is unlimited, then 300 kbit/s (100 ms drop-tail queue), then
/// unlimited again. At the end of each phase the viewer decodes h (1280 px wide) on the free
/// link, l (320 px) on the limited one and m or h once freed (having switched back to h), and
/// the forwarder's last switch names that layer; the driver also bounds the viewer's freezes.
/// A forwarder that ignored the estimate would keep one width through all three phases.
#[test]
fn rtcpeer_forwards_the_simulcast_layer_its_estimate_allows_to_chromium() {
    if !browser_available("chromium_simulcast") {
        return;
    }
    let forwarder = example_binary("simulcast_forward");
    let forwarder = forwarder.to_str().expect("target path is UTF-8");
    let result = run_driver(&[
        "simulcast-adapt",
        "--forwarder",
        forwarder,
        "--rate-kbps",
        "300",
    ]);
    let phases = result["run"]["phases"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for p in &phases {
        let estimates: Vec<String> = p["switches"]
            .as_array()
            .map(|s| {
                s.iter()
                    .map(|s| format!("{}@{}", s["rid"], s["estimateBps"]))
                    .collect()
            })
            .unwrap_or_default();
        eprintln!(
            "{}: viewer {} px wide, {} frames decoded, {} freezes; switches {estimates:?}; relay {}",
            p["name"],
            p["after"]["frameWidth"],
            p["after"]["framesDecoded"],
            p["after"]["freezeCount"],
            p["relay"]
        );
    }
    assert_passed(&result);
    let widths: Vec<u64> = phases
        .iter()
        .map(|p| p["after"]["frameWidth"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(widths.len(), 3, "{result}");
    assert_eq!(widths[..2], [1280, 320], "{phases:?}");
    assert!(
        matches!(widths[2], 640 | 1280),
        "back above l once freed: {widths:?}"
    );
    // The limited phase really limited the link: the relay's queue overflowed, and the
    // switch down was made on an estimate under 0.6 Mbit/s.
    let limited = &phases[1];
    let queue_drops = limited["relay"]["queueDrops"].as_u64().unwrap_or(0);
    assert!(queue_drops > 0, "the 300 kbit/s relay dropped nothing");
    let down = limited["switches"]
        .as_array()
        .and_then(|s| s.last())
        .expect("a switch in the limited phase");
    assert_eq!(down["rid"], "l");
    let estimate = down["estimateBps"]
        .as_u64()
        .expect("an estimate at the switch");
    assert!(
        estimate < 600_000,
        "switched to l on an estimate of {estimate} bit/s"
    );
}
