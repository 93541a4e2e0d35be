//! A real Secret Service for tests: a private D-Bus session bus and a
//! gnome-keyring on it, in a temporary home, torn down on drop.
//!
//! The bus runs from its own configuration with no service directories, so
//! nothing is started behind the test's back (no activated keyring, no
//! prompter): what is on the bus is exactly what the test started. Both
//! daemons run in the foreground as children of the test, so dropping the
//! session kills them, whatever the test did.
//!
//! Tools missing on the machine make [`SecretServiceSession::start`] return
//! `None` with a printed reason, unless `KSTRUN_TEST_REQUIRE_TOOLS=1` (set by
//! `scripts/test`), where a missing tool fails the test instead.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The collection gnome-keyring creates when unlocked with a password.
pub const LOGIN_COLLECTION: &str = "/org/freedesktop/secrets/collection/login";

/// Whether a missing tool must fail the test (under `scripts/test`).
pub fn tools_required() -> bool {
    std::env::var_os("KSTRUN_TEST_REQUIRE_TOOLS").is_some_and(|v| v == "1")
}

/// Skips (prints why, returns `false`) or fails when `tool` is not on `PATH`.
pub fn have_tool(tool: &str) -> bool {
    if which(tool).is_some() {
        return true;
    }
    skip_or_fail(&format!("`{tool}` is not installed"));
    false
}

/// Prints a skip reason, or panics when tools are required.
pub fn skip_or_fail(reason: &str) {
    if tools_required() {
        panic!("required test tool missing: {reason} (run scripts/install-test-deps)");
    }
    eprintln!("skipped: {reason} (run scripts/install-test-deps, or scripts/test)");
}

