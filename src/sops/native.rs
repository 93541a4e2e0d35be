//! In-process decryption of age-encrypted SOPS files, MAC included.
//!
//! Three steps, each failing closed: unwrap the 32-byte data key from one of
//! the file's `age` stanzas; walk every document in order, decrypting the
//! leaves the file's rule says are encrypted and hashing every leaf sops
//! hashes; then decrypt the stored MAC (bound to `lastmodified`) and compare.
//! A missing, undecryptable or different MAC is an error: there is no switch
//! to skip it.
//!
//! One YAML subtlety: sops types an unencrypted plain scalar by go-yaml's
//! rules (`2024-01-01` is a time, `0X1F` a number) and a quoted one as text.
//! The fast reader types them so; serde_yaml, which reads every other YAML
//! file, neither types them so nor says whether a scalar was quoted. For its
//! trees a leaf that sops might read either way is *ambiguous*: a time is
//! tried both ways (when the first reading's MAC does not match, the walk is
//! repeated with the other), and anything else, or any such leaf the MAC
//! does not cover (`mac_only_encrypted`), makes the file one the native
//! reader cannot read (the `auto` backend then hands it to sops).

use super::error::{ErrorKind, Result, SopsError};
use super::format::{EncryptedFile, Raw};
use super::go_yaml;
use super::metadata::Metadata;
use super::rules::Rule;
use super::timefmt::Timestamp;
use super::tree::{go_json_float, go_plain_float, Document, Leaf, LeafKind, Node};
use super::value::{Plain, ValueCipher};
use super::Format;
use crate::yaml_events::PlainScalars;
use sha2::{Digest, Sha512};
use std::borrow::Cow;
use std::io::Read;
use zeroize::Zeroizing;

/// An age identity usable for unwrapping data keys.
pub type AgeIdentity = Box<dyn age::Identity + Send + Sync>;

/// sha256("sops"): the start of a MAC taken over encrypted values only.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// Why the native backend cannot take a file at all (then `auto` uses sops).
pub fn unsupported_reason(meta: &Metadata) -> Option<String> {
    if meta.age.is_empty() {
        return Some(if meta.other_keys.is_empty() {
            "the file has no master keys".into()
        } else {
            format!(
                "the file has no age key (it uses {})",
                meta.other_keys.join(", ")
            )
        });
    }
    if meta.key_groups > 1 {
        return Some(format!(
            "the file splits its key over {} key groups (Shamir)",
            meta.key_groups
        ));
    }
    match meta.rule {
        Rule::CommentRegex(name) => {
            return Some(format!("the file uses '{name}', which needs YAML comments"))
        }
        Rule::ForeignRegex(name) => {
            return Some(format!(
            "the file's '{name}' is a regular expression the native reader cannot read as Go does"
        ))
        }
        _ => {}
    }
    None
}

/// Unwraps the data key from the first age stanza one of `identities` opens.
pub fn unwrap_data_key(meta: &Metadata, identities: &[AgeIdentity]) -> Result<Zeroizing<[u8; 32]>> {
    let mut failures = Vec::new();
    for (index, stanza) in meta.age.iter().enumerate() {
        let armored = age::armor::ArmoredReader::new(stanza.enc.as_bytes());
        let decryptor = match age::Decryptor::new(armored) {
            Ok(d) => d,
            Err(_) => {
                failures.push(format!("age entry {} is not a valid age file", index + 1));
                continue;
            }
        };
        let mut reader =
            match decryptor.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity)) {
                Ok(r) => r,
                Err(age::DecryptError::NoMatchingKeys) => continue,
                Err(_) => {
                    failures.push(format!("age entry {} does not decrypt", index + 1));
                    continue;
                }
            };
        let mut key = Zeroizing::new(Vec::with_capacity(33));
        if reader.read_to_end(&mut key).is_err() {
            failures.push(format!("age entry {} is corrupt", index + 1));
            continue;
        }
        let mut out = Zeroizing::new([0u8; 32]);
        if key.len() != 32 {
            failures.push(format!(
                "age entry {} does not hold a 32-byte data key",
                index + 1
            ));
            continue;
        }
        out.copy_from_slice(&key);
        return Ok(out);
    }
    if failures.is_empty() {
        Err(SopsError::new(
            ErrorKind::NoIdentity,
            format!(
                "no age identity matches the file's recipients ({})",
                meta.recipients().join(", ")
            ),
        ))
    } else {
        Err(SopsError::decryption(format!(
            "cannot unwrap the data key: {}",
            failures.join("; ")
        )))
    }
}

