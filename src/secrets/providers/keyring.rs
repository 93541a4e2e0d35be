//! The keyring tier (placeholder until the keyring provider lands).

use crate::secrets::{
    Lookup, Provider, ProviderState, ProviderStatus, SecretError, SecretRequest, SecretSource,
};
use std::time::Duration;

/// Which credential store to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringBackend {
    /// The Secret Service over D-Bus (Linux default).
    SecretService,
    /// The Linux kernel key retention service.
    Keyutils,
}

/// Settings of the keyring tier.
#[derive(Debug, Clone)]
pub struct KeyringSettings {
    /// Service name (default `kstlib`).
    pub service: String,
    /// Store to use.
    pub backend: KeyringBackend,
    /// Deadline for every call to the store.
    pub timeout: Duration,
}

impl Default for KeyringSettings {
    fn default() -> Self {
        KeyringSettings {
            service: "kstlib".to_string(),
            backend: KeyringBackend::SecretService,
            timeout: Duration::from_millis(3000),
        }
    }
}

/// The keyring tier.
pub struct KeyringProvider {
    _settings: KeyringSettings,
}

impl KeyringProvider {
    /// A provider that connects lazily.
    pub fn new(settings: KeyringSettings) -> Self {
        KeyringProvider {
            _settings: settings,
        }
    }
}

impl Provider for KeyringProvider {
    fn source(&self) -> SecretSource {
        SecretSource::Keyring
    }
    fn lookup(&mut self, _request: &SecretRequest) -> Result<Lookup, SecretError> {
        Ok(Lookup::Skipped {
            reason: "not built".into(),
        })
    }
    fn status(&mut self) -> ProviderStatus {
        let mut s = ProviderStatus::ready(SecretSource::Keyring);
        s.state = ProviderState::Skipped("not built".into());
        s
    }
}
