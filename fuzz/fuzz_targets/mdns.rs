//! cargo-fuzz entry for the `mdns` target; the body lives in `rtcpeer::fuzzing` so that
//! `tests/tests/fuzz_replay.rs` replays the committed seeds and crash inputs through it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rtcpeer_fuzz::run("mdns", data);
});
