//! `dtls`: in progress.
