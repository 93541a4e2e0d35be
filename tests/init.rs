//! `--init` and `--init-group`, in the style of tini's tests: signals
//! forwarded, zombies reaped, exit statuses and signal deaths passed on.
#![cfg(target_os = "linux")]

mod process_common;

use nix::libc;
use process_common::{at_a_terminal, gone_within, send, wait_within, Lines, Sandbox};
use std::process::Stdio;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// `kstrun <mode> -s X=x.y --set x.y=value -- sh -c script`, spawned with stdout piped.
fn spawn(sandbox: &Sandbox, mode: &str, script: &str) -> (std::process::Child, Lines) {
    let mut child = sandbox
        .spawn_command()
        .args([
            mode,
            "-s",
            "X=x.y",
            "--set",
            "x.y=init-secret",
            "--",
            "sh",
            "-c",
            script,
        ])
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kstrun");
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    (child, lines)
}

#[test]
fn every_catchable_signal_is_forwarded_to_the_child() {
    let rtmin1 = libc::SIGRTMIN() + 1;
    let signals = [
        ("HUP", libc::SIGHUP),
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
        ("PIPE", libc::SIGPIPE),
        ("ALRM", libc::SIGALRM),
        ("WINCH", libc::SIGWINCH),
        ("CONT", libc::SIGCONT),
        ("TSTP", libc::SIGTSTP),
        ("TTIN", libc::SIGTTIN),
        ("TTOU", libc::SIGTTOU),
        ("URG", libc::SIGURG),
        ("RT", rtmin1),
        // Sent by another process, the fault signals are forwarded too.
        ("SEGV", libc::SIGSEGV),
        ("BUS", libc::SIGBUS),
        ("ILL", libc::SIGILL),
        ("FPE", libc::SIGFPE),
        ("TRAP", libc::SIGTRAP),
        ("SYS", libc::SIGSYS),
        ("ABRT", libc::SIGABRT),
    ];
    let mut script = String::new();
    for (name, signo) in &signals {
        script.push_str(&format!("trap 'echo {name}' {signo}; "));
    }
    script.push_str("trap 'echo TERM; exit 0' TERM; echo ready; while :; do sleep 0.02; done");
    let sandbox = Sandbox::new();
    let (mut child, lines) = spawn(&sandbox, "--init", &script);
    assert_eq!(lines.expect("ready", WAIT), "ready");
    for (name, signo) in signals {
        send(child.id(), signo);
        assert_eq!(lines.expect(name, WAIT), name);
    }
    send(child.id(), libc::SIGTERM);
    assert_eq!(lines.expect("TERM", WAIT), "TERM");
    let status = wait_within(&mut child, WAIT);
    assert_eq!(status.code(), Some(0));
}

/// Signals 32 and 33 (glibc's own) sent to the supervisor are held, not
/// fatal: kstrun and the child live on, and the next signal is forwarded.
/// The child starts with them unblocked.
#[test]
fn the_c_librarys_own_signals_do_not_end_the_supervisor() {
    let sandbox = Sandbox::new();
    let (mut child, lines) = spawn(
        &sandbox,
        "--init",
        "echo $$; grep SigBlk /proc/self/status; trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done",
    );
    let shell: u32 = lines.expect("pid", WAIT).parse().expect("a pid");
    assert_eq!(lines.expect("mask", WAIT), "SigBlk:\t0000000000000000");
    assert_eq!(lines.expect("ready", WAIT), "ready");
    send(child.id(), 32);
    send(child.id(), 33);
    std::thread::sleep(Duration::from_millis(300));
    let alive = child.try_wait().expect("try_wait").is_none();
    if !alive {
        // Left running by a supervisor that ended: stopped here, or it
        // would hold the test's output open.
        send(shell, libc::SIGKILL);
    }
    assert!(alive, "kstrun ended");
    send(child.id(), libc::SIGTERM);
    assert_eq!(wait_within(&mut child, WAIT).code(), Some(7));
}

