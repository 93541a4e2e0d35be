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
    super::write_stdout_text(&script)?;
    Ok(0)
}

/// Prints a man page (roff) to stdout: kstrun(1), or the page of `subcommand`.
pub fn man(subcommand: Option<&str>) -> Result<i32, Error> {
    // Built as clap_mangen builds its set of pages, so that a subcommand is
    // named `kstrun-shred`, as kstrun(1)'s list of commands names it.
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let command = match subcommand {
        None => command,
        // A mistyped word is not repeated: it may be a secret typed one
        // word off, as everywhere on the command line.
        Some(name) => command.find_subcommand(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
            Error::Usage(format!(
                "no man page for that command (commands: {}; what was typed is not repeated)",
                names.join(", ")
            ))
        })?,
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .source(concat!("kstrun ", env!("CARGO_PKG_VERSION")))
        .render(&mut page)
        .map_err(|e| Error::Toolbox(format!("rendering the man page: {e}")))?;
    super::write_stdout_text(&page)?;
    Ok(0)
}
