//! The main job: exit statuses, the exact child environment, the cascade order.

mod common;

use common::{assert_failed_125, assert_no_leak, at_a_terminal, env0_entries, Sandbox};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;

#[test]
fn every_exit_status_passes_through() {
    let sandbox = Sandbox::new();
    for status in 0..=255 {
        let output = sandbox
            .kstrun()
            .args(["-s", "X=x.y", "--set", "x.y=v", "--", "sh", "-c"])
            .arg(format!("exit {status}"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(status), "status {status}");
    }
}

#[test]
fn a_child_killed_by_a_signal_is_seen_killed_by_that_signal() {
    let sandbox = Sandbox::new();
    for signal in [
        libc_signal::SIGTERM,
        libc_signal::SIGKILL,
        libc_signal::SIGSEGV,
    ] {
        let output = sandbox
            .kstrun()
            .args(["-s", "X=x.y", "--set", "x.y=v", "--", "sh", "-c"])
            .arg(format!("kill -{signal} $$"))
            .output()
            .unwrap();
        assert_eq!(output.status.signal(), Some(signal), "{:?}", output.status);
    }
}

/// Signal numbers as Linux defines them (kept local: no libc dependency for tests).
mod libc_signal {
    pub const SIGKILL: i32 = 9;
    pub const SIGSEGV: i32 = 11;
    pub const SIGTERM: i32 = 15;
}

/// A stderr that cannot be written (a closed pipe) loses kstrun's messages,
/// not the program; stdout that cannot be written fails `check` and
/// `export` with 125 and a message, never an abort.
#[test]
fn unwritable_output_never_aborts_kstrun() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nX = \"x.y\"\n");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = sandbox
        .spawn_command()
        .env("X_Y", "v")
        .args(["-v", "--", "sh", "-c", "touch started"])
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(sandbox.path().join("started").exists());
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = sandbox
        .spawn_command()
        .args(["--bogus"])
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(125), "{output:?}");
    // A reader that stops early takes all the help it wanted: not an error.
    for args in [&["--help"][..], &["man"], &["completions", "bash"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = sandbox
            .spawn_command()
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
        assert!(output.stderr.is_empty(), "{args:?}: {output:?}");
    }
    for subcommand in ["check", "export", "--help", "--version", "help"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = sandbox
            .spawn_command()
            .env("X_Y", "s3cr3t-value-q9")
            .arg(subcommand)
            .stdout(full)
            .output()
            .unwrap();
        assert_failed_125(&output, &["writing to stdout"]);
        assert_no_leak(&output, &["s3cr3t-value-q9"]);
    }
}

/// A standard descriptor closed when kstrun starts gets `/dev/null`, so that
/// nothing kstrun opens (here the memfd of a file secret) lands on it: the
/// child sees `/dev/null` there and its file secret above 2. `check` and
/// `export` started with stdout closed fail instead of writing nowhere.
#[test]
fn closed_standard_descriptors_become_dev_null_and_closed_stdout_fails_output() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nX = \"x.y\"\nF = { path = \"f.g\", as = \"file\" }\n");
    // The child reports on stderr, the one descriptor left open (with the
    // test builtin: an external command would see the shell's redirection).
    let report = "for fd in 0 1; do [ /proc/self/fd/$fd -ef /dev/null ] && echo null >&2; done; \
                  echo \"F=$F\" >&2";
    let started_closed = |arguments: &[&str], value: &str| {
        std::process::Command::new("sh")
            .current_dir(sandbox.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", sandbox.path())
            .env("X_Y", value)
            .env("F_G", "file-bytes")
            .args(["-c", "exec \"$0\" \"$@\" <&- >&-"])
            .arg(env!("CARGO_BIN_EXE_kstrun"))
            .args(arguments)
            .output()
            .unwrap()
    };
    let output = started_closed(&["--", "sh", "-c", report], "v");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[..2], ["null", "null"], "{stderr}");
    let fd: u32 = lines[2]
        .strip_prefix("F=/dev/fd/")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(fd > 2, "{stderr}");
    for subcommand in ["check", "export", "--help", "--version"] {
        let output = started_closed(&[subcommand], "s3cr3t-value-q9");
        assert_failed_125(
            &output,
            &["writing to stdout: it was closed when kstrun started"],
        );
        assert_no_leak(&output, &["s3cr3t-value-q9"]);
    }
}