#[test]
fn a_child_trapping_sigterm_ends_within_a_second() {
    let sandbox = Sandbox::new();
    let (mut child, lines) = spawn(
        &sandbox,
        "--init",
        "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done",
    );
    assert_eq!(lines.expect("ready", WAIT), "ready");
    let start = Instant::now();
    send(child.id(), libc::SIGTERM);
    let status = wait_within(&mut child, WAIT);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(status.code(), Some(0));
}

#[test]
fn init_group_reaches_the_childs_own_children() {
    // The shell waits for a foreground `sleep`; only a signal to the whole
    // group reaches that sleep, so only --init-group ends it early.
    let sandbox = Sandbox::new();
    let (mut child, lines) = spawn(
        &sandbox,
        "--init-group",
        "trap 'echo trapped' TERM; echo ready; sleep 30; echo \"sleep ended: $?\"",
    );
    assert_eq!(lines.expect("ready", WAIT), "ready");
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    send(child.id(), libc::SIGTERM);
    let status = wait_within(&mut child, WAIT);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(lines.expect("trap", WAIT), "trapped");
    assert_eq!(lines.expect("sleep status", WAIT), "sleep ended: 143");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn exit_statuses_pass_through() {
    let sandbox = Sandbox::new();
    for code in [0, 1, 2, 42, 125, 126, 127, 128, 200, 255] {
        let output = sandbox
            .kstrun()
            .args(["--init", "-s", "X=x.y", "--set", "x.y=1", "--", "sh", "-c"])
            .arg(format!("exit {code}"))
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(code), "{output:?}");
    }
}

#[test]
fn signal_deaths_become_128_plus_n() {
    let sandbox = Sandbox::new();
    for signo in [
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGKILL,
        libc::SIGUSR1,
        libc::SIGTERM,
        libc::SIGALRM,
    ] {
        let output = sandbox
            .kstrun()
            .args(["--init", "-s", "X=x.y", "--set", "x.y=1", "--", "sh", "-c"])
            .arg(format!("kill -{signo} $$"))
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(128 + signo), "{output:?}");
    }
}

#[test]
fn exec_failures_keep_126_and_127() {
    let sandbox = Sandbox::new();
    let not_found = sandbox
        .kstrun()
        .args([
            "--init",
            "-s",
            "X=x.y",
            "--set",
            "x.y=1",
            "--",
            "no-such-program-here",
        ])
        .output()
        .expect("run");
    assert_eq!(not_found.status.code(), Some(127), "{not_found:?}");
    assert!(String::from_utf8_lossy(&not_found.stderr).contains("command not found"));
    let file = sandbox.write("not-executable", b"data");
    let denied = sandbox
        .kstrun()
        .args(["--init", "-s", "X=x.y", "--set", "x.y=1", "--"])
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(denied.status.code(), Some(126), "{denied:?}");
}

#[test]
fn orphaned_grandchildren_are_adopted_and_reaped() {
    // The subshell exits at once, orphaning its `sleep`; kstrun, a child
    // subreaper, adopts it and must reap it when it ends.
    let script = r#"
        (sleep 0.3 & echo $! > grandchild)
        sleep 0.1
        gc=$(cat grandchild)
        echo "parent=$(awk '/^PPid:/ {print $2}' /proc/$gc/status) kstrun=$PPID"
        sleep 0.6
        if [ -e /proc/$gc ]; then echo "left: $(awk '/^State:/ {print $2}' /proc/$gc/status)"; else echo reaped; fi
        zombies=0
        for s in /proc/[0-9]*/status; do
            awk -v k="$PPID" '/^State:/ {z = ($2 == "Z")} /^PPid:/ {p = $2} END {exit !(z && p == k)}' "$s" 2>/dev/null && zombies=$((zombies + 1))
        done
        echo "zombies=$zombies"
    "#;
    let sandbox = Sandbox::new();
    let output = sandbox
        .kstrun()
        .args([
            "--init", "-s", "X=x.y", "--set", "x.y=1", "--", "sh", "-c", script,
        ])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let mut lines = stdout.lines();
    let adopted = lines.next().unwrap_or_default();
    let (parent, kstrun) = adopted.split_once(' ').unwrap_or_default();
    assert_eq!(
        parent.strip_prefix("parent="),
        kstrun.strip_prefix("kstrun="),
        "{stdout}"
    );
    assert_eq!(lines.next(), Some("reaped"), "{stdout}");
    assert_eq!(lines.next(), Some("zombies=0"), "{stdout}");
}

