//! A terminating signal while resolving: stop the helpers, exit 128+N.
//!
//! The signals watched are those that end a process by default and are
//! sent to stop one: SIGINT, SIGTERM and SIGHUP (which the spec names), and
//! SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM, which would otherwise end kstrun
//! and leave its helpers running until their own timeouts.
//!
//! [`arm`] blocks the watched signals in the main thread (every thread
//! started later inherits the block). A signal that arrives is then held
//! pending until one of two things takes it:
//!
//! * the watcher thread, started by [`watch`] before kstrun does anything
//!   that may wait on the outside world — a helper process, a keyring call,
//!   a file that is not a regular file (a FIFO), output to a pipe. It takes
//!   the signal with `sigwaitinfo` at once, stops every helper (see
//!   [`register_child`] and [`on_interrupt`]), reports the interruption and
//!   exits with 128+N;
//! * [`Watcher::disarm`], just before the child starts: a run that never
//!   needed the thread (secrets from the environment, the command line or
//!   local SOPS files: a few milliseconds of work) checks for a pending
//!   signal there and exits the same way. Not starting the thread saves a
//!   tenth of such a run.
//!
//! Either way the child is never started after an interrupt: the main thread
//! must take the lock the watcher holds while interrupting before it may
//! exec.
//!
//! Why a `sigwait` thread rather than the `ctrlc` crate or a signal handler:
//! the exit status needs the signal's number, which `ctrlc` does not give;
//! code run on an ordinary thread may lock, allocate and kill processes,
//! which a signal handler may not; and no disposition is ever changed, so
//! nothing but the mask has to be given back to the child. A signal the
//! caller ignored (`nohup`) or blocked is left alone.
//!
//! The wipe on interrupt is the kernel's: `exit` unmaps every page and the
//! kernel clears a page before it gives it to anyone else. Until then the
//! process is non-dumpable with a core limit of 0 (see `hardening`), so no
//! copy can leave through a core file or `/proc/PID/mem`. Wiping explicitly
//! is not possible anyway: the main thread owns the values and is still
//! using them.

use std::sync::{Mutex, MutexGuard};

/// A stop hook: called on interrupt, from the watcher thread, before kstrun exits.
pub type StopHook = fn();

static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static HOOKS: Mutex<Vec<StopHook>> = Mutex::new(Vec::new());
static PHASE: Mutex<Phase> = Mutex::new(Phase::Resolving);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Resolving,
    Starting,
}

/// Locks `mutex` even where a panic poisoned it: a panic elsewhere must
/// never stop an interrupt from killing helpers or giving the terminal back
/// (the registries here, the sops reader's, the lent terminal's).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Registers a helper process (its PID) to be killed, with everything it
/// started, if kstrun is interrupted. Unregistered when the guard drops.
///
/// Register right after `spawn`; or use [`spawn`], which leaves no gap.
pub fn register_child(pid: u32) -> ChildGuard {
    watch();
    lock(&CHILDREN).push(pid);
    ChildGuard { pid }
}

/// Spawns `command` and registers the child in one step, so that an
/// interrupt cannot fall between the two.
pub fn spawn(
    command: &mut std::process::Command,
) -> std::io::Result<(std::process::Child, ChildGuard)> {
    watch();
    let mut children = lock(&CHILDREN);
    let child = command.spawn()?;
    children.push(child.id());
    let pid = child.id();
    Ok((child, ChildGuard { pid }))
}

/// Keeps a helper registered; see [`register_child`].
#[derive(Debug)]
pub struct ChildGuard {
    pid: u32,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let mut children = lock(&CHILDREN);
        if let Some(at) = children.iter().position(|&p| p == self.pid) {
            children.swap_remove(at);
        }
    }
}

/// Adds a function to call on interrupt, for code that keeps its own list of
/// helpers (the sops reader's `interrupt`). It runs on the watcher thread.
pub fn on_interrupt(hook: StopHook) {
    let mut hooks = lock(&HOOKS);
    if !hooks.iter().any(|&h| std::ptr::fn_addr_eq(h, hook)) {
        hooks.push(hook);
    }
}

