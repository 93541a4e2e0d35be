use super::*;

fn load_text(text: &str, scope: Option<&str>) -> Result<Manifest, ManifestError> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kstrun.toml");
    std::fs::write(&file, text).unwrap();
    Manifest::load(&file, scope).map_err(|mut e| {
        e.file = PathBuf::from("kstrun.toml");
        e
    })
}

const FULL: &str = r#"
pass = ["PATH", "LC_*"]
command = "./server --port '8080'"

[providers]
order = ["sops", "env"]

[providers.env]
prefix = "APP_"

[providers.keyring]
service = "svc"
backend = "keyutils"
timeout_ms = 500

[providers.sops]
path = "s.sops.yml"
backend = "native"
format = "yaml"
cache_size = 4
identity = "keys/age.txt"
timeout_ms = 1500

[secure_delete]
method = "overwrite"
passes = 2
zero_last_pass = false

[env]
RUST_LOG = "info"
PORT = 8080

[secrets]
DATABASE_URL = "database.url"
STRIPE = { path = "api.stripe_key", required = false }
LOG = { path = "log.token", default = "dev" }
PROD = { path = "db.password", sops = "prod.sops.yml", key = ["db", "prod.password"] }
TLS = { path = "tls.key", as = "file" }
ONLY = { path = "x.y", providers = ["sops"] }

[scopes.production.providers.sops]
path = "prod.sops.yml"

[scopes.production.secrets]
LOG = { default = "prod-default" }
EXTRA = "extra.value"
"#;

#[test]
fn the_whole_grammar_loads() {
    let m = load_text(FULL, None).unwrap();
    assert_eq!(
        m.pass,
        [
            PassPattern::Exact("PATH".into()),
            PassPattern::Prefix("LC_".into())
        ]
    );
    assert_eq!(
        m.command.as_deref().unwrap(),
        ["./server", "--port", "8080"]
    );
    assert_eq!(m.order, [SecretSource::Sops, SecretSource::Env]);
    assert_eq!(m.env_prefix, "APP_");
    assert_eq!(m.keyring.backend, KeyringBackend::Keyutils);
    assert_eq!(m.keyring.timeout, Duration::from_millis(500));
    assert!(
        m.sops.path.ends_with("s.sops.yml") && m.sops.path.is_absolute() && m.sops.path_configured
    );
    assert_eq!(m.sops.cache_size, 4);
    assert_eq!(m.sops.timeout, Duration::from_millis(1500));
    assert_eq!(
        m.secure_delete,
        SecureDelete {
            method: ShredMethod::Overwrite,
            passes: 2,
            zero_last_pass: false
        }
    );
    assert_eq!(
        m.env,
        [
            ("RUST_LOG".into(), "info".into()),
            ("PORT".into(), "8080".into())
        ]
    );
    let names: Vec<_> = m.secrets.iter().map(|s| s.var.as_str()).collect();
    assert_eq!(
        names,
        ["DATABASE_URL", "STRIPE", "LOG", "PROD", "TLS", "ONLY"]
    );
    assert!(!m.secrets[1].required);
    assert_eq!(
        m.secrets[3].key.as_deref().unwrap(),
        ["db", "prod.password"]
    );
    assert_eq!(m.secrets[4].delivery, Delivery::File);
    assert_eq!(
        m.secrets[5].providers.as_deref().unwrap(),
        [SecretSource::Sops]
    );
}

#[test]
fn a_scope_overlays_settings_and_entries() {
    let m = load_text(FULL, Some("production")).unwrap();
    assert!(m.sops.path.ends_with("prod.sops.yml"));
    assert_eq!(
        m.sops.backend,
        SopsBackend::Native,
        "unscoped sibling settings survive"
    );
    let log = m.secrets.iter().find(|s| s.var == "LOG").unwrap();
    assert_eq!(
        (
            log.path.as_str(),
            log.default.as_ref().and_then(|v| v.as_str())
        ),
        ("log.token", Some("prod-default"))
    );
    assert!(m.secrets.iter().any(|s| s.var == "EXTRA"));
}

#[test]
fn a_scope_table_refines_an_entry_and_a_short_one_replaces_it() {
    let text = r#"
[secrets]
FIRST = "a.b"
SECOND = { path = "c.d", default = "dev-only" }
THIRD = "e.f"

[scopes.p.secrets]
FIRST = { required = false }
SECOND = "g.h"
NEW = "i.j"
"#;
    let m = load_text(text, Some("p")).unwrap();
    let shown: Vec<_> = m
        .secrets
        .iter()
        .map(|s| {
            (
                s.var.as_str(),
                s.path.as_str(),
                s.required,
                s.default.as_ref().and_then(|v| v.as_str()),
            )
        })
        .collect();
    // A short root entry made optional; a table entry replaced by a short
    // one keeps nothing of it (no development default in production);
    // refined entries keep their place, new ones come last.
    assert_eq!(
        shown,
        [
            ("FIRST", "a.b", false, None),
            ("SECOND", "g.h", true, None),
            ("THIRD", "e.f", true, None),
            ("NEW", "i.j", true, None),
        ]
    );
    // Without the scope, nothing of it shows.
    let m = load_text(text, None).unwrap();
    assert_eq!(m.secrets.len(), 3);
    assert!(m.secrets.iter().all(|s| s.required));
}

