//! Scalars for the fast YAML reader: which plain scalars it may take from
//! the line as they are, how sops types them, and single-line quoted
//! scalars with their escapes. Whatever is not certain is refused
//! (`None`/`false`), and the caller then leaves the whole file to serde_yaml.

use super::format::Raw;
use super::go_yaml::{self, Plain};
use crate::text::find_pair;

/// A plain scalar we can take from the line as it is: no indicator first,
/// no comment, no `: ` inside, no `:` last.
pub(super) fn plain_ok(s: &str) -> bool {
    let mut chars = s.chars();
    let (Some(first), second) = (chars.next(), chars.next()) else {
        return false;
    };
    let indicator = matches!(
        first,
        '?' | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) || (first == '-' && matches!(second, None | Some(' ')));
    !indicator
        && find_pair(s, b" #").is_none()
        && find_pair(s, b": ").is_none()
        && !s.ends_with(':')
        && !s.ends_with(' ')
}

/// How sops types a plain scalar (see `go_yaml`), as a raw node. `None`
/// for a whole number past `i64`, which sops refuses: left to serde_yaml.
pub(super) fn resolve_plain(v: &str) -> Option<Raw<'_>> {
    Some(match go_yaml::resolve(v) {
        Plain::Null => Raw::Null,
        Plain::Bool(b) => Raw::Bool(b),
        Plain::Int(n) => Raw::Int(n),
        Plain::Uint(_) => return None,
        Plain::Float(f) => Raw::Float(f),
        Plain::Time(_) => Raw::Time(v.into()),
        Plain::Str => Raw::Str(v.into()),
    })
}

/// A single-line quoted scalar at the start of `s`, and what follows it.
pub(super) fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    let (_, quote) = chars.next()?;
    let mut out = String::new();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' if quote == '\'' => {
                if s[at + 1..].starts_with('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((out, &s[at + 1..]));
                }
            }
            '"' if quote == '"' => return Some((out, &s[at + 1..])),
            '\\' if quote == '"' => out.push(escape(&mut chars)?),
            c => out.push(c),
        }
    }
    None
}

fn escape(chars: &mut std::str::CharIndices<'_>) -> Option<char> {
    let (_, c) = chars.next()?;
    let hex = |chars: &mut std::str::CharIndices<'_>, n: usize| {
        let mut code = 0u32;
        for _ in 0..n {
            code = code * 16 + chars.next()?.1.to_digit(16)?;
        }
        char::from_u32(code)
    };
    Some(match c {
        '0' => '\0',
        'a' => '\x07',
        'b' => '\x08',
        't' => '\t',
        'n' => '\n',
        'v' => '\x0b',
        'f' => '\x0c',
        'r' => '\r',
        'e' => '\x1b',
        ' ' => ' ',
        '"' => '"',
        '\\' => '\\',
        'x' => hex(chars, 2)?,
        'u' => hex(chars, 4)?,
        'U' => hex(chars, 8)?,
        _ => return None,
    })
}
