//! Where age keys come from: every sops 3.11 source, merged; failures of one
//! source reported without stopping the others; clear errors without keys.

mod sops_common;

use kstrun::secrets::providers::SopsBackend;
use kstrun::secrets::providers::SopsProvider;
use kstrun::secrets::{Provider, ProviderState, SecretError};
use kstrun::sops::Environment;
use sops_common::*;
use std::time::{Duration, Instant};

const FILE: &str = "encrypted_regex.sops.yaml";

fn resolve(env: Environment, backend: SopsBackend) -> Result<String, SecretError> {
    let mut r = resolver(settings(&fixture(FILE), backend), env);
    r.resolve(&request(&["password"]))
        .map(|record| record.expect("found").value.as_str().unwrap().to_string())
}

fn key_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

fn secret_line(name: &str) -> String {
    key_text(name)
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_string()
}

#[test]
fn every_source_can_provide_the_key() {
    let sandbox = Sandbox::new();
    let key_file = sandbox.private_copy("test-age-key.txt");
    // SOPS_AGE_KEY (text), SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, XDG and HOME keys.txt.
    let env = sandbox
        .bare_env()
        .with("SOPS_AGE_KEY", secret_line("test-age-key.txt"));
    assert_eq!(resolve(env, SopsBackend::Native).unwrap(), "rule-secret");
    let env = sandbox.bare_env().with("SOPS_AGE_KEY_FILE", &key_file);
    assert_eq!(resolve(env, SopsBackend::Native).unwrap(), "rule-secret");
    let env = sandbox
        .bare_env()
        .with("SOPS_AGE_KEY_CMD", format!("cat '{}'", key_file.display()));
    assert_eq!(resolve(env, SopsBackend::Native).unwrap(), "rule-secret");

    let xdg = sandbox.path().join("xdg");
    std::fs::create_dir_all(xdg.join("sops/age")).unwrap();
    std::fs::copy(&key_file, xdg.join("sops/age/keys.txt")).unwrap();
    let env = sandbox.bare_env().with("XDG_CONFIG_HOME", &xdg);
    assert_eq!(resolve(env, SopsBackend::Native).unwrap(), "rule-secret");

    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".config/sops/age")).unwrap();
    std::fs::copy(&key_file, home.path().join(".config/sops/age/keys.txt")).unwrap();
    let env = sandbox.bare_env().with("HOME", home.path());
    assert_eq!(resolve(env, SopsBackend::Native).unwrap(), "rule-secret");
}

