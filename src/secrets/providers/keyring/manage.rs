//! Putting secrets into the keyring and taking them out, for Rust programs.
//!
//! kstlib's keyring provider has `store` and `delete` beside its lookups; these
//! are the same for Rust callers. They open the store for one call, under the
//! same deadline as lookups: a program that stores many secrets should keep a
//! [`KeyringProvider`] and call its methods, which reuse one connection.
//!
//! An item stored here is an ordinary Secret Service item with the `service`
//! and `username` attributes, so Python's `keyring.get_password(service,
//! username)` reads it back, and with the `application` attribute Python's
//! keyring adds, so that its `set_password` replaces it.

use super::store::{self as stores, Meaning};
use super::{KeyringBackend, KeyringProvider, KeyringSettings, PROVIDER};
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

impl KeyringProvider {
    /// Stores `value` under `username` in the configured service, replacing
    /// any value there. An unavailable store is an error here: the caller
    /// asked for this store.
    pub fn store(&mut self, username: &str, value: &SecretValue) -> Result<(), SecretError> {
        self.refuse_nul(username)?;
        let (backend, service, user) = self.job_names(username);
        let value = value.clone();
        let answer = self.call("storing", move |store| {
            stores::write(&store, backend, &service, &user, value.as_bytes())
                .map_err(|e| stores::meaning(&e))
        });
        match self.finish(username, answer)? {
            Ok(()) => Ok(()),
            Err(Meaning::NoEntry) => Err(self.error(username, "the store lost the new item")),
            Err(Meaning::Failed(why)) => Err(self.error(username, &why)),
        }
    }

    /// Deletes the item under `username`; `Ok(false)` when there was none.
    pub fn delete(&mut self, username: &str) -> Result<bool, SecretError> {
        self.refuse_nul(username)?;
        let (backend, service, user) = self.job_names(username);
        let answer = self.call("deleting", move |store| {
            stores::entry(&store, backend, &service, &user)
                .and_then(|entry| entry.delete_credential())
                .map_err(|e| stores::meaning(&e))
        });
        match self.finish(username, answer)? {
            Ok(()) => Ok(true),
            Err(Meaning::NoEntry) => Ok(false),
            Err(Meaning::Failed(why)) => Err(self.error(username, &why)),
        }
    }

    fn job_names(&self, username: &str) -> (KeyringBackend, String, String) {
        (
            self.settings.backend,
            self.settings.service.clone(),
            username.to_string(),
        )
    }

    /// Turns "skipped" and overruns into errors, for store and delete.
    fn finish<T>(&self, name: &str, answer: Result<Option<T>, String>) -> Result<T, SecretError> {
        match answer {
            Ok(Some(answer)) => Ok(answer),
            Ok(None) => Err(SecretError::provider(
                PROVIDER,
                name,
                format!(
                    "{}: unavailable: {}",
                    self.describe(),
                    self.unavailable_reason().unwrap_or_default()
                ),
            )),
            Err(why) => Err(SecretError::provider(PROVIDER, name, why)),
        }
    }
}
