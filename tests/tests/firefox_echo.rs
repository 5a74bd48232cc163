//! Firefox ESR (Debian's `firefox-esr`, driven by puppeteer-core over WebDriver BiDi)
//! against the `echo` example server, beside `chromium_echo`: the browser offers, the server
//! answers; text and binary messages of 1 B to 256 KiB and a 4 MiB bulk transfer must come
//! back unchanged over loopback host candidates, the session must be freed after the
//! browser closes, and the channel must open soon after the answer.
//!
//! The open time is the figure of issue 11: with the server running full ICE, rtcpeer's
//! first DTLS flight can reach Firefox before Firefox has applied the answer; Firefox drops
//! it and the channel opens only after the 1 s retransmission (measured here: ~1,020 ms).
//! The echo server's default, ICE-lite, sends nothing before the browser's first check,
//! which Firefox sends only once it has the answer (measured: ~55 ms).

mod chromium_support;
mod example_bin;
mod firefox_support;
mod provision;

use chromium_support::{assert_passed, run_driver};
use example_bin::example_binary;
use firefox_support::firefox_available;

/// Longest acceptable time from the answer to the open channel on loopback.
const OPEN_AFTER_ANSWER_MS: f64 = 150.0;

fn firefox_offers_to_echo_server(ice_lite: &str) -> serde_json::Value {
    let server = example_binary("echo");
    let server = server.to_str().expect("target path is UTF-8");
    let result = run_driver(&[
        "echo",
        "--browser",
        "firefox",
        "--server",
        server,
        "--ice-lite",
        ice_lite,
        "--bulk-mib",
        "4",
    ]);
    assert_passed(&result);
    assert!(
        result["browser"]
            .as_str()
            .is_some_and(|b| b.starts_with("firefox")),
        "{}",
        result["browser"]
    );
    let run = result["run"].clone();
    assert_eq!(run["status"], 201);
    assert_eq!(run["selected"]["remote"]["address"], "127.0.0.1");
    assert_eq!(run["bulk"]["bytes"], 4 << 20);
    assert_eq!(run["bulk"]["mismatches"], 0);
    assert_eq!(run["sessionsAfterClose"], 0);
    run
}

fn open_after_answer_ms(run: &serde_json::Value) -> f64 {
    let ms = run["openAfterAnswerMs"]
        .as_f64()
        .unwrap_or_else(|| panic!("no openAfterAnswerMs in {run}"));
    eprintln!("firefox: channel open {ms:.0} ms after the answer");
    ms
}

#[test]
fn firefox_offers_to_the_echo_server_and_gets_every_message_back_quickly() {
    if !firefox_available("firefox_echo") {
        return;
    }
    let run = firefox_offers_to_echo_server("on");
    let ms = open_after_answer_ms(&run);
    assert!(
        ms < OPEN_AFTER_ANSWER_MS,
        "channel open {ms} ms after the answer"
    );
}

/// AWAITS THE CORE FIX of issue 11 item 3 (first DTLS flight robust to the answer race):
/// with full ICE the open time is ~1,020 ms until that fix is merged, and this assertion
/// fails. Everything else in it passes today.
#[test]
#[ignore = "flaky: with the first-flight resend merged it passed one CI run and measured \
            1,023 ms in the next, so the race is not fixed for every run (issue 11 item 3 stays \
            open); run with --ignored while fixing it"]
fn firefox_with_a_full_ice_server_opens_the_channel_without_the_one_second_stall() {
    if !firefox_available("firefox_echo") {
        return;
    }
    let run = firefox_offers_to_echo_server("off");
    let ms = open_after_answer_ms(&run);
    assert!(
        ms < OPEN_AFTER_ANSWER_MS,
        "channel open {ms} ms after the answer (the 1 s DTLS retransmission of issue 11 item 3)"
    );
}
