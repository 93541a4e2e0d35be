//! The proven wipe: kstrun's memory at the `execve` system call.
//!
//! The test starts kstrun under ptrace (`PTRACE_TRACEME`, then
//! `PTRACE_SYSCALL` with `PTRACE_O_TRACESYSGOOD`) and stops it at the entry
//! of the `execve` that starts the child. At that instant it reads every
//! writable mapping through `/proc/PID/maps` and `/proc/PID/mem` and counts
//! each secret's plaintext. Values are unique random strings of 16 bytes to
//! 64 KiB, so every occurrence counted is a real copy.
//!
//! Allowed: for a value kstrun was handed on its command line (`--set`) or in
//! its environment, the original (in the argument or environment strings the
//! kernel put on the stack, which kstrun cannot take back) plus one: the
//! environment block handed to the kernel. For values kstrun obtained itself
//! (sops, keyring), exactly one. A new origin is one more [`Origin`] and one
//! more way to place a value in [`Scenario`].
#![cfg(target_os = "linux")]

mod common;

use common::{secret_service, tool_available};

use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Where a secret's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `--set PATH=VALUE`: the original stays in the argument strings.
    Set,
    /// The parent environment: the original stays in the environment strings.
    ParentEnv,
    /// A SOPS file kstrun decrypts itself (native backend): no original.
    Sops,
    /// A gnome-keyring on a private bus, read over the Secret Service: no original.
    Keyring,
}

impl Origin {
    /// Copies kstrun cannot take back.
    fn originals(self) -> usize {
        match self {
            Origin::Set | Origin::ParentEnv => 1,
            Origin::Sops | Origin::Keyring => 0,
        }
    }
}

struct Secret {
    var: String,
    path: String,
    value: Vec<u8>,
    origin: Origin,
}

/// A kstrun invocation whose memory is inspected at `execve`.
struct Scenario {
    dir: tempfile::TempDir,
    secrets: Vec<Secret>,
    keyring: Option<secret_service::SecretServiceSession>,
}

impl Scenario {
    /// `count` secrets with sizes spread geometrically from 16 bytes to 64 KiB,
    /// origins taken in turn from `origins`.
    fn new(count: usize, origins: &[Origin]) -> Scenario {
        Scenario::sized(count, origins, 16, 65536)
    }

    /// `count` secrets with sizes spread geometrically from `min` to `max` bytes.
    fn sized(count: usize, origins: &[Origin], min: usize, max: usize) -> Scenario {
        let mut random = Random::new();
        let growth = max as f64 / min as f64;
        let secrets = (0..count)
            .map(|i| {
                let ratio = i as f64 / (count - 1).max(1) as f64;
                let size = (min as f64 * growth.powf(ratio)).round() as usize;
                Secret {
                    var: format!("SECRET_{i:02}"),
                    path: format!("memtest.s{i:02}"),
                    value: random.alphanumeric(size.clamp(min, max)),
                    origin: origins[i % origins.len()],
                }
            })
            .collect();
        Scenario {
            dir: tempfile::tempdir().expect("tempdir"),
            secrets,
            keyring: None,
        }
    }

