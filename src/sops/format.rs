//! Reading encrypted SOPS files into raw trees, one reader per format.
//!
//! A raw tree is the file as sops sees it before decryption: ordered maps
//! (order matters, the MAC is taken in document order), lists, and scalars,
//! most of them `ENC[...]` strings. The `sops` metadata is taken out of the
//! data and handed over separately, as a raw tree too, whatever the format
//! (dotenv and INI flatten it; `flat.rs` puts it back together).
//!
//! YAML goes through the fast reader in `yaml_fast.rs` or serde_yaml, JSON
//! and binary envelopes through serde_json (into the raw tree directly, so
//! that an object repeating a member's name keeps both, as sops does), dotenv
//! and INI through the small line readers in `flat.rs`. Text that the file holds as it is (the keys and
//! `ENC[...]` values of the YAML sops writes) is borrowed from the file's
//! bytes rather than copied: a thousand-secret file is not duplicated.

use super::error::{Result, SopsError};
use super::flat;
use super::Format;
use crate::yaml_events::{PlainScalars, Refusal};
use serde::Deserialize;
use std::borrow::Cow;

/// A node of an encrypted (or plain) SOPS tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw<'a> {
    /// A mapping in file order.
    Map(Vec<(Cow<'a, str>, Raw<'a>)>),
    /// A list.
    List(Vec<Raw<'a>>),
    /// A string (an `ENC[...]` value, or an unencrypted string).
    Str(Cow<'a, str>),
    /// An unencrypted plain YAML scalar that sops reads as a time, as written.
    Time(Cow<'a, str>),
    /// An unencrypted whole number.
    Int(i64),
    /// An unencrypted float (every JSON number is one, as in sops).
    Float(f64),
    /// An unencrypted boolean.
    Bool(bool),
    /// A null.
    Null,
}

/// An encrypted SOPS file, parsed but not decrypted.
#[derive(Debug)]
pub struct EncryptedFile<'a> {
    /// The format it was read as (never `Auto`).
    pub format: Format,
    /// The data, one root mapping per document, without the `sops` key.
    pub branches: Vec<Branch<'a>>,
    /// The `sops` metadata, as a raw tree.
    pub metadata: Raw<'a>,
    /// `None` when every unencrypted scalar is typed as sops types it. Not
    /// so for YAML read by serde_yaml, which neither types plain scalars as
    /// go-yaml does nor tells a plain one from a quoted one: there a `Str`
    /// may stand for a number or a time to sops, if its text is among
    /// those written plain or tagged somewhere in the file, listed here.
    pub plain_scalars: Option<PlainScalars>,
}

/// One document's root mapping.
pub type Branch<'a> = Vec<(Cow<'a, str>, Raw<'a>)>;

impl<'a> Raw<'a> {
    /// The value under `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Raw<'a>> {
        match self {
            Raw::Map(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string under `key` in a map, if it is one (a time read into
    /// a text field keeps its text, as in sops's metadata).
    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Raw::Str(s) | Raw::Time(s)) => Some(s),
            _ => None,
        }
    }
}

/// Parses `bytes` as an encrypted SOPS file of `format` (not `Auto`).
pub fn parse(bytes: &[u8], format: Format) -> Result<EncryptedFile<'_>> {
    // A UTF-8 byte order mark (a Windows editor's) starts no data: sops's
    // YAML and INI readers skip it; its JSON and dotenv readers refuse it.
    let without_bom = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let ((branches, metadata), plain_scalars) = match format {
        Format::Yaml => match super::yaml_fast::parse(without_bom) {
            Some(documents) => (split_documents(documents.into_iter().map(Ok))?, None),
            None => {
                let (parsed, plain) = parse_yaml_serde(without_bom)?;
                (parsed, Some(plain))
            }
        },
        Format::Json | Format::Binary => (parse_json(bytes)?, None),
        Format::Dotenv => (flat::parse_dotenv(bytes)?, None),
        Format::Ini => (flat::parse_ini(without_bom)?, None),
        Format::Auto => return Err(SopsError::malformed("no format chosen")),
    };
    let metadata = metadata.ok_or_else(|| {
        SopsError::malformed("sops metadata not found (not a SOPS-encrypted file?)")
    })?;
    Ok(EncryptedFile {
        format,
        branches,
        metadata,
        plain_scalars,
    })
}

pub(super) type Parsed<'a> = (Vec<Branch<'a>>, Option<Raw<'a>>);

