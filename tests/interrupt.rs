//! SIGINT, SIGTERM, SIGHUP (SPEC §4.2, §4.4) and the other terminating
//! signals kstrun watches while it resolves: exit 128+N, helpers stopped,
//! no child started.
//!
//! Four ways to hold kstrun in the resolving phase:
//! * a manifest that is a FIFO nobody writes to (kstrun blocks reading it,
//!   after it has armed its watcher) — end to end, no provider needed;
//! * a stand-in helper started through the library's registry, in a
//!   re-executed copy of this test binary (the "victim");
//! * nothing to wait for at all (a "quiet victim" that only arms): the
//!   signal stays pending and `disarm` takes it;
//! * a fake `sops` that sleeps, through the sops binary backend.
#![cfg(target_os = "linux")]

mod process_common;

use nix::libc;
use process_common::{gone_within, is_alive, send, wait_within, Lines, Sandbox};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);
const SIGNALS: [(i32, i32); 7] = [
    (libc::SIGINT, 130),
    (libc::SIGTERM, 143),
    (libc::SIGHUP, 129),
    (libc::SIGQUIT, 131),
    (libc::SIGUSR1, 138),
    (libc::SIGUSR2, 140),
    (libc::SIGALRM, 142),
];

/// Waits until kstrun runs its watcher thread (it is then armed).
fn wait_until_armed(pid: u32) {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|d| d.count())
            .unwrap_or(0);
        if threads >= 2 {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("kstrun never armed its signal watcher");
}

fn soft_core_limit(pid: u32) -> String {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .and_then(|l| l.split_whitespace().nth(4))
        .unwrap_or_default()
        .to_string()
}

/// kstrun reading a FIFO manifest that never comes, started with a soft core limit of 4 MiB.
fn blocked_on_fifo_manifest(sandbox: &Sandbox, ignore_hup: bool) -> std::process::Child {
    let fifo = sandbox.path().join("kstrun.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    let mut command = sandbox.spawn_command();
    command
        .arg("-m")
        .arg(&fifo)
        .arg("--")
        .args(sandbox.marker_child());
    // SAFETY: setrlimit and signal are async-signal-safe system calls.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: 4096 * 1024,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
            if ignore_hup {
                libc::signal(libc::SIGHUP, libc::SIG_IGN);
            }
            Ok(())
        });
    }
    command.spawn().expect("start kstrun")
}

#[test]
fn a_signal_while_resolving_exits_128_plus_n_and_starts_nothing() {
    for (signo, status) in SIGNALS {
        let sandbox = Sandbox::new();
        let mut kstrun = blocked_on_fifo_manifest(&sandbox, false);
        wait_until_armed(kstrun.id());
        // Hardened while resolving: no core file, whatever the caller allowed.
        assert_eq!(soft_core_limit(kstrun.id()), "0");
        send(kstrun.id(), signo);
        let exit = wait_within(&mut kstrun, WAIT);
        let output = kstrun.wait_with_output().expect("output");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(exit.code(), Some(status), "signal {signo}: {stderr}");
        assert!(stderr.contains("interrupted by signal"), "{stderr}");
        sandbox.assert_child_not_started();
    }
}

#[test]
fn an_ignored_sighup_stays_ignored_while_resolving() {
    let sandbox = Sandbox::new();
    let mut kstrun = blocked_on_fifo_manifest(&sandbox, true);
    wait_until_armed(kstrun.id());
    send(kstrun.id(), libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        kstrun.try_wait().expect("try_wait").is_none(),
        "SIGHUP ended kstrun"
    );
    send(kstrun.id(), libc::SIGTERM);
    assert_eq!(wait_within(&mut kstrun, WAIT).code(), Some(143));
    sandbox.assert_child_not_started();
}

const VICTIM: &str = "KSTRUN_TEST_INTERRUPT_VICTIM";
const HOOK_FILE: &str = "KSTRUN_TEST_INTERRUPT_HOOK_FILE";

fn hook() {
    if let Some(path) = std::env::var_os(HOOK_FILE) {
        let _ = std::fs::write(path, b"hook ran");
    }
}

