//! Running a helper program (`sops`, `SOPS_AGE_KEY_CMD`) safely.
//!
//! No shell, standard input closed, output captured (stdout straight into a
//! wiping buffer, at most 16 MiB; stderr drained, its first 64 KiB kept), a
//! deadline that also covers output pipes a background process of the
//! helper keeps open, and its own process group so that killing it also
//! kills anything it started. Every running helper is registered, so an
//! interrupt (SIGINT, SIGTERM, SIGHUP and the like while resolving) can
//! stop them all from another thread with [`interrupt`]; after that, new
//! helpers refuse to start.
//! At a terminal, a helper gets its foreground while it runs (a passphrase
//! prompt; see `crate::terminal`).

use super::error::{ErrorKind, Result, SopsError};
use super::identities::Environment;
use crate::interrupt::lock;
use std::ffi::OsString;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
        // The helper leads its own group: signal the group so that what it
        // started dies with it and releases the output pipes. On Linux a
        // registered helper is never reaped (see `wait`), so its PID, and
        // with it the group's, cannot have been reused; elsewhere it may have
        // been reaped, and its group is signalled only while it lives.
        #[cfg(target_os = "linux")]
        let alive = true;
        #[cfg(not(target_os = "linux"))]
        let alive = child.try_wait().ok().flatten().is_none();
        if let (true, Ok(pid)) = (alive, i32::try_from(child.id())) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    let _ = child.kill();
}

/// The most a helper may print on stdout: a decrypted SOPS file or a few
/// keys. More is an error, not an ever-growing buffer.
const MAX_STDOUT: u64 = 16 << 20;

/// How much of stderr is kept; the rest is read and dropped, never left in
/// the pipe (a helper writing more would block, or die of SIGPIPE).
const KEPT_STDERR: u64 = 64 * 1024;