    fn command(&self, program: &str) -> Command {
        let sops = self.secrets.iter().any(|s| s.origin == Origin::Sops);
        let mut manifest =
            String::from("pass = []\n[providers]\norder = [\"env\", \"keyring\", \"sops\"]\n");
        if sops {
            self.encrypt_sops_file();
            manifest
                .push_str("[providers.sops]\npath = \"secrets.sops.yml\"\nbackend = \"native\"\n");
        }
        manifest.push_str("[secrets]\n");
        for secret in &self.secrets {
            manifest.push_str(&format!("{} = \"{}\"\n", secret.var, secret.path));
        }
        let manifest_path = self.dir.path().join("kstrun.toml");
        std::fs::write(&manifest_path, manifest).expect("manifest");
        let mut command = Command::new(env!("CARGO_BIN_EXE_kstrun"));
        command
            .current_dir(self.dir.path())
            .env_clear()
            .env("HOME", self.dir.path())
            .arg("-m")
            .arg(&manifest_path);
        if sops {
            command.env("SOPS_AGE_KEY_FILE", self.dir.path().join("age-key.txt"));
        }
        if let Some(keyring) = &self.keyring {
            command.env("DBUS_SESSION_BUS_ADDRESS", keyring.address());
        }
        for secret in &self.secrets {
            match secret.origin {
                Origin::Set => {
                    let mut arg = OsString::from(format!("{}=", secret.path));
                    arg.push(std::str::from_utf8(&secret.value).expect("ascii"));
                    command.arg("--set").arg(arg);
                }
                Origin::ParentEnv => {
                    let name = secret.path.to_uppercase().replace('.', "_");
                    command.env(name, std::str::from_utf8(&secret.value).expect("ascii"));
                }
                Origin::Sops | Origin::Keyring => {}
            }
        }
        command
            .arg("--")
            .arg(program)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }
}

impl Scenario {
    /// Writes `secrets.sops.yml` holding the sops-origin values, encrypted by
    /// the real `sops` for a fresh age key; the plaintext file is removed.
    fn encrypt_sops_file(&self) {
        let dir = self.dir.path();
        let key = dir.join("age-key.txt");
        let made = Command::new("age-keygen")
            .arg("-o")
            .arg(&key)
            .output()
            .expect("age-keygen");
        assert!(made.status.success(), "{made:?}");
        let key_text = std::fs::read_to_string(&key).expect("key");
        let recipient = key_text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("public key line");
        let mut plain = String::from("memtest:\n");
        for secret in self.secrets.iter().filter(|s| s.origin == Origin::Sops) {
            let leaf = secret.path.strip_prefix("memtest.").expect("memtest path");
            let value = std::str::from_utf8(&secret.value).expect("ascii");
            plain.push_str(&format!("    {leaf}: {value}\n"));
        }
        let plain_path = dir.join("plain.yml");
        std::fs::write(&plain_path, plain).expect("plaintext");
        let encrypted = Command::new("sops")
            .args([
                "--encrypt",
                "--age",
                recipient,
                "--input-type",
                "yaml",
                "--output-type",
                "yaml",
            ])
            .arg(&plain_path)
            .output()
            .expect("sops");
        std::fs::remove_file(&plain_path).expect("remove plaintext");
        assert!(
            encrypted.status.success(),
            "sops --encrypt: {}",
            String::from_utf8_lossy(&encrypted.stderr)
        );
        std::fs::write(dir.join("secrets.sops.yml"), encrypted.stdout).expect("sops file");
    }
}

