//! Handing freed heap memory back to the operating system.
//!
//! glibc's malloc returns freed memory to the kernel only from the top of each arena. A
//! server that held thousands of sessions and then lost them keeps their pages resident,
//! because a few long-lived allocations sit above them: measured with `echo`, 10,000
//! abandoned sessions left the process at 100 MiB with none alive. `malloc_trim(0)` gives
//! every whole free page of every arena back (`madvise`), which brought that to 11 MiB.
//! [`HeapReturner`] decides when a server should ask: after its session count has fallen a
//! long way, not on every session that ends, since a trim walks and locks each arena.
//!
//! A trim cannot give back everything, for three reasons found with `echo` (`malloc_info`,
//! heaptrack and `/proc/PID/smaps` after 10,000 abandoned sessions, when the heap held only
//! 330 KiB of live data):
//!
//! - glibc's per-thread cache (tcache: up to 7 freed chunks of each of 64 sizes, per
//!   thread) counts as live. Those chunks were freed last, anywhere in an arena that grew
//!   to the peak, so each pins its page: on tokio, 2.2 MiB more stayed resident than after
//!   200 sessions, in islands around a few hundred cached chunks.
//! - Small chunks freed into the fast bins are merged only when the heap is consolidated,
//!   which a trim does; what they merge into the top of a thread's arena is then never
//!   given back, as `malloc_trim` releases only the free lists and the main arena's top:
//!   with the cache off, smol's executor threads kept 8 MiB that way.
//! - A free that grows a thread arena's top past the trim threshold trims it, but glibc
//!   raises that threshold (up to 64 MiB) each time a large block it had mapped on its own
//!   is freed: mio's shard threads then kept half a MiB of top each.
//!
//! [`restart_with_server_tunables`] restarts a server with the cache and the fast bins
//! off and the trim threshold fixed at glibc's default of 128 KiB ([`SERVER_TUNABLES`]);
//! every freed chunk is then merged at once, and a free that grows an arena's top past
//! 128 KiB trims it. The 10,000-session run then ends within 1 % of its baseline on every
//! runtime (+0.5 % tokio, +0.5 % smol, -1.0 % mio), at no CPU cost per session we could
//! tell from run-to-run noise.

/// Asks the allocator to return the memory it holds free to the OS; `true` if it did.
/// glibc's `malloc_trim(0)`; elsewhere (musl, macOS, other allocators) nothing, `false`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_heap() -> bool {
    // SAFETY: malloc_trim takes no pointer and touches only glibc's own free lists, under
    // the arena locks every other allocator call takes.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Asks the allocator to return the memory it holds free to the OS; `true` if it did.
/// glibc's `malloc_trim(0)`; elsewhere (musl, macOS, other allocators) nothing, `false`.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_heap() -> bool {
    false
}

/// The glibc tunables a server restarts with: no per-thread cache, no fast bins, a fixed
/// trim threshold (see the module documentation).
pub const SERVER_TUNABLES: &str =
    "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0:glibc.malloc.trim_threshold=131072";

/// The `GLIBC_TUNABLES` value to restart with, given the current one: `None` when the
/// thread cache size is already chosen (by an earlier restart, or by the user, whose
/// choice stands), else the current tunables with [`SERVER_TUNABLES`] added.
pub fn tunables_to_restart_with(current: Option<&str>) -> Option<String> {
    match current {
        Some(t)
            if t.split(':')
                .any(|kv| kv.starts_with("glibc.malloc.tcache_count=")) =>
        {
            None
        }
        Some(t) if !t.is_empty() => Some(format!("{t}:{SERVER_TUNABLES}")),
        _ => Some(SERVER_TUNABLES.to_owned()),
    }
}

/// Replaces this process with itself (same executable, arguments and pid) with
/// [`SERVER_TUNABLES`], unless `GLIBC_TUNABLES` already sets the thread cache size. glibc
/// reads its tunables only at start, so this must run first thing in `main`, before any
/// thread exists. Returns only when there is nothing to do, on other platforms, or when
/// the restart failed (then the server runs with glibc's defaults, and says why on
/// stderr).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn restart_with_server_tunables() {
    use std::os::unix::process::CommandExt;
    let current = std::env::var("GLIBC_TUNABLES").ok();
    let Some(tunables) = tunables_to_restart_with(current.as_deref()) else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new("/proc/self/exe");
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).env("GLIBC_TUNABLES", tunables).exec();
    eprintln!("could not restart with {SERVER_TUNABLES} ({error}); going on without");
}

