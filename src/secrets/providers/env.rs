//! The env tier: secrets from the parent's environment.
//!
//! A dotted path maps to an upper-case name (`.` and `-` become `_`); the
//! names tried are `{PREFIX}{SCOPE}_{NAME}` (with a scope), `{PREFIX}{NAME}`,
//! then `{NAME}`. A variable that is set but empty counts as found: an empty
//! value is a value, and silently passing to the keyring would surprise.

use crate::secrets::{
    Lookup, Provider, SecretError, SecretRecord, SecretRequest, SecretSource, SecretValue,
};
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Settings of the env tier.
#[derive(Debug, Clone)]
pub struct EnvSettings {
    /// Prefix tried first (default `KSTLIB_`).
    pub prefix: String,
}

impl Default for EnvSettings {
    fn default() -> Self {
        EnvSettings {
            prefix: "KSTLIB_".to_string(),
        }
    }
}

/// Where the env tier reads variables from.
enum Variables {
    /// The process environment, each value read when asked for (a batch
    /// also reads the names once; see `batch`).
    Process,
    /// A fixed set, for library users and tests.
    Fixed(HashMap<String, SecretValue>),
}

/// Reads secrets from environment variables.
pub struct EnvProvider {
    prefix: String,
    variables: Variables,
    /// During a batch, the names set in the process environment, sorted by
    /// their bytes. A name not among them is not asked for: with a thousand
    /// secrets, each asking two or three names, every ask was a scan of the
    /// whole environment under std's lock.
    batch_names: Option<Vec<OsString>>,
}

impl EnvProvider {
    /// Reads the process environment.
    pub fn new(settings: EnvSettings) -> Self {
        EnvProvider {
            prefix: settings.prefix,
            variables: Variables::Process,
            batch_names: None,
        }
    }

    /// Reads only `variables`, not the process environment.
    pub fn with_variables(settings: EnvSettings, variables: HashMap<String, SecretValue>) -> Self {
        EnvProvider {
            prefix: settings.prefix,
            variables: Variables::Fixed(variables),
            batch_names: None,
        }
    }

    fn get(&self, name: &str) -> Option<SecretValue> {
        match &self.variables {
            Variables::Process => {
                let absent = self.batch_names.as_ref().is_some_and(|names| {
                    names
                        .binary_search_by(|set| set.as_bytes().cmp(name.as_bytes()))
                        .is_err()
                });
                if absent {
                    return None;
                }
                std::env::var_os(name).map(|v| SecretValue::from_bytes(v.into_vec()))
            }
            Variables::Fixed(map) => map.get(name).cloned(),
        }
    }
}

/// The upper-case variable name for a dotted path or scope: `.` and `-` become `_`.
pub fn env_name(dotted: &str) -> String {
    let mut name = String::with_capacity(dotted.len());
    push_env_name(&mut name, dotted);
    name
}

fn push_env_name(out: &mut String, dotted: &str) {
    // In place on the copied text: no character-by-character re-encoding.
    let start = out.len();
    out.push_str(dotted);
    out[start..].make_ascii_uppercase();
    let mut from = start;
    while let Some(at) = memchr::memchr2(b'.', b'-', &out.as_bytes()[from..]) {
        out.replace_range(from + at..from + at + 1, "_");
        from += at + 1;
    }
}

/// The names tried for `request`, in order, without duplicates.
pub fn candidate_names(prefix: &str, request: &SecretRequest) -> Vec<String> {
    Candidates::new(prefix, request)
        .names()
        .map(str::to_string)
        .collect()
}

/// The names tried for one request, written once into the text a miss
/// reports (`A, B`): a lookup costs one allocation, found or not.
struct Candidates {
    text: String,
    spans: [std::ops::Range<usize>; 3],
    count: usize,
}

impl Candidates {
    fn new(prefix: &str, request: &SecretRequest) -> Candidates {
        let mut candidates = Candidates {
            text: String::with_capacity(3 * (prefix.len() + request.name.len()) + 16),
            spans: Default::default(),
            count: 0,
        };
        if let Some(scope) = &request.scope {
            candidates.push(|text| {
                text.push_str(prefix);
                push_env_name(text, scope);
                text.push('_');
                push_env_name(text, &request.name);
            });
        }
        candidates.push(|text| {
            text.push_str(prefix);
            push_env_name(text, &request.name);
        });
        candidates.push(|text| push_env_name(text, &request.name));
        candidates
    }