/// Stops every registered helper: the hooks, then each registered process
/// and all its descendants (SIGKILL: a helper holds nothing worth a clean exit).
pub fn stop_helpers() {
    let hooks: Vec<StopHook> = lock(&HOOKS).clone();
    for hook in hooks {
        hook();
    }
    let roots: Vec<u32> = lock(&CHILDREN).clone();
    #[cfg(target_os = "linux")]
    linux::kill_trees(&roots);
    #[cfg(not(target_os = "linux"))]
    for pid in roots {
        if let Ok(pid) = i32::try_from(pid) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// The signals watched while resolving.
#[cfg(target_os = "linux")]
pub const WATCHED: [i32; 7] = {
    use nix::libc;
    [
        libc::SIGINT,
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
    ]
};

#[cfg(target_os = "linux")]
pub use linux::{arm, interrupted_at_terminal, watch, watch_unless_regular, Watcher};

/// Elsewhere interrupts are not watched: nothing to start.
#[cfg(not(target_os = "linux"))]
pub fn watch() {}

/// Elsewhere interrupts are not watched: the caller reports the error.
#[cfg(not(target_os = "linux"))]
pub fn interrupted_at_terminal(_signo: i32) {}

/// Elsewhere interrupts are not watched: nothing to start.
#[cfg(not(target_os = "linux"))]
pub fn watch_unless_regular(_meta: &std::fs::Metadata) {}

#[cfg(target_os = "linux")]
mod linux {
    use super::{lock, stop_helpers, Phase, PHASE, WATCHED};
    use crate::error::Error;
    use crate::hardening::ProcessState;
    use crate::report::Reporter;
    use crate::signals::SignalSet;
    use nix::libc;
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    use std::collections::{HashMap, HashSet};
    use std::os::unix::thread::JoinHandleExt;
    use std::sync::Mutex;
    use std::thread::JoinHandle;

    /// What is watched while armed, and the watcher thread once started.
    struct Armed {
        watched: SignalSet,
        report: Reporter,
        thread: Option<JoinHandle<()>>,
    }

    static ARMED: Mutex<Option<Armed>> = Mutex::new(None);

    /// The armed state; [`Watcher::disarm`] before starting the child.
    pub struct Watcher {
        _armed: (),
    }

    /// Blocks the watched signals (and `also_block`, which the caller takes
    /// care of later). Call before any other thread starts.
    pub fn arm(
        state: &ProcessState,
        also_block: &SignalSet,
        report: Reporter,
    ) -> Result<Watcher, Error> {
        *lock(&PHASE) = Phase::Resolving;
        let mut watched = SignalSet::empty();
        for signo in WATCHED {
            if !state.was_ignored(signo) && !state.was_blocked(signo) {
                watched.add(signo);
            }
        }
        let mut block = *also_block;
        for signo in watched.iter() {
            block.add(signo);
        }
        block
            .block()
            .map_err(|e| Error::Child(format!("cannot block signals: {e}")))?;
        *lock(&ARMED) = (!watched.is_empty()).then_some(Armed {
            watched,
            report,
            thread: None,
        });
        Ok(Watcher { _armed: () })
    }

    /// Makes an interrupt take effect at once from now on: starts the
    /// watcher thread, if armed and not started yet. Call before anything
    /// that may wait on the outside world.
    pub fn watch() {
        let mut armed = lock(&ARMED);
        let Some(armed) = armed.as_mut() else {
            return;
        };
        if armed.thread.is_none() {
            let (watched, report) = (armed.watched, armed.report);
            // Should the thread not start, a pending signal is still taken at disarm.
            armed.thread = std::thread::Builder::new()
                .name("kstrun-interrupt".to_string())
                .spawn(move || watch_on_thread(watched, report))
                .ok();
        }
    }

    /// [`watch`] when the file `meta` describes may block a read: it is
    /// not a regular file (a FIFO, a device).
    pub fn watch_unless_regular(meta: &std::fs::Metadata) {
        if !meta.is_file() {
            watch();
        }
    }

    fn watch_on_thread(watched: SignalSet, report: Reporter) {
        loop {
            let received = watched.wait();
            let phase = lock(&PHASE);
            if *phase == Phase::Resolving && !received.is_from_self() {
                // Holding the lock: the main thread cannot start the child now.
                interrupted(received.signo, &report);
            }
            if *phase == Phase::Starting {
                if !received.is_from_self() {
                    // Too late to interrupt: hand the signal back to the
                    // process, whose main thread deals with it from now on.
                    if let Ok(signal) = Signal::try_from(received.signo) {
                        let _ = kill(Pid::this(), signal);
                    }
                }
                return;
            }
        }
    }

    /// A helper that held the terminal died of `signo` typed there (Ctrl-C
    /// goes to the terminal's foreground group, the helper's, not to
    /// kstrun): kstrun stops as if the signal had reached it — exits 128+N
    /// — when it watches that signal and nothing has started. Returns
    /// otherwise (for a library caller, the helper's failure is the error).
    pub fn interrupted_at_terminal(signo: i32) {
        let report = match lock(&ARMED).as_ref() {
            Some(armed) if armed.watched.contains(signo) => armed.report,
            _ => return,
        };
        let phase = lock(&PHASE);
        if *phase == Phase::Resolving {
            interrupted(signo, &report);
        }
    }

    /// Stops the helpers, reports, and exits with 128+N.
    fn interrupted(signo: i32, report: &Reporter) -> ! {
        stop_helpers();
        let error = Error::Interrupted(signo);
        report.error(&error.to_string());
        std::process::exit(error.exit_status());
    }

    impl Watcher {
        /// Ends the resolving phase: from now on the watched signals are the
        /// main thread's to handle (restored mask before `execve`, or `--init`'s
        /// forwarding). Waits for an interrupt in progress, which then exits
        /// the process, and for the watcher thread to end; without a thread,
        /// takes a signal that arrived meanwhile and exits for it.
        pub fn disarm(self) {
            *lock(&PHASE) = Phase::Starting;
            let Some(armed) = lock(&ARMED).take() else {
                return;
            };
            match armed.thread {
                Some(thread) => {
                    let wake = armed.watched.iter().next().unwrap_or(libc::SIGTERM);
                    // SAFETY: the thread has not been joined, so its handle is valid;
                    // `wake` is one of the signals it waits for, so it is taken, not delivered.
                    // (std's handle is an integer; musl's `pthread_t` a pointer: cast.)
                    unsafe {
                        libc::pthread_kill(thread.as_pthread_t() as _, wake);
                    }
                    let _ = thread.join();
                }
                None => {
                    if let Some(received) = armed.watched.take_pending() {
                        interrupted(received.signo, &armed.report);
                    }
                }
            }
        }
    }

    /// SIGKILLs each root and all its descendants, found through `/proc`.
    /// Stopped first, so that nothing forks away while the tree is collected.
    pub fn kill_trees(roots: &[u32]) {
        let mut doomed: HashSet<i32> = roots
            .iter()
            .filter_map(|&p| i32::try_from(p).ok())
            .collect();
        if doomed.is_empty() {
            return;
        }
        for _ in 0..4 {
            for &pid in &doomed {
                let _ = kill(Pid::from_raw(pid), Signal::SIGSTOP);
            }
            let parents = parent_map();
            let before = doomed.len();
            loop {
                let more: Vec<i32> = parents
                    .iter()
                    .filter(|(pid, ppid)| doomed.contains(ppid) && !doomed.contains(pid))
                    .map(|(&pid, _)| pid)
                    .collect();
                if more.is_empty() {
                    break;
                }
                doomed.extend(more);
            }
            if doomed.len() == before {
                break;
            }
        }
        for &pid in &doomed {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        for &root in roots {
            if let Ok(pid) = i32::try_from(root) {
                // Reap our own children so that they are gone, not zombies, when we exit.
                let _ = nix::sys::wait::waitpid(Pid::from_raw(pid), None);
            }
        }
    }

    /// PID → parent PID for every process visible in `/proc`.
    fn parent_map() -> HashMap<i32, i32> {
        crate::processes::all()
            .into_iter()
            .map(|process| (process.pid, process.parent))
            .collect()
    }
}
