//! The providers of the standard cascade, one per file (or folder).

mod env;
pub mod keyring;
mod overrides;
mod sops;

pub use env::{candidate_names, env_name, EnvProvider, EnvSettings};
pub use keyring::{KeyringBackend, KeyringProvider, KeyringSettings};
pub use overrides::OverridesProvider;
pub use sops::{SopsBackend, SopsProvider, SopsSettings};
