//! Property tests (proptest): quoting, name mapping, scope overlay, cascade.
//!
//! Each property is checked on generated inputs rather than a hand-picked
//! list, because quoting and merging bugs hide in the combinations nobody
//! thinks of. Case counts are kept small enough for the whole file to run in
//! seconds: the quoting properties spawn a shell or Python per case, so they
//! batch several values into one process.

mod common;

use common::{tool_available, Sandbox, NEW_DOTENV_PROBE};
use kstrun::commands::export::{dotenv_line, shell_line};
use kstrun::manifest::Manifest;
use kstrun::secrets::providers::{candidate_names, env_name};
use kstrun::secrets::{
    Lookup, Provider, SecretError, SecretRecord, SecretRequest, SecretResolver, SecretSource,
    SecretValue,
};
use proptest::prelude::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// Byte strings without NUL (the one byte no environment value can hold).
fn value_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(1u8..=255, 0..48)
}

/// Runs `script` (export lines) in `shell`, then prints each of `names` NUL-terminated.
fn eval_in(shell: &str, script: &[u8], names: &[String]) -> Vec<Vec<u8>> {
    let mut program = script.to_vec();
    program.extend_from_slice(b"printf '%s\\0'");
    for name in names {
        program.extend_from_slice(format!(" \"${name}\"").as_bytes());
    }
    let output = Command::new(shell)
        .arg("-c")
        .arg(OsString::from_vec(program))
        .output()
        .expect("a shell runs");
    assert!(output.status.success(), "{shell} failed: {output:?}");
    let mut values: Vec<Vec<u8>> = output
        .stdout
        .split(|&b| b == 0)
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(values.pop(), Some(Vec::new()), "output ends with NUL");
    values
}

