//! The keyring tier against a real Secret Service (gnome-keyring on a private
//! D-Bus), with Python's `keyring` and `secret-tool` as the other side of
//! every interop check.
//!
//! The Secret Service client reads the bus address from this process's
//! environment, so every test here that touches it holds one lock while it
//! sets the address. The keyutils backend has its own file,
//! `keyring_keyutils.rs`.

mod common;

use common::secret_service::{
    env_lock, have_tool, python_with_keyring, with_bus_address, SecretServiceSession,
    LOGIN_COLLECTION,
};
use kstrun::secrets::providers::{keyring, EnvProvider, EnvSettings};
use kstrun::secrets::providers::{KeyringProvider, KeyringSettings};
use kstrun::secrets::{
    Lookup, Provider, ProviderState, SecretError, SecretRequest, SecretResolver, SecretSource,
    SecretValue,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const SLACK: Duration = Duration::from_millis(1500);

fn settings(timeout_ms: u64) -> KeyringSettings {
    KeyringSettings {
        timeout: Duration::from_millis(timeout_ms),
        ..KeyringSettings::default()
    }
}

fn provider(timeout_ms: u64) -> Box<dyn Provider> {
    Box::new(KeyringProvider::new(settings(timeout_ms)))
}

/// An env tier answering from a fixed set, as "the next tier".
fn env_tier(pairs: &[(&str, &str)]) -> Box<dyn Provider> {
    let vars: HashMap<String, SecretValue> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), SecretValue::from(*v)))
        .collect();
    Box::new(EnvProvider::with_variables(EnvSettings::default(), vars))
}

fn text(record_value: &SecretValue) -> String {
    record_value.as_str().expect("utf-8 value").to_string()
}

/// Fails when any of `values` shows in `shown`.
fn assert_hidden(shown: &str, values: &[&str]) {
    for value in values {
        assert!(!shown.contains(value), "a secret value leaked: {shown}");
    }
}

#[test]
fn item_written_by_python_keyring_is_resolved() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    let Some(python) = python_with_keyring() else {
        return;
    };
    let out = session.python(
        &python,
        "import keyring, os; keyring.set_password('kstlib', 'api.stripe_key', os.environ['KEYRING_VALUE'])",
        Some("sk_live_from_python"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    with_bus_address(session.address(), || {
        let mut resolver = SecretResolver::new(vec![provider(3000)]);
        let record = resolver.resolve_secret("api.stripe_key").expect("resolved");
        assert_eq!(record.source, SecretSource::Keyring);
        assert_eq!(text(&record.value), "sk_live_from_python");
        assert_eq!(record.meta("service"), Some("kstlib"));
        assert_eq!(record.meta("username"), Some("api.stripe_key"));
        assert_eq!(record.meta("backend"), Some("secret-service"));
        assert_hidden(
            &format!("{record:?} {}", record.location()),
            &["sk_live_from_python"],
        );
    });
}

#[test]
fn item_written_by_secret_tool_is_resolved() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    if !have_tool("secret-tool") {
        return;
    }
    session.secret_tool_store("kstlib", "mail.smtp.password", "from-secret-tool");
    with_bus_address(session.address(), || {
        let mut resolver = SecretResolver::new(vec![provider(3000)]);
        let record = resolver
            .resolve_secret("mail.smtp.password")
            .expect("resolved");
        assert_eq!(text(&record.value), "from-secret-tool");
    });
}

/// A secret stored with secret-tool, then "rotated" with Python's keyring,
/// is two items (Python tags its own): kstrun refuses to guess which value
/// is current, and says why and what to do, never showing either value.
#[test]
fn two_items_for_one_name_is_an_error_that_says_how_they_arise() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    let Some(python) = python_with_keyring() else {
        return;
    };
    if !have_tool("secret-tool") {
        return;
    }
    session.secret_tool_store("kstlib", "rot.key", "old-value-3141");
    let out = session.python(
        &python,
        "import keyring, os; keyring.set_password('kstlib', 'rot.key', os.environ['KEYRING_VALUE'])",
        Some("new-value-2718"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    with_bus_address(session.address(), || {
        let mut resolver = SecretResolver::new(vec![provider(3000)]);
        let err = resolver.resolve_secret("rot.key").unwrap_err().to_string();
        assert!(
            err.contains("2 items match")
                && err.contains("will not guess")
                && err.contains("application"),
            "{err}"
        );
        assert_hidden(&err, &["old-value-3141", "new-value-2718"]);
    });
}

/// A name holding a NUL byte (which would make the bus drop the connection
/// every lookup of the run shares) is refused before it is sent: the
/// lookups after it still work.
#[test]
fn a_name_holding_a_nul_byte_is_refused_and_the_connection_lives_on() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    session.secret_tool_store("kstlib", "db.password", "after-the-nul");
    with_bus_address(session.address(), || {
        let mut resolver = SecretResolver::new(vec![provider(3000)]);
        let refused = resolver.resolve_secret("a\0b").expect_err("refused");
        assert!(refused.to_string().contains("NUL byte"), "{refused}");
        let record = resolver.resolve_secret("db.password").expect("resolved");
        assert_eq!(text(&record.value), "after-the-nul");
    });
}