/// The documents' data and the first one's metadata.
fn split_documents<'a>(documents: impl Iterator<Item = Result<Raw<'a>>>) -> Result<Parsed<'a>> {
    let mut branches = Vec::new();
    let mut metadata = None;
    for document in documents {
        let mut root = match document? {
            Raw::Map(items) => items,
            Raw::Null => Vec::new(),
            _ => return Err(SopsError::malformed("a YAML document is not a mapping")),
        };
        let found = take_sops_key(&mut root);
        if branches.is_empty() {
            metadata = found;
        }
        branches.push(root);
    }
    if branches.is_empty() {
        return Err(SopsError::malformed("empty YAML file"));
    }
    Ok((branches, metadata))
}

/// The reference reader: serde_yaml, for every file the fast reader
/// declines; with the texts of the scalars written plain or tagged.
pub(super) fn parse_yaml_serde(bytes: &[u8]) -> Result<(Parsed<'static>, PlainScalars)> {
    let survey = crate::yaml_events::survey(bytes, true);
    let too = |line, what| SopsError::malformed(format!("invalid YAML at line {line}: {what}"));
    let (plain, invalid_at) = match survey {
        Ok(plain) => (plain, None),
        Err(Refusal::TooDeep(line)) => return Err(too(line, "nested too deeply")),
        Err(Refusal::TooLarge(line)) => {
            return Err(too(line, "too many aliases or tag directives"))
        }
        // serde_yaml, which reads the same way, says where and why.
        Err(Refusal::Invalid(line)) => (PlainScalars::new(), Some(line)),
    };
    let parsed = split_documents(serde_yaml::Deserializer::from_slice(bytes).map(|document| {
        // serde_yaml's messages quote positions, not content, but may name a
        // scalar; keep only our own words plus the position.
        let value = serde_yaml::Value::deserialize(document).map_err(|e| {
            let place = e
                .location()
                .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
                .unwrap_or_default();
            SopsError::malformed(format!("invalid YAML{place}"))
        })?;
        from_yaml(value)
    }))?;
    match invalid_at {
        Some(line) => Err(too(line, "not read alike by libyaml and serde_yaml")),
        None => Ok((parsed, plain)),
    }
}

pub(super) fn from_yaml(value: serde_yaml::Value) -> Result<Raw<'static>> {
    use serde_yaml::Value;
    Ok(match value {
        Value::Null => Raw::Null,
        Value::Bool(b) => Raw::Bool(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Raw::Int(i),
            // sops reads integers beyond 64 bits as floats.
            None => Raw::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Raw::Str(s.into()),
        Value::Sequence(items) => {
            Raw::List(items.into_iter().map(from_yaml).collect::<Result<_>>()?)
        }
        Value::Mapping(map) => {
            let mut items = Vec::with_capacity(map.len());
            for (key, value) in map {
                let key = match key {
                    Value::String(s) => s,
                    _ => return Err(SopsError::malformed("a YAML mapping has a non-string key")),
                };
                items.push((key.into(), from_yaml(value)?));
            }
            Raw::Map(items)
        }
        // `!!binary` text is base64, which sops decodes; a value that is
        // not UTF-8 is kept as its base64 (a known difference).
        Value::Tagged(tagged) => match (&tagged.value, binary_tag(&tagged.tag)) {
            (Value::String(text), true) => match decode_binary(text) {
                Some(decoded) => Raw::Str(decoded.into()),
                None => from_yaml(tagged.value)?,
            },
            _ => from_yaml(tagged.value)?,
        },
    })
}

fn binary_tag(tag: &serde_yaml::value::Tag) -> bool {
    tag == "!!binary" || tag == "tag:yaml.org,2002:binary"
}

/// A `!!binary` scalar's bytes as text: base64 over lines, as go-yaml reads it.
fn decode_binary(text: &str) -> Option<String> {
    use base64::Engine;
    let joined: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(joined)
        .ok()?;
    String::from_utf8(bytes).ok()
}

fn parse_json(bytes: &[u8]) -> Result<Parsed<'static>> {
    let JsonRaw(value) = serde_json::from_slice(bytes).map_err(|e| {
        SopsError::malformed(format!(
            "invalid JSON at line {}, column {}",
            e.line(),
            e.column()
        ))
    })?;
    let mut root = match value {
        Raw::Map(items) => items,
        _ => return Err(SopsError::malformed("the JSON document is not an object")),
    };
    let metadata = take_sops_key(&mut root);
    Ok((vec![root], metadata))
}

