//! `SecretRequest`: what the caller asks the cascade for.
//!
//! Shaped after kstlib's request (`name`, `scope`, `required`, `default`,
//! `metadata`) so programs moving between the two recognise it.

use super::{SecretSource, SecretValue};
use std::path::PathBuf;

/// One secret to resolve.
#[derive(Debug, Clone)]
pub struct SecretRequest {
    /// Dotted secret path, e.g. `mail.smtp.password`.
    pub name: String,
    /// Scope (environment name such as `prod`); scoped names are tried first.
    pub scope: Option<String>,
    /// Whether a miss is an error (`true`) or leaves the secret absent.
    pub required: bool,
    /// Value used when no provider answers; the last tier.
    pub default: Option<SecretValue>,
    /// Provider hints.
    pub metadata: RequestMetadata,
}

/// Provider hints of a request (kstlib's `metadata` keys `path`, `key_path`).
#[derive(Debug, Clone, Default)]
pub struct RequestMetadata {
    /// SOPS file holding this secret, instead of the provider's `path`.
    pub path: Option<PathBuf>,
    /// Key inside the SOPS document, as segments, instead of the dotted name.
    pub key_path: Option<Vec<String>>,
    /// Restricts the middle tiers (`env`, `keyring`, `sops`) asked for this secret.
    pub providers: Option<Vec<SecretSource>>,
    /// A mapping or list is acceptable and is returned as JSON text.
    pub structured: bool,
}

impl SecretRequest {
    /// A required secret with no scope, default or hints.
    pub fn new(name: impl Into<String>) -> Self {
        SecretRequest {
            name: name.into(),
            scope: None,
            required: true,
            default: None,
            metadata: RequestMetadata::default(),
        }
    }

    /// Whether `source` may answer this request.
    pub fn allows(&self, source: SecretSource) -> bool {
        match (&self.metadata.providers, source) {
            (_, SecretSource::Override | SecretSource::Default) => true,
            (None, _) => true,
            (Some(list), source) => list.contains(&source),
        }
    }
}
