//! The bulk transfer the `loopback` and `mio_loop` examples run: checkable message payloads
//! and a progress bar.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The bar is redrawn at most this often (and once at the end): a terminal redraw costs
/// more than sending a message, and nobody reads faster.
pub const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// When the bar was last drawn.
static LAST_DRAWN: Mutex<Option<Instant>> = Mutex::new(None);

/// Whether a bar at `done` of `total` should be drawn `now`, given when it was last drawn:
/// the first and the final state always, the rest at most every [`REDRAW_EVERY`].
fn due(done: u64, total: u64, now: Instant, last: Option<Instant>) -> bool {
    done >= total || last.is_none_or(|at| now.duration_since(at) >= REDRAW_EVERY)
}

/// Payload of message `index`, `len` bytes: a byte pattern derived from the index, whose
/// first 8 bytes are the index itself (little-endian) when the payload is that long, so that the receiver can check order and content.
pub fn payload(index: u64, len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..len).map(|j| (j as u64 ^ index) as u8).collect();
    if let Some(head) = data.get_mut(..8) {
        head.copy_from_slice(&index.to_le_bytes()[..head.len()]);
    }
    data
}

/// Redraws a one-line progress bar on stderr: `done` of `total` bytes since `started`.
/// Calls more frequent than [`REDRAW_EVERY`] are skipped, except the final one.
pub fn progress(done: u64, total: u64, started: Instant) {
    const WIDTH: u64 = 40;
    let now = Instant::now();
    {
        let mut last = LAST_DRAWN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !due(done, total, now, *last) {
            return;
        }
        *last = Some(now);
    }
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    let bar: String = (0..WIDTH)
        .map(|i| if i < filled { '#' } else { '.' })
        .collect();
    let mbps = done as f64 / 1e6 / started.elapsed().as_secs_f64().max(1e-9);
    let mib = |bytes: u64| bytes as f64 / 1048576.0;
    eprint!(
        "\r[{bar}] {:>5.1}/{:.1} MiB {mbps:>7.1} MB/s",
        mib(done),
        mib(total)
    );
    let _ = std::io::stderr().flush();
}

#[cfg(test)]
mod tests {
    use super::{REDRAW_EVERY, due, payload};
    use std::time::{Duration, Instant};

    #[test]
    fn the_bar_redraws_at_most_every_tenth_of_a_second_and_at_the_end() {
        let t0 = Instant::now();
        assert!(due(1, 100, t0, None), "the first state is drawn");
        assert!(!due(2, 100, t0 + Duration::from_millis(5), Some(t0)));
        assert!(due(3, 100, t0 + REDRAW_EVERY, Some(t0)));
        assert!(
            due(100, 100, t0 + Duration::from_millis(1), Some(t0)),
            "the end"
        );
        // A 0.1 s run calling it for every message draws a handful of times.
        let mut last = None;
        let mut draws = 0;
        for i in 1..=1000u64 {
            let now = t0 + Duration::from_micros(i * 100);
            if due(i, 1000, now, last) {
                draws += 1;
                last = Some(now);
            }
        }
        assert!(draws <= 3, "{draws} redraws");
    }

    #[test]
    fn payloads_carry_their_index_and_differ_between_messages() {
        assert_eq!(payload(7, 16)[..8], 7u64.to_le_bytes());
        assert_ne!(payload(7, 16), payload(8, 16));
        assert_eq!(payload(7, 16).len(), 16);
    }

    #[test]
    fn payloads_shorter_than_the_index_hold_the_pattern_only() {
        assert_eq!(payload(0x0102, 3), vec![0x02, 0x03, 0x00]);
        assert!(payload(9, 0).is_empty());
    }
}