#[test]
fn item_stored_by_kstrun_is_read_by_python_keyring_and_deleted() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    let Some(python) = python_with_keyring() else {
        return;
    };
    let value = SecretValue::from("stored-by-kstrun");
    with_bus_address(session.address(), || {
        keyring::store(&settings(3000), "db.password", &value).expect("stored");
    });
    let read = "import keyring; print(keyring.get_password('kstlib', 'db.password'))";
    let out = session.python(&python, read, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "stored-by-kstrun"
    );
    // Python replaces kstrun's item rather than adding a second one beside
    // it (which would make the name ambiguous, and the deletes below fail).
    let update = "import keyring; keyring.set_password('kstlib', 'db.password', 'set-by-python')";
    assert!(session.python(&python, update, None).status.success());
    with_bus_address(session.address(), || {
        let mut resolver = SecretResolver::new(vec![provider(3000)]);
        let record = resolver.resolve_secret("db.password").expect("one item");
        assert_eq!(text(&record.value), "set-by-python");
    });

    let deleted = with_bus_address(session.address(), || {
        let first = keyring::delete(&settings(3000), "db.password").expect("deleted");
        let again = keyring::delete(&settings(3000), "db.password").expect("no-op");
        (first, again)
    });
    assert_eq!(deleted, (true, false));
    let out = session.python(&python, read, None);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "None");
}

#[test]
fn missing_entry_falls_through_to_the_next_tier_and_default() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    with_bus_address(session.address(), || {
        let mut resolver = SecretResolver::new(vec![
            provider(3000),
            env_tier(&[("DB_URL", "from-next-tier")]),
        ]);
        let record = resolver
            .resolve_secret("db.url")
            .expect("from the next tier");
        assert_eq!(record.source, SecretSource::Env);
        assert_eq!(text(&record.value), "from-next-tier");

        let mut request = SecretRequest::new("log.token");
        request.default = Some(SecretValue::from("dev-token"));
        let record = resolver.resolve(&request).expect("ok").expect("a default");
        assert_eq!(record.source, SecretSource::Default);

        let err = resolver.resolve_secret("nowhere.at_all").unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.contains("keyring service 'kstlib' user nowhere.at_all"),
            "{shown}"
        );
    });
}

#[test]
fn scoped_entry_wins_over_the_plain_one() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    with_bus_address(session.address(), || {
        let s = settings(3000);
        keyring::store(&s, "prod:db.password", &"scoped-value".into()).expect("stored");
        keyring::store(&s, "db.password", &"plain-value".into()).expect("stored");
        let mut resolver = SecretResolver::new(vec![provider(3000)]);
        let mut request = SecretRequest::new("db.password");
        request.scope = Some("prod".into());
        let record = resolver.resolve(&request).expect("ok").expect("found");
        assert_eq!(text(&record.value), "scoped-value");
        assert_eq!(record.meta("username"), Some("prod:db.password"));
        request.scope = Some("staging".into());
        let record = resolver.resolve(&request).expect("ok").expect("found");
        assert_eq!(text(&record.value), "plain-value");
    });
}

