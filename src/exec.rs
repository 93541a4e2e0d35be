//! Replacing kstrun with the child: program lookup and `execve`.
//!
//! The program is looked up on the child's `PATH` when it has one (the child
//! should find what it would find itself), else on kstrun's own, else on
//! `/usr/local/bin:/usr/bin:/bin`. As with `execvp`, a candidate that exists
//! but cannot be executed is remembered and the search goes on; the outcome
//! decides the status: 127 when nothing was found, 126 when something was
//! found but could not be executed. Unlike `execvp`, a file without a `#!`
//! line is not handed to `/bin/sh`: that would run a shell nobody asked for.

use crate::child::ChildEnv;
use crate::error::Error;
use nix::errno::Errno;
use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

const FALLBACK_PATH: &[u8] = b"/usr/local/bin:/usr/bin:/bin";

/// Executes `command` with exactly `env`. Returns only on failure.
pub fn exec(command: &[OsString], env: ChildEnv) -> Error {
    let Some(program) = command.first() else {
        return Error::Usage("no command given".to_string());
    };
    let shown = program.to_string_lossy().into_owned();
    let candidates = candidates(program, &env);
    let mut argv = Vec::with_capacity(command.len());
    for arg in command {
        match CString::new(arg.clone().into_vec()) {
            Ok(arg) => argv.push(arg),
            Err(_) => return Error::Usage(format!("an argument of '{shown}' contains a NUL byte")),
        }
    }
    let (envp, _inherited_files) = env.into_exec_parts();
    let mut denied: Option<Errno> = None;
    for candidate in candidates {
        let Ok(path) = CString::new(candidate.into_os_string().into_vec()) else {
            continue;
        };
        let errno = match nix::unistd::execve(&path, &argv, &envp) {
            Err(errno) => errno,
            Ok(never) => match never {},
        };
        match errno {
            Errno::ENOENT | Errno::ENOTDIR => {}
            Errno::EACCES | Errno::EPERM | Errno::ENOEXEC | Errno::EISDIR => {
                denied.get_or_insert(errno);
            }
            other => {
                return Error::NotExecutable {
                    program: shown,
                    reason: other.desc().to_string(),
                }
            }
        }
    }
    match denied {
        Some(errno) => Error::NotExecutable {
            program: shown,
            reason: errno.desc().to_string(),
        },
        None => Error::NotFound { program: shown },
    }
}

/// The paths to try for `program`, in order.
fn candidates(program: &OsStr, env: &ChildEnv) -> Vec<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return vec![PathBuf::from(program)];
    }
    if program.is_empty() {
        return Vec::new();
    }
    let own_path = std::env::var_os("PATH");
    let search = env
        .get("PATH")
        .or(own_path.as_ref().map(|p| p.as_bytes()))
        .unwrap_or(FALLBACK_PATH);
    search
        .split(|&b| b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { b".".as_slice() } else { dir };
            PathBuf::from(OsStr::from_bytes(dir)).join(program)
        })
        .collect()
}