/// Decrypts every document of `file` with `data_key` and verifies the MAC.
pub fn decrypt(file: &EncryptedFile, meta: &Metadata, data_key: &[u8; 32]) -> Result<Document> {
    let cipher = ValueCipher::new(data_key);
    let stored = stored_mac(meta, &cipher)?;
    // In a tree from serde_yaml, unencrypted strings that look like go-yaml
    // times are read as times first (the MAC tells which reading sops had).
    let untyped = file.plain_scalars.is_some();
    let first = Walk::run(file, meta, &cipher, untyped)?;
    if first.matches(&stored) {
        return Ok(first.into_document(file));
    }
    if first.ambiguous_time {
        let second = Walk::run(file, meta, &cipher, false)?;
        if second.matches(&stored) {
            return Ok(second.into_document(file));
        }
    }
    if let Some(place) = first.ambiguous_other {
        return Err(untyped_leaf(&place));
    }
    Err(SopsError::decryption(
        "MAC mismatch: the file was changed after it was encrypted",
    ))
}

fn stored_mac(meta: &Metadata, cipher: &ValueCipher) -> Result<Zeroizing<Vec<u8>>> {
    if meta.mac.is_empty() {
        return Err(SopsError::decryption("the file has no MAC"));
    }
    let (mac, kind) = cipher
        .decrypt_raw(&meta.mac, &meta.lastmodified)
        .map_err(|e| SopsError::decryption(format!("the MAC does not decrypt ({})", e.reason)))?;
    if kind != "str" {
        return Err(SopsError::decryption("the MAC is not stored as text"));
    }
    Ok(mac)
}

/// The error for an unencrypted leaf the native reader cannot type as sops does.
fn untyped_leaf(place: &str) -> SopsError {
    SopsError::unsupported(format!(
        "the unencrypted value at '{place}' may be a number or a time to sops, depending on quotes this YAML reader cannot see; the native backend cannot read this file (use backend \"auto\" or \"binary\")"
    ))
}

/// One pass over the documents: the decrypted roots and the MAC computed.
struct Walk<'a> {
    meta: &'a Metadata,
    /// For a tree from serde_yaml, the texts of the scalars written plain
    /// or tagged.
    plain_scalars: Option<&'a PlainScalars>,
    cipher: &'a ValueCipher,
    /// The tree comes from serde_yaml: unencrypted strings may be typed
    /// otherwise by sops. This pass reads those that look like times as times.
    untyped: bool,
    /// Whether some leaf could be read as a time or as text.
    ambiguous_time: bool,
    /// Where a leaf sops may read as a number (or, unhashed, as anything
    /// but text) was first met.
    ambiguous_other: Option<String>,
    hash: Sha512,
    roots: Vec<Node>,
    /// The additional data of the current place: map keys, each followed by `:`.
    aad: String,
}

impl<'a> Walk<'a> {
    fn run(
        file: &'a EncryptedFile<'a>,
        meta: &'a Metadata,
        cipher: &'a ValueCipher,
        untyped: bool,
    ) -> Result<Self> {
        let mut walk = Walk {
            meta,
            plain_scalars: file.plain_scalars.as_ref(),
            cipher,
            untyped,
            ambiguous_time: false,
            ambiguous_other: None,
            hash: Sha512::new(),
            roots: Vec::with_capacity(file.branches.len()),
            aad: String::new(),
        };
        if meta.mac_only_encrypted {
            walk.hash.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        let mut path = Vec::new();
        for branch in &file.branches {
            let root = walk.map(branch, &mut path)?;
            walk.roots.push(root);
        }
        Ok(walk)
    }

    fn matches(&self, stored: &[u8]) -> bool {
        let computed: String = self
            .hash
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        // Compare without an early exit, as MACs should be.
        computed.len() == stored.len()
            && computed
                .bytes()
                .zip(stored)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    fn into_document(self, file: &EncryptedFile) -> Document {
        Document::new(self.roots, file.format == Format::Binary)
    }

    fn map<'r>(&mut self, items: &'r [(Cow<str>, Raw)], path: &mut Vec<&'r str>) -> Result<Node> {
        let mut out = Vec::with_capacity(items.len());
        for (key, value) in items {
            path.push(key);
            let mark = self.aad.len();
            self.aad.push_str(key);
            self.aad.push(':');
            let node = self.node(value, path);
            self.aad.truncate(mark);
            path.pop();
            out.push((key.to_string(), node?));
        }
        Ok(Node::Map(out))
    }

    fn node<'r>(&mut self, value: &'r Raw, path: &mut Vec<&'r str>) -> Result<Node> {
        match self.item(value, path)? {
            Some(node) => Ok(node),
            None => Err(SopsError::decryption(format!(
                "the value at '{}' is a comment",
                self.aad
            ))),
        }
    }

