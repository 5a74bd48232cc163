//! Issue 14 at CI scale: the `echo` server on each runtime (tokio, smol, mio) in one
//! process, the `loadgen` example in another, over loopback.
//!
//! - `SESSIONS` data channel sessions all connect and each echoes 1 KiB every second for
//!   `ECHO_SECONDS` with no loss; the server's own figures (`GET /stats`: resident memory
//!   per idle session once all are connected, CPU time per new session over the setup
//!   phase, both with a shared certificate) are printed and held under ceilings.
//! - `SESSIONS` abandoned sessions (offer answered, then the client sends nothing) are gone
//!   within the server's unchecked timeout, twice, after a warm-up round of
//!   `WARMUP_SESSIONS` whose freed server is the baseline; each round gives back at least
//!   90 % of the resident memory its sessions took (the server hands freed heap back to
//!   the OS) and ends within 10 % of the baseline, and the second ends within 10 % of the
//!   first (nothing accumulates).
//!
//! The full figure (10,000 sessions for 60 s, release build) is run by hand with the same
//! programs; see the README. Run with `--nocapture` to see the figures. The runs take the
//! machine's cores, so they hold one lock and run one at a time.

mod echo_load;
mod example_bin;

use echo_load::{EchoProcess, loadgen};
use std::sync::Mutex;

const SESSIONS: usize = 1000;
const ECHO_SECONDS: u64 = 10;
/// Issue 14's limits, reported beside each figure.
const ISSUE_RSS_PER_SESSION: f64 = 32.0 * 1024.0;
const ISSUE_CPU_PER_SESSION_MS: f64 = 0.5;
/// Ceilings the tests hold. Measured (1,000 sessions, shared certificate, a loaded
/// 2-core machine): 25 to 28 KiB per connected idle session (mio 25.1, tokio 27.5, smol
/// 28.0), so the issue's 32 KiB is the ceiling; 1.6 to 1.8 ms of server CPU per new
/// session, of which most is P-256 arithmetic (ECDHE, the ServerKeyExchange signature, the
/// check of the client's CertificateVerify): the issue's 0.5 ms is not met, and the CPU
/// ceiling catches regressions beyond today's figure.
const MAX_RSS_PER_SESSION: f64 = ISSUE_RSS_PER_SESSION;
const MAX_CPU_PER_SESSION_MS: f64 = 6.0;
/// Sessions of the abandoned-session runs' warm-up round.
const WARMUP_SESSIONS: usize = 100;
/// Share of the memory a round's sessions took that must be back once they are gone.
/// Measured 98 to 101 % at 1,000 sessions on every runtime. Without the server's heap
/// return it is under 10 %; with the trim but glibc's default tunables, 87 to 94 % (and
/// about 35 % on smol on the second round: see `rtcpeer_examples::heap`).
const MIN_RETURNED: f64 = 0.90;
/// The issue's bound: the RSS once a round's sessions are gone, over the baseline.
/// Measured -2 to +3 %.
const MAX_GROWTH_OVER_BASELINE: f64 = 0.10;
/// The unchecked timeout the abandoned-session runs give the server, seconds.
const UNCHECKED_TIMEOUT: f64 = 2.0;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `echo` on `runtime` with the limits every run here needs, plus `extra`.
fn start_echo(runtime: &str, extra: &[&str]) -> EchoProcess {
    let sessions = (2 * SESSIONS).to_string();
    let mut args = vec!["--runtime", runtime, "--shared-certificate"];
    args.extend([
        "--max-sessions",
        &sessions,
        "--max-sessions-per-client",
        &sessions,
    ]);
    args.extend(["--max-connections-per-client", "256"]);
    args.extend(extra);
    EchoProcess::start(&format!("loadgen_echo_{runtime}"), &args, &[])
}

