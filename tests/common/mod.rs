//! Helpers shared by the integration tests.
//!
//! Every test drives the built `kstrun` binary in a [`Sandbox`]: a temporary
//! folder that is also `HOME` and `XDG_CONFIG_HOME`, with a parent
//! environment the test sets explicitly (nothing inherited from the runner
//! but `PATH`). [`assert_no_leak`] is the one check, used across the suite,
//! that no secret value appears in what kstrun printed.
#![allow(dead_code)]

pub mod secret_service;

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Output;

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
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, contents).expect("write");
        path
    }

    /// `kstrun` with a clean parent environment: PATH, HOME and XDG_CONFIG_HOME only.
    pub fn kstrun(&self) -> Command {
        let mut command = Command::cargo_bin("kstrun").expect("the kstrun binary");
        command
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join(".config"));
        command
    }

    /// `kstrun` as a `std::process::Command` (for `pre_exec` set-up and for
    /// signalling a running kstrun): same environment, stdin closed, output piped.
    pub fn spawn_command(&self) -> std::process::Command {
        use std::process::Stdio;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kstrun"));
        command
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Path of the marker a would-be child creates; see [`Sandbox::marker_child`].
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

/// Asserts that none of `secrets` appears in stdout or stderr of `output`.
pub fn assert_no_leak(output: &Output, secrets: &[&str]) {
    for secret in secrets {
        for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains(secret),
                "secret value found in {stream}:\n{text}"
            );
        }
    }
}

/// Asserts kstrun failed with status 125, a clean message (no panic) containing every `needle`.
pub fn assert_failed_125(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(125), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert!(stderr.contains("kstrun: error:"), "no error line: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} missing from: {stderr}");
    }
}

/// `python3` arguments that succeed when python-dotenv 1.2.4 or newer is
/// importable (older ones cannot read `'\\'` back): the version the dotenv
/// tests are run against (scripts/install-test-deps pins it).
pub const NEW_DOTENV_PROBE: &[&str] = &[
    "-c",
    "import importlib.metadata as m, sys; \
     v = tuple(int(x) for x in m.version('python-dotenv').split('.')[:3]); \
     sys.exit(v < (1, 2, 4))",
];

/// Whether the outside tool `name` is usable. Under `scripts/test`
/// (`KSTRUN_TEST_REQUIRE_TOOLS=1`) a missing tool fails the test; under a bare
/// `cargo test` the test is skipped with a printed reason.
pub fn tool_available(name: &str, probe: &[&str]) -> bool {
    let found = std::process::Command::new(name)
        .args(probe)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        if std::env::var_os("KSTRUN_TEST_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
            panic!("required tool '{name}' is missing (run scripts/install-test-deps)");
        }
        eprintln!("skipping: '{name}' is not available (scripts/test installs it)");
    }
    found
}

/// Splits `env -0` output into entries.
pub fn env0_entries(stdout: &[u8]) -> Vec<Vec<u8>> {
    stdout
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Runs an interactive bash on a fresh pseudo-terminal (Python's `pty`),
/// types `steps` into it (`sleep:S` waits, anything else is typed), and
/// returns all it printed. `None` when python3 is not there.
pub fn at_a_terminal(steps: &[&str]) -> Option<String> {
    const DRIVER: &str = r#"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.environ["PS1"] = "$ "
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
out = b""
def drain(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
for step in sys.argv[1:]:
    if step.startswith("sleep:"):
        drain(float(step[6:]))
    else:
        os.write(fd, step.encode())
drain(0.5)
sys.stdout.write(out.decode(errors="replace"))
os.kill(pid, 9)
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .args(steps)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}
