//! Installs missing interop prerequisites by running `tests/provision.sh`, at most once per
//! test binary, so that `cargo test --workspace --all-features` works on a fresh machine.
//!
//! The script installs only what is absent (Debian packages through apt-get, which needs root
//! and network; playwright-core through npm). `.ci/run` runs it before the tests, so in CI
//! this finds nothing to do.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// Runs the provisioning script once; later calls return the first call's outcome.
/// `Err` carries why it failed (no root, no network, ...).
pub fn provision_once() -> Result<(), String> {
    static OUTCOME: OnceLock<Result<(), String>> = OnceLock::new();
    OUTCOME.get_or_init(run_provision_script).clone()
}

fn run_provision_script() -> Result<(), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("provision.sh");
    eprintln!(
        "interop prerequisites missing: running {} (installs only what is absent)",
        script.display()
    );
    let output = Command::new(&script)
        .output()
        .map_err(|e| format!("could not run {}: {e}", script.display()))?;
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    eprint!("{log}");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} exited {}: {}",
            script.display(),
            output.status,
            log.trim()
        ))
    }
}