    /// Appends the name `write` writes, unless it repeats the one before.
    fn push(&mut self, write: impl FnOnce(&mut String)) {
        let mark = self.text.len();
        if self.count > 0 {
            self.text.push_str(", ");
        }
        let start = self.text.len();
        write(&mut self.text);
        let repeated = self.count > 0 && {
            let previous = &self.spans[self.count - 1];
            self.text[previous.clone()] == self.text[start..]
        };
        if repeated {
            self.text.truncate(mark);
        } else {
            self.spans[self.count] = start..self.text.len();
            self.count += 1;
        }
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.spans[..self.count]
            .iter()
            .map(|span| &self.text[span.clone()])
    }
}

impl Provider for EnvProvider {
    fn source(&self) -> SecretSource {
        SecretSource::Env
    }

    /// Within a batch the environment is taken as unchanging: its names are
    /// read once. std copies the values along with them; each copy is
    /// wiped at once, allocator or not (values are read again when asked for).
    fn batch(&mut self, active: bool) {
        let process = matches!(self.variables, Variables::Process);
        self.batch_names = (active && process).then(|| {
            let mut names: Vec<OsString> = std::env::vars_os()
                .map(|(name, value)| {
                    drop(SecretValue::from_bytes(value.into_vec()));
                    name
                })
                .collect();
            names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            names
        });
    }

    fn lookup(&mut self, request: &SecretRequest) -> Result<Lookup, SecretError> {
        let candidates = Candidates::new(&self.prefix, request);
        for name in candidates.names() {
            if let Some(value) = self.get(name) {
                return Ok(Lookup::Found(
                    SecretRecord::new(SecretSource::Env, value).with("env_name", name.to_string()),
                ));
            }
        }
        Ok(Lookup::Missing {
            tried: candidates.text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str, scope: Option<&str>) -> SecretRequest {
        let mut r = SecretRequest::new(name);
        r.scope = scope.map(str::to_string);
        r
    }

    #[test]
    fn names_follow_the_spec_order() {
        assert_eq!(
            candidate_names("KSTLIB_", &request("mail.smtp-pass", Some("prod"))),
            [
                "KSTLIB_PROD_MAIL_SMTP_PASS",
                "KSTLIB_MAIL_SMTP_PASS",
                "MAIL_SMTP_PASS"
            ]
        );
        assert_eq!(candidate_names("", &request("a.b", None)), ["A_B"]);
    }

    #[test]
    fn set_but_empty_counts_and_prefixed_wins() {
        let vars = HashMap::from([
            ("KSTLIB_DB_URL".to_string(), SecretValue::from("")),
            ("DB_URL".to_string(), SecretValue::from("plain")),
        ]);
        let mut p = EnvProvider::with_variables(EnvSettings::default(), vars);
        match p.lookup(&request("db.url", None)).unwrap() {
            Lookup::Found(r) => {
                assert!(r.value.is_empty());
                assert_eq!(r.meta("env_name"), Some("KSTLIB_DB_URL"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_batch_reads_the_names_once_and_a_lookup_outside_reads_them_again() {
        // Names of this test only, so that other tests never see them.
        let before = format!("KSTRUN_ENV_TIER_BEFORE_{}", std::process::id());
        let during = format!("KSTRUN_ENV_TIER_DURING_{}", std::process::id());
        std::env::set_var(&before, "set before the batch");
        let settings = EnvSettings {
            prefix: String::new(),
        };
        let mut p = EnvProvider::new(settings);
        let found = |p: &mut EnvProvider, name: &str| {
            matches!(p.lookup(&request(name, None)).unwrap(), Lookup::Found(_))
        };
        p.batch(true);
        std::env::set_var(&during, "set during the batch");
        assert!(found(&mut p, &before));
        assert!(
            !found(&mut p, &during),
            "the batch's names were read at its start"
        );
        p.batch(false);
        assert!(found(&mut p, &during));
        std::env::remove_var(&before);
        std::env::remove_var(&during);
    }
}