impl Scenario {
    /// Starts a private gnome-keyring and stores the keyring-origin values in
    /// it with Python's `keyring` (service `kstlib`, value passed in its
    /// environment; `secret-tool` cuts values at 8 KiB). `false` when the
    /// tools are missing (and the test may skip).
    fn store_in_keyring(&mut self) -> bool {
        let Some(session) = secret_service::SecretServiceSession::start() else {
            return false;
        };
        let Some(python) = secret_service::python_with_keyring() else {
            return false;
        };
        for secret in self.secrets.iter().filter(|s| s.origin == Origin::Keyring) {
            let value = std::str::from_utf8(&secret.value).expect("ascii");
            let code = format!(
                "import keyring, os; keyring.set_password('kstlib', '{}', os.environ['KEYRING_VALUE'])",
                secret.path
            );
            let out = session.python(&python, &code, Some(value));
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        self.keyring = Some(session);
        true
    }
}

/// Writable memory of a stopped process: (mapping name, bytes).
struct Memory {
    regions: Vec<(String, Vec<u8>)>,
}

/// Runs the scenario under ptrace until the `execve` of `program`, reads the memory, kills it.
fn memory_at_execve(scenario: &Scenario, program: &str) -> Memory {
    let mut command = scenario.command(program);
    // SAFETY: the closure only makes the ptrace(PTRACE_TRACEME) system call.
    unsafe {
        command.pre_exec(|| ptrace::traceme().map_err(std::io::Error::from));
    }
    let mut child = command.spawn().expect("start kstrun");
    let pid = Pid::from_raw(child.id() as i32);
    match waitpid(pid, None) {
        Ok(WaitStatus::Stopped(_, Signal::SIGTRAP)) => {}
        other => panic!("kstrun did not stop at its own exec: {other:?}"),
    }
    ptrace::setoptions(
        pid,
        ptrace::Options::PTRACE_O_TRACESYSGOOD | ptrace::Options::PTRACE_O_EXITKILL,
    )
    .expect("ptrace options");
    let mut entering = false;
    let mut deliver: Option<Signal> = None;
    loop {
        ptrace::syscall(pid, deliver.take()).expect("PTRACE_SYSCALL");
        match waitpid(pid, None).expect("waitpid") {
            WaitStatus::PtraceSyscall(_) => {
                entering = !entering;
                if entering && syscall_number(pid) == nix::libc::SYS_execve {
                    break;
                }
            }
            WaitStatus::Stopped(_, signal) => deliver = Some(signal),
            status => {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("kstrun ended before execve: {status:?}\n{stderr}");
            }
        }
    }
    assert_eq!(
        execve_path(pid),
        program.as_bytes(),
        "stopped at the wrong execve"
    );
    let memory = read_writable_memory(pid);
    let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
    let _ = child.wait();
    memory
}

fn syscall_number(pid: Pid) -> i64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1)
}

/// The path argument of the `execve` the process is stopped in.
fn execve_path(pid: Pid) -> Vec<u8> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).expect("syscall");
    let address = text
        .split_whitespace()
        .nth(1)
        .and_then(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
        .expect("execve's first argument");
    let mem = File::open(format!("/proc/{pid}/mem")).expect("open mem");
    let mut buffer = vec![0u8; 4096];
    let read = mem.read_at(&mut buffer, address).expect("read path");
    buffer.truncate(read);
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    buffer.truncate(end);
    buffer
}

fn read_writable_memory(pid: Pid) -> Memory {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    let mem = File::open(format!("/proc/{pid}/mem")).expect("open /proc/PID/mem");
    let mut regions = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if perms.as_bytes().get(1) != Some(&b'w') {
            continue;
        }
        let name = fields.nth(3).unwrap_or("[anonymous]").to_string();
        let (start, end) = range.split_once('-').expect("range");
        let start = u64::from_str_radix(start, 16).expect("start");
        let end = u64::from_str_radix(end, 16).expect("end");
        let mut bytes = vec![0u8; (end - start) as usize];
        if mem.read_exact_at(&mut bytes, start).is_ok() {
            regions.push((name, bytes));
        }
    }
    assert!(
        regions.iter().any(|(name, _)| name == "[stack]"),
        "read no stack: {maps}"
    );
    Memory { regions }
}

/// Occurrences of each value: (in all writable memory, in the `[stack]` mapping).
fn count(memory: &Memory, values: &[&[u8]]) -> Vec<(usize, usize)> {
    let mut by_prefix: HashMap<&[u8], Vec<usize>> = HashMap::new();
    let mut first_two = vec![false; 1 << 16];
    for (index, value) in values.iter().enumerate() {
        by_prefix.entry(&value[..8]).or_default().push(index);
        first_two[u16::from_le_bytes([value[0], value[1]]) as usize] = true;
    }
    let mut counts = vec![(0, 0); values.len()];
    for (name, bytes) in &memory.regions {
        if bytes.len() < 8 {
            continue;
        }
        for at in 0..=bytes.len() - 8 {
            if !first_two[u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize] {
                continue;
            }
            let Some(candidates) = by_prefix.get(&bytes[at..at + 8]) else {
                continue;
            };
            for &index in candidates {
                if bytes[at..].starts_with(values[index]) {
                    counts[index].0 += 1;
                    if name == "[stack]" {
                        counts[index].1 += 1;
                    }
                }
            }
        }
    }
    counts
}

