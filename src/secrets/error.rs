//! Errors of the secrets library.
//!
//! Every variant carries names (variable, dotted path, provider, file, service)
//! and a reason, never a value: these errors are printed, logged and
//! `Debug`-formatted freely, so they must be safe to show anywhere.

use thiserror::Error;

/// Why a secret could not be resolved. Never holds a secret value.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SecretError {
    /// No provider had the secret and there was no default (kstlib's
    /// `SecretNotFoundError`).
    #[error("secret '{name}' not found (tried: {tried})")]
    NotFound {
        /// Dotted secret path.
        name: String,
        /// What was asked, in order, e.g. `env KSTLIB_DB_URL, DB_URL; sops secrets.sops.yml`.
        tried: String,
    },
    /// A provider holds the secret but could not decrypt it: a MAC mismatch,
    /// no usable key, a corrupt file (kstlib's `SecretDecryptionError`).
    #[error("{provider}: cannot decrypt '{name}' from {location}: {reason}")]
    Decryption {
        /// Provider name (`sops`).
        provider: &'static str,
        /// Dotted secret path.
        name: String,
        /// File or store the provider read.
        location: String,
        /// Why, in words; never a value.
        reason: String,
    },
    /// A provider failed for another reason: a locked keyring, a timeout, a
    /// missing configured file, a value of the wrong shape.
    #[error("{provider}: '{name}': {reason}")]
    Provider {
        /// Provider name.
        provider: &'static str,
        /// Dotted secret path.
        name: String,
        /// Why, in words; never a value.
        reason: String,
    },
    /// The settings given to the resolver are invalid.
    #[error("configuration: {0}")]
    Config(String),
}

impl SecretError {
    /// A provider failure for `name` with a reason.
    pub fn provider(provider: &'static str, name: &str, reason: impl Into<String>) -> Self {
        SecretError::Provider {
            provider,
            name: name.to_string(),
            reason: reason.into(),
        }
    }
}