/// echo restarted itself (same pid) with its glibc tunables (no per-thread cache, no fast
/// bins, a fixed trim threshold), without which freed sessions' pages stay resident (see
/// `rtcpeer_examples::heap`).
fn assert_runs_with_server_tunables(echo: &EchoProcess) {
    let environ =
        std::fs::read(format!("/proc/{}/environ", echo.child.id())).expect("echo's environment");
    let tunables = environ
        .split(|b| *b == 0)
        .find_map(|kv| kv.strip_prefix(b"GLIBC_TUNABLES=".as_slice()))
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .unwrap_or_default();
    // glibc rewrites the variable as it parses it (only its first tunable is left in the
    // environment), so the first one the restart sets is what can be checked here; the
    // memory figures below show the rest took effect.
    assert!(
        tunables.starts_with("glibc.malloc.tcache_count=0"),
        "echo's GLIBC_TUNABLES: {tunables:?}"
    );
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn load_run(runtime: &str) {
    let _serial = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let echo = start_echo(runtime, &[]);
    let sessions = SESSIONS.to_string();
    let duration = ECHO_SECONDS.to_string();
    let (ok, report, stdout) = loadgen(&[
        "--url",
        &echo.url,
        "--sessions",
        &sessions,
        "--rate",
        "250",
        "--size",
        "1024",
        "--interval",
        "1",
        "--duration",
        &duration,
        "--setup-timeout",
        "60",
    ]);
    let server = &report["server"];
    let rss = f(&server["rssPerIdleSession"]);
    let cpu = f(&server["cpuPerNewSessionMs"]);
    println!(
        "{runtime}: {SESSIONS} sessions: server RSS per idle session {:.1} KiB (issue: {:.0} \
         KiB, {}), CPU per new session {cpu:.3} ms (issue: {ISSUE_CPU_PER_SESSION_MS} ms, \
         {}); setup p50/p99 {:.1}/{:.1} ms, echo RTT p50/p99 {:.2}/{:.2} ms",
        rss / 1024.0,
        ISSUE_RSS_PER_SESSION / 1024.0,
        if rss <= ISSUE_RSS_PER_SESSION {
            "met"
        } else {
            "not met"
        },
        if cpu <= ISSUE_CPU_PER_SESSION_MS {
            "met"
        } else {
            "not met"
        },
        f(&report["setupMs"]["p50"]),
        f(&report["setupMs"]["p99"]),
        f(&report["rttMs"]["p50"]),
        f(&report["rttMs"]["p99"]),
    );
    assert_eq!(report["connected"], SESSIONS, "{stdout}");
    assert_eq!(report["failed"], 0, "{stdout}");
    assert_eq!(report["lost"], 0, "{stdout}");
    assert_eq!(report["corrupt"], 0, "{stdout}");
    let expected = SESSIONS as u64 * ECHO_SECONDS;
    assert_eq!(report["received"], expected, "{stdout}");
    assert!(ok, "loadgen reported a failure:\n{stdout}");
    assert!(
        rss <= MAX_RSS_PER_SESSION,
        "{runtime}: {rss} bytes per idle session"
    );
    assert!(
        cpu <= MAX_CPU_PER_SESSION_MS,
        "{runtime}: {cpu} ms of CPU per new session"
    );
}

fn abandon_run(runtime: &str) {
    let _serial = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let timeout = UNCHECKED_TIMEOUT.to_string();
    let echo = start_echo(runtime, &["--unchecked-timeout", &timeout]);
    assert_runs_with_server_tunables(&echo);
    let sessions = SESSIONS.to_string();
    let (ok, report, stdout) = loadgen(&[
        "--url",
        &echo.url,
        "--abandon",
        "--sessions",
        &sessions,
        "--rate",
        "1000",
        "--rounds",
        "2",
        "--warmup",
        &WARMUP_SESSIONS.to_string(),
        "--drain-timeout",
        "30",
    ]);
    assert!(ok, "loadgen reported a failure:\n{stdout}");
    let rounds = report["rounds"].as_array().expect("rounds");
    for round in rounds {
        assert_eq!(round["answered"], SESSIONS, "{stdout}");
        assert_eq!(round["sessionsAfter"], 0, "{stdout}");
        // Every session is gone within its timeout of the last offer, plus polling slack.
        assert!(
            f(&round["drainedAfterPostsSeconds"]) <= UNCHECKED_TIMEOUT + 3.0,
            "{runtime}: sessions outlived their timeout:\n{stdout}"
        );
    }
    let start = f(&report["rssStart"]);
    let baseline = f(&report["rssBaseline"]);
    let mib = |bytes: f64| bytes / 1048576.0;
    for (i, round) in rounds.iter().enumerate() {
        let (peak, after) = (f(&round["peakRss"]), f(&round["rssAfter"]));
        let returned = (peak - after) / (peak - baseline);
        println!(
            "{runtime}: round {}: {SESSIONS} abandoned sessions: RSS {:.1} MiB at start, \
             {:.1} MiB after {WARMUP_SESSIONS} warm-up sessions (baseline), {:.1} MiB at the \
             peak, {:.1} MiB once freed ({:+.1} % of the baseline, {:.0} % of what the \
             sessions took given back)",
            i + 1,
            mib(start),
            mib(baseline),
            mib(peak),
            mib(after),
            (after / baseline - 1.0) * 100.0,
            returned * 100.0
        );
        assert!(
            returned >= MIN_RETURNED,
            "{runtime}: round {}: only {:.0} % of the sessions' memory came back \
             (baseline {baseline}, peak {peak}, after {after})",
            i + 1,
            returned * 100.0
        );
    }
    for (i, round) in rounds.iter().enumerate() {
        let after = f(&round["rssAfter"]);
        assert!(
            after <= baseline * (1.0 + MAX_GROWTH_OVER_BASELINE),
            "{runtime}: round {}: RSS {after} once freed, more than {:.0} % over the \
             baseline {baseline}",
            i + 1,
            MAX_GROWTH_OVER_BASELINE * 100.0
        );
    }
    let (first, second) = (f(&rounds[0]["rssAfter"]), f(&rounds[1]["rssAfter"]));
    assert!(
        second <= first * 1.10,
        "{runtime}: RSS {second} after the second round, {first} after the first"
    );
}

#[test]
fn tokio_echo_serves_1000_loadgen_sessions_without_loss() {
    load_run("tokio");
}

#[test]
fn smol_echo_serves_1000_loadgen_sessions_without_loss() {
    load_run("smol");
}

#[test]
fn mio_echo_serves_1000_loadgen_sessions_without_loss() {
    load_run("mio");
}

#[test]
fn tokio_echo_frees_abandoned_sessions_and_their_memory() {
    abandon_run("tokio");
}

#[test]
fn smol_echo_frees_abandoned_sessions_and_their_memory() {
    abandon_run("smol");
}

#[test]
fn mio_echo_frees_abandoned_sessions_and_their_memory() {
    abandon_run("mio");
}
