//! What the child inherits from kstrun's process: signal state, core limit,
//! descriptors, and file secrets in sealed memfds (SPEC §4.3, §4.4).
#![cfg(target_os = "linux")]

mod process_common;

use nix::libc;
use process_common::{memfds_named, unique, Sandbox};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Output;

/// The `SigBlk` and `SigIgn` masks the child reports in /proc/self/status.
fn signal_masks(output: &Output) -> (u64, u64) {
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    (field("SigBlk:"), field("SigIgn:"))
}

fn bit(signo: i32) -> u64 {
    1 << (signo - 1)
}

/// kstrun (with `--init` or not) running `cat FILE`, with one secret set.
fn cat_through_kstrun(sandbox: &Sandbox, init: bool, file: &str) -> std::process::Command {
    let mut command = sandbox.spawn_command();
    if init {
        command.arg("--init");
    }
    command.args(["-s", "X=x.y", "--set", "x.y=1", "--", "cat", file]);
    command
}

/// The child's /proc/self/status when started through kstrun (`init` or
/// not) by a parent that ran `setup`, and a control: the same program started
/// directly after the same `setup`. Whatever the test runner itself ignores
/// or blocks is in both.
fn status_through_kstrun_and_directly(
    sandbox: &Sandbox,
    init: bool,
    setup: fn() -> std::io::Result<()>,
) -> (Output, Output) {
    let mut command = cat_through_kstrun(sandbox, init, "/proc/self/status");
    let mut control = std::process::Command::new("cat");
    control.arg("/proc/self/status");
    // SAFETY: the set-up closures only make async-signal-safe system calls.
    unsafe {
        command.pre_exec(setup);
        control.pre_exec(setup);
    }
    let output = command.output().expect("run kstrun");
    assert!(output.status.success(), "{output:?}");
    (output, control.output().expect("run cat"))
}

/// Asserts the child's masks equal the control's and returns them.
fn same_masks(sandbox: &Sandbox, init: bool, setup: fn() -> std::io::Result<()>) -> (u64, u64) {
    let (output, control) = status_through_kstrun_and_directly(sandbox, init, setup);
    let expected = signal_masks(&control);
    assert_eq!(
        signal_masks(&output),
        expected,
        "(SigBlk, SigIgn) through kstrun (init: {init}) differ from a direct start"
    );
    expected
}

fn ignore_pipe_block_usr1() -> std::io::Result<()> {
    // SAFETY: plain system calls on this process's own signal state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    Ok(())
}

fn nothing() -> std::io::Result<()> {
    Ok(())
}

fn ignore_hup() -> std::io::Result<()> {
    // SAFETY: a plain system call on this process's own signal state.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
    Ok(())
}

#[test]
fn ignored_sigpipe_stays_ignored_and_blocked_signal_stays_blocked() {
    let sandbox = Sandbox::new();
    for init in [false, true] {
        let (blocked, ignored) = same_masks(&sandbox, init, ignore_pipe_block_usr1);
        assert_ne!(blocked & bit(libc::SIGUSR1), 0);
        assert_ne!(ignored & bit(libc::SIGPIPE), 0);
    }
}

#[test]
fn default_state_reaches_the_child_unchanged() {
    // Rust ignores SIGPIPE in kstrun itself and kstrun blocks the signals it
    // watches: neither may leak into the child.
    let sandbox = Sandbox::new();
    for init in [false, true] {
        let (blocked, ignored) = same_masks(&sandbox, init, nothing);
        let watched = bit(libc::SIGINT) | bit(libc::SIGTERM) | bit(libc::SIGHUP);
        assert_eq!(blocked & watched, 0);
        assert_eq!(ignored & bit(libc::SIGPIPE), 0);
    }
}

#[test]
fn nohup_stays_in_force() {
    let sandbox = Sandbox::new();
    for init in [false, true] {
        let (_, ignored) = same_masks(&sandbox, init, ignore_hup);
        assert_ne!(ignored & bit(libc::SIGHUP), 0);
    }
}

fn soft_core_limit_of_child(init: bool) -> String {
    let sandbox = Sandbox::new();
    let mut command = cat_through_kstrun(&sandbox, init, "/proc/self/limits");
    // SAFETY: setrlimit is a plain system call.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 4096 * 1024,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
            Ok(())
        });
    }
    let output = command.output().expect("run kstrun");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with("Max core file size"))
        .and_then(|l| l.split_whitespace().nth(4))
        .unwrap_or_else(|| panic!("no core limit in {text}"))
        .to_string()
}

#[test]
fn child_gets_the_original_core_limit_back() {
    assert_eq!(soft_core_limit_of_child(false), "4194304");
    assert_eq!(soft_core_limit_of_child(true), "4194304");
}

