//! The `loopback` program connects two peers over 127.0.0.1 and moves data with order and
//! content checked; here with 1 MiB in 1 KiB messages.

use std::process::Command;

#[test]
fn loopback_moves_one_mebibyte_and_reports_setup_and_throughput() {
    let output = Command::new(env!("CARGO_BIN_EXE_loopback"))
        .args(["--mib", "1", "--chunk", "1024"])
        .output()
        .expect("run the loopback program");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("setup: "), "{stdout}");
    assert!(
        stdout.contains("(1024 messages of 1024 B") && stdout.contains("order and content checked"),
        "{stdout}"
    );
}

#[test]
fn loopback_refuses_an_oversized_chunk() {
    let output = Command::new(env!("CARGO_BIN_EXE_loopback"))
        .args(["--chunk", "300000"])
        .output()
        .expect("run the loopback program");
    assert_eq!(output.status.code(), Some(2));
}
