//! Running a helper program (`sops`, `SOPS_AGE_KEY_CMD`) safely.
//!
//! No shell, standard input closed, output captured (stdout straight into a
//! wiping buffer), a deadline, and its own process group so that killing it
//! also kills anything it started. Every running helper is registered, so an
//! interrupt (SIGINT/SIGTERM/SIGHUP while resolving) can stop them all from
//! another thread with [`interrupt`]; after that, new helpers refuse to start.

use super::error::{ErrorKind, Result, SopsError};
use super::identities::Environment;
use std::ffi::OsString;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// What a helper printed, and how it ended.
pub struct Output {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output, wiped on drop (it may hold keys or plaintext).
    pub stdout: Zeroizing<Vec<u8>>,
    /// Standard error (only ever shown reduced to a safe reason).
    pub stderr: Zeroizing<Vec<u8>>,
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static RUNNING: Mutex<Vec<Arc<Mutex<Child>>>> = Mutex::new(Vec::new());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not stop us from killing children.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Stops every running helper and refuses new ones. Safe to call from any thread.
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    for child in lock(&RUNNING).iter() {
        kill(&mut lock(child));
    }
}

/// Allows helpers again after [`interrupt`] (for long-running programs and tests).
pub fn clear_interrupt() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}

fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        // The helper leads its own group: signal the group so that its own
        // children die with it and release the output pipes.
        if let Ok(pid) = i32::try_from(child.id()) {
            if child.try_wait().ok().flatten().is_none() {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
    let _ = child.kill();
}

/// Runs `program args` within `timeout`. Error reasons do not name the
/// program: each caller says what it ran.
pub fn run(
    program: &OsString,
    args: &[OsString],
    timeout: Duration,
    env: Option<&Environment>,
) -> Result<Output> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(env) = env {
        command
            .env_clear()
            .envs(env.vars().iter().map(|(k, v)| (k, v)));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    // A helper may run for long: an interrupt must take effect at once.
    crate::interrupt::watch();
    // Spawn and register under the registry's lock, checking for an
    // interrupt first: `interrupt` raises its flag and then takes this lock,
    // so a helper is either never started or is registered before
    // `interrupt` looks, with no window in which it could be missed.
    let mut running = lock(&RUNNING);
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err(SopsError::new(
            ErrorKind::Interrupted,
            "interrupted".to_string(),
        ));
    }
    let mut child = command.spawn().map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Binary
        };
        SopsError::new(
            kind,
            format!("cannot start '{}': {e}", program.to_string_lossy()),
        )
    })?;
    let stdout_pipe = child.stdout.take();
    let stderr_pipe = child.stderr.take();
    let child = Arc::new(Mutex::new(child));
    running.push(Arc::clone(&child));
    drop(running);
    let stdout = stdout_pipe.map(|mut pipe| {
        thread::spawn(move || {
            let mut buffer = Zeroizing::new(Vec::with_capacity(64 * 1024));
            let _ = pipe.read_to_end(&mut buffer);
            buffer
        })
    });
    let stderr = stderr_pipe.map(|pipe| {
        thread::spawn(move || {
            // Bounded: only a short reason is ever derived from it.
            let mut buffer = Zeroizing::new(Vec::new());
            let _ = pipe.take(64 * 1024).read_to_end(&mut buffer);
            buffer
        })
    });
    let result = wait(&child, timeout);
    lock(&RUNNING).retain(|c| !Arc::ptr_eq(c, &child));
    let status = result?;
    let join = |handle: Option<thread::JoinHandle<Zeroizing<Vec<u8>>>>| {
        handle.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Output {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    })
}

fn wait(child: &Arc<Mutex<Child>>, timeout: Duration) -> Result<ExitStatus> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        {
            let mut guard = lock(child);
            match guard.try_wait() {
                Ok(Some(status)) => {
                    if INTERRUPTED.load(Ordering::SeqCst) {
                        return Err(SopsError::new(
                            ErrorKind::Interrupted,
                            "interrupted".to_string(),
                        ));
                    }
                    return Ok(status);
                }
                Ok(None) => {}
                Err(e) => {
                    kill(&mut guard);
                    return Err(SopsError::new(
                        ErrorKind::Binary,
                        format!("cannot wait: {e}"),
                    ));
                }
            }
            if INTERRUPTED.load(Ordering::SeqCst) {
                kill(&mut guard);
                let _ = guard.wait();
                return Err(SopsError::new(
                    ErrorKind::Interrupted,
                    "interrupted".to_string(),
                ));
            }
            if start.elapsed() >= timeout {
                kill(&mut guard);
                let _ = guard.wait();
                return Err(SopsError::new(
                    ErrorKind::Timeout,
                    format!("no answer within {:.1} s, stopped", timeout.as_secs_f64()),
                ));
            }
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}
