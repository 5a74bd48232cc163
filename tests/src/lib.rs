//! Integration, simulation and interop tests for rtcpeer live in `tests/tests/`.
