//! ICE credentials: the username fragment and password (RFC 8445 section 5.3,
//! RFC 8839 section 5.4).

use crate::rng::Rng;

/// Length of generated username fragments (RFC 8839: at least 4 ICE characters).
pub const UFRAG_LEN: usize = 8;
/// Length of generated passwords (RFC 8839: at least 22 ICE characters).
pub const PWD_LEN: usize = 24;

/// A username fragment and password pair (`a=ice-ufrag`, `a=ice-pwd`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username fragment.
    pub ufrag: String,
    /// The password (the MESSAGE-INTEGRITY key of the checks the *other* side sends us,
    /// when these are our local credentials).
    pub pwd: String,
}

impl Credentials {
    /// Fresh random credentials drawn from `rng` with [`Rng::ice_chars`].
    pub fn random(rng: &mut Rng) -> Self {
        Credentials {
            ufrag: rng.ice_chars(UFRAG_LEN),
            pwd: rng.ice_chars(PWD_LEN),
        }
    }

    /// Builds credentials from given strings.
    pub fn new(ufrag: impl Into<String>, pwd: impl Into<String>) -> Self {
        Credentials {
            ufrag: ufrag.into(),
            pwd: pwd.into(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password is a key: never print it.
        write!(
            f,
            "Credentials {{ ufrag: {:?}, pwd: <{} chars> }}",
            self.ufrag,
            self.pwd.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_credentials_meet_rfc_8839_lengths() {
        let c = Credentials::random(&mut Rng::from_u64(1));
        assert!(c.ufrag.len() >= 4);
        assert!(c.pwd.len() >= 22);
        assert_ne!(c, Credentials::random(&mut Rng::from_u64(2)));
    }

    #[test]
    fn debug_hides_the_password() {
        let c = Credentials::new("abcd", "secretsecretsecretsecret");
        assert!(!format!("{c:?}").contains("secret"));
    }
}
