//! DTLS tests that need the crate internals: handshake edge cases and property tests.

mod handshake;
mod proptests;
