//! Choosing a backend per file and decrypting with it.
//!
//! `auto` prefers the native reader: it is used when the file's keys are age
//! keys and one of our identities opens a stanza. Otherwise (other key kinds,
//! Shamir groups, comment-driven rules, no matching identity) the `sops`
//! executable gets the file; when that fails too, the error says what was
//! tried: the recipients and the identity sources, never key material. A
//! malformed file or a failed MAC is final: it is not retried elsewhere.
//!
//! Identities are gathered once, lazily, on the first file that needs them
//! (`SOPS_AGE_KEY_CMD` runs at most once: if it fails, the `sops`
//! executable does not get it either), and wiped with the decryptor.

use super::binary::{self, BinaryOptions};
use super::cache::FileStamp;
use super::error::{ErrorKind, Result, SopsError};
use super::format::{self, EncryptedFile};
use super::identities::{self, Environment, Identities};
use super::metadata::Metadata;
use super::native;
use super::tree::Document;
use super::Format;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which backend to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// Native when possible, else the executable.
    Auto,
    /// In-process only.
    Native,
    /// The executable only.
    Binary,
}

/// Settings of a [`Decryptor`].
#[derive(Debug, Clone)]
pub struct DecryptorOptions {
    /// Backend choice.
    pub backend: BackendChoice,
    /// File format, `Auto` for by name.
    pub format: Format,
    /// The sops executable and its deadline.
    pub binary: BinaryOptions,
    /// An extra identity file.
    pub identity: Option<PathBuf>,
    /// Deadline for `SOPS_AGE_KEY_CMD`.
    pub key_cmd_timeout: Duration,
    /// Environment read for identities and given to sops; `None` = the process's.
    pub env: Option<Environment>,
}

impl Default for DecryptorOptions {
    fn default() -> Self {
        DecryptorOptions {
            backend: BackendChoice::Auto,
            format: Format::Auto,
            binary: BinaryOptions {
                program: "sops".into(),
                timeout: Duration::from_secs(30),
            },
            identity: None,
            key_cmd_timeout: Duration::from_secs(30),
            env: None,
        }
    }
}

/// A decrypted file and how it was decrypted.
#[derive(Debug)]
pub struct Decrypted {
    /// The document.
    pub document: Document,
    /// `native` or `binary`.
    pub backend: &'static str,
}

/// What `check` shows for one file: no values.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    /// The format read.
    pub format: &'static str,
    /// The backend that would be used, with the reason when it is not native.
    pub backend: String,
    /// Age recipients (public).
    pub recipients: Vec<String>,
    /// Other key kinds (`kms`, `pgp`, ...).
    pub other_keys: Vec<&'static str>,
}

/// Decrypts SOPS files with the configured backend.
pub struct Decryptor {
    options: DecryptorOptions,
    identities: Option<Identities>,
    /// What [`Decryptor::report`] would say of each file the native backend
    /// opened, by file version: `check` asks right after decrypting, and
    /// reading and parsing the file again would double its cost.
    reports: Vec<(PathBuf, FileStamp, FileReport)>,
}