/// Checks and prints the counts of a scenario.
fn assert_counts(scenario: &Scenario, memory: &Memory) {
    let values: Vec<&[u8]> = scenario
        .secrets
        .iter()
        .map(|s| s.value.as_slice())
        .collect();
    let counts = count(memory, &values);
    let mut failures = Vec::new();
    println!("secret     origin     bytes  in memory  on the stack");
    for (secret, &(total, stack)) in scenario.secrets.iter().zip(&counts) {
        println!(
            "{:<10} {:<10} {:>5}  {:>9}  {:>12}",
            secret.var,
            format!("{:?}", secret.origin),
            secret.value.len(),
            total,
            stack
        );
        let allowed = secret.origin.originals() + 1;
        if total == 0 || total > allowed {
            failures.push(format!(
                "{} ({:?}): {total} copies, allowed 1..={allowed}",
                secret.var, secret.origin
            ));
        }
    }
    let total: usize = counts.iter().map(|c| c.0).sum();
    let heap: usize = counts.iter().map(|c| c.0 - c.1).sum();
    println!(
        "{} secrets: {total} occurrences, {heap} outside the stack's original strings",
        counts.len()
    );
    assert!(
        failures.is_empty(),
        "extra copies:\n{}",
        failures.join("\n")
    );
}

#[test]
fn at_execve_each_set_or_env_secret_is_in_memory_at_most_original_plus_one() {
    let program = "/bin/true";
    assert!(Path::new(program).exists());
    let scenario = Scenario::new(50, &[Origin::Set, Origin::ParentEnv]);
    let memory = memory_at_execve(&scenario, program);
    assert_counts(&scenario, &memory);
}

#[test]
fn at_execve_each_sops_secret_is_in_memory_exactly_once() {
    if !(tool_available("sops", &["--version"]) && tool_available("age-keygen", &["--version"])) {
        return;
    }
    let program = "/bin/true";
    let scenario = Scenario::new(50, &[Origin::Sops]);
    let memory = memory_at_execve(&scenario, program);
    assert_counts(&scenario, &memory);
}

/// Short values, as passwords are: each fits whole in the 128-byte block
/// SHA-512 buffers while the MAC is computed, so a copy of the hasher left
/// on the stack would show here.
#[test]
fn at_execve_each_short_sops_secret_is_in_memory_exactly_once() {
    if !(tool_available("sops", &["--version"]) && tool_available("age-keygen", &["--version"])) {
        return;
    }
    let scenario = Scenario::sized(4, &[Origin::Sops], 12, 40);
    let memory = memory_at_execve(&scenario, "/bin/true");
    assert_counts(&scenario, &memory);
}

#[test]
fn at_execve_each_keyring_secret_is_in_memory_exactly_once() {
    let program = "/bin/true";
    let mut scenario = Scenario::new(20, &[Origin::Keyring]);
    if !scenario.store_in_keyring() {
        return;
    }
    let memory = memory_at_execve(&scenario, program);
    assert_counts(&scenario, &memory);
}

/// Short values from the keyring: read over D-Bus and decrypted on a
/// helper thread, whose stack must not keep them either.
#[test]
fn at_execve_each_short_keyring_secret_is_in_memory_exactly_once() {
    let mut scenario = Scenario::sized(4, &[Origin::Keyring], 12, 40);
    if !scenario.store_in_keyring() {
        return;
    }
    let memory = memory_at_execve(&scenario, "/bin/true");
    assert_counts(&scenario, &memory);
}

/// Random bytes from the kernel, as letters and digits (valid in argv and env).
struct Random {
    source: File,
}

impl Random {
    fn new() -> Random {
        Random {
            source: File::open("/dev/urandom").expect("/dev/urandom"),
        }
    }

    fn alphanumeric(&mut self, len: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut bytes = vec![0u8; len];
        self.source.read_exact(&mut bytes).expect("random");
        for b in &mut bytes {
            *b = ALPHABET[*b as usize % ALPHABET.len()];
        }
        bytes
    }
}
