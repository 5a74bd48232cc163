//! The `bench` program: connection setup time, bulk throughput and idle memory of rtcpeer on
//! each runtime adapter (tokio, smol, mio), over real UDP on 127.0.0.1.
//!
//! By default the program prints a table for people: the machine it ran on, then one row
//! per adapter and measure with the figures and the targets, a missed target marked
//! "below target" (it is reported, not an error). With `--json` it prints one JSON line per
//! adapter and measure instead (see [`report`]) with the figures, the targets and a
//! `meets_target` boolean.
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
pub mod table;

pub use options::{Adapter, Measure, Options};

use std::process::Command;

/// Errors of a bench run: setup failures, timeouts, a message that arrived wrong.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs what `options` asks for and prints the JSON lines. Returns whether every measure
/// ran to completion (a missed target still counts as completed).
pub fn run(options: &Options) -> bool {
    if !options.json {
        println!("{}", table::machine_header());
    }
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
    let (line, ok) = match result {
        Ok(line) => (line.to_json(adapter), true),
        Err(e) => (report::error_line(adapter, measure, &e.to_string()), false),
    };
    emit(options, &line);
    ok
}

/// Prints one result line as JSON or as a table row.
fn emit(options: &Options, json_line: &str) {
    if options.json {
        println!("{json_line}");
    } else {
        println!("{}", table::row(json_line));
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
    let output = Command::new(exe)
        .args(options.child_args(adapter, measure))
        .stderr(std::process::Stdio::inherit())
        .output();
    match output {
        Ok(output) => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with('{')).collect();
            for line in &lines {
                emit(options, line);
            }
            // A child that printed an error line exits 1; one that crashed printed nothing.
            if !output.status.success() && lines.is_empty() {
                let message = format!("measure process ended with {}", output.status);
                emit(options, &report::error_line(adapter, measure, &message));
            }
            output.status.success()
        }
        Err(e) => {
            let message = format!("cannot start the measure process: {e}");
            emit(options, &report::error_line(adapter, measure, &message));
            false
        }
    }
}
