//! The echo demo page in headless Chromium started WITHOUT `--allow-loopback-in-peer-connection`
//! against a server on 127.0.0.1: the page must say why it cannot connect (no candidates or
//! ICE failed, naming loopback), and an HTTP error from `/offer` must be shown as such.

mod chromium_support;
mod example_bin;
mod provision;

use chromium_support::{assert_passed, browser_available, run_driver};
use example_bin::example_binary;

#[test]
#[ignore = "not working yet: its first run timed out in the driver after 90 s (issue 12 item 7 \
            stays open); run with --ignored while fixing it"]
fn demo_page_explains_why_a_browser_without_loopback_candidates_cannot_connect() {
    if !browser_available("chromium_demo") {
        return;
    }
    let server = example_binary("echo");
    let server = server.to_str().expect("target path is UTF-8");
    let result = run_driver(&["demo-failure", "--server", server, "--runtime", "tokio"]);
    assert_passed(&result);
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
