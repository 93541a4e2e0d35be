//! `kstrun.toml`: loading, scope overlay, kstlib config, validation.
//!
//! Loading runs in four steps: parse into [`raw`] types (syntax and unknown
//! keys fail here, with positions), lay the chosen `[scopes.NAME]` over the
//! root, fill settings the manifest leaves unset from the kstlib config, then
//! check every value and turn it into the typed [`Manifest`]. Relative paths
//! are resolved against the manifest's folder, so the result does not depend
//! on the working directory.

mod error;
mod fast;
mod pass;
mod raw;

pub use error::{line_column, redact_quoted, ManifestError};
pub use pass::{is_variable_name, PassPattern};

use crate::kstlib_config::{self, KstlibSettings};
use crate::secrets::providers::{
    EnvSettings, KeyringBackend, KeyringSettings, SopsBackend, SopsSettings,
};
use crate::secrets::{SecretSource, SecretValue};
use crate::sops::Format;
use indexmap::IndexMap;
use raw::{RawKey, RawManifest, RawSecret};
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// How a secret reaches the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The value in the variable.
    Env,
    /// A sealed memfd; the variable holds `/dev/fd/N`.
    File,
    /// The value (a subtree allowed) as JSON text in the variable.
    Json,
}

/// One `[secrets]` entry, checked.
#[derive(Debug, Clone)]
pub struct SecretEntry {
    /// Child variable name.
    pub var: String,
    /// Dotted secret path.
    pub path: String,
    /// Key inside a SOPS document, when it differs from the path.
    pub key: Option<Vec<String>>,
    /// SOPS file for this entry (absolute).
    pub sops: Option<PathBuf>,
    /// Whether a miss is an error.
    pub required: bool,
    /// Last-tier value (wiped on drop, never shown by `Debug`).
    pub default: Option<SecretValue>,
    /// How the value reaches the child.
    pub delivery: Delivery,
    /// Middle tiers allowed for this entry.
    pub providers: Option<Vec<SecretSource>>,
}

/// The most overwrite passes `kstrun shred` takes, wherever they are set
/// (`[secure_delete]`, a kstlib config, `--passes`); the least is 1.
pub const MAX_SHRED_PASSES: u32 = 100;

/// `[secure_delete]` settings for `kstrun shred`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecureDelete {
    /// `auto`, `command` or `overwrite`.
    pub method: ShredMethod,
    /// Overwrite passes.
    pub passes: u32,
    /// Whether the last pass writes zeros.
    pub zero_last_pass: bool,
}

/// How `kstrun shred` overwrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShredMethod {
    /// `command` when `shred` is on PATH, else `overwrite`.
    Auto,
    /// GNU `shred`.
    Command,
    /// kstrun's own overwrite.
    Overwrite,
}

impl ShredMethod {
    /// Parses `auto`, `command`, `overwrite`.
    pub fn parse(text: &str) -> Option<ShredMethod> {
        match text {
            "auto" => Some(ShredMethod::Auto),
            "command" => Some(ShredMethod::Command),
            "overwrite" => Some(ShredMethod::Overwrite),
            _ => None,
        }
    }
}

/// The limit, without the ending NUL, when a string of `bytes` bytes (its
/// NUL included) is longer than one `execve` string may be: the exec would
/// fail with "Argument list too long", naming nothing, after `check` had
/// found nothing wrong.
fn too_long(bytes: usize) -> Option<usize> {
    crate::child::longest_variable()
        .filter(|&limit| bytes > limit)
        .map(|limit| limit - 1)
}

/// A checked manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file it came from; `None` when running from `-s` options alone.
    pub file: Option<PathBuf>,
    /// Parent variables the child may see.
    pub pass: Vec<PassPattern>,
    /// Default command, already split.
    pub command: Option<Vec<String>>,
    /// Middle tiers in order.
    pub order: Vec<SecretSource>,
    /// Env tier prefix.
    pub env_prefix: String,
    /// Keyring tier settings.
    pub keyring: KeyringSettings,
    /// Sops tier settings.
    pub sops: SopsSettings,
    /// `kstrun shred` settings.
    pub secure_delete: SecureDelete,
    /// Plain values for the child.
    pub env: Vec<(String, String)>,
    /// Secrets for the child.
    pub secrets: Vec<SecretEntry>,
}

