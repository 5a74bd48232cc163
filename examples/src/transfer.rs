//! The bulk transfer the `loopback` and `mio_loop` examples run: checkable message payloads
//! and a progress bar.

use std::io::Write;
use std::time::Instant;

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
pub fn progress(done: u64, total: u64, started: Instant) {
    const WIDTH: u64 = 40;
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
    use super::payload;

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
