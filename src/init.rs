//! `--init` and `--init-group`: kstrun as the PID 1 of a container (Linux).
//!
//! Instead of replacing itself, kstrun forks the child and stays as its
//! supervisor, doing the job tini does:
//!
//! * every catchable signal kstrun receives is forwarded to the child, or to
//!   the child's process group with `--init-group` (so that a shell's own
//!   children see it too); a signal the caller ignored stays ignored. That
//!   includes the fault signals (SIGSEGV, SIGBUS, SIGABRT, ...) when another
//!   process sends them (tini keeps those for itself): blocking them is safe,
//!   since the kernel delivers a real fault of kstrun's own (and `abort`
//!   raises SIGABRT) whatever the mask, so kstrun still dies of it;
//! * every zombie is reaped (a `waitpid(-1)` loop on each SIGCHLD): as PID 1,
//!   or as a child subreaper (`PR_SET_CHILD_SUBREAPER`) when it is not PID 1,
//!   kstrun inherits every orphaned descendant;
//! * kstrun exits with the child's status, 128+N when it died from signal N.
//!
//! The signals are blocked from the very start (see `lib.rs`) and taken with
//! `sigwaitinfo`, so none is lost between the fork and the loop. The child
//! gets its own process group, so that a Ctrl-C at a terminal reaches it
//! once, not a second time through kstrun.
//!
//! At a terminal kstrun does for that group what a shell does for a job:
//! when kstrun is in the terminal's foreground, the child gets the
//! foreground (of the controlling terminal, whatever stdin is; a
//! `kstrun --init ... &` never takes the terminal from the shell); when the
//! child stops by job control (Ctrl-Z, a read from the terminal in the
//! background; not a `kill -STOP`) kstrun takes the terminal back if the
//! child had it and stops too, so the shell sees its job stopped; when continued it continues the child, giving it
//! the terminal if kstrun now has it (`fg`, also of a job started with `&`;
//! not `bg`); and when the child ends kstrun gives the terminal back to its
//! own group before it exits.
//!
//! Secrets: the environment block is built before the fork and dropped
//! (wiped, memfds closed) by the parent right after it, so the waiting
//! supervisor holds no secret. An `execve` failure in the child is sent back
//! through a close-on-exec pipe, so 126/127 keep their meaning.

use crate::error::Error;
use crate::exec::{ExecFailure, Program};
use crate::hardening::ProcessState;
use crate::signals::{self, Received, SignalSet};
use crate::terminal::{stop_as_a_job, Terminal};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::unistd::{fork, ForkResult, Pid};
use std::os::fd::OwnedFd;

/// How signals reach the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// To the child only (`--init`).
    Child,
    /// To the child's process group (`--init-group`).
    Group,
}

/// The signals the supervisor takes: every catchable signal the caller did
/// not ignore, and SIGCHLD. To be blocked before any thread starts.
pub fn supervised_signals(state: &ProcessState) -> SignalSet {
    let mut set = SignalSet::empty();
    for signo in 1..=signals::max_signal() {
        if signals::is_catchable(signo) && !state.was_ignored(signo) {
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
    // kstrun's own group outside its PID namespace (`unshare --pid --fork`)
    // reads as 0: no group can be told apart from the terminal's, so the
    // child stays in kstrun's group, the caller's job, as in exec mode
    // (`--init-group` needs a group of the child's own, and keeps it).
    let kstrun_group = nix::unistd::getpgrp();
    let terminal = Terminal::controlling(kstrun_group);
    let separate_group = forward == Forward::Group || kstrun_group.as_raw() > 0;
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
            start_child(
                &program,
                state,
                &report_write,
                separate_group,
                terminal.as_ref(),
            )
        }
        Ok(ForkResult::Parent { child }) => child,
    };
    // Both sides set the group (and hand it the terminal), so that no signal
    // can reach a group not yet made.
    if separate_group {
        let _ = nix::unistd::setpgid(child, child);
        if let Some(terminal) = terminal.as_ref().filter(|t| t.in_foreground()) {
            terminal.give_to(child);
        }
    }
    drop(report_write);
    // The parent holds no secret from here on: environment block wiped, memfds closed.
    drop(program);
    if let Some(failure) = read_report(report_read) {
        let _ = nix::sys::wait::waitpid(child, None);
        if let Some(terminal) = &terminal {
            terminal.take_back_from(child);
        }
        return Err(failure.into_error(&shown));
    }
    let target = match forward {
        Forward::Child => child.as_raw(),
        Forward::Group => -child.as_raw(),
    };
    loop {
        let received = signals.wait();
        if received.signo == libc::SIGCHLD {
            match reap(child) {
                Child::Ended(status) => {
                    if let Some(terminal) = &terminal {
                        terminal.take_back_from(child);
                    }
                    return Ok(status);
                }
                Child::Stopped(signal) => {
                    if let Some(terminal) = &terminal {
                        terminal.follow_stop(child, signal);
                    }
                }
                Child::Running => {}
            }
        } else if !separate_group && received.code == libc::SI_KERNEL {
            // Sent by the terminal to the whole group, the child included.
        } else {
            forward_signal(received, child, target, terminal.as_ref());
        }
    }
}

