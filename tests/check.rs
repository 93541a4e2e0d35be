//! `kstrun check`: where each secret comes from, never a value.

mod common;

use common::{assert_no_leak, Sandbox};

const MANIFEST: &str =
    "[secrets]\nDB = \"database.url\"\nOPT = { path = \"o.p\", required = false }\n\
                        DEF = { path = \"log.token\", default = \"default-value-77\" }\n";

#[test]
fn all_resolved_is_exit_0_and_shows_sources_without_values() {
    let sandbox = Sandbox::new();
    sandbox.manifest(MANIFEST);
    let output = sandbox
        .kstrun()
        .env("KSTLIB_DATABASE_URL", "env-value-42")
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("DB")
            && stdout.contains("database.url")
            && stdout.contains("env_name=KSTLIB_DATABASE_URL"),
        "{stdout}"
    );
    assert!(
        stdout.contains("DEF") && stdout.contains("default"),
        "{stdout}"
    );
    assert!(
        stdout.contains("OPT") && stdout.contains("unset"),
        "{stdout}"
    );
    assert!(
        stdout.contains("providers:") && stdout.contains("env"),
        "{stdout}"
    );
    assert_no_leak(&output, &["env-value-42", "default-value-77"]);
}

#[test]
fn a_missing_required_secret_is_exit_1() {
    let sandbox = Sandbox::new();
    sandbox.manifest(MANIFEST);
    let output = sandbox.kstrun().arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("missing") && stdout.contains("KSTLIB_DATABASE_URL"),
        "{stdout}"
    );
}

/// The row of `check`'s table for the variable `var` (its name padded, so
/// that one name is not taken for the start of another).
fn row<'a>(stdout: &'a str, var: &str) -> &'a str {
    stdout
        .lines()
        .find(|line| line.starts_with(var))
        .unwrap_or_default()
}

/// A value the child's environment cannot hold (a NUL byte) fails `run`,
/// so `check` shows that secret failed and exits 1, without the value; as a
/// file secret the same value is fine.
#[test]
fn a_value_run_would_refuse_is_a_failure_in_check() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "[secrets]\nNUL = { path = \"n.v\", default = \"a\\u0000planted-secret-4711\" }\n\
         FILE = { path = \"f.v\", default = \"b\\u0000planted-secret-4711\", as = \"file\" }\n",
    );
    let output = sandbox.kstrun().arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(row(&stdout, "NUL ").contains("failed"), "{stdout}");
    assert!(row(&stdout, "FILE").contains("ok"), "{stdout}");
    assert!(stdout.contains("the value contains a NUL byte"), "{stdout}");
    assert_no_leak(&output, &["planted-secret-4711"]);
}

/// A value longer than one environment variable may be (Linux: 128 KiB
/// with its name) fails `check` and `run` by name, with exit 125 and no
/// child, instead of an exec failing with "Argument list too long".
#[test]
fn a_value_too_long_for_one_variable_is_a_failure() {
    let sandbox = Sandbox::new();
    let long = format!("planted-secret-4711{}", "x".repeat(128 * 1024));
    let fits = "y".repeat(128 * 1024 - "FITS=".len() - 1);
    sandbox.manifest(&format!(
        "[secrets]\nBIG = {{ path = \"b.v\", default = \"{long}\" }}\n\
         FILE = {{ path = \"f.v\", default = \"{long}\", as = \"file\" }}\n\
         FITS = {{ path = \"fits\", default = \"{fits}\" }}\n"
    ));
    let output = sandbox.kstrun().arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(row(&stdout, "BIG ").contains("failed"), "{stdout}");
    assert!(row(&stdout, "FILE").contains("ok"), "{stdout}");
    assert!(row(&stdout, "FITS").contains("ok"), "{stdout}");
    assert_no_leak(&output, &["planted-secret-4711"]);

    let output = sandbox
        .kstrun()
        .arg("--")
        .args(sandbox.marker_child())
        .output()
        .unwrap();
    common::assert_failed_125(
        &output,
        &["BIG", "131071 bytes", "deliver it with as = \"file\""],
    );
    sandbox.assert_child_not_started();
    assert_no_leak(&output, &["planted-secret-4711"]);

    // `export` execs nothing: the value is printed whole.
    let output = sandbox
        .kstrun()
        .args(["export", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", output.stderr);
    assert!(String::from_utf8_lossy(&output.stdout).contains(&long));
}

#[test]
fn an_invalid_manifest_is_exit_125() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nA = \"\"\n");
    let output = sandbox.kstrun().arg("check").output().unwrap();
    common::assert_failed_125(&output, &["kstrun.toml:2:"]);
}

