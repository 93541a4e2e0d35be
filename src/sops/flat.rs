//! The two line-based SOPS formats, dotenv and INI, and their flattened metadata.
//!
//! Both store sops's metadata as flat `key = value` pairs whose names encode
//! the nesting (`age__list_0__map_enc`), with newlines written as `\n`; this
//! module reads the lines and rebuilds the nested metadata, as sops's
//! `stores/flatten.go` does. The readers follow what sops's own parsers accept
//! (dotenv: split at the first `=`, no quoting; INI: gopkg.in/ini's rules for
//! sections, `=`/`:`, quotes, inline comments and continuation lines). Comment lines carry no data
//! and are skipped: they never enter the MAC.

use super::error::{Result, SopsError};
use super::format::{Parsed, Raw};

/// Reads a dotenv file: data lines, and `sops_*` lines as metadata.
pub fn parse_dotenv(bytes: &[u8]) -> Result<Parsed<'static>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| SopsError::malformed("the dotenv file is not valid UTF-8"))?;
    let mut data = Vec::new();
    let mut meta = Vec::new();
    for (number, line) in text.split('\n').enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').ok_or_else(|| {
            SopsError::malformed(format!("line {} of the dotenv file has no '='", number + 1))
        })?;
        let value = value.replace("\\n", "\n");
        match key.strip_prefix("sops_") {
            Some(meta_key) => meta.push((meta_key.to_string(), value)),
            None => data.push((key.to_string().into(), Raw::Str(value.into()))),
        }
    }
    let metadata = (!meta.is_empty()).then(|| unflatten(meta)).transpose()?;
    Ok((vec![data], metadata))
}

/// Reads an INI file: sections of string values, and the `[sops]` section as metadata.
pub fn parse_ini(bytes: &[u8]) -> Result<Parsed<'static>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| SopsError::malformed("the INI file is not valid UTF-8"))?;
    // gopkg.in/ini skips a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The unnamed section always exists and comes first, as in gopkg.in/ini.
    let mut sections: Vec<(String, Vec<(String, String)>)> = vec![("DEFAULT".into(), Vec::new())];
    // Lines keep their `\n`, as gopkg.in/ini reads them: a triple-quoted
    // value that goes on to the next line keeps the end of this one (a `\r`
    // included), and the newline counts in its tests of a line's length.
    let mut lines = text.split_inclusive('\n').enumerate();
    // Where each key of the section being read is.
    let mut places: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    while let Some((number, raw_line)) = lines.next() {
        let line = raw_line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let bad = |what: &str| {
            SopsError::malformed(format!("line {} of the INI file: {what}", number + 1))
        };
        if let Some(rest) = line.strip_prefix('[') {
            let close = rest
                .rfind(']')
                .ok_or_else(|| bad("unclosed section header"))?;
            // Kept as written, spaces included, as gopkg.in/ini keeps it
            // (`[ s ]` is the section " s ", and so is its additional data).
            let name = &rest[..close];
            if name.is_empty() {
                return Err(bad("empty section name"));
            }
            sections.push((name.to_string(), Vec::new()));
            places.clear();
            continue;
        }
        let (key, rest) = read_ini_key(line).map_err(bad)?;
        let value = read_ini_value(rest, &mut lines).ok_or_else(|| bad("unclosed quoted value"))?;
        if let Some((_, keys)) = sections.last_mut() {
            // A key repeated in a section keeps its first place and takes
            // the last value, as gopkg.in/ini's `NewKey` does.
            match places.get(&key) {
                Some(&place) => keys[place].1 = value,
                None => {
                    places.insert(key.clone(), keys.len());
                    keys.push((key, value));
                }
            }
        }
    }
    let mut data = Vec::new();
    let mut metadata = None;
    for (name, keys) in sections {
        if name == "sops" {
            if metadata.is_none() {
                let flat = keys
                    .into_iter()
                    .map(|(k, v)| (k, v.replace("\\n", "\n")))
                    .collect();
                metadata = Some(unflatten(flat)?);
            }
        } else {
            data.push((
                name.into(),
                Raw::Map(
                    keys.into_iter()
                        .map(|(k, v)| (k.into(), Raw::Str(v.into())))
                        .collect(),
                ),
            ));
        }
    }
    Ok((vec![data], metadata))
}

