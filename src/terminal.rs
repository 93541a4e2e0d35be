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
//! gives it to a job, and the [`Loan`] takes it back.

use nix::fcntl::OFlag;
use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow, Signal};
use nix::unistd::Pid;
use std::os::fd::{FromRawFd, OwnedFd};

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
    pub(crate) fn lend(helper: Pid) -> Option<Loan> {
        let terminal = Terminal::controlling(nix::unistd::getpgrp())?;
        if !terminal.in_foreground() {
            return None;
        }
        terminal.give_to(helper);
        // A helper that reached for the terminal before it had it was
        // stopped there: it goes on now, and its read or mode change is
        // tried again.
        let _ = nix::sys::signal::killpg(helper, Signal::SIGCONT);
        Some(Loan { terminal, helper })
    }
}

/// The terminal lent to a helper; taken back when dropped.
pub(crate) struct Loan {
    terminal: Terminal,
    helper: Pid,
}

impl Drop for Loan {
    fn drop(&mut self) {
        self.terminal.take_back_from(self.helper);
    }
}
