//! The env tier: secrets from the parent's environment.
//!
//! A dotted path maps to an upper-case name (`.` and `-` become `_`); the
//! names tried are `{PREFIX}{SCOPE}_{NAME}` (with a scope), `{PREFIX}{NAME}`,
//! then `{NAME}`. A variable that is set but empty counts as found: an empty
//! value is a value, and silently passing to the keyring would surprise.

use crate::hash::fnv1a;
use crate::secrets::{
    Lookup, Provider, SecretError, SecretRecord, SecretRequest, SecretSource, SecretValue,
};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
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
    /// During a batch, the names set in the process environment by their
    /// hash (`crate::hash`), sorted. A name not among them is not asked for:
    /// with a thousand secrets, each asking two or three names, every ask was
    /// a scan of the whole environment under std's lock.
    batch_names: Option<Vec<(u64, OsString)>>,
    /// The names the last lookup tried; its room is reused.
    candidates: Candidates,
}

impl EnvProvider {
    /// Reads the process environment.
    pub fn new(settings: EnvSettings) -> Self {
        EnvProvider {
            prefix: settings.prefix,
            variables: Variables::Process,
            batch_names: None,
            candidates: Candidates::default(),
        }
    }

    /// Reads only `variables`, not the process environment.
    pub fn with_variables(settings: EnvSettings, variables: HashMap<String, SecretValue>) -> Self {
        EnvProvider {
            prefix: settings.prefix,
            variables: Variables::Fixed(variables),
            batch_names: None,
            candidates: Candidates::default(),
        }
    }

    fn get(&self, name: &[u8]) -> Option<SecretValue> {
        match &self.variables {
            Variables::Process => {
                let absent = self.batch_names.as_ref().is_some_and(|names| {
                    let hash = fnv1a(name);
                    let first = names.partition_point(|(h, _)| *h < hash);
                    !names[first..]
                        .iter()
                        .take_while(|(h, _)| *h == hash)
                        .any(|(_, set)| set.as_bytes() == name)
                });
                // No variable's name holds `=` or NUL, and glibc's
                // getenv("A=B") answers with the part of A's value after
                // "B=" (checked past the batch's names, which hold neither).
                if absent || name.iter().any(|&b| b == b'=' || b == 0) {
                    return None;
                }
                std::env::var_os(OsStr::from_bytes(name))
                    .map(|v| SecretValue::from_bytes(v.into_vec()))
            }
            Variables::Fixed(map) => std::str::from_utf8(name)
                .ok()
                .and_then(|name| map.get(name))
                .cloned(),
        }
    }
}

/// The upper-case variable name for a dotted path or scope: `.` and `-` become `_`.
pub fn env_name(dotted: &str) -> String {
    let mut name = Vec::with_capacity(dotted.len());
    push_env_name(&mut name, dotted);
    text(name)
}

/// Appends the variable name of `dotted`, one byte for one: only ASCII bytes
/// change and they stay ASCII, so UTF-8 text stays UTF-8. Copied, then
/// mapped in place: a loop the compiler turns into vector code.
fn push_env_name(out: &mut Vec<u8>, dotted: &str) {
    let start = out.len();
    out.extend_from_slice(dotted.as_bytes());
    for byte in &mut out[start..] {
        *byte = match *byte {
            b'.' | b'-' => b'_',
            b => b.to_ascii_uppercase(),
        };
    }
}

/// Text made of names built by `push_env_name` from `str`s. It is always
/// UTF-8 (see there); the lossy branch only keeps this function free of a
/// panic path.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The names tried for `request`, in order, without duplicates.
pub fn candidate_names(prefix: &str, request: &SecretRequest) -> Vec<String> {
    let mut candidates = Candidates::default();
    candidates.fill(prefix, request);
    candidates.names().map(|name| text(name.to_vec())).collect()
}

/// The names tried for one request, in one buffer the provider keeps from
/// one lookup to the next: a lookup allocates nothing unless it finds the
/// secret (a miss is put into words by `tried`, only when asked).
#[derive(Default)]
struct Candidates {
    text: Vec<u8>,
    spans: [std::ops::Range<usize>; 3],
    count: usize,
}

impl Candidates {
    /// Replaces the names with those of `request`.
    fn fill(&mut self, prefix: &str, request: &SecretRequest) {
        self.text.clear();
        self.count = 0;
        if let Some(scope) = &request.scope {
            self.push(|text| {
                text.extend_from_slice(prefix.as_bytes());
                push_env_name(text, scope);
                text.push(b'_');
                push_env_name(text, &request.name);
            });
        }
        self.push(|text| {
            text.extend_from_slice(prefix.as_bytes());
            push_env_name(text, &request.name);
        });
        self.push(|text| push_env_name(text, &request.name));
    }

    /// Appends the name `write` writes, unless it repeats the one before.
    fn push(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.text.len();
        write(&mut self.text);
        let repeated = self.count > 0 && {
            let previous = &self.spans[self.count - 1];
            self.text[previous.clone()] == self.text[start..]
        };
        if repeated {
            self.text.truncate(start);
        } else {
            self.spans[self.count] = start..self.text.len();
            self.count += 1;
        }
    }

    fn names(&self) -> impl Iterator<Item = &[u8]> {
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
            let mut names: Vec<(u64, OsString)> = std::env::vars_os()
                .map(|(name, value)| {
                    drop(SecretValue::from_bytes(value.into_vec()));
                    (fnv1a(name.as_bytes()), name)
                })
                .collect();
            names.sort_unstable_by_key(|(hash, _)| *hash);
            names
        });
    }

    fn lookup(&mut self, request: &SecretRequest) -> Result<Lookup, SecretError> {
        self.candidates.fill(&self.prefix, request);
        for name in self.candidates.names() {
            if let Some(value) = self.get(name) {
                return Ok(Lookup::Found(
                    SecretRecord::new(SecretSource::Env, value)
                        .with("env_name", text(name.to_vec())),
                ));
            }
        }
        Ok(Lookup::Absent)
    }

    fn tried(&mut self, request: &SecretRequest) -> String {
        candidate_names(&self.prefix, request).join(", ")
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
    fn a_miss_is_put_into_words_only_when_asked() {
        let mut p = EnvProvider::with_variables(EnvSettings::default(), HashMap::new());
        let request = request("db.url", Some("prod"));
        assert!(matches!(p.lookup(&request).unwrap(), Lookup::Absent));
        assert_eq!(
            p.tried(&request),
            "KSTLIB_PROD_DB_URL, KSTLIB_DB_URL, DB_URL"
        );
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
    fn a_name_with_equals_or_nul_never_matches() {
        // glibc's getenv("A=B") answers with what follows "B=" in A's value.
        let name = format!("KSTRUN_ENV_TIER_EQUALS_{}", std::process::id());
        std::env::set_var(&name, "B=part-of-another-value");
        let mut p = EnvProvider::new(EnvSettings {
            prefix: String::new(),
        });
        for asked in [format!("{name}=b"), format!("{name}\0")] {
            for batch in [false, true] {
                p.batch(batch);
                let answer = p.lookup(&request(&asked, None)).unwrap();
                assert!(!matches!(answer, Lookup::Found(_)), "{asked:?} {batch}");
            }
        }
        std::env::remove_var(&name);
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
