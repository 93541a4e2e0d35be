//! A quick path through large manifests: a `[secrets]` table of simple lines.
//!
//! A manifest with hundreds of secrets is mostly lines like
//! `DB_URL = "db.url"`, and the toml crate, keeping a position on each key and
//! value, spends most of a large run's manifest time on them. When the one
//! `[secrets]` table holds only such lines (a bare key, `=`, a one-line
//! string without escapes, an optional comment; blank and comment lines),
//! this reader takes those lines itself, with the positions toml would give
//! them, and toml parses the rest of the file with the table's body cut out.
//! (Cut, not blanked: toml sizes its token buffer by the text's length, and
//! wiping that buffer on free would touch every page of it.) Positions after
//! the body are then off by its length; they only ever serve error messages,
//! and the caller reads a manifest that fails a check again with toml alone.
//!
//! Anything else declines (`None`) and the caller gives the whole file to
//! toml as before: a second `[secrets]` header, a multi-line string anywhere
//! (a `[secrets]` line could then be string content), a line of another
//! shape, a repeated key, secrets defined elsewhere in the file, or a file
//! toml refuses (so every error message still comes from toml, on the
//! original text). A test checks both paths give the same tables, and the
//! same positions for the secrets.

use super::raw::{RawManifest, RawSecret, SecretsTable};
use crate::hash::FnvBuild;
use std::ops::Range;
use toml::Spanned;

/// One simple line: where its key and its quoted value lie in the text.
struct SimpleLine {
    key: Range<usize>,
    /// The value with its quotes, as toml's span covers it.
    value: Range<usize>,
}

/// The manifest, when its `[secrets]` table is simple enough (see the module docs).
pub(super) fn parse(text: &str) -> Option<RawManifest> {
    if text.contains("\"\"\"") || text.contains("'''") {
        return None;
    }
    let (secrets, body) = simple_secrets(text)?;
    let rest = [&text[..body.start], &text[body.end..]].concat();
    let mut raw: RawManifest = toml::from_str(&rest).ok()?;
    match &raw.secrets {
        Some(elsewhere) if elsewhere.is_empty() => raw.secrets = Some(secrets),
        _ => return None,
    }
    Some(raw)
}

/// The entries of the one `[secrets]` table and where its body lies, if
/// every line of the body is simple, blank or a comment.
fn simple_secrets(text: &str) -> Option<(SecretsTable, Range<usize>)> {
    // Sized once (a line count bounds the entries): growing a thousand
    // entries by doubling would copy them, and wipe each old copy, ten times.
    let lines = crate::text::count_byte(b'\n', text.as_bytes()) + 1;
    let mut secrets = SecretsTable::with_capacity_and_hasher(lines, FnvBuild::default());
    let mut body: Option<Range<usize>> = None;
    let mut in_secrets = false;
    let mut start = 0;
    for raw_line in crate::text::lines_inclusive(text) {
        let line_start = start;
        start += raw_line.len();
        // A line break is `\n` or `\r\n`; any other carriage return is for toml to refuse.
        let content = match raw_line.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => raw_line,
        };
        let trimmed = content.trim_matches([' ', '\t']);
        if trimmed == "[secrets]" {
            if body.is_some() {
                return None;
            }
            in_secrets = true;
            body = Some(start..start);
        } else if trimmed.starts_with('[') {
            in_secrets = false;
        } else if in_secrets {
            if trimmed.starts_with('#') {
                if content.bytes().any(is_control) {
                    return None;
                }
            } else if !trimmed.is_empty() {
                let line = simple_line(content, line_start)?;
                let key = Spanned::new(line.key.clone(), text[line.key].to_string());
                let inner = line.value.start + 1..line.value.end - 1;
                let value = Spanned::new(line.value, RawSecret::Short(text[inner].to_string()));
                if secrets.insert(key, value).is_some() {
                    return None;
                }
            }
            if let Some(body) = body.as_mut() {
                body.end = start;
            }
        }
    }
    Some((secrets, body?))
}

