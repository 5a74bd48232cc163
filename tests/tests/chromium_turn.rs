//! Chromium and `echo` through a real TURN server (issue 13): Debian's coturn, started by the
//! driver on 127.0.0.1 inside the loopback-only namespace with long-term credentials.
//! - Chromium with `iceTransportPolicy: 'relay'` reaches `echo`: its end of the selected pair
//!   is a relayed address that coturn allocated, and every echo and a 4 MiB bulk transfer
//!   come back unchanged.
//! - `echo --relay-only` through coturn is reached by Chromium with host candidates: the
//!   server's SDP carries only relayed candidates, and Chromium's selected pair ends at one.

mod chromium_support;
mod example_bin;
mod provision;

use chromium_support::{assert_passed, browser_available, run_driver};
use example_bin::example_binary;
use std::process::{Command, Stdio};

fn coturn_installed() -> bool {
    Command::new("turnserver")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs the echo scenario with coturn relaying for `side` ("browser" or "server") and
/// returns the selected pair as the browser saw it.
fn echo_through_coturn(test: &str, side: &str) -> Option<serde_json::Value> {
    if !browser_available(test) {
        return None;
    }
    assert!(
        coturn_installed(),
        "{test} needs coturn's `turnserver` (tests/provision.sh installs it)"
    );
    let server = example_binary("echo");
    let server = server.to_str().expect("target path is UTF-8");
    let result = run_driver(&[
        "echo",
        "--server",
        server,
        "--turn",
        side,
        "--bulk-mib",
        "4",
    ]);
    assert_passed(&result);
    let run = &result["run"];
    assert_eq!(run["status"], 201);
    assert_eq!(run["bulk"]["bytes"], 4 << 20);
    assert_eq!(run["bulk"]["mismatches"], 0);
    Some(run["selected"].clone())
}

/// coturn's relay ports (`--min-port`/`--max-port` in `tests/interop/lib/turn.mjs`).
fn is_coturn_relay(candidate: &serde_json::Value) -> bool {
    candidate["candidateType"] == "relay"
        && candidate["address"] == "127.0.0.1"
        && candidate["port"]
            .as_u64()
            .is_some_and(|p| (50_000..=50_100).contains(&p))
}

#[test]
fn chromium_with_relay_policy_reaches_echo_through_coturn() {
    let Some(selected) = echo_through_coturn("chromium_turn", "browser") else {
        return;
    };
    assert!(is_coturn_relay(&selected["local"]), "{selected}");
    assert_eq!(selected["remote"]["candidateType"], "host", "{selected}");
}

#[test]
fn relay_only_echo_through_coturn_is_reached_by_chromium_with_host_candidates() {
    let Some(selected) = echo_through_coturn("chromium_turn", "server") else {
        return;
    };
    assert!(is_coturn_relay(&selected["remote"]), "{selected}");
    assert_eq!(selected["local"]["candidateType"], "host", "{selected}");
}
