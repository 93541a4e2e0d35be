//! `kstrun export`: print the child's environment, values included.
//!
//! The one command that shows values, for `docker --env-file`, systemd
//! `EnvironmentFile` and `eval`. It warns on stderr when stdout is a terminal.
//! File secrets (`as = "file"`) are left out, with a warning: a memfd cannot
//! outlive this process, and writing the value to a file is what they avoid.
//!
//! * `shell`: `export NAME='value'`, `'` written as `'\''`; `eval` restores every
//!   byte, except in the few names bash keeps for itself (read-only ones
//!   like `UID`, and `_`), which draw a warning naming them.
//! * `dotenv`: `NAME=value` when the value is plain (UTF-8 without
//!   whitespace, control characters, quotes, `\`, `$`, `#` or backticks:
//!   `p@ss!w*rd` is plain), which every dotenv reader, docker, compose and
//!   systemd take as is; otherwise
//!   `NAME='value'` with `\` and `'` escaped by a backslash, as python-dotenv
//!   reads it (newlines kept inside the quotes; it expands `${VAR}` even
//!   inside single quotes unless loaded with `interpolate=False`). Docker
//!   compose and systemd's `EnvironmentFile` take single-quoted text
//!   literally, so they read it back unless it needed an escape: a value
//!   holding `'` or `\` draws a warning naming its variable. `docker
//!   --env-file` strips no quotes at all: it takes plain values only. A value
//!   that is not UTF-8 is an error: python-dotenv, docker and systemd all
//!   refuse such a file.
//! * `json`: one object; a value that is not UTF-8 is an error.

use crate::child::{ChildEnv, FileSecrets};
use crate::cli::ExportFormat;
use crate::error::Error;
use crate::plan::Plan;
use crate::report::Reporter;
use crate::resolution::resolve_into_env;
use crate::secrets::SecretValue;
use std::io::IsTerminal;

/// Runs `export`.
pub fn run(plan: Plan, format: ExportFormat, report: &Reporter) -> Result<i32, Error> {
    let env = resolve_into_env(plan, FileSecrets::Omit, report)?;
    for var in env.omitted() {
        report.warning(&format!(
            "{var} is delivered as a file (as = \"file\") and is not exported"
        ));
    }
    if format == ExportFormat::Shell {
        for (name, _) in env.vars() {
            if BASH_OWN_NAMES.contains(&name) {
                report.warning(&format!(
                    "{name}: the shell keeps this name for itself (read-only, computed or reset by the shell); eval will not set it, and may stop there (bash as sh at a read-only name, dash at an OPTIND that is not a number)"
                ));
            }
        }
    }
    if format == ExportFormat::Dotenv {
        // Readers differ on escapes: say which variables depend on them.
        for (name, value) in env.vars() {
            if value.as_bytes().iter().copied().any(dotenv_escaped) {
                report.warning(&format!(
                    "{name}: the value holds a quote or backslash, written escaped; python-dotenv reads it back, docker compose and systemd's EnvironmentFile keep the escapes"
                ));
            }
            // Written as it is, but a reader that opens the file as text
            // (python-dotenv's `load_dotenv(path)`) turns it into a newline.
            if value.as_bytes().contains(&b'\r') {
                report.warning(&format!(
                    "{name}: the value holds a carriage return, which a dotenv file read as text turns into a newline (python-dotenv does)"
                ));
            }
        }
    }
    let text = SecretValue::from_bytes(match format {
        ExportFormat::Shell => lines(&env, shell_line),
        ExportFormat::Dotenv => {
            for (name, value) in env.vars() {
                if value.as_str().is_none() {
                    return Err(not_utf8(name, "dotenv readers refuse"));
                }
            }
            lines(&env, dotenv_line)
        }
        ExportFormat::Json => json(&env)?,
    });
    if std::io::stdout().is_terminal() {
        report.warning("export prints secret values; redirect it to a file or a pipe");
    }
    super::write_stdout(text.as_bytes())?;
    Ok(0)
}