impl Manifest {
    /// The manifest used when there is no file: nothing passed, no secrets,
    /// settings at their defaults relative to `folder`.
    pub fn empty(folder: &Path) -> Manifest {
        let mut sops = SopsSettings::default();
        sops.path = folder.join(&sops.path);
        Manifest {
            file: None,
            pass: Vec::new(),
            command: None,
            order: SecretSource::REORDERABLE.to_vec(),
            env_prefix: EnvSettings::default().prefix,
            keyring: KeyringSettings::default(),
            sops,
            secure_delete: SecureDelete {
                method: ShredMethod::Auto,
                passes: 3,
                zero_last_pass: true,
            },
            env: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// Loads and checks the manifest at `file`, with `scope` laid over it.
    pub fn load(file: &Path, scope: Option<&str>) -> Result<Manifest, ManifestError> {
        let text = read_text(file)?;
        Manifest::parse(&text, file, scope)
    }

    /// Checks manifest `text` as if read from `file` (which is not opened;
    /// relative paths resolve against its folder), with `scope` laid over it.
    /// [`Manifest::load`] reads the file and calls this; fuzzing calls it directly.
    pub fn parse(text: &str, file: &Path, scope: Option<&str>) -> Result<Manifest, ManifestError> {
        // The fast reader's positions outside [secrets] may be off, so a
        // manifest it reads that then fails a check is read again by toml
        // alone, for the error's exact position.
        if let Some(raw) = fast::parse(text) {
            if let Ok(manifest) = Self::check(raw, text, file, scope) {
                return Ok(manifest);
            }
        }
        let raw = toml::from_str::<RawManifest>(text).map_err(|e| {
            ManifestError::at(file, text, e.span(), redact_quoted(e.message().trim()))
        })?;
        Self::check(raw, text, file, scope)
    }

    /// Lays the scope over, reads the kstlib config and checks every value.
    fn check(
        raw: RawManifest,
        text: &str,
        file: &Path,
        scope: Option<&str>,
    ) -> Result<Manifest, ManifestError> {
        let checker = Checker { file, text };
        let folder = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let (raw, kstlib) = checker.apply_scope(raw, scope, &folder)?;
        let mut manifest = checker.check(raw, &folder, kstlib)?;
        manifest.file = Some(file.to_path_buf());
        Ok(manifest)
    }
}

/// The kstlib settings a manifest's `config` entry names, read from the file.
fn kstlib_settings(
    config: Option<&Spanned<String>>,
    folder: &Path,
) -> Result<KstlibSettings, ManifestError> {
    match config {
        // An empty one is refused by the value checks, scope or not.
        Some(config) if config.get_ref().is_empty() => Ok(KstlibSettings::default()),
        Some(config) => kstlib_config::load(&folder.join(config.get_ref())),
        None => Ok(KstlibSettings::default()),
    }
}

fn read_text(file: &Path) -> Result<String, ManifestError> {
    // One stat answers both: a folder is refused, and anything else that is
    // not a regular file (a FIFO) may block, so interrupts are watched first.
    if let Ok(meta) = std::fs::metadata(file) {
        if meta.is_dir() {
            return Err(ManifestError::in_file(
                file,
                "cannot read manifest: it is a directory",
            ));
        }
        crate::interrupt::watch_unless_regular(&meta);
    }
    std::fs::read(file)
        .map_err(|e| ManifestError::in_file(file, format!("cannot read manifest: {e}")))
        .and_then(|bytes| {
            String::from_utf8(bytes).map_err(|e| {
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                ManifestError::at(
                    file,
                    &text,
                    Some(e.utf8_error().valid_up_to()..0),
                    "manifest is not valid UTF-8",
                )
            })
        })
}

/// Turns positions into errors while checking one manifest file.
struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Checker<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ManifestError {
        ManifestError::at(self.file, self.text, Some(span), message)
    }

    /// Lays `scope` over the manifest. Every other scope is checked too, laid
    /// over the same manifest (narrowed to the entries it touches, see
    /// `RawManifest::narrowed_for`): a mistake in `[scopes.prod]` must fail
    /// `kstrun check` where it runs, not the first run with `--scope prod`.
    /// (An unchosen scope's kstlib `config` is not read: that file may exist
    /// only where the scope is used.) Returns the manifest with the scope
    /// laid over and the kstlib settings it runs with.
    fn apply_scope(
        &self,
        mut raw: RawManifest,
        scope: Option<&str>,
        folder: &Path,
    ) -> Result<(RawManifest, KstlibSettings), ManifestError> {
        let mut scopes = raw.scopes.take().unwrap_or_default();
        // A scope that names no kstlib `config` of its own keeps the root's,
        // whose settings (a keyring service, say) meet the scope's. The
        // root's file is read once, when first needed, so that the checks
        // and the run see the same settings even if it changes meanwhile.
        // One that cannot be read is the root's own error, reported as such
        // at the end: empty settings for the checks until then.
        let root_config = raw.config.clone();
        let mut root_kstlib: Option<Result<KstlibSettings, ManifestError>> = None;
        let mut kstlib_for = |scope: Option<&RawManifest>| -> KstlibSettings {
            if scope.is_some_and(|table| table.config.is_some()) {
                return KstlibSettings::default();
            }
            root_kstlib
                .get_or_insert_with(|| kstlib_settings(root_config.as_ref(), folder))
                .as_ref()
                .map_or_else(|_| KstlibSettings::default(), Clone::clone)
        };
        for (name, table) in &scopes {
            if table.get_ref().scopes.is_some() {
                return Err(self.error(
                    table.span(),
                    format!("scope '{name}' may not contain scopes"),
                ));
            }
            if Some(name.as_str()) != scope {
                let overlaid = raw
                    .narrowed_for(table.get_ref())
                    .overlay(table.get_ref().clone());
                let kstlib = kstlib_for(Some(table.get_ref()));
                if let Err(mut e) = self.check(overlaid, folder, kstlib) {
                    // Checked although not chosen: name the scope, unless the
                    // mistake is the root's own (then it is reported as such).
                    self.check(raw.clone(), folder, kstlib_for(None))?;
                    e.message = format!("with scope '{name}': {}", e.message);
                    return Err(e);
                }
            }
        }
        let Some(name) = scope else {
            return Ok((
                raw,
                root_kstlib.unwrap_or_else(|| kstlib_settings(root_config.as_ref(), folder))?,
            ));
        };
        // The root as written is checked too: the chosen scope may replace
        // an entry the root gets wrong, and the narrowed checks above looked
        // only at the entries they touch. Of the root's entries only those
        // the chosen scope touches need it; the others are checked as they
        // are, laid over, after this.
        let chosen = scopes.shift_remove(name);
        let root = match &chosen {
            Some(table) => raw.narrowed_for(table.get_ref()),
            None => raw.clone(),
        };
        // The chosen scope's own config, if it names one, stands in for the
        // root's: the root's is then neither read nor checked against.
        let kstlib = kstlib_for(chosen.as_ref().map(Spanned::get_ref));
        self.check(root, folder, kstlib)?;
        match chosen {
            Some(table) => {
                let own_config = table.get_ref().config.is_some();
                let raw = raw.overlay(table.into_inner());
                let kstlib = if own_config {
                    kstlib_settings(raw.config.as_ref(), folder)?
                } else {
                    root_kstlib.unwrap_or_else(|| kstlib_settings(root_config.as_ref(), folder))?
                };
                Ok((raw, kstlib))
            }
            None => {
                let known: Vec<&str> = scopes.keys().map(String::as_str).collect();
                let known = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                Err(ManifestError::in_file(
                    self.file,
                    format!("unknown scope '{name}' (scopes defined: {known})"),
                ))
            }
        }
    }

    fn check(
        &self,
        raw: RawManifest,
        folder: &Path,
        kstlib: KstlibSettings,
    ) -> Result<Manifest, ManifestError> {
        let mut manifest = Manifest::empty(folder);
        self.refuse_empty(raw.config.as_ref(), "config")?;
        if let Some(pass) = raw.pass {
            manifest.pass = pass
                .iter()
                .map(|p| PassPattern::parse(p.get_ref()).map_err(|m| self.error(p.span(), m)))
                .collect::<Result<_, _>>()?;
        }
        if let Some(command) = raw.command {
            manifest.command = Some(self.command(&command)?);
        }
        let providers = raw.providers.unwrap_or_default();
        if let Some(order) = providers.order {
            manifest.order = self.tiers(&order)?;
        }
        if let Some(prefix) = providers.env.and_then(|e| e.prefix) {
            manifest.env_prefix = prefix;
        }
        let keyring = providers.keyring.unwrap_or_default();
        // An empty service would match no item: every keyring lookup would
        // miss, and a default would stand in without a word.
        self.refuse_empty(keyring.service.as_ref(), "[providers.keyring] service")?;
        if let Some(service) = keyring.service.as_ref() {
            if service.get_ref().contains('\0') {
                return Err(self.error(
                    service.span(),
                    "[providers.keyring] service may not hold a NUL byte",
                ));
            }
        }
        let service_span = keyring.service.as_ref().map(Spanned::span);
        match keyring.service {
            Some(service) => manifest.keyring.service = service.into_inner(),
            None => {
                if let Some(service) = kstlib.keyring_service {
                    manifest.keyring.service = service;
                }
            }
        }
        if let Some(backend) = keyring.backend {
            manifest.keyring.backend =
                KeyringBackend::from_name(backend.get_ref()).ok_or_else(|| {
                    self.choice(
                        backend.span(),
                        "keyring backend",
                        backend.get_ref(),
                        "secret-service, keyutils",
                    )
                })?;
            // Refused here, at its line, not at the first lookup that
            // reaches the tier.
            if !manifest
                .keyring
                .backend
                .accepts_service(&manifest.keyring.service)
            {
                return Err(self.error(
                    service_span.unwrap_or_else(|| backend.span()),
                    "[providers.keyring] service may not hold '@' with the keyutils backend \
                     ('@' separates the user name from the service in a key's description)",
                ));
            }
        }
        if let Some(timeout) = keyring.timeout_ms {
            manifest.keyring.timeout =
                Duration::from_millis(self.positive(&timeout, "timeout_ms", 600_000)?);
        }
        let sops = providers.sops.unwrap_or_default();
        self.refuse_empty(sops.path.as_ref(), "[providers.sops] path")?;
        self.refuse_empty(sops.binary.as_ref(), "[providers.sops] binary")?;
        self.refuse_empty(sops.identity.as_ref(), "[providers.sops] identity")?;
        if let Some(path) = sops.path {
            manifest.sops.path = folder.join(path.get_ref());
            manifest.sops.path_configured = true;
        } else if let Some(path) = kstlib.sops_path {
            manifest.sops.path = path;
            manifest.sops.path_configured = true;
        }
        if let Some(binary) = sops.binary {
            let span = binary.span();
            manifest.sops.binary = executable_in(folder, binary.into_inner())
                .map_err(|m| self.error(span, format!("[providers.sops] {m}")))?;
        } else if let Some(binary) = kstlib.sops_binary {
            manifest.sops.binary = binary;
        }
        if let Some(backend) = sops.backend {
            manifest.sops.backend = match backend.get_ref().as_str() {
                "auto" => SopsBackend::Auto,
                "native" => SopsBackend::Native,
                "binary" => SopsBackend::Binary,
                other => {
                    return Err(self.choice(
                        backend.span(),
                        "sops backend",
                        other,
                        "auto, native, binary",
                    ))
                }
            };
        }
        if let Some(format) = sops.format {
            manifest.sops.format = match format.get_ref().as_str() {
                "auto" => Format::Auto,
                "yaml" => Format::Yaml,
                "json" => Format::Json,
                "dotenv" => Format::Dotenv,
                "ini" => Format::Ini,
                "binary" => Format::Binary,
                other => {
                    return Err(self.choice(
                        format.span(),
                        "sops format",
                        other,
                        "auto, yaml, json, dotenv, ini, binary",
                    ))
                }
            };
        }
        if let Some(size) = sops.cache_size {
            manifest.sops.cache_size = self.positive(&size, "cache_size", 4096)? as usize;
        }
        if let Some(timeout) = sops.timeout_ms {
            manifest.sops.timeout =
                Duration::from_millis(self.positive(&timeout, "timeout_ms", 600_000)?);
        }
        if let Some(identity) = sops.identity {
            manifest.sops.identity = Some(folder.join(identity.get_ref()));
        }
        let kstlib_delete = (
            kstlib.secure_delete_method,
            kstlib.secure_delete_passes,
            kstlib.secure_delete_zero_last_pass,
        );
        self.secure_delete(
            raw.secure_delete.unwrap_or_default(),
            kstlib_delete,
            &mut manifest.secure_delete,
        )?;

        // Each table's keys are unique already (toml refuses a repeated key),
        // so only a secret named like an [env] variable can be defined twice.
        let mut env_names = HashSet::new();
        for (name, value) in raw.env.unwrap_or_default() {
            self.variable(&name, &value.span(), &env_names, "[env]")?;
            if value.get_ref().0.contains('\0') {
                return Err(self.error(
                    value.span(),
                    format!(
                        "[env] {}: the value holds a NUL byte, which no environment variable can",
                        name.get_ref()
                    ),
                ));
            }
            // `NAME=value` and its ending NUL, as the kernel counts them.
            if let Some(limit) = too_long(name.get_ref().len() + value.get_ref().0.len() + 2) {
                return Err(self.error(
                    value.span(),
                    format!(
                        "[env] {}: NAME=value is longer than the {limit} bytes the kernel takes for one environment variable",
                        name.get_ref()
                    ),
                ));
            }
            env_names.insert(name.get_ref().clone());
            manifest.env.push((name.into_inner(), value.into_inner().0));
        }
        manifest
            .secrets
            .reserve(raw.secrets.as_ref().map_or(0, IndexMap::len));
        for (name, entry) in raw.secrets.unwrap_or_default() {
            let span = entry.span();
            self.variable(&name, &span, &env_names, "[secrets]")?;
            let var = name.into_inner();
            let entry = self
                .secret(var, entry.into_inner(), folder)
                .map_err(|m| self.error(span, m))?;
            manifest.secrets.push(entry);
        }
        Ok(manifest)
    }

    /// An empty text setting is an error at its place: an empty path or
    /// service would fail later, far from the line, or match nothing.
    fn refuse_empty(
        &self,
        setting: Option<&Spanned<String>>,
        what: &str,
    ) -> Result<(), ManifestError> {
        match setting {
            Some(value) if value.get_ref().is_empty() => {
                Err(self.error(value.span(), format!("{what} may not be empty")))
            }
            _ => Ok(()),
        }
    }

    fn command(&self, command: &Spanned<String>) -> Result<Vec<String>, ManifestError> {
        let words = shell_words::split(command.get_ref())
            .map_err(|e| self.error(command.span(), format!("command: {e}")))?;
        if words.is_empty() {
            return Err(self.error(command.span(), "command is empty"));
        }
        if words.iter().any(|word| word.contains('\0')) {
            return Err(self.error(
                command.span(),
                "command: an argument holds a NUL byte, which no argument can",
            ));
        }
        if let Some(limit) = words.iter().find_map(|word| too_long(word.len() + 1)) {
            return Err(self.error(
                command.span(),
                format!("command: an argument is longer than the {limit} bytes the kernel takes for one"),
            ));
        }
        Ok(words)
    }

    fn tiers(&self, order: &[Spanned<String>]) -> Result<Vec<SecretSource>, ManifestError> {
        let mut tiers = Vec::new();
        for name in order {
            let tier = parse_tier(name.get_ref()).map_err(|m| self.error(name.span(), m))?;
            if tiers.contains(&tier) {
                return Err(self.error(name.span(), format!("provider '{tier}' is listed twice")));
            }
            tiers.push(tier);
        }
        Ok(tiers)
    }

    fn choice(&self, span: Range<usize>, what: &str, got: &str, valid: &str) -> ManifestError {
        self.error(
            span,
            format!("unknown {what} '{got}' (expected one of: {valid})"),
        )
    }

    fn positive(&self, number: &Spanned<i64>, what: &str, max: u64) -> Result<u64, ManifestError> {
        match u64::try_from(*number.get_ref()) {
            Ok(n) if n >= 1 && n <= max => Ok(n),
            _ => Err(self.error(number.span(), format!("{what} must be between 1 and {max}"))),
        }
    }

    fn secure_delete(
        &self,
        raw: raw::RawSecureDelete,
        (kstlib_method, kstlib_passes, kstlib_zero): (
            Option<ShredMethod>,
            Option<u32>,
            Option<bool>,
        ),
        settings: &mut SecureDelete,
    ) -> Result<(), ManifestError> {
        if let Some(method) = raw.method {
            settings.method = ShredMethod::parse(method.get_ref()).ok_or_else(|| {
                self.choice(
                    method.span(),
                    "secure_delete method",
                    method.get_ref(),
                    "auto, command, overwrite",
                )
            })?;
        } else if let Some(method) = kstlib_method {
            settings.method = method;
        }
        if let Some(passes) = raw.passes {
            settings.passes = self.positive(&passes, "passes", MAX_SHRED_PASSES.into())? as u32;
        } else if let Some(passes) = kstlib_passes {
            // Checked against the same bounds when the kstlib config was read.
            settings.passes = passes;
        }
        if let Some(zero) = raw.zero_last_pass.or(kstlib_zero) {
            settings.zero_last_pass = zero;
        }
        Ok(())
    }

    fn variable(
        &self,
        name: &Spanned<String>,
        fallback: &Range<usize>,
        taken: &HashSet<String>,
        table: &str,
    ) -> Result<(), ManifestError> {
        let span = if name.span().is_empty() {
            fallback.clone()
        } else {
            name.span()
        };
        if !is_variable_name(name.get_ref().as_bytes()) {
            return Err(self.error(
                span,
                format!(
                    "{table}: '{}' is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)",
                    name.get_ref()
                ),
            ));
        }
        if taken.contains(name.get_ref()) {
            return Err(self.error(
                span,
                format!("{table}: variable '{}' is defined twice", name.get_ref()),
            ));
        }
        Ok(())
    }

    fn secret(&self, var: String, raw: RawSecret, folder: &Path) -> Result<SecretEntry, String> {
        let table = raw.into_table();
        let path = table
            .path
            .ok_or_else(|| format!("secret {var}: missing 'path'"))?;
        check_dotted(&path).map_err(|m| format!("secret {var}: path {m}"))?;
        let key = match table.key {
            None => None,
            Some(RawKey::Dotted(key)) => {
                check_dotted(&key).map_err(|m| format!("secret {var}: key {m}"))?;
                Some(key.split('.').map(str::to_string).collect())
            }
            Some(RawKey::Segments(segments)) => {
                if segments.is_empty() || segments.iter().any(String::is_empty) {
                    return Err(format!("secret {var}: key segments must be non-empty"));
                }
                Some(segments)
            }
        };
        let delivery = match table.delivery.as_deref() {
            None | Some("env") => Delivery::Env,
            Some("file") => Delivery::File,
            Some("json") => Delivery::Json,
            Some(other) => {
                return Err(format!(
                    "secret {var}: unknown 'as' value '{other}' (expected env, file or json)"
                ))
            }
        };
        let providers = match table.providers {
            None => None,
            Some(names) => {
                if names.is_empty() {
                    return Err(format!("secret {var}: 'providers' is empty"));
                }
                let mut tiers = Vec::with_capacity(names.len());
                for name in &names {
                    let tier = parse_tier(name).map_err(|m| format!("secret {var}: {m}"))?;
                    if tiers.contains(&tier) {
                        // As in [providers] order: a repeat is a slip, not a wish.
                        return Err(format!("secret {var}: provider '{tier}' is listed twice"));
                    }
                    tiers.push(tier);
                }
                Some(tiers)
            }
        };
        let sops = match table.sops {
            Some(file) if file.is_empty() => {
                return Err(format!("secret {var}: 'sops' (a file) may not be empty"))
            }
            file => file.map(|file| folder.join(file)),
        };
        Ok(SecretEntry {
            var,
            path,
            key,
            sops,
            required: table.required.unwrap_or(true),
            default: table.default.map(|d| SecretValue::from_string(d.0)),
            delivery,
            providers,
        })
    }
}

/// The manifest file to load, made absolute: the one named with `-m` (a
/// missing one is then the loader's error), else `kstrun.toml` in the
/// current folder when there is one. A `kstrun.toml` that is a broken link
/// is there (and fails to load, saying why), not silently absent.
pub fn locate(named: Option<&Path>) -> Option<PathBuf> {
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match named {
        Some(path) => Some(absolute(path)),
        None => Some(absolute(Path::new("kstrun.toml")))
            .filter(|default| default.symlink_metadata().is_ok()),
    }
}

/// The `binary` setting as given in a file in `folder`: a bare name is
/// looked up on PATH when sops runs; a relative path (`tools/sops`) is
/// relative to that folder, as every other path in the file is. The setting
/// is text, so a folder whose name is not UTF-8 cannot hold it: an error
/// (never the same path taken from the current folder).
pub fn executable_in(folder: &Path, binary: String) -> Result<String, String> {
    if !binary.contains('/') || Path::new(&binary).is_absolute() {
        return Ok(binary);
    }
    folder
        .join(&binary)
        .into_os_string()
        .into_string()
        .map_err(|_| {
            format!("binary '{binary}': the folder it is relative to is not UTF-8; give an absolute path")
        })
}

/// Parses a middle-tier name, or says which names are valid.
pub fn parse_tier(name: &str) -> Result<SecretSource, String> {
    SecretSource::from_tier_name(name)
        .ok_or_else(|| format!("unknown provider '{name}' (expected env, keyring or sops)"))
}

/// A dotted path is non-empty, has no empty segment and no NUL byte (which
/// no keyring name can hold: D-Bus drops a connection that sends one).
pub fn check_dotted(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("is empty".to_string());
    }
    if path.contains('\0') {
        return Err(format!("'{path}' holds a NUL byte"));
    }
    if crate::text::split(path, b'.').any(str::is_empty) {
        return Err(format!("'{path}' has an empty segment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