#[test]
fn sources_are_merged_and_one_failure_does_not_stop_the_others() {
    let sandbox = Sandbox::new();
    let other = sandbox.private_copy("other-age-key.txt");
    let env = sandbox
        .env()
        .with("SOPS_AGE_KEY", "garbage that is not a key")
        .with("SOPS_AGE_KEY_CMD", "false")
        .with("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &other);
    assert_eq!(
        resolve(env.clone(), SopsBackend::Native).unwrap(),
        "rule-secret"
    );
    let mut provider =
        SopsProvider::with_environment(settings(&fixture(FILE), SopsBackend::Native), env);
    let status = provider.status();
    let warnings = status.warnings.join("\n");
    assert!(warnings.contains("SOPS_AGE_KEY failed"), "{warnings}");
    assert!(warnings.contains("SOPS_AGE_KEY_CMD failed"), "{warnings}");
    assert!(
        warnings.contains("SOPS_AGE_SSH_PRIVATE_KEY_FILE"),
        "{warnings}"
    );
    let details = status.details.join("\n");
    assert!(details.contains("backend native"), "{details}");
    assert!(details.contains("age1"), "recipients shown: {details}");
    assert!(!details.contains("AGE-SECRET-KEY") && !warnings.contains("AGE-SECRET-KEY"));
}

/// A key put in a variable that names a file or a command (a slip for
/// `SOPS_AGE_KEY`) is not printed back in the errors or in `check`.
#[test]
fn a_key_in_a_path_variable_is_not_shown() {
    let sandbox = Sandbox::new();
    let age_key = secret_line("test-age-key.txt");
    let ssh_key = key_text("test-ssh-ed25519");
    let env = sandbox
        .bare_env()
        .with("SOPS_AGE_KEY_FILE", &age_key)
        .with("SOPS_AGE_KEY_CMD", &age_key)
        .with("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &ssh_key);
    let err = resolve(env.clone(), SopsBackend::Native).unwrap_err();
    let mut provider =
        SopsProvider::with_environment(settings(&fixture(FILE), SopsBackend::Native), env);
    let status = provider.status();
    let shown = format!(
        "{err} {err:?} {} {}",
        status.warnings.join("\n"),
        status.details.join("\n")
    );
    assert!(
        shown.contains("looks like a private key, not shown"),
        "{shown}"
    );
    let ssh_body = ssh_key.lines().nth(1).unwrap();
    for key in [age_key.as_str(), ssh_body, "PRIVATE KEY"] {
        assert!(!shown.contains(key), "{key} shown in: {shown}");
    }
}

#[test]
fn the_identity_setting_adds_a_key_file() {
    let sandbox = Sandbox::new();
    let key = sandbox.private_copy("test-age-key.txt");
    let mut s = settings(&fixture(FILE), SopsBackend::Native);
    s.identity = Some(key);
    let mut r = resolver(s, sandbox.bare_env());
    let record = r.resolve(&request(&["password"])).unwrap().unwrap();
    assert_eq!(record.value.as_str(), Some("rule-secret"));
    // An ssh key as the identity setting.
    let ssh = sandbox.private_copy("test-ssh-ed25519");
    let mut s = settings(&fixture("ssh.sops.yaml"), SopsBackend::Native);
    s.identity = Some(ssh);
    let mut r = resolver(s, sandbox.bare_env());
    assert!(r.resolve(&request(&["password"])).unwrap().is_some());
}

/// Key files as people keep them: a YubiKey plugin line beside a software
/// key (sops uses both; the native reader skips the plugin line and keeps
/// the key), a comment in Latin-1, a comment that says "PRIVATE KEY" in a
/// file given as the identity setting (an age file, not an ssh key).
#[test]
fn key_files_with_plugin_lines_and_odd_comments_keep_their_keys() {
    let sandbox = Sandbox::new();
    let mut text = b"# cl\xe9 de test\n# PRIVATE KEY below, keep it safe\nAGE-PLUGIN-YUBIKEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQ\n".to_vec();
    text.extend_from_slice(secret_line("test-age-key.txt").as_bytes());
    text.push(b'\n');
    let key = sandbox.path().join("keys.txt");
    std::fs::write(&key, &text).unwrap();
    set_mode(&key, 0o600);
    let env = sandbox.bare_env().with("SOPS_AGE_KEY_FILE", &key);
    assert_eq!(resolve(env, SopsBackend::Native).unwrap(), "rule-secret");
    let mut s = settings(&fixture(FILE), SopsBackend::Native);
    s.identity = Some(key);
    let mut r = resolver(s, sandbox.bare_env());
    let record = r.resolve(&request(&["password"])).unwrap().unwrap();
    assert_eq!(record.value.as_str(), Some("rule-secret"));
}

#[test]
fn wrong_key_and_no_key_are_clear_errors() {
    let sandbox = Sandbox::new();
    let other = sandbox.private_copy("other-age-key.txt");
    let secret = secret_line("other-age-key.txt");
    for env in [
        sandbox.bare_env().with("SOPS_AGE_KEY_FILE", &other),
        sandbox.bare_env(),
    ] {
        let err = resolve(env, SopsBackend::Native).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SecretError::Decryption { .. }), "{text}");
        assert!(text.contains("no age identity matches"), "{text}");
        assert!(text.contains("age1"), "recipients listed: {text}");
        assert!(
            !text.contains(&secret) && !text.contains("AGE-SECRET-KEY"),
            "{text}"
        );
    }
    let err = resolve(
        sandbox.bare_env().with("SOPS_AGE_KEY_FILE", &other),
        SopsBackend::Native,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(&other.display().to_string()),
        "source named: {err}"
    );
    println!("bad-input totals: key-files-wrong-or-none=3 panics=0 children=0 printed=0");
}

#[test]
fn unreadable_key_files_are_reported() {
    let sandbox = Sandbox::new();
    let missing = sandbox.path().join("missing.txt");
    let folder = sandbox.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    let junk = sandbox.path().join("junk.txt");
    std::fs::write(&junk, "this is not a key\n").unwrap();
    set_mode(&junk, 0o600);
    for (path, why) in [
        (&missing, "file not found"),
        (&folder, "cannot read"),
        (&junk, "not an age identity"),
    ] {
        let err = resolve(
            sandbox.bare_env().with("SOPS_AGE_KEY_FILE", path),
            SopsBackend::Native,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(why), "{why}: {err}");
        assert!(err.contains("SOPS_AGE_KEY_FILE"), "{err}");
        assert!(
            !err.contains("this is not a key"),
            "key file text echoed: {err}"
        );
    }
    println!("bad-input totals: key-files-unreadable=3 panics=0 children=0 printed=0");
}

#[test]
fn key_command_that_fails_or_hangs() {
    let sandbox = Sandbox::new();
    let err = resolve(
        sandbox
            .bare_env()
            .with("SOPS_AGE_KEY_CMD", "sh -c 'exit 3'"),
        SopsBackend::Native,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("SOPS_AGE_KEY_CMD (failed: the command failed"),
        "{err}"
    );
    let err = resolve(
        sandbox
            .bare_env()
            .with("SOPS_AGE_KEY_CMD", "no-such-program-kstrun"),
        SopsBackend::Native,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("cannot start"), "{err}");

    let mut s = settings(&fixture(FILE), SopsBackend::Native);
    s.timeout = Duration::from_millis(300);
    // The command's own child (sleep) must die with it.
    let env = sandbox
        .bare_env()
        .with("SOPS_AGE_KEY_CMD", "sh -c 'sleep 30; echo never'");
    let mut r = resolver(s, env);
    let start = Instant::now();
    let err = r.resolve(&request(&["password"])).unwrap_err().to_string();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert!(err.contains("no answer within 0.3 s"), "{err}");
    println!("bad-input totals: key-commands=3 panics=0 children=0 printed=0");
}