/// The full path of `tool` on `PATH`.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// The Python of the test venv (with `keyring`), or a skip/fail.
pub fn python_with_keyring() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python");
    let candidates = [Some(venv), which("python3")];
    for python in candidates.into_iter().flatten() {
        let imports = Command::new(&python)
            .args(["-c", "import keyring"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if imports {
            return Some(python);
        }
    }
    skip_or_fail("no Python with the `keyring` package (target/test-venv)");
    None
}

/// Serialises tests that change this process's environment (the D-Bus
/// address is read from it by the Secret Service client).
pub fn env_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `body` with `DBUS_SESSION_BUS_ADDRESS` set to `address` in this
/// process, then restores it. Hold [`env_lock`] around it.
pub fn with_bus_address<T>(address: &str, body: impl FnOnce() -> T) -> T {
    let saved = std::env::var_os("DBUS_SESSION_BUS_ADDRESS");
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", address);
    let result = body();
    match saved {
        Some(old) => std::env::set_var("DBUS_SESSION_BUS_ADDRESS", old),
        None => std::env::remove_var("DBUS_SESSION_BUS_ADDRESS"),
    }
    result
}

/// A private session bus, with or without a gnome-keyring on it.
pub struct SecretServiceSession {
    dir: TempDir,
    address: String,
    bus: Child,
    keyring: Option<Child>,
}

impl SecretServiceSession {
    /// A bus and an unlocked gnome-keyring (login collection, password `pw`).
    pub fn start() -> Option<Self> {
        let mut session = Self::bus_only()?;
        if !have_tool("gnome-keyring-daemon") {
            return None;
        }
        session.start_keyring();
        Some(session)
    }

    /// A bus and an unlocked gnome-keyring, with a bus policy that refuses
    /// every `OpenSession` call to it: a Secret Service that is there but
    /// will not open a session.
    pub fn start_refusing_sessions() -> Option<Self> {
        let mut session = Self::bus_with_policy(
            r#"<deny send_interface="org.freedesktop.Secret.Service" send_member="OpenSession"/>"#,
        )?;
        if !have_tool("gnome-keyring-daemon") {
            return None;
        }
        session.start_keyring();
        Some(session)
    }

    /// A private bus with nothing on it.
    pub fn bus_only() -> Option<Self> {
        Self::bus_with_policy("")
    }

    /// A private bus with `extra_policy` rules after the permissive ones.
    fn bus_with_policy(extra_policy: &str) -> Option<Self> {
        if !have_tool("dbus-daemon") || !have_tool("dbus-send") {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("kstrun-ss-")
            .tempdir()
            .expect("temp dir");
        for sub in ["home", "data", "config", "cache", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("session dirs");
        }
        set_mode(&dir.path().join("run"), 0o700);
        let config = dir.path().join("bus.conf");
        std::fs::write(&config, bus_config(&dir.path().join("bus"), extra_policy))
            .expect("bus config");
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // It complains it may not raise its fd limit, harmlessly.
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let mut line = String::new();
        let stdout = bus.stdout.take().expect("bus stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("bus address");
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "bus address: {address:?}");
        Some(SecretServiceSession {
            dir,
            address,
            bus,
            keyring: None,
        })
    }

    fn start_keyring(&mut self) {
        let mut keyring = self
            .command("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon");
        // The unlock password is read from stdin up to its end.
        let mut stdin = keyring.stdin.take().expect("keyring stdin");
        stdin.write_all(b"pw").expect("keyring password");
        drop(stdin);
        self.keyring = Some(keyring);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.name_has_owner("org.freedesktop.secrets") {
            assert!(
                Instant::now() < deadline,
                "gnome-keyring did not take org.freedesktop.secrets"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The login collection appears once the daemon has unlocked it.
        while !self.collection_exists(LOGIN_COLLECTION) {
            assert!(
                Instant::now() < deadline,
                "gnome-keyring did not create the login collection"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The bus address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The temporary home of this session.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The environment a client of this session needs.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let path = |sub: &str| self.dir.path().join(sub).display().to_string();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS", self.address.clone()),
            ("HOME", path("home")),
            ("XDG_DATA_HOME", path("data")),
            ("XDG_CONFIG_HOME", path("config")),
            ("XDG_CACHE_HOME", path("cache")),
            ("XDG_RUNTIME_DIR", path("run")),
        ]
    }

    /// A command with this session's environment (and no display).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.envs(self.env()).env_remove("DISPLAY");
        command.env_remove("WAYLAND_DISPLAY");
        command
    }

    /// Runs a `dbus-send --print-reply` on this bus.
    pub fn dbus_send(&self, args: &[&str]) -> Output {
        self.command("dbus-send")
            .args(["--session", "--print-reply"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run dbus-send")
    }

    fn name_has_owner(&self, name: &str) -> bool {
        let out = self.dbus_send(&[
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            &format!("string:{name}"),
        ]);
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    fn collection_exists(&self, path: &str) -> bool {
        self.collection_locked(path).is_some()
    }

    /// The `Locked` property of a collection, `None` if unreadable.
    pub fn collection_locked(&self, path: &str) -> Option<bool> {
        let out = self.dbus_send(&[
            "--dest=org.freedesktop.secrets",
            path,
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            None
        } else {
            Some(text.contains("boolean true"))
        }
    }

    /// Locks a collection through the Secret Service's own `Lock` method
    /// (no prompt is needed to lock).
    pub fn lock(&self, path: &str) {
        let out = self.dbus_send(&[
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            &format!("array:objpath:{path}"),
        ]);
        assert!(
            out.status.success(),
            "lock {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(self.collection_locked(path), Some(true), "{path} locked");
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) the keyring daemon: a stopped
    /// Secret Service owns its bus name but never answers.
    pub fn freeze_keyring(&self, frozen: bool) {
        let pid = self.keyring.as_ref().expect("a keyring").id();
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Runs Python code with this session's environment; `KEYRING_VALUE` is
    /// passed through the environment, never on the command line.
    pub fn python(&self, python: &Path, code: &str, value: Option<&str>) -> Output {
        let mut command = self.command(python);
        command.args(["-c", code]).stdin(Stdio::null());
        if let Some(value) = value {
            command.env("KEYRING_VALUE", value);
        }
        // Python's keyring must pick the Secret Service, not a config file.
        command.env_remove("PYTHON_KEYRING_BACKEND");
        command.output().expect("run python")
    }

    /// `secret-tool store --label=... service SERVICE username USER`, value on
    /// stdin. secret-tool cuts values at 8 KiB: use Python for larger ones.
    pub fn secret_tool_store(&self, service: &str, username: &str, value: &str) {
        let mut child = self
            .command("secret-tool")
            .args([
                "store",
                &format!("--label={username} ({service})"),
                "service",
                service,
                "username",
                username,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run secret-tool");
        let mut stdin = child.stdin.take().expect("secret-tool stdin");
        stdin
            .write_all(value.as_bytes())
            .expect("secret-tool value");
        drop(stdin);
        let out = child.wait_with_output().expect("secret-tool");
        assert!(
            out.status.success(),
            "secret-tool store: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for SecretServiceSession {
    fn drop(&mut self) {
        // SIGKILL also ends a stopped (frozen) daemon.
        if let Some(keyring) = &mut self.keyring {
            let _ = keyring.kill();
            let _ = keyring.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// A session bus configuration listening on `socket`, with no service
/// directories (nothing is activated), monitoring allowed, then `extra_policy`.
fn bus_config(socket: &Path, extra_policy: &str) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    {}
  </policy>
</busconfig>
"#,
        socket.display(),
        extra_policy
    )
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
