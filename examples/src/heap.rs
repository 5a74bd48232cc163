//! Handing freed heap memory back to the operating system.
//!
//! glibc's malloc returns freed memory to the kernel only from the top of each arena. A
//! server that held thousands of sessions and then lost them keeps their pages resident,
//! because a few long-lived allocations sit above them: measured with `echo`, 10,000
//! abandoned sessions left the process at 100 MiB with none alive. `malloc_trim(0)` gives
//! every whole free page of every arena back (`madvise`), which brought that to 11 MiB.
//! [`HeapReturner`] decides when a server should ask: after its session count has fallen a
//! long way, not on every session that ends, since a trim walks and locks each arena.

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

/// Fewest sessions that must have ended since the peak before a trim is worth its walk of
/// the heap (a few milliseconds for a heap of 100 MiB).
pub const MIN_SESSIONS_SHED: usize = 256;

/// Watches a server's session count (sampled, say, once a second) and says when to call
/// [`release_free_heap`]: once the count has fallen to half its peak since the last trim,
/// by at least [`MIN_SESSIONS_SHED`], or to zero from any peak. The peak then starts over
/// from the current count, so a steady server never trims and a shrinking one trims once
/// per halving.
#[derive(Debug, Default, Clone)]
pub struct HeapReturner {
    peak: usize,
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
        assert!(!r.should_trim(0), "nothing more shed");
    }

    #[test]
    fn small_falls_wait_for_zero() {
        let mut r = HeapReturner::new();
        r.should_trim(100);
        assert!(!r.should_trim(10), "fewer than MIN_SESSIONS_SHED ended");
        assert!(r.should_trim(0));
    }
}
