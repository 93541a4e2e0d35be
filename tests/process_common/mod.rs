//! Helpers for the process-lifecycle tests (signals, descriptors, memfds, `--init`).
//!
//! The same shape as the suite's shared helpers: a [`Sandbox`] is a temporary
//! folder that is also `HOME`, and kstrun runs there with a parent environment
//! the test sets explicitly. These tests also need `std::process::Command`
//! (to set up descriptors, signal state and limits in `pre_exec`, and to
//! signal a running kstrun), hence [`Sandbox::spawn_command`].
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const KSTRUN: &str = env!("CARGO_BIN_EXE_kstrun");

/// A temporary working folder with its own HOME.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `kstrun.toml` in the sandbox.
    pub fn manifest(&self, text: &str) -> &Sandbox {
        self.write("kstrun.toml", text.as_bytes());
        self
    }

    /// Writes a file relative to the sandbox and returns its path.
    pub fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, contents).expect("write");
        path
    }

    /// `kstrun` (assert_cmd) with PATH and HOME only.
    pub fn kstrun(&self) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::new(KSTRUN);
        command
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path());
        command
    }

    /// `kstrun` as a `std::process::Command`, same environment, output piped.
    pub fn spawn_command(&self) -> Command {
        let mut command = Command::new(KSTRUN);
        command
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Path of the marker a would-be child creates.
    pub fn marker(&self) -> PathBuf {
        self.path().join("child-started")
    }

    /// Arguments for a child that proves it started by creating the marker.
    pub fn marker_child(&self) -> Vec<String> {
        vec!["touch".into(), self.marker().display().to_string()]
    }

    /// Asserts the marker child never ran.
    pub fn assert_child_not_started(&self) {
        assert!(!self.marker().exists(), "the child was started");
    }
}

/// Lines of a child's stdout, read on a thread so that a test can wait with a deadline.
pub struct Lines {
    receiver: mpsc::Receiver<String>,
}

impl Lines {
    pub fn new(stdout: ChildStdout) -> Lines {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Lines { receiver }
    }

    /// The next line, or a panic naming `what` after `timeout`.
    pub fn expect(&self, what: &str, timeout: Duration) -> String {
        self.receiver
            .recv_timeout(timeout)
            .unwrap_or_else(|_| panic!("no line from the child: waited for {what}"))
    }
}

/// Waits for `child` with a deadline; kills it and panics when it is exceeded.
pub fn wait_within(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kstrun did not end within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends signal `signo` to `pid`.
pub fn send(pid: u32, signo: i32) {
    // SAFETY: kill(2) on a PID this test started; no memory involved.
    let rc = unsafe { nix::libc::kill(pid as i32, signo) };
    assert_eq!(rc, 0, "kill({pid}, {signo})");
}

/// Whether a process with this PID still exists (and is not a zombie).
pub fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Waits up to `timeout` for `pid` to be gone.
pub fn gone_within(pid: u32, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if !is_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    !is_alive(pid)
}

/// Every `memfd:` link in any process's descriptor table that mentions `needle`.
pub fn memfds_named(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return found;
    };
    for process in processes.flatten() {
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                let target = target.to_string_lossy().into_owned();
                if target.contains("memfd:") && target.contains(needle) {
                    found.push(format!("{} -> {target}", fd.path().display()));
                }
            }
        }
    }
    found
}

/// A unique suffix for names that must not collide with other tests.
pub fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{nanos}", std::process::id())
}
