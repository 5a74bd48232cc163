//! Harness self-test: two RTCPeerConnections inside one headless Chromium page connect over
//! loopback (in a loopback-only network namespace) and echo data channel messages. Proves
//! that the browser side of the interop tests works before rtcpeer is involved.

mod chromium_support;
mod provision;

use chromium_support::{assert_passed, browser_available, run_driver};

#[test]
fn chromium_peers_connect_over_loopback_host_candidates_and_echo() {
    if !browser_available("chromium_selftest") {
        return;
    }
    let result = run_driver(&["selftest"]);
    assert_passed(&result);
    for side in ["local", "remote"] {
        let candidate = &result["selected"][side];
        assert_eq!(
            candidate["address"], "127.0.0.1",
            "selected {side}: {candidate}"
        );
        assert_eq!(
            candidate["candidateType"], "host",
            "selected {side}: {candidate}"
        );
        assert_eq!(candidate["protocol"], "udp", "selected {side}: {candidate}");
    }
    let echoes = result["echoes"].as_array().expect("echoes is an array");
    assert_eq!(echoes.len(), 10, "one text and one binary echo per size");
    assert!(echoes.iter().all(|e| e["ok"] == true), "echoes: {echoes:?}");
    assert_eq!(result["bulk"]["bytes"], 4 << 20);
    assert_eq!(result["bulk"]["mismatches"], 0);
}
