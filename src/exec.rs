//! Replacing kstrun with the child: program lookup and `execve`.
//!
//! The program is looked up on the child's `PATH` when it has one (the child
//! should find what it would find itself), else on kstrun's own, else on
//! `/usr/local/bin:/usr/bin:/bin`. As with `execvp`, a candidate that exists
//! but cannot be executed is remembered and the search goes on; the outcome
//! decides the status: 127 when nothing was found, 126 when something was
//! found but could not be executed. Unlike `execvp`, a file without a `#!`
//! line is not handed to `/bin/sh`: that would run a shell nobody asked for.
//!
//! Everything `execve` needs (candidate paths, argument and environment
//! strings, their pointer arrays) is built once, up front, by
//! [`Program::prepare`]. [`Program::execve`] then only makes system calls,
//! so the forked child of `--init` can run it, and the environment block
//! handed to the kernel is the only copy of each value kstrun holds.

use crate::child::{ChildEnv, EnvBlock};
use crate::error::Error;
use nix::errno::Errno;
use nix::libc;
use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

const FALLBACK_PATH: &[u8] = b"/usr/local/bin:/usr/bin:/bin";

/// A command ready for `execve`: paths to try, arguments, environment and the
/// memfds the child inherits. Dropping it wipes the environment block.
pub struct Program {
    shown: String,
    candidates: Vec<CString>,
    /// Owns the strings `argv_ptrs` points into.
    _argv: Vec<CString>,
    /// Owns the entries `envp_ptrs` points into.
    _envp: EnvBlock,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
    files: Vec<OwnedFd>,
}

/// Why every `execve` of a [`Program`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecFailure {
    /// No candidate exists (127).
    NotFound,
    /// A candidate exists, but a file its `execve` needs does not: the
    /// interpreter of its `#!` line, or its dynamic loader (127, as shells
    /// give it, with its own message).
    NeedsMissingFile,
    /// A candidate exists but cannot be executed (126).
    Denied(Errno),
}

impl ExecFailure {
    /// The exit status of SPEC §4.2.
    pub fn exit_status(self) -> i32 {
        match self {
            ExecFailure::NotFound | ExecFailure::NeedsMissingFile => 127,
            ExecFailure::Denied(_) => 126,
        }
    }

    /// The error for `program`.
    pub fn into_error(self, program: &str) -> Error {
        match self {
            ExecFailure::NotFound => Error::NotFound {
                program: program.to_string(),
            },
            ExecFailure::NeedsMissingFile => Error::NeedsMissingFile {
                program: program.to_string(),
            },
            ExecFailure::Denied(errno) => Error::NotExecutable {
                program: program.to_string(),
                reason: errno.desc().to_string(),
            },
        }
    }
}

