//! The process state kstrun changes while it holds secrets, and gives back (Linux).
//!
//! While resolving, kstrun is not dumpable (`PR_SET_DUMPABLE` 0: no core
//! file, and `/proc/PID/mem` and ptrace closed to other processes of the same
//! user) and its soft core limit is 0. The child must not inherit any of
//! that, nor the signal mask kstrun uses to take termination signals on a
//! thread of its own, so [`ProcessState`] records what kstrun was started
//! with and [`ProcessState::restore`] puts it back just before `execve`:
//!
//! * the soft core limit, and dumpability (the kernel sets a plain program
//!   dumpable again at `execve` anyway; restoring it a moment earlier exposes
//!   nothing, because by then kstrun's memory holds only the environment
//!   block the child is about to receive — see `tests/memory.rs`);
//! * the dispositions kstrun changes for itself: SIGPIPE (ignored while
//!   kstrun runs, as Rust programs do, so that a closed pipe is an error and
//!   not a silent death) and SIGCHLD (see [`ProcessState::harden`]). kstrun
//!   changes no other disposition, and `execve` already resets handled
//!   signals to the default while keeping ignored ones ignored, so the
//!   caller's `nohup` or SIGPIPE-ignoring setting reaches the child as it was;
//! * the signal mask, exactly.
//!
//! The Rust runtime sets SIGPIPE to `SIG_IGN` before `main`, so by then the
//! caller's SIGPIPE disposition would be lost. The binary therefore has no
//! Rust runtime start-up (see `main.rs`) and calls [`record_at_start`] first
//! thing; when that is absent (a library user), the state is read when
//! [`ProcessState::capture`] is called.
//!
//! [`ProcessState::restore`] only makes system calls: it is also what the
//! forked child of `--init` runs between `fork` and `execve`.

use crate::signals::{self, SignalSet};
use nix::libc;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use std::sync::atomic::{AtomicU8, Ordering};

/// 0: not recorded; 1: SIGPIPE was at its default at start; 2: it was ignored.
static SIGPIPE_AT_START: AtomicU8 = AtomicU8::new(0);

/// Records SIGPIPE's disposition, then ignores SIGPIPE as the Rust runtime
/// would. For a binary without the Rust runtime's start-up: call before
/// anything else.
pub fn record_at_start() {
    let ignored = signals::is_ignored(libc::SIGPIPE);
    SIGPIPE_AT_START.store(if ignored { 2 } else { 1 }, Ordering::SeqCst);
    signals::set_ignored(libc::SIGPIPE, true);
}

/// What kstrun was started with: restored for the child.
#[derive(Clone, Copy)]
pub struct ProcessState {
    sigpipe_ignored: bool,
    sigchld_ignored: bool,
    mask: SignalSet,
    core: Option<(libc::rlim_t, libc::rlim_t)>,
    dumpable: Option<bool>,
}

impl ProcessState {
    /// The current state, with SIGPIPE's disposition as recorded by
    /// [`record_at_start`] when the binary did.
    pub fn capture() -> ProcessState {
        let sigpipe_ignored = match SIGPIPE_AT_START.load(Ordering::SeqCst) {
            0 => signals::is_ignored(libc::SIGPIPE),
            recorded => recorded == 2,
        };
        ProcessState {
            sigpipe_ignored,
            sigchld_ignored: signals::is_ignored(libc::SIGCHLD),
            mask: SignalSet::current_mask(),
            core: getrlimit(Resource::RLIMIT_CORE).ok(),
            dumpable: nix::sys::prctl::get_dumpable().ok(),
        }
    }

    /// Whether the caller started kstrun with `signo` ignored. Only SIGPIPE
    /// and SIGCHLD are ever changed by kstrun; any other disposition is still
    /// the caller's, so it is read as it is now.
    pub fn was_ignored(&self, signo: i32) -> bool {
        match signo {
            libc::SIGPIPE => self.sigpipe_ignored,
            libc::SIGCHLD => self.sigchld_ignored,
            _ => signals::is_ignored(signo),
        }
    }

    /// Whether the caller started kstrun with `signo` blocked.
    pub fn was_blocked(&self, signo: i32) -> bool {
        self.mask.contains(signo)
    }

