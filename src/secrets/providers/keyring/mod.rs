//! The keyring tier: secrets from the OS credential store.
//!
//! Items are found by a service name (default `kstlib`) and a user name, the
//! dotted secret path; with a scope, `SCOPE:path` is tried before `path`. On
//! Linux that is the Secret Service's `service`/`username` attribute pair, the
//! pair Python's `keyring` writes, so `keyring.set_password("kstlib",
//! "api.stripe_key", ...)` is found as `api.stripe_key`. The kernel key store
//! (`backend = "keyutils"`) holds them under `keyring:{user}@{service}`.
//!
//! The shape follows from how stores fail:
//! * The store is opened lazily, on the first lookup that reaches this tier,
//!   and reused for every later one: one D-Bus session per run, none when env
//!   or overrides answered everything. A session bus socket that is not
//!   there at all is seen with one `stat`, without connecting ([`session_bus`]).
//! * "Not there" (no entry) passes to the next tier; "no store here" (no
//!   session bus, no Secret Service) skips the tier with a reason for `-v` and
//!   `check`; "the store refuses" (locked, denied, no answer) is an error
//!   naming the service, because falling through to a default would hide it.
//! * Every store call runs under a deadline ([`deadline`]): a locked collection
//!   with nobody to answer its prompt blocks for ~25 s inside the D-Bus call.
//!   After one overrun the tier gives up for the rest of the run, so ten
//!   secrets cost one timeout, not ten.
//!
//! Values come back as [`SecretValue`] and error texts never hold them.

mod deadline;
#[cfg(target_os = "linux")]
mod keyutils;
mod manage;
#[cfg(target_os = "linux")]
mod session_bus;
mod status;
mod store;

pub use manage::{delete, store};

use crate::secrets::{
    Lookup, Provider, ProviderStatus, SecretError, SecretRecord, SecretRequest, SecretSource,
    SecretValue,
};
use deadline::{run_with_deadline, Overrun};
use keyring_core::CredentialStore;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use store::{Meaning, OpenError};

/// The provider name used in errors.
const PROVIDER: &str = "keyring";

/// Which credential store to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringBackend {
    /// The Secret Service over D-Bus (Linux default): gnome-keyring, KeePassXC,
    /// KWallet's bridge. Pure Rust, no libdbus.
    SecretService,
    /// The Linux kernel key retention service (session keyring).
    Keyutils,
}

impl KeyringBackend {
    /// Every backend, for help texts and validation.
    pub const ALL: [KeyringBackend; 2] = [KeyringBackend::SecretService, KeyringBackend::Keyutils];

    /// The name used in manifests and messages (`secret-service`, `keyutils`).
    pub fn name(self) -> &'static str {
        match self {
            KeyringBackend::SecretService => "secret-service",
            KeyringBackend::Keyutils => "keyutils",
        }
    }

    /// Parses a manifest name.
    pub fn from_name(name: &str) -> Option<KeyringBackend> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Whether this store can tell `service`'s items from another's:
    /// keyutils describes an item as `keyring:USER@SERVICE`, so with '@' in
    /// the service `keyring:a@b@c` would be both user `a@b` of service `c`
    /// and user `a` of service `b@c`.
    pub fn accepts_service(self, service: &str) -> bool {
        self != KeyringBackend::Keyutils || !service.contains('@')
    }
}

impl fmt::Display for KeyringBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Settings of the keyring tier.
#[derive(Debug, Clone)]
pub struct KeyringSettings {
    /// Service name (default `kstlib`, as kstlib's keyring provider).
    pub service: String,
    /// Store to use.
    pub backend: KeyringBackend,
    /// Deadline for every call to the store (default 3000 ms).
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

/// The user names tried for `request`, in order: `SCOPE:path` (with a scope),
/// then `path`.
pub fn candidate_usernames(request: &SecretRequest) -> Vec<String> {
    let mut names = Vec::with_capacity(2);
    if let Some(scope) = &request.scope {
        names.push(format!("{scope}:{}", request.name));
    }
    names.push(request.name.clone());
    names
}

/// Where the connection stands. Opened at most once per provider.
enum Connection {
    /// Not asked for yet.
    Closed,
    /// Open; shared with the call threads.
    Open(Arc<CredentialStore>),
    /// No store here: the tier is skipped, with this reason.
    Unavailable(Arc<str>),
    /// Unusable for the rest of the run (failed to open, or a call overran).
    Failed(String),
}

/// The keyring tier. Connects on first use; see the module docs.
pub struct KeyringProvider {
    settings: KeyringSettings,
    connection: Connection,
}

impl fmt::Debug for KeyringProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let connection = match &self.connection {
            Connection::Closed => "closed",
            Connection::Open(_) => "open",
            Connection::Unavailable(_) => "unavailable",
            Connection::Failed(_) => "failed",
        };
        f.debug_struct("KeyringProvider")
            .field("settings", &self.settings)
            .field("connection", &connection)
            .finish()
    }
}

