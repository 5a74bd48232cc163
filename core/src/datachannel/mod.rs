//! `datachannel`: in progress.
