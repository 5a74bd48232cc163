//! Behaviour tests of the simulator, with small test nodes.

mod helpers;
mod links;
mod nat;
mod rules;
mod running;
mod scenarios;
