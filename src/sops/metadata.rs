//! The `sops` metadata a native decryption needs, checked and typed.
//!
//! Only what decides the result is read: the age stanzas, which other key
//! kinds exist (to say why the native backend steps aside), `lastmodified`,
//! the MAC, the one encryption rule, and `mac_only_encrypted`. sops refuses a
//! file with more than one rule, and so do we.

use super::error::{Result, SopsError};
use super::format::Raw;
use super::rules::Rule;
use super::timefmt::Timestamp;

/// One age recipient of the data key.
#[derive(Debug, Clone)]
pub struct AgeStanza {
    /// The recipient as written (`age1...` or `ssh-ed25519 ...`); public.
    pub recipient: String,
    /// The armored age file holding the data key.
    pub enc: String,
}

/// The metadata of a SOPS file.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// Age stanzas, from the top level or from a single key group.
    pub age: Vec<AgeStanza>,
    /// Other master-key kinds present (`kms`, `pgp`, ...), by name.
    pub other_keys: Vec<&'static str>,
    /// Number of key groups (more than one means Shamir's secret sharing).
    pub key_groups: usize,
    /// `lastmodified` as sops re-prints it (RFC 3339, no fraction): the MAC's
    /// additional data.
    pub lastmodified: String,
    /// The encrypted MAC (may be empty: then decryption fails).
    pub mac: String,
    /// Which leaves are encrypted.
    pub rule: Rule,
    /// The MAC covers only encrypted leaves.
    pub mac_only_encrypted: bool,
    /// The sops version that wrote the file, for messages.
    pub version: String,
}

const OTHER_KINDS: [&str; 5] = ["kms", "gcp_kms", "azure_kv", "hc_vault", "pgp"];

impl Metadata {
    /// Reads the metadata from its raw tree.
    pub fn from_raw(raw: &Raw) -> Result<Metadata> {
        if !matches!(raw, Raw::Map(_)) {
            return Err(SopsError::malformed("the sops metadata is not a mapping"));
        }
        let text = |key: &str| -> Result<String> {
            match raw.get(key) {
                None | Some(Raw::Null) => Ok(String::new()),
                // A time read into a text field keeps its text, as in sops.
                Some(Raw::Str(s) | Raw::Time(s)) => Ok(s.to_string()),
                Some(_) => Err(SopsError::malformed(format!(
                    "sops metadata '{key}' is not text"
                ))),
            }
        };
        let lastmodified = text("lastmodified")?;
        let lastmodified = Timestamp::parse(&lastmodified)
            .ok_or_else(|| {
                SopsError::malformed("sops metadata 'lastmodified' is not an RFC 3339 time")
            })?
            .to_rfc3339();
        let mac_only_encrypted = match raw.get("mac_only_encrypted") {
            None | Some(Raw::Null) => false,
            Some(Raw::Bool(b)) => *b,
            Some(Raw::Str(s)) => s == "true",
            Some(_) => {
                return Err(SopsError::malformed(
                    "sops metadata 'mac_only_encrypted' is not a boolean",
                ))
            }
        };

        let mut age = Vec::new();
        let mut other_keys = Vec::new();
        let key_groups = match raw.get("key_groups") {
            Some(Raw::List(groups)) if !groups.is_empty() => {
                for group in groups {
                    read_keys(group, &mut age, &mut other_keys)?;
                }
                groups.len()
            }
            _ => {
                read_keys(raw, &mut age, &mut other_keys)?;
                1
            }
        };

        let mut rules = Vec::new();
        for name in Rule::NAMES {
            let value = text(name)?;
            if !value.is_empty() {
                rules.push(Rule::from_metadata(name, &value));
            }
        }
        if rules.len() > 1 {
            return Err(SopsError::malformed(
                "the sops metadata sets more than one encryption rule",
            ));
        }
        let rule = rules.pop().unwrap_or_else(Rule::default_rule);

        Ok(Metadata {
            age,
            other_keys,
            key_groups,
            lastmodified,
            mac: text("mac")?,
            rule,
            mac_only_encrypted,
            version: text("version")?,
        })
    }

    /// The recipients, for messages and `check` (public keys only).
    pub fn recipients(&self) -> Vec<String> {
        self.age.iter().map(|s| s.recipient.clone()).collect()
    }
}

fn read_keys(group: &Raw, age: &mut Vec<AgeStanza>, other: &mut Vec<&'static str>) -> Result<()> {
    match group.get("age") {
        None | Some(Raw::Null) => {}
        Some(Raw::List(items)) => {
            for item in items {
                let (Some(recipient), Some(enc)) = (item.get_str("recipient"), item.get_str("enc"))
                else {
                    return Err(SopsError::malformed(
                        "an age entry lacks 'recipient' or 'enc'",
                    ));
                };
                age.push(AgeStanza {
                    recipient: recipient.to_string(),
                    enc: enc.to_string(),
                });
            }
        }
        Some(_) => return Err(SopsError::malformed("sops metadata 'age' is not a list")),
    }
    for kind in OTHER_KINDS {
        if matches!(group.get(kind), Some(Raw::List(items)) if !items.is_empty())
            && !other.contains(&kind)
        {
            other.push(kind);
        }
    }
    Ok(())
}
