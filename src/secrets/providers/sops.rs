//! The sops tier: secrets read from SOPS-encrypted files.
//!
//! This file chooses the file (the entry's own `sops` file, else the
//! provider's `path`), serves decrypted documents from an LRU cache (one
//! decrypt per file version, however many secrets it holds), walks the
//! document to the requested key and turns the answer into a record. The
//! decryption itself, native or through the `sops` executable, is the
//! standalone `crate::sops` reader's job.
//!
//! Decisions: an implicit default file that is absent skips the tier, a
//! configured one that is absent is an error; a key that is absent, or null,
//! passes to the next tier; a mapping or list is an error unless the request
//! is `structured` (then it is compact JSON); in a binary-format file the
//! secret is the whole file, whatever the key. A file that does not decrypt
//! (bad MAC, no key, corrupt) is a `Decryption` error naming the file.

use crate::secrets::{
    Lookup, Provider, ProviderState, ProviderStatus, SecretError, SecretRecord, SecretRequest,
    SecretSource, SecretValue,
};
use crate::sops::{
    BinaryOptions, Decryptor, DecryptorOptions, Document, DocumentCache, Environment, ErrorKind,
    FileStamp, Format, Node, SopsError, SourceState,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How SOPS files are decrypted: native when the file is for age and an
/// identity matches, else the binary (`Auto`), in-process only, or the
/// `sops` executable only. The reader's own choice, under the tier's name.
pub use crate::sops::BackendChoice as SopsBackend;

/// Settings of the sops tier.
#[derive(Debug, Clone)]
pub struct SopsSettings {
    /// The file asked when an entry names none.
    pub path: PathBuf,
    /// Whether `path` was configured (a missing configured file is an error;
    /// the implicit default that is missing skips the tier).
    pub path_configured: bool,
    /// Name or path of the sops executable.
    pub binary: String,
    /// Backend choice.
    pub backend: SopsBackend,
    /// File format, or `Auto` (from the file name).
    pub format: Format,
    /// Decrypted documents kept.
    pub cache_size: usize,
    /// An extra age identity file.
    pub identity: Option<PathBuf>,
    /// Deadline for one run of the sops executable and of `SOPS_AGE_KEY_CMD`.
    pub timeout: Duration,
}

impl Default for SopsSettings {
    fn default() -> Self {
        SopsSettings {
            path: PathBuf::from("secrets.sops.yml"),
            path_configured: false,
            binary: "sops".to_string(),
            backend: SopsBackend::Auto,
            format: Format::Auto,
            cache_size: 16,
            identity: None,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The sops tier. Dropping it wipes its cache and identities.
pub struct SopsProvider {
    settings: SopsSettings,
    decryptor: Decryptor,
    cache: DocumentCache,
    /// Files looked up so far, for `status`.
    seen: Vec<PathBuf>,
    /// Files that failed to decrypt, by format and version: all the secrets
    /// of a broken file fail with the same error, without running sops
    /// again for each. A failure that may pass (a timeout, an interrupt, a
    /// failing sops) is kept for the current batch only: the next batch,
    /// or a lookup outside any, tries the file again.
    failures: Vec<(PathBuf, Format, FileStamp, SopsError)>,
    /// Canonical path of each file by the version it was canonicalised at:
    /// resolving links costs several system calls, a stamp one, and a
    /// thousand secrets from one file would otherwise pay it a thousand times.
    canonical: Vec<(PathBuf, FileStamp, PathBuf)>,
    /// During a batch, the version of each file as first seen in it.
    batch_stamps: Option<Vec<(PathBuf, Result<FileStamp, std::io::ErrorKind>)>>,
    /// During a batch, the file the previous lookup read.
    current: Option<Current>,
    decrypts: usize,
}

impl SopsProvider {
    /// A provider that decrypts lazily, reading the process environment.
    pub fn new(settings: SopsSettings) -> Self {
        Self::build(settings, None)
    }

    /// A provider that reads `env` instead of the process environment for
    /// `SOPS_AGE_*`, `HOME` and `XDG_CONFIG_HOME`, and runs sops with exactly
    /// `env` (for embedding and tests).
    pub fn with_environment(settings: SopsSettings, env: Environment) -> Self {
        Self::build(settings, Some(env))
    }

    fn build(settings: SopsSettings, env: Option<Environment>) -> Self {
        let options = DecryptorOptions {
            backend: settings.backend,
            format: settings.format,
            binary: BinaryOptions {
                program: settings.binary.clone(),
                timeout: settings.timeout,
            },
            identity: settings.identity.clone(),
            key_cmd_timeout: settings.timeout,
            env,
        };
        SopsProvider {
            cache: DocumentCache::new(settings.cache_size),
            decryptor: Decryptor::new(options),
            settings,
            seen: Vec::new(),
            failures: Vec::new(),
            canonical: Vec::new(),
            batch_stamps: None,
            current: None,
            decrypts: 0,
        }
    }

    /// How many times this provider has decrypted a file (cache misses,
    /// failed attempts included).
    pub fn decrypt_count(&self) -> usize {
        self.decrypts
    }

    /// Drops every cached document and identity now (they wipe themselves).
    pub fn wipe(&mut self) {
        self.current = None;
        self.cache.clear();
        self.failures.clear();
        self.decryptor.forget_identities();
    }

    /// The decrypted document of `path`, from the cache when still current.
    fn document(
        &mut self,
        path: &Path,
        stamp: FileStamp,
    ) -> Result<(Arc<Document>, &'static str), SopsError> {
        let canonical = self.canonical_path(path, stamp);
        let format = self.settings.format.resolve(path);
        if let Some(hit) = self.cache.get(&canonical, format, stamp) {
            return Ok(hit);
        }
        self.failures
            .retain(|(p, f, s, _)| *p != canonical || *f != format || *s == stamp);
        if let Some((_, _, _, error)) = self
            .failures
            .iter()
            .find(|(p, f, _, _)| *p == canonical && *f == format)
        {
            return Err(error.clone());
        }
        self.decrypts += 1;
        let decrypted = match self.decryptor.decrypt(path) {
            Ok(decrypted) => decrypted,
            Err(error) => {
                if self.batch_stamps.is_some() || !error.may_pass() {
                    self.failures
                        .push((canonical, format, stamp, error.clone()));
                }
                return Err(error);
            }
        };
        let document = Arc::new(decrypted.document);
        self.cache.put(
            canonical,
            format,
            stamp,
            Arc::clone(&document),
            decrypted.backend,
        );
        Ok((document, decrypted.backend))
    }
}

impl SopsProvider {
    /// The version of `path`: read now, or as first read in the current batch.
    fn stamp(&mut self, path: &Path) -> Result<FileStamp, std::io::ErrorKind> {
        if let Some((_, stamp)) = self
            .batch_stamps
            .iter()
            .flatten()
            .find(|(seen, _)| seen == path)
        {
            return *stamp;
        }
        let stamp = FileStamp::of(path).map_err(|e| e.kind());
        if let Some(stamps) = &mut self.batch_stamps {
            stamps.push((path.to_path_buf(), stamp));
        }
        stamp
    }

    /// The canonical form of `path`, recomputed when the file it names changed.
    fn canonical_path(&mut self, path: &Path, stamp: FileStamp) -> PathBuf {
        if let Some((_, _, canonical)) = self
            .canonical
            .iter()
            .find(|(p, s, _)| p == path && *s == stamp)
        {
            return canonical.clone();
        }
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.canonical.retain(|(p, _, _)| p != path);
        self.canonical
            .push((path.to_path_buf(), stamp, canonical.clone()));
        canonical
    }
}

/// The file a lookup reads, decrypted: kept for the next lookups of the same
/// batch, which most often ask the same file (the version is fixed for the
/// batch anyway), so they skip the version, canonical path and cache steps.
struct Current {
    path: PathBuf,
    /// The path as shown, shared by the records of this file.
    location: Arc<str>,
    document: Arc<Document>,
    backend: &'static str,
}

impl SopsProvider {
    /// The decrypted file `request` asks, or why the tier has no answer
    /// (`Err`: the file is absent and the tier skipped).
    fn open(&mut self, request: &SecretRequest) -> Result<Result<Current, Lookup>, SecretError> {
        let (path, configured) = match &request.metadata.path {
            Some(path) => (path.clone(), true),
            None => (self.settings.path.clone(), self.settings.path_configured),
        };
        let location: Arc<str> = path.display().to_string().into();
        if !self.seen.contains(&path) {
            self.seen.push(path.clone());
        }
        let stamp = match self.stamp(&path) {
            Ok(stamp) => stamp,
            // A link left where the default file goes (to a volume not
            // mounted yet, say) means a file was meant to be there.
            Err(std::io::ErrorKind::NotFound) if !configured && path.is_symlink() => {
                return Err(SecretError::provider(
                    "sops",
                    &request.name,
                    format!("{location}: a symbolic link to a file that does not exist"),
                ))
            }
            Err(std::io::ErrorKind::NotFound) if !configured => {
                return Ok(Err(Lookup::Skipped {
                    reason: format!("no file {location}").into(),
                }))
            }
            Err(std::io::ErrorKind::NotFound) => {
                return Err(SecretError::provider(
                    "sops",
                    &request.name,
                    format!("{location}: file not found"),
                ))
            }
            Err(_) => {
                return Err(SecretError::provider(
                    "sops",
                    &request.name,
                    format!("{location}: cannot read the file"),
                ))
            }
        };
        let (document, backend) = self
            .document(&path, stamp)
            .map_err(|e| error_for(request, &location, e))?;
        Ok(Ok(Current {
            path,
            location,
            document,
            backend,
        }))
    }
}

/// A key's segments as `check`, `-v` and errors show them: dotted, unless a
/// segment holds a dot itself, then as the TOML array the manifest holds
/// (`["with.dot", "k"]`), so that it cannot be read as three segments.
fn shown_key(segments: &[String]) -> String {
    if segments.iter().any(|segment| segment.contains('.')) {
        let quoted: Vec<String> = segments.iter().map(|s| format!("{s:?}")).collect();
        format!("[{}]", quoted.join(", "))
    } else {
        segments.join(".")
    }
}

impl Current {
    /// The value `request` names in this file, as a record.
    fn answer(&self, request: &SecretRequest) -> Result<Lookup, SecretError> {
        let location = &self.location;
        let key_text = || match &request.metadata.key_path {
            Some(segments) => shown_key(segments),
            None => request.name.clone(),
        };
        // The key inside the document: `key_path` if set, else the name's segments.
        let node = match &request.metadata.key_path {
            _ if self.document.binary => self.document.get(["data"]),
            Some(key) => self.document.get(key.iter().map(String::as_str)),
            None => self.document.get(crate::text::split(&request.name, b'.')),
        };
        let value = match node {
            None => {
                return Ok(Lookup::Missing {
                    tried: format!("{} in {location}", key_text()),
                })
            }
            Some(Node::Null) => {
                return Ok(Lookup::Missing {
                    tried: format!("{} in {location} (null)", key_text()),
                })
            }
            Some(Node::Leaf(leaf)) => SecretValue::copy_from(&leaf.text),
            Some(node) if request.metadata.structured => {
                let json = node.to_json();
                SecretValue::copy_from(&json)
            }
            Some(node) => {
                let what = if matches!(node, Node::Map(_)) {
                    "a mapping"
                } else {
                    "a list"
                };
                return Err(SecretError::provider(
                    "sops",
                    &request.name,
                    format!(
                        "{} in {location} is {what}, not a single value (use as = \"json\")",
                        key_text()
                    ),
                ));
            }
        };
        Ok(Lookup::Found(
            SecretRecord::new(SecretSource::Sops, value)
                .with("file", Arc::clone(location))
                .with("key", key_text())
                .with("backend", self.backend),
        ))
    }
}

fn error_for(request: &SecretRequest, location: &str, error: SopsError) -> SecretError {
    match error.kind {
        ErrorKind::Decryption
        | ErrorKind::NoIdentity
        | ErrorKind::Malformed
        | ErrorKind::Unsupported => SecretError::Decryption {
            provider: "sops",
            name: request.name.clone(),
            location: location.to_string(),
            reason: error.reason,
        },
        _ => SecretError::provider(
            "sops",
            &request.name,
            format!("{location}: {}", error.reason),
        ),
    }
}

impl Provider for SopsProvider {
    fn source(&self) -> SecretSource {
        SecretSource::Sops
    }

    fn batch(&mut self, active: bool) {
        self.batch_stamps = active.then(Vec::new);
        self.failures.retain(|(_, _, _, error)| !error.may_pass());
        self.cache.hold(active);
        self.current = None;
    }

    fn lookup(&mut self, request: &SecretRequest) -> Result<Lookup, SecretError> {
        let requested = request.metadata.path.as_deref();
        let kept = self.current.take().filter(|current| {
            // Compared as bytes, not component by component (each a parse
            // of both paths): a spelling that differs only opens the file again.
            current.path.as_os_str() == requested.unwrap_or(&self.settings.path).as_os_str()
        });
        let current = match kept {
            Some(current) => current,
            None => match self.open(request)? {
                Ok(current) => current,
                Err(skipped) => return Ok(skipped),
            },
        };
        let answer = current.answer(request);
        // Outside a batch every lookup checks the file's version again.
        if self.batch_stamps.is_some() {
            self.current = Some(current);
        }
        answer
    }

    fn warnings(&self) -> Vec<String> {
        self.decryptor
            .gathered_identities()
            .map(|identities| identities.warnings.clone())
            .unwrap_or_default()
    }

    fn status(&mut self) -> ProviderStatus {
        let mut status = ProviderStatus::ready(SecretSource::Sops);
        let backend = match self.settings.backend {
            SopsBackend::Auto => "auto",
            SopsBackend::Native => "native",
            SopsBackend::Binary => "binary",
        };
        status.details.push(format!("backend setting: {backend}"));
        let default = self.settings.path.clone();
        let mut files = vec![default.clone()];
        files.extend(self.seen.iter().filter(|p| **p != default).cloned());
        for file in files {
            let shown = file.display().to_string();
            if !file.exists() {
                if file == default && !self.settings.path_configured && !file.is_symlink() {
                    status
                        .details
                        .push(format!("file {shown}: absent (tier skipped)"));
                    if self.seen.iter().all(|p| *p == default) {
                        status.state = ProviderState::Skipped(format!("no file {shown}"));
                    }
                } else {
                    status.details.push(format!("file {shown}: not found"));
                    status.state = ProviderState::Failed(format!("{shown}: file not found"));
                }
                continue;
            }
            match self.decryptor.report(&file) {
                Ok(report) => {
                    let mut line = format!(
                        "file {shown} ({}): backend {}",
                        report.format, report.backend
                    );
                    if !report.recipients.is_empty() {
                        line.push_str(&format!(
                            "; age recipients: {}",
                            report.recipients.join(", ")
                        ));
                    }
                    if !report.other_keys.is_empty() {
                        line.push_str(&format!("; other keys: {}", report.other_keys.join(", ")));
                    }
                    status.details.push(line);
                }
                Err(e) => {
                    status.details.push(format!("file {shown}: {}", e.reason));
                    status.state = ProviderState::Failed(format!("{shown}: {}", e.reason));
                }
            }
        }
        if self.settings.backend != SopsBackend::Binary {
            let identities = self.decryptor.identities();
            for source in &identities.sources {
                match &source.state {
                    SourceState::Loaded(n) => status
                        .details
                        .push(format!("identity source {}: {n} key(s)", source.name)),
                    SourceState::Failed(why) => status
                        .warnings
                        .push(format!("identity source {} failed: {why}", source.name)),
                    SourceState::Absent => {}
                }
            }
            if identities.identities.is_empty() {
                status.details.push("no age identity found".to_string());
            }
            status.warnings.extend(identities.warnings.iter().cloned());
        }
        status
    }
}
