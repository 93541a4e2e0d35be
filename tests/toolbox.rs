//! The toolbox around the runner: `init`, `completions`, `man`, the help
//! examples, and the files in `examples/`.
//!
//! Examples that can run here are run: the Makefile (with the built kstrun on
//! PATH), the library example, the systemd `kstrun export` pattern and, once
//! the sops tier is built, the container's command line outside a container.
//! Docker and systemd themselves cannot run here, so the Dockerfile and units
//! are checked statically: every kstrun command line in them must parse with
//! kstrun's own clap definition, and `systemd-analyze verify` must accept the
//! units (skipped when it is missing, except under `scripts/test`).

mod common;

use assert_cmd::Command;
use clap::{CommandFactory, Parser};
use common::tool_available;
use kstrun::cli::Cli;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

const STARTER: &str = include_str!("../src/commands/init.toml");
const SECRET: &str = "postgres://app:hunter2@db/app";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kstrun_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kstrun"))
}

/// kstrun in `dir` with an empty environment but for a PATH and a HOME.
fn kstrun(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("kstrun").expect("kstrun binary");
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir);
    command
}

// ---------------------------------------------------------------- init

#[test]
fn init_writes_a_starter_that_check_can_load() {
    let dir = tempfile::tempdir().unwrap();
    kstrun(dir.path())
        .arg("init")
        .assert()
        .code(0)
        .stderr(predicate::str::contains("wrote kstrun.toml"));
    let written = fs::read_to_string(dir.path().join("kstrun.toml")).unwrap();
    assert_eq!(written, STARTER);
    for needle in [
        "pass = [\"PATH\", \"HOME\", \"LANG\", \"LC_*\", \"TZ\", \"TERM\"]",
        "as = \"file\"",
        "as = \"json\"",
        "required = false",
        "default =",
        "sops =",
        "providers = [",
        "[providers.keyring]",
        "[providers.sops]",
        "[secure_delete]",
    ] {
        assert!(written.contains(needle), "starter lacks {needle}");
    }
    // A required secret nobody has yet: check says so (1), the manifest is valid (not 125).
    kstrun(dir.path())
        .arg("check")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("DATABASE_URL"));
    kstrun(dir.path())
        .arg("check")
        .env("KSTLIB_DATABASE_URL", SECRET)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(SECRET).not());
}

#[test]
fn init_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kstrun.toml");
    fs::write(&file, "pass = []\n").unwrap();
    kstrun(dir.path())
        .arg("init")
        .assert()
        .code(125)
        .stderr(predicate::str::contains("'kstrun.toml'"))
        .stderr(predicate::str::contains("already exists; use --force"));
    assert_eq!(fs::read_to_string(&file).unwrap(), "pass = []\n");

    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    kstrun(dir.path())
        .args(["init", "--force"])
        .assert()
        .code(0);
    assert_eq!(fs::read_to_string(&file).unwrap(), STARTER);
    let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "--force keeps the old file's permissions");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

/// `--force` keeps the replaced file's permissions, and as root its owner.
#[test]
fn init_force_keeps_mode_and_owner() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("kept.toml");
    fs::write(&target, "pass = []\n").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
    // SAFETY: geteuid only reads the process's credentials.
    let root = unsafe { nix::libc::geteuid() } == 0;
    if root {
        std::os::unix::fs::chown(&target, Some(65534), Some(65534)).unwrap();
    }
    kstrun(dir.path())
        .args(["init", "--force", "-m", "kept.toml"])
        .assert()
        .code(0);
    let new = fs::metadata(&target).unwrap();
    assert_eq!(new.permissions().mode() & 0o7777, 0o640);
    if root {
        assert_eq!((new.uid(), new.gid()), (65534, 65534));
    }
    assert!(fs::read_to_string(&target).unwrap().contains("[secrets]"));
}

