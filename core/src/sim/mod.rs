//! Deterministic network simulator (feature `sim`). In progress: see the node contract in
//! [`node`].

pub mod node;
pub use node::Node;