/// `KEY = "value"` (or `'value'`), spaces and tabs around, an optional comment.
fn simple_line(content: &str, at: usize) -> Option<SimpleLine> {
    let bytes = content.as_bytes();
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let mut i = bytes.iter().take_while(|b| blank(b)).count();
    let key_start = i;
    i += bytes[i..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
        .count();
    let key = key_start..i;
    i += bytes[i..].iter().take_while(|b| blank(b)).count();
    if key.is_empty() || bytes.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    i += bytes[i..].iter().take_while(|b| blank(b)).count();
    let quote = *bytes.get(i).filter(|q| **q == b'"' || **q == b'\'')?;
    let value_start = i;
    let close = i + 1 + bytes[i + 1..].iter().position(|b| *b == quote)?;
    let inner = &bytes[i + 1..close];
    if inner.iter().any(|b| is_control(*b) || *b == b'\\') {
        return None;
    }
    i = close + 1;
    let value = value_start..i;
    i += bytes[i..].iter().take_while(|b| blank(b)).count();
    match bytes.get(i) {
        None => {}
        Some(b'#') if !bytes[i..].iter().any(|b| is_control(*b)) => {}
        Some(_) => return None,
    }
    Some(SimpleLine {
        key: at + key.start..at + key.end,
        value: at + value.start..at + value.end,
    })
}

/// Characters TOML refuses in strings and comments (a tab is allowed).
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secrets as (key, key span, value, value span).
    fn secrets(raw: &RawManifest) -> Vec<(String, Range<usize>, String, Range<usize>)> {
        raw.secrets
            .iter()
            .flatten()
            .map(|(key, value)| {
                let text = match value.get_ref() {
                    RawSecret::Short(text) => text.clone(),
                    RawSecret::Table(_) => "<table>".to_string(),
                };
                (key.get_ref().clone(), key.span(), text, value.span())
            })
            .collect()
    }

    #[test]
    fn simple_tables_match_toml_exactly() {
        let texts = [
            "[secrets]\nA = \"a.b\"\n",
            "pass = [\"HOME\"]\n\n[secrets]\n# note\nA=\"a\"\n\tB_2 =  'b.c'  # why\r\n\nc-d = \"\"\n[env]\nX = \"1\"\n",
            "[providers.sops]\npath = \"s.yaml\"\n[secrets]\nA = \"é.ü\"\nB = \"x y\"",
            "[secrets]\n1 = \"a\"\n",
            "[secrets]\n# ünïcode comment\nA = \"a\"\n\n[env]\nB = \"b\"\nC = 3\n",
        ];
        for text in texts {
            let fast = parse(text).unwrap_or_else(|| panic!("declined: {text:?}"));
            let full: RawManifest = toml::from_str(text).unwrap();
            assert_eq!(secrets(&fast), secrets(&full), "{text:?}");
            // Positions after the table's body move; names and values do not.
            let env = |raw: &RawManifest| -> Vec<(String, String)> {
                raw.env
                    .iter()
                    .flatten()
                    .map(|(key, value)| (key.get_ref().clone(), value.get_ref().0.clone()))
                    .collect()
            };
            assert_eq!(env(&fast), env(&full), "{text:?}");
            assert_eq!(
                fast.pass.as_ref().map(Vec::len),
                full.pass.as_ref().map(Vec::len)
            );
        }
    }

    #[test]
    fn anything_else_declines() {
        for text in [
            "A = 1\n",
            "[secrets]\nA = { path = \"a\" }\n",
            "[secrets]\nA = \"a\\tb\"\n",
            "[secrets]\n\"A\" = \"a\"\n",
            "[secrets]\nA.B = \"a\"\n",
            "[secrets]\nA = \"a\" junk\n",
            "[secrets]\nA = \"a\"\nA = \"b\"\n",
            "[secrets]\nA = \"a\"\n[secrets]\nB = \"b\"\n",
            "[secrets]\nA = \"a\"\n[secrets.B]\npath = \"b\"\n",
            "command = \"\"\"\n[secrets]\nA = \"a\"\n\"\"\"\n",
            "[secrets]\nA = \"a\"\n[providers]\nbogus = 1\n",
            "[secrets]\nA = \"a\x01\"\n",
            "[secrets]\n# a \x01 comment\nA = \"a\"\n",
            // Found by the agreement test: a carriage return without a line feed.
            "[secrets]\n\r",
            "[secrets]\nA = \"a\"\r\r\n",
        ] {
            assert!(parse(text).is_none(), "{text:?}");
        }
    }
}

