//! Opening a credential store and reading its errors.
//!
//! keyring-core gives every store the same error type; what matters to the
//! cascade is which of three outcomes an error is: the entry is not there
//! (next tier), the store is not there at all (skip the tier), or the store is
//! there but refuses (stop the run). This module makes that decision in one
//! place, and turns errors into text that never holds secret bytes (two
//! keyring-core variants carry the raw data they could not decode, so they
//! are never formatted).

use super::KeyringBackend;
use keyring_core::{CredentialStore, Entry, Error};
use std::collections::HashMap;
use std::sync::Arc;

/// Why a store could not be opened.
#[derive(Debug)]
pub(super) enum OpenError {
    /// No such store here (no session bus, no Secret Service): skip the tier.
    Unavailable(String),
    /// The store exists but cannot be used: an error.
    Failed(String),
}

/// What one store error means to the cascade.
pub(super) enum Meaning {
    /// No entry under this name.
    NoEntry,
    /// The store refused or broke, with a reason safe to print.
    Failed(String),
}

/// Opens the store of `backend`. Blocking: call it under a deadline.
pub(super) fn open(backend: KeyringBackend) -> Result<Arc<CredentialStore>, OpenError> {
    match backend {
        KeyringBackend::SecretService => platform::open_secret_service(),
        KeyringBackend::Keyutils => platform::open_keyutils(),
    }
}

/// An entry of `store` for `service`/`username`. Items kstrun creates in the
/// Secret Service get the label Python's keyring gives its own, so a user
/// browsing the keyring sees one style whoever wrote the item.
pub(super) fn entry(
    store: &Arc<CredentialStore>,
    backend: KeyringBackend,
    service: &str,
    username: &str,
) -> keyring_core::Result<Entry> {
    match backend {
        KeyringBackend::SecretService => {
            let label = format!("Password for '{username}' on '{service}'");
            let modifiers = HashMap::from([("label", label.as_str())]);
            Entry::new_in_store_with_modifiers(store, service, username, &modifiers)
        }
        KeyringBackend::Keyutils => Entry::new_in_store(store, service, username),
    }
}

/// The `application` attribute Python's keyring gives the items it writes.
const PYTHON_APPLICATION: &str = "Python keyring library";

/// Stores `value` as the item of `service` and `username` in `store`. In the
/// Secret Service the item is tagged as Python's keyring tags its own (an
/// `application` attribute): Python replaces only an item whose attributes
/// all match, so without it a later `keyring.set_password` would add a
/// second item beside kstrun's, and the name would be ambiguous from then on.
pub(super) fn write(
    store: &Arc<CredentialStore>,
    backend: KeyringBackend,
    service: &str,
    username: &str,
    value: &[u8],
) -> keyring_core::Result<()> {
    let entry = entry(store, backend, service, username)?;
    entry.set_secret(value)?;
    match backend {
        KeyringBackend::SecretService => {
            entry.update_attributes(&HashMap::from([("application", PYTHON_APPLICATION)]))
        }
        KeyringBackend::Keyutils => Ok(()),
    }
}

/// The value of the item of `service` and `username` in `store`. The
/// kernel key store is read by [`super::keyutils`], which links nothing.
pub(super) fn read(
    store: &Arc<CredentialStore>,
    backend: KeyringBackend,
    service: &str,
    username: &str,
) -> keyring_core::Result<Vec<u8>> {
    match backend {
        #[cfg(target_os = "linux")]
        KeyringBackend::Keyutils => super::keyutils::read(service, username),
        _ => entry(store, backend, service, username)?.get_secret(),
    }
}

/// Classifies a store error, without ever formatting secret bytes.
pub(super) fn meaning(error: &Error) -> Meaning {
    Meaning::Failed(match error {
        Error::NoEntry => return Meaning::NoEntry,
        Error::NoStorageAccess(e) => {
            format!("the keyring is locked or access was denied: {e}")
        }
        Error::PlatformFailure(e) => format!("the store failed: {e}"),
        // These two carry the undecodable secret bytes: name them, no more.
        Error::BadEncoding(_) => "the stored value is not valid UTF-8".to_string(),
        Error::BadDataFormat(_, _) => "the stored value is malformed".to_string(),
        Error::Ambiguous(items) => format!(
            "{} items match this service and user name, and kstrun will not guess which is current (tools that tag items differently each add their own: Python's keyring adds an 'application' attribute, secret-tool does not); delete the stale ones",
            items.len()
        ),
        Error::BadStoreFormat(why) => format!("the store is malformed ({why})"),
        Error::TooLong(what, limit) => {
            format!("'{what}' is longer than the store's limit of {limit}")
        }
        Error::Invalid(what, why) => format!("invalid {what}: {why}"),
        Error::NoDefaultStore => "no store was opened".to_string(),
        Error::NotSupportedByStore(why) => format!("not supported by the store ({why})"),
        // keyring-core may add variants; unknown ones are failures, and are
        // not formatted in case they carry data.
        _ => "the store returned an unknown error".to_string(),
    })
}

#[cfg(target_os = "linux")]
mod platform {
    use super::{meaning, Meaning, OpenError};
    use keyring_core::{CredentialStore, Error};
    use std::sync::Arc;

