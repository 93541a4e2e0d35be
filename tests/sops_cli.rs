//! The sops tier through the `kstrun` binary: the quickstart runs with no
//! sops executable, a tampered file stops the run with 125 before any child
//! starts, and nothing secret is printed.

mod common;

use common::{assert_failed_125, assert_no_leak, Sandbox};
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/sops").join(name)
}

/// A PATH with the basic tools but no sops on it.
fn path_without_sops() -> String {
    "/usr/local/bin:/usr/bin:/bin".to_string()
}

#[test]
fn quickstart_runs_without_a_sops_executable() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .kstrun()
        .env("PATH", path_without_sops())
        .arg("-m")
        .arg(repo().join("examples/quickstart/kstrun.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout,
        "postgres://demo:demo-password@localhost:5432/demo\ndemo-api-token\n"
    );
}

/// The fixtures' test key, copied into the sandbox with owner-only access.
fn sandbox_key(sandbox: &Sandbox) -> PathBuf {
    let key = sandbox.write(
        "key.txt",
        &std::fs::read(fixture("test-age-key.txt")).unwrap(),
    );
    common_chmod(&key);
    key
}

fn manifest_for(sandbox: &Sandbox, file: &Path) {
    let key = sandbox_key(sandbox);
    sandbox.manifest(&format!(
        "pass = [\"PATH\"]\n[providers.sops]\npath = \"{}\"\nidentity = \"{}\"\nbackend = \"native\"\n[secrets]\nSMTP = \"mail.smtp.password\"\nDB = {{ path = \"database.url\", default = \"fallback\" }}\n",
        file.display(),
        key.display()
    ));
}

fn common_chmod(path: &Path) {
    set_mode(path, 0o600);
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn secrets_reach_the_child_from_a_sops_file() {
    let sandbox = Sandbox::new();
    manifest_for(&sandbox, &fixture("basic.sops.yaml"));
    let output = sandbox
        .kstrun()
        .args(["--", "sh", "-c", "printf '%s|%s' \"$SMTP\" \"$DB\""])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "hunter2|postgres://app:s3cr3t@db.internal:5432/app"
    );
}

#[test]
fn an_open_key_file_draws_a_warning_on_run_and_export() {
    let sandbox = Sandbox::new();
    manifest_for(&sandbox, &fixture("basic.sops.yaml"));
    let child = ["--", "sh", "-c", "printf '%s' \"$SMTP\""];
    // Mode 600: the run is silent.
    let output = sandbox.kstrun().args(child).output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");

    set_mode(&sandbox.path().join("key.txt"), 0o644);
    let output = sandbox.kstrun().args(child).output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hunter2");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("kstrun: warning: key file ")
            && stderr.contains("key.txt is readable by group or others (mode 644); chmod 400 it"),
        "{stderr}"
    );
    assert_no_leak(&output, &["AGE-SECRET-KEY", "s3cr3t"]);

    // Said on export too; `-q` silences it.
    let output = sandbox.kstrun().arg("export").output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("chmod 400"));
    let output = sandbox.kstrun().arg("-q").args(child).output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn tampered_file_exits_125_without_starting_the_child() {
    let sandbox = Sandbox::new();
    let original = std::fs::read_to_string(fixture("basic.sops.yaml")).unwrap();
    let tampered = sandbox.write(
        "tampered.sops.yaml",
        original
            .replace("kept in clear", "kept in cleaR")
            .as_bytes(),
    );
    manifest_for(&sandbox, &tampered);
    let mut args = vec!["--".to_string()];
    args.extend(sandbox.marker_child());
    let output = sandbox.kstrun().args(&args).output().unwrap();
    assert_failed_125(&output, &["tampered.sops.yaml", "MAC mismatch"]);
    sandbox.assert_child_not_started();
    assert_no_leak(&output, &["hunter2", "s3cr3t", "tok-alpha", "fallback"]);

    // `check` reports it as failing, again without values.
    let output = sandbox.kstrun().arg("check").output().unwrap();
    assert_ne!(output.status.code(), Some(0));
    assert_no_leak(&output, &["hunter2", "s3cr3t", "tok-alpha"]);
}

#[test]
fn truncated_file_and_wrong_key_exit_125() {
    let sandbox = Sandbox::new();
    let original = std::fs::read(fixture("basic.sops.yaml")).unwrap();
    let truncated = sandbox.write("truncated.sops.yaml", &original[..original.len() / 3]);
    manifest_for(&sandbox, &truncated);
    let mut args = vec!["--".to_string()];
    args.extend(sandbox.marker_child());
    let output = sandbox.kstrun().args(&args).output().unwrap();
    assert_failed_125(&output, &["truncated.sops.yaml"]);
    sandbox.assert_child_not_started();

    manifest_for(&sandbox, &fixture("other_key.sops.yaml"));
    let output = sandbox.kstrun().args(&args).output().unwrap();
    assert_failed_125(&output, &["other_key.sops.yaml", "no age identity matches"]);
    sandbox.assert_child_not_started();
    assert_no_leak(&output, &["AGE-SECRET-KEY"]);
}

