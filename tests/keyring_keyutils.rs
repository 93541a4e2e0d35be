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

/// Runs `keyctl ARGS` with `input` on its stdin; its stdout, trimmed.
fn keyctl(args: &[&str], input: &[u8]) -> String {
    let mut child = Command::new("keyctl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("keyctl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    let out = child.wait_with_output().expect("keyctl");
    assert!(out.status.success(), "keyctl {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether the session keyring links the user's persistent keyring.
fn session_links_persistent() -> bool {
    keyctl(&["show", "@s"], b"").contains("_persistent")
}

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
    let resolve = |name: &str| {
        let mut resolver = SecretResolver::new(vec![Box::new(KeyringProvider::new(s.clone()))]);
        resolver.resolve_secret(name)
    };
    // Written by the kernel tool, read by kstrun, which links it nowhere.
    keyctl(
        &["padd", "user", "keyring:api.token@kstrun-test", "@s"],
        b"from-keyctl",
    );
    let record = resolve("api.token").expect("resolved");
    assert_eq!(record.value.as_str(), Some("from-keyctl"));
    assert_eq!(record.meta("backend"), Some("keyutils"));
    assert!(!session_links_persistent(), "a read linked a keyring");

    // A key the caller may read (view, read, search) but not link.
    let id = keyctl(
        &["padd", "user", "keyring:read.only@kstrun-test", "@s"],
        b"from-keyctl-read-only",
    );
    keyctl(&["setperm", &id, "0x0b0b0000"], b"");
    let record = resolve("read.only").expect("a readable key is read");
    assert_eq!(record.value.as_str(), Some("from-keyctl-read-only"));

    // A key only in the persistent keyring, where keyring-rs keeps what it
    // stores across logins, is found; the session still does not link it.
    let persistent = keyctl(&["get_persistent", "@s"], b"");
    let id = keyctl(
        &["padd", "user", "keyring:kept.key@kstrun-test", &persistent],
        b"from-keyctl-persistent",
    );
    keyctl(&["unlink", &persistent, "@s"], b"");
    let found = resolve("kept.key");
    assert!(!session_links_persistent(), "a read linked a keyring");
    // Linked again only to possess the key, so as to remove it.
    keyctl(&["get_persistent", "@s"], b"");
    keyctl(&["invalidate", &id], b"");
    keyctl(&["unlink", &persistent, "@s"], b"");
    assert_eq!(
        found
            .expect("found in the persistent keyring")
            .value
            .as_str(),
        Some("from-keyctl-persistent")
    );

    // A revoked key in the session does not hide a live one kept in the
    // persistent keyring.
    let revoked = keyctl(
        &["padd", "user", "keyring:shadow.key@kstrun-test", "@s"],
        b"revoked-value",
    );
    keyctl(&["revoke", &revoked], b"");
    let persistent = keyctl(&["get_persistent", "@s"], b"");
    let kept = keyctl(
        &[
            "padd",
            "user",
            "keyring:shadow.key@kstrun-test",
            &persistent,
        ],
        b"from-keyctl-behind-a-revoked-key",
    );
    keyctl(&["unlink", &persistent, "@s"], b"");
    let found = resolve("shadow.key");
    keyctl(&["get_persistent", "@s"], b"");
    keyctl(&["invalidate", &kept], b"");
    keyctl(&["unlink", &persistent, "@s"], b"");
    assert_eq!(
        found.expect("found behind the revoked key").value.as_str(),
        Some("from-keyctl-behind-a-revoked-key")
    );

    // With '@' in the service, `keyring:a@b@c` could be another service's item.
    let mut at = s.clone();
    at.service = "b@c".into();
    let error = SecretResolver::new(vec![Box::new(KeyringProvider::new(at))])
        .resolve_secret("a")
        .unwrap_err()
        .to_string();
    assert!(error.contains("holds '@'"), "{error}");

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
    for value in ["from-keyctl", "from-kstrun", "revoked-value"] {
        assert!(!shown.contains(value), "a secret value leaked: {shown}");
    }
}
