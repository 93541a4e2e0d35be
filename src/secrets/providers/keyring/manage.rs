//! Putting secrets into the keyring and taking them out, for Rust programs.
//!
//! kstlib's keyring provider has `store` and `delete` beside its lookups; these
//! are the same for Rust callers. They open the store for one call, under the
//! same deadline as lookups: a program that stores many secrets should keep a
//! [`KeyringProvider`] and call its methods, which reuse one connection.
//!
//! An item stored here is an ordinary Secret Service item with the `service`
//! and `username` attributes, so Python's `keyring.get_password(service,
//! username)` reads it back.

use super::{KeyringProvider, KeyringSettings};
use crate::secrets::{SecretError, SecretValue};

/// Stores `value` for `username` (a dotted path, or `SCOPE:path`) under
/// `settings.service`, replacing what was there.
///
/// ```no_run
/// use kstrun::secrets::providers::{keyring, KeyringSettings};
/// use kstrun::secrets::SecretValue;
///
/// keyring::store(&KeyringSettings::default(), "api.stripe_key", &SecretValue::from("sk_test"))?;
/// # Ok::<(), kstrun::secrets::SecretError>(())
/// ```
pub fn store(
    settings: &KeyringSettings,
    username: &str,
    value: &SecretValue,
) -> Result<(), SecretError> {
    KeyringProvider::new(settings.clone()).store(username, value)
}

/// Deletes the item of `username` under `settings.service`. `Ok(false)` when
/// there was no such item.
pub fn delete(settings: &KeyringSettings, username: &str) -> Result<bool, SecretError> {
    KeyringProvider::new(settings.clone()).delete(username)
}
