//! `sctp`: in progress.
