//! Log output for the example programs.

use tracing_subscriber::EnvFilter;

/// Sends `tracing` events to stderr, filtered by `RUST_LOG` (e.g. `RUST_LOG=rtcpeer=debug`);
/// without it, only warnings and errors are shown. Call once, first thing in `main`.
pub fn init() {
    init_with_default("warn");
}

/// [`init`] with `default` as the filter when `RUST_LOG` is not set (the echo server shows
/// its session lifecycle at `info`).
pub fn init_with_default(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // A second call (e.g. from a test harness) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