fn shells() -> Vec<&'static str> {
    let mut found = vec!["sh"];
    if tool_available("bash", &["-c", "true"]) {
        found.push("bash");
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// `shell_line` output `eval`ed by sh (and bash) gives back every byte.
    #[test]
    fn shell_quoting_round_trips_through_sh(values in prop::collection::vec(value_bytes(), 1..8)) {
        let names: Vec<String> = (0..values.len()).map(|i| format!("V{i}")).collect();
        let mut script = Vec::new();
        for (name, value) in names.iter().zip(&values) {
            shell_line(name, value, &mut script);
        }
        for shell in shells() {
            prop_assert_eq!(&eval_in(shell, &script, &names), &values, "{}", shell);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The built binary: a value in the parent's environment, exported as
    /// shell and `eval`ed by sh, comes back byte for byte.
    #[test]
    fn kstrun_export_shell_round_trips_through_sh(value in value_bytes()) {
        let sandbox = Sandbox::new();
        sandbox.manifest("[secrets]\nOUT = \"prop.value\"\n");
        let output = sandbox
            .kstrun()
            .env("PROP_VALUE", OsString::from_vec(value.clone()))
            .args(["export", "--format", "shell"])
            .output()
            .expect("kstrun runs");
        prop_assert!(output.status.success(), "{:?}", output);
        let back = eval_in("sh", &output.stdout, &["OUT".to_string()]);
        prop_assert_eq!(back, vec![value]);
    }
}

/// The venv's python3 with python-dotenv, else a system one with a recent enough one.
fn dotenv_python() -> Option<String> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python3");
    let has_dotenv = |python: &str| {
        Command::new(python)
            .args(NEW_DOTENV_PROBE)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let venv = venv.to_string_lossy().into_owned();
    if has_dotenv(&venv) {
        return Some(venv);
    }
    if tool_available("python3", NEW_DOTENV_PROBE) {
        return Some("python3".into());
    }
    None
}

/// Text values python-dotenv can hold: any UTF-8 without NUL.
fn dotenv_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::char::range(' ', '~'),
            2 => prop::sample::select(vec!['\n', '\r', '\t', '\'', '"', '\\', '$', '#', '=', ' ']),
            1 => prop::char::range('\u{1}', '\u{10ffff}'),
        ],
        0..32,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

#[test]
fn dotenv_export_round_trips_through_python_dotenv() {
    let Some(python) = dotenv_python() else {
        // tool_available has printed the reason, or failed under KSTRUN_TEST_REQUIRE_TOOLS=1.
        return;
    };
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(48));
    runner
        .run(&prop::collection::vec(dotenv_text(), 1..8), |values| {
            let mut text = Vec::new();
            for (i, value) in values.iter().enumerate() {
                dotenv_line(&format!("V{i}"), value.as_bytes(), &mut text);
            }
            let mut child = Command::new(&python)
                .args([
                    "-c",
                    "import io, json, sys; from dotenv import dotenv_values; \
                     text = sys.stdin.buffer.read().decode('utf-8'); \
                     print(json.dumps(dotenv_values(stream=io.StringIO(text), interpolate=False)))",
                ])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("python runs");
            {
                use std::io::Write;
                let mut stdin = child.stdin.take().expect("stdin");
                stdin.write_all(&text).expect("write to python");
            }
            let output = child.wait_with_output().expect("python finishes");
            prop_assert!(output.status.success());
            let loaded: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&output.stdout).expect("JSON from python");
            prop_assert_eq!(
                loaded.len(),
                values.len(),
                "{}",
                String::from_utf8_lossy(&text)
            );
            for (i, value) in values.iter().enumerate() {
                prop_assert_eq!(
                    loaded.get(&format!("V{i}")).and_then(|v| v.as_str()),
                    Some(value.as_str()),
                    "{}",
                    String::from_utf8_lossy(&text)
                );
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `a.b-c` → `A_B_C`: upper case, `.` and `-` become `_`, one char per char.
    #[test]
    fn env_name_maps_each_character(path in "[a-zA-Z0-9_.-]{1,40}") {
        let name = env_name(&path);
        prop_assert_eq!(&name, &env_name(&path), "deterministic");
        prop_assert_eq!(name.len(), path.len());
        for (from, to) in path.chars().zip(name.chars()) {
            let expected = match from {
                '.' | '-' => '_',
                c => c.to_ascii_uppercase(),
            };
            prop_assert_eq!(to, expected);
        }
        prop_assert!(name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
    }

    /// Any text: no `.`, `-` or ASCII lower case survives, and char count is kept.
    #[test]
    fn env_name_of_any_text(path in any::<String>()) {
        let name = env_name(&path);
        prop_assert!(!name.contains(['.', '-']));
        prop_assert!(!name.chars().any(|c| c.is_ascii_lowercase()));
        prop_assert_eq!(name.chars().count(), path.chars().count());
    }

    /// With the default prefix, every name tried is a valid variable name, in
    /// the spec's order (scoped, prefixed, bare), without duplicates.
    #[test]
    fn candidate_names_are_valid_and_ordered(
        path in "[a-z0-9_-]{1,10}(\\.[a-z0-9_-]{1,10}){0,4}",
        scope in proptest::option::of("[a-z0-9_-]{1,10}"),
    ) {
        let mut request = SecretRequest::new(path.clone());
        request.scope = scope.clone();
        let names = candidate_names("KSTLIB_", &request);
        let base = env_name(&path);
        let mut expected = Vec::new();
        if let Some(scope) = &scope {
            expected.push(format!("KSTLIB_{}_{base}", env_name(scope)));
        }
        expected.push(format!("KSTLIB_{base}"));
        expected.push(base.clone());
        prop_assert_eq!(&names, &expected);
        for name in &names[..names.len() - 1] {
            prop_assert!(is_variable_name(name), "{}", name);
        }
        // The bare name is valid whenever the path starts like a variable name.
        if path.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            prop_assert!(is_variable_name(&base), "{}", base);
        }
    }
}

/// Manifest pieces: one generated manifest is the root sections' TOML text.
#[derive(Debug, Clone)]
struct Sections {
    /// Root keys (`pass`, `command`), placed before any table.
    root: String,
    /// `(table name, body)` pairs such as `("env", "A = \"x\"\n")`.
    tables: Vec<(String, String)>,
}

impl Sections {
    fn text(&self) -> String {
        let mut text = self.root.clone();
        for (name, body) in &self.tables {
            text.push_str(&format!("[{name}]\n{body}"));
        }
        text
    }

    /// The same content as `[scopes.NAME...]` tables.
    fn as_scope(&self, name: &str) -> String {
        let mut text = format!("[scopes.{name}]\n{}", self.root);
        for (table, body) in &self.tables {
            text.push_str(&format!("[scopes.{name}.{table}]\n{body}"));
        }
        text
    }
}

fn quoted() -> impl Strategy<Value = String> {
    "[a-z0-9 ._/-]{0,12}".prop_map(|s| format!("\"{s}\""))
}

fn manifest_sections() -> impl Strategy<Value = Sections> {
    let path = "[a-z][a-z0-9_]{0,5}(\\.[a-z][a-z0-9_]{0,5}){0,2}";
    let pass = prop::collection::vec(
        prop::sample::select(vec!["PATH", "HOME", "LC_*", "TZ"]),
        0..3,
    )
    .prop_map(|names| {
        let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        format!("pass = [{}]\n", quoted.join(", "))
    });
    let command = proptest::option::of("[a-z./]{1,10}( --[a-z]{1,5}){0,2}").prop_map(|c| {
        c.map(|c| format!("command = \"{c}\"\n"))
            .unwrap_or_default()
    });
    let env = prop::collection::btree_map("E_[A-Z][A-Z0-9_]{0,6}", quoted(), 0..4).prop_map(|m| {
        m.into_iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect::<String>()
    });
    let secret = (
        path,
        any::<bool>(),
        proptest::option::of(quoted()),
        proptest::option::of(prop::sample::select(vec!["env", "json"])),
        proptest::option::of(prop::sample::select(vec![
            "[\"sops\"]",
            "[\"env\", \"keyring\"]",
        ])),
        any::<bool>(),
    )
        .prop_map(|(path, required, default, delivery, providers, short)| {
            if short {
                return format!("\"{path}\"");
            }
            let mut fields = vec![
                format!("path = \"{path}\""),
                format!("required = {required}"),
            ];
            if let Some(d) = default {
                fields.push(format!("default = {d}"));
            }
            if let Some(a) = delivery {
                fields.push(format!("as = \"{a}\""));
            }
            if let Some(p) = providers {
                fields.push(format!("providers = {p}"));
            }
            format!("{{ {} }}", fields.join(", "))
        });
    let secrets =
        prop::collection::btree_map("S_[A-Z][A-Z0-9_]{0,6}", secret, 0..5).prop_map(|m| {
            m.into_iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect::<String>()
        });
    let sops = (
        proptest::option::of("[a-z]{1,8}\\.sops\\.(yml|json|env)"),
        proptest::option::of(prop::sample::select(vec!["auto", "native", "binary"])),
        proptest::option::of(1i64..64),
    )
        .prop_map(|(path, backend, cache)| {
            let mut body = String::new();
            if let Some(p) = path {
                body.push_str(&format!("path = \"{p}\"\n"));
            }
            if let Some(b) = backend {
                body.push_str(&format!("backend = \"{b}\"\n"));
            }
            if let Some(c) = cache {
                body.push_str(&format!("cache_size = {c}\n"));
            }
            body
        });
    let order =
        proptest::option::of(Just(vec!["env", "keyring", "sops"]).prop_shuffle()).prop_map(|o| {
            o.map(|o| format!("order = [\"{}\"]\n", o.join("\", \"")))
                .unwrap_or_default()
        });
    let prefix = proptest::option::of("[A-Z]{1,6}_")
        .prop_map(|p| p.map(|p| format!("prefix = \"{p}\"\n")).unwrap_or_default());
    (pass, command, env, secrets, sops, order, prefix).prop_map(
        |(pass, command, env, secrets, sops, order, prefix)| {
            let mut tables = Vec::new();
            for (name, body) in [
                ("env", env),
                ("secrets", secrets),
                ("providers", order),
                ("providers.env", prefix),
                ("providers.sops", sops),
            ] {
                if !body.is_empty() {
                    tables.push((name.to_string(), body));
                }
            }
            Sections {
                root: format!("{pass}{command}"),
                tables,
            }
        },
    )
}

fn checked(text: &str, scope: Option<&str>) -> String {
    let file = Path::new("no-such-project/kstrun.toml");
    match Manifest::parse(text, file, scope) {
        Ok(manifest) => format!("{manifest:?}"),
        Err(e) => format!("error: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// An empty `[scopes.NAME]` changes nothing; a scope that repeats the
    /// root's own settings changes nothing either.
    #[test]
    fn scope_overlay_with_empty_or_same_scope_is_the_identity(sections in manifest_sections()) {
        let text = sections.text();
        let plain = checked(&text, None);
        prop_assert!(!plain.starts_with("error"), "generated manifests are valid: {}\n{}", plain, text);
        let with_empty = format!("{text}[scopes.empty]\n");
        prop_assert_eq!(&checked(&with_empty, Some("empty")), &plain);
        prop_assert_eq!(&checked(&with_empty, None), &plain);
        let with_same = format!("{text}{}", sections.as_scope("same"));
        prop_assert_eq!(&checked(&with_same, Some("same")), &plain, "{}", with_same);
    }
}

/// What a scripted provider answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Script {
    Found(u8),
    Missing,
    Skipped,
    Fails,
}

struct Scripted {
    index: usize,
    source: SecretSource,
    script: Script,
    asked: Arc<Mutex<Vec<usize>>>,
}

impl Provider for Scripted {
    fn source(&self) -> SecretSource {
        self.source
    }

    fn lookup(&mut self, request: &SecretRequest) -> Result<Lookup, SecretError> {
        self.asked.lock().expect("log").push(self.index);
        Ok(match self.script {
            Script::Found(n) => Lookup::Found(SecretRecord::new(
                self.source,
                SecretValue::from_string(format!("value-{n}")),
            )),
            Script::Missing => Lookup::Missing {
                tried: format!("p{}", self.index),
            },
            Script::Skipped => Lookup::Skipped {
                reason: "scripted".into(),
            },
            Script::Fails => {
                return Err(SecretError::Provider {
                    provider: "scripted",
                    name: request.name.clone(),
                    reason: format!("provider {} fails", self.index),
                })
            }
        })
    }
}

fn script() -> impl Strategy<Value = Script> {
    prop_oneof![
        any::<u8>().prop_map(Script::Found),
        Just(Script::Missing),
        Just(Script::Skipped),
        Just(Script::Fails),
    ]
}

fn tier() -> impl Strategy<Value = SecretSource> {
    prop::sample::select(vec![
        SecretSource::Override,
        SecretSource::Env,
        SecretSource::Keyring,
        SecretSource::Sops,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// For any arrangement of providers, the first that answers decides: a
    /// value wins, a failure stops the run, and nobody after it is asked;
    /// with no answer, the default, else nothing (optional), else NotFound.
    #[test]
    fn the_first_provider_with_an_answer_wins(
        scripts in prop::collection::vec((tier(), script()), 0..7),
        default in proptest::option::of(any::<u8>()),
        required in any::<bool>(),
    ) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let providers: Vec<Box<dyn Provider>> = scripts
            .iter()
            .enumerate()
            .map(|(index, &(source, script))| {
                Box::new(Scripted { index, source, script, asked: asked.clone() }) as Box<dyn Provider>
            })
            .collect();
        let mut resolver = SecretResolver::new(providers);
        let mut request = SecretRequest::new("a.b");
        request.required = required;
        request.default = default.map(|d| SecretValue::from_string(format!("default-{d}")));

        let decisive = scripts
            .iter()
            .position(|(_, s)| matches!(s, Script::Found(_) | Script::Fails));
        let result = resolver.resolve(&request);
        let expected_asked: Vec<usize> = match decisive {
            Some(i) => (0..=i).collect(),
            None => (0..scripts.len()).collect(),
        };
        prop_assert_eq!(&*asked.lock().expect("log"), &expected_asked);
        match decisive.map(|i| scripts[i]) {
            Some((source, Script::Found(n))) => {
                let record = result.expect("found").expect("a record");
                prop_assert_eq!(record.source, source);
                let expected = format!("value-{n}");
                prop_assert_eq!(record.value.as_bytes(), expected.as_bytes());
            }
            Some((_, _)) => {
                let err = result.expect_err("a failing provider stops the lookup");
                let is_provider_error = matches!(err, SecretError::Provider { .. });
                prop_assert!(is_provider_error);
            }
            None => match (default, required) {
                (Some(d), _) => {
                    let record = result.expect("default").expect("a record");
                    prop_assert_eq!(record.source, SecretSource::Default);
                    let expected = format!("default-{d}");
                    prop_assert_eq!(record.value.as_bytes(), expected.as_bytes());
                }
                (None, false) => prop_assert!(result.expect("optional").is_none()),
                (None, true) => {
                    let is_not_found = matches!(result, Err(SecretError::NotFound { .. }));
                    prop_assert!(is_not_found);
                }
            },
        }
    }
}
