//! The `bench` program: connection setup time, bulk throughput and idle memory of rtcpeer on
//! each runtime adapter (tokio, smol, mio), over real UDP on 127.0.0.1.
//!
//! Every measure of every adapter prints one JSON line (see [`report`]) with its figures,
//! the targets and a `meets_target` boolean; a missed target is reported, not an error.
//! When several adapters or measures are asked for, each (adapter, measure) runs in a fresh
//! child process of the same binary, so that memory and CPU figures of one measure are not
//! coloured by what ran before.
//!
//! Files by concept: [`options`] (command line), [`payload`] (checkable message contents),
//! [`system`] (CPU time, RSS and UDP drop counters from `/proc`), [`report`] (JSON lines,
//! targets, percentiles), [`async_adapter`] (the measures on the async API, shared by tokio
//! and smol) and [`mio_adapter`] (the same measures on the mio event loop).

pub mod async_adapter;
pub mod mio_adapter;
pub mod options;
pub mod payload;
pub mod report;
pub mod system;

pub use options::{Adapter, Measure, Options};

use std::process::Command;

/// Errors of a bench run: setup failures, timeouts, a message that arrived wrong.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs what `options` asks for and prints the JSON lines. Returns whether every measure
/// ran to completion (a missed target still counts as completed).
pub fn run(options: &Options) -> bool {
    let combos: Vec<(Adapter, Measure)> = options
        .adapters()
        .iter()
        .flat_map(|a| options.measures().iter().map(move |m| (*a, *m)))
        .collect();
    if let [(adapter, measure)] = combos[..] {
        return run_here(options, adapter, measure);
    }
    let mut ok = true;
    for (adapter, measure) in combos {
        ok &= run_child(options, adapter, measure);
    }
    ok
}

/// Runs one measure in this process and prints its line (or an error line).
fn run_here(options: &Options, adapter: Adapter, measure: Measure) -> bool {
    let result = match adapter {
        Adapter::Tokio => {
            async_adapter::measure(&async_adapter::TokioExec::new(), options, measure)
        }
        Adapter::Smol => {
            let exec = async_adapter::SmolExec::new(options.smol_helpers);
            async_adapter::measure(&exec, options, measure)
        }
        Adapter::Mio => mio_adapter::measure(options, measure),
    };
    match result {
        Ok(line) => {
            println!("{}", line.to_json(adapter));
            true
        }
        Err(e) => {
            println!("{}", report::error_line(adapter, measure, &e.to_string()));
            false
        }
    }
}

/// Runs one measure in a child process of this binary; its output passes through.
fn run_child(options: &Options, adapter: Adapter, measure: Measure) -> bool {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            let message = format!("cannot find the bench binary: {e}");
            println!("{}", report::error_line(adapter, measure, &message));
            return false;
        }
    };
    let status = Command::new(exe)
        .args(options.child_args(adapter, measure))
        .status();
    match status {
        Ok(status) if status.success() => true,
        Ok(status) => {
            // A child that printed an error line exits 1; one that crashed printed nothing.
            if status.code() != Some(1) {
                let message = format!("measure process ended with {status}");
                println!("{}", report::error_line(adapter, measure, &message));
            }
            false
        }
        Err(e) => {
            let message = format!("cannot start the measure process: {e}");
            println!("{}", report::error_line(adapter, measure, &message));
            false
        }
    }
}