/// Refuses arguments and an environment bigger than one `execve` takes on
/// Linux: the exec would fail with E2BIG ("Argument list too long", exit
/// 126), naming nothing. Counted as the kernel counts them (every string with
/// its NUL, a pointer to each, and the program's path, which it copies onto
/// the same stack), against its limit: a quarter of the stack size limit, at
/// most 6 MiB, at least 128 KiB. Read off the block already built, whose
/// size is known: nothing is counted twice. (A `#!` script's interpreter
/// line, which the kernel adds to the arguments, is not counted.)
fn refuse_oversized(
    argv: &[CString],
    envp: &EnvBlock,
    candidates: &[CString],
) -> Result<(), Error> {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::resource::{getrlimit, Resource};
        let Ok((stack, _)) = getrlimit(Resource::RLIMIT_STACK) else {
            return Ok(());
        };
        let stack = usize::try_from(stack).unwrap_or(usize::MAX);
        let limit = (stack / 4).clamp(128 * 1024, 6 * 1024 * 1024);
        let (env_bytes, env_count) = envp.size();
        let pointers = (argv.len().max(1) + env_count) * std::mem::size_of::<usize>();
        let strings = argv
            .iter()
            .map(|arg| arg.as_bytes_with_nul().len())
            .sum::<usize>()
            + env_bytes;
        // The path is the one execve will be given: the first candidate that
        // exists, as `execve` tries them (looked for only near the limit,
        // where it matters; a PATH entry never used counts for nothing).
        let path_of = |path: &CString| path.as_bytes_with_nul().len();
        let longest = candidates.iter().map(path_of).max().unwrap_or(0);
        let path = if strings + pointers + longest <= limit {
            longest
        } else {
            candidates
                .iter()
                .find(|path| {
                    // SAFETY: `path` is a live NUL-terminated string.
                    unsafe { libc::access(path.as_ptr(), libc::F_OK) == 0 }
                })
                .map_or(0, path_of)
        };
        let strings = strings + path;
        if strings + pointers > limit {
            return Err(Error::Child(format!(
                "the child's arguments and environment take {} bytes, more than the {limit} one execve takes here (a quarter of the stack size limit, `ulimit -s`, at least 128 KiB and at most 6 MiB); the largest variables: {} (a secret can be delivered with as = \"file\")",
                strings + pointers,
                envp.largest(3).join(", ")
            )));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (argv, envp);
    Ok(())
}

impl Program {
    /// Resolves the candidates and builds the `execve` arguments, consuming `env`.
    pub fn prepare(command: &[OsString], env: ChildEnv) -> Result<Program, Error> {
        let Some(program) = command.first() else {
            return Err(Error::Usage("no command given".to_string()));
        };
        let shown = program.to_string_lossy().into_owned();
        let candidates: Vec<CString> = candidates(program, &env)
            .into_iter()
            .filter_map(|path| CString::new(path.into_os_string().into_vec()).ok())
            .collect();
        let mut argv = Vec::with_capacity(command.len());
        for arg in command {
            match CString::new(arg.as_bytes()) {
                Ok(arg) => argv.push(arg),
                Err(_) => {
                    return Err(Error::Usage(format!(
                        "an argument of '{shown}' contains a NUL byte"
                    )))
                }
            }
        }
        let (envp, files) = env.into_exec_parts();
        refuse_oversized(&argv, &envp, &candidates)?;
        let argv_ptrs = pointers(&argv);
        let envp_ptrs = envp.pointers();
        Ok(Program {
            shown,
            candidates,
            _argv: argv,
            _envp: envp,
            argv_ptrs,
            envp_ptrs,
            files,
        })
    }

    /// The program as the user gave it, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Tries each candidate with `execve`. Returns only on failure.
    ///
    /// System calls only (no allocation, no lock): safe between `fork` and `execve`.
    pub fn execve(&self) -> ExecFailure {
        // The file secrets' memfds were close-on-exec until now, so that no
        // helper run while resolving inherited them: only the child does.
        for file in &self.files {
            if let Err(errno) = inherit_on_exec(file.as_raw_fd()) {
                return ExecFailure::Denied(errno);
            }
        }
        let mut denied: Option<Errno> = None;
        let mut needs_missing_file = false;
        for path in &self.candidates {
            // SAFETY: `path` and every string the pointer arrays point into are
            // owned by `self` and alive; both arrays end with a null pointer.
            unsafe {
                libc::execve(
                    path.as_ptr(),
                    self.argv_ptrs.as_ptr(),
                    self.envp_ptrs.as_ptr(),
                );
            }
            match Errno::last() {
                Errno::ENOENT => {
                    // The file is there: what is missing is its interpreter or loader.
                    // SAFETY: `path` is a live NUL-terminated string.
                    needs_missing_file |= unsafe { libc::access(path.as_ptr(), libc::F_OK) } == 0;
                }
                // Found, or named as a path, yet "not a directory": a path
                // through a file, the program's or its `#!` interpreter's,
                // cannot be run (126, as shells give it). A PATH entry that
                // is a file is passed over.
                // SAFETY: `path` is a live NUL-terminated string.
                Errno::ENOTDIR
                    if self.shown.contains('/')
                        || unsafe { libc::access(path.as_ptr(), libc::F_OK) } == 0 =>
                {
                    denied.get_or_insert(Errno::ENOTDIR);
                }
                Errno::ENOTDIR => {}
                Errno::EACCES | Errno::EPERM | Errno::ENOEXEC | Errno::EISDIR => {
                    denied.get_or_insert(Errno::last());
                }
                other => return ExecFailure::Denied(other),
            }
        }
        match denied {
            Some(errno) => ExecFailure::Denied(errno),
            None if needs_missing_file => ExecFailure::NeedsMissingFile,
            None => ExecFailure::NotFound,
        }
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        // The pointer arrays point into the strings: clear them first. The
        // environment block wipes itself when it is dropped, after this.
        self.argv_ptrs.clear();
        self.envp_ptrs.clear();
        self.files.clear();
    }
}

/// Clears `fd`'s close-on-exec flag, so that the next `execve` passes it on.
/// Two `fcntl` calls, nothing else: safe between `fork` and `execve`.
pub fn inherit_on_exec(fd: std::os::fd::RawFd) -> Result<(), Errno> {
    // SAFETY: fcntl on a plain descriptor number; no memory is involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Null-terminated pointer array into `strings` (their heap buffers never move).
fn pointers(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Replaces kstrun with `program`, giving back the caller's process state
/// (`state`) just before. Returns only on failure.
#[cfg(target_os = "linux")]
pub fn exec(program: Program, state: &crate::hardening::ProcessState) -> Error {
    state.restore();
    program.execve().into_error(program.shown())
}

/// Replaces kstrun with `program`. Returns only on failure.
#[cfg(not(target_os = "linux"))]
pub fn exec(program: Program) -> Error {
    program.execve().into_error(program.shown())
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
