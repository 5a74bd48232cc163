//! The `mio_loop` program (two peers on a hand-written mio loop over 127.0.0.1) moves data
//! with order and content checked; here with 1 MiB. Runs the binary cargo built for this
//! test, never cargo itself.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `mio_loop` with `args`, killing it after 60 s.
fn run_mio_loop(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mio_loop"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mio_loop");
    let started = Instant::now();
    while child.try_wait().expect("mio_loop status").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let output = child.wait_with_output().expect("mio_loop output");
            panic!(
                "mio_loop ran over 60 s; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("mio_loop output")
}

/// The number right after `prefix` in `text` (up to the next space).
fn number_after(text: &str, prefix: &str) -> f64 {
    let rest = text
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{text}"));
    let number = rest.split(' ').next().unwrap_or_default();
    number
        .parse()
        .unwrap_or_else(|e| panic!("{number:?} after {prefix:?}: {e}"))
}

#[test]
fn mio_loop_moves_one_mib_checked_and_reports_setup_and_throughput() {
    let output = run_mio_loop(&["--mib", "1", "--chunk", "16384"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "mio_loop failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let setup_ms = number_after(&stdout, "setup: ");
    assert!(setup_ms > 0.0 && setup_ms < 30_000.0, "setup {setup_ms} ms");
    let mbps = number_after(&stdout, "throughput: ");
    assert!(mbps > 0.0, "throughput {mbps} MB/s");
    assert!(
        stdout.contains("(64 messages of 16384 B,") && stdout.contains("order and content checked"),
        "1 MiB in 16 KiB messages, checked:\n{stdout}"
    );
    assert!(
        stderr.contains("1.0/1.0 MiB"),
        "progress bar reaches the end:\n{stderr}"
    );
}

#[test]
fn mio_loop_rejects_a_chunk_size_out_of_range() {
    let output = run_mio_loop(&["--chunk", "3"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--chunk must be within"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing runs");
}
