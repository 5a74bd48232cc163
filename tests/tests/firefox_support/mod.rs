//! What the Firefox interop tests need beyond `chromium_support` (which runs the driver):
//! Debian's `firefox-esr` and the driver's `puppeteer-core`. The same policy: missing
//! prerequisites are installed by `tests/provision.sh`; `RTCPEER_SKIP_BROWSER=1` skips
//! loudly instead.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn firefox_path() -> PathBuf {
    std::env::var_os("RTCPEER_FIREFOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/firefox-esr"))
}

fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !firefox_path().is_file() {
        missing.push(format!("firefox-esr at {}", firefox_path().display()));
    }
    let node_ok = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node_ok {
        missing.push("node on PATH".to_owned());
    }
    let puppeteer = crate::chromium_support::repo_root()
        .join("tests/interop/node_modules/puppeteer-core/package.json");
    if !puppeteer.is_file() {
        missing.push(format!(
            "{} (run `npm ci` in tests/interop)",
            puppeteer.display()
        ));
    }
    missing
}

/// Whether the Firefox tests can run (installing what is missing first); `false` only
/// when something is missing and `RTCPEER_SKIP_BROWSER=1` allows skipping.
pub fn firefox_available(test: &str) -> bool {
    if missing_prerequisites().is_empty() {
        return true;
    }
    if std::env::var("RTCPEER_SKIP_BROWSER").as_deref() == Ok("1") {
        let list = missing_prerequisites().join(", ");
        eprintln!("\n!!!!! SKIPPING {test}: missing {list} (RTCPEER_SKIP_BROWSER=1) !!!!!\n");
        return false;
    }
    let provisioned = crate::provision::provision_once();
    let missing = missing_prerequisites();
    assert!(
        missing.is_empty(),
        "{test} needs firefox-esr and puppeteer-core: missing {}; installing them failed: \
         {provisioned:?}. Run tests/provision.sh as root (or set RTCPEER_SKIP_BROWSER=1).",
        missing.join(", ")
    );
    true
}