/// A file secret resolved before a SOPS file whose key comes from
/// `SOPS_AGE_KEY_CMD`: the key command (a helper kstrun runs while
/// resolving) inherits none of kstrun's descriptors, the memfd included;
/// the child still gets the memfd.
#[test]
fn helpers_run_while_resolving_do_not_inherit_a_file_secret() {
    let sandbox = Sandbox::new();
    let key = fixture("test-age-key.txt");
    let key_cmd = sandbox.write(
        "key-cmd.sh",
        format!(
            "#!/bin/sh\nfor fd in /proc/$$/fd/*; do readlink \"$fd\"; done > '{}'\ncat '{}'\n",
            sandbox.path().join("helper-fds").display(),
            key.display()
        )
        .as_bytes(),
    );
    set_mode(&key_cmd, 0o755);
    sandbox.manifest(&format!(
        "pass = [\"PATH\"]\n[providers.sops]\npath = \"{}\"\nbackend = \"native\"\n[secrets]\nCERT = {{ path = \"tls.key\", as = \"file\" }}\nSMTP = \"mail.smtp.password\"\n",
        fixture("basic.sops.yaml").display()
    ));
    let output = sandbox
        .kstrun()
        .env("SOPS_AGE_KEY_CMD", &key_cmd)
        // From the env tier: resolved, and its memfd made, before the sops tier runs.
        .env("TLS_KEY", "file-secret-8086")
        .args(["--", "sh", "-c", "cat \"$CERT\"; printf '|%s' \"$SMTP\""])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "file-secret-8086|hunter2"
    );
    let helper_fds = std::fs::read_to_string(sandbox.path().join("helper-fds")).unwrap();
    assert!(!helper_fds.is_empty());
    assert!(!helper_fds.contains("memfd"), "{helper_fds}");
}

/// A key given as segments, one of them holding a dot, is shown as those
/// segments by `check` and `-v` (never as `pass.word`, which reads as two).
#[test]
fn a_key_with_a_dotted_segment_is_shown_as_its_segments() {
    let sandbox = Sandbox::new();
    let key = sandbox_key(&sandbox);
    sandbox.manifest(&format!(
        "[providers.sops]\npath = \"{}\"\nidentity = \"{}\"\nbackend = \"native\"\n[secrets]\nP = {{ path = \"p\", key = [\"pass.word\"] }}\n",
        fixture("quoted_regex.sops.yaml").display(),
        key.display()
    ));
    let output = sandbox.kstrun().arg("check").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("[\"pass.word\"]"), "{stdout}");
    assert!(!stdout.contains("key=pass.word"), "{stdout}");
    assert_no_leak(&output, &["dotted-secret"]);
}

