//! `kstrun completions SHELL` and `kstrun man`: generated, never hand-written.
//!
//! Both are rendered from the clap definition in [`crate::cli`] at run time,
//! so a new option shows up in completions and the man page the moment it is
//! added, and packagers can write them out with the installed binary.

use crate::cli::Cli;
use crate::error::Error;
use clap::CommandFactory;
use std::io::Write;

/// Prints the completion script for `shell` to stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<i32, Error> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "kstrun", &mut script);
    write_stdout(&script)
}

/// Prints the man page (roff) to stdout.
pub fn man() -> Result<i32, Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Error::Toolbox(format!("rendering the man page: {e}")))?;
    write_stdout(&page)
}

fn write_stdout(bytes: &[u8]) -> Result<i32, Error> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::Toolbox(format!("writing to stdout: {e}")))?;
    Ok(0)
}
