//! Which leaves of a SOPS file are encrypted: the one rule of the file.
//!
//! sops decides per leaf from the path of map keys above it (list indices are
//! not part of it): a suffix or regular expression matches when *any* key on
//! the path matches. The decision must be recomputed, not guessed from whether
//! a value looks like `ENC[...]`: otherwise a clear-text value put in place of
//! an encrypted one would be accepted. Regular expressions are searched, not
//! anchored, as Go's `regexp.Match` does, and read in Go's dialect (see
//! `go_regex`).

use super::go_regex;
use regex::Regex;

/// The encryption rule of a file.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Leaves under a key ending with this are clear (default `_unencrypted`).
    UnencryptedSuffix(String),
    /// Only leaves under a key ending with this are encrypted.
    EncryptedSuffix(String),
    /// Leaves under a key matching this are clear.
    UnencryptedRegex(Regex),
    /// Only leaves under a key matching this are encrypted.
    EncryptedRegex(Regex),
    /// Comment-driven rules: the native reader does not see YAML comments,
    /// so files using them go to the `sops` executable.
    CommentRegex(&'static str),
    /// A regular expression the `regex` crate cannot read as Go does: such
    /// files go to the `sops` executable too.
    ForeignRegex(&'static str),
}

impl Rule {
    /// The metadata fields that hold a rule.
    pub const NAMES: [&'static str; 6] = [
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
    ];

    /// sops's rule when a file names none.
    pub fn default_rule() -> Rule {
        Rule::UnencryptedSuffix("_unencrypted".into())
    }

    /// The rule stored under metadata field `name`.
    pub fn from_metadata(name: &'static str, value: &str) -> Rule {
        match name {
            "unencrypted_suffix" => Rule::UnencryptedSuffix(value.to_string()),
            "encrypted_suffix" => Rule::EncryptedSuffix(value.to_string()),
            "unencrypted_regex" | "encrypted_regex" => match go_regex::compile(value) {
                Some(regex) if name == "encrypted_regex" => Rule::EncryptedRegex(regex),
                Some(regex) => Rule::UnencryptedRegex(regex),
                None => Rule::ForeignRegex(name),
            },
            _ => Rule::CommentRegex(name),
        }
    }

    /// Whether a leaf under the map keys `path` is encrypted.
    pub fn encrypts(&self, path: &[&str]) -> bool {
        match self {
            Rule::UnencryptedSuffix(s) => !path.iter().any(|k| k.ends_with(s.as_str())),
            Rule::EncryptedSuffix(s) => path.iter().any(|k| k.ends_with(s.as_str())),
            Rule::UnencryptedRegex(r) => !path.iter().any(|k| r.is_match(k)),
            Rule::EncryptedRegex(r) => path.iter().any(|k| r.is_match(k)),
            Rule::CommentRegex(_) | Rule::ForeignRegex(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_key_on_the_path_decides() {
        let rule = Rule::default_rule();
        assert!(rule.encrypts(&["a", "b"]));
        assert!(!rule.encrypts(&["a_unencrypted", "b"]));
        let rule = Rule::from_metadata("encrypted_regex", "^(password|token)$");
        assert!(rule.encrypts(&["db", "token"]));
        assert!(rule.encrypts(&["password", "x"]));
        assert!(!rule.encrypts(&["db", "host"]));
        let rule = Rule::from_metadata("encrypted_suffix", "word");
        assert!(rule.encrypts(&["password"]));
        assert!(!rule.encrypts(&["user"]));
        assert!(matches!(
            Rule::from_metadata("encrypted_regex", "("),
            Rule::ForeignRegex("encrypted_regex")
        ));
    }
}
