//! The sops tier (placeholder until the sops provider lands).

use crate::secrets::{
    Lookup, Provider, ProviderState, ProviderStatus, SecretError, SecretRequest, SecretSource,
};
use crate::sops::Format;
use std::path::PathBuf;

/// How SOPS files are decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SopsBackend {
    /// Native when the file is for age and an identity matches, else the binary.
    Auto,
    /// In-process only.
    Native,
    /// The `sops` executable only.
    Binary,
}

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
        }
    }
}

/// The sops tier.
pub struct SopsProvider {
    _settings: SopsSettings,
}

impl SopsProvider {
    /// A provider that decrypts lazily.
    pub fn new(settings: SopsSettings) -> Self {
        SopsProvider {
            _settings: settings,
        }
    }
}

impl Provider for SopsProvider {
    fn source(&self) -> SecretSource {
        SecretSource::Sops
    }
    fn lookup(&mut self, _request: &SecretRequest) -> Result<Lookup, SecretError> {
        Ok(Lookup::Skipped {
            reason: "not built".into(),
        })
    }
    fn status(&mut self) -> ProviderStatus {
        let mut s = ProviderStatus::ready(SecretSource::Sops);
        s.state = ProviderState::Skipped("not built".into());
        s
    }
}
