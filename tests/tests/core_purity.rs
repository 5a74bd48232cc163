//! The core stays sans-IO: no clock reads, no OS randomness, no sockets, no threads.
//! clippy enforces this through `core/clippy.toml`; this test is the textual backstop
//! (it also catches code behind features or cfgs that a clippy run did not compile).

use std::path::{Path, PathBuf};

const FORBIDDEN: &[&str] = &[
    "Instant::now",
    "SystemTime::now",
    "thread_rng",
    "OsRng",
    "std::net::UdpSocket",
    "thread::spawn",
    "thread::sleep",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("core/src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines of `source` before its first `#[cfg(test)]`, without `//` comments.
fn production_lines(source: &str) -> impl Iterator<Item = (usize, &str)> {
    source
        .lines()
        .enumerate()
        .take_while(|(_, l)| !l.contains("#[cfg(test)]"))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

#[test]
fn core_sources_name_no_clock_socket_thread_or_os_randomness() {
    let core_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src");
    let mut files = Vec::new();
    rust_files(&core_src, &mut files);
    assert!(files.len() > 5, "expected to find the core's sources");
    let mut hits = Vec::new();
    for file in files {
        if file.ends_with("tests.rs") || file.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("source is UTF-8");
        for (n, line) in production_lines(&source) {
            if let Some(word) = FORBIDDEN.iter().find(|w| line.contains(*w)) {
                hits.push(format!("{}:{}: {word}", file.display(), n + 1));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "impure calls in the core:\n{}",
        hits.join("\n")
    );
}
