//! `SecretValue`: the one type that holds plaintext.
//!
//! The bytes live in a `Zeroizing` buffer, so they are wiped when the value is
//! dropped. There is deliberately no `Display`, and `Debug` prints a fixed
//! placeholder: a value can only leave this type through an explicit accessor,
//! which keeps accidental `{}`/`{:?}` formatting from ever printing a secret.

use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// Plaintext secret bytes, wiped on drop, never formatted.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    /// Takes ownership of `bytes`; the buffer is wiped when the value drops.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        SecretValue(Zeroizing::new(bytes))
    }

    /// Takes ownership of `text`, reusing its buffer.
    pub fn from_string(text: String) -> Self {
        Self::from_bytes(text.into_bytes())
    }

    /// Copies `bytes` into a new zeroizing buffer.
    pub fn copy_from(bytes: &[u8]) -> Self {
        Self::from_bytes(bytes.to_vec())
    }

    /// The plaintext bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The plaintext as UTF-8, when it is.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Wipes the bytes now, leaving an empty value.
    pub fn wipe(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

impl From<String> for SecretValue {
    fn from(text: String) -> Self {
        Self::from_string(text)
    }
}

impl From<&str> for SecretValue {
    fn from(text: &str) -> Self {
        Self::copy_from(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let value = SecretValue::from("hunter2");
        let shown = format!("{value:?} {:#?}", value);
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn wipe_empties_the_value() {
        let mut value = SecretValue::from("hunter2");
        value.wipe();
        assert!(value.is_empty());
    }
}
