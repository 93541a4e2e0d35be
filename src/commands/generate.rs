//! `kstrun completions SHELL` and `kstrun man`: generated, never hand-written.
//!
//! Both are rendered from the clap definition in [`crate::cli`] at run time,
//! so a new option shows up in completions and the man page the moment it is
//! added, and packagers can write them out with the installed binary.

use crate::cli::Cli;
use crate::error::Error;
use clap::CommandFactory;

/// Prints the completion script for `shell` to stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<i32, Error> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "kstrun", &mut script);
    super::write_stdout(&script)?;
    Ok(0)
}

/// Prints the man page (roff) to stdout.
pub fn man() -> Result<i32, Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Error::Toolbox(format!("rendering the man page: {e}")))?;
    super::write_stdout(&page)?;
    Ok(0)
}
