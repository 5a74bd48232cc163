//! `rtcpeer-smol`: drives the sans-IO `rtcpeer` core with smol.
//!
//! Not there yet: this crate is a placeholder until the runtime-adapter work lands. It
//! builds and re-exports the core so that dependants can already name it.

pub use rtcpeer;