/// Runs `script` as the child with one file secret and one env secret, with a
/// file on descriptor 3 the way systemd passes a socket, and every other
/// descriptor of the test process closed. Returns the child's output.
fn child_with_fd3(sandbox: &Sandbox, init: bool, script: &str) -> Output {
    sandbox.manifest(
        "pass = [\"PATH\", \"LISTEN_*\"]\n[secrets]\nTOKEN = \"app.token\"\nCERT = { path = \"app.cert\", as = \"file\" }\n",
    );
    let passed = sandbox.write("passed-on-purpose", b"from fd 3\n");
    let passed = std::fs::File::open(passed).expect("open");
    let passed_fd = passed.as_raw_fd();
    // LISTEN_PID must name the process that will run the child: kstrun execs,
    // so its PID is the child's. The wrapper shell sets it and execs kstrun.
    let mut command = std::process::Command::new("sh");
    command
        .current_dir(sandbox.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sandbox.path())
        .env("LISTEN_FDS", "1")
        .stdin(std::process::Stdio::null())
        .args(["-c", "export LISTEN_PID=$$; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_kstrun"));
    if init {
        command.arg("--init");
    }
    command.args([
        "--set",
        "app.token=tok",
        "--set",
        "app.cert=cert-bytes",
        "--",
        "sh",
        "-c",
        script,
    ]);
    // SAFETY: dup2, fcntl and close are async-signal-safe system calls.
    unsafe {
        command.pre_exec(move || {
            // dup2 onto itself would keep close-on-exec: clear it explicitly.
            if libc::dup2(passed_fd, 3) < 0 || libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            for fd in 4..1024 {
                libc::close(fd);
            }
            Ok(())
        });
    }
    let output = command.output().expect("run");
    drop(passed);
    output
}

/// `ls -l /proc/self/fd` output → descriptor → target.
fn descriptors(text: &str) -> BTreeMap<u32, String> {
    text.lines()
        .filter_map(|line| {
            let (left, target) = line.split_once(" -> ")?;
            let fd = left.split_whitespace().last()?.parse().ok()?;
            Some((fd, target.to_string()))
        })
        .collect()
}

