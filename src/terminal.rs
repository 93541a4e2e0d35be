//! The controlling terminal: whose process group has its foreground, and
//! handing it to another group and back (Linux).
//!
//! Two users. `--init` treats its child as a shell treats a job (see
//! `init.rs`). And a helper that may prompt — `sops` asking for a key
//! file's passphrase, a `SOPS_AGE_KEY_CMD` such as `age -d key.age` — runs
//! in a process group of its own, so that a deadline or an interrupt kills
//! whatever it started; a process outside the terminal's foreground group
//! is stopped when it reads the terminal or turns echo off, so its prompt
//! would hang until the deadline, showing what was typed. [`Terminal::lend`]
//! gives such a helper the foreground for as long as it runs, as a shell
//! gives it to a job, and the [`Loan`] takes it back; [`HelperTerminal`]
//! follows the helper's stops (Ctrl-Z at its prompt) as a shell follows a
//! job's.

use crate::interrupt::lock;
use crate::signals::SignalSet;
use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::signal::{killpg, pthread_sigmask, SigSet, SigmaskHow, Signal};
use nix::sys::termios::{tcgetattr, tcsetattr, SetArg, Termios};
use nix::unistd::Pid;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Mutex;

/// The controlling terminal, and kstrun's own process group.
pub(crate) struct Terminal {
    tty: OwnedFd,
    own_group: Pid,
}

impl Terminal {
    /// The controlling terminal (whatever stdin is), for kstrun's group
    /// `own_group`; `None` without one.
    /// Kept also when kstrun starts in the background: once brought to the
    /// foreground (`fg`), `--init` hands the terminal on. `None` too when kstrun's
    /// process group lies outside its PID namespace (`unshare --pid --fork`):
    /// there the group and the terminal's foreground both read as 0, which
    /// would pass for "kstrun holds the terminal" when it does not.
    pub(crate) fn controlling(own_group: Pid) -> Option<Terminal> {
        if own_group.as_raw() <= 0 {
            return None;
        }
        let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        let fd = nix::fcntl::open("/dev/tty", flags, nix::sys::stat::Mode::empty()).ok()?;
        // SAFETY: `open` just returned this descriptor, owned by no one else.
        let tty = unsafe { OwnedFd::from_raw_fd(fd) };
        Some(Terminal { tty, own_group })
    }

    /// Whether kstrun's group holds the terminal's foreground now.
    pub(crate) fn in_foreground(&self) -> bool {
        nix::unistd::tcgetpgrp(&self.tty) == Ok(self.own_group)
    }

    /// Whether `group` holds the terminal's foreground now.
    pub(crate) fn held_by(&self, group: Pid) -> bool {
        nix::unistd::tcgetpgrp(&self.tty) == Ok(group)
    }

    /// Gives the foreground to `group`, also from the background: SIGTTOU,
    /// which would stop kstrun for it, is blocked in this thread meanwhile
    /// (a blocked SIGTTOU counts as ignored: the kernel then neither sends
    /// it nor refuses).
    pub(crate) fn give_to(&self, group: Pid) {
        let mut ttou = SigSet::empty();
        ttou.add(Signal::SIGTTOU);
        let mut before = SigSet::empty();
        let blocked = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&ttou), Some(&mut before));
        let _ = nix::unistd::tcsetpgrp(&self.tty, group);
        if blocked.is_ok() {
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&before), None);
        }
    }

    /// Gives the foreground back to kstrun's own group, if `group` holds
    /// it: not when the shell has it (`--init`'s job was put in the
    /// background with `bg`), which would take the terminal from the shell.
    pub(crate) fn take_back_from(&self, group: Pid) {
        if self.held_by(group) {
            self.give_to(self.own_group);
        }
    }

    /// Lends the terminal to `helper`'s process group, when kstrun's group
    /// holds its foreground; `None` otherwise (no terminal, or kstrun runs
    /// in the background, where a prompt could not be answered anyway).
    /// The terminal's modes are kept, to be set again when it comes back:
    /// a helper killed at its prompt (Ctrl-C, the deadline) leaves echo off.
    pub(crate) fn lend(helper: Pid) -> Option<Loan> {
        let terminal = Terminal::controlling(nix::unistd::getpgrp())?;
        if !terminal.in_foreground() {
            return None;
        }
        let modes = tcgetattr(&terminal.tty).ok();
        terminal.give_to(helper);
        // A helper that reached for the terminal before it had it was
        // stopped there: it goes on now, and its read or mode change is
        // tried again.
        let _ = killpg(helper, Signal::SIGCONT);
        *lock(&LENT) = Some(Lent {
            terminal,
            helper,
            modes,
            helper_modes: None,
        });
        // An interrupt exits from the watcher thread, past the loan's drop.
        crate::interrupt::on_interrupt(take_back_lent);
        Some(Loan { _lent: () })
    }

    /// Sets the terminal's modes, if known.
    fn set_modes(&self, modes: Option<&Termios>) {
        if let Some(modes) = modes {
            let _ = tcsetattr(&self.tty, SetArg::TCSANOW, modes);
        }
    }
}

