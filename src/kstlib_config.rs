//! Reading provider settings from a kstlib YAML config (its `secrets:` section).
//!
//! kstlib users already keep `sops.path`, `sops.binary`, `keyring.service` and
//! `secure_delete.*` there; `config = "kstlib.conf.yml"` in the manifest lets
//! kstrun reuse them. The rest of a kstlib config belongs to kstlib, so keys
//! this module does not read are ignored rather than refused.
//!
//! kstlib reads its config with PyYAML, so this reads it as PyYAML does
//! where serde_yaml differs: merge keys (`<<: *base`) are applied (serde_yaml
//! would take `<<` for an unknown key and drop the settings silently), and
//! `zero_last_pass` takes YAML 1.1's `yes`/`no`/`on`/`off` as well.

use crate::manifest::{redact_quoted, ManifestError, ShredMethod, MAX_SHRED_PASSES};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The settings kstrun takes from a kstlib config; every field optional.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct KstlibSettings {
    /// `secrets.sops.path`, made relative to the config's folder.
    pub sops_path: Option<PathBuf>,
    /// `secrets.sops.binary`, a relative path made relative to the config's folder.
    pub sops_binary: Option<String>,
    /// `secrets.keyring.service`.
    pub keyring_service: Option<String>,
    /// `secrets.secure_delete.method`.
    pub secure_delete_method: Option<ShredMethod>,
    /// `secrets.secure_delete.passes`.
    pub secure_delete_passes: Option<u32>,
    /// `secrets.secure_delete.zero_last_pass`.
    pub secure_delete_zero_last_pass: Option<bool>,
}

#[derive(Deserialize, Default)]
struct Document {
    secrets: Option<Secrets>,
}

#[derive(Deserialize, Default)]
struct Secrets {
    sops: Option<Sops>,
    keyring: Option<Keyring>,
    secure_delete: Option<SecureDelete>,
}

#[derive(Deserialize, Default)]
struct Sops {
    path: Option<String>,
    binary: Option<String>,
}

#[derive(Deserialize, Default)]
struct Keyring {
    service: Option<String>,
}

#[derive(Deserialize, Default)]
struct SecureDelete {
    method: Option<String>,
    passes: Option<u32>,
    #[serde(default, deserialize_with = "yaml11_bool")]
    zero_last_pass: Option<bool>,
}

/// A boolean as PyYAML (YAML 1.1) reads one: also `yes`, `no`, `on`, `off`
/// in their three spellings.
fn yaml11_bool<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Spelled {
        Bool(bool),
        Word(String),
    }
    let word = match Option::<Spelled>::deserialize(deserializer)? {
        None => return Ok(None),
        Some(Spelled::Bool(value)) => return Ok(Some(value)),
        Some(Spelled::Word(word)) => word,
    };
    match word.as_str() {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(Some(true)),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" => Ok(Some(false)),
        _ => Err(serde::de::Error::custom(
            "expected a boolean (true, false, yes, no, on, off)",
        )),
    }
}