#[test]
fn init_force_replaces_a_regular_file_only() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.toml");
    fs::write(&target, "pass = []\n").unwrap();
    std::os::unix::fs::symlink("target.toml", dir.path().join("link.toml")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock.toml")).unwrap();
    for name in ["link.toml", "sock.toml"] {
        kstrun(dir.path())
            .args(["init", "--force", "-m", name])
            .assert()
            .code(125)
            .stderr(predicate::str::contains("not a regular file"));
    }
    let link = fs::symlink_metadata(dir.path().join("link.toml")).unwrap();
    assert!(link.file_type().is_symlink(), "the link is left as it was");
    assert_eq!(fs::read_to_string(&target).unwrap(), "pass = []\n");
    let socket = fs::symlink_metadata(dir.path().join("sock.toml")).unwrap();
    assert!(
        !socket.file_type().is_file(),
        "the socket is left as it was"
    );

    // A file already at the temporary name is not kstrun's to remove.
    let output = std::process::Command::new("sh")
        .current_dir(dir.path())
        .args([
            "-c",
            "echo precious > target.toml.kstrun-init-$$; exec \"$0\" init --force -m target.toml",
        ])
        .arg(kstrun_bin())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("target.toml.kstrun-init-"), "{stderr}");
    let precious: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("kstrun-init-"))
        .collect();
    assert_eq!(precious.len(), 1);
    assert_eq!(
        fs::read_to_string(precious[0].path()).unwrap(),
        "precious\n"
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), "pass = []\n");
    fs::remove_file(precious[0].path()).unwrap();

    // A write that fails half-way (here a file size limit of 1 KiB) leaves
    // no partial file behind, temporary or new.
    for args in ["init --force -m target.toml", "init -m new.toml"] {
        let output = std::process::Command::new("sh")
            .current_dir(dir.path())
            .args([
                "-c",
                &format!("trap '' XFSZ; ulimit -f 1; exec \"$0\" {args}"),
            ])
            .arg(kstrun_bin())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(125), "{args}: {output:?}");
        let mut left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["link.toml", "sock.toml", "target.toml"], "{args}");
    }
    assert_eq!(fs::read_to_string(&target).unwrap(), "pass = []\n");
}

#[test]
fn init_writes_where_m_points() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("conf")).unwrap();
    kstrun(dir.path())
        .args(["init", "-m", "conf/app.toml"])
        .assert()
        .code(0);
    assert_eq!(
        fs::read_to_string(dir.path().join("conf/app.toml")).unwrap(),
        STARTER
    );
    assert!(!dir.path().join("kstrun.toml").exists());
    kstrun(dir.path())
        .args(["check", "-m", "conf/app.toml"])
        .assert()
        .code(1);

    kstrun(dir.path())
        .args(["init", "-m", "conf"])
        .assert()
        .code(125)
        .stderr(predicate::str::contains("is a directory"));
    kstrun(dir.path())
        .args(["init", "-m", "missing/app.toml"])
        .assert()
        .code(125)
        .stderr(predicate::str::contains("cannot write 'missing/app.toml'"));
}

// ------------------------------------------------- completions, man, help

