//! Finds the `rtcpeer-examples` binaries the tests run (the echo server, the bench).

use std::path::{Path, PathBuf};

/// The path of the `rtcpeer-examples` binary `name`, built by the same `cargo test` run as
/// this test (cargo builds a package's binaries for its integration tests, and
/// `rtcpeer-examples` has some), in the same profile.
///
/// The test must not run cargo itself: the outer `cargo test` holds the build directory's
/// lock while tests run, so a nested `cargo build` would wait forever.
pub fn example_binary(name: &str) -> PathBuf {
    // This test executable lives in target/<profile>/deps; the binary is in target/<profile>.
    let exe = std::env::current_exe().expect("path of the test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executables live in target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run the workspace tests (`cargo test --workspace --all-features`), \
         which build it, or `cargo build -p rtcpeer-examples --bin {name}` first",
        path.display()
    );
    path
}
