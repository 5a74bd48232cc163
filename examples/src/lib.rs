//! Runnable programs that show rtcpeer at work; see the `src/bin` folder. Code shared by
//! several programs lives here.

pub mod args;
pub mod bench;
pub mod bwe;
pub mod echo;
pub mod heap;
pub mod logging;
pub mod media;
pub mod smol_exec;
pub mod transfer;
