//! Media files for the examples: encoded frames to and from disk, and clips played in a
//! loop at their pace.

pub mod annexb;
pub mod clip;
pub mod ivf;
pub mod ogg;
