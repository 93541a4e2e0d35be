//! Scalars for the fast YAML reader: which plain scalars it may take from
//! the line as they are, how serde_yaml would type them, and single-line
//! quoted scalars with their escapes. Whatever is not certain is refused
//! (`None`/`false`), and the caller then leaves the whole file to serde_yaml.

use super::format::Raw;
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

/// How serde_yaml types a plain scalar. Text that can only be a string is
/// taken as is; anything else short and simple is typed by serde_yaml itself.
pub(super) fn resolve_plain(v: &str) -> Option<Raw<'_>> {
    let first = v.chars().next()?;
    // A letter other than the first of `inf`, `nan` and the keywords below
    // (null, true, false) starts neither a number nor a keyword, so the
    // common case skips the trial parse.
    if first.is_ascii_alphabetic()
        && !matches!(first, 'i' | 'I' | 'n' | 'N' | 't' | 'T' | 'f' | 'F')
    {
        return Some(Raw::Str(v.into()));
    }
    let keyword = matches!(
        v,
        "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    );
    // Nulls, booleans and numbers start with a digit, a sign, a dot or `~`,
    // or are a keyword (or `inf`/`nan` spellings, which stay strings anyway).
    if !matches!(first, '0'..='9' | '+' | '-' | '.' | '~') && !keyword && v.parse::<f64>().is_err()
    {
        return Some(Raw::Str(v.into()));
    }
    // Typed out of context, `---` and `...` would be document markers.
    if v.starts_with("---")
        || v.starts_with("...")
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.+-~:".contains(&b))
    {
        return None;
    }
    let value: serde_yaml::Value = serde_yaml::from_str(v).ok()?;
    match value {
        serde_yaml::Value::String(s) if s != v => None,
        serde_yaml::Value::Null
        | serde_yaml::Value::Bool(_)
        | serde_yaml::Value::Number(_)
        | serde_yaml::Value::String(_) => super::format::from_yaml(value).ok(),
        _ => None,
    }
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
