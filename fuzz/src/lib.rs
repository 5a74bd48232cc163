//! Shared glue of the fuzz binaries: one base instant per process (the core reads no
//! clock) and the lookup of a target body by name.

use std::sync::OnceLock;
use std::time::Instant;

/// Runs target `name`'s body on `data`.
pub fn run(name: &str, data: &[u8]) {
    static BASE: OnceLock<Instant> = OnceLock::new();
    #[allow(clippy::disallowed_methods)] // the fuzzer supplies one real instant as a base
    let base = *BASE.get_or_init(Instant::now);
    let target = rtcpeer::fuzzing::target(name).expect("a known target name");
    let _ = (target.run)(data, base);
}