#[test]
fn no_session_bus_skips_the_tier_and_says_why() {
    let _env = env_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let nowhere = format!("unix:path={}", dir.path().join("no-bus").display());
    with_bus_address(&nowhere, || {
        let mut keyring = KeyringProvider::new(settings(3000));
        let started = Instant::now();
        match keyring
            .lookup(&SecretRequest::new("db.url"))
            .expect("not an error")
        {
            Lookup::Skipped { reason } => {
                assert!(reason.contains("Secret Service"), "{reason}")
            }
            other => panic!("expected a skip, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(3));
        let status = keyring.status();
        assert!(
            matches!(&status.state, ProviderState::Skipped(why) if why.contains("D-Bus")),
            "{status:?}"
        );
        assert!(status.details.iter().any(|d| d == "backend secret-service"));

        let mut resolver =
            SecretResolver::new(vec![provider(3000), env_tier(&[("DB_URL", "from-env")])]);
        let record = resolver
            .resolve_secret("db.url")
            .expect("other tiers answer");
        assert_eq!(text(&record.value), "from-env");
        let err = resolver.resolve_secret("only.keyring").unwrap_err();
        assert!(err.to_string().contains("keyring skipped"), "{err}");
    });
}

#[test]
fn bus_without_secret_service_skips_the_tier() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::bus_only() else {
        return;
    };
    with_bus_address(session.address(), || {
        let mut keyring = KeyringProvider::new(settings(3000));
        let answer = keyring
            .lookup(&SecretRequest::new("db.url"))
            .expect("no error");
        assert!(matches!(answer, Lookup::Skipped { .. }), "{answer:?}");
        assert_eq!(keyring.status().state.label(), "skipped");
    });
}

#[test]
fn locked_collection_is_an_error_within_the_timeout() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    let timeout = Duration::from_millis(1500);
    with_bus_address(session.address(), || {
        keyring::store(&settings(3000), "db.password", &"locked-away".into()).expect("stored");
        keyring::store(&settings(3000), "api.key", &"also-locked".into()).expect("stored");
        session.lock(LOGIN_COLLECTION);

        let mut resolver = SecretResolver::new(vec![
            provider(1500),
            env_tier(&[("DB_PASSWORD", "must-not-be-used")]),
        ]);
        let mut request = SecretRequest::new("db.password");
        request.default = Some(SecretValue::from("nor-this"));
        let started = Instant::now();
        let err = resolver.resolve(&request).unwrap_err();
        let first = started.elapsed();
        eprintln!("locked collection: {err} (after {first:?})");
        assert!(first < timeout + SLACK, "took {first:?}");
        assert!(
            matches!(
                err,
                SecretError::Provider {
                    provider: "keyring",
                    ..
                }
            ),
            "{err:?}"
        );
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("service 'kstlib'"), "{shown}");
        assert_hidden(&shown, &["locked-away", "must-not-be-used", "nor-this"]);

        // A second secret must not cost another full wait.
        let started = Instant::now();
        let err = resolver.resolve_secret("api.key").unwrap_err();
        assert!(
            started.elapsed() < timeout + SLACK,
            "{:?}",
            started.elapsed()
        );
        assert_hidden(&format!("{err} {err:?}"), &["also-locked"]);

        // `check` tells the collection is locked, without values.
        let status = KeyringProvider::new(settings(1500)).status();
        assert!(
            matches!(status.state, ProviderState::Failed(_)),
            "{status:?}"
        );
        assert!(
            status.details.iter().any(|d| d.contains("locked")),
            "{status:?}"
        );
        assert_hidden(&format!("{status:?}"), &["locked-away", "also-locked"]);
    });
}

/// A Secret Service that is on the bus but refuses a session (here the bus
/// policy denies `OpenSession`) stops the run: it is not "no keyring here",
/// which would let a default stand in for the stored secret.
/// A bus address list (or one address ending in `;`) that names a live
/// bus is an error: the D-Bus library reads it as one broken address, and
/// skipping the tier would hand the stored secret's place to the default.
/// A malformed `guid=` is an address kstrun cannot read: skipped, like any
/// other malformed address, not blamed on a Secret Service.
#[test]
fn a_bus_address_list_is_an_error_and_a_malformed_guid_a_skip() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    session.secret_tool_store("kstlib", "db.url", "stored-in-keyring-5150");
    let single = session.address().split(',').next().unwrap().to_string();
    for list in [
        format!("{single};"),
        format!("unix:path=/nonexistent/bus;{single}"),
    ] {
        with_bus_address(&list, || {
            let mut request = SecretRequest::new("db.url");
            request.default = Some("the-default".into());
            let mut resolver = SecretResolver::new(vec![provider(3000)]);
            let err = resolver.resolve(&request).unwrap_err().to_string();
            assert!(
                err.contains("DBUS_SESSION_BUS_ADDRESS holds a list of addresses"),
                "{list}: {err}"
            );
            assert_hidden(&err, &["stored-in-keyring-5150"]);
        });
    }
    with_bus_address("unix:path=/nonexistent/a;unix:path=/nonexistent/b", || {
        let mut keyring = KeyringProvider::new(settings(3000));
        assert!(matches!(
            keyring.lookup(&SecretRequest::new("db.url")),
            Ok(Lookup::Skipped { .. })
        ));
    });
    with_bus_address(&format!("{single},guid=zz"), || {
        let mut keyring = KeyringProvider::new(settings(3000));
        match keyring.lookup(&SecretRequest::new("db.url")) {
            Ok(Lookup::Skipped { reason }) => assert!(reason.contains("GUID"), "{reason}"),
            other => panic!("expected a skip, got {other:?}"),
        }
    });
}