/// Splits a key line (with its `\n`) into the key and what follows its `=`
/// or `:`, as gopkg.in/ini reads it. A key holding `"`, `=` or `:` is written
/// between backticks, and one holding a backtick between triple double
/// quotes; a key starting with a double quote is read up to the next one.
fn read_ini_key(line: &str) -> std::result::Result<(String, &str), &'static str> {
    let quote = if line.len() > 6 && line.starts_with("\"\"\"") {
        "\"\"\""
    } else if line.starts_with('"') {
        "\""
    } else if line.starts_with('`') {
        "`"
    } else {
        let split = line.find(['=', ':']).ok_or("no '=' in a key line")?;
        return Ok((line[..split].trim().to_string(), &line[split + 1..]));
    };
    let inner = &line[quote.len()..];
    let close = inner.find(quote).ok_or("unclosed quoted key")?;
    let after = &inner[close + quote.len()..];
    let split = after.find(['=', ':']).ok_or("no '=' in a key line")?;
    Ok((inner[..close].trim().to_string(), &after[split + 1..]))
}

/// Reads a value as gopkg.in/ini does: `rest` is what follows the key's `=`
/// on its line, `\n` included; a value may go on over the next lines.
fn read_ini_value<'a>(
    rest: &str,
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
) -> Option<String> {
    let value = rest.trim_start();
    if value.is_empty() {
        return Some(String::new());
    }
    // Three quotes count only with something after them (the newline too).
    let quote = if value.len() > 3 && value.starts_with("\"\"\"") {
        Some("\"\"\"")
    } else if value.starts_with('`') {
        Some("`")
    } else {
        None
    };
    if let Some(quote) = quote {
        let inner = &value[quote.len()..];
        // Up to the last closing quotes on the line where they first appear.
        if let Some(end) = inner.rfind(quote) {
            return Some(inner[..end].to_string());
        }
        let mut text = inner.to_string();
        for (_, next) in lines.by_ref() {
            if let Some(end) = next.rfind(quote) {
                text.push_str(&next[..end]);
                return Some(text);
            }
            text.push_str(next);
        }
        return None;
    }
    let value = value.trim();
    // A trailing backslash joins the next lines, trimmed, up to one that
    // does not end in one (or an empty one): taken as they are, before any
    // comment or quote is looked for.
    if let Some(first) = value.strip_suffix('\\') {
        let mut joined = first.to_string();
        for (_, next) in lines.by_ref() {
            let next = next.trim();
            if next.is_empty() {
                break;
            }
            joined.push_str(next);
            if !joined.ends_with('\\') {
                break;
            }
            joined.pop();
        }
        return Some(joined);
    }
    let value = match value.find(['#', ';']) {
        Some(comment) => value[..comment].trim(),
        None => value,
    };
    Some(unquote(value).to_string())
}

/// Drops the quotes around a value that starts and ends with the same quote
/// and holds no other (gopkg.in/ini's `hasSurroundedQuote`): `"a" "b"` and
/// `'a'b'` stay as they are.
fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            if !inner.contains(quote) {
                return inner;
            }
        }
    }
    text
}

/// The most levels a flattened metadata key may name. sops's deepest
/// (`key_groups__list_0__map_age__list_0__map_recipient`) has five; each
/// level is a recursive call, so a key naming thousands would overflow the
/// stack.
const MAX_METADATA_DEPTH: usize = 16;

/// The most flattened metadata entries a file may hold: sops writes two or
/// three per recipient and a dozen besides.
const MAX_METADATA_KEYS: usize = 4096;