#[test]
fn json_output_describes_every_variable_and_provider() {
    let sandbox = Sandbox::new();
    sandbox.manifest(MANIFEST);
    let output = sandbox
        .kstrun()
        .env("DATABASE_URL", "env-value-42")
        .args(["check", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_no_leak(&output, &["env-value-42", "default-value-77"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], true);
    let secrets = report["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 3);
    assert_eq!(secrets[0]["variable"], "DB");
    assert_eq!(secrets[0]["provider"], "env");
    assert_eq!(secrets[0]["where"]["env_name"], "DATABASE_URL");
    assert_eq!(secrets[1]["status"], "unset");
    assert_eq!(secrets[2]["provider"], "default");
    let providers: Vec<&str> = report["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["override", "env", "keyring", "sops"]);
}

#[test]
fn the_commented_example_manifest_is_valid() {
    let sandbox = Sandbox::new();
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/kstrun.toml.example"))
            .unwrap();
    sandbox.manifest(&example);
    for scope in [None, Some("production")] {
        let mut command = sandbox.kstrun();
        if let Some(scope) = scope {
            command.args(["--scope", scope]);
        }
        let output = command.args(["check", "--json"]).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "loads, but secrets are missing here: {output:?}"
        );
    }
}

/// A name or path wider than any column still gets its row (a format width
/// past 65,535 used to abort kstrun), and a control character in a path
/// reaches the terminal as an escape.
#[test]
fn a_very_long_path_and_a_control_character_are_shown_as_text() {
    let sandbox = Sandbox::new();
    let long = "a".repeat(70_000);
    sandbox.manifest(&format!(
        "[secrets]\nLONG = {{ path = \"{long}\", default = \"x\" }}\nBELL = {{ path = \"b\\u0007c\", default = \"y\" }}\n"
    ));
    let output = sandbox.kstrun().arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("LONG      {long}  ok")),
        "{stdout}"
    );
    assert!(stdout.contains("b\\u{7}c"), "{stdout}");
    assert!(!output.stdout.contains(&0x07), "{stdout}");
}

/// The table's columns line up whatever a cell holds: an escaped control
/// character takes the room of its escape (a tab or a newline too, which
/// would otherwise move or break the row), an accented letter one place.
#[test]
fn columns_line_up_with_escapes_and_non_ascii_paths() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "[secrets]\nA = { path = \"b\\u0007c\", default = \"x\" }\nB = { path = \"caf\u{e9}.cr\u{e8}me.br\u{fb}l\u{e9}e\", default = \"y\" }\nC = { path = \"plain\", default = \"z\" }\nD = { path = \"a\\tb\", default = \"t\" }\nE = { path = \"a\\nb\", default = \"n\" }\n",
    );
    let output = sandbox.kstrun().arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let status_columns: Vec<usize> = ["A ", "B ", "C ", "D ", "E "]
        .iter()
        .map(|start| {
            let line = stdout
                .lines()
                .find(|line| line.starts_with(start))
                .unwrap_or_else(|| panic!("no row {start}: {stdout}"));
            let at = line.find("  ok  ").unwrap_or_else(|| panic!("{line}"));
            line[..at].chars().count()
        })
        .collect();
    assert!(
        status_columns.iter().all(|&c| c == status_columns[0]),
        "{status_columns:?}\n{stdout}"
    );
    // The line under a failing row stays one line too.
    sandbox.manifest("[secrets]\nF = \"p\\nq\"\n");
    let output = sandbox.kstrun().arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{:?}", output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.lines().any(|line| line.starts_with("q'")),
        "{stdout}"
    );
    assert!(stdout.contains("p\\nq"), "{stdout}");
}

/// A chosen scope that names its own kstlib config replaces the root's: the
/// root's config (here a keyring service keyutils refuses) is not held
/// against it, and is not even read. Without the scope, the root's is wrong.
#[test]
fn a_chosen_scope_with_its_own_config_is_not_judged_by_the_roots() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "root.yml",
        b"secrets:\n  keyring:\n    service: team@corp\n",
    );
    sandbox.write("prod.yml", b"secrets:\n  keyring:\n    service: prodsvc\n");
    sandbox.manifest(
        "config = \"root.yml\"\n[providers.keyring]\nbackend = \"keyutils\"\n[scopes.prod]\nconfig = \"prod.yml\"\n",
    );
    let scoped = sandbox
        .kstrun()
        .args(["--scope", "prod", "check"])
        .output()
        .unwrap();
    assert_eq!(
        scoped.status.code(),
        Some(0),
        "{:?}",
        String::from_utf8_lossy(&scoped.stderr)
    );
    let plain = sandbox.kstrun().arg("check").output().unwrap();
    assert_eq!(plain.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("may not hold '@'"));
}

/// With scopes, the root's kstlib config serves both the scope checks and
/// the run: it is read once, so both see the same settings. Here it is a
/// FIFO written once: a second read would wait for a writer forever.
#[test]
fn the_roots_config_is_read_once_with_scopes() {
    let sandbox = Sandbox::new();
    let fifo = sandbox.path().join("root.yml");
    sandbox.manifest(
        "config = \"root.yml\"\n[secrets]\nA = { path = \"a\", default = \"x\" }\n[scopes.dev]\nsecrets = { B = { path = \"b\", default = \"y\" } }\n",
    );
    for args in [&["check"][..], &["--scope", "dev", "check"]] {
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
        let writer = fifo.clone();
        std::thread::spawn(move || {
            std::fs::write(writer, b"secrets:\n  keyring:\n    service: teamsvc\n").unwrap()
        });
        let mut kstrun = sandbox.spawn_command().args(args).spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(status) = kstrun.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                kstrun.kill().unwrap();
                panic!("{args:?}: still reading the root's config after 20 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let output = kstrun.wait_with_output().unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::remove_file(&fifo).unwrap();
    }
}
