//! `ManifestError`: a bad manifest, kstlib config or command-line entry,
//! located as `file:line:column` where a position is known.
//!
//! Messages from serde name the offending *type* and key, but for strings
//! they also quote the offending text; [`redact_quoted`] removes those quotes'
//! contents so that a value typed in the wrong place is never echoed.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A manifest problem, with its position when known. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The file at fault (`<command line>` for options).
    pub file: PathBuf,
    /// 1-based line and column.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

impl ManifestError {
    /// An error about `file` as a whole.
    pub fn in_file(file: &Path, message: impl Into<String>) -> Self {
        ManifestError {
            file: file.to_path_buf(),
            position: None,
            message: message.into(),
        }
    }

    /// An error at byte `span` of `text`, the contents of `file`.
    pub fn at(
        file: &Path,
        text: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        ManifestError {
            file: file.to_path_buf(),
            position: span.map(|s| line_column(text, s.start)),
            message: message.into(),
        }
    }

    /// An error in a command-line option.
    pub fn option(message: impl Into<String>) -> Self {
        ManifestError {
            file: PathBuf::from("<command line>"),
            position: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.file.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ManifestError {}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Replaces the contents of every `"..."` in a parser message with `…`.
pub fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if inside && c == '\\' {
            // The quoted text is Rust's `Debug` form: `\"` is a quote inside
            // it, not its end, and `\\` a backslash.
            chars.next();
        } else if c == '"' {
            if inside {
                out.push('…');
            }
            inside = !inside;
            out.push(c);
        } else if !inside {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        assert_eq!(line_column("a\nbc\n", 3), (2, 2));
        assert_eq!(line_column("", 0), (1, 1));
    }

    #[test]
    fn quoted_text_is_redacted() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "hunter2", expected i64"#),
            r#"invalid type: string "…", expected i64"#
        );
    }

    #[test]
    fn an_escaped_quote_does_not_end_the_redaction() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "x\"hunter2\\", expected a boolean"#),
            r#"invalid type: string "…", expected a boolean"#
        );
    }
}
