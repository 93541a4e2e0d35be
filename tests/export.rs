//! `kstrun export`: every format restores every byte of every value.

mod common;

use common::{tool_available, Sandbox, NEW_DOTENV_PROBE};
use std::process::{Command, Stdio};

/// Values chosen to break naive quoting.
const VALUES: &[(&str, &str)] = &[
    ("PLAIN", "postgres://user@host:5432/db"),
    ("SPACES", "  a  b  "),
    ("NEWLINES", "one\ntwo\n\nthree\n"),
    ("SINGLE", "it's 'quoted'"),
    ("DOUBLE", "say \"hi\""),
    ("BACKSLASH", "a\\b\\\\c\\n\\'"),
    ("DOLLAR", "$HOME ${HOME} $(id) `id`"),
    ("HASH", "value # not a comment"),
    ("EQUALS", "=a=b="),
    ("UTF8", "pâté 🍞"),
    ("PUNCT", "p@ss!w*rd(~^[]{}|<>;?&)"),
    ("UNICODE", "pâté🍞"),
    ("EMPTY", ""),
    ("CONTROL", "tab\there\rcr\x01"),
];

fn sandbox_with_values() -> Sandbox {
    let sandbox = Sandbox::new();
    let mut manifest = String::from("[secrets]\n");
    for (name, _) in VALUES {
        manifest.push_str(&format!("{name} = \"v.{}\"\n", name.to_lowercase()));
    }
    sandbox.manifest(&manifest);
    sandbox
}

fn export(sandbox: &Sandbox, format: &str) -> Vec<u8> {
    let mut command = sandbox.kstrun();
    for (name, value) in VALUES {
        command.env(format!("V_{name}"), value);
    }
    let output = command
        .args(["export", "--format", format])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // No terminal, so no warning about values on screen; dotenv names the
    // variables whose values depend on its escapes, and shows no value.
    let expected = if format == "dotenv" {
        let mut warnings = ["SINGLE", "BACKSLASH"]
            .map(|name| format!("kstrun: warning: {name}: the value holds a quote or backslash, written escaped; python-dotenv reads it back, docker compose and systemd's EnvironmentFile keep the escapes\n"))
            .concat();
        warnings.push_str("kstrun: warning: CONTROL: the value holds a carriage return, which a dotenv file read as text turns into a newline (python-dotenv does)\n");
        warnings
    } else {
        String::new()
    };
    assert_eq!(String::from_utf8_lossy(&output.stderr), expected);
    output.stdout
}

fn run_with_stdin(mut command: Command, stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    output.stdout
}

#[test]
fn shell_output_evaluated_by_sh_restores_every_byte() {
    let sandbox = sandbox_with_values();
    let script = export(&sandbox, "shell");
    for (name, value) in VALUES {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!("eval \"$(cat)\"; printf '%s' \"${name}\""));
        assert_eq!(run_with_stdin(sh, &script), value.as_bytes(), "{name}");
    }
}

