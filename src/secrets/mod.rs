//! The secrets library: a cascade of providers behind one resolver.
//!
//! ```text
//! overrides (--set) → env → keyring → sops → default
//! ```
//!
//! A [`SecretRequest`] names a dotted secret path; the [`SecretResolver`] asks
//! each [`Provider`] in turn and returns the first [`SecretRecord`]. Values
//! only ever live in [`SecretValue`], which wipes itself and never prints.
//! This module knows nothing of the CLI, the manifest or exec: the binary is
//! one user of it among others.
//!
//! ```no_run
//! use kstrun::secrets::{sensitive, ResolverSettings, SecretResolver};
//!
//! let mut resolver = SecretResolver::from_settings(ResolverSettings::default());
//! let record = resolver.resolve_secret("database.url")?;
//! let length = sensitive(record, |value| value.len());
//! # Ok::<(), kstrun::secrets::SecretError>(())
//! ```

mod error;
mod provider;
pub mod providers;
mod record;
mod request;
mod resolver;
mod settings;
mod source;
mod value;

pub use error::SecretError;
pub use provider::{Lookup, Provider, ProviderState, ProviderStatus};
pub use record::{MetaText, SecretRecord};
pub use request::{RequestMetadata, SecretRequest};
pub use resolver::SecretResolver;
pub use settings::ResolverSettings;
pub use source::SecretSource;
pub use value::SecretValue;

/// Runs `use_value` on the record's value, then wipes it, even if the closure panics.
pub fn sensitive<T>(record: SecretRecord, use_value: impl FnOnce(&SecretValue) -> T) -> T {
    // The record is owned here: whether `use_value` returns or unwinds, the
    // record is dropped, and `SecretValue`'s buffer zeroizes itself on drop.
    use_value(&record.value)
}
