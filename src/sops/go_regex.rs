//! sops's regular expressions (Go's RE2 dialect), compiled by the `regex` crate.
//!
//! The two dialects agree on nearly everything, but not on what matters most
//! for map keys: Go's `\w`, `\d`, `\s` and `\b` are ASCII-only, while the
//! `regex` crate's are Unicode-aware, so `^\w+_key$` would take `clé_key`
//! for an encrypted key where sops left it in clear. Go also reads `\Q...\E`
//! as literal text, `\<` and `\>` as the characters (word boundaries to the
//! `regex` crate) and octal escapes, and inside a bracket class treats `[`,
//! `&&` and `~~` as plain characters, where the `regex` crate nests classes
//! or applies set operations. [`compile`] rewrites exactly those constructs
//! and passes everything else through. A class holding `--` (a range with
//! `-` as an end in Go, a set difference in the `regex` crate) is not
//! rewritten but refused, as is a pattern the `regex` crate still refuses:
//! then `None`, and the native reader leaves that file to sops.

use regex::{Regex, RegexBuilder};

/// Go's `\w`, `\d` and `\s` as ASCII classes (Go's `\s` has no `\v`).
fn perl_class(escape: char) -> Option<&'static str> {
    Some(match escape {
        'w' => "[0-9A-Za-z_]",
        'W' => "[^0-9A-Za-z_]",
        'd' => "[0-9]",
        'D' => "[^0-9]",
        's' => r"[\t\n\f\r ]",
        'S' => r"[^\t\n\f\r ]",
        _ => return None,
    })
}

/// Compiles a pattern as Go's `regexp` reads it, or `None`.
pub fn compile(pattern: &str) -> Option<Regex> {
    RegexBuilder::new(&translate(pattern)?)
        .octal(true)
        .build()
        .ok()
}

/// The pattern in the `regex` crate's dialect, or `None` when a class holds `--`.
fn translate(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(escape) = chars.next() else {
                    // A trailing backslash: invalid in both dialects.
                    out.push('\\');
                    break;
                };
                if let Some(class) = perl_class(escape) {
                    out.push_str(class);
                    continue;
                }
                match escape {
                    'b' if !in_class => out.push_str(r"(?-u:\b)"),
                    'B' if !in_class => out.push_str(r"(?-u:\B)"),
                    'Q' if !in_class => {
                        let mut literal = String::new();
                        while let Some(l) = chars.next() {
                            if l == '\\' && chars.peek() == Some(&'E') {
                                chars.next();
                                break;
                            }
                            literal.push(l);
                        }
                        out.push_str(&regex::escape(&literal));
                    }
                    '<' | '>' => out.push(escape),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                // A `]` right after the opening is a literal in both dialects.
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push(']');
                }
            }
            '[' if chars.peek() == Some(&':') => {
                // A POSIX class such as `[:alpha:]`, the same in both.
                out.push('[');
                for p in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '-' if in_class && chars.peek() == Some(&'-') => return None,
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, key: &str) -> bool {
        compile(pattern)
            .unwrap_or_else(|| panic!("{pattern} compiles"))
            .is_match(key)
    }

    #[test]
    fn perl_classes_and_boundaries_are_ascii_as_in_go() {
        assert!(matches(r"^\w+_key$", "api_key"));
        assert!(!matches(r"^\w+_key$", "clé_key"));
        assert!(matches(r"^\W$", "é"));
        assert!(!matches(r"^\d$", "٣"));
        assert!(matches(r"^\D$", "٣"));
        assert!(!matches(r"^\s$", "\u{a0}"));
        assert!(!matches(r"^\s$", "\u{b}"));
        assert!(matches(r"^[\w.]+$", "a.b_c"));
        assert!(!matches(r"^[\w.]+$", "aé"));
        assert!(matches(r"\bkey\b", "api key"));
        // Go's \b sees é as a non-word character, so a boundary precedes "key".
        assert!(matches(r"\bkey", "ékey"));
        assert!(matches(r"(?i)^\w+$", "ABC"));
        // Unicode classes stay Unicode.
        assert!(matches(r"^\pL+$", "clé"));
    }

    #[test]
    fn go_only_syntax_is_rewritten() {
        assert!(matches(r"^\Qpass.word\E$", "pass.word"));
        assert!(!matches(r"^\Qpass.word\E$", "passXword"));
        assert!(matches(r"^\Qa+b", "a+b"));
        assert!(matches(r"^\101$", "A"));
        assert!(matches(r"^[a&&b]$", "&"));
        assert!(matches(r"^[a~~b]$", "~"));
        assert!(matches(r"^[[x]$", "["));
        assert!(matches(r"^[]x]$", "]"));
        assert!(matches(r"^[^]x]$", "y"));
        assert!(matches(r"^[[:alpha:]]+$", "abc"));
        assert!(matches(r"^(?P<name>x)$", "x"));
        assert!(matches(r"^a\<b\>$", "a<b>"));
    }

    #[test]
    fn what_neither_dialect_reads_is_refused() {
        // `[a-z--x]` is a-z plus the range - to x in Go, a-z minus x here.
        for pattern in ["(", r"x\", r"[\Qa\E]", "(?<=a)b", "[a-z--x]", "[+--]"] {
            assert!(compile(pattern).is_none(), "{pattern}");
        }
    }
}
