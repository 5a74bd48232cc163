//! [`SessionKeys`]: an SRTP context's session keys, derived from the master key on first use.
//!
//! DTLS-SRTP keys SRTP on every connection whose peer offers `use_srtp`, as browsers always
//! do, media or not. Scheduled session keys cost about 1.6 KiB per direction (two AES-GCM
//! ciphers); a server's data-channel-only sessions never protect a packet, so until the first
//! packet a context holds only its master key and salt (under 60 bytes).

use super::transform::{Transform, check_master};
use super::{SrtpError, SrtpProfile};

/// The longest master key (AES-256) and salt (AES-CM) of the supported profiles.
const MAX_MASTER_KEY_LEN: usize = 32;
const MAX_MASTER_SALT_LEN: usize = 14;

/// Session keys, derived when first needed.
#[derive(Clone)]
pub(super) enum SessionKeys {
    /// Not derived yet: no packet has been protected or unprotected.
    Master(Box<MasterKey>),
    /// Derived and scheduled.
    Derived(Transform),
}

/// A master key and salt, wiped when dropped.
#[derive(Clone)]
pub(super) struct MasterKey {
    profile: SrtpProfile,
    key: [u8; MAX_MASTER_KEY_LEN],
    key_len: usize,
    salt: [u8; MAX_MASTER_SALT_LEN],
    salt_len: usize,
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.key.fill(0);
        self.salt.fill(0);
    }
}

impl SessionKeys {
    /// Keeps `master_key` and `master_salt` for `profile` until the first packet.
    ///
    /// Errors: `UnsupportedProfile`, or `KeyLength` for a key or salt of the wrong length (the
    /// same checks as deriving at once, so a context that is created can always derive).
    pub(super) fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<Self, SrtpError> {
        let (key_len, salt_len) = check_master(profile, master_key, master_salt)?;
        let mut master = Box::new(MasterKey {
            profile,
            key: [0; MAX_MASTER_KEY_LEN],
            key_len,
            salt: [0; MAX_MASTER_SALT_LEN],
            salt_len,
        });
        master.key[..key_len].copy_from_slice(master_key);
        master.salt[..salt_len].copy_from_slice(master_salt);
        Ok(Self::Master(master))
    }

    /// The session keys, derived (once) if they were not yet.
    pub(super) fn derived(&mut self) -> Result<&Transform, SrtpError> {
        if let Self::Master(master) = self {
            let transform = Transform::new(
                master.profile,
                &master.key[..master.key_len],
                &master.salt[..master.salt_len],
            )?;
            *self = Self::Derived(transform);
        }
        match self {
            Self::Derived(transform) => Ok(transform),
            // Replaced just above.
            Self::Master(_) => Err(SrtpError::KeyLength),
        }
    }

    /// Whether the session keys have been derived (test hook).
    #[cfg(test)]
    pub(super) fn is_derived(&self) -> bool {
        matches!(self, Self::Derived(_))
    }
}
