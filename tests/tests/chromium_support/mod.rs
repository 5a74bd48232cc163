//! Runs the Node/Chromium interop driver (`tests/interop/run.mjs`) inside a loopback-only
//! network namespace (`tests/interop/netns.sh`) and returns its JSON result.
//!
//! Chromium, Node and the driver's `node_modules` are installed by `tests/provision.sh`, which
//! `.ci/run` runs first and these tests run themselves when something is missing. When
//! `RTCPEER_SKIP_BROWSER=1` is set, nothing is installed: a missing prerequisite prints a loud
//! notice and the test returns early, so a developer without a browser can run the rest.
//! Otherwise a prerequisite that cannot be installed fails the test.

// Each `chromium_*` test crate includes this module and uses a subset of it.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a driver run may take before it is killed and the test fails.
const DRIVER_TIMEOUT: Duration = Duration::from_secs(150);

/// The repository root (parent of the `tests` package).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package lives one level below the repository root")
        .to_path_buf()
}

fn interop_dir() -> PathBuf {
    repo_root().join("tests").join("interop")
}

fn chromium_path() -> PathBuf {
    std::env::var_os("RTCPEER_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// What is missing for a browser run, if anything.
fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    if !chromium_path().is_file() {
        missing.push(format!("chromium at {}", chromium_path().display()));
    }
    let node_ok = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node_ok {
        missing.push("node on PATH".to_owned());
    }
    let playwright = interop_dir().join("node_modules/playwright-core/package.json");
    if !playwright.is_file() {
        missing.push(format!(
            "{} (run `npm ci` in tests/interop)",
            playwright.display()
        ));
    }
    missing
}

/// Whether the browser tests can run. Installs missing prerequisites first (see the module
/// doc); `false` only when some are missing and `RTCPEER_SKIP_BROWSER=1` allows skipping;
/// panics when they are missing and cannot be installed.
pub fn browser_available(test: &str) -> bool {
    let mut missing = missing_prerequisites();
    if missing.is_empty() {
        return true;
    }
    let list = missing.join(", ");
    if std::env::var("RTCPEER_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("\n!!!!! SKIPPING {test}: missing {list} (RTCPEER_SKIP_BROWSER=1) !!!!!\n");
        return false;
    }
    let provisioned = crate::provision::provision_once();
    missing = missing_prerequisites();
    if missing.is_empty() {
        return true;
    }
    panic!(
        "{test} needs headless Chromium and the Node driver: missing {}; installing them \
         failed: {provisioned:?}. Run tests/provision.sh as root (or set \
         RTCPEER_SKIP_BROWSER=1 to skip browser tests).",
        missing.join(", ")
    );
}

/// Runs `node run.mjs <args>` in a fresh loopback-only namespace and parses the JSON line
/// it prints last. Panics (failing the test) on timeout or when no JSON result appears.
pub fn run_driver(args: &[&str]) -> serde_json::Value {
    let dir = interop_dir();
    let mut child = Command::new(dir.join("netns.sh"))
        .arg("node")
        .arg(dir.join("run.mjs"))
        .args(args)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tests/interop/netns.sh");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || read_all(&mut stdout));
    let err_reader = std::thread::spawn(move || read_all(&mut stderr));
    let status = wait_with_deadline(&mut child, DRIVER_TIMEOUT);
    let out = out_reader.join().expect("stdout reader thread");
    let err = err_reader.join().expect("stderr reader thread");
    let Some(status) = status else {
        panic!(
            "interop driver {args:?} timed out after {DRIVER_TIMEOUT:?}\nstdout:\n{out}\nstderr:\n{err}"
        );
    };
    let last = out.lines().rev().find(|l| l.trim_start().starts_with('{'));
    let Some(line) = last else {
        panic!(
            "interop driver {args:?} exited {status} without a JSON result\nstdout:\n{out}\nstderr:\n{err}"
        );
    };
    let value: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("driver printed invalid JSON ({e}): {line}\nstderr:\n{err}"));
    eprintln!("interop driver {args:?} exited {status}; result: {value:#}");
    if !err.trim().is_empty() {
        eprintln!("driver stderr:\n{err}");
    }
    value
}

fn read_all(r: &mut impl Read) -> String {
    let mut buf = Vec::new();
    // A read error only truncates the diagnostic text; the JSON check then fails loudly.
    let _ = r.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn wait_with_deadline(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for the interop driver") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            // Killing the namespace's first process (unshare/sh) tears the namespace down.
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asserts the driver's verdict: `ok` is true and `failures` is empty.
pub fn assert_passed(result: &serde_json::Value) {
    let failures = &result["failures"];
    assert_eq!(
        result["ok"],
        serde_json::Value::Bool(true),
        "driver failures: {failures:#}"
    );
    assert_eq!(
        failures.as_array().map(Vec::len),
        Some(0),
        "driver failures: {failures:#}"
    );
}
