//! The plan: what one run will resolve and hand to the child.
//!
//! A plan joins a checked manifest with the command-line options (`--set`,
//! `-s`, `--pass`, `--scope`) into the list of entries to resolve and the
//! settings of the cascade. It is plain data: resolving and exec happen later.

use crate::manifest::{
    check_dotted, is_variable_name, Delivery, Manifest, ManifestError, PassPattern,
};
use crate::secrets::providers::EnvSettings;
use crate::secrets::{RequestMetadata, ResolverSettings, SecretRequest, SecretValue};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// One secret to resolve and how to deliver it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Child variable name.
    pub var: String,
    /// What to ask the cascade.
    pub request: SecretRequest,
    /// How the value reaches the child.
    pub delivery: Delivery,
}

/// Options from the command line that shape the plan. `Debug` shows
/// `--set` paths, not values.
#[derive(Default)]
pub struct PlanOptions {
    /// `--scope`.
    pub scope: Option<String>,
    /// `--set PATH=VALUE`, raw.
    pub set: Vec<OsString>,
    /// `-s VAR=PATH`, raw.
    pub secret: Vec<String>,
    /// `--pass NAME`.
    pub pass: Vec<String>,
}

impl std::fmt::Debug for PlanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanOptions")
            .field("scope", &self.scope)
            .field("set", &crate::cli::SetsWithoutValues(&self.set))
            .field("secret", &self.secret)
            .field("pass", &self.pass)
            .finish()
    }
}

/// Everything one run needs.
#[derive(Debug)]
pub struct Plan {
    /// The manifest file, if any.
    pub manifest_file: Option<PathBuf>,
    /// Parent variables the child may see.
    pub pass: Vec<PassPattern>,
    /// Plain values for the child.
    pub env: Vec<(String, String)>,
    /// Secrets for the child, in manifest order.
    pub entries: Vec<Entry>,
    /// The manifest's default command.
    pub command: Option<Vec<String>>,
    /// Settings of the cascade.
    pub settings: ResolverSettings,
}

impl Plan {
    /// Joins `manifest` and `options`. Consumes the `--set` values into zeroizing buffers.
    pub fn build(manifest: Manifest, options: PlanOptions) -> Result<Plan, ManifestError> {
        let mut secrets = manifest.secrets;
        for (index, spec) in options.secret.iter().enumerate() {
            let (var, path) = parse_secret_option(index, spec)?;
            if manifest.env.iter().any(|(name, _)| name == var) {
                return Err(ManifestError::option(format!(
                    "-s {var}: '{var}' is already set in [env]"
                )));
            }
            let entry = crate::manifest::SecretEntry {
                var: var.to_string(),
                path: path.to_string(),
                key: None,
                sops: None,
                required: true,
                default: None,
                delivery: Delivery::Env,
                providers: None,
            };
            match secrets.iter_mut().find(|e| e.var == var) {
                Some(existing) => *existing = entry,
                None => secrets.push(entry),
            }
        }
        let mut pass = manifest.pass;
        for pattern in &options.pass {
            pass.push(
                PassPattern::parse(pattern)
                    .map_err(|m| ManifestError::option(format!("--pass: {m}")))?,
            );
        }
        let overrides = parse_overrides(options.set)?;
        let entries = secrets
            .into_iter()
            .map(|entry| Entry {
                request: SecretRequest {
                    name: entry.path,
                    scope: options.scope.clone(),
                    required: entry.required,
                    default: entry.default,
                    metadata: RequestMetadata {
                        path: entry.sops,
                        key_path: entry.key,
                        providers: entry.providers,
                        structured: entry.delivery == Delivery::Json,
                    },
                },
                var: entry.var,
                delivery: entry.delivery,
            })
            .collect();
        Ok(Plan {
            manifest_file: manifest.file,
            pass,
            env: manifest.env,
            entries,
            command: manifest.command,
            settings: ResolverSettings {
                order: manifest.order,
                overrides,
                env: EnvSettings {
                    prefix: manifest.env_prefix,
                },
                keyring: manifest.keyring,
                sops: manifest.sops,
            },
        })
    }
}