/// What one lookup job found, on its thread.
enum Answer {
    Found {
        username: String,
        value: SecretValue,
    },
    Missing,
    Failed(String),
}

impl KeyringProvider {
    /// A provider that connects lazily.
    pub fn new(settings: KeyringSettings) -> Self {
        KeyringProvider {
            settings,
            connection: Connection::Closed,
        }
    }

    /// The settings this provider was built with.
    pub fn settings(&self) -> &KeyringSettings {
        &self.settings
    }

    /// `service 'kstlib' (secret-service)`, the prefix of every reason.
    fn describe(&self) -> String {
        format!(
            "service '{}' ({})",
            self.settings.service, self.settings.backend
        )
    }

    fn timeout_reason(&self, doing: &str) -> String {
        format!(
            "{}: no answer within {} ms while {doing} (a locked keyring waiting for an unlock prompt?)",
            self.describe(),
            self.settings.timeout.as_millis()
        )
    }

    /// Opens the store if nothing was tried yet; returns the current state.
    fn connect(&mut self) -> &Connection {
        if let Connection::Closed = self.connection {
            let backend = self.settings.backend;
            #[cfg(target_os = "linux")]
            if backend == KeyringBackend::SecretService {
                match session_bus::look() {
                    session_bus::SessionBus::Missing(socket) => {
                        self.connection = Connection::Unavailable(
                            format!(
                                "no Secret Service reachable: no D-Bus session bus at {}",
                                socket.display()
                            )
                            .into(),
                        );
                        return &self.connection;
                    }
                    session_bus::SessionBus::List => {
                        self.connection = Connection::Failed(format!(
                            "{}: DBUS_SESSION_BUS_ADDRESS holds a list of addresses (or ends with ';'), and the D-Bus library kstrun uses connects to a single address only; set it to the session bus's one address",
                            self.describe()
                        ));
                        return &self.connection;
                    }
                    session_bus::SessionBus::Unknown => {}
                }
            }
            self.connection =
                match run_with_deadline(self.settings.timeout, move || store::open(backend)) {
                    Ok(Ok(store)) => Connection::Open(store),
                    Ok(Err(OpenError::Unavailable(why))) => Connection::Unavailable(why.into()),
                    Ok(Err(OpenError::Failed(why))) => {
                        Connection::Failed(format!("{}: {why}", self.describe()))
                    }
                    Err(Overrun::TimedOut) => Connection::Failed(self.timeout_reason("connecting")),
                    Err(Overrun::Lost(why)) => {
                        Connection::Failed(format!("{}: {why}", self.describe()))
                    }
                };
        }
        &self.connection
    }

    /// Runs `call` on the open store under the deadline. `Ok(None)`: no store
    /// here (skip). After an overrun the provider stops calling the store.
    fn call<T, F>(&mut self, doing: &str, call: F) -> Result<Option<T>, String>
    where
        T: Send + 'static,
        F: FnOnce(Arc<CredentialStore>) -> T + Send + 'static,
    {
        let store = match self.connect() {
            Connection::Open(store) => Arc::clone(store),
            Connection::Unavailable(_) => return Ok(None),
            Connection::Failed(why) => return Err(why.clone()),
            Connection::Closed => return Err(format!("{}: not connected", self.describe())),
        };
        match run_with_deadline(self.settings.timeout, move || call(store)) {
            Ok(answer) => Ok(Some(answer)),
            Err(overrun) => {
                let why = match overrun {
                    Overrun::TimedOut => self.timeout_reason(doing),
                    Overrun::Lost(why) => format!("{}: {why}", self.describe()),
                };
                // The stuck call may hold the store's lock: asking again would
                // only wait again. Later calls fail at once with this reason.
                self.connection = Connection::Failed(format!("{why}; not asked again in this run"));
                Err(why)
            }
        }
    }

