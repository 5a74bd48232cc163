//! Agent-level tests through an in-memory shuttle with a virtual clock.

mod shuttle;

mod candidate_props;
mod connect;
mod liveness;
mod pacing;
mod robustness;
