//! Errors of the SOPS reader: a kind the caller can act on, and a reason.
//!
//! The reason is words chosen here, never text copied from the file or from
//! a decrypted value: an error may name a key path or an identity source, but
//! no value, no ciphertext fragment and no key material. The file is not part
//! of the error: callers add it, as they know how to show it.

use std::fmt;

/// What went wrong, coarsely: it decides how the caller reacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file does not exist.
    NotFound,
    /// The file (or a key file) could not be read.
    Io,
    /// The file is not a well-formed SOPS file of its format.
    Malformed,
    /// The file is well-formed but does not decrypt: MAC mismatch, a value or
    /// the data key that fails authentication, bad base64 inside `ENC[...]`.
    Decryption,
    /// No available identity opens the file's data key.
    NoIdentity,
    /// The native backend cannot handle this file (no age key, Shamir key
    /// groups, comment-based rules): the `sops` executable may.
    Unsupported,
    /// The `sops` executable failed or could not be started.
    Binary,
    /// A helper process (sops, `SOPS_AGE_KEY_CMD`) ran past its deadline.
    Timeout,
    /// Stopped on request (a signal while resolving).
    Interrupted,
}

/// An error of the SOPS reader. Holds no secret.
#[derive(Debug, Clone)]
pub struct SopsError {
    /// The kind.
    pub kind: ErrorKind,
    /// Why, in words.
    pub reason: String,
}

impl SopsError {
    /// An error of `kind` with `reason`.
    pub fn new(kind: ErrorKind, reason: impl Into<String>) -> Self {
        SopsError {
            kind,
            reason: reason.into(),
        }
    }

    /// A malformed-file error.
    pub fn malformed(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Malformed, reason)
    }

    /// A decryption error.
    pub fn decryption(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decryption, reason)
    }

    /// An unsupported-by-native error.
    pub fn unsupported(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, reason)
    }

    /// Whether the same file may read fine on another try: the failure lay
    /// in what surrounds it (sops slow, missing or failing, a signal, a
    /// key file or the file itself unreadable for now), not in its text.
    pub fn may_pass(&self) -> bool {
        !matches!(
            self.kind,
            ErrorKind::Malformed | ErrorKind::Decryption | ErrorKind::Unsupported
        )
    }
}

impl fmt::Display for SopsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for SopsError {}

/// Result of the SOPS reader.
pub type Result<T> = std::result::Result<T, SopsError>;