/// `-s VAR=PATH` → (var, path). `-s` is one letter from `--set`, so what
/// may be a value is never quoted: a spec without `=` or whose part before
/// the first `=` is not a variable name is shown only as its place among
/// the `-s` options, and a bad path (a second `=`, an empty segment) is
/// refused without showing it. A well-formed path is a path: a value typed
/// as one (`-s API_TOKEN=TEXT`) is looked up, and a miss names it.
fn parse_secret_option(index: usize, spec: &str) -> Result<(&str, &str), ManifestError> {
    const HINT: &str = "expected VAR=PATH; to give a value, use --set PATH=VALUE";
    let number = index + 1;
    let Some((var, path)) = spec.split_once('=') else {
        return Err(ManifestError::option(format!("-s number {number}: {HINT}")));
    };
    if !is_variable_name(var.as_bytes()) {
        return Err(ManifestError::option(format!(
            "-s number {number}: the part before '=' is not a variable name ([A-Za-z_][A-Za-z0-9_]*); {HINT}"
        )));
    }
    if path.contains('=') {
        return Err(ManifestError::option(format!(
            "-s {var}: the path contains '='; {HINT}"
        )));
    }
    // check_dotted's own message quotes the path: say the same without it.
    check_dotted(path).map_err(|_| {
        ManifestError::option(format!(
            "-s {var}: the path is empty or has an empty segment; {HINT}"
        ))
    })?;
    Ok((var, path))
}

/// `--set PATH=VALUE` → (path, value). The error names the option, never the value.
fn parse_overrides(set: Vec<OsString>) -> Result<Vec<(String, SecretValue)>, ManifestError> {
    let mut overrides = Vec::with_capacity(set.len());
    for (index, raw) in set.into_iter().enumerate() {
        let bytes = SecretValue::from_bytes(raw.into_vec());
        let position = bytes.as_bytes().iter().position(|&b| b == b'=');
        let Some(equals) = position else {
            return Err(ManifestError::option(format!(
                "--set number {}: expected PATH=VALUE",
                index + 1
            )));
        };
        let path = std::str::from_utf8(&bytes.as_bytes()[..equals]).map_err(|_| {
            ManifestError::option(format!("--set number {}: the path is not UTF-8", index + 1))
        })?;
        check_dotted(path)
            .map_err(|m| ManifestError::option(format!("--set number {}: path {m}", index + 1)))?;
        overrides.push((
            path.to_string(),
            SecretValue::copy_from(&bytes.as_bytes()[equals + 1..]),
        ));
    }
    Ok(overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_set_value_or_a_default() {
        use clap::Parser;
        let cli = crate::cli::Cli::parse_from([
            "kstrun",
            "--set",
            "db.password=hunter2-set",
            "--set",
            "hunter2-alone",
            "--",
            "true",
        ]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kstrun.toml");
        let text = "[secrets]\nA = { path = \"a\", default = \"hunter2-default\" }\n";
        std::fs::write(&file, text).unwrap();
        let manifest = Manifest::load(&file, None).unwrap();
        let options = PlanOptions {
            set: cli.global.set.clone(),
            ..PlanOptions::default()
        };
        let shown = [
            format!("{cli:?}"),
            format!("{cli:#?}"),
            format!("{manifest:?}"),
            format!("{options:#?}"),
        ];
        for text in &shown {
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert!(shown[0].contains("db.password=…"), "{}", shown[0]);
    }

    #[test]
    fn set_errors_never_show_the_value() {
        let error = parse_overrides(vec!["nodelimiter-hunter2".into()]).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let error = parse_overrides(vec!["a..b=hunter2".into()]).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn secret_option_errors_never_show_what_may_be_a_value() {
        // `-s` typed for `--set`, with and without a variable in front.
        for spec in [
            "db.password=hunter2",
            "hunter2",
            "DB=db.password=hunter2",
            "9=hunter2",
        ] {
            let error = parse_secret_option(0, spec).unwrap_err().to_string();
            assert!(!error.contains("hunter2"), "{spec}: {error}");
            assert!(error.contains("--set PATH=VALUE"), "{spec}: {error}");
        }
        let error = parse_secret_option(2, "db.password=x")
            .unwrap_err()
            .to_string();
        assert!(error.contains("-s number 3"), "{error}");
        for spec in ["DB=hunter2.", "DB=a..hunter2", "DB="] {
            let error = parse_secret_option(0, spec).unwrap_err().to_string();
            assert!(
                error.contains("-s DB: the path is empty or has an empty segment"),
                "{error}"
            );
            assert!(!error.contains("hunter2"), "{error}");
        }
        assert_eq!(
            parse_secret_option(0, "DB=db.url").unwrap(),
            ("DB", "db.url")
        );
    }

    #[test]
    fn set_splits_on_the_first_equals() {
        let parsed = parse_overrides(vec!["db.url=a=b".into()]).unwrap();
        assert_eq!(parsed[0].0, "db.url");
        assert_eq!(parsed[0].1.as_bytes(), b"a=b");
    }
}
