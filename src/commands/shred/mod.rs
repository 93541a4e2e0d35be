//! `kstrun shred`: overwrite plaintext files, then delete them.
//!
//! Decrypted copies of secrets end up on disk (an editor's save, a `sops -d`
//! redirected to a file); this removes them with more care than `rm`. The
//! command works in two phases so that a mistake costs nothing:
//!
//! 1. every file named is checked (`target.rs`); if any is refused (missing,
//!    a link, not a regular file, several hard links, read-only without
//!    `--force`), each refusal is reported and **no file is touched**;
//! 2. after the confirmation (asked only when stdin is a terminal and
//!    `--force` is not given; `y` or `yes` proceeds), each file is shredded
//!    ([`overwrite`]). A failure there is reported and the remaining files are
//!    still shredded: stopping half-way would leave more plaintext behind.
//!
//! Exit status: 0 when every file was shredded, 1 when the prompt was
//! declined (nothing touched), 125 on any refusal or failure.
//!
//! Settings come from `[secure_delete]` (or the kstlib config) when a manifest
//! is found; without one the defaults are `auto`, 3 passes, zeros last. The
//! command-line options win.

mod overwrite;
mod target;

use crate::cli::{GlobalArgs, ShredArgs, ShredMethodArg};
use crate::error::Error;
use crate::manifest::{self, Manifest, SecureDelete, ShredMethod};
use crate::report::Reporter;
use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use target::Target;

/// The effective settings of one `kstrun shred`: the manifest's
/// `[secure_delete]`, with the command line laid over it.
pub type Settings = SecureDelete;

impl Settings {
    /// Command-line options laid over the manifest's `[secure_delete]`.
    pub fn new(args: &ShredArgs, manifest: SecureDelete) -> Settings {
        let method = match args.method {
            Some(ShredMethodArg::Auto) => ShredMethod::Auto,
            Some(ShredMethodArg::Command) => ShredMethod::Command,
            Some(ShredMethodArg::Overwrite) => ShredMethod::Overwrite,
            None => manifest.method,
        };
        let zero_last_pass = if args.zero_last_pass {
            true
        } else if args.no_zero_last_pass {
            false
        } else {
            manifest.zero_last_pass
        };
        Settings {
            method,
            passes: args.passes.unwrap_or(manifest.passes),
            zero_last_pass,
        }
    }
}

/// `[secure_delete]` of the manifest in use, or the defaults when there is
/// none. A manifest named with `-m` must exist; any manifest found must be valid.
pub fn manifest_settings(global: &GlobalArgs) -> Result<SecureDelete, Error> {
    match manifest::locate(global.manifest.as_deref()) {
        Some(file) => Ok(Manifest::load(&file, global.scope.as_deref())?.secure_delete),
        None => Ok(Manifest::empty(Path::new(".")).secure_delete),
    }
}

/// Runs `kstrun shred` and returns its exit status.
pub fn run(args: ShredArgs, manifest: SecureDelete, report: &Reporter) -> Result<i32, Error> {
    let settings = Settings::new(&args, manifest);
    let targets = check_all(&args.files, args.force, report)?;
    if !args.force && std::io::stdin().is_terminal() && !confirm(&targets) {
        crate::report::stderr_line(format_args!("kstrun: nothing shredded"));
        return Ok(1);
    }
    let shred_program = match settings.method {
        ShredMethod::Overwrite => None,
        ShredMethod::Auto => overwrite::find_on_path("shred"),
        ShredMethod::Command => Some(overwrite::find_on_path("shred").ok_or_else(|| {
            Error::Toolbox(
                "method 'command' needs GNU shred on PATH (or use --method overwrite); \
                 nothing shredded"
                    .to_string(),
            )
        })?),
    };
    let mut failed = 0;
    for target in &targets {
        let outcome = target.make_writable().and_then(|()| match &shred_program {
            Some(program) => {
                overwrite::command(program, target, settings.passes, settings.zero_last_pass)
            }
            None => overwrite::overwrite(target, settings.passes, settings.zero_last_pass),
        });
        match outcome {
            Ok(()) => report.info(&format!(
                "shredded '{}' ({}, {} passes{})",
                target.path.display(),
                if shred_program.is_some() {
                    "shred"
                } else {
                    "overwrite"
                },
                settings.passes,
                if settings.zero_last_pass {
                    " + zeros"
                } else {
                    ""
                }
            )),
            Err(e) => {
                failed += 1;
                report.error(&format!("'{}': {e}", target.path.display()));
            }
        }
    }
    if failed > 0 {
        return Err(Error::Toolbox(format!(
            "{failed} of {} files not shredded",
            targets.len()
        )));
    }
    Ok(0)
}

