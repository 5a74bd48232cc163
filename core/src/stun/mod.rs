//! `stun`: in progress.