/// This test binary running only the ignored helper test `name`, with `flag`
/// set, piped output, and the watched signals blocked (so that none can end
/// it before it arms; it unblocks them itself).
fn re_executed(name: &str, flag: &str) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().expect("exe"));
    command
        .args([
            "--ignored",
            "--exact",
            name,
            "--nocapture",
            "--test-threads=1",
        ])
        .env(flag, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: sigprocmask is an async-signal-safe system call.
    unsafe {
        command.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signo in kstrun::interrupt::WATCHED {
                libc::sigaddset(&mut set, signo);
            }
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
    command
}

/// Not a test on its own: the process [`registered_helpers_and_hooks_are_stopped`] signals.
#[test]
#[ignore = "helper process for registered_helpers_and_hooks_are_stopped"]
fn victim() {
    if std::env::var_os(VICTIM).is_none() {
        return;
    }
    use kstrun::signals::SignalSet;
    // Started with the watched signals blocked in every thread (see the
    // caller); unblock them here so that kstrun sees a normal start.
    let watched = SignalSet::of(&kstrun::interrupt::WATCHED);
    watched.unblock().expect("unblock");
    let state = kstrun::hardening::ProcessState::capture();
    state.harden().expect("harden");
    let report = kstrun::report::Reporter::new(false, false);
    let _watcher = kstrun::interrupt::arm(&state, &SignalSet::empty(), report).expect("arm");
    kstrun::interrupt::on_interrupt(hook);
    let mut helper = std::process::Command::new("sh");
    helper
        .args(["-c", "sleep 30 & echo $!; wait"])
        .stdout(Stdio::piped());
    let (mut helper, _guard) = kstrun::interrupt::spawn(&mut helper).expect("helper");
    let lines = Lines::new(helper.stdout.take().expect("stdout"));
    let sleeper = lines.expect("sleeper pid", WAIT);
    println!("ready {} {sleeper}", helper.id());
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn registered_helpers_and_hooks_are_stopped() {
    for (signo, status) in SIGNALS {
        let sandbox = Sandbox::new();
        let hook_file = sandbox.path().join("hook");
        let mut victim = re_executed("victim", VICTIM)
            .env(HOOK_FILE, &hook_file)
            .spawn()
            .expect("victim");
        let lines = Lines::new(victim.stdout.take().expect("stdout"));
        let ready = loop {
            let line = lines.expect("ready", WAIT);
            // libtest prints "test victim ... " first, on the same line.
            if let Some((_, rest)) = line.split_once("ready ") {
                break rest.to_string();
            }
        };
        let pids: Vec<u32> = ready
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        assert_eq!(pids.len(), 2, "{ready}");
        assert!(pids.iter().all(|&p| is_alive(p)));
        send(victim.id(), signo);
        let exit = wait_within(&mut victim, WAIT);
        assert_eq!(exit.code(), Some(status), "signal {signo}");
        for pid in pids {
            assert!(gone_within(pid, WAIT), "helper {pid} survived");
        }
        assert!(hook_file.exists(), "the stop hook did not run");
    }
}

const QUIET_VICTIM: &str = "KSTRUN_TEST_INTERRUPT_QUIET_VICTIM";

/// Not a test on its own: the process [`a_signal_before_any_wait_is_taken_at_disarm`]
/// signals. Armed but never waiting on anything, so no watcher thread runs:
/// the signal stays pending until `disarm`, which must exit for it.
#[test]
#[ignore = "helper process for a_signal_before_any_wait_is_taken_at_disarm"]
fn quiet_victim() {
    if std::env::var_os(QUIET_VICTIM).is_none() {
        return;
    }
    use kstrun::signals::SignalSet;
    let watched = SignalSet::of(&kstrun::interrupt::WATCHED);
    watched.unblock().expect("unblock");
    let state = kstrun::hardening::ProcessState::capture();
    let report = kstrun::report::Reporter::new(false, false);
    let watcher = kstrun::interrupt::arm(&state, &SignalSet::empty(), report).expect("arm");
    println!("armed");
    let start = Instant::now();
    loop {
        let mut pending: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: sigpending fills the set it is given.
        unsafe { libc::sigpending(&mut pending) };
        // SAFETY: `pending` was initialised by sigpending.
        if watched
            .iter()
            .any(|s| unsafe { libc::sigismember(&pending, s) } == 1)
        {
            break;
        }
        assert!(start.elapsed() < WAIT, "no signal came");
        std::thread::sleep(Duration::from_millis(5));
    }
    watcher.disarm();
    println!("disarmed");
}

#[test]
fn a_signal_before_any_wait_is_taken_at_disarm() {
    for (signo, status) in SIGNALS {
        let mut victim = re_executed("quiet_victim", QUIET_VICTIM)
            .spawn()
            .expect("victim");
        let lines = Lines::new(victim.stdout.take().expect("stdout"));
        while !lines.expect("armed", WAIT).contains("armed") {}
        send(victim.id(), signo);
        let exit = wait_within(&mut victim, WAIT);
        assert_eq!(exit.code(), Some(status), "signal {signo}");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut victim.stderr.take().expect("stderr"), &mut stderr)
            .expect("stderr");
        assert!(stderr.contains("interrupted by signal"), "{stderr}");
    }
}

/// A `sops` binary that sleeps, interrupted: it is stopped and nothing starts.
#[test]
fn an_interrupted_sops_helper_is_stopped_and_nothing_starts() {
    for (signo, status) in SIGNALS {
        let sandbox = Sandbox::new();
        let fake = sandbox.write(
            "fake-sops",
            format!(
                "#!/bin/sh\necho $$ > '{dir}/sops.pid'\nsleep 30 &\necho $! > '{dir}/sleeper.pid'\nwait\n",
                dir = sandbox.path().display()
            )
            .as_bytes(),
        );
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        sandbox.write("secrets.sops.yml", b"db:\n    password: ENC[AES256_GCM,data:x,iv:x,tag:x,type:str]\nsops:\n    version: 3.11.0\n");
        sandbox.manifest(&format!(
            "[providers]\norder = [\"sops\"]\n[providers.sops]\npath = \"secrets.sops.yml\"\nbinary = \"{}\"\nbackend = \"binary\"\n[secrets]\nDB = \"db.password\"\n",
            fake.display()
        ));
        let mut kstrun = sandbox
            .spawn_command()
            .arg("--")
            .args(sandbox.marker_child())
            .spawn()
            .expect("start");
        let sleeper_file = sandbox.path().join("sleeper.pid");
        let start = Instant::now();
        while !sleeper_file.exists()
            || std::fs::read_to_string(&sleeper_file)
                .unwrap_or_default()
                .trim()
                .is_empty()
        {
            assert!(start.elapsed() < WAIT, "the fake sops never ran");
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid_of = |name: &str| -> u32 {
            std::fs::read_to_string(sandbox.path().join(name))
                .expect("pid file")
                .trim()
                .parse()
                .expect("pid")
        };
        let (sops, sleeper) = (pid_of("sops.pid"), pid_of("sleeper.pid"));
        send(kstrun.id(), signo);
        assert_eq!(wait_within(&mut kstrun, WAIT).code(), Some(status));
        assert!(gone_within(sops, WAIT), "the sops helper survived");
        assert!(gone_within(sleeper, WAIT), "the sleeper survived");
        sandbox.assert_child_not_started();
        assert!(!Path::new(&sandbox.marker()).exists());
    }
}
