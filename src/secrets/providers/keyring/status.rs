//! What `check` says about the keyring: reachable or why not, and whether the
//! collection that holds the secrets is locked, never any value.
//!
//! keyring-core has no notion of a locked collection, so the Secret Service
//! is asked directly, on its own short connection: it reads the default
//! collection's `Locked` property, which never raises an unlock prompt. This
//! second connection exists only for `check`; a normal run opens one.

use super::deadline::run_with_deadline;
use super::{Connection, KeyringBackend, KeyringProvider};
use crate::secrets::{ProviderState, ProviderStatus, SecretSource};

/// The state of the collection secrets are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CollectionState {
    /// Unlocked: items can be read.
    Unlocked(String),
    /// Locked: reading an item asks for an unlock prompt, which fails here.
    Locked(String),
    /// There is no default collection (nothing was ever stored).
    Absent,
}

/// Reads the default collection's label and lock state. Blocking.
#[cfg(target_os = "linux")]
pub(super) fn default_collection() -> Result<CollectionState, String> {
    use secret_service::blocking::SecretService;
    use secret_service::{EncryptionType, Error};

    // Encrypted, although no secret crosses this connection: kstrun never
    // asks a Secret Service for `plain` transfer (some refuse it), so that
    // `check` sees what a run will see.
    let service = SecretService::connect(EncryptionType::Dh).map_err(|e| e.to_string())?;
    let collection = match service.get_default_collection() {
        Ok(collection) => collection,
        Err(Error::NoResult) => return Ok(CollectionState::Absent),
        Err(e) => return Err(e.to_string()),
    };
    let label = collection.get_label().unwrap_or_else(|_| "default".into());
    match collection.is_locked() {
        Ok(true) => Ok(CollectionState::Locked(label)),
        Ok(false) => Ok(CollectionState::Unlocked(label)),
        Err(e) => Err(e.to_string()),
    }
}

/// Elsewhere there is no Secret Service to ask.
#[cfg(not(target_os = "linux"))]
pub(super) fn default_collection() -> Result<CollectionState, String> {
    Err("no Secret Service on this platform".to_string())
}

/// The provider's state for `check`: connects if needed, never reads a value.
pub(super) fn report(provider: &mut KeyringProvider) -> ProviderStatus {
    let mut status = ProviderStatus::ready(SecretSource::Keyring);
    status.details = vec![
        format!("backend {}", provider.settings.backend),
        format!("service {}", provider.settings.service),
        format!("timeout {} ms", provider.settings.timeout.as_millis()),
    ];
    match provider.connect() {
        Connection::Open(_) => {}
        Connection::Unavailable(why) => {
            status.state = ProviderState::Skipped(why.to_string());
            return status;
        }
        Connection::Failed(why) => {
            status.state = ProviderState::Failed(why.clone());
            return status;
        }
        Connection::Closed => {}
    }
    status.details.push("reachable".to_string());
    if provider.settings.backend == KeyringBackend::SecretService {
        match run_with_deadline(provider.settings.timeout, default_collection) {
            Ok(Ok(CollectionState::Unlocked(label))) => status
                .details
                .push(format!("collection '{label}' unlocked")),
            Ok(Ok(CollectionState::Locked(label))) => {
                status.details.push(format!("collection '{label}' locked"));
                status.state = ProviderState::Failed(format!(
                    "{}: collection '{label}' is locked; reading its items will fail",
                    provider.describe()
                ));
            }
            Ok(Ok(CollectionState::Absent)) => status
                .details
                .push("no default collection (nothing stored yet)".to_string()),
            Ok(Err(why)) => status
                .warnings
                .push(format!("cannot read the collection's lock state: {why}")),
            Err(_) => status.warnings.push(format!(
                "the collection's lock state did not come within {} ms",
                provider.settings.timeout.as_millis()
            )),
        }
    }
    status
}
