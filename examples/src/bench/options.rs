//! The bench's command line: which adapters and measures, and how big.

use crate::args::Args;

/// Linux's default UDP socket receive buffer (`net.core.rmem_default`).
pub const OS_DEFAULT_BUFFER: usize = 212_992;

/// A runtime adapter under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    /// `rtcpeer-tokio` on a multi-thread tokio runtime.
    Tokio,
    /// `rtcpeer-smol` on a smol `Executor` that the calling thread runs (`--smol-helpers`).
    Smol,
    /// `rtcpeer-mio`: one blocking event loop thread per side.
    Mio,
}

impl Adapter {
    /// Every adapter, in report order.
    pub const ALL: [Adapter; 3] = [Adapter::Tokio, Adapter::Smol, Adapter::Mio];

    /// The name used on the command line and in the JSON lines.
    pub fn name(self) -> &'static str {
        match self {
            Adapter::Tokio => "tokio",
            Adapter::Smol => "smol",
            Adapter::Mio => "mio",
        }
    }
}

/// One measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Time from nothing to a channel open on both sides.
    Setup,
    /// Bulk transfer on one ordered reliable channel, in 16 KiB then 1 KiB messages.
    Throughput,
    /// Resident memory per connected idle peer.
    Idle,
}

impl Measure {
    /// Every measure, in report order.
    pub const ALL: [Measure; 3] = [Measure::Setup, Measure::Throughput, Measure::Idle];

    /// The name used on the command line and in the JSON lines.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Setup => "setup",
            Measure::Throughput => "throughput",
            Measure::Idle => "idle",
        }
    }
}

/// Parsed options; see [`Options::USAGE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    adapters: Vec<Adapter>,
    measures: Vec<Measure>,
    /// MiB per throughput transfer.
    pub mib: u64,
    /// Pairs of the idle measure.
    pub pairs: usize,
    /// Connections timed by the setup measure.
    pub runs: usize,
    /// Threads that run the smol executor besides the caller's (see `SmolExec`).
    pub smol_helpers: usize,
    /// Throughput with the kernel's default socket buffers instead of the adapters' 4 MiB,
    /// as a peer that never sized its sockets has them; the report's
    /// `udp_rcvbuf_errors` then counts what bursts overran.
    pub os_buffers: bool,
    /// Print the JSON lines instead of the table.
    pub json: bool,
}

impl Options {
    /// What the program prints on a usage error.
    pub const USAGE: &'static str = "usage: bench [--adapter tokio|smol|mio|all] \
        [--measure setup|throughput|idle|all] [--mib N (64)] [--pairs N (200)] [--runs N (20)] [--smol-helpers N (0)] \
        [--os-buffers] [--json]";

    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let args = Args::parse(args, &["os-buffers", "json"])?;
        let unknown = args.unknown(&[
            "adapter",
            "measure",
            "mib",
            "pairs",
            "runs",
            "smol-helpers",
            "os-buffers",
            "json",
        ]);
        if !unknown.is_empty() {
            return Err(format!("unknown option(s): --{}", unknown.join(", --")));
        }
        let adapter: String = args.get("adapter", "all".to_owned())?;
        let measure: String = args.get("measure", "all".to_owned())?;
        let options = Self {
            adapters: pick(&adapter, &Adapter::ALL, Adapter::name, "adapter")?,
            measures: pick(&measure, &Measure::ALL, Measure::name, "measure")?,
            mib: args.get("mib", 64)?,
            pairs: args.get("pairs", 200)?,
            runs: args.get("runs", 20)?,
            smol_helpers: args.get("smol-helpers", 0)?,
            os_buffers: args.flag("os-buffers"),
            json: args.get("json", false)?,
        };
        if options.mib == 0 || options.pairs == 0 || options.runs == 0 {
            return Err("--mib, --pairs and --runs must be at least 1".to_owned());
        }
        Ok(options)
    }

    /// The adapters to measure, in order.
    pub fn adapters(&self) -> &[Adapter] {
        &self.adapters
    }

    /// The measures to run on each adapter, in order.
    pub fn measures(&self) -> &[Measure] {
        &self.measures
    }

    /// The arguments that make a child process run exactly (`adapter`, `measure`) and
    /// print its JSON line (the parent renders it).
    pub fn child_args(&self, adapter: Adapter, measure: Measure) -> Vec<String> {
        let mut args: Vec<String> = [
            ("--adapter", adapter.name().to_owned()),
            ("--measure", measure.name().to_owned()),
            ("--mib", self.mib.to_string()),
            ("--pairs", self.pairs.to_string()),
            ("--runs", self.runs.to_string()),
            ("--smol-helpers", self.smol_helpers.to_string()),
        ]
        .into_iter()
        .flat_map(|(k, v)| [k.to_owned(), v])
        .chain(self.os_buffers.then(|| "--os-buffers".to_owned()))
        .collect();
        args.push("--json".to_owned());
        args
    }

    /// Socket buffer size the throughput measure asks for: the adapters' default, or
    /// with `--os-buffers` half of Linux's default `rmem_default` (212,992 bytes), which
    /// the kernel doubles back to exactly that default.
    pub fn throughput_buffer_size(&self) -> usize {
        if self.os_buffers {
            OS_DEFAULT_BUFFER / 2
        } else {
            rtcpeer::runtime::SocketConfig::DEFAULT_BUFFER_SIZE
        }
    }
}

/// `all` or one named value of `all_values`.
fn pick<T: Copy>(
    given: &str,
    all_values: &[T],
    name: fn(T) -> &'static str,
    what: &str,
) -> Result<Vec<T>, String> {
    if given == "all" {
        return Ok(all_values.to_vec());
    }
    all_values
        .iter()
        .find(|v| name(**v) == given)
        .map(|v| vec![*v])
        .ok_or_else(|| {
            format!(
                "--{what} {given:?} is not one of all, {}",
                names(all_values, name)
            )
        })
}

fn names<T: Copy>(values: &[T], name: fn(T) -> &'static str) -> String {
    values
        .iter()
        .map(|v| name(*v))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn defaults_are_every_adapter_and_measure_at_full_size() {
        let o = parse(&[]).expect("no options is valid");
        assert_eq!(o.adapters(), Adapter::ALL);
        assert_eq!(o.measures(), Measure::ALL);
        assert_eq!((o.mib, o.pairs, o.runs), (64, 200, 20));
    }

    #[test]
    fn one_adapter_and_measure_can_be_chosen() {
        let o = parse(&["--adapter", "mio", "--measure", "idle", "--pairs", "4"]).expect("valid");
        assert_eq!(o.adapters(), [Adapter::Mio]);
        assert_eq!(o.measures(), [Measure::Idle]);
        assert_eq!(o.pairs, 4);
    }

    #[test]
    fn unknown_names_and_zero_sizes_are_rejected() {
        assert!(parse(&["--adapter", "glommio"]).is_err());
        assert!(parse(&["--measure", "latency"]).is_err());
        assert!(parse(&["--runs", "0"]).is_err());
        assert!(parse(&["--speed", "1"]).is_err());
    }

    #[test]
    fn child_args_parse_back_to_the_single_combination() {
        let o = parse(&["--mib", "2", "--runs", "3"]).expect("valid");
        let child = Options::parse(o.child_args(Adapter::Smol, Measure::Setup)).expect("valid");
        assert_eq!(child.adapters(), [Adapter::Smol]);
        assert_eq!(child.measures(), [Measure::Setup]);
        assert_eq!((child.mib, child.pairs, child.runs), (2, 200, 3));
        assert!(child.json, "children report JSON to the parent");
        assert!(!o.json, "the table is the default");
    }
}
