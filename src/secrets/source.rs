//! `SecretSource`: the tiers of the cascade, by name.

use std::fmt;

/// Which tier answered (or may answer) a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SecretSource {
    /// `--set PATH=VALUE` on the command line; always asked first.
    Override,
    /// The parent's environment.
    Env,
    /// The OS credential store.
    Keyring,
    /// SOPS-encrypted files.
    Sops,
    /// The entry's `default`; always asked last.
    Default,
}

impl SecretSource {
    /// The tiers whose order a manifest may change (`[providers] order`).
    pub const REORDERABLE: [SecretSource; 3] =
        [SecretSource::Env, SecretSource::Keyring, SecretSource::Sops];

    /// The name used in manifests, messages and `check` output.
    pub fn name(self) -> &'static str {
        match self {
            SecretSource::Override => "override",
            SecretSource::Env => "env",
            SecretSource::Keyring => "keyring",
            SecretSource::Sops => "sops",
            SecretSource::Default => "default",
        }
    }

    /// Parses a reorderable tier name (`env`, `keyring`, `sops`).
    pub fn from_tier_name(name: &str) -> Option<SecretSource> {
        Self::REORDERABLE.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
