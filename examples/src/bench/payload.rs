//! Message contents the receiver can check for order and integrity: message `i` is `i` as
//! 8 little-endian bytes followed by a fixed byte pattern.

use bytes::Bytes;

/// The smallest message size: room for the index.
pub const MIN_MESSAGE: usize = 8;

/// Builds and checks the messages of one transfer of equal-sized messages.
#[derive(Debug, Clone)]
pub struct Payloads {
    pattern: Vec<u8>,
}

impl Payloads {
    /// Messages of `size` bytes (at least [`MIN_MESSAGE`]).
    pub fn new(size: usize) -> Self {
        let size = size.max(MIN_MESSAGE);
        // A pattern that is not periodic at any power of two, so shifted data is caught.
        let pattern = (0..size).map(|j| (j * 131 % 251) as u8).collect();
        Self { pattern }
    }

    /// Size of every message.
    pub fn size(&self) -> usize {
        self.pattern.len()
    }

    /// Message number `index`.
    pub fn message(&self, index: u64) -> Bytes {
        let mut data = self.pattern.clone();
        data[..MIN_MESSAGE].copy_from_slice(&index.to_le_bytes());
        Bytes::from(data)
    }

    /// Checks that `data` is message number `expected`; the error says what is wrong.
    pub fn check(&self, expected: u64, data: &[u8]) -> Result<(), String> {
        if data.len() != self.pattern.len() {
            return Err(format!(
                "message {expected}: {} bytes instead of {}",
                data.len(),
                self.pattern.len()
            ));
        }
        let (head, body) = data.split_at(MIN_MESSAGE);
        let got = u64::from_le_bytes(head.try_into().expect("split at 8"));
        if got != expected {
            return Err(format!("message {got} arrived where {expected} was due"));
        }
        if body != &self.pattern[MIN_MESSAGE..] {
            return Err(format!("message {expected}: content corrupted"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_checks_as_itself_only() {
        let p = Payloads::new(1024);
        let m = p.message(7);
        assert_eq!(m.len(), 1024);
        assert_eq!(p.check(7, &m), Ok(()));
        assert!(p.check(8, &m).is_err(), "out of order");
    }

    #[test]
    fn a_flipped_or_missing_byte_is_caught() {
        let p = Payloads::new(64);
        let mut m = p.message(3).to_vec();
        m[40] ^= 1;
        assert!(p.check(3, &m).is_err());
        assert!(p.check(3, &p.message(3)[..63]).is_err());
    }

    #[test]
    fn tiny_sizes_still_carry_the_index() {
        let p = Payloads::new(1);
        assert_eq!(p.size(), MIN_MESSAGE);
        assert_eq!(p.check(u64::MAX, &p.message(u64::MAX)), Ok(()));
    }
}
