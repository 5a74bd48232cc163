//! Agent-level tests through an in-memory shuttle with a virtual clock.

mod shuttle;

mod connect;
mod liveness;
mod robustness;
