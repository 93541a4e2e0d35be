//! The manifest as written: every field optional, every unknown key an error.
//!
//! These types mirror `kstrun.toml` one to one. They keep `Spanned` positions
//! on everything that is checked after parsing, so a bad variable name or
//! glob still points at its line. A scope (`[scopes.NAME]`) has the same
//! shape as the root and is laid over it field by field by [`RawManifest::overlay`].

use crate::hash::FnvBuild;
use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use toml::Spanned;

/// `[secrets]`, in file order.
pub type SecretsTable = IndexMap<Spanned<String>, Spanned<RawSecret>, FnvBuild>;

/// Root (or scope) table of `kstrun.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawManifest {
    pub pass: Option<Vec<Spanned<String>>>,
    pub command: Option<Spanned<String>>,
    pub config: Option<Spanned<String>>,
    pub providers: Option<RawProviders>,
    pub secure_delete: Option<RawSecureDelete>,
    pub env: Option<IndexMap<Spanned<String>, Spanned<ScalarText>>>,
    /// Hashed with FNV-1a: a thousand secrets hash in a fraction of SipHash's time.
    pub secrets: Option<SecretsTable>,
    pub scopes: Option<IndexMap<String, Spanned<RawManifest>>>,
}

/// `[providers]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProviders {
    pub order: Option<Vec<Spanned<String>>>,
    pub env: Option<RawEnvProvider>,
    pub keyring: Option<RawKeyringProvider>,
    pub sops: Option<RawSopsProvider>,
}

/// `[providers.env]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvProvider {
    pub prefix: Option<String>,
}

/// `[providers.keyring]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeyringProvider {
    pub service: Option<Spanned<String>>,
    pub backend: Option<Spanned<String>>,
    pub timeout_ms: Option<Spanned<i64>>,
}

/// `[providers.sops]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSopsProvider {
    pub path: Option<Spanned<String>>,
    pub binary: Option<Spanned<String>>,
    pub backend: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub cache_size: Option<Spanned<i64>>,
    pub identity: Option<Spanned<String>>,
    pub timeout_ms: Option<Spanned<i64>>,
}

/// `[secure_delete]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecureDelete {
    pub method: Option<Spanned<String>>,
    pub passes: Option<Spanned<i64>>,
    pub zero_last_pass: Option<bool>,
}

/// A `[secrets]` entry: `VAR = "path"` or `VAR = { path = ..., ... }`.
#[derive(Debug, Clone)]
pub enum RawSecret {
    Short(String),
    /// Boxed: most entries are short, and the table is five times their size.
    Table(Box<RawSecretTable>),
}

/// The table form of a `[secrets]` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecretTable {
    pub path: Option<String>,
    pub key: Option<RawKey>,
    pub sops: Option<String>,
    pub required: Option<bool>,
    pub default: Option<ScalarText>,
    #[serde(rename = "as")]
    pub delivery: Option<String>,
    pub providers: Option<Vec<String>>,
}

/// `key = "a.b"` or `key = ["a.b", "c"]` (segments that contain dots).
#[derive(Debug, Clone)]
pub enum RawKey {
    Dotted(String),
    Segments(Vec<String>),
}

/// A TOML scalar (string, integer, float, boolean) kept as text. It may be
/// a secret's `default`, so `Debug` does not show it.
#[derive(Clone)]
pub struct ScalarText(pub String);

impl std::fmt::Debug for ScalarText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScalarText(…)")
    }
}

macro_rules! overlay_fields {
    ($base:ident, $top:ident; $($field:ident),*) => {
        $( if $top.$field.is_some() { $base.$field = $top.$field; } )*
    };
}

impl RawManifest {
    /// A copy of `self` holding every setting and `[env]`, but of
    /// `[secrets]` only the entries `scope` could change the check of —
    /// those it refines, and those named like one of its `[env]` variables
    /// (a clash): to lay an unchosen scope over and check, and, for the
    /// chosen one, to check the root's entries it replaces as written. The
    /// root's other entries check the same with or without the scope, and
    /// are checked in every run; copying and checking a thousand of them
    /// once per scope took a fifth of a thousand-secret run with three scopes.
    pub fn narrowed_for(&self, scope: &RawManifest) -> RawManifest {
        let touched = |name: &Spanned<String>| {
            scope.secrets.as_ref().is_some_and(|s| s.contains_key(name))
                || scope.env.as_ref().is_some_and(|e| e.contains_key(name))
        };
        RawManifest {
            pass: self.pass.clone(),
            command: self.command.clone(),
            config: self.config.clone(),
            providers: self.providers.clone(),
            secure_delete: self.secure_delete.clone(),
            env: self.env.clone(),
            secrets: self.secrets.as_ref().map(|secrets| {
                secrets
                    .iter()
                    .filter(|(name, _)| touched(name))
                    .map(|(name, entry)| (name.clone(), entry.clone()))
                    .collect()
            }),
            scopes: None,
        }
    }