/// A key command that asks for a passphrase at the terminal (as `age -d
/// key.age` does; here a shell script) gets the terminal while it runs,
/// with kstrun started from an interactive shell: its prompt is answered
/// without echo and the secret resolves; Ctrl-Z at the prompt stops the
/// run as the shell's job and `fg` brings the prompt back; Ctrl-C there
/// stops kstrun as an interrupt (130), not as a failed key to try another
/// way, as SIGTERM does (143); and an unanswered prompt fails at the
/// deadline. Each time the shell gets its terminal back, echo on.
#[test]
fn a_key_command_may_prompt_at_the_terminal() {
    let sandbox = Sandbox::new();
    let key_cmd = sandbox.write(
        "ask.sh",
        format!(
            "#!/bin/sh\nprintf 'passphrase: ' > /dev/tty\nstty -echo < /dev/tty\nread -r line < /dev/tty\nstty echo < /dev/tty\necho > /dev/tty\n[ \"$line\" = pw-4711 ] && cat '{}'\n",
            fixture("test-age-key.txt").display()
        )
        .as_bytes(),
    );
    set_mode(&key_cmd, 0o755);
    sandbox.manifest(&format!(
        "[providers.sops]\npath = \"{}\"\nbackend = \"native\"\ntimeout_ms = 4000\n[secrets]\nSMTP = \"mail.smtp.password\"\n",
        fixture("basic.sops.yaml").display()
    ));
    let command = format!(
        "SOPS_AGE_KEY_CMD={} {} -m {} -- /bin/sh -c 'echo got:$SMTP'",
        key_cmd.display(),
        env!("CARGO_BIN_EXE_kstrun"),
        sandbox.path().join("kstrun.toml").display()
    );
    let run = format!("{command}; echo status-$?; stty -a | grep -o -- ' -*echo ' | head -n 1\n");
    let Some(answered) =
        common::at_a_terminal(&["sleep:0.5", &run, "sleep:1", "pw-4711\n", "sleep:1"])
    else {
        eprintln!("skipping: no python3");
        return;
    };
    assert!(answered.contains("got:hunter2"), "{answered}");
    assert!(answered.contains("status-0"), "{answered}");
    assert!(
        !answered.contains("pw-4711"),
        "the passphrase was echoed: {answered}"
    );
    assert!(answered.contains(" echo "), "{answered}");

    // Typed `start`, then `stop` at the prompt, a word to the shell, `fg`
    // and the passphrase.
    let stop_then_fg = |start: &str, stop: &str| {
        common::at_a_terminal(&[
            "sleep:0.5",
            start,
            "sleep:1",
            stop,
            "sleep:0.5",
            "echo shell-has-it\n",
            "sleep:0.3",
            "fg\n",
            "sleep:0.5",
            "pw-4711\n",
            "sleep:1",
        ])
        .unwrap()
    };
    // Ctrl-Z; in a pipeline it stops the whole job, not kstrun alone;
    // started with `&`, the job stops when the helper reaches for the
    // terminal, and `fg` lends it then.
    for (start, stop) in [
        (run.clone(), "\x1a"),
        (format!("{command} | cat\n"), "\x1a"),
        (format!("{command} &\n"), ""),
    ] {
        let shown = stop_then_fg(&start, stop);
        assert!(shown.contains("Stopped"), "{start}: {shown}");
        assert_eq!(shown.matches("shell-has-it").count(), 2, "{start}: {shown}");
        assert!(shown.contains("got:hunter2"), "{start}: {shown}");
        assert!(!shown.contains("pw-4711"), "{start}: echoed: {shown}");
        if start == run {
            // The shell goes on with its command line once the job stops
            // (148: SIGTSTP), and has the terminal, echo on, until `fg`.
            assert!(shown.contains("status-148\r\n echo "), "{shown}");
        }
    }
    // `bg` continues the job without the terminal: reaching for it stops
    // the job again, however long it waited, and `fg` still gets the prompt.
    let backgrounded = common::at_a_terminal(&[
        "sleep:0.5",
        &run,
        "sleep:1",
        "\x1a",
        "sleep:0.5",
        "bg\n",
        "sleep:5",
        "fg\n",
        "sleep:0.5",
        "pw-4711\n",
        "sleep:1",
    ])
    .unwrap();
    // (bash tells of the second stop only at its next prompt.)
    assert!(!backgrounded.contains("no answer within"), "{backgrounded}");
    assert!(backgrounded.contains("got:hunter2"), "{backgrounded}");
    assert!(!backgrounded.contains("pw-4711"), "echoed: {backgrounded}");

    let interrupted =
        common::at_a_terminal(&["sleep:0.5", &run, "sleep:1", "\x03", "sleep:1"]).unwrap();
    assert!(interrupted.contains("status-130"), "{interrupted}");
    assert!(interrupted.contains("interrupted"), "{interrupted}");
    assert_eq!(
        interrupted.matches("passphrase: ").count(),
        1,
        "{interrupted}"
    );
    assert!(!interrupted.contains("got:hunter2"), "{interrupted}");
    assert!(interrupted.contains(" echo "), "{interrupted}");

    // SIGTERM at the prompt: kstrun exits from its interrupt watcher, which
    // gives the terminal back first; the shell reads the next line.
    let kill_later = format!(
        "(sleep 1.5; pkill -TERM -f -- '^{} -m {}') &\n",
        env!("CARGO_BIN_EXE_kstrun"),
        sandbox.path().join("kstrun.toml").display()
    );
    let terminated = common::at_a_terminal(&[
        "sleep:0.5",
        &kill_later,
        "sleep:0.2",
        &run,
        "sleep:2.5",
        "echo shell-reads-on\n",
        "sleep:0.5",
    ])
    .unwrap();
    let after = terminated.split_once("status-143").map(|(_, after)| after);
    assert!(
        after.is_some_and(|after| after.starts_with("\r\n echo ")),
        "{terminated}"
    );
    // Typed and then printed: the shell ran it.
    assert_eq!(
        terminated.matches("shell-reads-on").count(),
        2,
        "{terminated}"
    );

    let unanswered = common::at_a_terminal(&["sleep:0.5", &run, "sleep:5.5"]).unwrap();
    assert!(unanswered.contains("status-125"), "{unanswered}");
    assert!(
        unanswered.contains("no answer within 4.0 s"),
        "{unanswered}"
    );
    assert!(unanswered.contains(" echo "), "{unanswered}");
}
