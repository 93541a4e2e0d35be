//! `pass` patterns: which parent variables the child may see.
//!
//! A pattern is an exact variable name or a name prefix followed by one
//! trailing `*`. A bare `*` is refused: it would hand the child the whole
//! parent environment, the very leak kstrun exists to stop. A prefix matches
//! variable names only: a parent variable named `LC_A;touch x` (possible
//! through `execve`) would otherwise reach `export --format shell` as code.

/// One `pass` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassPattern {
    /// Exactly this name.
    Exact(String),
    /// Any name starting with this prefix (`LC_*`).
    Prefix(String),
}

impl PassPattern {
    /// Parses `NAME` or `PREFIX*`; the error says why, without echoing more than the pattern.
    pub fn parse(pattern: &str) -> Result<PassPattern, String> {
        let (body, glob) = match pattern.strip_suffix('*') {
            Some(body) => (body, true),
            None => (pattern, false),
        };
        if body.contains('*') {
            return Err(format!(
                "pass pattern '{pattern}': '*' is only allowed at the end"
            ));
        }
        if body.is_empty() {
            return Err(if glob {
                "pass pattern '*' would pass the whole environment; list the names or prefixes"
                    .to_string()
            } else {
                "empty pass pattern".to_string()
            });
        }
        if !is_variable_name(body.as_bytes()) {
            return Err(format!(
                "pass pattern '{pattern}' is not a variable name ([A-Za-z_][A-Za-z0-9_]*, optionally ending in *)"
            ));
        }
        Ok(if glob {
            PassPattern::Prefix(body.to_string())
        } else {
            PassPattern::Exact(body.to_string())
        })
    }

    /// Whether `name` is passed by this pattern.
    pub fn matches(&self, name: &[u8]) -> bool {
        match self {
            PassPattern::Exact(exact) => name == exact.as_bytes(),
            PassPattern::Prefix(prefix) => {
                name.starts_with(prefix.as_bytes()) && is_variable_name(name)
            }
        }
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_variable_name(name: &[u8]) -> bool {
    let mut bytes = name.iter().copied();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_prefix() {
        assert!(PassPattern::parse("PATH").unwrap().matches(b"PATH"));
        assert!(!PassPattern::parse("PATH").unwrap().matches(b"PATHX"));
        assert!(PassPattern::parse("LC_*").unwrap().matches(b"LC_ALL"));
        assert!(!PassPattern::parse("LC_*").unwrap().matches(b"LANG"));
        for odd in [&b"LC_A;touch x"[..], b"LC_A-B", b"LC_\nX", b"LC_\xff"] {
            assert!(!PassPattern::parse("LC_*").unwrap().matches(odd));
        }
    }

    #[test]
    fn bad_patterns() {
        for bad in ["", "*", "A*B", "*A", "1ABC", "A-B", "A B*"] {
            assert!(PassPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