#[test]
fn shell_output_names_what_bash_will_not_set() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "[secrets]\nUID = \"a.uid\"\n_ = \"a.underscore\"\nRANDOM = \"a.random\"\nOK = \"a.ok\"\n",
    );
    let output = sandbox
        .kstrun()
        .env("A_UID", "uid-value-7")
        .env("A_UNDERSCORE", "underscore-value-7")
        .env("A_RANDOM", "random-value-7")
        .env("A_OK", "ok-value-7")
        .args(["export", "--format", "shell"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in ["UID", "_", "RANDOM"] {
        assert!(
            stderr.contains(&format!(
                "kstrun: warning: {name}: the shell keeps this name for itself"
            )),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("OK"), "{stderr}");
    assert!(!stderr.contains("value-7"), "{stderr}");
}

#[test]
fn dotenv_output_loads_back_with_python_dotenv() {
    if !tool_available("python3", NEW_DOTENV_PROBE) {
        return;
    }
    let sandbox = sandbox_with_values();
    let text = export(&sandbox, "dotenv");
    let mut python = Command::new("python3");
    python.args([
        "-c",
        "import io, json, sys; from dotenv import dotenv_values; \
         print(json.dumps(dotenv_values(stream=io.StringIO(sys.stdin.read()), interpolate=False)))",
    ]);
    let loaded: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&run_with_stdin(python, &text)).unwrap();
    for (name, value) in VALUES {
        assert_eq!(
            loaded.get(*name).and_then(|v| v.as_str()),
            Some(*value),
            "{name}: {}",
            String::from_utf8_lossy(&text)
        );
    }
    assert_eq!(loaded.len(), VALUES.len());
}

#[test]
fn plain_dotenv_values_are_written_bare_for_docker() {
    let sandbox = sandbox_with_values();
    let text = String::from_utf8(export(&sandbox, "dotenv")).unwrap();
    for line in [
        "PLAIN=postgres://user@host:5432/db\n",
        "PUNCT=p@ss!w*rd(~^[]{}|<>;?&)\n",
        "UNICODE=pâté🍞\n",
    ] {
        assert!(text.contains(line), "{text}");
    }
}

/// A value that is not UTF-8 cannot go into a dotenv file (python-dotenv,
/// docker and systemd refuse the file) or JSON: an error naming the
/// variable, never a file no reader takes.
#[test]
fn dotenv_and_json_refuse_a_value_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nRAW = \"raw.value\"\n");
    for format in ["dotenv", "json"] {
        let output = sandbox
            .kstrun()
            .env("RAW_VALUE", std::ffi::OsStr::from_bytes(b"caf\xe9-planted"))
            .args(["export", "--format", format])
            .output()
            .unwrap();
        common::assert_failed_125(&output, &["RAW: value is not UTF-8", "--format shell"]);
        assert!(output.stdout.is_empty());
        common::assert_no_leak(&output, &["planted"]);
    }
}

#[test]
fn json_output_holds_the_exact_values() {
    let sandbox = sandbox_with_values();
    let loaded: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&export(&sandbox, "json")).unwrap();
    for (name, value) in VALUES {
        assert_eq!(loaded[*name], *value, "{name}");
    }
}

#[test]
fn export_includes_pass_and_env_and_fails_like_run() {
    let sandbox = Sandbox::new();
    sandbox.manifest(
        "pass = [\"KEEP_*\"]\n[env]\nPLAIN = \"p\"\n[secrets]\nMISSING = \"not.there\"\n",
    );
    let output = sandbox
        .kstrun()
        .env("KEEP_ME", "k")
        .args(["export", "--format", "shell"])
        .output()
        .unwrap();
    common::assert_failed_125(&output, &["MISSING", "not.there"]);
    assert!(output.stdout.is_empty());
    let output = sandbox
        .kstrun()
        .env("KEEP_ME", "k")
        .env("NOT_THERE", "s")
        .args(["export", "--format", "dotenv"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "KEEP_ME=k\nPLAIN=p\nMISSING=s\n"
    );
}

#[test]
fn file_secrets_are_left_out_with_a_warning() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nTLS = { path = \"tls.key\", as = \"file\" }\nA = \"a.b\"\n");
    let output = sandbox
        .kstrun()
        .env("TLS_KEY", "file-secret-value")
        .env("A_B", "x")
        .args(["export"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout, b"A=x\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TLS is delivered as a file"), "{stderr}");
    common::assert_no_leak(&output, &["file-secret-value"]);
}

/// A `pass` glob passes variable names only: a parent variable whose name is
/// shell code or breaks a dotenv line reaches neither the child nor `export`.
#[test]
fn a_pass_glob_never_passes_a_name_that_is_not_a_variable_name() {
    let sandbox = Sandbox::new();
    sandbox.manifest("pass = [\"LC_*\"]\n");
    let odd = ["LC_A;touch injected;B", "LC_A-B", "LC_A\nFOO"];
    let with_odd_names = |args: &[&str]| {
        let mut command = sandbox.kstrun();
        for name in odd {
            command.env(name, "1");
        }
        command.env("LC_OK", "fine").args(args).output().unwrap()
    };
    let output = with_odd_names(&["export", "--format", "shell"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "export LC_OK='fine'\n"
    );
    let output = with_odd_names(&["export", "--format", "dotenv"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "LC_OK=fine\n");
    let output = with_odd_names(&["--", "env", "-0"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        common::env0_entries(&output.stdout),
        [b"LC_OK=fine".to_vec()]
    );
}
