//! Process and kernel counters from `/proc` (Linux): CPU time of this process, its resident
//! memory, and the kernel's UDP receive error counters. Elsewhere every reader returns
//! `None` and the report shows `null`.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` times: `USER_HZ`, fixed at 100 in the
/// Linux user ABI on every architecture rtcpeer targets.
const USER_HZ: f64 = 100.0;

/// CPU time (user + system, every thread) this process has used so far. Resolution 10 ms.
pub fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu(&stat)
}

fn parse_cpu(stat: &str) -> Option<Duration> {
    // Field 2, the command name, is in parentheses and may contain spaces: fields are
    // counted after its closing parenthesis, where field 3 (state) comes first.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) as f64 / USER_HZ))
}

/// The process's resident set size in bytes (`VmRSS`).
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_rss(&status)
}

fn parse_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The kernel's UDP counters of datagrams it could not deliver (all sockets, this network
/// namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpErrors {
    /// `InErrors`: datagrams dropped on receive, for any reason.
    pub in_errors: u64,
    /// `RcvbufErrors`: of those, dropped because a receive buffer was full.
    pub rcvbuf_errors: u64,
}

impl UdpErrors {
    /// The counters now, from `/proc/net/snmp`.
    pub fn read() -> Option<Self> {
        let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
        parse_snmp(&snmp)
    }

    /// Growth since `earlier` (counters that went backwards give 0).
    pub fn since(self, earlier: Self) -> Self {
        Self {
            in_errors: self.in_errors.saturating_sub(earlier.in_errors),
            rcvbuf_errors: self.rcvbuf_errors.saturating_sub(earlier.rcvbuf_errors),
        }
    }
}

fn parse_snmp(snmp: &str) -> Option<UdpErrors> {
    // Two "Udp:" lines: the names, then the values.
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let names = udp.next()?.split_whitespace();
    let values = udp.next()?.split_whitespace();
    let mut in_errors = None;
    let mut rcvbuf_errors = None;
    for (name, value) in names.zip(values).skip(1) {
        match name {
            "InErrors" => in_errors = value.parse().ok(),
            "RcvbufErrors" => rcvbuf_errors = value.parse().ok(),
            _ => {}
        }
    }
    Some(UdpErrors {
        in_errors: in_errors?,
        rcvbuf_errors: rcvbuf_errors?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_fields_are_counted_after_the_command_name() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 1 2 3";
        assert_eq!(parse_cpu(stat), Some(Duration::from_secs(3)));
    }

    #[test]
    fn rss_is_read_in_kib() {
        let status = "Name:\tbench\nVmPeak:\t 9000 kB\nVmRSS:\t    2048 kB\nThreads: 3\n";
        assert_eq!(parse_rss(status), Some(2048 * 1024));
    }

    #[test]
    fn udp_counters_are_found_by_name() {
        let snmp = "Ip: Forwarding\nIp: 1\n\
            Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
            Udp: 100 2 7 90 5 0\nUdpLite: InDatagrams\nUdpLite: 0\n";
        let got = parse_snmp(snmp).expect("parsed");
        assert_eq!((got.in_errors, got.rcvbuf_errors), (7, 5));
        let later = UdpErrors {
            in_errors: 9,
            rcvbuf_errors: 5,
        };
        assert_eq!(later.since(got).in_errors, 2);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_counters_on_linux() {
        assert!(rss_bytes().is_some_and(|r| r > 0));
        assert!(cpu_time().is_some());
        assert!(UdpErrors::read().is_some());
    }
}
