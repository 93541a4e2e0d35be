//! The command line, as clap derive types.
//!
//! This is the single definition of kstrun's interface: argument parsing,
//! `--help`, shell completions and the man page are all generated from it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  kstrun -- ./server --port 8080          run with the secrets of ./kstrun.toml
  kstrun --scope production -- ./server   use [scopes.production]
  kstrun -s DB_URL=database.url -- env    no manifest needed with -s
  kstrun check                            which provider answers each secret (no values)
  kstrun export --format dotenv > .env    the child's environment, for docker --env-file
  ENTRYPOINT [\"kstrun\", \"--\"]             in a Dockerfile
  run: ; kstrun -- cargo run              in a Makefile

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

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Manifest file [default: ./kstrun.toml]
    #[arg(
        short = 'm',
        long,
        value_name = "PATH",
        env = "KSTRUN_MANIFEST",
        global = true
    )]
    pub manifest: Option<PathBuf>,
    /// Lay [scopes.NAME] over the manifest and try scoped names first
    #[arg(long, value_name = "NAME", env = "KSTRUN_SCOPE", global = true)]
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
    /// Print which provider served each variable (never a value), to stderr
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Print nothing but errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
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
    /// NAME="value" lines (python-dotenv, systemd EnvironmentFile)
    Dotenv,
    /// export NAME='value' lines, for eval
    Shell,
    /// One JSON object
    Json,
}