#[test]
fn the_waiting_supervisor_holds_no_memfd_and_no_secret_descriptor() {
    let sandbox = Sandbox::new();
    sandbox.manifest("[secrets]\nCERT = { path = \"c.pem\", as = \"file\" }\n");
    let mut child = sandbox
        .spawn_command()
        .args(["--init", "--set", "c.pem=certificate", "--", "sh", "-c"])
        .arg("test -r \"$CERT\" && echo ready; sleep 30")
        .spawn()
        .expect("start");
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    assert_eq!(lines.expect("ready", WAIT), "ready");
    // The supervisor closes its copies right after the fork, but the child
    // may be ready before the supervisor is next scheduled (a loaded
    // machine): wait for the closing, within the usual deadline.
    let descriptors = || -> Vec<String> {
        std::fs::read_dir(format!("/proc/{}/fd", child.id()))
            .expect("kstrun's descriptors (the test runs as the same user)")
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .map(|target| target.to_string_lossy().into_owned())
            .collect()
    };
    let deadline = Instant::now() + WAIT;
    let mut fds = descriptors();
    while fds.iter().any(|t| t.contains("memfd")) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        fds = descriptors();
    }
    assert!(fds.iter().all(|t| !t.contains("memfd")), "{fds:?}");
    send(child.id(), libc::SIGKILL);
    let _ = child.wait();
}

#[test]
fn sigkill_of_the_supervisor_does_not_orphan_a_running_secret() {
    // Not a feature of kstrun, a property of memfds: the child keeps its copy,
    // and once it ends no process holds the memfd.
    let sandbox = Sandbox::new();
    let var = format!("ORPHAN_{}", process_common::unique());
    sandbox.manifest(&format!(
        "[secrets]\n{var} = {{ path = \"o.key\", as = \"file\" }}\n"
    ));
    let mut child = sandbox
        .spawn_command()
        .args(["--init", "--set", "o.key=orphan-value", "--", "sh", "-c"])
        .arg("echo $$; exec sleep 30")
        .spawn()
        .expect("start");
    let lines = Lines::new(child.stdout.take().expect("stdout"));
    let grandchild: u32 = lines.expect("pid", WAIT).parse().expect("pid");
    send(child.id(), libc::SIGKILL);
    let _ = child.wait();
    send(grandchild, libc::SIGKILL);
    assert!(gone_within(grandchild, WAIT));
    let left = process_common::memfds_named(&var);
    assert!(left.is_empty(), "{left:?}");
}

/// At a terminal, `--init` treats its child as a shell treats a job: Ctrl-Z
/// stops both and gives the shell its terminal back, `fg` and `bg` continue
/// them, and a `kstrun --init ... &` never takes the terminal from the shell.
/// The shell must still read commands after each case.
#[test]
fn at_a_terminal_the_child_is_a_well_behaved_job() {
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let run = |seconds: &str| format!("{kstrun} -s X=x.y --set x.y=v --init -- sleep {seconds}");
    let Some(stopped) = at_a_terminal(&[
        "sleep:0.5",
        &format!("{}\n", run("2")),
        "sleep:0.8",
        "\x1a",
        "sleep:0.5",
        "jobs\n",
        "sleep:0.3",
        "fg\n",
        "sleep:2.5",
        "echo after-fg-$?\n",
        "sleep:0.3",
    ]) else {
        return;
    };
    assert!(stopped.contains("Stopped"), "{stopped}");
    assert!(stopped.contains("after-fg-0"), "{stopped}");
    let Some(background) = at_a_terminal(&[
        "sleep:0.5",
        &format!("{} &\n", run("1")),
        "sleep:0.5",
        "echo still-here\n",
        "sleep:1",
        "\x1a",
        &format!("{}\n", run("1")),
        "sleep:0.5",
        "\x1a",
        "sleep:0.3",
        "bg\n",
        "sleep:1.5",
        "echo shell-reads-$((6*7))\n",
        "sleep:0.3",
    ]) else {
        return;
    };
    assert!(background.contains("still-here"), "{background}");
    assert!(background.contains("shell-reads-42"), "{background}");
    assert!(
        !background.contains("\nexit"),
        "the shell lost its terminal: {background}"
    );
}