/// Rebuilds nested metadata from flattened keys (`age__list_0__map_enc`).
/// `mac_only_encrypted` becomes a boolean and `shamir_threshold` a number,
/// as sops's `DecodeNonStrings` does.
fn unflatten(flat: Vec<(String, String)>) -> Result<Raw<'static>> {
    // Each key is looked for among those before it: bounded, a file of
    // millions of `sops_` lines cannot take hours.
    if flat.len() > MAX_METADATA_KEYS {
        return Err(SopsError::malformed(format!(
            "more than {MAX_METADATA_KEYS} sops metadata entries"
        )));
    }
    let mut root = Raw::Map(Vec::new());
    for (key, value) in flat {
        let path = tokenize(&key).ok_or_else(|| {
            SopsError::malformed(format!(
                "a sops metadata key is nested more than {MAX_METADATA_DEPTH} levels deep"
            ))
        })?;
        let leaf = match (key.as_str(), value.as_str()) {
            ("mac_only_encrypted", v) => Raw::Bool(v == "true"),
            ("shamir_threshold", v) => v.parse().map(Raw::Int).unwrap_or(Raw::Str(value.into())),
            _ => Raw::Str(value.into()),
        };
        insert(&mut root, &path, leaf);
    }
    Ok(root)
}

enum Token {
    Key(String),
    Index(usize),
}

/// The levels `path` names, or `None` past [`MAX_METADATA_DEPTH`] (found
/// without reading further: each level searches the rest of the key).
fn tokenize(path: &str) -> Option<Vec<Token>> {
    const MAP: &str = "__map_";
    const LIST: &str = "__list_";
    let mut tokens = Vec::new();
    let mut rest = path;
    let mut is_list = false;
    loop {
        let next = [
            rest.find(MAP).map(|i| (i, false)),
            rest.find(LIST).map(|i| (i, true)),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|(i, _)| *i);
        let (piece, following) = match next {
            Some((i, list)) => (&rest[..i], Some((i, list))),
            None => (rest, None),
        };
        if tokens.len() == MAX_METADATA_DEPTH {
            return None;
        }
        tokens.push(if is_list {
            Token::Index(piece.parse().unwrap_or(0))
        } else {
            Token::Key(piece.to_string())
        });
        match following {
            Some((i, list)) => {
                rest = &rest[i + if list { LIST.len() } else { MAP.len() }..];
                is_list = list;
            }
            None => return Some(tokens),
        }
    }
}

