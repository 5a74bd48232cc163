//! The one source of randomness in the core.
//!
//! Every random value rtcpeer uses (ICE credentials, STUN transaction ids, tie-breakers,
//! DTLS randoms, ECDHE and certificate keys, SCTP tags, SSRCs) is drawn from an [`Rng`]
//! seeded from the configuration. Components get their own child generator through
//! [`Rng::child`], so adding draws in one component does not shift the values another
//! component sees. Same seed and same inputs give byte-identical outputs.
//!
//! The core never reads OS randomness; drivers seed it (the runtime adapters from the OS,
//! tests from fixed values). A [`Seed`] is what a configuration carries: 32 bytes from a
//! random source in production, or a small number for a replayable test.

use core::convert::Infallible;
use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, TryCryptoRng, TryRng};

/// What a connection's randomness is derived from: every key, credential and random of a
/// connection follows from its seed, so two connections with equal seeds share keys.
///
/// - [`Seed::from_bytes`] with 32 bytes from the OS random source (`getrandom`, what the
///   runtime adapters do) is the only way to get keys nobody can predict.
/// - [`Seed::from_u64`] makes a run replayable (tests, simulations, benchmarks) and its
///   keys predictable to anyone who can guess the number: never use it for a connection
///   that must be private.
///
/// `Debug` does not print the seed.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed(SeedValue);

#[derive(Clone, PartialEq, Eq)]
enum SeedValue {
    Small(u64),
    Bytes([u8; 32]),
}

impl Seed {
    /// A seed of 32 bytes, which should come from a cryptographically secure random
    /// source.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Seed(SeedValue::Bytes(bytes))
    }

    /// A replayable seed for tests and simulations: predictable keys (see [`Seed`]).
    pub fn from_u64(seed: u64) -> Self {
        Seed(SeedValue::Small(seed))
    }

    /// The generator this seed fixes.
    pub fn rng(&self) -> Rng {
        match &self.0 {
            SeedValue::Small(n) => Rng::from_u64(*n),
            SeedValue::Bytes(b) => Rng::from_seed(*b),
        }
    }
}

impl core::fmt::Debug for Seed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            SeedValue::Small(_) => f.write_str("Seed(replayable, ..)"),
            SeedValue::Bytes(_) => f.write_str("Seed(32 bytes, ..)"),
        }
    }
}

/// A deterministic, cryptographically strong generator (ChaCha20).
#[derive(Clone)]
pub struct Rng {
    inner: ChaCha20Rng,
}

impl core::fmt::Debug for Rng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print the state: it would reveal every key derived from it.
        f.write_str("Rng { .. }")
    }
}

impl Rng {
    /// A generator whose whole output is fixed by `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            inner: ChaCha20Rng::from_seed(seed),
        }
    }

    /// A generator seeded from a 64-bit number (convenient for tests and simulations).
    pub fn from_u64(seed: u64) -> Self {
        Self {
            inner: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    /// Draws a fresh seed from `self` and returns an independent generator built on it.
    ///
    /// Give each component its own child so that their streams do not interleave.
    pub fn child(&mut self) -> Rng {
        Rng::from_seed(self.array())
    }

    /// A uniformly random `u32`.
    pub fn u32(&mut self) -> u32 {
        rand_core::Rng::next_u32(&mut self.inner)
    }

    /// A uniformly random `u64`.
    pub fn u64(&mut self) -> u64 {
        rand_core::Rng::next_u64(&mut self.inner)
    }

    /// Fills `dest` with random bytes.
    pub fn fill(&mut self, dest: &mut [u8]) {
        rand_core::Rng::fill_bytes(&mut self.inner, dest)
    }

    /// An array of `N` random bytes.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }

    /// A uniformly random number in `0..bound`. Returns 0 when `bound` is 0.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        // Rejection sampling keeps the distribution exactly uniform.
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let v = self.u64();
            if v < zone {
                return v % bound;
            }
        }
    }

    /// A uniformly random number in `[0, 1)`.
    pub fn unit_f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit_f64() < p
    }

    /// A string of `len` characters from the ICE character set (`ALPHA / DIGIT / "+" / "/"`),
    /// as used for ICE ufrag and password (RFC 8839 section 5.4).
    pub fn ice_chars(&mut self, len: usize) -> String {
        const ICE_CHARS: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len)
            .map(|_| ICE_CHARS[(self.u32() & 63) as usize] as char)
            .collect()
    }
}

impl TryRng for Rng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for Rng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_stream() {
        let mut a = Rng::from_u64(7);
        let mut b = Rng::from_u64(7);
        assert_eq!(a.array::<64>(), b.array::<64>());
        assert_eq!(a.child().u64(), b.child().u64());
    }

    #[test]
    fn a_seed_fixes_the_same_stream_as_its_generator() {
        assert_eq!(Seed::from_u64(7).rng().u64(), Rng::from_u64(7).u64());
        let bytes = [9u8; 32];
        assert_eq!(
            Seed::from_bytes(bytes).rng().u64(),
            Rng::from_seed(bytes).u64()
        );
    }

    #[test]
    fn seed_debug_hides_the_value() {
        let printed = format!("{:?}", Seed::from_u64(123_456_789));
        assert!(!printed.contains("123456789"), "{printed}");
    }

    #[test]
    fn different_seeds_differ() {
        assert_ne!(Rng::from_u64(1).u64(), Rng::from_u64(2).u64());
    }

    #[test]
    fn children_are_independent_of_each_other() {
        let mut parent = Rng::from_u64(3);
        let mut c1 = parent.child();
        let mut c2 = parent.child();
        assert_ne!(c1.array::<32>(), c2.array::<32>());
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::from_u64(9);
        for bound in [1u64, 2, 3, 7, 1000, u64::MAX] {
            for _ in 0..100 {
                assert!(r.below(bound) < bound);
            }
        }
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn ice_chars_use_the_ice_alphabet() {
        let s = Rng::from_u64(5).ice_chars(256);
        assert_eq!(s.len(), 256);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
        );
    }
}
