//! Timing shared by the benches that print a summary after criterion: wall-clock time and
//! this thread's on-CPU time (Linux `/proc/thread-self/schedstat`) of timed sections, and
//! rates per wall-clock second and per CPU-second. The CPU figure stays meaningful on a
//! machine busy with other work, where the wall-clock one drops with the load.
#![allow(clippy::disallowed_methods)] // benchmarks read the real clock
#![allow(dead_code)] // each bench uses a part

use std::time::{Duration, Instant};

/// Wall-clock and on-CPU time spent, added up over timed sections (`cpu` is `None` when
/// the thread's CPU time cannot be read).
#[derive(Clone, Copy, Debug)]
pub struct Spent {
    pub wall: Duration,
    pub cpu: Option<Duration>,
}

impl Spent {
    pub const ZERO: Spent = Spent {
        wall: Duration::ZERO,
        cpu: Some(Duration::ZERO),
    };

    pub fn add(&mut self, other: Spent) {
        self.wall += other.wall;
        self.cpu = self.cpu.zip(other.cpu).map(|(a, b)| a + b);
    }
}

/// A start point of a timed section.
pub struct Stamp {
    wall: Instant,
    cpu: Option<u64>,
}

/// Nanoseconds this thread has spent on a CPU (Linux), if readable.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

impl Stamp {
    pub fn now() -> Self {
        Self {
            cpu: thread_cpu_ns(),
            wall: Instant::now(),
        }
    }

    pub fn spent(&self) -> Spent {
        let wall = self.wall.elapsed();
        let cpu = thread_cpu_ns()
            .zip(self.cpu)
            .map(|(end, start)| Duration::from_nanos(end.saturating_sub(start)));
        Spent { wall, cpu }
    }
}

/// Operations per second: per wall-clock second and per CPU-second.
pub type Rate = (f64, Option<f64>);

/// The rate of `f` over `iters` operations, best of five runs.
pub fn rate(mut f: impl FnMut(u64) -> Spent, iters: u64) -> Rate {
    let runs: Vec<Spent> = (0..5).map(|_| f(iters)).collect();
    let per_second = |d: Duration| iters as f64 / d.as_secs_f64();
    let wall = runs.iter().map(|s| s.wall).min().expect("five runs");
    let cpu = runs.iter().map(|s| s.cpu).collect::<Option<Vec<_>>>();
    (
        per_second(wall),
        cpu.and_then(|c| c.into_iter().min()).map(per_second),
    )
}

/// Prints one rate in millions of `unit` per second.
pub fn line(label: &str, unit: &str, (wall, cpu): Rate) {
    let cpu = cpu.map_or("n/a".to_string(), |c| format!("{:.3}", c / 1e6));
    println!(
        "  {label:<36} {:>7.3} M {unit}/s wall   {cpu:>7} M {unit}/s per CPU-second",
        wall / 1e6
    );
}

/// Prints the ratio of two rates, per wall-clock second and per CPU-second.
pub fn ratio(label: &str, a: Rate, b: Rate) {
    let cpu =
        a.1.zip(b.1)
            .map_or("n/a".to_string(), |(a, b)| format!("{:.3}", a / b));
    println!("  ratio {label:<40} {:.3} wall   {cpu} CPU", a.0 / b.0);
}

/// The machine's load averages (`/proc/loadavg`), to print beside figures.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_string())
}
