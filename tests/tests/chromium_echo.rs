//! Chromium against the `echo` example server: the browser offers (WHIP-style `POST /offer`),
//! the server answers with a complete SDP; text and binary messages of 1 B to 256 KiB and a
//! 32 MiB bulk transfer must come back unchanged, over loopback host candidates, and the
//! session must be freed after the browser closes, on each of the server's runtimes (tokio,
//! smol, mio). All inside a loopback-only namespace.
//! In reverse (`echo-reverse`) the server offers and Chromium answers, so Chromium is the DTLS
//! client and rtcpeer the DTLS server; the same echoes and a 4 MiB bulk transfer must pass.

mod chromium_support;
mod example_bin;
mod provision;

use chromium_support::{assert_passed, browser_available, run_driver};
use example_bin::example_binary;

fn browser_offers_to_echo_server(runtime: &str) {
    if !browser_available("chromium_echo") {
        return;
    }
    let server = example_binary("echo");
    let server = server.to_str().expect("target path is UTF-8");
    let result = run_driver(&["echo", "--server", server, "--runtime", runtime]);
    assert_passed(&result);
    let run = &result["run"];
    assert_eq!(run["status"], 201);
    assert!(
        run["serverMaxMessageSize"].as_u64() >= Some(262_144),
        "{run}"
    );
    assert_eq!(run["selected"]["remote"]["address"], "127.0.0.1");
    assert_eq!(run["bulk"]["bytes"], 32 << 20);
    assert_eq!(run["bulk"]["mismatches"], 0);
    assert_eq!(run["sessionsAfterClose"], 0);
}

#[test]
fn chromium_offers_to_tokio_echo_server_and_gets_every_message_back() {
    browser_offers_to_echo_server("tokio");
}

#[test]
fn chromium_offers_to_smol_echo_server_and_gets_every_message_back() {
    browser_offers_to_echo_server("smol");
}

#[test]
fn chromium_offers_to_mio_echo_server_and_gets_every_message_back() {
    browser_offers_to_echo_server("mio");
}

#[test]
fn echo_server_offers_and_chromium_answers_as_dtls_client() {
    if !browser_available("chromium_echo") {
        return;
    }
    let server = example_binary("echo");
    let server = server.to_str().expect("target path is UTF-8");
    let result = run_driver(&["echo-reverse", "--server", server, "--runtime", "tokio"]);
    assert_passed(&result);
    let run = &result["run"];
    assert_eq!(run["mode"], "server-offers");
    assert_eq!(run["status"], 201);
    assert_eq!(run["answerStatus"], 204);
    assert_eq!(run["selected"]["remote"]["address"], "127.0.0.1");
    assert_eq!(run["bulk"]["bytes"], 4 << 20);
    assert_eq!(run["bulk"]["mismatches"], 0);
    assert_eq!(run["sessionsAfterClose"], 0);
}