    /// Connects to the Secret Service on the session bus. The store opens
    /// its D-Bus session (one `OpenSession`) here; every later lookup reuses it.
    pub(super) fn open_secret_service() -> Result<Arc<CredentialStore>, OpenError> {
        match zbus_secret_service_keyring_store::Store::new() {
            Ok(store) => Ok(store),
            Err(Error::PlatformFailure(e)) => {
                let service_error = e.downcast_ref::<secret_service::Error>();
                if service_error.is_some_and(no_secret_service_here) {
                    Err(OpenError::Unavailable(format!(
                        "no Secret Service reachable on the D-Bus session bus: {e}"
                    )))
                } else {
                    Err(OpenError::Failed(format!(
                        "the Secret Service refused a session: {e}{}",
                        if service_error.is_some_and(offers_no_encryption) {
                            " (kstrun asks for an encrypted session only, never 'plain')"
                        } else {
                            ""
                        }
                    )))
                }
            }
            Err(other) => Err(OpenError::Failed(match meaning(&other) {
                Meaning::Failed(why) => why,
                Meaning::NoEntry => "no Secret Service collection".to_string(),
            })),
        }
    }

    /// Whether a failure to open a session means there is no Secret Service
    /// to talk to: no bus (no address or a malformed one, an address nothing listens on or we
    /// may not connect to — a socket left by a bus that died, a bus of
    /// another user inherited through `sudo -E` — or a bus that refuses us
    /// at the handshake), or
    /// a bus on which no program owns the Secret Service's name nor can be
    /// started for it (activation failed). Anything
    /// else comes from a Secret Service that is there — access denied by
    /// the bus policy, no encryption it offers, a service that died while
    /// answering — and must stop the run, not fall through to a default.
    fn no_secret_service_here(error: &secret_service::Error) -> bool {
        const ABSENT: [&str; 3] = [
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "org.freedesktop.DBus.Error.NameHasNoOwner",
            "org.freedesktop.systemd1.NoSuchUnit",
        ];
        let absent = |name: &str| {
            ABSENT.contains(&name) || name.starts_with("org.freedesktop.DBus.Error.Spawn.")
        };
        let absent_fdo = |e: &zbus::fdo::Error| absent(zbus::DBusError::name(e).as_str());
        match error {
            secret_service::Error::Unavailable => true,
            secret_service::Error::Zbus(
                zbus::Error::InputOutput(_)
                | zbus::Error::Address(_)
                // A malformed `guid=` of the address, read before connecting.
                | zbus::Error::InvalidGUID
                | zbus::Error::Connection(_, _)
                | zbus::Error::Handshake(_),
            ) => true,
            secret_service::Error::Zbus(zbus::Error::MethodError(name, _, _)) => {
                absent(name.as_str())
            }
            secret_service::Error::Zbus(zbus::Error::FDO(e)) => absent_fdo(e),
            secret_service::Error::ZbusFdo(e) => absent_fdo(e),
            _ => false,
        }
    }

    /// Whether the service refused the encrypted session kstrun asks for.
    fn offers_no_encryption(error: &secret_service::Error) -> bool {
        match error {
            secret_service::Error::Zbus(zbus::Error::MethodError(name, _, _)) => {
                name.as_str() == "org.freedesktop.DBus.Error.NotSupported"
            }
            secret_service::Error::Zbus(zbus::Error::FDO(e)) => {
                matches!(**e, zbus::fdo::Error::NotSupported(_))
            }
            secret_service::Error::ZbusFdo(e) => matches!(e, zbus::fdo::Error::NotSupported(_)),
            _ => false,
        }
    }

    /// Opens the kernel key store, for the library's writes: keyring-rs's,
    /// refusing a service holding '@' (see `keyutils::read`). Creating it
    /// makes no system call, so the session keyring is probed: that fails
    /// where keyutils is blocked (container seccomp profiles often block it).
    pub(super) fn open_keyutils() -> Result<Arc<CredentialStore>, OpenError> {
        let configuration = std::collections::HashMap::from([("service_no_divider", "true")]);
        let store: Arc<CredentialStore> =
            match linux_keyutils_keyring_store::Store::new_with_configuration(&configuration) {
                Ok(store) => store,
                Err(e) => return Err(OpenError::Unavailable(format!("kernel keyutils: {e}"))),
            };
        match super::super::keyutils::probe() {
            Ok(()) => Ok(store),
            Err(e) => Err(OpenError::Unavailable(format!(
                "no kernel session keyring reachable: {e}"
            ))),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    //! Stand-ins where the Linux stores are not built: the tier is skipped.
    use super::OpenError;
    use keyring_core::CredentialStore;
    use std::sync::Arc;

    pub(super) fn open_secret_service() -> Result<Arc<CredentialStore>, OpenError> {
        Err(OpenError::Unavailable(
            "the Secret Service store is built on Linux only".to_string(),
        ))
    }

    pub(super) fn open_keyutils() -> Result<Arc<CredentialStore>, OpenError> {
        Err(OpenError::Unavailable(
            "the keyutils store is built on Linux only".to_string(),
        ))
    }
}