    /// Non-dumpable, soft core limit 0, and SIGCHLD at its default for kstrun itself.
    ///
    /// A caller that ignores SIGCHLD would make the kernel reap kstrun's
    /// helpers and its `--init` child before their status could be read; the
    /// child still gets the caller's setting back.
    pub fn harden(&self) -> Result<(), String> {
        nix::sys::prctl::set_dumpable(false)
            .map_err(|e| format!("cannot make the process non-dumpable: {e}"))?;
        if let Some((_, hard)) = self.core {
            setrlimit(Resource::RLIMIT_CORE, 0, hard)
                .map_err(|e| format!("cannot set the core size limit to 0: {e}"))?;
        }
        if self.sigchld_ignored {
            signals::set_ignored(libc::SIGCHLD, false);
        }
        Ok(())
    }

    /// Gives back the original core limit, dumpability, SIGPIPE and SIGCHLD
    /// dispositions and mask.
    ///
    /// System calls only, so that it may run between `fork` and `execve`.
    /// The dispositions come before the mask: a signal that arrived while
    /// blocked is then handled by the original disposition. The core limit
    /// and dumpability come after it: such a signal (a SIGQUIT that came
    /// after the interrupt watch ended, say) is delivered while the process
    /// is still not dumpable, so its default action cannot write a core
    /// holding the environment block.
    pub fn restore(&self) {
        signals::set_ignored(libc::SIGPIPE, self.sigpipe_ignored);
        signals::set_ignored(libc::SIGCHLD, self.sigchld_ignored);
        self.mask.set_as_mask();
        if let Some((soft, hard)) = self.core {
            let _ = setrlimit(Resource::RLIMIT_CORE, soft, hard);
        }
        if let Some(dumpable) = self.dumpable {
            let _ = nix::sys::prctl::set_dumpable(dumpable);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI32, Ordering};
    use std::sync::Mutex;

    /// The tests below change process-wide state (dumpability, limits).
    static PROCESS_STATE: Mutex<()> = Mutex::new(());

    static DUMPABLE_IN_HANDLER: AtomicI32 = AtomicI32::new(-1);

    extern "C" fn record_dumpable(_: libc::c_int) {
        // SAFETY: prctl(PR_GET_DUMPABLE) only reads a flag of the process.
        let dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE) };
        DUMPABLE_IN_HANDLER.store(dumpable, Ordering::SeqCst);
    }

    /// A signal pending when `restore` runs is delivered before the process
    /// is dumpable again: its default action could not dump a core.
    #[test]
    fn a_signal_pending_at_restore_arrives_while_not_dumpable() {
        let _lock = PROCESS_STATE.lock().unwrap_or_else(|e| e.into_inner());
        let state = ProcessState::capture();
        assert_eq!(
            state.dumpable,
            Some(true),
            "the test process starts dumpable"
        );
        // SAFETY: a handler that only calls prctl and stores an integer,
        // installed for a signal this test sends to its own thread while it
        // is blocked there; the default action is put back at the end.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = record_dumpable as *const () as usize;
            libc::sigaction(libc::SIGUSR2, &action, std::ptr::null_mut());
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR2);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            state.harden().expect("harden");
            libc::pthread_kill(libc::pthread_self(), libc::SIGUSR2);
        }
        state.restore();
        let seen = DUMPABLE_IN_HANDLER.load(Ordering::SeqCst);
        // SAFETY: back to the default action for SIGUSR2.
        unsafe { libc::signal(libc::SIGUSR2, libc::SIG_DFL) };
        assert_eq!(
            seen, 0,
            "the pending signal ran after dumpability came back"
        );
        assert_eq!(nix::sys::prctl::get_dumpable(), Ok(true));
    }

    #[test]
    fn harden_then_restore() {
        let _lock = PROCESS_STATE.lock().unwrap_or_else(|e| e.into_inner());
        let state = ProcessState::capture();
        state.harden().expect("harden");
        assert_eq!(nix::sys::prctl::get_dumpable(), Ok(false));
        assert_eq!(getrlimit(Resource::RLIMIT_CORE).map(|l| l.0), Ok(0));
        // Only the limits: restoring dispositions would undo the test harness's own.
        if let Some((soft, hard)) = state.core {
            setrlimit(Resource::RLIMIT_CORE, soft, hard).expect("restore");
        }
        if let Some(dumpable) = state.dumpable {
            nix::sys::prctl::set_dumpable(dumpable).expect("restore");
        }
        assert_eq!(getrlimit(Resource::RLIMIT_CORE).ok(), state.core);
    }
}
