//! An `echo` server process and `loadgen` runs against it, for the tests that load the
//! server (`loadgen_echo`, `mio_echo_shards`). The including test declares `mod
//! example_bin;` beside `mod echo_load;`.

// Each test crate that includes this module uses a part of it.
#![allow(dead_code)]

use crate::example_bin::example_binary;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running echo server whose log goes to a file; killed (and its log removed) when
/// dropped.
pub struct EchoProcess {
    pub child: Child,
    /// `http://IP:PORT` as the server printed it.
    pub url: String,
    pub log: PathBuf,
}

impl EchoProcess {
    /// Starts `echo --listen 127.0.0.1:0 <args>` with `env` added (and `GLIBC_TUNABLES`
    /// removed, so that the server chooses its own); `tag` names the log file.
    pub fn start(tag: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let log = std::env::temp_dir().join(format!("rtcpeer_{tag}_{}.log", std::process::id()));
        let mut child = Command::new(example_binary("echo"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .env_remove("GLIBC_TUNABLES")
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

    /// What the server has logged so far.
    pub fn log_text(&self) -> Option<String> {
        std::fs::read_to_string(&self.log).ok()
    }
}

impl Drop for EchoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Runs loadgen with `args` (its soft open-file limit raised to 4,096, or the hard limit:
/// every client has its own UDP socket); its exit success, final JSON report and output.
pub fn loadgen(args: &[&str]) -> (bool, serde_json::Value, String) {
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@""#)
        .arg(example_binary("loadgen"))
        .args(args)
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
