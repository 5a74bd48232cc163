//! Fuzz target bodies (feature `fuzzing`), shared by the cargo-fuzz binaries in `fuzz/` and
//! by the stable-toolchain replay test (`tests/tests/fuzz_replay.rs`), so that every
//! committed corpus file and every past crash input runs through exactly the code the
//! fuzzer ran.
//!
//! Each [`Target`] has a body that takes the fuzzer's bytes and a base instant (the core
//! reads no clock: the caller supplies one) and returns the [`Milestones`] the input
//! reached, a seed generator that builds a small corpus with the project's own code, and
//! the milestones its seeds must reach (the replay test asserts them, so a target that
//! silently stops reaching its deep states fails `cargo test`).
//!
//! The stateful targets read their input as a sequence of operations ([`Ops`]) rather than
//! raw datagrams: they build what must be valid to get past the first gate (ICE checks
//! signed with the known passwords, SCTP chunks with TSNs relative to the receive window,
//! SRTP made by the sending peer) and let the fuzzer choose everything else.
//!
//! Not here: the TURN client and ChannelData target (`fuzz/fuzz_targets/turn.rs` holds its
//! body); TURN stream framing is `turn_stream`.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Instant;

mod bwe;
mod datachannel;
mod dtls;
mod ice;
mod jsep;
mod loss_recovery;
mod mdns;
mod media;
mod ops;
mod parsers;
mod pc_connected;
mod peer_connection;
mod sctp;
mod turn_stream;

pub use ops::Ops;

/// Names of the deep states an input reached (e.g. `"dtls_client_connected"`).
pub type Milestones = BTreeSet<&'static str>;

/// One fuzz target: its body, its seed corpus and what that corpus must reach.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The cargo-fuzz binary's name and the corpus directory's name.
    pub name: &'static str,
    /// Runs one input. Must never panic on any bytes (the fuzzer's finding if it does).
    pub run: fn(&[u8], Instant) -> Milestones,
    /// Builds the committed seed corpus with the project's own code (deterministic).
    pub seeds: fn(Instant) -> Vec<Vec<u8>>,
    /// Milestones the union of the seeds' runs must contain.
    pub deep: &'static [&'static str],
}

/// Every target, in the order `fuzz/run.sh` runs them.
pub const TARGETS: &[Target] = &[
    parsers::STUN,
    parsers::SDP,
    parsers::DCEP,
    parsers::RTP,
    parsers::RTCP,
    parsers::SRTP,
    ice::TARGET,
    dtls::TARGET,
    sctp::TARGET,
    datachannel::TARGET,
    jsep::TARGET,
    peer_connection::TARGET,
    pc_connected::TARGET,
    loss_recovery::TARGET,
    media::DEPACKETIZE,
    media::ASSEMBLER,
    turn_stream::TARGET,
    bwe::TARGET,
    mdns::TARGET,
];

/// A state that is expensive to reach (a connected pair of peers), built once per base
/// instant and handed out as a fresh clone for every input, so that each input starts
/// from the same state (same keys, same RNG positions, same timers) without paying for
/// the handshakes again. The clone shares nothing mutable with the kept copy.
pub(crate) struct Snapshot<T> {
    kept: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> Snapshot<T> {
    pub(crate) const fn new() -> Self {
        Self {
            kept: Mutex::new(None),
        }
    }

    /// A clone of the state `build(start)` made; built on the first call for `start` (a
    /// call with another base instant rebuilds it, since the state's instants derive from
    /// its base).
    pub(crate) fn get(&self, start: Instant, build: impl FnOnce(Instant) -> T) -> T {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        match &*kept {
            Some((base, state)) if *base == start => state.clone(),
            _ => {
                let state = build(start);
                *kept = Some((start, state.clone()));
                state
            }
        }
    }
}

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