/// Stops kstrun as a job stops: by SIGTSTP's default action, which the
/// kernel skips when kstrun's process group is orphaned (no shell is left
/// to continue it), unlike a SIGSTOP. SIGTSTP is let through for this one
/// delivery where it is blocked (`--init` blocks it for the supervisor to
/// take). A caller that ignores SIGTSTP keeps kstrun from stopping. Returns
/// whether kstrun stopped, where that can be told: a SIGCONT that continued
/// it is then pending if blocked (as under `--init`).
pub(crate) fn stop_as_a_job() -> bool {
    let mut stop = SignalSet::empty();
    stop.add(libc::SIGTSTP);
    let was_blocked = SignalSet::current_mask().contains(libc::SIGTSTP);
    let continued_before = SignalSet::pending().contains(libc::SIGCONT);
    // SAFETY: raise(2) involves no memory.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    // Delivered as the mask opens: kstrun stops here until continued.
    let _ = stop.unblock();
    if was_blocked {
        let _ = stop.block();
    }
    continued_before || SignalSet::pending().contains(libc::SIGCONT)
}

/// Sends SIGTSTP to the other processes of kstrun's process group, as
/// Ctrl-Z would: in a pipeline (`kstrun export | cat`) or a script, a job
/// whose other members kept running would never show the shell as
/// stopped. (kstrun stops itself with `raise`, which takes effect before
/// it goes on, where a signal to the group might reach another thread
/// first and let kstrun act on the terminal before it stops.)
fn stop_the_rest_of_the_job() {
    let group = nix::unistd::getpgrp().as_raw();
    let me = std::process::id();
    for process in crate::processes::all() {
        if process.group == group && u32::try_from(process.pid).is_ok_and(|pid| pid != me) {
            let _ = nix::sys::signal::kill(Pid::from_raw(process.pid), Signal::SIGTSTP);
        }
    }
}

/// The terminal as lent: to whom, and its modes before the loan and, while
/// the helper is stopped, the helper's.
struct Lent {
    terminal: Terminal,
    helper: Pid,
    modes: Option<Termios>,
    helper_modes: Option<Termios>,
}

/// The terminal lent now, if any: kept here rather than in the [`Loan`] so
/// that an interrupt, which exits from the watcher thread, can take it back.
static LENT: Mutex<Option<Lent>> = Mutex::new(None);

/// Takes the lent terminal back, if lent, with the modes it had before.
fn take_back_lent() {
    let Some(lent) = lock(&LENT).take() else {
        return;
    };
    lent.terminal.take_back_from(lent.helper);
    if lent.terminal.in_foreground() {
        lent.terminal.set_modes(lent.modes.as_ref());
    }
}

/// The terminal lent to a helper; taken back when dropped.
pub(crate) struct Loan {
    _lent: (),
}

impl Drop for Loan {
    fn drop(&mut self) {
        take_back_lent();
    }
}

/// A helper's run at a terminal, as a shell runs a job, and kstrun with it:
///
/// * kstrun in the foreground: the helper gets the terminal ([`Terminal::lend`]);
/// * the helper stops (Ctrl-Z at its prompt; or, while kstrun is in the
///   background, a read of the terminal): kstrun takes the terminal back if
///   lent, the helper's modes kept, and stops with its whole job, so that
///   the shell shows it stopped and has its terminal;
/// * kstrun continued in the foreground (`fg`): the helper gets the
///   terminal, lent now if it was not before, and is continued.
pub(crate) struct HelperTerminal {
    terminal: Terminal,
    helper: Pid,
    loan: Option<Loan>,
}

impl HelperTerminal {
    /// Lends the terminal to `helper` at once if kstrun holds it; `None`
    /// without a controlling terminal (no job control to follow).
    pub(crate) fn start(helper: Pid) -> Option<HelperTerminal> {
        Some(HelperTerminal {
            terminal: Terminal::controlling(nix::unistd::getpgrp())?,
            helper,
            loan: Terminal::lend(helper),
        })
    }

    /// Whether the helper holds the terminal (Ctrl-C there reaches it, not kstrun).
    pub(crate) fn lent(&self) -> bool {
        self.loan.is_some()
    }

    /// Follows a stop of the helper (`helper_stopped`: it stopped since the
    /// last call): stops kstrun's job, and once kstrun goes on, continues
    /// the helper. Whether it did (its deadline starts again).
    pub(crate) fn follow(&mut self, helper_stopped: bool) -> bool {
        if !helper_stopped {
            return false;
        }
        if let Some(lent) = lock(&LENT).as_mut() {
            // Its modes, if it stopped holding the terminal (not when it
            // stopped again, in the background, reaching for it).
            if lent.terminal.held_by(lent.helper) {
                lent.helper_modes = tcgetattr(&lent.terminal.tty).ok();
                lent.terminal.take_back_from(lent.helper);
                lent.terminal.set_modes(lent.modes.as_ref());
            }
        }
        // Ctrl-Z reached the helper's group alone: the job it stopped is
        // kstrun's, with whatever else runs in kstrun's group.
        stop_the_rest_of_the_job();
        stop_as_a_job();
        // kstrun goes on (continued, or it could not stop), and so does the
        // helper: in the foreground with the terminal; in the background
        // (`bg`) without, where reaching for the terminal stops it, and the
        // job with it, again, as any job.
        if !self.terminal.in_foreground() {
            let _ = killpg(self.helper, Signal::SIGCONT);
        } else if self.loan.is_none() {
            self.loan = Terminal::lend(self.helper);
        } else if let Some(lent) = lock(&LENT).as_ref() {
            lent.terminal.set_modes(lent.helper_modes.as_ref());
            lent.terminal.give_to(lent.helper);
            let _ = killpg(lent.helper, Signal::SIGCONT);
        }
        true
    }
}
