//! `--init` and `--init-group`: kstrun as the PID 1 of a container (Linux).
//!
//! Instead of replacing itself, kstrun forks the child and stays as its
//! supervisor, doing the job tini does:
//!
//! * every catchable signal kstrun receives is forwarded to the child, or to
//!   the child's process group with `--init-group` (so that a shell's own
//!   children see it too). Fault signals (SIGSEGV, SIGBUS, ...) are kstrun's
//!   own, as in tini, and a signal the caller ignored stays ignored;
//! * every zombie is reaped (a `waitpid(-1)` loop on each SIGCHLD): as PID 1,
//!   or as a child subreaper (`PR_SET_CHILD_SUBREAPER`) when it is not PID 1,
//!   kstrun inherits every orphaned descendant;
//! * kstrun exits with the child's status, 128+N when it died from signal N.
//!
//! The signals are blocked from the very start (see `lib.rs`) and taken with
//! `sigwaitinfo`, so none is lost between the fork and the loop. The child
//! gets its own process group (and the terminal's foreground, when there is
//! one, as tini does), so that a Ctrl-C at a terminal reaches it once, not a
//! second time through kstrun.
//!
//! Secrets: the environment block is built before the fork and dropped
//! (wiped, memfds closed) by the parent right after it, so the waiting
//! supervisor holds no secret. An `execve` failure in the child is sent back
//! through a close-on-exec pipe, so 126/127 keep their meaning.

use crate::error::Error;
use crate::exec::{ExecFailure, Program};
use crate::hardening::ProcessState;
use crate::signals::{self, SignalSet};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::unistd::{fork, ForkResult, Pid};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// How signals reach the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// To the child only (`--init`).
    Child,
    /// To the child's process group (`--init-group`).
    Group,
}

/// The signals the supervisor takes: every catchable, non-fault signal the
/// caller did not ignore, and SIGCHLD. To be blocked before any thread starts.
pub fn supervised_signals(state: &ProcessState) -> SignalSet {
    let mut set = SignalSet::empty();
    for signo in 1..=signals::max_signal() {
        if signals::is_catchable(signo) && !signals::is_fault(signo) && !state.was_ignored(signo) {
            set.add(signo);
        }
    }
    set.add(libc::SIGCHLD);
    set
}

/// Forks and execs `program`, then forwards signals and reaps until the
/// child ends. Returns the exit status for kstrun.
pub fn supervise(
    program: Program,
    state: &ProcessState,
    forward: Forward,
    signals: &SignalSet,
) -> Result<i32, Error> {
    let shown = program.shown().to_string();
    let (report_read, report_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(|e| Error::Child(format!("cannot create a pipe: {e}")))?;
    if std::process::id() != 1 {
        nix::sys::prctl::set_child_subreaper(true)
            .map_err(|e| Error::Child(format!("cannot become a child subreaper: {e}")))?;
    }
    // SAFETY: between fork and execve the child only makes system calls
    // (setpgid, tcsetpgrp, sigaction, sigprocmask, setrlimit, prctl, execve,
    // write, _exit); it allocates nothing and takes no lock.
    let child = match unsafe { fork() } {
        Err(e) => return Err(Error::Child(format!("cannot fork: {e}"))),
        Ok(ForkResult::Child) => {
            drop(report_read);
            start_child(&program, state, &report_write)
        }
        Ok(ForkResult::Parent { child }) => child,
    };
    // Both sides set the group, so that no signal can reach a group not yet made.
    let _ = nix::unistd::setpgid(child, child);
    drop(report_write);
    // The parent holds no secret from here on: environment block wiped, memfds closed.
    drop(program);
    if let Some(failure) = read_report(report_read) {
        let _ = nix::sys::wait::waitpid(child, None);
        return Err(failure.into_error(&shown));
    }
    let target = match forward {
        Forward::Child => child.as_raw(),
        Forward::Group => -child.as_raw(),
    };
    loop {
        let received = signals.wait();
        if received.signo == libc::SIGCHLD {
            if let Some(status) = reap(child) {
                return Ok(status);
            }
        } else {
            // SAFETY: kill(2) with a plain PID or negated process group; no memory involved.
            unsafe {
                libc::kill(target, received.signo);
            }
        }
    }
}

/// The forked child: own process group, original process state, execve.
fn start_child(program: &Program, state: &ProcessState, report: &OwnedFd) -> ! {
    let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
    // SAFETY: descriptor 0 stays open for the duration of these calls.
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    if nix::unistd::isatty(stdin.as_raw_fd()).unwrap_or(false) {
        // SIGTTOU is still blocked here, so a background kstrun may do this.
        let _ = nix::unistd::tcsetpgrp(stdin, nix::unistd::getpgrp());
    }
    state.restore();
    let failure = program.execve();
    let _ = nix::unistd::write(report, &encode(failure));
    // SAFETY: _exit ends the forked child without running the parent's atexit handlers.
    unsafe { libc::_exit(failure.exit_status()) }
}

fn encode(failure: ExecFailure) -> [u8; 5] {
    let (kind, errno) = match failure {
        ExecFailure::NotFound => (0u8, 0i32),
        ExecFailure::Denied(errno) => (1u8, errno as i32),
        ExecFailure::NeedsMissingFile => (2u8, 0i32),
    };
    let mut bytes = [kind, 0, 0, 0, 0];
    bytes[1..].copy_from_slice(&errno.to_le_bytes());
    bytes
}

/// The child's `execve` failure, or `None` when the pipe closed on a successful exec.
fn read_report(pipe: OwnedFd) -> Option<ExecFailure> {
    let mut bytes = [0u8; 5];
    std::io::Read::read_exact(&mut std::fs::File::from(pipe), &mut bytes).ok()?;
    let errno = i32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    Some(match bytes[0] {
        0 => ExecFailure::NotFound,
        2 => ExecFailure::NeedsMissingFile,
        _ => ExecFailure::Denied(Errno::from_raw(errno)),
    })
}

/// Reaps every child that has ended; the status for kstrun once `child` has.
fn reap(child: Pid) -> Option<i32> {
    let mut outcome = None;
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes one int into `status`.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            if pid == child.as_raw() {
                if libc::WIFEXITED(status) {
                    outcome = Some(libc::WEXITSTATUS(status));
                } else if libc::WIFSIGNALED(status) {
                    outcome = Some(128 + libc::WTERMSIG(status));
                }
            }
            continue;
        }
        if pid < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        return outcome;
    }
}
