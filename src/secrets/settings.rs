//! `ResolverSettings`: everything needed to build the standard cascade.
//!
//! The CLI fills this from the manifest (and kstlib config); a library user
//! may fill it by hand. Paths in it are already absolute or relative to the
//! working directory: resolving them against a manifest is the manifest's job.

use super::providers::{
    EnvProvider, EnvSettings, KeyringProvider, KeyringSettings, OverridesProvider, SopsProvider,
    SopsSettings,
};
use super::{Provider, SecretError, SecretSource, SecretValue};

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
    /// Settings filled by hand that would not build the cascade they
    /// describe: a tier that is not a middle one in `order`, or one named
    /// twice; an empty keyring service, one holding a NUL byte, or one
    /// holding `@` with keyutils (its descriptions would be ambiguous; the
    /// lookup refuses it too); a keyring timeout of zero.
    pub fn check(&self) -> Result<(), SecretError> {
        let config = |why: String| Err(SecretError::Config(why));
        for (index, tier) in self.order.iter().enumerate() {
            if !SecretSource::REORDERABLE.contains(tier) {
                return config(format!(
                    "order: '{tier}' is not a tier that can be ordered (env, keyring, sops)"
                ));
            }
            if self.order[..index].contains(tier) {
                return config(format!("order: '{tier}' is named twice"));
            }
        }
        let service = &self.keyring.service;
        if service.is_empty() {
            return config("keyring service: may not be empty".to_string());
        }
        if service.contains('\0') {
            return config("keyring service: may not hold a NUL byte".to_string());
        }
        if self.keyring.timeout.is_zero() {
            return config("keyring timeout: may not be zero".to_string());
        }
        if !self.keyring.backend.accepts_service(service) {
            return config(format!(
                "keyring service '{service}': may not hold '@' with keyutils"
            ));
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::providers::KeyringBackend;

    fn changed(change: impl FnOnce(&mut ResolverSettings)) -> ResolverSettings {
        let mut settings = ResolverSettings::default();
        change(&mut settings);
        settings
    }

    #[test]
    fn check_refuses_what_the_manifest_refuses() {
        assert!(ResolverSettings::default().check().is_ok());
        let refused = |settings: ResolverSettings| match settings.check() {
            Err(SecretError::Config(why)) => why,
            other => panic!("{other:?}"),
        };
        let twice = changed(|s| s.order = vec![SecretSource::Env, SecretSource::Env]);
        assert!(refused(twice).contains("named twice"));
        let default = changed(|s| s.order = vec![SecretSource::Default]);
        assert!(refused(default).contains("not a tier"));
        let empty = changed(|s| s.keyring.service = String::new());
        assert!(refused(empty).contains("may not be empty"));
        let at = changed(|s| s.keyring.service = "b@c".to_string());
        assert!(at.check().is_ok(), "'@' is fine with the Secret Service");
        let at = changed(|s| {
            s.keyring.service = "b@c".to_string();
            s.keyring.backend = KeyringBackend::Keyutils;
        });
        assert!(refused(at).contains("'@'"));
        let nul = changed(|s| s.keyring.service = "a\0b".to_string());
        assert!(refused(nul).contains("NUL byte"));
        let zero = changed(|s| s.keyring.timeout = std::time::Duration::ZERO);
        assert!(refused(zero).contains("may not be zero"));
    }
}
