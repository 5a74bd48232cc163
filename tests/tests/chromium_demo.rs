//! The echo demo page in headless Chromium started WITHOUT `--allow-loopback-in-peer-connection`
//! against a server on 127.0.0.1: the page must say why it cannot connect (no candidates or
//! ICE failed, naming loopback), and an HTTP error from `/offer` must be shown as such (in a
//! Chromium that has candidates, so that it gets as far as posting its offer).
//!
//! In a namespace with nothing but loopback such a Chromium gathers no candidate and never
//! reports gathering complete: the page bounds its wait (5 s), which is what this test's
//! first run lacked (it hung until the driver's 90 s deadline).

mod chromium_support;
mod example_bin;
mod provision;

use chromium_support::{assert_passed, browser_available, run_driver};
use example_bin::example_binary;
use std::time::{Duration, Instant};

#[test]
fn demo_page_explains_why_a_browser_without_loopback_candidates_cannot_connect() {
    if !browser_available("chromium_demo") {
        return;
    }
    let server = example_binary("echo");
    let server = server.to_str().expect("target path is UTF-8");
    let started = Instant::now();
    let result = run_driver(&["demo-failure", "--server", server, "--runtime", "tokio"]);
    let took = started.elapsed();
    assert_passed(&result);
    assert!(took < Duration::from_secs(60), "the reasons took {took:?}");
    let reason = result["run"]["noLoopback"]["reason"]
        .as_str()
        .expect("a reason");
    assert!(reason.contains("loopback"), "{reason}");
    assert_eq!(result["run"]["noLoopback"]["state"], "failed");
    let http = result["run"]["httpError"]["reason"]
        .as_str()
        .expect("a reason");
    assert!(http.starts_with("HTTP error"), "{http}");
}
