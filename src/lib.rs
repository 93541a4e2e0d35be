//! kstrun: start a program with its secrets and nothing else.
//!
//! The crate is a library first. [`secrets`] is the cascade (overrides → env
//! → keyring → sops → default) for any Rust program; [`sops`] is a standalone
//! SOPS reader. The rest is the `kstrun` command: [`manifest`] reads
//! `kstrun.toml`, [`plan`] joins it with the command line, [`resolution`]
//! runs the cascade, [`child`] builds the exact environment and [`exec`]
//! replaces the process. [`run`] ties them together; `main.rs` only maps its
//! result to an exit status.

pub mod alloc;
pub mod child;
pub mod cli;
pub mod commands;
pub mod error;
pub mod exec;
#[cfg(target_os = "linux")]
pub mod hardening;
mod hash;
#[cfg(target_os = "linux")]
pub mod init;
pub mod interrupt;
pub mod kstlib_config;
pub mod lifecycle;
pub mod manifest;
pub mod memfd;
pub mod plan;
#[cfg(target_os = "linux")]
mod processes;
pub mod report;
pub mod resolution;
pub mod secrets;
#[cfg(target_os = "linux")]
pub mod signals;
pub mod sops;
mod stack;
pub mod startup;
#[cfg(target_os = "linux")]
mod terminal;
mod text;
mod yaml_events;

use child::FileSecrets;
use cli::{Cli, Command, GlobalArgs, RunArgs};
use error::Error;
use lifecycle::{Lifecycle, Mode};
use manifest::{Manifest, ManifestError};
use plan::{Plan, PlanOptions};
use report::Reporter;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Runs the parsed command line. Returns the exit status of a command that
/// finished (`check`, `export`); a successful run never returns.
pub fn run(cli: Cli, report: &Reporter) -> Result<i32, Error> {
    let Cli {
        global,
        run,
        command,
    } = cli;
    // `--init`/`--init-group` before a subcommand: `run` takes them as its
    // own; any other subcommand refuses them rather than drop them unseen.
    let top_level_init = run.init || run.init_group;
    if top_level_init && !matches!(command, None | Some(Command::Run(_))) {
        return Err(Error::Usage(
            "--init and --init-group start a program: they do not go with this subcommand"
                .to_string(),
        ));
    }
    match command {
        None => run_program(global, run, report),
        Some(Command::Run(args)) => {
            let args = RunArgs {
                init: args.init || run.init,
                init_group: args.init_group || run.init_group,
                command: args.command,
            };
            run_program(global, args, report)
        }
        Some(Command::Check(args)) => {
            let _lifecycle = Lifecycle::begin(Mode::Exec, report)?;
            // Output to a pipe may block: interrupts are watched throughout.
            interrupt::watch();
            commands::check::run(load_plan(global, report)?, args.json)
        }
        Some(Command::Export(args)) => {
            let _lifecycle = Lifecycle::begin(Mode::Exec, report)?;
            interrupt::watch();
            commands::export::run(load_plan(global, report)?, args.format, report)
        }
        Some(Command::Shred(args)) => {
            let settings = commands::shred::manifest_settings(&global)?;
            commands::shred::run(args, settings, report)
        }
        Some(Command::Init(args)) => {
            commands::init::run(global.manifest.as_deref(), args.force, global.quiet)
        }
        Some(Command::Completions(args)) => commands::generate::completions(args.shell),
        Some(Command::Man(args)) => commands::generate::man(args.command.as_deref()),
    }
}

/// The main job: resolve, build the environment, wipe, exec.
fn run_program(global: GlobalArgs, args: RunArgs, report: &Reporter) -> Result<i32, Error> {
    let mode = match (args.init, args.init_group) {
        (_, true) => Mode::InitGroup,
        (true, false) => Mode::Init,
        (false, false) => Mode::Exec,
    };
    // Hardened and interruptible from before the manifest is read until the child starts.
    let lifecycle = Lifecycle::begin(mode, report)?;
    let mut plan = load_plan(global, report)?;
    let command: Vec<OsString> = if !args.command.is_empty() {
        args.command
    } else if let Some(command) = plan.command.take() {
        command.into_iter().map(OsString::from).collect()
    } else {
        return Err(Error::Usage(
            "no command: give one after `--` or set `command` in the manifest".to_string(),
        ));
    };
    let env = resolution::resolve_into_env(plan, FileSecrets::Memfd, report)?;
    let program = exec::Program::prepare(&command, env)?;
    // Resolution's dead frames still hold plaintext (a SOPS MAC's hash state).
    stack::wipe_below();
    lifecycle.start(program)
}

/// Finds and loads the manifest, then joins it with the command-line options.
fn load_plan(global: GlobalArgs, report: &Reporter) -> Result<Plan, Error> {
    let scope = global.scope.as_deref();
    let manifest = match manifest::locate(global.manifest.as_deref()) {
        Some(file) => Manifest::load(&file, scope)?,
        // Scopes are defined in a manifest: without one, any scope is unknown
        // (and a typo must not silently pick other env names and keyring users).
        None if !global.secret.is_empty() => match scope {
            Some(scope) => {
                return Err(Error::Usage(format!(
                    "unknown scope '{scope}': no manifest, so no scope is defined (unset KSTRUN_SCOPE or drop --scope)"
                )))
            }
            None => {
                Manifest::empty(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
            }
        },
        None => {
            return Err(ManifestError::in_file(
                Path::new("kstrun.toml"),
                "no manifest here (give -m PATH, set KSTRUN_MANIFEST, or name secrets with -s VAR=PATH)",
            )
            .into())
        }
    };
    let options = PlanOptions {
        scope: global.scope,
        set: global.set,
        secret: global.secret,
        pass: global.pass,
    };
    let plan = Plan::build(manifest, options)?;
    // A `--set` no secret asks for is most likely a typo, which would leave
    // the value it meant to replace in place without a word.
    for (path, _) in &plan.settings.overrides {
        if !plan.entries.iter().any(|entry| entry.request.name == *path) {
            report.warning(&format!(
                "--set {path}: no secret has this path, so its value is not used"
            ));
        }
    }
    Ok(plan)
}
