//! The keyring tier seen through the binary: a run served from a real
//! gnome-keyring, `check`'s report of the keyring's state, a missing bus, a
//! locked collection and a Secret Service that never answers. Each test has
//! its own private bus and keyring, handed to kstrun through its environment.

mod common;

use common::secret_service::{python_with_keyring, SecretServiceSession, LOGIN_COLLECTION};
use common::{assert_failed_125, assert_no_leak, Sandbox};
use std::time::{Duration, Instant};

const SLACK: Duration = Duration::from_millis(2000);

/// Stores `value` for `username` under service `kstlib` with Python's keyring.
fn python_store(session: &SecretServiceSession, username: &str, value: &str) -> bool {
    let Some(python) = python_with_keyring() else {
        return false;
    };
    let code = format!(
        "import keyring, os; keyring.set_password('kstlib', '{username}', os.environ['KEYRING_VALUE'])"
    );
    let out = session.python(&python, &code, Some(value));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

#[test]
fn a_run_is_served_from_the_keyring_and_check_reports_it() {
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    if !python_store(&session, "api.stripe_key", "sk_live_cli_1234") {
        return;
    }
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nSTRIPE_KEY = \"api.stripe_key\"\n");
    let output = sandbox
        .kstrun()
        .envs(session.env())
        .args(["-v", "--", "sh", "-c", "printf %s \"$STRIPE_KEY\" > seen"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let seen = std::fs::read_to_string(sandbox.path().join("seen")).unwrap();
    assert_eq!(seen, "sk_live_cli_1234");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("keyring"), "-v names the tier: {stderr}");
    assert_no_leak(&output, &["sk_live_cli_1234"]);

    let output = sandbox
        .kstrun()
        .envs(session.env())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "keyring",
        "backend secret-service",
        "service kstlib",
        "reachable",
        "unlocked",
    ] {
        assert!(stdout.contains(needle), "{needle:?} missing:\n{stdout}");
    }
    assert_no_leak(&output, &["sk_live_cli_1234"]);
}

#[test]
fn without_a_session_bus_the_tier_is_skipped_and_check_says_why() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "[secrets]\nDB = \"db.url\"\nTOKEN = { path = \"log.token\", default = \"dev-token\" }\n",
    );
    let nowhere = format!("unix:path={}", sandbox.path().join("no-bus").display());
    let output = sandbox
        .kstrun()
        .env("DBUS_SESSION_BUS_ADDRESS", &nowhere)
        .env("DB_URL", "from-env")
        .args(["--", "sh", "-c", "printf '%s %s' \"$DB\" \"$TOKEN\" > seen"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let seen = std::fs::read_to_string(sandbox.path().join("seen")).unwrap();
    assert_eq!(seen, "from-env dev-token");

    let output = sandbox
        .kstrun()
        .env("DBUS_SESSION_BUS_ADDRESS", &nowhere)
        .env("DB_URL", "from-env")
        .args(["check", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let keyring = report["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "keyring")
        .expect("a keyring entry")
        .clone();
    assert_eq!(keyring["state"], "skipped", "{keyring}");
    let reason = keyring["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("no Secret Service reachable"), "{reason}");
    assert_no_leak(&output, &["from-env"]);
}

#[test]
fn a_bus_address_nothing_answers_on_skips_the_tier() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nTOKEN = { path = \"log.token\", default = \"dev-token\" }\n");
    // A socket whose bus died (the file is left, nothing listens), a file
    // that is no socket, and a port nothing listens on.
    let dead = sandbox.path().join("dead-bus");
    drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
    let plain_file = sandbox.path().join("plain-file");
    std::fs::write(&plain_file, "").unwrap();
    for address in [
        format!("unix:path={}", dead.display()),
        format!("unix:path={}", plain_file.display()),
        "tcp:host=127.0.0.1,port=1".to_string(),
    ] {
        let output = sandbox
            .kstrun()
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .args(["-v", "--", "sh", "-c", "printf %s \"$TOKEN\" > seen"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{address}: {output:?}");
        let seen = std::fs::read_to_string(sandbox.path().join("seen")).unwrap();
        assert_eq!(seen, "dev-token", "{address}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("keyring tier skipped: no Secret Service reachable"),
            "{address}: {stderr}"
        );
    }
}

#[test]
fn a_locked_keyring_fails_with_125_and_starts_nothing() {
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    if !python_store(&session, "db.password", "locked-db-pw-99") {
        return;
    }
    session.lock(LOGIN_COLLECTION);
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "[providers.keyring]\ntimeout_ms = 1500\n\
         [secrets]\nDB_PASSWORD = { path = \"db.password\", default = \"fallback-77\" }\n",
    );
    let started = Instant::now();
    let output = sandbox
        .kstrun()
        .envs(session.env())
        .arg("--")
        .args(sandbox.marker_child())
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_millis(1500) + SLACK);
    assert_failed_125(&output, &["keyring", "service 'kstlib'", "DB_PASSWORD"]);
    sandbox.assert_child_not_started();
    assert_no_leak(&output, &["locked-db-pw-99", "fallback-77"]);

    let output = sandbox
        .kstrun()
        .envs(session.env())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("locked"), "{stdout}");
    assert_no_leak(&output, &["locked-db-pw-99", "fallback-77"]);
}

#[test]
fn a_keyring_that_never_answers_costs_one_timeout_not_one_per_secret() {
    let Some(session) = SecretServiceSession::start() else {
        return;
    };
    session.freeze_keyring(true);
    let sandbox = Sandbox::new();
    let mut manifest = String::from("[providers.keyring]\ntimeout_ms = 700\n[secrets]\n");
    for i in 0..10 {
        manifest.push_str(&format!("S{i} = \"bench.s{i}\"\n"));
    }
    sandbox.manifest(&manifest);
    let started = Instant::now();
    let output = sandbox
        .kstrun()
        .envs(session.env())
        .arg("--")
        .args(sandbox.marker_child())
        .output()
        .unwrap();
    let took = started.elapsed();
    session.freeze_keyring(false);
    assert!(took < Duration::from_millis(700) + SLACK, "took {took:?}");
    assert_failed_125(&output, &["no answer within 700 ms", "service 'kstlib'"]);
    sandbox.assert_child_not_started();
}
