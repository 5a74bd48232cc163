//! `datachannel`: in progress.

/// Data channel errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataChannelError {
    /// Placeholder.
    #[error("not open")]
    NotOpen,
}
