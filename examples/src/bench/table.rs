//! The human-readable form of the bench results: a header naming the machine and one row
//! per adapter and measure, rendered from the same JSON line `--json` prints, so both forms
//! always show the same figures.

use serde_json::Value;

/// The machine the figures come from: CPU model, logical CPUs, kernel, build profile.
pub fn machine_header() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                let value = l.strip_prefix("model name")?;
                Some(value.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("{} {}", std::env::consts::OS, k.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_owned());
    let profile = if cfg!(debug_assertions) {
        "debug build (figures are far below release)"
    } else {
        "release build"
    };
    format!(
        "rtcpeer bench on {cpu}, {cpus} logical CPUs, {kernel}, {profile}\n\
         (targets are goals for a fast machine: a row below target is a figure, not a failure;\n\
         --json prints machine-readable lines)"
    )
}

/// One table row for a JSON line of [`super::report`].
pub fn row(json_line: &str) -> String {
    let Ok(line) = serde_json::from_str::<Value>(json_line) else {
        return format!("unreadable result: {json_line}");
    };
    let adapter = line["adapter"].as_str().unwrap_or("?");
    let measure = line["measure"].as_str().unwrap_or("?");
    let verdict = if line["meets_target"] == Value::Bool(true) {
        "meets target"
    } else {
        "below target"
    };
    if let Some(error) = line["error"].as_str() {
        return format!("{adapter:<6} {measure:<10} did not complete: {error}");
    }
    let figures = match measure {
        "setup" => setup(&line),
        "throughput" => throughput(&line),
        "idle" => idle(&line),
        _ => line.to_string(),
    };
    format!("{adapter:<6} {measure:<10} {figures}  [{verdict}]")
}

fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 => format!("{f:.0}"),
        Some(f) => format!("{f}"),
        None => "n/a".to_owned(),
    }
}

fn setup(line: &Value) -> String {
    format!(
        "median {} ms, p90 {} ms over {} connections (target: median <= {} ms, p90 <= {} ms)",
        num(&line["median_ms"]),
        num(&line["p90_ms"]),
        num(&line["runs"]),
        num(&line["target"]["median_ms_max"]),
        num(&line["target"]["p90_ms_max"]),
    )
}

fn throughput(line: &Value) -> String {
    let transfers = line["transfers"].as_array().cloned().unwrap_or_default();
    let parts: Vec<String> = transfers
        .iter()
        .map(|t| {
            format!(
                "{} B messages: {} MB/s, {} msg/s, CPU {} s per 64 MiB",
                num(&t["message_bytes"]),
                num(&t["mb_per_s"]),
                num(&t["msg_per_s"]),
                num(&t["cpu_s_per_64mib"]),
            )
        })
        .collect();
    format!(
        "{} (target: >= {} MB/s at 16 KiB, >= {} msg/s at 1 KiB, <= {} CPU s per 64 MiB)",
        parts.join("; "),
        num(&line["target"]["mb_per_s_16k_min"]),
        num(&line["target"]["msg_per_s_1k_min"]),
        num(&line["target"]["cpu_s_per_64mib_16k_max"]),
    )
}

fn idle(line: &Value) -> String {
    format!(
        "{} KiB per idle peer over {} peers (target: <= {} KiB)",
        num(&line["kib_per_peer"]),
        num(&line["peers"]),
        num(&line["target"]["kib_per_peer_max"]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::{Figures, error_line};
    use crate::bench::{Adapter, Measure};
    use std::time::Duration;

    #[test]
    fn a_setup_row_shows_figures_targets_and_verdict() {
        let line = Figures::Setup(vec![Duration::from_millis(1); 4]).to_json(Adapter::Tokio);
        let row = row(&line);
        assert!(row.starts_with("tokio  setup"), "{row}");
        assert!(row.contains("median 1 ms"), "{row}");
        assert!(row.contains("median <= 2 ms"), "{row}");
        assert!(row.ends_with("[meets target]"), "{row}");
    }

    #[test]
    fn a_missed_target_reads_as_below_target_not_failure() {
        let line = Figures::Setup(vec![Duration::from_millis(9); 4]).to_json(Adapter::Mio);
        assert!(row(&line).ends_with("[below target]"));
        let failed = error_line(Adapter::Smol, Measure::Idle, "timed out");
        assert!(row(&failed).contains("did not complete: timed out"));
    }

    #[test]
    fn the_header_names_the_machine_and_the_build() {
        let header = machine_header();
        assert!(header.contains("logical CPUs"), "{header}");
        assert!(header.contains("build"), "{header}");
    }
}
