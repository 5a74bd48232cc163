//! Media files for the examples: encoded frames to and from disk.

pub mod ivf;
pub mod ogg;
