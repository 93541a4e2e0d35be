//! The span during which kstrun holds secrets, from start to `execve` or fork.
//!
//! [`Lifecycle::begin`] runs before anything is read: it records the process
//! state the caller gave kstrun, hardens the process (not dumpable, core
//! limit 0) and arms the interrupt watcher (and, for `--init`, blocks the
//! signals the supervisor will forward, before any other thread exists).
//! [`Lifecycle::start`] ends it: the watcher is disarmed, then either the
//! original state is restored and the child replaces kstrun, or (`--init`)
//! the child is forked and supervised.

#[cfg(not(target_os = "linux"))]
use crate::{error::Error, exec::Program, report::Reporter};

/// How the child is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `execve`: kstrun becomes the child.
    Exec,
    /// `--init`: fork, forward signals to the child, reap.
    Init,
    /// `--init-group`: fork, forward signals to the child's process group, reap.
    InitGroup,
}

#[cfg(target_os = "linux")]
pub use linux::Lifecycle;

#[cfg(target_os = "linux")]
mod linux {
    use super::Mode;
    use crate::error::Error;
    use crate::exec::{self, Program};
    use crate::hardening::ProcessState;
    use crate::init::{self, Forward};
    use crate::interrupt::{self, Watcher};
    use crate::report::Reporter;
    use crate::signals::SignalSet;

    /// Hardening and interrupt handling while secrets are resolved.
    pub struct Lifecycle {
        state: ProcessState,
        watcher: Watcher,
        mode: Mode,
        supervised: SignalSet,
    }

    impl Lifecycle {
        /// Records the original state, hardens the process and arms the watcher.
        pub fn begin(mode: Mode, report: &Reporter) -> Result<Lifecycle, Error> {
            let state = ProcessState::capture();
            state.harden().map_err(Error::Child)?;
            let supervised = match mode {
                Mode::Exec => SignalSet::empty(),
                Mode::Init | Mode::InitGroup => {
                    // Before any thread starts, so that every thread has them blocked.
                    crate::signals::block_reserved();
                    init::supervised_signals(&state)
                }
            };
            // The sops reader keeps its own list of running helpers (sops,
            // SOPS_AGE_KEY_CMD); an interrupt must stop them before exiting.
            interrupt::on_interrupt(crate::sops::interrupt);
            let watcher = interrupt::arm(&state, &supervised, *report)?;
            Ok(Lifecycle {
                state,
                watcher,
                mode,
                supervised,
            })
        }

        /// Starts the child. Returns kstrun's exit status with `--init`;
        /// otherwise returns only on failure.
        pub fn start(self, program: Program) -> Result<i32, Error> {
            self.watcher.disarm();
            match self.mode {
                Mode::Exec => Err(exec::exec(program, &self.state)),
                Mode::Init => {
                    init::supervise(program, &self.state, Forward::Child, &self.supervised)
                }
                Mode::InitGroup => {
                    init::supervise(program, &self.state, Forward::Group, &self.supervised)
                }
            }
        }
    }
}

/// Elsewhere: no hardening beyond the wiping allocator, and no `--init`.
#[cfg(not(target_os = "linux"))]
pub struct Lifecycle {
    mode: Mode,
}

#[cfg(not(target_os = "linux"))]
impl Lifecycle {
    /// Nothing to record or arm on this platform.
    pub fn begin(mode: Mode, _report: &Reporter) -> Result<Lifecycle, Error> {
        if mode != Mode::Exec {
            return Err(Error::Usage(
                "--init and --init-group need Linux".to_string(),
            ));
        }
        Ok(Lifecycle { mode })
    }

    /// Replaces kstrun with the child. Returns only on failure.
    pub fn start(self, program: Program) -> Result<i32, Error> {
        let _ = self.mode;
        Err(crate::exec::exec(program))
    }
}