/// Names bash will not take from `export NAME=...` (checked with bash
/// 5.2): its read-only variables, `_`, which it sets after every command,
/// and the variables it computes or keeps as arrays.
const BASH_OWN_NAMES: &[&str] = &[
    "_",
    "BASHOPTS",
    "BASHPID",
    "BASH_ALIASES",
    "BASH_ARGC",
    "BASH_ARGV",
    "BASH_CMDS",
    "BASH_COMMAND",
    "BASH_LINENO",
    "BASH_SOURCE",
    "BASH_SUBSHELL",
    "BASH_VERSINFO",
    "DIRSTACK",
    "EPOCHREALTIME",
    "EPOCHSECONDS",
    "EUID",
    "FUNCNAME",
    "GROUPS",
    "HISTCMD",
    "LINENO",
    "OPTIND",
    "PPID",
    "RANDOM",
    "SECONDS",
    "SHELLOPTS",
    "SRANDOM",
    "UID",
];

fn lines(env: &ChildEnv, line: fn(&str, &[u8], &mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in env.vars() {
        line(name, value.as_bytes(), &mut out);
    }
    out
}

/// `export NAME='value'`, with each `'` closed, escaped and reopened.
pub fn shell_line(name: &str, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"export ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"='");
    for &byte in value {
        if byte == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(byte);
        }
    }
    out.extend_from_slice(b"'\n");
}

/// Whether dotenv writes `byte` with a backslash before it (inside `'...'`).
fn dotenv_escaped(byte: u8) -> bool {
    byte == b'\'' || byte == b'\\'
}

/// Whether a dotenv reader takes `value` as it is, unquoted: UTF-8 without
/// whitespace (trimmed, or ending a value), control characters, quotes and
/// `\` (quoting and escapes), `$` (interpolation), `#` (comments) or a
/// backtick.
fn dotenv_plain(value: &[u8]) -> bool {
    std::str::from_utf8(value).is_ok_and(|text| {
        text.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"'\"\\$#`".contains(c))
    })
}

/// `NAME=value` for plain values, else `NAME='value'` with `\\` and `\'` escapes.
pub fn dotenv_line(name: &str, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_bytes());
    out.push(b'=');
    if dotenv_plain(value) {
        out.extend_from_slice(value);
    } else {
        out.push(b'\'');
        for &byte in value {
            if dotenv_escaped(byte) {
                out.push(b'\\');
            }
            out.push(byte);
        }
        out.push(b'\'');
    }
    out.push(b'\n');
}

/// The error for a value a format cannot hold: it is not UTF-8.
fn not_utf8(name: &str, why: &str) -> Error {
    Error::Child(format!(
        "{name}: value is not UTF-8, which {why}; use --format shell"
    ))
}

fn json(env: &ChildEnv) -> Result<Vec<u8>, Error> {
    let mut object = serde_json::Map::new();
    for (name, value) in env.vars() {
        let text = value
            .as_str()
            .ok_or_else(|| not_utf8(name, "JSON cannot hold"))?;
        object.insert(name.to_string(), serde_json::Value::from(text));
    }
    let mut out = serde_json::to_vec_pretty(&object)
        .map_err(|e| Error::Child(format!("JSON output: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quotes_single_quotes() {
        let mut out = Vec::new();
        shell_line("A", b"it's", &mut out);
        assert_eq!(out, b"export A='it'\\''s'\n");
    }

    #[test]
    fn dotenv_plain_and_quoted() {
        let mut out = Vec::new();
        dotenv_line("A", b"postgres://u@h:5432/db", &mut out);
        dotenv_line("B", b"a b'\\", &mut out);
        dotenv_line("C", "p@ss!w*rd(~^[]{}|<>;?&)pâté".as_bytes(), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "A=postgres://u@h:5432/db\nB='a b\\'\\\\'\nC=p@ss!w*rd(~^[]{}|<>;?&)pâté\n"
        );
        for quoted in ["a b", "$X", "a#b", "`x`", "\"q\"", "tab\t", "nbsp\u{a0}"] {
            let mut out = Vec::new();
            dotenv_line("D", quoted.as_bytes(), &mut out);
            assert_eq!(out[2], b'\'', "{quoted}");
        }
    }
}
