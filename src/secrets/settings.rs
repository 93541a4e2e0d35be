//! `ResolverSettings`: everything needed to build the standard cascade.
//!
//! The CLI fills this from the manifest (and kstlib config); a library user
//! may fill it by hand. Paths in it are already absolute or relative to the
//! working directory: resolving them against a manifest is the manifest's job.

use super::providers::{
    EnvProvider, EnvSettings, KeyringProvider, KeyringSettings, OverridesProvider, SopsProvider,
    SopsSettings,
};
use super::{Provider, SecretSource, SecretValue};

/// Settings of the standard cascade.
#[derive(Debug, Clone)]
pub struct ResolverSettings {
    /// Order of the middle tiers; a tier left out is not asked.
    pub order: Vec<SecretSource>,
    /// `--set` values by dotted path, asked first.
    pub overrides: Vec<(String, SecretValue)>,
    /// The env tier.
    pub env: EnvSettings,
    /// The keyring tier.
    pub keyring: KeyringSettings,
    /// The sops tier.
    pub sops: SopsSettings,
}

impl Default for ResolverSettings {
    fn default() -> Self {
        ResolverSettings {
            order: SecretSource::REORDERABLE.to_vec(),
            overrides: Vec::new(),
            env: EnvSettings::default(),
            keyring: KeyringSettings::default(),
            sops: SopsSettings::default(),
        }
    }
}

impl ResolverSettings {
    /// The providers of the cascade, in order (the default tier is the resolver's).
    pub fn into_providers(self) -> Vec<Box<dyn Provider>> {
        let mut providers: Vec<Box<dyn Provider>> =
            vec![Box::new(OverridesProvider::new(self.overrides))];
        for tier in self.order {
            match tier {
                SecretSource::Env => providers.push(Box::new(EnvProvider::new(self.env.clone()))),
                SecretSource::Keyring => {
                    providers.push(Box::new(KeyringProvider::new(self.keyring.clone())))
                }
                SecretSource::Sops => {
                    providers.push(Box::new(SopsProvider::new(self.sops.clone())))
                }
                SecretSource::Override | SecretSource::Default => {}
            }
        }
        providers
    }
}