/// Replaces this process with itself with [`SERVER_TUNABLES`]: nothing to do on other
/// platforms.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn restart_with_server_tunables() {}

/// Fewest sessions that must have ended since the peak before a trim is worth its walk of
/// the heap (a few milliseconds for a heap of 100 MiB).
pub const MIN_SESSIONS_SHED: usize = 256;

/// Samples after the count reaches zero on which [`HeapReturner`] trims again: an ended
/// session's memory may be freed a little after it left the count (its connection is
/// dropped by the task that drives it), and a trim gives back only what is free by then.
pub const ZERO_RETRIMS: u32 = 3;

/// Watches a server's session count (sampled, say, once a second) and says when to call
/// [`release_free_heap`]: once the count has fallen to half its peak since the last trim,
/// by at least [`MIN_SESSIONS_SHED`], or to zero from any peak (and then on the next
/// [`ZERO_RETRIMS`] samples while it stays zero). The peak then starts over from the
/// current count, so a steady server never trims and a shrinking one trims about once
/// per halving.
#[derive(Debug, Default, Clone)]
pub struct HeapReturner {
    peak: usize,
    /// Trims still due while the count stays at zero.
    retrims: u32,
}

impl HeapReturner {
    /// A returner that has seen no session.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the current session count; `true` when the heap should be trimmed now.
    pub fn should_trim(&mut self, sessions: usize) -> bool {
        self.peak = self.peak.max(sessions);
        let shed = self.peak - sessions;
        if sessions > 0 {
            self.retrims = 0;
        } else if shed > 0 {
            self.retrims = ZERO_RETRIMS; // and trims now, below
        } else if self.retrims > 0 {
            self.retrims -= 1;
            return true;
        }
        let trim =
            (sessions == 0 && shed > 0) || (shed >= MIN_SESSIONS_SHED && sessions <= self.peak / 2);
        if trim {
            self.peak = sessions;
        }
        trim
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_or_growing_server_never_trims() {
        let mut r = HeapReturner::new();
        assert!((0..10_000).step_by(100).all(|n| !r.should_trim(n)));
        assert!((0..100).all(|_| !r.should_trim(10_000)));
    }

    #[test]
    fn trims_once_per_halving_and_when_every_session_is_gone() {
        let mut r = HeapReturner::new();
        r.should_trim(10_000);
        assert!(!r.should_trim(6_000), "not yet half");
        assert!(r.should_trim(5_000), "half of the peak");
        assert!(!r.should_trim(4_000), "the peak started over at 5,000");
        assert!(r.should_trim(2_500));
        assert!(r.should_trim(0), "all gone");
        for i in 0..ZERO_RETRIMS {
            assert!(r.should_trim(0), "late frees: again on sample {i} at zero");
        }
        assert!(!r.should_trim(0), "nothing more shed");
        assert!(!r.should_trim(3), "sessions are back");
        assert!(!r.should_trim(3));
    }

    #[test]
    fn small_falls_wait_for_zero() {
        let mut r = HeapReturner::new();
        r.should_trim(100);
        assert!(!r.should_trim(10), "fewer than MIN_SESSIONS_SHED ended");
        assert!(r.should_trim(0));
    }

    #[test]
    fn the_thread_cache_is_turned_off_once_and_a_chosen_size_stands() {
        assert_eq!(
            tunables_to_restart_with(None).as_deref(),
            Some(SERVER_TUNABLES)
        );
        assert_eq!(
            tunables_to_restart_with(Some("")).as_deref(),
            Some(SERVER_TUNABLES)
        );
        assert_eq!(
            tunables_to_restart_with(Some("glibc.malloc.arena_max=2")).as_deref(),
            Some(format!("glibc.malloc.arena_max=2:{SERVER_TUNABLES}").as_str())
        );
        let after_restart = tunables_to_restart_with(None).unwrap();
        assert_eq!(tunables_to_restart_with(Some(&after_restart)), None);
        assert_eq!(
            tunables_to_restart_with(Some("glibc.malloc.tcache_count=7")),
            None,
            "the user's own size stands"
        );
    }
}
