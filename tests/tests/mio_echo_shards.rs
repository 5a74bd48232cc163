//! The `echo` server's mio backend sharded over two loop threads (`--shards 2`), each with
//! its own socket on the one UDP port: `loadgen`'s clients, each on a socket of its own
//! (so the kernel spreads them over both shards' sockets by source port), all connect and
//! echo without loss, and the datagrams that reached the shard not owning their session
//! were forwarded to its owner (the server logs the count).
//!
//! Needs the example binaries of the same profile (`cargo build -p rtcpeer-examples
//! --bins`); runs on loopback.

mod echo_load;
mod example_bin;

use echo_load::{EchoProcess, loadgen};
use std::time::{Duration, Instant};

const SESSIONS: usize = 200;
const ECHO_SECONDS: u64 = 3;
/// How long the server may take to log its forwarding figures after the run.
const REPORT_WAIT: Duration = Duration::from_secs(10);

/// `echo --runtime mio --shards <shards>`, logging its shard figures at info.
fn start_mio(shards: usize) -> EchoProcess {
    let sessions = SESSIONS.to_string();
    let shards = shards.to_string();
    let args = [
        "--runtime",
        "mio",
        "--shards",
        &shards,
        "--shared-certificate",
        "--max-sessions",
        &sessions,
        "--max-sessions-per-client",
        &sessions,
        "--max-connections-per-client",
        "256",
    ];
    let env = [
        ("NO_COLOR", "1"),
        ("RUST_LOG", "warn,rtcpeer_examples::echo::mio_shards=info"),
    ];
    EchoProcess::start("mio_echo_shards", &args, &env)
}

/// The last `forwarded` and `dropped_mailbox_full` figures the server logged.
fn routing_figures(echo: &EchoProcess) -> Option<(u64, u64)> {
    let log = echo.log_text()?;
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains("datagrams forwarded between shards"))?;
    Some((
        field(line, "forwarded")?,
        field(line, "dropped_mailbox_full")?,
    ))
}

/// The number after ` name=` in a log line.
fn field(line: &str, name: &str) -> Option<u64> {
    let at = line.find(&format!(" {name}="))? + name.len() + 2;
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Runs loadgen's clients against `url` for `ECHO_SECONDS` of echoes.
fn run_clients(url: &str) -> (bool, serde_json::Value, String) {
    let sessions = SESSIONS.to_string();
    let seconds = ECHO_SECONDS.to_string();
    loadgen(&[
        "--url",
        url,
        "--sessions",
        &sessions,
        "--rate",
        "200",
        "--size",
        "512",
        "--interval",
        "1",
        "--duration",
        &seconds,
        "--setup-timeout",
        "30",
    ])
}

#[test]
fn mio_echo_on_two_shards_connects_and_echoes_every_session_forwarding_between_shards() {
    let echo = start_mio(2);
    let (ok, report, stdout) = run_clients(&echo.url);
    assert_eq!(report["connected"], SESSIONS, "{stdout}");
    assert_eq!(report["failed"], 0, "{stdout}");
    assert_eq!(report["lost"], 0, "{stdout}");
    assert_eq!(report["corrupt"], 0, "{stdout}");
    assert_eq!(
        report["received"],
        SESSIONS as u64 * ECHO_SECONDS,
        "{stdout}"
    );
    assert!(ok, "loadgen reported a failure:\n{stdout}");
    let deadline = Instant::now() + REPORT_WAIT;
    let (forwarded, dropped) = loop {
        match routing_figures(&echo) {
            Some(figures) if figures.0 > 0 => break figures,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            other => panic!("no datagram forwarded between the shards: {other:?}"),
        }
    };
    println!("{SESSIONS} sessions on 2 shards: {forwarded} datagrams forwarded, {dropped} dropped");
}

#[test]
fn a_log_field_is_read_after_its_name() {
    let line = "INFO x: echo mio: datagrams forwarded between shards shards=2 forwarded=17 \
                dropped_mailbox_full=0";
    assert_eq!(field(line, "forwarded"), Some(17));
    assert_eq!(field(line, "dropped_mailbox_full"), Some(0));
    assert_eq!(field(line, "missing"), None);
}