    /// Why the tier is skipped, when it is (after trying to connect).
    fn unavailable_reason(&self) -> Option<Arc<str>> {
        match &self.connection {
            Connection::Unavailable(why) => Some(why.clone()),
            _ => None,
        }
    }

    fn error(&self, name: &str, why: &str) -> SecretError {
        SecretError::provider(PROVIDER, name, format!("{}: {why}", self.describe()))
    }

    /// Refuses a name the store cannot take before it is sent: a NUL byte
    /// ends a D-Bus string, and a bus that receives one drops the
    /// connection, failing every later lookup of the run with it.
    fn refuse_nul(&self, name: &str) -> Result<(), SecretError> {
        if name.contains('\0') || self.settings.service.contains('\0') {
            return Err(self.error(name, "a service or user name cannot hold a NUL byte"));
        }
        Ok(())
    }
}

impl Provider for KeyringProvider {
    fn source(&self) -> SecretSource {
        SecretSource::Keyring
    }

    fn lookup(&mut self, request: &SecretRequest) -> Result<Lookup, SecretError> {
        self.refuse_nul(&request.name)?;
        if let Connection::Unavailable(why) = self.connect() {
            return Ok(Lookup::Skipped {
                reason: why.clone(),
            });
        }
        let usernames = candidate_usernames(request);
        let backend = self.settings.backend;
        let service = self.settings.service.clone();
        let answer = self.call("reading", move |store| {
            for username in usernames {
                let got = store::read(&store, backend, &service, &username);
                match got {
                    // Wrapped on this thread: a late answer is wiped when dropped.
                    Ok(bytes) => {
                        return Answer::Found {
                            username,
                            value: SecretValue::from_bytes(bytes),
                        }
                    }
                    Err(e) => match store::meaning(&e) {
                        Meaning::NoEntry => continue,
                        Meaning::Failed(why) => return Answer::Failed(why),
                    },
                }
            }
            Answer::Missing
        });
        match answer {
            Err(why) => Err(SecretError::provider(PROVIDER, &request.name, why)),
            Ok(None) => Ok(Lookup::Skipped {
                reason: self.unavailable_reason().unwrap_or_default(),
            }),
            Ok(Some(Answer::Missing)) => Ok(Lookup::Missing {
                tried: format!(
                    "service '{}' user {}",
                    self.settings.service,
                    candidate_usernames(request).join(", ")
                ),
            }),
            Ok(Some(Answer::Failed(why))) => Err(self.error(&request.name, &why)),
            Ok(Some(Answer::Found { username, value })) => Ok(Lookup::Found(
                SecretRecord::new(SecretSource::Keyring, value)
                    .with("service", self.settings.service.clone())
                    .with("username", username)
                    .with("backend", self.settings.backend.name()),
            )),
        }
    }

    fn status(&mut self) -> ProviderStatus {
        status::report(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_user_name_comes_first() {
        let mut request = SecretRequest::new("api.stripe_key");
        assert_eq!(candidate_usernames(&request), ["api.stripe_key"]);
        request.scope = Some("prod".into());
        assert_eq!(
            candidate_usernames(&request),
            ["prod:api.stripe_key", "api.stripe_key"]
        );
    }

    #[test]
    fn backend_names_round_trip() {
        for backend in KeyringBackend::ALL {
            assert_eq!(KeyringBackend::from_name(backend.name()), Some(backend));
        }
        assert_eq!(KeyringBackend::from_name("gnome"), None);
    }

    #[test]
    fn errors_carrying_data_never_show_it() {
        let bad = keyring_core::Error::BadEncoding(b"hunter2".to_vec());
        match store::meaning(&bad) {
            Meaning::Failed(why) => assert!(!why.contains("hunter2"), "{why}"),
            Meaning::NoEntry => panic!("not a missing entry"),
        }
        assert!(matches!(
            store::meaning(&keyring_core::Error::NoEntry),
            Meaning::NoEntry
        ));
    }

    #[test]
    fn nothing_is_opened_before_a_lookup() {
        let provider = KeyringProvider::new(KeyringSettings::default());
        assert!(matches!(provider.connection, Connection::Closed));
        assert!(format!("{provider:?}").contains("closed"));
    }
}
