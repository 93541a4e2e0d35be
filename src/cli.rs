//! The command line, as clap derive types.
//!
//! This is the single definition of kstrun's interface: argument parsing,
//! `--help`, shell completions and the man page are all generated from it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  kstrun -- ./server --port 8080          run with the secrets of ./kstrun.toml
  kstrun --scope production -- ./server   use [scopes.production]
  kstrun -s DB_URL=database.url -- env    no manifest needed with -s
  kstrun check                            which provider answers each secret (no values)
  kstrun check --json                     in CI: 0 all resolve, 1 some missing, 125 bad manifest
  kstrun export --format dotenv | docker run --env-file /dev/stdin app
                                          the child's environment, into a pipe (the one
                                          command that prints values: keep them off disk)
  ENTRYPOINT [\"kstrun\", \"--init\", \"--\"]   in a Dockerfile; mount the age key as a secret
                                          and set SOPS_AGE_KEY_FILE=/run/secrets/age-key
  run: ; kstrun -- cargo run              in a Makefile
  kstrun init && kstrun check             start a commented kstrun.toml here
  kstrun shred secrets.dec.yml            overwrite and delete a plaintext file
  kstrun completions bash > kstrun.bash   shell completions (also zsh, fish, ...); kstrun man

Exit status: the child's own after a successful start; 125 kstrun failed
(usage, manifest, missing or undecryptable secret); 126 command not
executable; 127 command not found; 128+N interrupted by signal N.

Values given with --set are visible to other users through ps(1): use them
for tests and one-off overrides only.";

/// Start a program with its secrets and nothing else.
#[derive(Debug, Parser)]
#[command(
    name = "kstrun",
    version,
    about = "Start a program with its secrets and nothing else",
    long_about = "Start a program with its secrets and nothing else.\n\nkstrun reads a manifest (kstrun.toml) mapping environment variables to dotted secret paths, resolves each through overrides → env → keyring → sops → default, gives the child a clean environment holding exactly those variables, wipes its own copies and execs the child.",
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run (when no subcommand is given).
    #[command(flatten)]
    pub run: RunArgs,
    /// A subcommand; running a program is the default.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command takes. `Debug` shows `--set` paths, not values.
#[derive(Args)]
pub struct GlobalArgs {
    /// Manifest file [default: $KSTRUN_MANIFEST, else ./kstrun.toml]
    #[arg(short = 'm', long, value_name = "PATH", global = true)]
    pub manifest: Option<PathBuf>,
    /// Lay [scopes.NAME] over the manifest and try scoped names first [default: $KSTRUN_SCOPE]
    #[arg(long, value_name = "NAME", global = true)]
    pub scope: Option<String>,
    /// Override a secret: PATH=VALUE (visible to ps; for tests and one-off use)
    #[arg(long = "set", value_name = "PATH=VALUE", global = true)]
    pub set: Vec<OsString>,
    /// Add or replace a secret entry: VAR=PATH (a manifest is then optional)
    #[arg(short = 's', long = "secret", value_name = "VAR=PATH", global = true)]
    pub secret: Vec<String>,
    /// Also pass this parent variable (NAME or PREFIX*) to the child
    #[arg(long = "pass", value_name = "NAME", global = true)]
    pub pass: Vec<String>,
    /// Say more on stderr: which provider served each variable, what shred did (never a value)
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Print nothing but errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

impl fmt::Debug for GlobalArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GlobalArgs")
            .field("manifest", &self.manifest)
            .field("scope", &self.scope)
            .field("set", &SetsWithoutValues(&self.set))
            .field("secret", &self.secret)
            .field("pass", &self.pass)
            .field("verbose", &self.verbose)
            .field("quiet", &self.quiet)
            .finish()
    }
}

/// `--set PATH=VALUE` arguments as `Debug` shows them: `PATH=…`, never the value.
pub struct SetsWithoutValues<'a>(pub &'a [OsString]);

impl fmt::Debug for SetsWithoutValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Without '=', the whole argument may be a value typed alone.
        let paths = self.0.iter().map(|arg| {
            let arg = arg.as_bytes();
            match arg.iter().position(|&b| b == b'=') {
                Some(end) => format!("{}=…", String::from_utf8_lossy(&arg[..end])),
                None => "…".to_string(),
            }
        });
        f.debug_list().entries(paths).finish()
    }
}

/// What to run.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Stay as the child's init: forward signals to it, reap zombies, exit with its status (for PID 1 in containers)
    #[arg(long)]
    pub init: bool,
    /// Like --init, but forward signals to the child's whole process group
    #[arg(long)]
    pub init_group: bool,
    /// Program and arguments, after `--` [default: the manifest's `command`]
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

/// kstrun's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a program with its secrets (the default)
    Run(RunArgs),
    /// Resolve every secret and show where each comes from, never a value
    Check(CheckArgs),
    /// Print the child's environment, values included
    Export(ExportArgs),
    /// Overwrite plaintext files, then delete them
    Shred(ShredArgs),
    /// Write a commented starter kstrun.toml (never overwrites without --force)
    Init(InitArgs),
    /// Print a shell completion script to stdout
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout: kstrun(1), or kstrun-COMMAND(1)
    Man(ManArgs),
}

/// `kstrun man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`kstrun man shred` is kstrun-shred(1))
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// `kstrun check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `kstrun export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ExportFormat::Dotenv)]
    pub format: ExportFormat,
}

/// Formats of `kstrun export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// NAME=value lines, single-quoted unless plain (python-dotenv; plain values: any reader)
    Dotenv,
    /// export NAME='value' lines, for eval
    Shell,
    /// One JSON object
    Json,
}