#[test]
fn only_stdio_memfds_and_passed_descriptors_reach_the_child() {
    for init in [false, true] {
        let sandbox = Sandbox::new();
        let output = child_with_fd3(
            &sandbox,
            init,
            "echo \"pid=$LISTEN_PID self=$$ fds=$LISTEN_FDS\"; cat <&3; exec ls -l /proc/self/fd",
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{output:?}");
        if !init {
            let pid_line = stdout.lines().next().unwrap_or_default();
            let fields: Vec<&str> = pid_line.split_whitespace().collect();
            assert_eq!(
                fields.first().map(|f| &f[4..]),
                fields.get(1).map(|f| &f[5..]),
                "LISTEN_PID must be the child's PID: {pid_line}"
            );
            assert!(pid_line.ends_with("fds=1"), "{pid_line}");
        }
        assert!(stdout.contains("from fd 3"), "{stdout}");
        let fds = descriptors(&stdout);
        let mut memfds = 0;
        for (fd, target) in &fds {
            match fd {
                0..=2 => {}
                3 => assert!(target.ends_with("passed-on-purpose"), "fd 3 -> {target}"),
                _ if target.starts_with("/memfd:kstrun:CERT") => memfds += 1,
                // ls's own handle on the directory it lists.
                _ if target.starts_with("/proc/") && target.ends_with("/fd") => {}
                _ => panic!(
                    "descriptor {fd} -> {target} leaked into the child (init: {init})\n{stdout}"
                ),
            }
        }
        assert_eq!(memfds, 1, "{stdout}");
    }
}

/// Runs the child `script` with `VAR` delivered as a file holding `value`
/// (through `--set`), in `sandbox`.
fn file_secret_via_set(sandbox: &Sandbox, var: &str, value: &[u8], script: &str) -> Output {
    sandbox.manifest(&format!(
        "pass = [\"PATH\"]\n[secrets]\n{var} = {{ path = \"file.secret\", as = \"file\" }}\n"
    ));
    let mut set = b"file.secret=".to_vec();
    set.extend_from_slice(value);
    sandbox
        .kstrun()
        .arg("--set")
        .arg(OsString::from_vec(set))
        .args(["--", "sh", "-c", script])
        .output()
        .expect("run")
}

#[test]
fn file_secret_binary_bytes_arrive_exactly() {
    let sandbox = Sandbox::new();
    // Every byte but NUL (argv cannot hold one), so not UTF-8.
    let value: Vec<u8> = (1..=255u8).cycle().take(4000).collect();
    let out = sandbox.path().join("copy");
    let output = file_secret_via_set(
        &sandbox,
        "BLOB",
        &value,
        &format!("cat \"$BLOB\" > '{}'", out.display()),
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(std::fs::read(&out).expect("copy"), value);
}

#[test]
fn file_secret_reads_whole_from_the_inherited_descriptor_too() {
    let sandbox = Sandbox::new();
    let out = sandbox.path().join("copy");
    // `$KEY` is /dev/fd/N: read descriptor N itself, not a fresh open of it.
    let output = file_secret_via_set(
        &sandbox,
        "KEY",
        b"line one\nline two\n",
        &format!("n=${{KEY##*/}}; eval \"cat <&$n\" > '{}'", out.display()),
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(std::fs::read(&out).expect("copy"), b"line one\nline two\n");
}

#[test]
fn file_secret_with_nul_bytes_and_one_mebibyte_arrives_exactly() {
    // A manifest default may hold any Unicode, NUL included, and be large.
    let sandbox = Sandbox::new();
    let unit = "\u{0}key\u{1}\u{1f}é€😀\n";
    let mut value = String::new();
    while value.len() < 1024 * 1024 {
        value.push_str(unit);
    }
    let value = &value[..value.floor_char_boundary_compat(1024 * 1024)];
    let escaped: String = value
        .chars()
        .map(|c| match c {
            c if (c as u32) < 0x20 => format!("\\u{:04X}", c as u32),
            c => c.to_string(),
        })
        .collect();
    sandbox.manifest(&format!(
        "pass = [\"PATH\"]\n[providers]\norder = []\n[secrets]\nBIG = {{ path = \"big.file\", as = \"file\", default = \"{escaped}\" }}\n"
    ));
    let out = sandbox.path().join("copy");
    let output = sandbox
        .kstrun()
        .args([
            "--",
            "sh",
            "-c",
            &format!("cat \"$BIG\" > '{}'", out.display()),
        ])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let copy = std::fs::read(&out).expect("copy");
    assert!(copy.len() > 1024 * 1024 - 8, "{}", copy.len());
    assert!(copy == value.as_bytes(), "the bytes differ");
}

/// `str::floor_char_boundary` is not stable at the crate's MSRV.
trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, index: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut index: usize) -> usize {
        while !self.is_char_boundary(index) {
            index -= 1;
        }
        index
    }
}

#[test]
fn file_secret_is_read_only_sealed_and_on_no_filesystem() {
    let sandbox = Sandbox::new();
    let script = r#"
        echo "stat=$(stat -L -c '%h %a %s' "$KEY")"
        printf x >> "$KEY" 2>/dev/null && echo appended
        printf x > "$KEY" 2>/dev/null && echo truncated
        chmod 600 "$KEY" 2>/dev/null; printf x >> "$KEY" 2>/dev/null && echo appended-after-chmod
        echo "content=$(cat "$KEY")"
        echo "link=$(readlink "$KEY")"
    "#;
    let output = file_secret_via_set(&sandbox, "KEY", b"s3cr3t-file-value", script);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        !stdout.contains("appended") && !stdout.contains("truncated"),
        "{stdout}"
    );
    assert!(stdout.contains("content=s3cr3t-file-value"), "{stdout}");
    // An anonymous memory file: no path on any filesystem, no link to it.
    assert!(
        stdout.contains("link=/memfd:kstrun:KEY (deleted)"),
        "{stdout}"
    );
    assert!(stdout.contains("stat=0 444 17"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
    for dir in [sandbox.path(), std::path::Path::new("/dev/shm")] {
        for entry in std::fs::read_dir(dir).expect("list").flatten() {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                assert!(
                    !bytes.windows(6).any(|w| w == b"s3cr3t"),
                    "secret found in {}",
                    entry.path().display()
                );
            }
        }
    }
}

/// A child that drops privileges before it reads (`kstrun -- gosu app
/// ./server`, the usual container entrypoint) still opens its file secret by
/// path. Changing user takes root: as another user the test has nothing to do.
#[test]
fn file_secret_opens_by_path_after_the_child_drops_privileges() {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: changing user takes root");
        return;
    }
    let sandbox = Sandbox::new();
    let output = file_secret_via_set(
        &sandbox,
        "KEY",
        b"s3cr3t-for-nobody",
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'id -u; cat \"$KEY\"'",
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(output.stdout, b"65534\ns3cr3t-for-nobody", "{output:?}");
}

#[test]
fn nothing_remains_when_the_child_is_killed() {
    let sandbox = Sandbox::new();
    let var = format!("KILLED_{}", unique());
    let output = file_secret_via_set(
        &sandbox,
        &var,
        b"value-of-a-killed-child",
        &format!("test -r \"${var}\" && kill -KILL $$"),
    );
    assert_eq!(output.status.signal(), Some(libc::SIGKILL), "{output:?}");
    let left = memfds_named(&var);
    assert!(left.is_empty(), "memfds left behind: {left:?}");
}
