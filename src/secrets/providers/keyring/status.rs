//! What `check` says about the keyring: reachable or why not, and whether the
//! collection that holds the secrets is locked, never any value.
//!
//! keyring-core has no notion of a locked collection, so the Secret Service
//! is asked directly, on its own short connection: it reads the default
//! collection's `Locked` property, which never raises an unlock prompt. This
//! second connection exists only for `check`; a normal run opens one.

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

    // Plain: no secret crosses this connection, so no key exchange is needed.
    let service = SecretService::connect(EncryptionType::Plain).map_err(|e| e.to_string())?;
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