#[test]
fn errors_point_at_line_and_column() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        ("pass = [\"PATH\"]\nbogus = 1\n", (2, 1), "unknown field"),
        (
            "[secrets]\n\"1BAD\" = \"a.b\"\n",
            (2, 1),
            "not a valid variable name",
        ),
        ("[secrets]\nA = \"a..b\"\n", (2, 5), "empty segment"),
        (
            "[providers]\norder = [\"env\", \"vault\"]\n",
            (2, 17),
            "unknown provider",
        ),
        ("pass = [\"A*B\"]\n", (1, 9), "only allowed at the end"),
        (
            "[env]\nA = \"x\"\n[secrets]\nA = \"a\"\n",
            (4, 1),
            "defined twice",
        ),
        (
            "[secrets]\nA = { path = \"a\", as = \"tape\" }\n",
            (2, 5),
            "unknown 'as'",
        ),
        ("[providers.sops]\ncache_size = 0\n", (2, 14), "cache_size"),
        ("pass = \"PATH\"\n", (1, 8), "invalid type"),
        // After a [secrets] table the fast reader takes: read again for the position.
        (
            "[secrets]\nA = \"a\"\nB = \"b\"\n[env]\n1BAD = \"x\"\n",
            (5, 1),
            "not a valid variable name",
        ),
        (
            "[secrets]\nA = \"a\"\n[providers.sops]\ncache_size = 0\n",
            (4, 14),
            "cache_size",
        ),
    ];
    for (text, position, needle) in cases {
        let error = load_text(text, None).unwrap_err();
        assert_eq!(error.position, Some(*position), "{text:?} → {error}");
        assert!(error.message.contains(needle), "{text:?} → {error}");
    }
}

/// Every scope is checked, chosen or not, with its errors at its own lines;
/// only an unchosen scope's kstlib config file is not read.
#[test]
fn a_mistake_in_a_scope_not_chosen_is_still_an_error() {
    let base = "[secrets]\nA = { path = \"a\", default = \"d\" }\n";
    for (scope, line, needle) in [
        (
            "[scopes.prod.secrets]\n1BAD = \"x\"\n",
            4,
            "'1BAD' is not a valid variable name",
        ),
        ("[scopes.prod.secrets]\nA = \"a..b\"\n", 4, "empty segment"),
        (
            "[scopes.prod.providers]\norder = [\"env\", \"nope\"]\n",
            4,
            "unknown provider 'nope'",
        ),
    ] {
        let text = format!("{base}{scope}");
        for chosen in [None, Some("other"), Some("prod")] {
            let text = format!("{text}[scopes.other]\n");
            let error = load_text(&text, chosen).unwrap_err();
            assert_eq!(error.position.map(|(line, _)| line), Some(line), "{error}");
            assert!(error.message.contains(needle), "{error}");
        }
    }
    let with_config = format!(
        "{base}[scopes.prod]\nconfig = \"absent-kstlib.yml\"\n[scopes.prod.secrets.A]\ndefault = \"p\"\n"
    );
    assert!(load_text(&with_config, None).is_ok());
    assert!(load_text(&with_config, Some("prod")).is_err());
}

/// Plain values keep the spelling TOML gives them: a float stays a float,
/// a date or time is its text.
#[test]
fn env_values_are_written_as_toml_spells_them() {
    let text = "[env]\nF = 3.0\nG = 1e21\nH = 0.5\nD = 1979-05-27\nT = 07:32:00\nZ = 1979-05-27T07:32:00Z\n";
    let m = load_text(text, None).unwrap();
    let values: Vec<_> = m.env.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(
        values,
        [
            "3.0",
            "1e21",
            "0.5",
            "1979-05-27",
            "07:32:00",
            "1979-05-27T07:32:00Z"
        ]
    );
    let error = load_text("[env]\nM = { a = 1 }\n", None).unwrap_err();
    assert!(
        error
            .message
            .contains("expected a string, number or boolean"),
        "{error}"
    );
}

#[test]
fn unknown_scope_names_the_known_ones() {
    let error = load_text(FULL, Some("staging")).unwrap_err();
    assert!(
        error.message.contains("unknown scope 'staging'") && error.message.contains("production"),
        "{error}"
    );
}
