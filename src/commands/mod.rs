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
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::Child(format!("writing to stdout: {e}")))
}

/// As [`write_stdout`], for documentation (man pages, completion scripts):
/// a reader that stopped early (`kstrun man | head`) had what it wanted.
fn write_stdout_text(bytes: &[u8]) -> Result<(), Error> {
    stdout_is_open()?;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Child(format!("writing to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
