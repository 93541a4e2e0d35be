//! The `kstrun` binary: parse arguments, run, map the outcome to an exit status.
//!
//! There is no Rust runtime start-up (`no_main`): the C library calls
//! [`main`] directly and [`kstrun::startup::begin`] does the part of that
//! start-up kstrun needs; see `startup.rs` for why.

#![no_main]

use clap::{CommandFactory, FromArgMatches};
use kstrun::cli::Cli;
use kstrun::report::Reporter;
use std::ffi::{c_char, c_int, CStr, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

#[global_allocator]
static ALLOCATOR: kstrun::alloc::ZeroizingAllocator = kstrun::alloc::ZeroizingAllocator;

/// Parses the command line. The clap definition is leaked on purpose: it holds
/// no secrets, kstrun execs or exits soon after, and tearing down its
/// hundreds of small allocations (each wiped by the allocator) was a tenth
/// of a start-up.
fn parse(arguments: Vec<OsString>) -> Result<Cli, clap::Error> {
    let command = Box::leak(Box::new(Cli::command()));
    let mut matches = command.try_get_matches_from_mut(arguments)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(command))
}

/// The command line as the C library passed it to [`main`]. Not
/// `std::env::args_os`: without the Rust runtime's start-up, std has the
/// arguments only where the C library hands them to initialisers too, as
/// glibc does and musl does not (built for musl, kstrun saw none).
fn arguments(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
    if argv.is_null() {
        return Vec::new();
    }
    (0..usize::try_from(argc).unwrap_or(0))
        .map(|index| {
            // SAFETY: the C library passes `argc` pointers in `argv`, each to
            // a NUL-terminated string that lives as long as the process.
            let argument = unsafe { CStr::from_ptr(*argv.add(index)) };
            OsStr::from_bytes(argument.to_bytes()).to_os_string()
        })
        .collect()
}

/// The C entry point.
#[no_mangle]
extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    kstrun::startup::begin();
    let mut cli = match parse(arguments(argc, argv)) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with status 0 (unless it was
            // closed or cannot take them: then nothing could be shown; a
            // reader that stopped early, as `--help | head` does, had what
            // it wanted); usage errors are kstrun failures.
            if !error.use_stderr() {
                let shown = kstrun::commands::stdout_is_open().and_then(|()| {
                    kstrun::commands::documentation_written(
                        error
                            .print()
                            .and_then(|()| std::io::Write::flush(&mut std::io::stdout())),
                    )
                });
                if let Err(failed) = shown {
                    kstrun::report::stderr_line(format_args!("kstrun: error: {failed}"));
                    std::process::exit(125);
                }
                std::process::exit(0);
            }
            let text = kstrun::cli::usage_error_text(&error);
            kstrun::report::stderr_line(format_args!(
                "kstrun: {}",
                kstrun::report::printable(text.trim_end_matches('\n'))
            ));
            std::process::exit(125);
        }
    };
    if let Err(message) = cli.global.fill_from_environment() {
        kstrun::report::stderr_line(format_args!(
            "kstrun: error: {}",
            kstrun::report::printable_inline(&message)
        ));
        std::process::exit(125);
    }
    let report = Reporter::new(cli.global.quiet, cli.global.verbose);
    let status = match kstrun::run(cli, &report) {
        Ok(status) => status,
        Err(error) => {
            report.error_lines(&error.lines());
            error.exit_status()
        }
    };
    std::process::exit(status);
}