/// A JSON value read straight into a raw tree. Not through
/// `serde_json::Value`: its objects keep one member per name, while sops
/// keeps (and hashes) every member of an object that repeats a name.
struct JsonRaw(Raw<'static>);

impl<'de> Deserialize<'de> for JsonRaw {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor).map(JsonRaw)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Raw<'static>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> std::result::Result<Raw<'static>, E> {
        Ok(Raw::Null)
    }

    fn visit_bool<E>(self, b: bool) -> std::result::Result<Raw<'static>, E> {
        Ok(Raw::Bool(b))
    }

    // sops (Go's decoder) reads every JSON number as a float64.
    fn visit_i64<E>(self, n: i64) -> std::result::Result<Raw<'static>, E> {
        Ok(Raw::Float(n as f64))
    }

    fn visit_u64<E>(self, n: u64) -> std::result::Result<Raw<'static>, E> {
        Ok(Raw::Float(n as f64))
    }

    fn visit_f64<E>(self, n: f64) -> std::result::Result<Raw<'static>, E> {
        Ok(Raw::Float(n))
    }

    fn visit_str<E>(self, text: &str) -> std::result::Result<Raw<'static>, E> {
        Ok(Raw::Str(text.to_string().into()))
    }

    fn visit_string<E>(self, text: String) -> std::result::Result<Raw<'static>, E> {
        Ok(Raw::Str(text.into()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Raw<'static>, A::Error> {
        let mut items = Vec::new();
        while let Some(JsonRaw(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::List(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Raw<'static>, A::Error> {
        let mut items = Vec::new();
        while let Some((key, JsonRaw(value))) = map.next_entry::<String, JsonRaw>()? {
            items.push((key.into(), value));
        }
        Ok(Raw::Map(items))
    }
}

/// Removes every top-level `sops` key and returns the first one's value.
fn take_sops_key<'a>(root: &mut Branch<'a>) -> Option<Raw<'a>> {
    let mut found = None;
    root.retain_mut(|(key, value)| {
        if key != "sops" {
            return true;
        }
        if found.is_none() {
            found = Some(std::mem::replace(value, Raw::Null));
        }
        false
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_a_repeated_member_as_sops_does() {
        let file = parse(br#"{"t": "a", "n": 5, "t": "b", "sops": {}}"#, Format::Json).unwrap();
        assert_eq!(
            file.branches[0],
            vec![
                ("t".into(), Raw::Str("a".into())),
                ("n".into(), Raw::Float(5.0)),
                ("t".into(), Raw::Str("b".into())),
            ]
        );
    }

    #[test]
    fn yaml_keeps_order_and_every_document() {
        let text =
            b"b: 1\na: [x, {c: true}]\nsops: {version: x}\n---\nz: 2.5\nsops: {version: y}\n";
        let file = parse(text, Format::Yaml).unwrap();
        assert_eq!(file.branches.len(), 2);
        assert_eq!(file.branches[0][0].0, "b");
        assert_eq!(file.branches[0][1].0, "a");
        assert_eq!(file.branches[1], vec![("z".into(), Raw::Float(2.5))]);
        assert_eq!(file.metadata.get_str("version"), Some("x"));
    }

    #[test]
    fn a_byte_order_mark_is_skipped_where_sops_skips_it() {
        for (text, format) in [
            (&b"\xef\xbb\xbfa: x\nsops: {version: v}\n"[..], Format::Yaml),
            (
                b"\xef\xbb\xbf[s]\na = x\n[sops]\nversion = v\n",
                Format::Ini,
            ),
        ] {
            let file = parse(text, format).unwrap();
            assert_eq!(file.metadata.get_str("version"), Some("v"), "{format:?}");
        }
        assert!(parse(b"\xef\xbb\xbf{\"sops\": {}}", Format::Json).is_err());
    }

    #[test]
    fn json_numbers_are_floats_and_metadata_is_required() {
        let file = parse(br#"{"n": 5432, "sops": {}}"#, Format::Json).unwrap();
        assert_eq!(file.branches[0][0].1, Raw::Float(5432.0));
        let err = parse(br#"{"n": 1}"#, Format::Json).unwrap_err();
        assert!(err.reason.contains("metadata not found"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for (bytes, format) in [
            (&b"{"[..], Format::Json),
            (b"[1]", Format::Json),
            (b"- a\n", Format::Yaml),
            (b"a: [", Format::Yaml),
            (b"", Format::Yaml),
            (b"\xff\xfe", Format::Yaml),
            (b"1: x\nsops: {}", Format::Yaml),
        ] {
            assert!(parse(bytes, format).is_err());
        }
    }
}
