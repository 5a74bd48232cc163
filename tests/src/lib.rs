//! Integration, simulation and interop tests for rtcpeer live in `tests/tests/`.
//!
//! The README's code examples are this crate's doc tests: all of them compile, and the tokio
//! one runs two real peers over loopback, so the README cannot drift from the API.

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeExamples;