/// `kstrun shred`. Unset options come from `[secure_delete]`, else auto/3/zeros.
#[derive(Debug, Args)]
pub struct ShredArgs {
    /// How to overwrite [default: the manifest's, else auto]
    #[arg(long, value_enum, value_name = "METHOD")]
    pub method: Option<ShredMethodArg>,
    /// Passes of random data [default: the manifest's, else 3]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::manifest::MAX_SHRED_PASSES)))]
    pub passes: Option<u32>,
    /// Add a final pass of zeros [default: the manifest's, else yes]
    #[arg(long, overrides_with = "no_zero_last_pass")]
    pub zero_last_pass: bool,
    /// No final pass of zeros
    #[arg(long, overrides_with = "zero_last_pass")]
    pub no_zero_last_pass: bool,
    /// Do not ask; also shred read-only files (write permission is added first)
    #[arg(short, long)]
    pub force: bool,
    /// Files to overwrite and delete
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// `--method` of `kstrun shred`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShredMethodArg {
    /// `command` when GNU shred is on PATH, else `overwrite`
    Auto,
    /// Run GNU `shred -n N [-z]` on the file, then truncate and unlink it
    Command,
    /// Overwrite in place, fsync after each pass, then truncate and unlink
    Overwrite,
}

/// `kstrun init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Replace an existing file
    #[arg(short, long)]
    pub force: bool,
}

/// `kstrun completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

impl GlobalArgs {
    /// Fills `--manifest` and `--scope`, when not given, from
    /// `KSTRUN_MANIFEST` and `KSTRUN_SCOPE`. Read here rather than by clap,
    /// so that one set but empty counts as unset (`docker run -e
    /// KSTRUN_SCOPE=` means no scope; clap would call it an empty value, an
    /// error) without kstrun changing its own environment, which the child's
    /// `pass` variables come from.
    pub fn fill_from_environment(&mut self) -> Result<(), String> {
        let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        if self.manifest.is_none() {
            self.manifest = set("KSTRUN_MANIFEST").map(PathBuf::from);
        }
        if self.scope.is_none() {
            if let Some(scope) = set("KSTRUN_SCOPE") {
                let scope = scope
                    .into_string()
                    .map_err(|_| "KSTRUN_SCOPE is not UTF-8".to_string())?;
                self.scope = Some(scope);
            }
        }
        Ok(())
    }
}

/// clap's text for a usage error, except that nothing the user typed is
/// repeated but the names of options. A flag given a value (`--quiet=…`), a
/// value outside an option's choices or range, a word where none is
/// expected (`--set path VALUE`, with a space for the `=`) and an unknown
/// command would otherwise be quoted to stderr, and what was typed in the
/// wrong place may be a secret. clap's usage line and hint follow, as clap
/// writes them (they come from kstrun's own definition).
pub fn usage_error_text(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.as_str(),
        _ => "an option",
    };
    let choices = match error.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(values)) if !values.is_empty() => {
            format!(" (possible values: {})", values.join(", "))
        }
        _ => String::new(),
    };
    let what = match error.kind() {
        ErrorKind::TooManyValues => format!("'{arg}' takes no value"),
        // Without choices to list, clap's invalid value is an empty one.
        ErrorKind::InvalidValue if choices.is_empty() => {
            format!("'{arg}' was given an empty value")
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            format!("invalid value for '{arg}'{choices}")
        }
        ErrorKind::UnknownArgument if !arg.starts_with('-') => {
            "unexpected word on the command line; a program to run goes after `--`".to_string()
        }
        ErrorKind::InvalidSubcommand => {
            "unknown command (see --help); a program to run goes after `--`".to_string()
        }
        _ => return error.render().to_string(),
    };
    let rendered = error.render().to_string();
    let tail = ["Usage:", "For more information"]
        .iter()
        .find_map(|start| rendered.find(start))
        .map_or("", |at| &rendered[at..]);
    format!("error: {what} (what was typed is not repeated)\n\n{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn error_text(args: &[&str]) -> String {
        let error = Cli::command()
            .try_get_matches_from(args)
            .expect_err("a usage error");
        usage_error_text(&error)
    }

    #[test]
    fn usage_errors_never_repeat_the_value_given() {
        for (args, expect) in [
            (
                &["kstrun", "--quiet=hunter2"][..],
                "'--quiet' takes no value",
            ),
            (
                &["kstrun", "export", "--format", "hunter2"][..],
                "invalid value for '--format <FORMAT>' (possible values: ",
            ),
            (
                &["kstrun", "shred", "--passes", "hunter2", "f"][..],
                "invalid value for '--passes <N>'",
            ),
            (
                &["kstrun", "--set", "db.pass", "hunter2"][..],
                "unexpected word on the command line",
            ),
            (
                &["kstrun", "check", "hunter2"][..],
                "unexpected word on the command line",
            ),
            (
                &["kstrun", "hunter2"][..],
                "unexpected word on the command line",
            ),
            (
                &["kstrun", "help", "hunter2"][..],
                "unknown command (see --help)",
            ),
            (
                &["kstrun", "-m", ""][..],
                "'--manifest <PATH>' was given an empty value",
            ),
        ] {
            let text = error_text(args);
            assert!(text.contains(expect), "{args:?}: {text}");
            assert!(text.contains("For more information"), "{args:?}: {text}");
            assert!(!text.contains("hunter2"), "{args:?}: {text}");
        }
    }

    #[test]
    fn other_usage_errors_keep_clap_text() {
        let text = error_text(&["kstrun", "--bogus"]);
        assert!(text.contains("unexpected argument '--bogus'"), "{text}");
    }
}