/// A key command's output is bounded in time and size, whatever it does: a
/// process it leaves in the background holding its output open is killed at
/// the deadline; more than 16 MiB on stdout is an error; any amount on
/// stderr is drained, never a reason to fail.
/// Under `auto`, a key command that failed is not run again by the `sops`
/// executable the file then goes to (it would ask again for a passphrase
/// just refused).
#[test]
fn a_failed_key_command_runs_once_under_auto() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let count = sandbox.path().join("runs");
    let command = format!("sh -c 'echo ran >> {}; exit 3'", count.display());
    let mut s = settings(&fixture(FILE), SopsBackend::Auto);
    s.binary = sops.display().to_string();
    let mut r = resolver(s, sandbox.bare_env().with("SOPS_AGE_KEY_CMD", &command));
    let err = r.resolve(&request(&["password"])).unwrap_err().to_string();
    assert!(err.contains("SOPS_AGE_KEY_CMD (failed"), "{err}");
    assert!(err.contains("then: "), "sops was tried too: {err}");
    assert_eq!(std::fs::read_to_string(&count).unwrap(), "ran\n");
}

/// An `identity` that is a pipe reaches the `sops` executable unread.
#[test]
fn an_identity_pipe_reaches_the_sops_executable_unread() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let fifo = sandbox.path().join("key-pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    let key = key_text("test-age-key.txt");
    let writer = fifo.clone();
    std::thread::spawn(move || std::fs::write(writer, key));
    let mut s = settings(&fixture(FILE), SopsBackend::Binary);
    s.binary = sops.display().to_string();
    s.identity = Some(fifo);
    s.timeout = Duration::from_secs(10);
    let mut r = resolver(s, sandbox.bare_env());
    let found = r.resolve(&request(&["password"])).expect("decrypted");
    assert_eq!(found.unwrap().value.as_str(), Some("rule-secret"));
}

#[test]
fn key_command_output_is_bounded_in_time_and_size() {
    let sandbox = Sandbox::new();
    let key = sandbox.private_copy("test-age-key.txt");
    let marker = sandbox.path().join("background-still-running");
    let mut s = settings(&fixture(FILE), SopsBackend::Native);
    s.timeout = Duration::from_millis(500);
    let background = format!(
        "sh -c 'cat {}; (sleep 3; touch {}) &'",
        key.display(),
        marker.display()
    );
    let mut r = resolver(s, sandbox.bare_env().with("SOPS_AGE_KEY_CMD", background));
    let start = Instant::now();
    let err = r.resolve(&request(&["password"])).unwrap_err().to_string();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert!(err.contains("its output was still held open"), "{err}");
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !marker.exists(),
        "the background process outlived the deadline"
    );

    let noisy = format!(
        "sh -c 'head -c 300000 /dev/zero | tr \\\\0 x >&2; cat {}'",
        key.display()
    );
    let found = resolve(
        sandbox.bare_env().with("SOPS_AGE_KEY_CMD", noisy),
        SopsBackend::Native,
    );
    assert_eq!(found.unwrap(), "rule-secret");

    let err = resolve(
        sandbox
            .bare_env()
            .with("SOPS_AGE_KEY_CMD", "head -c 20000000 /dev/zero"),
        SopsBackend::Native,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("printed more than 16 MiB"), "{err}");
}

#[test]
fn open_key_files_draw_a_permission_warning() {
    let sandbox = Sandbox::new();
    let key = sandbox.private_copy("test-age-key.txt");
    set_mode(&key, 0o644);
    let env = sandbox.bare_env().with("SOPS_AGE_KEY_FILE", &key);
    let mut provider =
        SopsProvider::with_environment(settings(&fixture(FILE), SopsBackend::Native), env);
    let status = provider.status();
    assert_eq!(status.state, ProviderState::Ready);
    let warnings = status.warnings.join("\n");
    assert!(
        warnings.contains("readable by group or others") && warnings.contains("chmod 400"),
        "{warnings}"
    );
    // Key text from the environment is no file: no warning.
    let env = sandbox
        .bare_env()
        .with("SOPS_AGE_KEY", secret_line("test-age-key.txt"));
    let mut provider =
        SopsProvider::with_environment(settings(&fixture(FILE), SopsBackend::Native), env);
    assert!(provider.status().warnings.is_empty());
    // A folder given by mistake, or a device, is no key file to chmod: it
    // fails as a key, without advice to make it private.
    for not_a_file in [sandbox.path().to_path_buf(), "/dev/null".into()] {
        let env = sandbox.bare_env().with("SOPS_AGE_KEY_FILE", &not_a_file);
        let mut provider =
            SopsProvider::with_environment(settings(&fixture(FILE), SopsBackend::Native), env);
        let warnings = provider.status().warnings.join("\n");
        assert!(!warnings.contains("chmod"), "{warnings}");
    }
}