/// Passes a signal kstrun received on to the child (`target`: the child,
/// or its group with `--init-group`), doing at a terminal what the shell's
/// job control expects of the job kstrun stands for:
/// * a signal the terminal sent (Ctrl-C, Ctrl-\, Ctrl-Z) reached kstrun, so
///   kstrun held the terminal (a job brought back with `fg` while running
///   gets no SIGCONT): the child's group gets the terminal, and the signal,
///   as the terminal would have sent it to it;
/// * continued (`fg`, `bg`): the child gets the terminal if kstrun has it,
///   and its whole group is continued, as a shell continues a job;
/// * told to stop (`kill -TSTP %1`, Ctrl-Z): the child was told too, and
///   kstrun stops as the job.
fn forward_signal(received: Received, child: Pid, target: i32, terminal: Option<&Terminal>) {
    let signo = received.signo;
    let from_terminal = received.code == libc::SI_KERNEL
        && matches!(signo, libc::SIGINT | libc::SIGQUIT | libc::SIGTSTP);
    let target = match terminal {
        Some(terminal) if from_terminal || signo == libc::SIGCONT => {
            terminal.hand_over_if_foreground(child);
            -child.as_raw()
        }
        _ => target,
    };
    // SAFETY: kill(2) with a plain PID or negated process group; no memory involved.
    unsafe {
        libc::kill(target, signo);
    }
    if matches!(signo, libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU) {
        terminal.inspect(|terminal| terminal.stop_with(child, false));
    }
}

/// What `--init` does with the terminal beyond lending it (`crate::terminal`).
impl Terminal {
    /// Gives the terminal to `child`'s group if kstrun's group holds it.
    fn hand_over_if_foreground(&self, child: Pid) {
        if self.in_foreground() {
            self.give_to(child);
        }
    }

    /// The child stopped by `signal`, as a shell's job would:
    /// * while it held the terminal (Ctrl-Z, `suspend`, any stop): the shell
    ///   must get its terminal back, so kstrun takes it and stops as the job;
    /// * reading or writing the terminal while kstrun holds it (a race with
    ///   `fg`): it gets the terminal and goes on;
    /// * reading or writing it while the whole job is in the background:
    ///   the job stops, kstrun with it, until `fg` or `bg`;
    /// * any other stop (`kill -STOP` of a child in the background) is the
    ///   child's alone: kstrun keeps forwarding and reaping.
    fn follow_stop(&self, child: Pid, signal: i32) {
        let touched_terminal = matches!(signal, libc::SIGTTIN | libc::SIGTTOU);
        if self.held_by(child) {
            self.stop_with(child, false);
        } else if touched_terminal && self.in_foreground() {
            self.give_to(child);
            continue_group(child);
        } else if touched_terminal {
            self.stop_with(child, true);
        }
    }

    /// Stops kstrun as the job its child belongs to, the terminal taken
    /// back from the child first. Once kstrun is continued, the SIGCONT that
    /// did it is pending, and `forward_signal` hands the terminal over and
    /// continues the child's group. Where kstrun cannot stop (its process
    /// group is orphaned, or SIGTSTP is ignored), the child is continued at
    /// once; after a pause if it stopped `touching_terminal` from the
    /// background, which it will do again at once: the pause keeps that from
    /// spinning until the terminal goes, when its read fails, as it would in
    /// exec mode.
    fn stop_with(&self, child: Pid, touching_terminal: bool) {
        self.take_back_from(child);
        if stop_as_a_job() {
            return;
        }
        if touching_terminal {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        self.hand_over_if_foreground(child);
        continue_group(child);
    }
}

/// Continues `child`'s process group.
fn continue_group(child: Pid) {
    // SAFETY: kill(2) involves no memory.
    unsafe {
        libc::kill(-child.as_raw(), libc::SIGCONT);
    }
}

/// The forked child: own process group unless told otherwise (with the
/// terminal's foreground when kstrun had it), original process state, execve.
fn start_child(
    program: &Program,
    state: &ProcessState,
    report: &OwnedFd,
    separate_group: bool,
    terminal: Option<&Terminal>,
) -> ! {
    if separate_group {
        let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
        if let Some(terminal) = terminal.filter(|t| t.in_foreground()) {
            terminal.give_to(nix::unistd::getpgrp());
        }
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

/// What became of the main child after a SIGCHLD.
enum Child {
    /// It ended: kstrun's exit status.
    Ended(i32),
    /// It was stopped, by this signal.
    Stopped(i32),
    /// Still running (another descendant changed state).
    Running,
}

/// Reaps every child that has ended, and says what became of `child`.
fn reap(child: Pid) -> Child {
    let mut outcome = Child::Running;
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes one int into `status`.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG | libc::WUNTRACED) };
        if pid > 0 {
            if pid == child.as_raw() {
                if libc::WIFEXITED(status) {
                    outcome = Child::Ended(libc::WEXITSTATUS(status));
                } else if libc::WIFSIGNALED(status) {
                    outcome = Child::Ended(128 + libc::WTERMSIG(status));
                } else if libc::WIFSTOPPED(status) && !matches!(outcome, Child::Ended(_)) {
                    outcome = Child::Stopped(libc::WSTOPSIG(status));
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