impl Decryptor {
    /// A decryptor; nothing is read until the first file.
    pub fn new(options: DecryptorOptions) -> Self {
        Decryptor {
            options,
            identities: None,
            reports: Vec::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> &DecryptorOptions {
        &self.options
    }

    /// The identities, gathered on first use.
    pub fn identities(&mut self) -> &Identities {
        let options = &self.options;
        self.identities.get_or_insert_with(|| {
            let process;
            let env = match &options.env {
                Some(env) => env,
                None => {
                    process = Environment::from_process();
                    &process
                }
            };
            identities::gather(env, options.identity.as_deref(), options.key_cmd_timeout)
        })
    }

    /// The identities if they have been gathered already (nothing is read).
    pub fn gathered_identities(&self) -> Option<&Identities> {
        self.identities.as_ref()
    }

    /// Drops the identities (they are gathered again when needed).
    pub fn forget_identities(&mut self) {
        self.identities = None;
    }

    /// Decrypts the file at `path`.
    pub fn decrypt(&mut self, path: &Path) -> Result<Decrypted> {
        let format = self.options.format.resolve(path);
        let meta = std::fs::metadata(path).ok();
        if let Some(meta) = &meta {
            crate::interrupt::watch_unless_regular(meta);
        }
        let stamp = meta.as_ref().map(FileStamp::from_metadata);
        let bytes = read_file(path)?;
        if self.options.backend == BackendChoice::Binary {
            let multi = format == Format::Yaml
                && format::parse(&bytes, format).is_ok_and(|f| f.branches.len() > 1);
            return self.binary(path, format, multi);
        }
        let file = format::parse(&bytes, format)?;
        let meta = Metadata::from_raw(&file.metadata)?;
        let multi = file.branches.len() > 1;
        if let Some(reason) = native::unsupported_reason(&meta) {
            return match self.options.backend {
                BackendChoice::Native => Err(SopsError::unsupported(format!(
                    "{reason}; the native backend cannot read it (use backend \"auto\" or \"binary\")"
                ))),
                _ => self.binary(path, format, multi),
            };
        }
        match self.native(&file, &meta) {
            Ok(decrypted) => {
                if let Some(stamp) = stamp {
                    let report = FileReport {
                        format: format.sops_name(),
                        backend: "native".into(),
                        recipients: meta.recipients(),
                        other_keys: meta.other_keys.clone(),
                    };
                    self.reports.retain(|(p, _, _)| p != path);
                    self.reports.push((path.to_path_buf(), stamp, report));
                }
                Ok(decrypted)
            }
            // A leaf only sops can type (see `native`): sops reads the file.
            Err(e)
                if e.kind == ErrorKind::Unsupported
                    && self.options.backend == BackendChoice::Auto =>
            {
                self.binary(path, format, multi)
            }
            Err(e)
                if e.kind == ErrorKind::NoIdentity
                    && self.options.backend == BackendChoice::Auto =>
            {
                let tried = e.reason;
                self.binary(path, format, multi).map_err(|b| {
                    let kind = if b.kind == ErrorKind::Binary {
                        ErrorKind::NoIdentity
                    } else {
                        b.kind
                    };
                    SopsError::new(kind, format!("{tried}; then: {}", b.reason))
                })
            }
            other => other,
        }
    }

    fn native(&mut self, file: &EncryptedFile, meta: &Metadata) -> Result<Decrypted> {
        if self.identities().interrupted {
            // Gathered again on the next try, which asks again.
            self.forget_identities();
            return Err(SopsError::new(
                ErrorKind::Interrupted,
                "SOPS_AGE_KEY_CMD was interrupted",
            ));
        }
        let identities = self.identities();
        let key =
            native::unwrap_data_key(meta, &identities.identities).map_err(|e| match e.kind {
                ErrorKind::NoIdentity => SopsError::new(
                    ErrorKind::NoIdentity,
                    format!("{}; identity sources: {}", e.reason, identities.describe()),
                ),
                _ => e,
            })?;
        let document = native::decrypt(file, meta, &key)?;
        Ok(Decrypted {
            document,
            backend: "native",
        })
    }

    fn binary(&mut self, path: &Path, format: Format, multi: bool) -> Result<Decrypted> {
        let changed = self.sops_environment();
        let document = binary::decrypt(
            path,
            format,
            multi,
            &self.options.binary,
            changed.as_ref().or(self.options.env.as_ref()),
        )?;
        Ok(Decrypted {
            document,
            backend: "binary",
        })
    }

    /// The environment the `sops` executable gets when it differs from the
    /// caller's (`None`: the environment as it is).
    ///
    /// Without `SOPS_AGE_KEY_CMD` when the command already ran here and
    /// failed: sops would run it again (and ask again for a passphrase just
    /// refused).
    ///
    /// With the `identity` setting: sops reads a key file from
    /// `SOPS_AGE_KEY_FILE` (an ssh key from `SOPS_AGE_SSH_PRIVATE_KEY_FILE`),
    /// which is set to the setting's file when it is not set already (sops
    /// reads one file from each; `~/.ssh`'s default keys it reads as well,
    /// variable or not).
    fn sops_environment(&self) -> Option<Environment> {
        let drop_command = self.identities.as_ref().is_some_and(|i| i.command_failed);
        let identity = self.options.identity.as_deref();
        if !drop_command && identity.is_none() {
            return None;
        }
        let mut env = match &self.options.env {
            Some(env) => env.clone(),
            None => Environment::from_process(),
        };
        if drop_command {
            env = env.without("SOPS_AGE_KEY_CMD");
        }
        if let Some(identity) = identity {
            let variable = identities::sops_variable_for(identity);
            if env.get(variable).is_none_or(|value| value.is_empty()) {
                env = env.with(variable, identity);
            }
        }
        Some(env)
    }

    /// What would happen to `path`, for `check`: reads the metadata and tries
    /// the identities on the data key (which is wiped at once), decrypts nothing else.
    pub fn report(&mut self, path: &Path) -> Result<FileReport> {
        if let Ok(stamp) = FileStamp::of(path) {
            if let Some((_, _, report)) = self
                .reports
                .iter()
                .find(|(p, s, _)| p == path && *s == stamp)
            {
                return Ok(report.clone());
            }
        }
        let format = self.options.format.resolve(path);
        let bytes = read_file(path)?;
        let mut report = FileReport {
            format: format.sops_name(),
            ..FileReport::default()
        };
        let file = match format::parse(&bytes, format) {
            Ok(file) => file,
            Err(_) if self.options.backend == BackendChoice::Binary => {
                report.backend = "binary".into();
                return Ok(report);
            }
            Err(e) => return Err(e),
        };
        let meta = Metadata::from_raw(&file.metadata)?;
        report.recipients = meta.recipients();
        report.other_keys = meta.other_keys.clone();
        report.backend = match (self.options.backend, native::unsupported_reason(&meta)) {
            (BackendChoice::Binary, _) => "binary".into(),
            (BackendChoice::Native, Some(reason)) => format!("native (cannot read: {reason})"),
            (BackendChoice::Auto, Some(reason)) => format!("binary ({reason})"),
            (choice, None) => {
                let ids = self.identities();
                match native::unwrap_data_key(&meta, &ids.identities) {
                    Ok(_) => "native".into(),
                    Err(e) if choice == BackendChoice::Auto && e.kind == ErrorKind::NoIdentity => {
                        "binary (no local age identity matches)".into()
                    }
                    Err(e) => format!("native (fails: {})", e.reason),
                }
            }
        };
        Ok(report)
    }
}

/// The largest SOPS file read: room for the 16 MiB of plaintext the binary
/// backend takes from sops, once encrypted. A path to `/dev/zero` or an
/// endless pipe is an error here, not a process growing without end.
const MAX_FILE: u64 = 64 << 20;

fn read_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let read = || {
        let file = std::fs::File::open(path)?;
        // Sized once from the file's length: grown by doubling, a large
        // file would be copied, and each old copy wiped, a dozen times.
        let size = file.metadata().map_or(0, |m| m.len()).min(MAX_FILE) + 1;
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(MAX_FILE + 1).read_to_end(&mut bytes)?;
        Ok::<_, std::io::Error>(bytes)
    };
    let bytes = read().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SopsError::new(ErrorKind::NotFound, "file not found"),
        std::io::ErrorKind::PermissionDenied => {
            SopsError::new(ErrorKind::Io, "cannot read the file: permission denied")
        }
        _ => SopsError::new(ErrorKind::Io, "cannot read the file"),
    })?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(SopsError::new(
            ErrorKind::Io,
            format!("the file is larger than {} MiB", MAX_FILE >> 20),
        ));
    }
    Ok(bytes)
}
