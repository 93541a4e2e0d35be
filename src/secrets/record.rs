//! `SecretRecord`: a resolved secret and where it came from.

use super::{SecretSource, SecretValue};
use std::borrow::Cow;

/// A resolved secret. `Debug` shows the source and metadata, never the value.
#[derive(Debug, Clone)]
pub struct SecretRecord {
    /// The tier that answered.
    pub source: SecretSource,
    /// Where, as `(key, text)` pairs: `env_name`, `file`, `service`, `username`,
    /// `backend`. Never holds the value. Fixed texts (a backend's name) are
    /// borrowed, not copied: a thousand secrets make a thousand records.
    pub metadata: Vec<(&'static str, Cow<'static, str>)>,
    /// The plaintext, wiped on drop.
    pub value: SecretValue,
}

impl SecretRecord {
    /// A record from `source` with no metadata.
    pub fn new(source: SecretSource, value: SecretValue) -> Self {
        SecretRecord {
            source,
            metadata: Vec::new(),
            value,
        }
    }

    /// Adds one metadata entry.
    pub fn with(mut self, key: &'static str, text: impl Into<Cow<'static, str>>) -> Self {
        self.metadata.push((key, text.into()));
        self
    }

    /// A metadata entry by key.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// Where the value came from, in words, for `-v` and `check`.
    pub fn location(&self) -> String {
        self.metadata
            .iter()
            .map(|(_, v)| v.as_ref())
            .collect::<Vec<_>>()
            .join(" ")
    }
}
