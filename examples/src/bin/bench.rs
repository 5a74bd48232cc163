//! `bench`: connection setup time, throughput and idle memory of rtcpeer on the tokio, smol
//! and mio adapters, over real UDP on 127.0.0.1. Prints the machine it ran on and a table
//! with one row per adapter and measure, with the targets and whether they are met (a
//! missed target is not a failure); `--json` prints one JSON line per row instead.
//!
//! ```text
//! cargo run --release -p rtcpeer-examples --bin bench -- [--adapter tokio|smol|mio|all]
//!     [--measure setup|throughput|idle|all] [--mib 64] [--pairs 200] [--runs 20] [--json]
//! ```
//!
//! Exit status: 0 when every measure completed, 1 when one failed (its line has `error`),
//! 2 on a usage error.

use rtcpeer_examples::bench::{self, Options};

fn main() {
    rtcpeer_examples::args::exit_if_help(Options::USAGE);
    rtcpeer_examples::logging::init();
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("bench: {e}\n{}", Options::USAGE);
            std::process::exit(2);
        }
    };
    if !bench::run(&options) {
        std::process::exit(1);
    }
}