    /// Lays `scope` over `self`: tables merge key by key, anything else is replaced.
    pub fn overlay(mut self, scope: RawManifest) -> RawManifest {
        overlay_fields!(self, scope; pass, command, config);
        self.providers = merge_option(self.providers, scope.providers, RawProviders::overlay);
        self.secure_delete = merge_option(self.secure_delete, scope.secure_delete, |mut b, t| {
            overlay_fields!(b, t; method, passes, zero_last_pass);
            b
        });
        if let Some(top) = scope.env {
            self.env.get_or_insert_with(IndexMap::new).extend(top);
        }
        if let Some(top) = scope.secrets {
            let secrets = self.secrets.get_or_insert_with(SecretsTable::default);
            for (name, entry) in top {
                // A refined entry keeps its place among the root's entries.
                match secrets.get_mut(&name) {
                    Some(base) => merge_secret(base, entry),
                    None => {
                        secrets.insert(name, entry);
                    }
                }
            }
        }
        self
    }
}

impl RawProviders {
    fn overlay(mut self, top: RawProviders) -> RawProviders {
        overlay_fields!(self, top; order);
        self.env = merge_option(self.env, top.env, |mut b, t| {
            overlay_fields!(b, t; prefix);
            b
        });
        self.keyring = merge_option(self.keyring, top.keyring, |mut b, t| {
            overlay_fields!(b, t; service, backend, timeout_ms);
            b
        });
        self.sops = merge_option(self.sops, top.sops, |mut b, t| {
            overlay_fields!(b, t; path, binary, backend, format, cache_size, identity, timeout_ms);
            b
        });
        self
    }
}

fn merge_option<T>(base: Option<T>, top: Option<T>, merge: impl FnOnce(T, T) -> T) -> Option<T> {
    match (base, top) {
        (Some(base), Some(top)) => Some(merge(base, top)),
        (base, top) => top.or(base),
    }
}

/// A scoped entry in table form refines the root entry field by field (a
/// short root entry `"path"` counts as `{ path = "path" }`), so a scope can
/// make a secret optional. A scoped entry in short form replaces the root
/// entry whole: `DB = "prod.db"` must not inherit a development default,
/// key or file. Errors in the result point at the scoped entry.
fn merge_secret(base: &mut Spanned<RawSecret>, top: Spanned<RawSecret>) {
    let span = top.span();
    let merged = match top.into_inner() {
        RawSecret::Table(top) => {
            let top = *top;
            let root = std::mem::replace(base.get_mut(), RawSecret::Short(String::new()));
            let mut merged = root.into_table();
            overlay_fields!(merged, top; path, key, sops, required, default, delivery, providers);
            RawSecret::Table(Box::new(merged))
        }
        short => short,
    };
    *base = Spanned::new(span, merged);
}

impl RawSecret {
    /// The table form: the short form is `{ path = ... }`.
    pub fn into_table(self) -> RawSecretTable {
        match self {
            RawSecret::Short(path) => RawSecretTable {
                path: Some(path),
                ..Default::default()
            },
            RawSecret::Table(table) => *table,
        }
    }
}

impl<'de> Deserialize<'de> for RawSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = RawSecret;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a dotted secret path or a table { path = ..., ... }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSecret, E> {
                Ok(RawSecret::Short(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSecret, A::Error> {
                RawSecretTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|table| RawSecret::Table(Box::new(table)))
            }
        }
        deserializer.deserialize_any(SecretVisitor)
    }
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = RawKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a dotted key or an array of key segments")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawKey, E> {
                Ok(RawKey::Dotted(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKey, A::Error> {
                let mut segments = Vec::new();
                while let Some(segment) = seq.next_element::<String>()? {
                    segments.push(segment);
                }
                Ok(RawKey::Segments(segments))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

/// The key under which the toml crate passes a date or time to `deserialize_any`.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ScalarText, E> {
                Ok(ScalarText(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            // As TOML writes a float (`3.0`, `1e21`), not as a whole number
            // (`3`) or in full (`1000000000000000000000`).
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarText, E> {
                Ok(ScalarText(format!("{v:?}")))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            // The toml crate hands a date or time over as a one-entry map
            // under a private key; its text is the value. A table the
            // manifest itself spells with that key is still a table: only
            // one entry holding a date or time is taken.
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<ScalarText, A::Error> {
                let not_scalar = || de::Error::invalid_type(de::Unexpected::Map, &self);
                if map.next_key::<String>()?.as_deref() != Some(TOML_DATETIME_KEY) {
                    return Err(not_scalar());
                }
                let text: String = map.next_value()?;
                if text.parse::<toml::value::Datetime>().is_err()
                    || map.next_key::<de::IgnoredAny>()?.is_some()
                {
                    return Err(not_scalar());
                }
                Ok(ScalarText(text))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}
