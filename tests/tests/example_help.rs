//! Every example binary answers `--help` (and `-h`) with its usage on stdout and exit
//! status 0 — not "needs a value" or "unknown option". The list of binaries is read from
//! `examples/src/bin`, so a new example is covered without editing this test.

mod example_bin;

use std::path::Path;
use std::process::Command;

fn example_names() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/src/bin");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("examples/src/bin is readable")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 5, "found only {names:?}");
    names
}

fn assert_prints_usage(name: &str, flag: &str) {
    let output = Command::new(example_bin::example_binary(name))
        .arg(flag)
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{name} {flag}: status {:?}, stderr {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with(&format!("usage: {name}")),
        "{name} {flag} printed {stdout:?}"
    );
}

#[test]
fn every_example_prints_usage_and_exits_0_on_help() {
    for name in example_names() {
        assert_prints_usage(&name, "--help");
        assert_prints_usage(&name, "-h");
    }
}

#[test]
fn echo_help_lists_its_options() {
    let output = Command::new(example_bin::example_binary("echo"))
        .args(["--listen", "127.0.0.1:0", "--help"])
        .output()
        .expect("run echo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for option in ["--listen", "--runtime", "--max-sessions", "--ice-lite"] {
        assert!(stdout.contains(option), "usage lacks {option}: {stdout}");
    }
}