/// A relative `binary` path is relative to the manifest's folder, as every
/// other path in it is, whatever folder kstrun runs in.
#[test]
fn a_relative_sops_binary_is_relative_to_the_manifest() {
    let sandbox = Sandbox::new();
    let tool = sandbox.write(
        "p/tools/sops",
        b"#!/bin/sh\nprintf '{\"a\": {\"b\": \"from-the-tool\"}}'\n",
    );
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    sandbox.write("p/s.yaml", b"a: {b: ENC[...]}\n");
    sandbox.write(
        "p/kstrun.toml",
        b"[providers.sops]\npath = \"s.yaml\"\nbinary = \"tools/sops\"\nbackend = \"binary\"\n[secrets]\nA = \"a.b\"\n",
    );
    let output = sandbox
        .kstrun()
        .args(["-m", "p/kstrun.toml", "--", "printenv", "A"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "from-the-tool\n",
        "{output:?}"
    );
}

/// A relative `binary` in a folder whose name is not UTF-8 cannot be held
/// as text: an error at its line, never the same path from the current folder.
#[test]
fn a_relative_sops_binary_in_a_folder_not_utf8_is_an_error() {
    use std::os::unix::ffi::OsStrExt;
    let sandbox = Sandbox::new();
    let folder = sandbox.path().join(std::ffi::OsStr::from_bytes(b"cfg\xff"));
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(
        folder.join("kstrun.toml"),
        "[providers.sops]\nbinary = \"tools/sops\"\n[secrets]\nA = \"a.b\"\n",
    )
    .unwrap();
    let output = sandbox
        .kstrun()
        .arg("-m")
        .arg(folder.join("kstrun.toml"))
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_failed_125(
        &output,
        &["kstrun.toml:2:", "is not UTF-8; give an absolute path"],
    );
}

/// A `--set` whose path no secret asks for (a typo, most likely) draws a
/// warning naming the path, never the value; the run goes on.
#[test]
fn a_set_that_no_secret_asks_for_is_named_in_a_warning() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .kstrun()
        .args([
            "-s",
            "X=x.y",
            "--set",
            "x.y=v",
            "--set",
            "x.z=unused-planted-9",
        ])
        .args(["--", "printenv", "X"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(output.stdout, b"v\n");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "kstrun: warning: --set x.z: no secret has this path, so its value is not used\n"
    );
    assert_no_leak(&output, &["unused-planted-9"]);
}

/// `--init` given before the `run` subcommand is run's own (kstrun stays as
/// the child's parent); before any other subcommand it is a usage error,
/// never dropped unseen.
#[test]
fn init_before_a_subcommand_is_kept_by_run_and_refused_by_the_others() {
    let sandbox = Sandbox::new();
    sandbox.manifest("");
    for option in ["--init", "--init-group"] {
        let output = sandbox
            .kstrun()
            .args([option, "run", "--", "sh", "-c", "cat /proc/$PPID/comm"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "kstrun\n",
            "{option}"
        );
        for subcommand in ["check", "export"] {
            let output = sandbox
                .kstrun()
                .args([option, subcommand])
                .output()
                .unwrap();
            assert_failed_125(&output, &["--init and --init-group start a program"]);
            assert!(output.stdout.is_empty(), "{option} {subcommand}");
        }
    }
}

#[test]
fn not_executable_is_126_and_missing_is_127() {
    let sandbox = Sandbox::new();
    sandbox.manifest("");
    let script = sandbox.write("not-exec.sh", b"#!/bin/sh\ntouch started\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = sandbox.kstrun().arg("--").arg(&script).output().unwrap();
    assert_eq!(output.status.code(), Some(126), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot execute"));

    let output = sandbox
        .kstrun()
        .arg("--")
        .arg(sandbox.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(126), "a directory: {output:?}");

    let output = sandbox
        .kstrun()
        .args(["--", "no-such-command-kstrun"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("command not found: 'no-such-command-kstrun'"));

    let output = sandbox.kstrun().args(["--", "./missing"]).output().unwrap();
    assert_eq!(output.status.code(), Some(127));
    // A path through a file: 126, as shells give it; a PATH entry that is a
    // file is passed over.
    let output = sandbox
        .kstrun()
        .args(["--", "./not-exec.sh/x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(126), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("Not a directory"));
    // Found on PATH, but its #! interpreter's path goes through a file: 126.
    let through = sandbox.write("through-file", b"#!/etc/passwd/sh\n");
    std::fs::set_permissions(&through, std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = sandbox
        .kstrun()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", sandbox.path().display()),
        )
        .args(["--", "through-file"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(126), "{output:?}");
    let output = sandbox
        .kstrun()
        .env("PATH", format!("{}:/usr/bin:/bin", script.display()))
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(!sandbox.path().join("started").exists());

    // Found, but its #! interpreter is not: 127 as shells give it, with a
    // message that does not call the program itself missing (with --init too).
    let script = sandbox.write(
        "bad-interpreter",
        b"#!/nonexistent/interpreter\ntouch started\n",
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    for init in [&[][..], &["--init"]] {
        let output = sandbox
            .kstrun()
            .args(init)
            .args(["--", "./bad-interpreter"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(127), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cannot execute './bad-interpreter': a file it needs is missing"),
            "{stderr}"
        );
    }
    assert!(!sandbox.path().join("started").exists());
}

const AWKWARD: &[(&str, &str)] = &[
    ("SPACES", "a value with  spaces "),
    ("NEWLINES", "line one\nline two\n"),
    ("EQUALS", "a=b==c="),
    ("QUOTES", "it's \"quoted\" `and` $dollars \\ back"),
    ("UTF8", "pâté 🍞 日本"),
    ("EMPTY", ""),
];

#[test]
fn the_child_sees_exactly_the_declared_environment() {
    let sandbox = Sandbox::new();
    let mut manifest =
        String::from("pass = [\"PATH\", \"LC_*\"]\n[env]\nPLAIN = \"plain value\"\n[secrets]\n");
    for (name, _) in AWKWARD {
        manifest.push_str(&format!("{name} = \"s.{}\"\n", name.to_lowercase()));
    }
    sandbox.manifest(&manifest);
    let mut command = sandbox.kstrun();
    for (name, value) in AWKWARD {
        command.env(format!("KSTLIB_S_{name}"), value);
    }
    let path = std::env::var("PATH").unwrap();
    let output = command
        .env("LC_ALL", "C.UTF-8")
        .env("LC_TIME", "C")
        .env("LANG", "C")
        .env("SOPS_AGE_KEY", "AGE-SECRET-KEY-LEAK")
        .env("SOPS_AGE_KEY_FILE", "/leak/keys.txt")
        .env("SOPS_AGE_KEY_CMD", "leak")
        .env("UNRELATED", "leak")
        .args(["--", "env", "-0"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let mut expected: Vec<Vec<u8>> = vec![
        format!("PATH={path}").into_bytes(),
        b"LC_ALL=C.UTF-8".to_vec(),
        b"LC_TIME=C".to_vec(),
    ];
    expected.push(b"PLAIN=plain value".to_vec());
    for (name, value) in AWKWARD {
        expected.push(format!("{name}={value}").into_bytes());
    }
    let mut seen = env0_entries(&output.stdout);
    // The parent's order of pass variables is the runner's; compare the pass part as a set.
    seen[..3].sort();
    expected[..3].sort();
    assert_eq!(seen, expected);
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn nothing_from_the_parent_leaks_without_pass() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nONLY = \"only.one\"\n");
    let output = sandbox
        .kstrun()
        .env("KSTLIB_ONLY_ONE", "x")
        .env("SOPS_AGE_KEY", "AGE-SECRET-KEY-LEAK")
        .args(["--", "env", "-0"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(env0_entries(&output.stdout), vec![b"ONLY=x".to_vec()]);
}

/// A name the parent's environment holds twice (only a direct `execve` can
/// do that) is read with its first value by the env tier and by `pass`
/// alike, as `getenv` and a shell read it.
#[test]
fn a_name_set_twice_in_the_parent_is_read_with_its_first_value() {
    use std::ffi::CString;
    use std::os::unix::process::CommandExt;
    let sandbox = Sandbox::new();
    sandbox.manifest("pass = [\"P\"]\n[secrets]\nAB = \"a.b\"\n");
    let strings = |items: &[&str]| -> Vec<CString> {
        items.iter().map(|s| CString::new(*s).unwrap()).collect()
    };
    let program = CString::new(env!("CARGO_BIN_EXE_kstrun")).unwrap();
    let argv = strings(&["kstrun", "--", "/usr/bin/env", "-0"]);
    let envp = strings(&[
        "P=first",
        "P=second",
        "KSTLIB_A_B=first",
        "KSTLIB_A_B=second",
    ]);
    // The pointer arrays are built before the fork (nothing may allocate
    // after it), as addresses: raw pointers may not cross into the closure.
    let addresses = |list: &[CString]| -> Vec<usize> {
        list.iter()
            .map(|s| s.as_ptr() as usize)
            .chain([0])
            .collect()
    };
    let (argv_addresses, envp_addresses) = (addresses(&argv), addresses(&envp));
    let mut command = sandbox.spawn_command();
    // SAFETY: the addresses point into `argv` and `envp`, which the closure
    // owns, and each list ends with a null; `usize` and a pointer have the
    // same layout. execve replaces the forked process (the command's own
    // program never runs) or fails, and the spawn reports the error.
    unsafe {
        command.pre_exec(move || {
            let _alive = (&argv, &envp);
            nix::libc::execve(
                program.as_ptr(),
                argv_addresses.as_ptr().cast(),
                envp_addresses.as_ptr().cast(),
            );
            Err(std::io::Error::last_os_error())
        });
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let mut seen = env0_entries(&output.stdout);
    seen.sort();
    assert_eq!(seen, vec![b"AB=first".to_vec(), b"P=first".to_vec()]);
}

#[test]
fn the_program_is_found_on_the_childs_path() {
    let sandbox = Sandbox::new();
    let bin = sandbox.path().join("child-bin");
    let tool = sandbox.write(
        "child-bin/only-here",
        b"#!/bin/sh\necho found-on-child-path\n",
    );
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    sandbox.manifest(&format!(
        "[env]\nPATH = \"{}:/usr/bin:/bin\"\n",
        bin.display()
    ));
    let output = sandbox.kstrun().args(["--", "only-here"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(output.stdout, b"found-on-child-path\n");
}

#[test]
fn the_manifest_command_runs_when_none_is_given() {
    let sandbox = Sandbox::new();
    sandbox.manifest("command = \"sh -c 'printf \\\"%s\\\" \\\"$GREETING\\\"'\"\n[env]\nGREETING = \"hello world\"\n");
    let output = sandbox.kstrun().output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(output.stdout, b"hello world");
}

#[test]
fn arguments_reach_the_child_untouched() {
    let sandbox = Sandbox::new();
    sandbox.manifest("");
    let args = ["a b", "", "--set", "x=y", "$HOME", "'\"", "-v"];
    let output = sandbox
        .kstrun()
        .args(["--", "printf", "[%s]"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "[a b][][--set][x=y][$HOME]['\"][-v]"
    );
}

/// An optional secret nothing has leaves its variable unset in the child,
/// even when a `pass` pattern matches a parent variable of that name (and
/// `-v` says so); one that resolves replaces the parent's value.
#[test]
fn an_unresolved_optional_secret_is_unset_even_where_pass_would_bring_it() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "pass = [\"TOKEN\", \"KEPT\"]\n[secrets]\nTOKEN = { path = \"tok.x\", required = false }\n",
    );
    let output = sandbox
        .kstrun()
        .env("TOKEN", "parent-token-value")
        .env("KEPT", "kept-value")
        .args(["-v", "--", "env", "-0"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let entries: Vec<String> = env0_entries(&output.stdout)
        .iter()
        .map(|e| String::from_utf8_lossy(e).into_owned())
        .collect();
    assert_eq!(entries, ["KEPT=kept-value"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("TOKEN unset (optional"));
    let output = sandbox
        .kstrun()
        .env("TOKEN", "parent-token-value")
        .env("TOK_X", "resolved-token")
        .args(["--", "printenv", "TOKEN"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "resolved-token\n");
}

/// `KSTRUN_MANIFEST=` and `KSTRUN_SCOPE=` (set but empty) count as unset,
/// and still reach the child, empty, when `pass` lets them; an empty `-m ''`
/// typed on purpose is a usage error that says what is wrong.
#[test]
fn empty_option_variables_count_as_unset() {
    let sandbox = Sandbox::new();
    sandbox.manifest("pass = [\"KSTRUN_*\"]\n[env]\nFROM_MANIFEST = \"yes\"\n");
    let output = sandbox
        .kstrun()
        .env("KSTRUN_MANIFEST", "")
        .env("KSTRUN_SCOPE", "")
        .env("KSTRUN_ZZ", "z")
        .args(["--", "env", "-0"])
        .output()
        .unwrap();
    // In the parent's order (std's Command sorts its variables by name).
    assert_eq!(
        env0_entries(&output.stdout),
        [
            &b"KSTRUN_MANIFEST="[..],
            b"KSTRUN_SCOPE=",
            b"KSTRUN_ZZ=z",
            b"FROM_MANIFEST=yes"
        ]
        .map(<[u8]>::to_vec),
        "{output:?}"
    );
    let output = sandbox
        .kstrun()
        .args(["-m", "", "--", "true"])
        .output()
        .unwrap();
    assert_failed_125(&output, &["'--manifest <PATH>' was given an empty value"]);
}

/// A `kstrun.toml` that is a broken link is a manifest that cannot be read
/// (125), not an absent one that `-s` would let a run go on without.
#[test]
fn a_broken_manifest_link_is_an_error_not_an_absent_manifest() {
    let sandbox = Sandbox::new();
    std::os::unix::fs::symlink(
        sandbox.path().join("moved-away.toml"),
        sandbox.path().join("kstrun.toml"),
    )
    .unwrap();
    let output = sandbox
        .kstrun()
        .args(["-s", "X=x.y", "--set", "x.y=v", "--"])
        .args(sandbox.marker_child())
        .output()
        .unwrap();
    assert_failed_125(&output, &["kstrun.toml: cannot read manifest"]);
    sandbox.assert_child_not_started();
}

fn resolved(sandbox: &Sandbox, extra: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = sandbox.kstrun();
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command
        .args(extra)
        .args(["--", "printenv", "X"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

#[test]
fn cascade_set_beats_env_beats_default() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nX = { path = \"a.b\", default = \"from-default\" }\n");
    assert_eq!(resolved(&sandbox, &[], &[]), "from-default");
    assert_eq!(resolved(&sandbox, &[], &[("A_B", "from-env")]), "from-env");
    assert_eq!(
        resolved(&sandbox, &["--set", "a.b=from-set"], &[("A_B", "from-env")]),
        "from-set"
    );
}

#[test]
fn cascade_prefixed_and_scoped_names_come_first() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nX = \"a.b\"\n[scopes.prod]\n");
    let env = [
        ("A_B", "plain"),
        ("KSTLIB_A_B", "prefixed"),
        ("KSTLIB_PROD_A_B", "scoped"),
    ];
    assert_eq!(resolved(&sandbox, &[], &env[..1]), "plain");
    assert_eq!(resolved(&sandbox, &[], &env[..2]), "prefixed");
    assert_eq!(
        resolved(&sandbox, &[], &env),
        "prefixed",
        "no scope: scoped name not tried"
    );
    assert_eq!(resolved(&sandbox, &["--scope", "prod"], &env), "scoped");
    let mut scoped_by_env = env.to_vec();
    scoped_by_env.push(("KSTRUN_SCOPE", "prod"));
    assert_eq!(resolved(&sandbox, &[], &scoped_by_env), "scoped");
}

#[test]
fn cascade_custom_prefix() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[providers.env]\nprefix = \"APP_\"\n[secrets]\nX = \"a.b\"\n");
    assert_eq!(
        resolved(
            &sandbox,
            &[],
            &[("KSTLIB_A_B", "kstlib"), ("APP_A_B", "app")]
        ),
        "app"
    );
}

#[test]
fn an_entry_restricted_to_other_providers_ignores_env() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "[secrets]\nX = { path = \"a.b\", providers = [\"keyring\"], default = \"dflt\" }\n",
    );
    assert_eq!(resolved(&sandbox, &[], &[("A_B", "from-env")]), "dflt");
    assert_eq!(
        resolved(&sandbox, &["--set", "a.b=set"], &[("A_B", "from-env")]),
        "set",
        "overrides always apply"
    );
}

#[test]
fn an_order_without_env_never_reads_the_environment() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[providers]\norder = [\"keyring\"]\n[secrets]\nX = { path = \"a.b\", default = \"dflt\" }\n");
    assert_eq!(resolved(&sandbox, &[], &[("A_B", "from-env")]), "dflt");
}

#[test]
fn a_scope_overlays_settings_and_entries() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "[providers.env]\nprefix = \"DEV_\"\n[secrets]\nX = \"a.b\"\n\
         [scopes.prod.providers.env]\nprefix = \"PROD_\"\n[scopes.prod.secrets]\nX = \"c.d\"\n",
    );
    let env = [
        ("DEV_A_B", "dev"),
        ("PROD_C_D", "prod"),
        ("PROD_A_B", "wrong"),
    ];
    assert_eq!(resolved(&sandbox, &[], &env), "dev");
    assert_eq!(resolved(&sandbox, &["--scope", "prod"], &env), "prod");
    let output = sandbox
        .kstrun()
        .args(["--scope", "staging", "--", "true"])
        .output()
        .unwrap();
    assert_failed_125(&output, &["unknown scope 'staging'", "prod"]);
}

#[test]
fn optional_secrets_are_left_unset_and_all_missing_are_listed() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "[secrets]\nOPT = { path = \"o.p\", required = false }\nONE = \"m.one\"\nTWO = \"m.two\"\nOK = \"k.ok\"\n",
    );
    let output = sandbox
        .kstrun()
        .env("K_OK", "fine")
        .arg("--")
        .args(sandbox.marker_child())
        .output()
        .unwrap();
    assert_failed_125(
        &output,
        &[
            "2 secrets could not be resolved",
            "ONE",
            "m.one",
            "TWO",
            "m.two",
        ],
    );
    sandbox.assert_child_not_started();

    let output = sandbox
        .kstrun()
        .env("M_ONE", "1")
        .env("M_TWO", "2")
        .env("K_OK", "fine")
        .args(["--", "env", "-0"])
        .output()
        .unwrap();
    let names: Vec<String> = env0_entries(&output.stdout)
        .iter()
        .map(|e| {
            String::from_utf8_lossy(e)
                .split('=')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["ONE", "TWO", "OK"]);
}

#[test]
fn every_failing_secret_is_listed_a_value_the_environment_cannot_take_too() {
    let sandbox = Sandbox::new();
    // A NUL in a value fails that secret like any other failure: it is
    // listed with the secrets that failed to resolve, before and after it.
    sandbox.manifest(
        "[secrets]\nONE = \"m.one\"\nNUL = { path = \"n.v\", default = \"a\\u0000planted-secret-4711\" }\nTWO = \"m.two\"\n",
    );
    let output = sandbox
        .kstrun()
        .arg("--")
        .args(sandbox.marker_child())
        .output()
        .unwrap();
    assert_failed_125(
        &output,
        &[
            "3 secrets could not be resolved",
            "m.one",
            "NUL: default: 'n.v': the value contains a NUL byte",
            "m.two",
        ],
    );
    assert_no_leak(&output, &["planted-secret-4711"]);
    sandbox.assert_child_not_started();
}

#[test]
fn verbose_names_providers_but_never_values() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "[secrets]\nX = \"a.b\"\nY = { path = \"c.d\", default = \"default-secret-value\" }\n",
    );
    let output = sandbox
        .kstrun()
        .env("KSTLIB_A_B", "env-secret-value")
        .args(["-v", "--", "true"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("X ← env env_name=KSTLIB_A_B") || stderr.contains("X ← env KSTLIB_A_B"),
        "{stderr}"
    );
    assert!(stderr.contains("Y ← default"), "{stderr}");
    assert_no_leak(&output, &["env-secret-value", "default-secret-value"]);
}

#[test]
fn quiet_runs_print_nothing_of_their_own() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nX = \"a.b\"\n");
    let output = sandbox
        .kstrun()
        .env("A_B", "v")
        .args(["-q", "--", "true"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
}

/// An environment bigger in all than one `execve` takes (at most 6 MiB,
/// whatever the stack limit) fails by the names of its largest variables,
/// with exit 125 and no child, instead of "Argument list too long" and 126;
/// `export`, which execs nothing, still prints it.
#[test]
fn an_environment_too_big_for_execve_fails_by_name() {
    let sandbox = Sandbox::new();
    let mut manifest = String::from("[secrets]\n");
    for i in 0..60 {
        let value = format!("planted-secret-4711-{i:02}{}", "x".repeat(120 * 1024));
        manifest.push_str(&format!(
            "BIG_{i:02} = {{ path = \"big.v{i:02}\", default = \"{value}\" }}\n"
        ));
    }
    manifest.push_str("LARGEST = { path = \"largest\", default = \"");
    manifest.push_str(&"y".repeat(125 * 1024));
    manifest.push_str("\" }\n");
    sandbox.manifest(&manifest);
    let output = sandbox
        .kstrun()
        .arg("--")
        .args(sandbox.marker_child())
        .output()
        .unwrap();
    assert_failed_125(
        &output,
        &[
            "more than the",
            "one execve takes",
            "the largest variables: LARGEST, BIG_",
            "(a secret can be delivered with as = \"file\")",
        ],
    );
    sandbox.assert_child_not_started();
    assert_no_leak(&output, &["planted-secret-4711"]);

    let output = sandbox
        .kstrun()
        .args(["export", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", output.stderr);
    assert!(output.stdout.len() > 7 * 1024 * 1024);
}

/// The size check counts what the kernel counts, the program's path
/// included: an environment that fills one `execve` exactly starts the
/// program, one byte more fails by name (125), never with "Argument list
/// too long" (126). Run under a 1 MiB stack limit: 256 KiB for one exec.
#[test]
fn the_execve_size_check_agrees_with_the_kernel_to_the_byte() {
    let sandbox = Sandbox::new();
    let limit = 256 * 1024;
    let long_unused_dir = format!("/{}", vec!["d".repeat(100); 30].join("/"));
    let run_in = |filler: usize, command: &str, path: &std::ffi::OsStr| {
        let mut manifest = format!("command = \"{command}\"\n[env]\n");
        for name in ["A", "B"] {
            manifest.push_str(&format!("{name} = \"{}\"\n", "a".repeat(100_000)));
        }
        manifest.push_str(&format!("C = \"{}\"\n", "c".repeat(filler)));
        sandbox.manifest(&manifest);
        std::process::Command::new("/bin/sh")
            .args(["-c", "ulimit -s 1024 && exec \"$0\""])
            .arg(env!("CARGO_BIN_EXE_kstrun"))
            .current_dir(sandbox.path())
            .env_clear()
            .env("PATH", path)
            .env("HOME", sandbox.path())
            .output()
            .unwrap()
    };
    let search_path = std::env::var_os("PATH").unwrap_or_default();
    let run = |filler: usize| run_in(filler, "/bin/true", &search_path);
    // Over the limit on purpose: kstrun says by how much.
    let over = run(70_000);
    let stderr = String::from_utf8_lossy(&over.stderr);
    let total: usize = stderr
        .split("take ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no size in: {stderr}"));
    assert!(
        stderr.contains(&format!("more than the {limit} one execve")),
        "{stderr}"
    );
    let exact = 70_000 - (total - limit);
    let fits = run(exact);
    assert_eq!(
        fits.status.code(),
        Some(0),
        "{:?}",
        String::from_utf8_lossy(&fits.stderr)
    );
    let one_more = run(exact + 1);
    assert_eq!(
        one_more.status.code(),
        Some(125),
        "{:?}",
        String::from_utf8_lossy(&one_more.stderr)
    );
    assert!(String::from_utf8_lossy(&one_more.stderr).contains("one execve takes"));
    // Found through PATH, the same `/bin/true`: a long PATH entry the exec
    // never uses counts for nothing.
    let unused_first = std::ffi::OsString::from(format!("{long_unused_dir}:/bin"));
    let through_path = run_in(exact, "true", &unused_first);
    assert_eq!(
        through_path.status.code(),
        Some(0),
        "{:?}",
        String::from_utf8_lossy(&through_path.stderr)
    );
}

/// A newline in what the user wrote (a program's name, a secret's path, a
/// manifest's file name) is shown as `\n`: it never starts a line that
/// seems to be kstrun's own.
#[test]
fn a_newline_in_a_name_never_starts_a_line_of_its_own() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nA = \"a\\nkstrun: forged\"\nB = \"b\"\n");
    let runs = [
        sandbox
            .kstrun()
            .args(["-m", "missing\nkstrun: forged", "--", "true"])
            .output()
            .unwrap(),
        sandbox.kstrun().args(["--", "true"]).output().unwrap(),
        sandbox
            .kstrun()
            .args(["--set", "a\nkstrun: forged=1", "--set", "b=2"])
            .args(["--", "no-such\nkstrun: forged"])
            .output()
            .unwrap(),
    ];
    for output in runs {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("\\nkstrun: forged"), "{stderr}");
        for line in stderr.lines() {
            assert!(
                line.starts_with("kstrun: error: ") || line.starts_with("  "),
                "{line:?} in {stderr}"
            );
        }
    }
}

/// Messages are coloured at a terminal, unless `NO_COLOR` is set or the
/// terminal takes no escape sequences (`TERM=dumb`).
#[test]
fn messages_are_coloured_only_at_a_terminal_that_takes_colour() {
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let failing = format!("{kstrun} -m /nonexistent/kstrun.toml -- true");
    let Some(shown) = at_a_terminal(&[
        "sleep:0.5",
        &format!("TERM=xterm {failing}; NO_COLOR=1 {failing}; TERM=dumb {failing}\n"),
        "sleep:1",
    ]) else {
        return;
    };
    assert_eq!(
        shown.matches("kstrun: \x1b[1;31merror\x1b[0m: ").count(),
        1,
        "{shown:?}"
    );
    assert_eq!(shown.matches("kstrun: error: ").count(), 2, "{shown:?}");
}
