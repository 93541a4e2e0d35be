//! Helpers for the process-lifecycle tests (signals, descriptors, memfds, `--init`).
//!
//! The suite's [`Sandbox`] (re-exported from `tests/common`), plus what these
//! tests need besides: reading a child's output with a deadline, waiting,
//! signalling and checking on processes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "../common/mod.rs"]
mod common;
pub use common::Sandbox;
// For the tests that drive a terminal (`--init`'s job control); not every
// test crate that includes this module does.
#[allow(unused_imports)]
pub use common::at_a_terminal;

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