/// A job started in the background (`&`) that reads the terminal stops, as
/// it would in exec mode, and `fg` gives the terminal to the child: what is
/// typed then reaches it.
#[test]
fn a_background_start_brought_to_the_foreground_gets_the_terminal() {
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let Some(shown) = at_a_terminal(&[
        "sleep:0.5",
        &format!("{kstrun} -s X=x.y --set x.y=v --init -- cat &\n"),
        "sleep:1",
        "\n",
        "sleep:0.3",
        "fg\n",
        "sleep:0.5",
        "typed-for-cat\n",
        "sleep:0.5",
        "\x04",
        "sleep:0.5",
        "echo after-fg-$?\n",
        "sleep:0.3",
    ]) else {
        return;
    };
    assert!(shown.contains("Stopped"), "{shown}");
    // Once echoed by the terminal, once written by cat.
    assert_eq!(shown.matches("typed-for-cat").count(), 2, "{shown}");
    assert!(shown.contains("after-fg-0"), "{shown}");
}

/// Job control after the start: a job stopped, put in the background and
/// brought back gets the terminal again (Ctrl-Z works a second time); a
/// child that stops itself while it holds the terminal (`suspend`) gives the
/// shell its prompt back; `kill -TSTP %1` stops a background job as a whole.
#[test]
fn job_control_after_the_start_behaves_as_in_exec_mode() {
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let init = format!("{kstrun} -s X=x.y --set x.y=v --init --");
    let Some(shown) = at_a_terminal(&[
        "sleep:0.5",
        &format!("{init} sleep 3\n"),
        "sleep:0.5",
        "\x1a",
        "sleep:0.3",
        "bg\n",
        "sleep:0.3",
        "fg\n",
        "sleep:0.3",
        "\x1a",
        "sleep:0.3",
        "echo alive-$((6*7))\n",
        "sleep:0.3",
        "fg\n",
        "sleep:3",
        "echo done-$?\n",
        "sleep:0.3",
    ]) else {
        return;
    };
    assert!(shown.contains("alive-42"), "{shown}");
    assert!(shown.contains("done-0"), "{shown}");

    let Some(shown) = at_a_terminal(&[
        "sleep:0.5",
        &format!("{init} bash --norc --noprofile -i\n"),
        "sleep:0.8",
        "suspend\n",
        "sleep:0.5",
        "echo outer-$((6*7))\n",
        "sleep:0.3",
        "fg\n",
        "sleep:0.5",
        "exit 7\n",
        "sleep:0.5",
        "echo status-$?\n",
        "sleep:0.3",
    ]) else {
        return;
    };
    assert!(shown.contains("outer-42"), "{shown}");
    assert!(shown.contains("status-7"), "{shown}");

    let Some(shown) = at_a_terminal(&[
        "sleep:0.5",
        &format!("{init} sleep 1 &\n"),
        "sleep:0.3",
        "kill -TSTP %1\n",
        "sleep:0.3",
        "jobs\n",
        "sleep:0.3",
        "fg\n",
        "sleep:1.5",
        "echo finished-$?\n",
        "sleep:0.3",
    ]) else {
        return;
    };
    assert!(shown.contains("Stopped"), "{shown}");
    assert!(shown.contains("finished-0"), "{shown}");
}

