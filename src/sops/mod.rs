//! A standalone SOPS reader (knows nothing of providers or the cascade).
//!
//! It turns a SOPS-encrypted file into a decrypted [`Document`], either in
//! process ([`native`]: age keys, AES-GCM values, MAC verified) or through the
//! real `sops` executable ([`binary`]), chosen per file by a [`Decryptor`].
//! Secrets live only in wiping buffers; errors carry reasons, never values.
//! The secrets library's sops provider is one user of this module.

pub mod binary;
mod cache;
mod child;
mod decryptor;
mod error;
mod flat;
pub mod format;
mod go_regex;
pub(crate) mod go_yaml;
pub mod identities;
mod metadata;
pub mod native;
mod rules;
mod timefmt;
pub mod tree;
mod value;
mod yaml_fast;
mod yaml_scalar;

pub use binary::BinaryOptions;
pub use cache::{DocumentCache, FileStamp};
pub use child::{clear_interrupt, interrupt};
pub use decryptor::{BackendChoice, Decrypted, Decryptor, DecryptorOptions, FileReport};
pub use error::{ErrorKind, Result, SopsError};
pub use identities::{Environment, Identities, IdentitySource, SourceState};
pub use metadata::{AgeStanza, Metadata};
pub use tree::{Document, Leaf, LeafKind, Node};
pub use value::{Plain, ValueCipher};

use std::path::Path;

/// A SOPS file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// From the file name: `.yaml`/`.yml`, `.json`, `.env`, `.ini`, else binary.
    Auto,
    /// YAML, all documents.
    Yaml,
    /// JSON.
    Json,
    /// dotenv (`KEY=value` lines).
    Dotenv,
    /// INI sections.
    Ini,
    /// Any file, stored whole under `data`.
    Binary,
}

impl Format {
    /// The format sops would pick for `path` (by its last extension).
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        // sops uses Go's filepath.Ext, for which `.env` alone is an extension,
        // and compares it case by case: `secrets.YAML` is a binary file to sops.
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
        match ext {
            "yaml" | "yml" => Format::Yaml,
            "json" => Format::Json,
            "env" => Format::Dotenv,
            "ini" => Format::Ini,
            _ => Format::Binary,
        }
    }

    /// This format, or the one for `path` when `Auto`.
    pub fn resolve(self, path: &Path) -> Format {
        match self {
            Format::Auto => Format::from_path(path),
            other => other,
        }
    }

    /// The name sops uses (`--input-type`).
    pub fn sops_name(self) -> &'static str {
        match self {
            Format::Auto | Format::Binary => "binary",
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_file_name() {
        for (name, format) in [
            ("secrets.sops.yml", Format::Yaml),
            // sops compares extensions case by case.
            ("a.YAML", Format::Binary),
            ("b.Json", Format::Binary),
            ("x.json", Format::Json),
            (".env", Format::Dotenv),
            ("prod.env", Format::Dotenv),
            ("c.ini", Format::Ini),
            ("tls.key", Format::Binary),
            ("noext", Format::Binary),
        ] {
            assert_eq!(Format::from_path(Path::new(name)), format, "{name}");
        }
    }
}
