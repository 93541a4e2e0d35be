//! Raw signal sets, dispositions and waits (Linux).
//!
//! kstrun hands its child the signal state it was started with, forwards
//! *every* catchable signal in `--init` mode (real-time ones included) and
//! needs to know who sent a signal it waited for. nix's `Signal` enum has no
//! real-time signals and `SigSet::wait` drops the sender, so this module
//! wraps the few libc calls needed, by signal number. Everything here is a
//! plain system call that neither allocates nor locks, so it is also safe
//! between `fork` and `execve` in a multi-threaded process.

use nix::errno::Errno;
use nix::libc;
use std::mem::MaybeUninit;

/// The highest signal number (the last real-time signal).
pub fn max_signal() -> i32 {
    libc::SIGRTMAX()
}

/// Blocks, in the calling thread and the threads it starts later, the
/// real-time signals the C library keeps for itself (32 and 33 with glibc,
/// 32 to 34 with musl), which its own `sigprocmask` will not block. Sent to
/// `--init`'s supervisor, they would end it by their default action and
/// leave the child running; blocked, they are held and never delivered.
/// The child gets them unblocked: the mask it is given back goes through
/// the C library, which leaves them out of any mask it sets.
#[cfg(target_os = "linux")]
pub fn block_reserved() {
    let mut reserved: u64 = 0;
    for signo in 32..libc::SIGRTMIN() {
        reserved |= 1 << (signo - 1);
    }
    // SAFETY: rt_sigprocmask reads one kernel signal set of 8 bytes from
    // `reserved`, which lives through the call, and writes nothing back.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_BLOCK,
            &reserved as *const u64,
            std::ptr::null_mut::<u64>(),
            std::mem::size_of::<u64>(),
        );
    }
}

/// Whether `signo` can be caught, blocked or ignored at all.
pub fn is_catchable(signo: i32) -> bool {
    signo != libc::SIGKILL && signo != libc::SIGSTOP
}

/// A set of signals, by number.
#[derive(Clone, Copy)]
pub struct SignalSet(libc::sigset_t);

impl SignalSet {
    /// The empty set.
    pub fn empty() -> SignalSet {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the whole set it is given.
        unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            SignalSet(set.assume_init())
        }
    }

    /// A set of the given signals; numbers the C library refuses are left out.
    pub fn of(signals: &[i32]) -> SignalSet {
        let mut set = SignalSet::empty();
        for &signo in signals {
            set.add(signo);
        }
        set
    }

    /// Adds `signo` (ignored when it is not a valid signal number).
    pub fn add(&mut self, signo: i32) {
        // SAFETY: `self.0` is an initialised set; invalid numbers only make it return -1.
        unsafe {
            libc::sigaddset(&mut self.0, signo);
        }
    }

    /// Removes `signo`.
    pub fn remove(&mut self, signo: i32) {
        // SAFETY: as in `add`.
        unsafe {
            libc::sigdelset(&mut self.0, signo);
        }
    }

    /// Whether `signo` is in the set.
    pub fn contains(&self, signo: i32) -> bool {
        // SAFETY: `self.0` is an initialised set.
        unsafe { libc::sigismember(&self.0, signo) == 1 }
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The signal numbers in the set, in order.
    pub fn iter(&self) -> impl Iterator<Item = i32> + '_ {
        (1..=max_signal()).filter(|&signo| self.contains(signo))
    }

    /// The calling thread's signal mask.
    pub fn current_mask() -> SignalSet {
        let mut old = SignalSet::empty();
        // SAFETY: a null new set only reads the mask into `old`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut old.0);
        }
        old
    }

    /// The signals pending for the calling thread or the process.
    pub fn pending() -> SignalSet {
        let mut pending = SignalSet::empty();
        // SAFETY: sigpending writes one initialised set into `pending`.
        unsafe {
            libc::sigpending(&mut pending.0);
        }
        pending
    }

    /// Adds the set to the calling thread's mask (threads spawned later inherit it).
    pub fn block(&self) -> Result<(), Errno> {
        self.change_mask(libc::SIG_BLOCK)
    }

    /// Removes the set from the calling thread's mask.
    pub fn unblock(&self) -> Result<(), Errno> {
        self.change_mask(libc::SIG_UNBLOCK)
    }

    fn change_mask(&self, how: libc::c_int) -> Result<(), Errno> {
        // SAFETY: `self.0` is an initialised set; the old mask is not wanted.
        match unsafe { libc::pthread_sigmask(how, &self.0, std::ptr::null_mut()) } {
            0 => Ok(()),
            errno => Err(Errno::from_raw(errno)),
        }
    }

    /// Makes the set the calling thread's whole mask.
    pub fn set_as_mask(&self) {
        // SAFETY: `self.0` is an initialised set; SIG_SETMASK cannot fail with a valid set.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut());
        }
    }

    /// Waits for one of the set's signals (which must be blocked) and takes it.
    pub fn wait(&self) -> Received {
        loop {
            let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
            // SAFETY: `self.0` is initialised and `info` is writable storage for one siginfo_t.
            let signo = unsafe { libc::sigwaitinfo(&self.0, info.as_mut_ptr()) };
            if signo > 0 {
                // SAFETY: sigwaitinfo filled `info` for the signal it returned;
                // si_pid is meaningful for the user-sent codes checked by callers.
                let (code, pid) = unsafe {
                    let info = info.assume_init();
                    (info.si_code, info.si_pid())
                };
                return Received { signo, code, pid };
            }
            // EINTR (a signal outside the set was handled); nothing else can happen here.
        }
    }

    /// Takes one pending signal of the set (which must be blocked), without waiting.
    pub fn take_pending(&self) -> Option<Received> {
        let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
        let no_wait = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `self.0` is initialised, `info` is writable storage for one
        // siginfo_t and a zero timeout only polls.
        let signo = unsafe { libc::sigtimedwait(&self.0, info.as_mut_ptr(), &no_wait) };
        (signo > 0).then(|| {
            // SAFETY: sigtimedwait filled `info` for the signal it returned.
            let (code, pid) = unsafe {
                let info = info.assume_init();
                (info.si_code, info.si_pid())
            };
            Received { signo, code, pid }
        })
    }
}