/// The fast reader against toml on generated manifests: whenever it accepts
/// one, toml accepts it too, with the same secrets (names, values,
/// positions) and the same other tables; whenever toml refuses one, it
/// declines.
#[cfg(test)]
mod agreement {
    use super::*;
    use proptest::prelude::*;

    /// One line of a `[secrets]` body: mostly simple entries (numbered, so
    /// names rarely repeat), sometimes a comment, a blank or another shape.
    fn body_line() -> impl Strategy<Value = String> {
        let key = "[A-Za-z_][A-Za-z0-9_-]{0,5}";
        // Mostly text both readers take; now and then a quote, a backslash or a tab.
        let text = || prop_oneof![8 => "[a-z .#é-]{0,8}", 1 => "[a-z'\"\\\\\t]{0,4}"];
        prop_oneof![
            12 => (key, text()).prop_map(|(k, v)| format!("{k} = \"{v}\"")),
            4 => (key, text()).prop_map(|(k, v)| format!("\t{k}='{v}'  # {v}")),
            2 => text().prop_map(|c| format!("  # {c}")),
            2 => "[ \t]{0,3}\r?",
            1 => (key, text()).prop_map(|(k, v)| format!("{k} = {{ path = \"{v}\" }}")),
            1 => key.prop_map(|k| format!("{k} = 1")),
            1 => key.prop_map(|k| format!("\"{k}\" = \"x\"")),
            1 => Just("[secrets.T]".to_string()),
        ]
    }

    /// A manifest: something before and after one `[secrets]` table.
    fn manifest() -> impl Strategy<Value = String> {
        let before = prop_oneof![
            Just(""),
            Just("pass = [\"HOME\"]\n"),
            Just("[env]\nE1 = \"a\"\nE2 = 2\n"),
            Just("command = \"\"\"\n[secrets]\n\"\"\"\n"),
            Just("[secrets]\nX = \"x\"\n"),
        ];
        let after = prop_oneof![
            Just(""),
            Just("[providers.sops]\npath = \"s.yaml\"\n"),
            Just("[secrets.T]\npath = \"t\"\n"),
        ];
        let line_break = prop_oneof![Just("\n"), Just("\r\n"), Just("")];
        (
            before,
            prop::collection::vec(body_line(), 0..8),
            line_break,
            after,
        )
            .prop_map(|(before, body, end, after)| {
                let end = if after.is_empty() { end } else { "\n" };
                format!("{before}[secrets]\n{}{end}{after}", body.join("\n"))
            })
    }

    fn tables(raw: &RawManifest) -> (Vec<String>, Vec<String>) {
        let secrets = raw
            .secrets
            .iter()
            .flatten()
            .map(|(k, v)| {
                format!(
                    "{} {:?} {:?} {:?}",
                    k.get_ref(),
                    k.span(),
                    v.get_ref(),
                    v.span()
                )
            })
            .collect();
        let env = raw
            .env
            .iter()
            .flatten()
            .map(|(k, v)| format!("{} {}", k.get_ref(), v.get_ref().0))
            .collect();
        (secrets, env)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        #[test]
        fn the_fast_reader_agrees_with_toml(text in manifest()) {
            let full = toml::from_str::<RawManifest>(&text);
            match (parse(&text), full) {
                (Some(fast), Ok(full)) => prop_assert_eq!(tables(&fast), tables(&full)),
                (Some(_), Err(e)) => prop_assert!(false, "accepted what toml refuses: {e}"),
                (None, _) => {}
            }
        }
    }
}
