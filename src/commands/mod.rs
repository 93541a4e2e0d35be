//! kstrun's subcommands other than running a program, one per file.

pub mod check;
pub mod export;
pub mod generate;
pub mod init;
pub mod shred;

use crate::error::Error;
use std::io::Write;

/// An error when kstrun was started with stdout closed (descriptor 1 is
/// then `/dev/null`): output that is the point of a command would be lost.
pub fn stdout_is_open() -> Result<(), Error> {
    if crate::startup::stdout_was_closed() {
        return Err(Error::Child(
            "writing to stdout: it was closed when kstrun started".to_string(),
        ));
    }
    Ok(())
}

/// Writes a command's whole output to stdout. A stdout that cannot take it
/// (a closed pipe, a full disk, a descriptor closed when kstrun started) is
/// an error, exit 125, never a panic.
fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    stdout_is_open()?;
    write_and_flush(bytes).map_err(not_written)
}

/// As [`write_stdout`], for documentation (man pages, completion scripts).
fn write_stdout_text(bytes: &[u8]) -> Result<(), Error> {
    stdout_is_open()?;
    documentation_written(write_and_flush(bytes))
}

/// The outcome of writing documentation (help, man pages, completion
/// scripts) to stdout: a reader that stopped early (`kstrun man | head`)
/// had what it wanted; any other failure is an error.
pub fn documentation_written(written: std::io::Result<()>) -> Result<(), Error> {
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(not_written(e)),
        _ => Ok(()),
    }
}

fn write_and_flush(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).and_then(|()| stdout.flush())
}

fn not_written(e: std::io::Error) -> Error {
    Error::Child(format!("writing to stdout: {e}"))
}
