//! The overrides tier: `--set PATH=VALUE` values, asked before anything else.

use crate::secrets::{
    Lookup, Provider, SecretError, SecretRecord, SecretRequest, SecretSource, SecretValue,
};

/// Values given on the command line, by dotted path; a later one wins.
pub struct OverridesProvider {
    values: Vec<(String, SecretValue)>,
}

impl OverridesProvider {
    /// Overrides from `(dotted path, value)` pairs.
    pub fn new(values: Vec<(String, SecretValue)>) -> Self {
        OverridesProvider { values }
    }
}

impl Provider for OverridesProvider {
    fn source(&self) -> SecretSource {
        SecretSource::Override
    }

    fn lookup(&mut self, request: &SecretRequest) -> Result<Lookup, SecretError> {
        Ok(
            match self
                .values
                .iter()
                .rev()
                .find(|(path, _)| *path == request.name)
            {
                Some((_, value)) => Lookup::Found(
                    SecretRecord::new(SecretSource::Override, value.clone())
                        .with("option", "--set"),
                ),
                None => Lookup::Absent,
            },
        )
    }
}