/// A job brought to the foreground while running (`&`, then `fg`: the shell
/// sends no SIGCONT) gets Ctrl-C as in exec mode: the terminal's SIGINT
/// reaches kstrun, which hands the terminal and the signal to the child's
/// whole group, so a bash script, which waits to see whether its foreground
/// command died of the signal, dies of it too, with 130.
#[test]
fn a_running_job_brought_back_gets_ctrl_c() {
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let init = format!("{kstrun} -s X=x.y --set x.y=v --init --");
    let Some(shown) = at_a_terminal(&[
        "sleep:0.5",
        &format!("{init} bash -c 'while :; do sleep 0.2; done' &\n"),
        "sleep:0.5",
        "fg\n",
        "sleep:0.5",
        "\x03",
        "sleep:0.5",
        "echo rc-$?\n",
        "sleep:0.3",
    ]) else {
        return;
    };
    assert!(shown.contains("rc-130"), "{shown}");
}

/// A `kill -TSTP` sent to kstrun from outside, under a parent that does no
/// job control (a Python program started from a shell), gives the terminal
/// back to the parent's group (the child, which held it, stops with kstrun)
/// instead of leaving it to a stopped group.
#[test]
fn an_outside_stop_of_kstrun_gives_the_terminal_back() {
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("parent.py");
    std::fs::write(
        &script,
        r#"
import os, signal, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "-s", "X=x.y", "--set", "x.y=v", "--init", "--", "sleep", "2"])
time.sleep(0.5)
os.kill(p.pid, signal.SIGTSTP)
time.sleep(0.5)
back = os.tcgetpgrp(0) == os.getpgrp()
os.kill(p.pid, signal.SIGCONT)
print("terminal-back-%s" % back)
print("kstrun-exited-%d" % p.wait(timeout=5))
"#,
    )
    .unwrap();
    let Some(shown) = at_a_terminal(&[
        "sleep:0.5",
        &format!("python3 {} {kstrun}\n", script.display()),
        "sleep:3.5",
    ]) else {
        return;
    };
    assert!(shown.contains("terminal-back-True"), "{shown}");
    assert!(shown.contains("kstrun-exited-0"), "{shown}");
}

/// In a PID namespace whose process group lies outside it (`unshare --pid
/// --fork`), group ids read as 0: the child stays in the caller's job, as in
/// exec mode, so it reads the terminal in the foreground, gets one Ctrl-C,
/// and a job started with `&` takes nothing from the shell. Needs the right
/// to make a PID namespace (root, here); without it there is nothing to test.
#[test]
fn in_a_pid_namespace_the_child_stays_in_the_callers_job() {
    let permitted = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !permitted {
        eprintln!("skipped: no right to make a PID namespace here");
        return;
    }
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let init = format!("unshare --pid --fork --mount-proc {kstrun} -s X=x.y --set x.y=v --init --");
    let Some(shown) = at_a_terminal(&[
        "sleep:0.5",
        &format!("{init} cat\n"),
        "sleep:0.8",
        "typed-for-cat\n",
        "sleep:0.5",
        "\x04",
        "sleep:0.5",
        &format!("{init} sh -c 'trap \"echo got-int\" INT; sleep 2'\n"),
        "sleep:0.8",
        "\x03",
        "sleep:2",
        &format!("{init} sleep 1 &\n"),
        "sleep:0.5",
        "echo shell-reads-$((6*7))\n",
        "sleep:1",
    ]) else {
        return;
    };
    assert_eq!(shown.matches("typed-for-cat").count(), 2, "{shown}");
    let got_int = shown
        .lines()
        .filter(|l| l.trim_end().ends_with("got-int"))
        .count();
    assert_eq!(got_int, 1, "one Ctrl-C, delivered once: {shown}");
    assert!(shown.contains("shell-reads-42"), "{shown}");
}

