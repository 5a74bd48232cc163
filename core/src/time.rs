//! Time in the core.
//!
//! The core never reads a clock. Monotonic time arrives as the `now: Instant` argument of
//! every input. Wall-clock time (RTCP NTP timestamps, certificate validity) is needed rarely
//! and comes from a [`WallClock`] given in the configuration, which maps a monotonic
//! instant to a calendar time. Drivers build one from a single reading of both clocks
//! taken at start-up; the simulator uses a fixed anchor so that runs replay exactly.

use std::fmt::Debug;
use std::time::{Duration, Instant, SystemTime};

/// Maps monotonic instants to wall-clock time.
pub trait WallClock: Debug + Send + Sync {
    /// The calendar time at the monotonic instant `now`.
    fn system_time(&self, now: Instant) -> SystemTime;
}

/// A [`WallClock`] anchored at one pair of readings: `anchor_instant` happened at
/// `anchor_time`, and the two clocks advance together from there.
#[derive(Debug, Clone, Copy)]
pub struct AnchoredWallClock {
    anchor_instant: Instant,
    anchor_time: SystemTime,
}

impl AnchoredWallClock {
    /// A clock on which `anchor_instant` corresponds to `anchor_time`.
    pub fn new(anchor_instant: Instant, anchor_time: SystemTime) -> Self {
        Self {
            anchor_instant,
            anchor_time,
        }
    }
}

impl WallClock for AnchoredWallClock {
    fn system_time(&self, now: Instant) -> SystemTime {
        match now.checked_duration_since(self.anchor_instant) {
            Some(ahead) => self.anchor_time + ahead,
            None => self.anchor_time - self.anchor_instant.duration_since(now),
        }
    }
}

/// Seconds between the NTP epoch (1900-01-01) and the Unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

/// A wall-clock time as a 64-bit NTP timestamp (32.32 fixed point seconds since 1900),
/// as carried in RTCP sender reports (RFC 3550 section 4).
pub fn ntp_timestamp(time: SystemTime) -> u64 {
    let since_unix = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let secs = since_unix.as_secs() + NTP_UNIX_OFFSET_SECS;
    let frac = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// The origin of the core's unit tests' clocks: the real clock read once, the first time
/// any test asks, and the same instant ever after. Tests only add durations to it (the
/// core never reads the clock; its tests need one real `Instant` to start from).
#[cfg(test)]
pub(crate) fn test_epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    #[allow(clippy::disallowed_methods)]
    *EPOCH.get_or_init(Instant::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
    fn anchored_clock_tracks_instants_both_ways() {
        let base = Instant::now();
        let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let clock = AnchoredWallClock::new(base + Duration::from_secs(10), epoch);
        assert_eq!(
            clock.system_time(base + Duration::from_secs(15)),
            epoch + Duration::from_secs(5)
        );
        assert_eq!(clock.system_time(base), epoch - Duration::from_secs(10));
    }

    #[test]
    fn ntp_timestamp_of_unix_epoch_is_the_offset() {
        assert_eq!(
            ntp_timestamp(SystemTime::UNIX_EPOCH),
            NTP_UNIX_OFFSET_SECS << 32
        );
        let half = SystemTime::UNIX_EPOCH + Duration::from_millis(500);
        assert_eq!(ntp_timestamp(half) & 0xffff_ffff, 1 << 31);
    }
}