/// Runs `program args` within `timeout`. Error reasons do not name the
/// program: each caller says what it ran.
///
/// The deadline covers the whole run: the helper, and its output pipes,
/// which a process it started in the background may still hold open after
/// it exits — then its whole process group is killed at the deadline.
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
        // kstrun blocks the signals it watches (and, under `--init`, those
        // it forwards, job control's among them); a helper starts with none
        // blocked, or Ctrl-C or Ctrl-Z at its prompt would be held, and so
        // for everything it starts.
        // SAFETY: between fork and exec this only calls pthread_sigmask,
        // which is async-signal-safe, on a set built on the stack.
        unsafe {
            command.pre_exec(|| {
                let none = nix::sys::signal::SigSet::empty();
                nix::sys::signal::pthread_sigmask(
                    nix::sys::signal::SigmaskHow::SIG_SETMASK,
                    Some(&none),
                    None,
                )
                .map_err(std::io::Error::from)
            });
        }
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
            format!(
                "cannot start '{}': {e}",
                super::identities::shown_unless_key(&program.to_string_lossy())
            ),
        )
    })?;
    let stdout_pipe = child.stdout.take();
    let stderr_pipe = child.stderr.take();
    // A helper may prompt (a passphrase): at a terminal it gets the
    // foreground, as a shell's job would, until it is reaped.
    #[cfg(target_os = "linux")]
    let mut terminal = i32::try_from(child.id())
        .ok()
        .and_then(|pid| crate::terminal::HelperTerminal::start(nix::unistd::Pid::from_raw(pid)));
    let child = Arc::new(Mutex::new(child));
    running.push(Arc::clone(&child));
    drop(running);
    let stdout = stdout_pipe.map(|pipe| {
        thread::spawn(move || {
            let mut buffer = Zeroizing::new(Vec::with_capacity(64 * 1024));
            // One byte past the limit tells "too much" from "exactly enough".
            let _ = pipe.take(MAX_STDOUT + 1).read_to_end(&mut buffer);
            buffer
        })
    });
    let stderr = stderr_pipe.map(|mut pipe| {
        thread::spawn(move || {
            let mut buffer = Zeroizing::new(Vec::new());
            let _ = (&mut pipe).take(KEPT_STDERR).read_to_end(&mut buffer);
            let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            buffer
        })
    });
    let readers = [stdout.as_ref(), stderr.as_ref()];
    #[cfg(target_os = "linux")]
    let result = wait(&child, &readers, timeout, terminal.as_mut());
    #[cfg(not(target_os = "linux"))]
    let result = wait(&child, &readers, timeout);
    lock(&RUNNING).retain(|c| !Arc::ptr_eq(c, &child));
    let status = lock(&child).wait();
    #[cfg(target_os = "linux")]
    if let Some(terminal) = terminal {
        let lent = terminal.lent();
        drop(terminal);
        if lent {
            interrupted_at_terminal(&status)?;
        }
    }
    // After an error a reader may still be blocked on a pipe that a process
    // outside the killed group holds: it is left to end with that process.
    result?;
    let join = |handle: Option<thread::JoinHandle<Zeroizing<Vec<u8>>>>| {
        handle.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    let (stdout, stderr) = (join(stdout), join(stderr));
    let status =
        status.map_err(|e| SopsError::new(ErrorKind::Binary, format!("cannot wait: {e}")))?;
    if stdout.len() as u64 > MAX_STDOUT {
        return Err(SopsError::new(
            ErrorKind::Binary,
            format!("printed more than {} MiB, stopped", MAX_STDOUT >> 20),
        ));
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// A helper that had the terminal and died of SIGINT was stopped with
/// Ctrl-C, which reached it rather than kstrun: kstrun ends as interrupted
/// (see `crate::interrupt::interrupted_at_terminal`); a library caller gets
/// an `Interrupted` error for this helper (for a key command, one failed
/// identity source among the others).
#[cfg(target_os = "linux")]
fn interrupted_at_terminal(status: &std::io::Result<ExitStatus>) -> Result<()> {
    use std::os::unix::process::ExitStatusExt;
    match status.as_ref().ok().and_then(ExitStatus::signal) {
        Some(nix::libc::SIGINT) => {
            crate::interrupt::interrupted_at_terminal(nix::libc::SIGINT);
            Err(SopsError::new(
                ErrorKind::Interrupted,
                "interrupted at the terminal".to_string(),
            ))
        }
        _ => Ok(()),
    }
}

/// Waits until the helper has exited and its output pipes are closed, or
/// until the deadline or an interrupt, which kill its process group. The
/// helper is not reaped here (its PID stays its own while its group may
/// still be signalled): the caller reaps it.
///
/// At a terminal, a stop of the helper (Ctrl-Z at its prompt) stops
/// kstrun's job, and `fg` continues both (`crate::terminal::HelperTerminal`);
/// the deadline counts again from then.
fn wait(
    child: &Arc<Mutex<Child>>,
    readers: &[Option<&thread::JoinHandle<Zeroizing<Vec<u8>>>>],
    timeout: Duration,
    #[cfg(target_os = "linux")] mut terminal: Option<&mut crate::terminal::HelperTerminal>,
) -> Result<()> {
    let mut start = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        #[cfg(target_os = "linux")]
        if let Some(terminal) = terminal.as_mut() {
            if terminal.follow(stopped(child)) {
                start = Instant::now();
            }
        }
        let exited = exited_unreaped(child).map_err(|e| {
            kill(&mut lock(child));
            SopsError::new(ErrorKind::Binary, format!("cannot wait: {e}"))
        })?;
        if INTERRUPTED.load(Ordering::SeqCst) {
            kill(&mut lock(child));
            return Err(SopsError::new(
                ErrorKind::Interrupted,
                "interrupted".to_string(),
            ));
        }
        if exited && readers.iter().flatten().all(|r| r.is_finished()) {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            kill(&mut lock(child));
            let reason = if exited {
                "its output was still held open (by a process it started)"
            } else {
                "no answer"
            };
            return Err(SopsError::new(
                ErrorKind::Timeout,
                format!("{reason} within {:.1} s, stopped", timeout.as_secs_f64()),
            ));
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Whether the helper stopped (by job control) since last asked.
#[cfg(target_os = "linux")]
fn stopped(child: &Arc<Mutex<Child>>) -> bool {
    use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
    let Ok(pid) = i32::try_from(lock(child).id()) else {
        return false;
    };
    let flags = WaitPidFlag::WSTOPPED | WaitPidFlag::WNOHANG;
    matches!(
        waitid(Id::Pid(nix::unistd::Pid::from_raw(pid)), flags),
        Ok(WaitStatus::Stopped(..))
    )
}

/// Whether the helper has exited, leaving it unreaped.
#[cfg(target_os = "linux")]
fn exited_unreaped(child: &Arc<Mutex<Child>>) -> std::io::Result<bool> {
    use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
    let pid = i32::try_from(lock(child).id()).map_err(std::io::Error::other)?;
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    let status = waitid(Id::Pid(nix::unistd::Pid::from_raw(pid)), flags)?;
    Ok(!matches!(status, WaitStatus::StillAlive))
}

/// Whether the helper has exited (reaped: without `WNOWAIT` here, its group
/// is signalled on the deadline only while it lives).
#[cfg(not(target_os = "linux"))]
fn exited_unreaped(child: &Arc<Mutex<Child>>) -> std::io::Result<bool> {
    Ok(lock(child).try_wait()?.is_some())
}