#[test]
fn completions_render_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _kstrun"),
        ("zsh", "#compdef kstrun"),
        ("fish", "complete -c kstrun"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[kstrun]"),
    ] {
        let output = kstrun(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains(marker), "{shell} script lacks {marker}");
        for word in ["check", "export", "shred", "init", "completions", "man"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let bash = kstrun(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    let bash = String::from_utf8(bash.stdout).unwrap();
    for option in [
        "--method",
        "--passes",
        "--zero-last-pass",
        "--manifest",
        "--scope",
    ] {
        assert!(bash.contains(option), "bash completion lacks {option}");
    }
    kstrun(dir.path())
        .args(["completions", "tcsh"])
        .assert()
        .code(125);
}

#[test]
fn man_renders_roff() {
    let dir = tempfile::tempdir().unwrap();
    let output = kstrun(dir.path()).arg("man").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let page = String::from_utf8(output.stdout).unwrap();
    assert!(page.contains(".TH kstrun 1"), "{page}");
    for word in [
        ".SH NAME",
        ".SH SYNOPSIS",
        "shred",
        "completions",
        "\\-\\-manifest",
    ] {
        assert!(page.contains(word), "man page lacks {word}");
    }
    // kstrun(1) lists kstrun-shred(1) and the others: each can be printed.
    assert!(page.contains("kstrun\\-shred(1)"), "{page}");
    let output = kstrun(dir.path()).args(["man", "shred"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let page = String::from_utf8(output.stdout).unwrap();
    for word in [".TH kstrun-shred 1", "\\-\\-passes", "\\-\\-method"] {
        assert!(page.contains(word), "kstrun-shred(1) lacks {word}:\n{page}");
    }
    let output = kstrun(dir.path()).args(["man", "nope"]).output().unwrap();
    assert_eq!(output.status.code(), Some(125), "{output:?}");
}

#[test]
fn help_shows_the_common_cases() {
    let dir = tempfile::tempdir().unwrap();
    let output = kstrun(dir.path()).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "ENTRYPOINT [\"kstrun\"",
        "/run/secrets/age-key",
        "in a Makefile",
        "in CI",
        "kstrun check",
        "kstrun init",
        "kstrun shred",
        "kstrun completions",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    let output = kstrun(dir.path())
        .args(["shred", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--method",
        "--passes",
        "--zero-last-pass",
        "--no-zero-last-pass",
        "--force",
    ] {
        assert!(help.contains(option), "shred --help lacks {option}");
    }
}

// ---------------------------------------------------------------- examples

#[test]
fn make_example_runs_with_kstrun_on_path() {
    if !tool_available("make", &["--version"]) {
        return;
    }
    let bin_dir = kstrun_bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let make = |target: &str, secret: Option<&str>| {
        let mut command = std::process::Command::new("make");
        command
            .args(["-s", "-C"])
            .arg(repo().join("examples/make"))
            .arg(target)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", home.path());
        if let Some(secret) = secret {
            command.env("KSTLIB_DATABASE_URL", secret);
        }
        command.output().expect("run make")
    };

    let run = make("run", Some(SECRET));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("DATABASE_URL: {} bytes, API_TOKEN: 9 bytes", SECRET.len())
    );
    assert!(!stderr.contains(SECRET));

    let check = make("check", Some(SECRET));
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("DATABASE_URL") && !stdout.contains(SECRET),
        "{stdout}"
    );

    // CI: a missing secret fails the target.
    let check = make("check", None);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_ne!(check.status.code(), Some(0));
    assert!(stdout.contains("missing"), "{stdout}");
    let run = make("run", None);
    assert_ne!(run.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&run.stderr).contains("DATABASE_URL"));
}

#[test]
fn library_example_resolves_without_showing_the_value() {
    let example = kstrun_bin()
        .parent()
        .unwrap()
        .join("examples")
        .join("library");
    assert!(
        example.exists(),
        "{} is missing: build it with `cargo build --examples` (cargo test builds it \
         unless targets are filtered)",
        example.display()
    );
    let home = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(&example)
        .env_clear()
        .env("HOME", home.path())
        .env("KSTLIB_DATABASE_URL", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("source: Env"), "{stdout}");
    assert!(stdout.contains("KSTLIB_DATABASE_URL"), "{stdout}");
    assert!(
        stdout.contains(&format!("{} bytes, a URL", SECRET.len())),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2"), "{stdout}");

    let output = std::process::Command::new(&example)
        .arg("api.missing_key")
        .env_clear()
        .env("HOME", home.path())
        .env("KSTLIB_DATABASE_URL", SECRET)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("api.missing_key") && stderr.contains("not found"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"));
}

/// Flags other work adds to the runner; until that work is merged, a command
/// line using them is checked without them. Once the flag exists it is
/// checked like any other.
const FLAGS_LANDING_ELSEWHERE: &[&str] = &["--init"];

/// Parses `argv` with kstrun's own clap definition.
fn parses(argv: &[String]) -> Result<(), String> {
    let defined: Vec<String> = Cli::command()
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    let end = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    let argv: Vec<&String> = argv
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            *i >= end || !FLAGS_LANDING_ELSEWHERE.contains(&a.as_str()) || defined.contains(a)
        })
        .map(|(_, a)| a)
        .collect();
    Cli::try_parse_from(argv)
        .map(drop)
        .map_err(|e| e.to_string())
}

#[test]
fn dockerfile_uses_kstrun_as_documented() {
    let text = fs::read_to_string(repo().join("examples/docker/Dockerfile")).unwrap();
    let json = |key: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no {key}"));
        serde_json::from_str(line[key.len()..].trim()).expect("exec form")
    };
    let entrypoint = json("ENTRYPOINT");
    assert_eq!(entrypoint, ["kstrun", "--init", "--"]);
    let argv: Vec<String> = entrypoint.into_iter().chain(json("CMD")).collect();
    parses(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(text.contains("ENV SOPS_AGE_KEY_FILE=/run/secrets/age-key"));
    // Every file copied from the build context exists.
    for line in text
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        for source in &words[1..words.len() - 1] {
            assert!(
                repo().join(source).exists(),
                "COPY source {source} is missing"
            );
        }
    }
    let compose = fs::read_to_string(repo().join("examples/docker/compose.yaml")).unwrap();
    assert!(compose.contains("secrets:") && compose.contains("- age-key"));
    assert!(compose.contains("file: ./demo-age-key.txt"));
    assert!(repo().join("examples/docker/demo-age-key.txt").exists());
}

/// The container's command line, run here without a container: the image's
/// manifest and encrypted file, the demo key where the secret would be.
#[test]
fn docker_example_resolves_outside_a_container() {
    let folder = repo().join("examples/docker");
    let key = folder.join("demo-age-key.txt");
    let check = kstrun(&folder)
        .arg("check")
        .env("SOPS_AGE_KEY_FILE", &key)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    if report.contains("sops      skipped (not built)") {
        eprintln!("skipped: this build has no sops tier yet");
        return;
    }
    assert_eq!(check.status.code(), Some(0), "{report}");
    let text = fs::read_to_string(folder.join("Dockerfile")).unwrap();
    let line = text.lines().find(|l| l.starts_with("CMD")).unwrap();
    let cmd: Vec<String> = serde_json::from_str(line[3..].trim()).unwrap();
    kstrun(&folder)
        .arg("--")
        .args(&cmd)
        .env("SOPS_AGE_KEY_FILE", &key)
        .assert()
        .code(0)
        .stdout("DATABASE_URL: 40 bytes, API_TOKEN: 29 bytes\n");
}

/// The kstrun command lines of a unit: `Exec*=` values naming kstrun, split
/// like systemd does, with a `sh -c` script split again up to a redirection.
fn kstrun_lines(unit: &str) -> Vec<Vec<String>> {
    unit.lines()
        .filter_map(|l| l.strip_prefix("Exec").and_then(|l| l.split_once('=')))
        .map(|(_, value)| shell_words::split(value).expect("unit command line"))
        .map(|words| match words.iter().position(|w| w == "-c") {
            Some(i) => shell_words::split(&words[i + 1]).expect("sh -c script"),
            None => words,
        })
        .filter_map(|words| {
            let start = words.iter().position(|w| w.ends_with("/kstrun"))?;
            let end = words.iter().position(|w| w == ">").unwrap_or(words.len());
            Some(words[start..end].to_vec())
        })
        .collect()
}

#[test]
fn systemd_units_use_kstrun_as_documented() {
    for (name, expected) in [("myapp.service", 1), ("myapp-envfile.service", 1)] {
        let unit = fs::read_to_string(repo().join("examples/systemd").join(name)).unwrap();
        let lines = kstrun_lines(&unit);
        assert_eq!(lines.len(), expected, "{name}: {lines:?}");
        for argv in &lines {
            parses(argv).unwrap_or_else(|e| panic!("{name}: {argv:?}: {e}"));
        }
    }
    let envfile =
        fs::read_to_string(repo().join("examples/systemd/myapp-envfile.service")).unwrap();
    assert!(envfile.contains("export --format dotenv > /run/myapp/secrets.env"));
    assert!(envfile.contains("EnvironmentFile=-/run/myapp/secrets.env"));
    assert!(envfile.contains("RuntimeDirectory=myapp"));
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    if !tool_available("systemd-analyze", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for name in ["myapp.service", "myapp-envfile.service"] {
        let text = fs::read_to_string(repo().join("examples/systemd").join(name))
            .unwrap()
            .replace("/usr/local/bin/kstrun", &kstrun_bin().display().to_string())
            .replace("/usr/local/bin/myapp", "/bin/true");
        let unit = dir.path().join(name);
        fs::write(&unit, text).unwrap();
        units.push(unit);
    }
    let output = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&units)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The ExecStartPre script, run for real with paths moved into a temp dir:
/// it writes a 0600 dotenv file holding the secrets.
#[test]
fn systemd_envfile_pattern_writes_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("kstrun.toml");
    fs::write(
        &manifest,
        "pass = [\"LANG\"]\n[secrets]\nDATABASE_URL = \"database.url\"\n",
    )
    .unwrap();
    let unit = fs::read_to_string(repo().join("examples/systemd/myapp-envfile.service")).unwrap();
    let value = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStartPre="))
        .expect("ExecStartPre");
    let words = shell_words::split(value).unwrap();
    assert_eq!(words[..2], ["/bin/sh", "-c"]);
    let envfile = dir.path().join("secrets.env");
    let script = words[2]
        .replace("/usr/local/bin/kstrun", &kstrun_bin().display().to_string())
        .replace("/etc/myapp/kstrun.toml", &manifest.display().to_string())
        .replace("/run/myapp/secrets.env", &envfile.display().to_string());
    let output = std::process::Command::new("/bin/sh")
        .args(["-c", &format!("umask 077; {script}")])
        .env_clear()
        .env("LANG", "C.UTF-8")
        .env("KSTLIB_DATABASE_URL", SECRET)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = fs::read_to_string(&envfile).unwrap();
    assert!(text.contains("LANG="), "{text}");
    assert!(
        text.contains(&format!("DATABASE_URL={SECRET}"))
            || text.contains(&format!("DATABASE_URL=\"{SECRET}\"")),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&envfile).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