/// A child reading the terminal from the background of an orphaned process
/// group (`( kstrun --init -- cat </dev/tty & )`): no shell can bring the job
/// back, and kstrun cannot stop; it leaves the child stopped instead of
/// continuing it into the same stop again and again, at full CPU.
#[test]
fn a_background_reader_in_an_orphaned_group_does_not_spin() {
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let marker = format!("orphan-reader-{}", std::process::id());
    let Some(shown) = at_a_terminal(&[
        "sleep:0.5",
        &format!("( exec -a {marker} {kstrun} -s X=x.y --set x.y=v --init -- cat </dev/tty & )\n"),
        "sleep:0.8",
        &format!("p=$(pgrep -f ^{marker}); a=$(cut -d' ' -f14,15 /proc/$p/stat)\n"),
        "sleep:0.2",
        "sleep 1; b=$(cut -d' ' -f14,15 /proc/$p/stat); echo \"ticks $a / $b\"; kill -KILL $p\n",
        "sleep:1.8",
    ]) else {
        return;
    };
    // The printed line, not the typed one (which holds "echo").
    let line = shown
        .lines()
        .filter(|line| !line.contains("echo"))
        .find_map(|line| line.split_once("ticks ").map(|(_, counts)| counts))
        .unwrap_or_else(|| panic!("no tick count: {shown}"));
    let ticks: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(ticks.len(), 4, "{line}");
    let used = (ticks[2] + ticks[3]).saturating_sub(ticks[0] + ticks[1]);
    assert!(
        used < 20,
        "kstrun used {used} ticks of CPU in a second: {shown}"
    );
}

/// A stop that is not job control (`kill -STOP`, then `kill -CONT`, sent to
/// the child by someone) is the child's alone: kstrun, started with a
/// controlling terminal by a parent that does no job control, goes on and
/// reports the child's end instead of stopping itself for good.
#[test]
fn a_stop_sent_to_the_child_does_not_stop_kstrun() {
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("child.pid");
    const DRIVER: &str = r#"
import os, pty, signal, subprocess, sys, time
kstrun, pidfile = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    p = subprocess.Popen(
        [kstrun, "-s", "X=x.y", "--set", "x.y=v", "--init", "--", "sh", "-c",
         "echo $$ > " + pidfile + "; sleep 1; echo child-done"],
        preexec_fn=os.setpgrp)
    time.sleep(0.5)
    child = int(open(pidfile).read())
    os.kill(child, signal.SIGSTOP)
    time.sleep(0.3)
    os.kill(child, signal.SIGCONT)
    try:
        print("kstrun-exited-%d" % p.wait(timeout=5))
    except subprocess.TimeoutExpired:
        print("kstrun-hung")
        os.killpg(p.pid, signal.SIGKILL)
    sys.stdout.flush()
    os._exit(0)
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
"#;
    let Ok(output) = std::process::Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(kstrun)
        .arg(&pidfile)
        .output()
    else {
        return;
    };
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("child-done"), "{shown}");
    assert!(shown.contains("kstrun-exited-0"), "{shown}");
}

/// The terminal's foreground goes back to the shell's group when the child
/// ends, and the child gets it from the controlling terminal even when stdin
/// is a pipe: a script that reads the terminal after `kstrun --init`, and a
/// program reading /dev/tty, both work.
#[test]
fn the_terminal_is_given_to_the_child_and_back() {
    let kstrun = env!("CARGO_BIN_EXE_kstrun");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("session.sh");
    std::fs::write(
        &script,
        format!(
            "{kstrun} -s X=x.y --set x.y=v --init -- true; read x; echo read-$x\n\
             echo hi | {kstrun} -s X=x.y --set x.y=v --init -- sh -c 'read y </dev/tty; echo got-$y'\n"
        ),
    )
    .unwrap();
    let Ok(mut session) = std::process::Command::new("script")
        .args(["-qec", &format!("sh {}", script.display()), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    else {
        return;
    };
    use std::io::Write;
    let mut stdin = session.stdin.take().unwrap();
    stdin.write_all(b"first\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    stdin.write_all(b"second\n").unwrap();
    drop(stdin);
    // A terminal left to a dead group makes the session hang: bounded.
    let started = Instant::now();
    while session.try_wait().unwrap().is_none() {
        if started.elapsed() > WAIT {
            let _ = session.kill();
            panic!("the session hung: the terminal was not given back");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = session.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("read-first"), "{text}");
    assert!(text.contains("got-second"), "{text}");
}
