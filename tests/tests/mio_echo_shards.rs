//! The `echo` server's mio backend sharded over two loop threads (`--shards 2`), each with
//! its own socket on the one UDP port: `loadgen`'s clients, each on a socket of its own
//! (so the kernel spreads them over both shards' sockets by source port), all connect and
//! echo without loss, and the datagrams that reached the shard not owning their session
//! were forwarded to its owner (the server logs the count).
//!
//! Needs the example binaries of the same profile (`cargo build -p rtcpeer-examples
//! --bins`); runs on loopback.

mod example_bin;

use example_bin::example_binary;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SESSIONS: usize = 200;
const ECHO_SECONDS: u64 = 3;
/// How long the server may take to log its forwarding figures after the run.
const REPORT_WAIT: Duration = Duration::from_secs(10);

/// A running echo server logging to a file; killed when dropped.
struct Echo {
    child: Child,
    url: String,
    log: std::path::PathBuf,
}

impl Echo {
    fn start_mio(shards: usize) -> Self {
        let log = std::env::temp_dir().join(format!(
            "rtcpeer_mio_echo_shards_{}.log",
            std::process::id()
        ));
        let sessions = SESSIONS.to_string();
        let mut child = Command::new(example_binary("echo"))
            .args(["--listen", "127.0.0.1:0", "--runtime", "mio"])
            .args(["--shards", &shards.to_string(), "--shared-certificate"])
            .args(["--max-sessions", &sessions])
            .args(["--max-sessions-per-client", &sessions])
            .args(["--max-connections-per-client", "256"])
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "warn,rtcpeer_examples::echo::mio_shards=info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("echo log file"))
            .spawn()
            .expect("start echo");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("echo's first line");
        let url = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .map(|a| format!("http://{}", a.trim_end_matches('/')))
            .unwrap_or_else(|| panic!("no URL in echo's first line {line:?}"));
        Self { child, url, log }
    }

    /// The last `forwarded` and `dropped_mailbox_full` figures the server logged.
    fn routing_figures(&self) -> Option<(u64, u64)> {
        let log = std::fs::read_to_string(&self.log).ok()?;
        let line = log
            .lines()
            .rev()
            .find(|l| l.contains("datagrams forwarded between shards"))?;
        Some((
            field(line, "forwarded")?,
            field(line, "dropped_mailbox_full")?,
        ))
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
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

/// Runs loadgen against `url` (its open-file limit raised: a socket per client); its
/// exit success, JSON report and output.
fn loadgen(url: &str) -> (bool, serde_json::Value, String) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@""#)
        .arg(example_binary("loadgen"))
        .args(["--url", url, "--sessions", &SESSIONS.to_string()])
        .args(["--rate", "200", "--size", "512", "--interval", "1"])
        .args(["--duration", &ECHO_SECONDS.to_string()])
        .args(["--setup-timeout", "30"])
        .stderr(Stdio::inherit())
        .output()
        .expect("run loadgen");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{stdout}");
    let report = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON report from loadgen:\n{stdout}"));
    (output.status.success(), report, stdout)
}

#[test]
fn mio_echo_on_two_shards_connects_and_echoes_every_session_forwarding_between_shards() {
    let echo = Echo::start_mio(2);
    let (ok, report, stdout) = loadgen(&echo.url);
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
        match echo.routing_figures() {
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
