//! The `bench` example runs tiny on every adapter and prints one well-formed JSON line per
//! adapter and measure, with sane figures. Targets are not checked here: a debug build on a
//! shared machine says nothing about them; the line only has to say whether they are met.

mod example_bin;

use example_bin::example_binary;
use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(240);

/// Runs `bench` with `args`, killing it after [`LIMIT`]; returns its exit code and stdout.
fn run_bench(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(example_binary("bench"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the bench binary");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for bench") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bench {args:?} took longer than {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status.code(), reader.join().expect("stdout reader"))
}

fn number(line: &Value, key: &str) -> f64 {
    line[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {line}"))
}

fn check_setup(line: &Value) {
    assert_eq!(line["runs"], 3, "{line}");
    let (median, p90) = (number(line, "median_ms"), number(line, "p90_ms"));
    assert!(median > 0.0 && median <= p90 && p90 < 20_000.0, "{line}");
}

fn check_throughput(line: &Value) {
    let transfers = line["transfers"].as_array().expect("transfers array");
    let sizes: Vec<_> = transfers.iter().map(|t| &t["message_bytes"]).collect();
    assert_eq!(sizes, [16384, 1024], "{line}");
    for t in transfers {
        assert_eq!(number(t, "bytes"), f64::from(1 << 20), "{line}");
        assert!(
            number(t, "mb_per_s") > 0.0 && number(t, "msg_per_s") > 0.0,
            "{line}"
        );
        if cfg!(target_os = "linux") {
            assert!(number(t, "cpu_s") >= 0.0, "{line}");
            assert!(number(t, "udp_in_errors") >= 0.0, "{line}");
            assert!(number(t, "udp_rcvbuf_errors") >= 0.0, "{line}");
        }
    }
}

fn check_idle(line: &Value) {
    assert_eq!(
        (&line["pairs"], &line["peers"]),
        (&Value::from(4), &Value::from(8))
    );
    if cfg!(target_os = "linux") {
        let per_peer = number(line, "kib_per_peer");
        assert!((0.0..100.0 * 1024.0).contains(&per_peer), "{line}");
        assert!(number(line, "rss_after_kib") >= number(line, "rss_before_kib") - 1024.0);
    }
}

#[test]
fn bench_prints_one_sane_json_line_per_adapter_and_measure() {
    let (code, out) = run_bench(&["--mib", "1", "--runs", "3", "--pairs", "4", "--json"]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let mut seen = Vec::new();
    for line in &lines {
        assert!(line.get("error").is_none(), "a measure failed: {line}");
        assert!(line["meets_target"].is_boolean(), "{line}");
        assert!(
            line["target"].is_object() && line["checks"].is_object(),
            "{line}"
        );
        let adapter = line["adapter"].as_str().expect("adapter name");
        let measure = line["measure"].as_str().expect("measure name");
        match measure {
            "setup" => check_setup(line),
            "throughput" => check_throughput(line),
            "idle" => check_idle(line),
            other => panic!("unknown measure {other}"),
        }
        seen.push(format!("{adapter}/{measure}"));
    }
    let expected: Vec<String> = ["tokio", "smol", "mio"]
        .iter()
        .flat_map(|a| ["setup", "throughput", "idle"].map(|m| format!("{a}/{m}")))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(code, Some(0), "every measure completed");
}

#[test]
fn bench_prints_a_table_naming_the_machine_by_default() {
    let (code, out) = run_bench(&["--adapter", "mio", "--measure", "setup", "--runs", "3"]);
    assert_eq!(code, Some(0), "{out}");
    let mut lines = out.lines();
    let header = lines.next().expect("a header");
    assert!(header.contains("logical CPUs"), "{out}");
    assert!(!out.contains("{\""), "no JSON without --json: {out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("mio"))
        .unwrap_or_else(|| panic!("a mio row: {out}"));
    assert!(row.contains("median") && row.contains("ms"), "{row}");
    assert!(row.ends_with("target]"), "{row}");
}

#[test]
fn bench_rejects_an_unknown_adapter_with_usage_status() {
    let (code, out) = run_bench(&["--adapter", "nonesuch"]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty(), "nothing measured: {out}");
}