fn insert(node: &mut Raw<'static>, path: &[Token], leaf: Raw<'static>) {
    let Some((first, rest)) = path.split_first() else {
        *node = leaf;
        return;
    };
    let empty = || match rest.first() {
        Some(Token::Index(_)) => Raw::List(Vec::new()),
        _ => Raw::Map(Vec::new()),
    };
    match first {
        Token::Key(key) => {
            if !matches!(node, Raw::Map(_)) {
                *node = Raw::Map(Vec::new());
            }
            if let Raw::Map(items) = node {
                let index = match items.iter().position(|(k, _)| k == key) {
                    Some(i) => i,
                    None => {
                        items.push((key.clone().into(), empty()));
                        items.len() - 1
                    }
                };
                insert(&mut items[index].1, rest, leaf);
            }
        }
        Token::Index(index) => {
            if !matches!(node, Raw::List(_)) {
                *node = Raw::List(Vec::new());
            }
            // Metadata lists are short; a silly index must not allocate wildly.
            if let (Raw::List(items), true) = (&mut *node, *index < 1024) {
                while items.len() <= *index {
                    items.push(Raw::Null);
                }
                if matches!(items[*index], Raw::Null) {
                    items[*index] = empty();
                }
                insert(&mut items[*index], rest, leaf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_metadata_is_rebuilt() {
        let text = b"# c\nA=x=y\nB=l1\\nl2\nsops_age__list_0__map_recipient=age1x\nsops_age__list_0__map_enc=E\\nF\nsops_mac_only_encrypted=true\n";
        let (data, meta) = parse_dotenv(text).unwrap();
        assert_eq!(data[0][0], ("A".into(), Raw::Str("x=y".into())));
        assert_eq!(data[0][1], ("B".into(), Raw::Str("l1\nl2".into())));
        let meta = meta.unwrap();
        assert_eq!(meta.get("mac_only_encrypted"), Some(&Raw::Bool(true)));
        let Some(Raw::List(age)) = meta.get("age") else {
            panic!("no age list")
        };
        assert_eq!(age[0].get_str("recipient"), Some("age1x"));
        assert_eq!(age[0].get_str("enc"), Some("E\nF"));
        assert!(parse_dotenv(b"no equals\n").is_err());
    }

    #[test]
    fn ini_sections_quotes_and_comments() {
        let text = "top = 1\n[a.b]\nk1 = `x # y`\nk2 = \"q\" ; comment\nk3: v\nk4 = \"\"\"l1\nl2\"\"\"\n[sops]\nversion = 3\n";
        let (data, meta) = parse_ini(text.as_bytes()).unwrap();
        let names: Vec<_> = data[0].iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(names, ["DEFAULT", "a.b"]);
        let section = &data[0][1].1;
        assert_eq!(section.get_str("k1"), Some("x # y"));
        assert_eq!(section.get_str("k2"), Some("q"));
        assert_eq!(section.get_str("k3"), Some("v"));
        assert_eq!(section.get_str("k4"), Some("l1\nl2"));
        assert_eq!(meta.unwrap().get_str("version"), Some("3"));
        assert!(parse_ini(b"[open\n").is_err());
        let (crlf, _) = parse_ini(b"[s]  \r\nk = \"\"\"a\r\nb\"\"\"\r\nm = plain \r\n").unwrap();
        assert_eq!(crlf[0][1].1.get_str("k"), Some("a\r\nb"));
        assert_eq!(crlf[0][1].1.get_str("m"), Some("plain"));
        assert!(parse_ini(b"k = \"\"\"never closed\n").is_err());
    }

    #[test]
    fn ini_keys_are_unquoted_as_gopkg_ini_writes_them() {
        let text = "[s]\n`pass:word` = v1\n\"\"\"a`b\"\"\" = v2\n\"q\" = v3\n'k' = v4\n`x=y`: v5\n";
        let (data, _) = parse_ini(text.as_bytes()).unwrap();
        let Raw::Map(keys) = &data[0][1].1 else {
            panic!("a section is a map")
        };
        let names: Vec<_> = keys.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(names, ["pass:word", "a`b", "q", "'k'", "x=y"]);
        assert_eq!(data[0][1].1.get_str("x=y"), Some("v5"));
        assert!(parse_ini(b"`open = 1\n").is_err());
        assert!(parse_ini(b"`closed` no delimiter\n").is_err());
    }

    #[test]
    fn ini_line_ends_and_quotes_as_gopkg_ini_reads_them() {
        // Three quotes are a quoted value only with something after them
        // (the newline counts); a byte order mark is skipped.
        let (data, _) = parse_ini("\u{feff}[s]\nk = \"\"\"".as_bytes()).unwrap();
        assert_eq!(data[0][1].1.get_str("k"), Some("\"\"\""));
        assert!(parse_ini(b"[s]\nk = \"\"\"\n").is_err());
        // A backslash at the end of the file joins nothing.
        let (data, _) = parse_ini(b"[s]\nk = a\\").unwrap();
        assert_eq!(data[0][1].1.get_str("k"), Some("a"));
        let (data, _) = parse_ini(b"[s]\nk = \"\"\nq = '\"'\n").unwrap();
        assert_eq!(data[0][1].1.get_str("k"), Some(""));
        assert_eq!(data[0][1].1.get_str("q"), Some("\""));
    }
}
