//! The `Provider` trait: one tier of the cascade.
//!
//! A provider answers one of three ways, and the difference matters: `Found`
//! ends the cascade, `Missing` (or `Absent`, which puts what was tried into
//! words only when asked) passes to the next tier, and an `Err` stops the
//! run. A provider that *cannot* answer at all (no session bus, no implicit
//! SOPS file) says `Skipped` and is passed over, but the reason is kept for
//! `-v` and `check`. Providers take `&mut self` so they can connect lazily and
//! cache (one keyring connection, one decrypt per file).

use super::{SecretError, SecretRecord, SecretRequest, SecretSource};
use std::sync::Arc;

/// The answer of one provider to one request. Non-exhaustive: a match on it
/// outside this crate keeps a catch-all arm, so a new kind of answer is not
/// a breaking change.
#[derive(Debug)]
#[non_exhaustive]
pub enum Lookup {
    /// The provider has the secret.
    Found(SecretRecord),
    /// The provider has no such secret; `tried` says what it looked at
    /// (empty when not worth reporting).
    Missing {
        /// What was looked up, e.g. `KSTLIB_DB_URL, DB_URL`.
        tried: String,
    },
    /// The provider has no such secret, and says what it looked at only when
    /// asked ([`Provider::tried`]): the words are wanted only when no tier has
    /// the secret, and a thousand secrets found in a later tier would
    /// otherwise each build them for nothing.
    Absent,
    /// The provider cannot answer here (store unavailable, no file).
    Skipped {
        /// Why, in words. Shared, not copied: a tier that cannot answer says
        /// the same thing for every secret of a run.
        reason: Arc<str>,
    },
}

/// One tier of the cascade.
pub trait Provider: Send {
    /// Which tier this is.
    fn source(&self) -> SecretSource;

    /// Looks `request` up. `Err` means the provider failed; it never falls through.
    fn lookup(&mut self, request: &SecretRequest) -> Result<Lookup, SecretError>;

    /// A batch of lookups begins (`true`) or ends (`false`); see
    /// [`SecretResolver::resolve_all`](super::SecretResolver::resolve_all).
    /// Within a batch a provider may treat its sources as unchanging: the
    /// sops tier reads each file's version once, so all the secrets of one
    /// batch come from one version of each file (and a thousand secrets cost
    /// one `stat`, not a thousand).
    fn batch(&mut self, _active: bool) {}

    /// What a lookup of `request` that answered [`Lookup::Absent`] looked at,
    /// in the words of `Missing`'s `tried` (empty when not worth reporting).
    fn tried(&mut self, _request: &SecretRequest) -> String {
        String::new()
    }

    /// Things the user should fix that the lookups so far came across (a key
    /// file readable by others), for `run` and `export` to print as warnings.
    /// Does no work of its own: what no lookup touched is `check`'s business.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// The provider's state for `check` and `-v`. May connect.
    fn status(&mut self) -> ProviderStatus {
        ProviderStatus::ready(self.source())
    }
}

/// How a provider stands, for `check`: no values, only facts.
#[derive(Debug, Clone)]
pub struct ProviderStatus {
    /// The tier.
    pub source: SecretSource,
    /// Ready, skipped or failing.
    pub state: ProviderState,
    /// Facts worth showing: backend, files, identity sources, service.
    pub details: Vec<String>,
    /// Things the user should fix (key file permissions, ...).
    pub warnings: Vec<String>,
}

/// The coarse state of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderState {
    /// Usable.
    Ready,
    /// Passed over, with the reason.
    Skipped(String),
    /// Unusable: lookups reaching it will fail, with the reason.
    Failed(String),
}

impl ProviderStatus {
    /// A ready provider with nothing to add.
    pub fn ready(source: SecretSource) -> Self {
        ProviderStatus {
            source,
            state: ProviderState::Ready,
            details: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

impl ProviderState {
    /// One word for tables and JSON.
    pub fn label(&self) -> &'static str {
        match self {
            ProviderState::Ready => "ready",
            ProviderState::Skipped(_) => "skipped",
            ProviderState::Failed(_) => "failed",
        }
    }

    /// The reason, when there is one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ProviderState::Ready => None,
            ProviderState::Skipped(r) | ProviderState::Failed(r) => Some(r),
        }
    }
}