/// Reads the `secrets:` section of the kstlib config at `path`.
pub fn load(path: &Path) -> Result<KstlibSettings, ManifestError> {
    if let Ok(meta) = std::fs::metadata(path) {
        crate::interrupt::watch_unless_regular(&meta);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ManifestError::in_file(path, format!("cannot read kstlib config: {e}")))?;
    let document: Document = if text.trim().is_empty() {
        Document::default()
    } else if let Some((line, what)) = refused(text.as_bytes()) {
        return Err(ManifestError {
            file: path.to_path_buf(),
            position: Some((line, 1)),
            message: format!("invalid kstlib config: {what}"),
        });
    } else {
        read_document(&text).map_err(|e| ManifestError {
            file: path.to_path_buf(),
            position: e.location().map(|l| (l.line(), l.column())),
            message: format!(
                "invalid kstlib config: {}",
                redact_quoted(&strip_location(&e.to_string()))
            ),
        })?
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    let secrets = document.secrets.unwrap_or_default();
    let sops = secrets.sops.unwrap_or_default();
    let keyring = secrets.keyring.unwrap_or_default();
    let secure_delete = secrets.secure_delete.unwrap_or_default();
    // Checked here, where the file at fault is known, and as strictly as
    // the manifest's own [secure_delete].
    let invalid =
        |what: String| ManifestError::in_file(path, format!("invalid kstlib config: {what}"));
    if let Some(passes) = secure_delete.passes {
        if !(1..=MAX_SHRED_PASSES).contains(&passes) {
            return Err(invalid(format!(
                "secrets.secure_delete.passes must be between 1 and {MAX_SHRED_PASSES}"
            )));
        }
    }
    let method = secure_delete
        .method
        .map(|text| {
            ShredMethod::parse(&text).ok_or_else(|| {
                invalid(format!(
                    "unknown secrets.secure_delete.method '{text}' (expected auto, command or overwrite)"
                ))
            })
        })
        .transpose()?;
    for (value, setting) in [
        (&keyring.service, "keyring.service"),
        (&sops.path, "sops.path"),
        (&sops.binary, "sops.binary"),
    ] {
        if value.as_deref() == Some("") {
            return Err(invalid(format!("secrets.{setting} may not be empty")));
        }
        if value.as_deref().is_some_and(|v| v.contains('\0')) {
            return Err(invalid(format!(
                "secrets.{setting} may not hold a NUL byte"
            )));
        }
    }
    Ok(KstlibSettings {
        sops_path: sops.path.map(|p| folder.join(p)),
        sops_binary: sops
            .binary
            .map(|b| crate::manifest::executable_in(folder, b))
            .transpose()
            .map_err(|m| invalid(format!("secrets.sops.{m}")))?,
        keyring_service: keyring.service,
        secure_delete_method: method,
        secure_delete_passes: secure_delete.passes,
        secure_delete_zero_last_pass: secure_delete.zero_last_pass,
    })
}

/// Where and why libyaml's events refuse `text` before serde_yaml reads it
/// (text libyaml cannot read is left to serde_yaml, for its message).
fn refused(text: &[u8]) -> Option<(usize, &'static str)> {
    use crate::yaml_events::{survey, Refusal};
    match survey(text, false) {
        Err(Refusal::TooDeep(line)) => Some((line, "nested too deeply")),
        Err(Refusal::TooLarge(line)) => Some((line, "too many aliases or tag directives")),
        Ok(_) | Err(Refusal::Invalid(_)) => None,
    }
}

/// The document with its merge keys applied. A document that does not
/// read is read again straight from the text, for an error with a position
/// (a merged tree has none).
fn read_document(text: &str) -> Result<Document, serde_yaml::Error> {
    let merged = serde_yaml::from_str::<serde_yaml::Value>(text).and_then(|mut tree| {
        tree.apply_merge()?;
        Document::deserialize(tree)
    });
    merged.map_err(|merged| match serde_yaml::from_str::<Document>(text) {
        Err(positioned) => positioned,
        Ok(_) => merged,
    })
}

/// serde_yaml appends " at line L column C"; the position is reported separately.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_secrets_section_and_ignores_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kstlib.conf.yml");
        std::fs::write(
            &file,
            "logging: {level: debug}\nsecrets:\n  sops: {path: s.sops.yml, binary: /opt/sops}\n  keyring: {service: svc}\n  secure_delete: {method: overwrite, passes: 5, zero_last_pass: false}\n",
        )
        .unwrap();
        let settings = load(&file).unwrap();
        assert_eq!(settings.sops_path, Some(dir.path().join("s.sops.yml")));
        assert_eq!(settings.sops_binary.as_deref(), Some("/opt/sops"));
        assert_eq!(settings.keyring_service.as_deref(), Some("svc"));
        assert_eq!(settings.secure_delete_passes, Some(5));
        assert_eq!(settings.secure_delete_zero_last_pass, Some(false));
    }

    #[test]
    fn a_deeply_nested_config_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kstlib.conf.yml");
        // libyaml alone took seconds over this (its time grows with the
        // square of the depth) before refusing it.
        std::fs::write(&file, format!("logging: 1\nx: {}", "[".repeat(100_000))).unwrap();
        let err = load(&file).unwrap_err();
        assert_eq!(err.position, Some((2, 1)));
        assert!(err.message.contains("nested too deeply"), "{}", err.message);
    }

    #[test]
    fn merge_keys_and_yaml_1_1_booleans_read_as_pyyaml_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kstlib.conf.yml");
        std::fs::write(
            &file,
            "base: &base {service: merged}\nsecrets:\n  keyring: {<<: *base}\n  secure_delete: {zero_last_pass: yes}\n",
        )
        .unwrap();
        let settings = load(&file).unwrap();
        assert_eq!(settings.keyring_service.as_deref(), Some("merged"));
        assert_eq!(settings.secure_delete_zero_last_pass, Some(true));
        for (word, value) in [("Off", false), ("ON", true), ("no", false), ("true", true)] {
            std::fs::write(
                &file,
                format!("secrets:\n  secure_delete: {{zero_last_pass: {word}}}\n"),
            )
            .unwrap();
            assert_eq!(
                load(&file).unwrap().secure_delete_zero_last_pass,
                Some(value)
            );
        }
        std::fs::write(
            &file,
            "secrets:\n  secure_delete: {zero_last_pass: hunter2}\n",
        )
        .unwrap();
        let error = load(&file).unwrap_err();
        assert_eq!(error.position.map(|p| p.0), Some(2), "{error}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn wrong_types_point_at_the_line_without_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.yml");
        std::fs::write(&file, "secrets:\n  secure_delete:\n    passes: hunter2\n").unwrap();
        let error = load(&file).unwrap_err();
        assert_eq!(error.position.map(|p| p.0), Some(3));
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