/// A signal taken by [`SignalSet::wait`] or [`SignalSet::take_pending`].
#[derive(Debug, Clone, Copy)]
pub struct Received {
    /// The signal number.
    pub signo: i32,
    /// `si_code`: who or what sent it.
    pub code: i32,
    /// The sender's PID, for signals sent by a process.
    pub pid: i32,
}

impl Received {
    /// Whether this process sent the signal itself (e.g. `pthread_kill` to
    /// one of its threads). The sender's PID is checked, not `si_code`: the C
    /// library may send a thread-directed signal as `SI_USER` or `SI_TKILL`.
    pub fn is_from_self(&self) -> bool {
        self.pid == std::process::id() as i32
    }
}

/// Whether `signo` is currently ignored (`SIG_IGN`) by this process.
pub fn is_ignored(signo: i32) -> bool {
    let mut old = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current one into `old`.
    let rc = unsafe { libc::sigaction(signo, std::ptr::null(), old.as_mut_ptr()) };
    // SAFETY: on success `old` was filled; on failure it stays zeroed (SIG_DFL).
    rc == 0 && unsafe { old.assume_init() }.sa_sigaction == libc::SIG_IGN
}

/// Sets `signo` to `SIG_IGN` or `SIG_DFL`; refused numbers (SIGKILL, the C
/// library's private real-time signals) are left alone.
pub fn set_ignored(signo: i32, ignored: bool) {
    let mut action = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a zeroed sigaction is a valid SIG_DFL action with an empty mask
    // and no flags; only the handler field is changed before it is installed.
    unsafe {
        let action = action.as_mut_ptr();
        (*action).sa_sigaction = if ignored {
            libc::SIG_IGN
        } else {
            libc::SIG_DFL
        };
        libc::sigaction(signo, action, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_real_time_signals() {
        let rt = libc::SIGRTMIN() + 2;
        let set = SignalSet::of(&[libc::SIGTERM, rt]);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![libc::SIGTERM, rt]);
        assert!(!set.contains(libc::SIGINT));
        assert!(SignalSet::empty().is_empty());
    }
}