/// Checks every file; any refusal stops the command before a file is touched.
fn check_all(files: &[PathBuf], force: bool, report: &Reporter) -> Result<Vec<Target>, Error> {
    let mut targets = Vec::with_capacity(files.len());
    let mut seen = HashSet::new();
    let mut refused = 0;
    for file in files {
        match target::inspect(file, force) {
            // The same file named twice is shredded once.
            Ok(target) if !seen.insert(target.id) => {}
            Ok(target) => targets.push(target),
            Err(message) => {
                refused += 1;
                report.error(&message);
            }
        }
    }
    if refused > 0 {
        return Err(Error::Toolbox(format!(
            "{refused} of {} files refused; nothing shredded",
            files.len()
        )));
    }
    Ok(targets)
}

/// Asks on stderr, reads one line from stdin: only `y` or `yes` proceeds.
fn confirm(targets: &[Target]) -> bool {
    let names: Vec<String> = targets
        .iter()
        .map(|t| format!("'{}'", t.path.display()))
        .collect();
    let mut stderr = std::io::stderr().lock();
    // File names may hold control characters: the question must show the
    // files as they are, not let a name rewrite the line it is asked on.
    let _ = write!(
        stderr,
        "kstrun: overwrite and delete {}? This cannot be undone. [y/N] ",
        crate::report::printable_inline(&names.join(", "))
    );
    let _ = stderr.flush();
    drop(stderr);
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> ShredArgs {
        use clap::Parser;
        let mut argv = vec!["kstrun", "shred"];
        argv.extend_from_slice(extra);
        argv.push("file");
        match crate::cli::Cli::parse_from(argv).command {
            Some(crate::cli::Command::Shred(args)) => args,
            other => panic!("not shred: {other:?}"),
        }
    }

    fn manifest() -> SecureDelete {
        SecureDelete {
            method: ShredMethod::Overwrite,
            passes: 7,
            zero_last_pass: false,
        }
    }

    #[test]
    fn manifest_settings_apply_when_no_option_is_given() {
        let s = Settings::new(&args(&[]), manifest());
        assert_eq!(
            s,
            Settings {
                method: ShredMethod::Overwrite,
                passes: 7,
                zero_last_pass: false
            }
        );
    }

    #[test]
    fn options_win_over_the_manifest() {
        let s = Settings::new(
            &args(&["--method", "command", "--passes", "2", "--zero-last-pass"]),
            manifest(),
        );
        assert_eq!(
            s,
            Settings {
                method: ShredMethod::Command,
                passes: 2,
                zero_last_pass: true
            }
        );
        let on = SecureDelete {
            zero_last_pass: true,
            ..manifest()
        };
        assert!(!Settings::new(&args(&["--no-zero-last-pass"]), on).zero_last_pass);
    }

    #[test]
    fn the_last_of_the_zero_flags_wins() {
        let a = args(&["--zero-last-pass", "--no-zero-last-pass"]);
        assert!(!Settings::new(&a, manifest()).zero_last_pass);
        let a = args(&["--no-zero-last-pass", "--zero-last-pass"]);
        assert!(Settings::new(&a, manifest()).zero_last_pass);
    }
}
