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
//! * the disposition of every signal: ignored ones stay ignored (`nohup`,
//!   a SIGPIPE-ignoring caller), all others go back to the default, so no
//!   handler or `SIG_IGN` of kstrun's own reaches the child;
//! * the signal mask, exactly.
//!
//! One wrinkle: the Rust runtime sets SIGPIPE to `SIG_IGN` before `main`, so
//! by then the caller's SIGPIPE disposition is lost. The binary therefore runs
//! [`record_at_load`] as an ELF constructor (`.init_array`, see `main.rs`),
//! before the runtime starts; when that hook is absent (a library user), the
//! state is read when [`ProcessState::capture`] is called.
//!
//! [`ProcessState::restore`] only makes system calls: it is also what the
//! forked child of `--init` runs between `fork` and `execve`.

use crate::signals::{self, SignalSet};
use nix::libc;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static RECORDED_AT_LOAD: AtomicBool = AtomicBool::new(false);
/// Bit `n - 1` set: signal `n` was ignored when the program was loaded.
static IGNORED_AT_LOAD: AtomicU64 = AtomicU64::new(0);
/// Bit `n - 1` set: signal `n` was blocked when the program was loaded.
static BLOCKED_AT_LOAD: AtomicU64 = AtomicU64::new(0);

/// Records the signal dispositions and mask the program was started with.
///
/// Meant to run as an ELF constructor, before the Rust runtime changes
/// SIGPIPE; it makes system calls only.
pub extern "C" fn record_at_load() {
    let (mut ignored, mut blocked) = (0u64, 0u64);
    let mask = SignalSet::current_mask();
    for signo in 1..=signals::max_signal().min(64) {
        let bit = 1u64 << (signo - 1);
        if signals::is_ignored(signo) {
            ignored |= bit;
        }
        if mask.contains(signo) {
            blocked |= bit;
        }
    }
    IGNORED_AT_LOAD.store(ignored, Ordering::SeqCst);
    BLOCKED_AT_LOAD.store(blocked, Ordering::SeqCst);
    RECORDED_AT_LOAD.store(true, Ordering::SeqCst);
}

/// What kstrun was started with: restored for the child.
#[derive(Clone, Copy)]
pub struct ProcessState {
    ignored: SignalSet,
    mask: SignalSet,
    core: Option<(libc::rlim_t, libc::rlim_t)>,
    dumpable: Option<bool>,
}

impl ProcessState {
    /// The state recorded at load time (see [`record_at_load`]), else the current one.
    pub fn capture() -> ProcessState {
        let (ignored, mask) = if RECORDED_AT_LOAD.load(Ordering::SeqCst) {
            (
                bits_to_set(IGNORED_AT_LOAD.load(Ordering::SeqCst)),
                bits_to_set(BLOCKED_AT_LOAD.load(Ordering::SeqCst)),
            )
        } else {
            let mut ignored = SignalSet::empty();
            for signo in 1..=signals::max_signal() {
                if signals::is_ignored(signo) {
                    ignored.add(signo);
                }
            }
            (ignored, SignalSet::current_mask())
        };
        ProcessState {
            ignored,
            mask,
            core: getrlimit(Resource::RLIMIT_CORE).ok(),
            dumpable: nix::sys::prctl::get_dumpable().ok(),
        }
    }

    /// Whether the caller started kstrun with `signo` ignored.
    pub fn was_ignored(&self, signo: i32) -> bool {
        self.ignored.contains(signo)
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
        if self.was_ignored(libc::SIGCHLD) {
            signals::set_ignored(libc::SIGCHLD, false);
        }
        Ok(())
    }

    /// Gives back the original core limit, dumpability, dispositions and mask.
    ///
    /// System calls only, so that it may run between `fork` and `execve`. The
    /// mask comes last: a signal that arrived while blocked is then handled
    /// by the original disposition.
    pub fn restore(&self) {
        if let Some((soft, hard)) = self.core {
            let _ = setrlimit(Resource::RLIMIT_CORE, soft, hard);
        }
        if let Some(dumpable) = self.dumpable {
            let _ = nix::sys::prctl::set_dumpable(dumpable);
        }
        for signo in 1..=signals::max_signal() {
            if signals::is_catchable(signo) {
                signals::set_ignored(signo, self.ignored.contains(signo));
            }
        }
        self.mask.set_as_mask();
    }
}

fn bits_to_set(bits: u64) -> SignalSet {
    let mut set = SignalSet::empty();
    for signo in 1..=64 {
        if bits & (1u64 << (signo - 1)) != 0 {
            set.add(signo);
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harden_then_restore() {
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

    #[test]
    fn bits_round_trip() {
        let set = bits_to_set((1 << (libc::SIGPIPE - 1)) | (1 << 63));
        assert!(set.contains(libc::SIGPIPE) && set.contains(64) && !set.contains(libc::SIGINT));
    }
}
