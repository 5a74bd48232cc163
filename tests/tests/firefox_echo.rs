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

/// The timing tests run one browser at a time: two Firefox instances starting at once on
/// a two-core machine measure each other, not rtcpeer.
static ONE_BROWSER_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn firefox_offers_to_echo_server(ice_lite: &str) -> serde_json::Value {
    let _alone = ONE_BROWSER_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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

fn open_after_answer_ms(run: &serde_json::Value, ice_lite: &str) -> f64 {
    let ms = run["openAfterAnswerMs"]
        .as_f64()
        .unwrap_or_else(|| panic!("no openAfterAnswerMs in {run}"));
    eprintln!("firefox (server ICE lite {ice_lite}): channel open {ms:.0} ms after the answer");
    ms
}

#[test]
fn firefox_offers_to_the_echo_server_and_gets_every_message_back_quickly() {
    if !firefox_available("firefox_echo") {
        return;
    }
    let run = firefox_offers_to_echo_server("on");
    let ms = open_after_answer_ms(&run, "on");
    assert!(
        ms < OPEN_AFTER_ANSWER_MS,
        "channel open {ms} ms after the answer"
    );
}

/// Issue 11 item 3 with full ICE: Firefox drops DTLS until its nomination is answered, so
/// our first ClientHello (sent on the first valid pair) is lost and must go again when it
/// nominates, not 1 s later; on a loaded machine our round-trip estimate can be too long
/// for the immediate resend, and the deferred one covers it (see `dtls_race_sim`).
#[test]
fn firefox_with_a_full_ice_server_opens_the_channel_without_the_one_second_stall() {
    if !firefox_available("firefox_echo") {
        return;
    }
    let run = firefox_offers_to_echo_server("off");
    let ms = open_after_answer_ms(&run, "off");
    assert!(
        ms < OPEN_AFTER_ANSWER_MS,
        "channel open {ms} ms after the answer (the 1 s DTLS retransmission of issue 11 item 3)"
    );
}
