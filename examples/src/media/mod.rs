//! Media files for the examples: reading encoded frames from disk.

pub mod ivf;