    /// A node, or `None` for an encrypted comment. sops writes a comment
    /// inside a list as an item of its own (`- ENC[...,type:comment]`); it is
    /// not data, not hashed, and not counted by the list's indices.
    fn item<'r>(&mut self, value: &'r Raw, path: &mut Vec<&'r str>) -> Result<Option<Node>> {
        Ok(Some(match value {
            Raw::Map(items) => self.map(items, path)?,
            // List indices are not part of the additional data.
            Raw::List(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                for item in items {
                    nodes.extend(self.item(item, path)?);
                }
                Node::List(nodes)
            }
            Raw::Null => Node::Null,
            scalar if self.meta.rule.encrypts(path) => return self.encrypted(scalar),
            scalar => self.clear(scalar)?,
        }))
    }

    fn encrypted(&mut self, value: &Raw) -> Result<Option<Node>> {
        let place = || self.aad.clone();
        let Raw::Str(text) = value else {
            return Err(SopsError::decryption(format!(
                "the value at '{}' should be encrypted but is not",
                place()
            )));
        };
        // sops never encrypts an empty string; it hashes as nothing.
        if text.is_empty() {
            return Ok(Some(Node::Leaf(Leaf::new(LeafKind::Str, Vec::new()))));
        }
        match self.cipher.decrypt(text, &self.aad) {
            Ok(Plain::Value { mac, leaf }) => {
                self.hash.update(mac.as_deref().unwrap_or(&leaf.text));
                Ok(Some(Node::Leaf(leaf)))
            }
            Ok(Plain::Comment) => Ok(None),
            Err(e) => Err(SopsError::decryption(format!(
                "the value at '{}' does not decrypt: {}",
                place(),
                e.reason
            ))),
        }
    }

    fn clear(&mut self, value: &Raw) -> Result<Node> {
        let as_time = |t: Timestamp| {
            let text = t.to_rfc3339_nano();
            (text.clone(), LeafKind::Time, text)
        };
        let (mac, kind, text) = match value {
            Raw::Str(s) if self.untyped => match go_yaml::resolve(s) {
                go_yaml::Plain::Str => (s.to_string(), LeafKind::Str, s.to_string()),
                // Read either way, the same text (what sops writes for a time).
                go_yaml::Plain::Time(t) if t.to_rfc3339_nano() == **s => as_time(t),
                // No scalar with this text was written plain or tagged: it
                // was quoted (as in every file sops writes).
                _ if !self.plain_scalars.is_some_and(|plain| plain.contains(&**s)) => {
                    (s.to_string(), LeafKind::Str, s.to_string())
                }
                _ if self.meta.mac_only_encrypted => return Err(untyped_leaf(&self.aad)),
                go_yaml::Plain::Time(t) => {
                    self.ambiguous_time = true;
                    as_time(t)
                }
                _ => {
                    self.ambiguous_other.get_or_insert_with(|| self.aad.clone());
                    (s.to_string(), LeafKind::Str, s.to_string())
                }
            },
            Raw::Str(s) => (s.to_string(), LeafKind::Str, s.to_string()),
            Raw::Time(s) => match Timestamp::parse_yaml(s) {
                Some(t) => as_time(t),
                None => (s.to_string(), LeafKind::Str, s.to_string()),
            },
            Raw::Int(i) => (i.to_string(), LeafKind::Int, i.to_string()),
            Raw::Float(f) => (go_plain_float(*f), LeafKind::Float, go_json_float(*f)),
            Raw::Bool(b) => {
                let (mac, text) = if *b {
                    ("True", "true")
                } else {
                    ("False", "false")
                };
                (mac.to_string(), LeafKind::Bool, text.to_string())
            }
            Raw::Map(_) | Raw::List(_) | Raw::Null => (String::new(), LeafKind::Str, String::new()),
        };
        if !self.meta.mac_only_encrypted {
            self.hash.update(mac.as_bytes());
        }
        Ok(Node::Leaf(Leaf::new(kind, text.into_bytes())))
    }
}