#[test]
fn a_secret_service_that_refuses_a_session_is_an_error_not_a_skip() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start_refusing_sessions() else {
        return;
    };
    with_bus_address(session.address(), || {
        let mut keyring = KeyringProvider::new(settings(3000));
        let err = keyring.lookup(&SecretRequest::new("db.url")).unwrap_err();
        assert!(
            err.to_string()
                .contains("the Secret Service refused a session")
                && err.to_string().contains("AccessDenied"),
            "{err}"
        );
        assert_eq!(keyring.status().state.label(), "failed");
        // Through the cascade: an error, not the default.
        let mut request = SecretRequest::new("db.url");
        request.default = Some("the-default".into());
        let mut resolver =
            SecretResolver::new(vec![Box::new(KeyringProvider::new(settings(3000)))]);
        assert!(resolver.resolve(&request).is_err());
    });
}

#[test]
fn a_secret_service_that_never_answers_times_out_then_gives_up() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    with_bus_address(session.address(), || {
        keyring::store(&settings(3000), "a.first", &"first-value".into()).expect("stored");
        let mut keyring = KeyringProvider::new(settings(800));
        let found = keyring
            .lookup(&SecretRequest::new("a.first"))
            .expect("found");
        assert!(matches!(found, Lookup::Found(_)));

        session.freeze_keyring(true);
        let started = Instant::now();
        let err = keyring.lookup(&SecretRequest::new("a.second")).unwrap_err();
        let waited = started.elapsed();
        eprintln!("frozen service: {err} (after {waited:?})");
        assert!(
            waited >= Duration::from_millis(800) && waited < Duration::from_millis(800) + SLACK
        );
        assert!(err.to_string().contains("no answer within 800 ms"), "{err}");

        let started = Instant::now();
        let err = keyring.lookup(&SecretRequest::new("a.third")).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_millis(200),
            "gave up quickly"
        );
        assert!(err.to_string().contains("not asked again"), "{err}");

        // Connecting to a frozen service times out as well.
        let started = Instant::now();
        let mut fresh = KeyringProvider::new(settings(800));
        assert!(fresh.lookup(&SecretRequest::new("a.first")).is_err());
        assert!(started.elapsed() < Duration::from_millis(800) + SLACK);
        session.freeze_keyring(false);
    });
}

#[test]
fn ten_secrets_use_one_connection() {
    let _env = env_lock();
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    with_bus_address(session.address(), || {
        for i in 0..10 {
            keyring::store(&settings(3000), &format!("bench.s{i}"), &"v".into()).expect("stored");
        }
        let before = connections_of_this_process(&session);
        let mut resolver = SecretResolver::new(vec![provider(3000)]);
        for i in 0..10 {
            resolver
                .resolve_secret(&format!("bench.s{i}"))
                .expect("resolved");
        }
        let during = connections_of_this_process(&session);
        assert_eq!(during, before + 1, "one connection for ten secrets");
    });
}

/// How many bus connections belong to this process, asked of the bus itself.
fn connections_of_this_process(session: &SecretServiceSession) -> usize {
    let names = session.dbus_send(&[
        "--dest=org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.ListNames",
    ]);
    let listing = String::from_utf8_lossy(&names.stdout).to_string();
    let me = std::process::id().to_string();
    listing
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix("string \"")
                .and_then(|s| s.strip_suffix('"'))
        })
        .filter(|name| name.starts_with(':'))
        .filter(|name| {
            let pid = session.dbus_send(&[
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.GetConnectionUnixProcessID",
                &format!("string:{name}"),
            ]);
            String::from_utf8_lossy(&pid.stdout).contains(&format!("uint32 {me}"))
        })
        .count()
}
