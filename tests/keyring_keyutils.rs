//! The keyring tier on the Linux kernel key store (`backend = "keyutils"`),
//! in a fresh session keyring: the test runs its own binary again under
//! `keyctl session -`, so nothing it stores outlives it or meets the user's
//! keys. `keyctl` is the other side of the interop checks.

mod common;

use common::secret_service::{have_tool, skip_or_fail};
use kstrun::secrets::providers::{keyring, KeyringBackend, KeyringProvider, KeyringSettings};
use kstrun::secrets::{Lookup, Provider, ProviderState, SecretRequest, SecretResolver};
use std::io::Write;
use std::process::{Command, Stdio};

/// The inner half of the keyutils test: runs only under `keyctl session`.
#[test]
fn keyutils_inner() {
    if std::env::var_os("KSTRUN_KEYUTILS_INNER").is_none() {
        return;
    }
    let s = KeyringSettings {
        service: "kstrun-test".into(),
        backend: KeyringBackend::Keyutils,
        ..KeyringSettings::default()
    };
    // Written by the kernel tool, read by kstrun.
    let mut add = Command::new("keyctl")
        .args(["padd", "user", "keyring:api.token@kstrun-test", "@s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("keyctl padd");
    add.stdin
        .take()
        .expect("stdin")
        .write_all(b"from-keyctl")
        .expect("write");
    assert!(add.wait().expect("keyctl").success());
    let mut resolver = SecretResolver::new(vec![Box::new(KeyringProvider::new(s.clone()))]);
    let record = resolver.resolve_secret("api.token").expect("resolved");
    assert_eq!(record.value.as_str(), Some("from-keyctl"));
    assert_eq!(record.meta("backend"), Some("keyutils"));

    // Written by kstrun, read by the kernel tool, then deleted.
    keyring::store(&s, "db.password", &"from-kstrun".into()).expect("stored");
    let out = Command::new("keyctl")
        .args(["pipe", "%user:keyring:db.password@kstrun-test"])
        .output()
        .expect("keyctl pipe");
    assert_eq!(out.stdout, b"from-kstrun");
    assert!(keyring::delete(&s, "db.password").expect("deleted"));
    let mut keyring = KeyringProvider::new(s);
    let answer = keyring
        .lookup(&SecretRequest::new("db.password"))
        .expect("no error");
    assert!(matches!(answer, Lookup::Missing { .. }), "{answer:?}");
    assert_eq!(keyring.status().state, ProviderState::Ready);
}

#[test]
fn keyutils_backend_in_a_fresh_session_keyring() {
    if !have_tool("keyctl") {
        return;
    }
    let probe = Command::new("keyctl")
        .args(["session", "-", "true"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        skip_or_fail(&format!(
            "keyctl cannot make a session keyring here: {probe:?}"
        ));
        return;
    }
    let me = std::env::current_exe().expect("test binary");
    let out = Command::new("keyctl")
        .args(["session", "-"])
        .arg(&me)
        .args([
            "--exact",
            "keyutils_inner",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("KSTRUN_KEYUTILS_INNER", "1")
        .output()
        .expect("run the inner test");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "inner test failed:\n{shown}");
    assert!(shown.contains("1 passed"), "{shown}");
    for value in ["from-keyctl", "from-kstrun"] {
        assert!(!shown.contains(value), "a secret value leaked: {shown}");
    }
}
