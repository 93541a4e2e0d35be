//! `SecretRecord`: a resolved secret and where it came from.

use super::{SecretSource, SecretValue};
use smallvec::SmallVec;
use std::fmt;
use std::sync::Arc;

/// A resolved secret. `Debug` shows the source and metadata, never the value.
#[derive(Debug, Clone)]
pub struct SecretRecord {
    /// The tier that answered.
    pub source: SecretSource,
    /// Where, as `(key, text)` pairs: `env_name`, `file`, `key`, `service`,
    /// `username`, `backend`. Never holds the value. Kept inline (no tier
    /// gives more than three): a thousand secrets make a thousand records.
    metadata: SmallVec<[(&'static str, MetaText); 3]>,
    /// The plaintext, wiped on drop.
    pub value: SecretValue,
}

/// A metadata text. Fixed texts (a backend's name) are borrowed, and texts
/// every record of a file repeats (its path) are shared, not copied.
#[derive(Clone)]
pub enum MetaText {
    /// A text fixed in the program.
    Fixed(&'static str),
    /// A text shared with other records.
    Shared(Arc<str>),
    /// A text of this record alone.
    Owned(String),
}

impl MetaText {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            MetaText::Fixed(text) => text,
            MetaText::Shared(text) => text,
            MetaText::Owned(text) => text,
        }
    }
}

impl fmt::Debug for MetaText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&'static str> for MetaText {
    fn from(text: &'static str) -> Self {
        MetaText::Fixed(text)
    }
}

impl From<String> for MetaText {
    fn from(text: String) -> Self {
        MetaText::Owned(text)
    }
}

impl From<Arc<str>> for MetaText {
    fn from(text: Arc<str>) -> Self {
        MetaText::Shared(text)
    }
}

impl SecretRecord {
    /// A record from `source` with no metadata.
    pub fn new(source: SecretSource, value: SecretValue) -> Self {
        SecretRecord {
            source,
            metadata: SmallVec::new(),
            value,
        }
    }

    /// Adds one metadata entry.
    pub fn with(mut self, key: &'static str, text: impl Into<MetaText>) -> Self {
        self.metadata.push((key, text.into()));
        self
    }

    /// A metadata entry by key.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Every metadata entry, in the order they were added.
    pub fn metadata(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.metadata
            .iter()
            .map(|(key, text)| (*key, text.as_str()))
    }

    /// Where the value came from, in words, for `-v` and `check`.
    pub fn location(&self) -> String {
        self.metadata()
            .map(|(_, text)| text)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keeps_order_and_every_kind_of_text() {
        let shared: Arc<str> = Arc::from("s.yaml");
        let record = SecretRecord::new(SecretSource::Sops, SecretValue::from("hunter2"))
            .with("file", Arc::clone(&shared))
            .with("key", "db.password".to_string())
            .with("backend", "native")
            .with("extra", "a fourth entry moves to the heap");
        assert_eq!(record.meta("key"), Some("db.password"));
        assert_eq!(
            record.location(),
            "s.yaml db.password native a fourth entry moves to the heap"
        );
        let shown = format!("{record:?}");
        assert!(
            shown.contains("\"s.yaml\"") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
