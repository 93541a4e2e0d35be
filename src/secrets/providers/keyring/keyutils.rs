//! Reading the kernel key store without linking anything into it.
//!
//! keyring-rs's keyutils store, asked only to read an item, links the user's
//! persistent keyring into the session keyring and the item into both: a
//! read made a key outlive its unlinking, reach every later session of the
//! user, and a key the caller may read but not link was refused as "access
//! denied". kstrun's lookups link no key and no keyring that outlives them:
//! the item (described as keyring-rs describes it,
//! `keyring:{user}@{service}`) is searched for in the session keyring and
//! the keyrings linked into it, then in the user's persistent keyring, where
//! keyring-rs keeps what it stores across logins. Reaching that one takes a
//! link, made into the process keyring, which the kernel discards at
//! `execve` and at exit (a forked child never has it); asking for it also
//! creates the persistent keyring if the user has none and renews its
//! expiry, as any use of it does. Writes (the library's `store` and
//! `delete`) stay with keyring-rs.

use super::KeyringBackend;
use keyring_core::Error;
use linux_keyutils::{KeyError, KeyRing, KeyRingIdentifier};

/// Whether this process can reach a session keyring (container seccomp
/// profiles often block the key system calls).
pub(super) fn probe() -> Result<(), KeyError> {
    KeyRing::from_special_id(KeyRingIdentifier::Session, false).map(drop)
}

/// The value of the item of `service` and `username`.
pub(super) fn read(service: &str, username: &str) -> keyring_core::Result<Vec<u8>> {
    // Another service's item could answer (see `accepts_service`).
    if !KeyringBackend::Keyutils.accepts_service(service) {
        return Err(Error::Invalid(
            "service".to_string(),
            "it holds '@', which separates the user name from the service in a keyutils description"
                .to_string(),
        ));
    }
    let description = format!("keyring:{username}@{service}");
    let session = KeyRing::from_special_id(KeyRingIdentifier::Session, false).map_err(meaning)?;
    let key = match session.search(&description) {
        // Gone, revoked or expired here: look further.
        Err(KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired) => {
            match KeyRing::get_persistent(KeyRingIdentifier::Process) {
                Ok(persistent) => persistent.search(&description),
                // No persistent keyrings in this kernel: nothing more to search.
                Err(KeyError::OperationNotSupported) => return Err(Error::NoEntry),
                // Anything else (a quota, a security module) may hide the
                // item: a failure, never a quiet fall to the next tier.
                Err(error) => return Err(meaning(error)),
            }
        }
        found => found,
    };
    key.and_then(|key| key.read_to_vec()).map_err(meaning)
}

/// A keyutils error as keyring-core says it, as keyring-rs's store does:
/// a key gone, revoked or expired (which one depends on where the kernel
/// is in removing it) is no entry.
fn meaning(error: KeyError) -> Error {
    match error {
        KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired => Error::NoEntry,
        KeyError::AccessDenied | KeyError::PermissionDenied => {
            Error::NoStorageAccess(Box::new(error))
        }
        other => Error::PlatformFailure(Box::new(other)),
    }
}
