//! Command-line behaviour of the example programs that issue 12 asked for: `ice_sim` into a
//! closed pipe (`ice_sim | head`) neither panics nor skips its pcap.

mod example_bin;

use example_bin::example_binary;
use std::process::{Command, Stdio};

#[test]
fn ice_sim_into_a_closed_pipe_does_not_panic_and_still_writes_its_pcap() {
    let dir = std::env::temp_dir().join(format!("rtcpeer_ice_sim_pipe_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pcap = dir.join("capture.pcap");
    let mut child = Command::new(example_binary("ice_sim"))
        .arg("--pcap")
        .arg(&pcap)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ice_sim");
    // Close the reading end before the program writes anything: every write then fails
    // with a broken pipe, as with `| head` once head has exited.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("ice_sim ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        output.status.code(),
        Some(0),
        "the peers connected: {stderr}"
    );
    let size = std::fs::metadata(&pcap).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 24,
        "a pcap with packets after its 24-byte header: {size} bytes"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
