//! `ice`: in progress.
