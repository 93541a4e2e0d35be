//! `kstrun shred`: each method destroys the content and removes the name;
//! every refusal leaves every file as it was; the prompt guards a terminal.
//!
//! Pass counts and the bytes written are observed with strace: `-y` names
//! the file behind each descriptor, and `inject=...:retval=0` turns the final
//! truncate, renames and unlink into no-ops, so the inode stays readable and
//! the test can see what the last pass left in it.

mod common;

use assert_cmd::Command;
use common::tool_available;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const SECRET: &str = "postgres://admin:hunter2@db/prod\n";

fn kstrun(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("kstrun").expect("kstrun binary");
    command.current_dir(dir).env_remove("KSTRUN_MANIFEST");
    command
}

fn plaintext(dir: &Path, name: &str) -> PathBuf {
    let file = dir.join(name);
    fs::write(&file, SECRET).expect("write plaintext");
    file
}

/// Whether strace can run here (under `scripts/test` its absence fails the test).
fn have_strace() -> bool {
    tool_available("strace", &["-qq", "-o", "/dev/null", "true"])
}

/// Runs kstrun under strace in `dir`; returns (exit status, strace log).
fn traced(dir: &Path, inject_keep: bool, args: &[&str]) -> (i32, String) {
    let log = dir.join("strace.log");
    let mut command = std::process::Command::new("strace");
    command
        .args(["-f", "-qq", "-y", "-s", "256", "-o"])
        .arg(&log);
    command.args([
        "-e",
        "trace=execve,write,pwrite64,fsync,fdatasync,ftruncate,unlink,unlinkat,rename,renameat,renameat2",
    ]);
    if inject_keep {
        command.args([
            "-e",
            "inject=/^(ftruncate|unlink|unlinkat|rename|renameat|renameat2)$:retval=0",
        ]);
    }
    let status = command
        .arg(env!("CARGO_BIN_EXE_kstrun"))
        .args(args)
        .current_dir(dir)
        .env_remove("KSTRUN_MANIFEST")
        .stdin(Stdio::null())
        .status()
        .expect("run strace");
    let text = fs::read_to_string(&log).expect("strace log");
    (status.code().unwrap_or(-1), text)
}

/// Lines of the log for `call` on the descriptor of `file`.
fn calls_on(log: &str, call: &str, file: &Path) -> usize {
    let needle = format!("{call}(");
    let target = format!("<{}>", file.display());
    log.lines()
        .filter(|l| l.contains(&needle) && l.contains(&target))
        .count()
}

fn canonical_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn real(dir: &tempfile::TempDir) -> PathBuf {
    fs::canonicalize(dir.path()).expect("canonical temp dir")
}

#[test]
fn overwrite_removes_the_file() {
    let dir = canonical_dir();
    let file = plaintext(dir.path(), "plain.env");
    kstrun(dir.path())
        .args(["shred", "--force", "--method", "overwrite", "plain.env"])
        .assert()
        .code(0)
        .stdout("");
    assert!(!file.exists());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn overwrite_makes_each_pass_with_an_fsync_then_truncates() {
    if !have_strace() {
        return;
    }
    let dir = canonical_dir();
    let root = real(&dir);
    let file = plaintext(&root, "plain.env");
    let (status, log) = traced(
        &root,
        false,
        &[
            "shred",
            "-f",
            "--method",
            "overwrite",
            "--passes",
            "2",
            "plain.env",
        ],
    );
    assert_eq!(status, 0, "{log}");
    // 2 random passes + 1 zero pass, each one write (the file fits one chunk)
    // and one fsync; then one more fsync after the truncate.
    assert_eq!(calls_on(&log, "pwrite64", &file), 3, "{log}");
    assert_eq!(calls_on(&log, "fsync", &file), 4, "{log}");
    assert_eq!(calls_on(&log, "ftruncate", &file), 1, "{log}");
    assert_eq!(calls_on(&log, "fsync", &root), 1, "folder synced: {log}");
    assert!(!log.contains("hunter2"), "the plaintext is never written");
    assert!(!file.exists());
}

#[test]
fn overwrite_leaves_zeros_then_random_data() {
    if !have_strace() {
        return;
    }
    for (flag, zeros) in [("--zero-last-pass", true), ("--no-zero-last-pass", false)] {
        let dir = canonical_dir();
        let root = real(&dir);
        let file = plaintext(&root, "plain.env");
        let (status, log) = traced(
            &root,
            true,
            &["shred", "-f", "--method", "overwrite", flag, "plain.env"],
        );
        assert_eq!(status, 0, "{log}");
        // The truncate and unlink were skipped: what is left is the last pass.
        let left = fs::read(&file).expect("inode kept by the injected no-op unlink");
        assert!(
            left.len() >= SECRET.len() && left.len().is_multiple_of(512),
            "{}",
            left.len()
        );
        assert!(!left.windows(7).any(|w| w == b"hunter2"));
        if zeros {
            assert!(left.iter().all(|&b| b == 0), "last pass writes zeros");
        } else {
            assert!(left.iter().any(|&b| b != 0), "last pass is random");
            assert_eq!(
                calls_on(&log, "fsync", &file),
                4,
                "3 passes + truncate: {log}"
            );
        }
    }
}

#[test]
fn command_runs_gnu_shred_without_a_shell() {
    if !have_strace() {
        return;
    }
    let dir = canonical_dir();
    let root = real(&dir);
    let file = plaintext(&root, "plain.env");
    let (status, log) = traced(
        &root,
        true,
        &[
            "shred",
            "-f",
            "--method",
            "command",
            "--passes",
            "2",
            "plain.env",
        ],
    );
    assert_eq!(status, 0, "{log}");
    let exec = log
        .lines()
        .find(|l| l.contains("execve(") && l.contains("shred\", [\""))
        .unwrap_or_else(|| panic!("no shred exec: {log}"));
    // The checked descriptor, never the name (which could have become a
    // link meanwhile); kstrun removes the name itself.
    assert!(
        exec.contains(r#""-n", "2", "-z", "--", "/dev/fd/"#) && !exec.contains("plain.env"),
        "{exec}"
    );
    assert!(!log.contains("execve(\"/bin/sh"), "no shell: {log}");
    let left = fs::read(&file).expect("inode kept by the injected no-op unlink");
    assert!(
        !left.is_empty() && left.iter().all(|&b| b == 0),
        "zeros last"
    );
    let passes = log
        .lines()
        .filter(|l| l.contains("fdatasync(") || l.contains("fsync("))
        .filter(|l| l.contains(&format!("<{}>", file.display())))
        .count();
    assert!(
        passes >= 3,
        "at least 2 random + 1 zero pass, synced: {log}"
    );
}

#[test]
fn command_removes_the_file() {
    let dir = canonical_dir();
    let file = plaintext(dir.path(), "plain.env");
    kstrun(dir.path())
        .args([
            "shred",
            "--force",
            "--method",
            "command",
            "--no-zero-last-pass",
        ])
        .arg(&file)
        .assert()
        .code(0);
    assert!(!file.exists());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn auto_uses_shred_when_on_path_and_overwrites_otherwise() {
    if !have_strace() {
        return;
    }
    let dir = canonical_dir();
    let root = real(&dir);
    plaintext(&root, "a");
    let (status, log) = traced(&root, false, &["shred", "-f", "a"]);
    assert_eq!(status, 0);
    assert!(log.contains("shred\", [\""), "auto picked shred: {log}");

    let empty = canonical_dir();
    let file = plaintext(&root, "b");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_kstrun"))
        .args(["shred", "-f", "b"])
        .current_dir(&root)
        .env("PATH", empty.path())
        .status()
        .expect("run kstrun");
    assert_eq!(status.code(), Some(0));
    assert!(!file.exists());
}

#[test]
fn manifest_settings_apply_and_options_win() {
    if !have_strace() {
        return;
    }
    let dir = canonical_dir();
    let root = real(&dir);
    fs::write(
        root.join("kstrun.toml"),
        "[secure_delete]\nmethod = \"overwrite\"\npasses = 1\nzero_last_pass = false\n",
    )
    .unwrap();
    let file = plaintext(&root, "a");
    let (status, log) = traced(&root, false, &["shred", "-f", "a"]);
    assert_eq!(status, 0, "{log}");
    assert!(
        !log.contains("shred\", [\""),
        "method from the manifest: {log}"
    );
    assert_eq!(
        calls_on(&log, "pwrite64", &file),
        1,
        "1 pass, no zeros: {log}"
    );

    let file = plaintext(&root, "b");
    let (status, log) = traced(&root, false, &["shred", "-f", "--passes", "4", "b"]);
    assert_eq!(status, 0, "{log}");
    assert_eq!(calls_on(&log, "pwrite64", &file), 4, "--passes wins: {log}");
}

#[test]
fn an_invalid_manifest_is_an_error() {
    let dir = canonical_dir();
    fs::write(
        dir.path().join("kstrun.toml"),
        "[secure_delete]\nmethod = \"fast\"\n",
    )
    .unwrap();
    let file = plaintext(dir.path(), "a");
    kstrun(dir.path())
        .args(["shred", "-f", "a"])
        .assert()
        .code(125)
        .stderr(predicates::str::contains("method"));
    assert_eq!(fs::read_to_string(&file).unwrap(), SECRET);
}

/// Runs `kstrun shred -f ARGS` expecting a refusal naming `name`, then
/// checks that every file in `keep` still holds the plaintext.
fn refused(dir: &Path, args: &[&str], name: &str, why: &str, keep: &[&Path]) {
    kstrun(dir)
        .args(["shred", "-f", "--method", "overwrite"])
        .args(args)
        .assert()
        .code(125)
        .stderr(predicates::str::contains(format!("'{name}'")))
        .stderr(predicates::str::contains(why))
        .stderr(predicates::str::contains("nothing shredded"));
    for file in keep {
        assert_eq!(
            fs::read_to_string(file).unwrap(),
            SECRET,
            "{}",
            file.display()
        );
    }
}

#[test]
fn refusals_touch_nothing() {
    let dir = canonical_dir();
    let d = dir.path();
    let target = plaintext(d, "target");
    let other = plaintext(d, "other");
    std::os::unix::fs::symlink("target", d.join("link")).unwrap();
    refused(
        d,
        &["link", "other"],
        "link",
        "symbolic link",
        &[&target, &other],
    );
    assert!(fs::symlink_metadata(d.join("link")).unwrap().is_symlink());

    fs::create_dir(d.join("folder")).unwrap();
    let inside = plaintext(&d.join("folder"), "inside");
    refused(
        d,
        &["folder", "other"],
        "folder",
        "directory",
        &[&inside, &other],
    );

    nix::unistd::mkfifo(
        &d.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    refused(d, &["other", "fifo"], "fifo", "FIFO", &[&other]);

    refused(
        d,
        &["/dev/null", "other"],
        "/dev/null",
        "character device",
        &[&other],
    );

    fs::hard_link(&target, d.join("second")).unwrap();
    refused(d, &["second"], "second", "2 hard links", &[&target, &other]);
    refused(d, &["target"], "target", "2 hard links", &[&target, &other]);

    refused(
        d,
        &["missing", "other"],
        "missing",
        "no such file",
        &[&other],
    );
    refused(
        d,
        &["other", "missing"],
        "missing",
        "no such file",
        &[&other],
    );
}

#[test]
fn a_read_only_file_needs_force() {
    for method in ["overwrite", "command"] {
        let dir = canonical_dir();
        let file = plaintext(dir.path(), "ro");
        fs::set_permissions(&file, fs::Permissions::from_mode(0o400)).unwrap();
        kstrun(dir.path())
            .args(["shred", "--method", method, "ro"])
            .assert()
            .code(125)
            .stderr(predicates::str::contains("'ro' is read-only; use --force"));
        assert_eq!(fs::read_to_string(&file).unwrap(), SECRET);
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o400
        );

        kstrun(dir.path())
            .args(["shred", "--force", "--method", method, "ro"])
            .assert()
            .code(0);
        assert!(!file.exists(), "{method}");
    }
}

#[test]
fn a_failure_on_one_file_does_not_stop_the_others() {
    if !have_strace() {
        return;
    }
    let dir = canonical_dir();
    let root = real(&dir);
    let first = plaintext(&root, "first");
    let second = plaintext(&root, "second");
    let log = root.join("strace.log");
    let output = std::process::Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&log)
        .args([
            "-e",
            "trace=unlink,unlinkat",
            "-e",
            "inject=unlink,unlinkat:error=EPERM:when=1",
        ])
        .arg(env!("CARGO_BIN_EXE_kstrun"))
        .args(["shred", "-f", "--method", "overwrite", "first", "second"])
        .current_dir(&root)
        .output()
        .expect("run strace");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains("'first': overwritten, but not deleted"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 2 files not shredded"), "{stderr}");
    assert!(!second.exists(), "the second file is still shredded");
    let left = fs::read(&first).expect("first kept its name");
    assert!(left.is_empty(), "but its content is gone");
}

#[test]
fn the_same_file_twice_is_shredded_once() {
    let dir = canonical_dir();
    let file = plaintext(dir.path(), "a");
    kstrun(dir.path())
        .args(["shred", "-f", "--method", "overwrite", "a", "./a"])
        .assert()
        .code(0);
    assert!(!file.exists());
}

/// Runs `kstrun shred plain.env` with stdin on a pseudo-terminal and `answer` typed.
fn answer_prompt(dir: &Path, answer: &str) -> (i32, String) {
    answer_prompt_for(dir, "plain.env", answer)
}

/// Runs `kstrun shred FILE` with stdin on a pseudo-terminal and `answer` typed.
fn answer_prompt_for(dir: &Path, file: &str, answer: &str) -> (i32, String) {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let mut master = fs::File::from(pty.master);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kstrun"))
        .args(["shred", "--method", "overwrite", file])
        .current_dir(dir)
        .stdin(Stdio::from(pty.slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kstrun");
    master
        .write_all(answer.as_bytes())
        .expect("type the answer");
    let output = child.wait_with_output().expect("wait for kstrun");
    drop(master);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_prompt_keeps_the_file_unless_answered_yes() {
    let dir = canonical_dir();
    let file = plaintext(dir.path(), "plain.env");
    for answer in ["no\n", "\n", "yess\n", "n\n"] {
        let (status, stderr) = answer_prompt(dir.path(), answer);
        assert_eq!(status, 1, "{answer:?}: {stderr}");
        assert!(
            stderr.contains("overwrite and delete 'plain.env'?"),
            "{stderr}"
        );
        assert!(stderr.contains("[y/N]"), "{stderr}");
        assert!(stderr.contains("nothing shredded"), "{stderr}");
        assert_eq!(fs::read_to_string(&file).unwrap(), SECRET, "{answer:?}");
    }
    for answer in ["yes\n", "Y\n"] {
        plaintext(dir.path(), "plain.env");
        let (status, stderr) = answer_prompt(dir.path(), answer);
        assert_eq!(status, 0, "{answer:?}: {stderr}");
        assert!(!file.exists(), "{answer:?}");
    }
}

/// A file name holding control characters is asked about as escapes: it
/// cannot clear the screen or rewrite the question it appears in.
#[test]
fn the_prompt_shows_control_characters_as_escapes() {
    let dir = canonical_dir();
    let name = "a\x1b[2J\rb";
    let file = plaintext(dir.path(), name);
    let (status, stderr) = answer_prompt_for(dir.path(), name, "no\n");
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("'a\\u{1b}[2J\\rb'"), "{stderr}");
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\r'),
        "{stderr}"
    );
    assert!(file.exists());
}

#[test]
fn no_prompt_when_stdin_is_not_a_terminal() {
    let dir = canonical_dir();
    let file = plaintext(dir.path(), "plain.env");
    kstrun(dir.path())
        .args(["shred", "--method", "overwrite", "plain.env"])
        .write_stdin("no\n")
        .assert()
        .code(0)
        .stderr("");
    assert!(!file.exists());
}

#[test]
fn usage_errors_are_125() {
    let dir = canonical_dir();
    for args in [
        &["shred"][..],
        &["shred", "--passes", "0", "a"],
        &["shred", "--method", "fast", "a"],
    ] {
        kstrun(dir.path()).args(args).assert().code(125);
    }
}

/// A file this user cannot write, or whose folder it cannot remove the name
/// from, is refused in the check, before any other file is touched. Run as
/// an unprivileged user (`setpriv`), since root may do all of it.
#[test]
fn files_this_user_cannot_shred_are_refused_before_anything_is_touched() {
    use std::os::unix::fs::chown;
    // SAFETY: geteuid only reads the process's credentials.
    if unsafe { libc_geteuid() } != 0 || !tool_available("setpriv", &["--version"]) {
        eprintln!("skipping: needs root (to set up) and setpriv");
        return;
    }
    const NOBODY: u32 = 65534;
    let dir = canonical_dir();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let mine = plaintext(dir.path(), "mine.env");
    chown(&mine, Some(NOBODY), None).unwrap();
    let roots = plaintext(dir.path(), "roots.env");
    fs::create_dir(dir.path().join("locked")).unwrap();
    let in_locked = plaintext(&dir.path().join("locked"), "mine.env");
    chown(&in_locked, Some(NOBODY), None).unwrap();
    // Writable by all, but in a sticky folder (as /tmp) and root's: nobody
    // could overwrite it, and then not remove it.
    fs::create_dir(dir.path().join("sticky")).unwrap();
    fs::set_permissions(
        dir.path().join("sticky"),
        fs::Permissions::from_mode(0o1777),
    )
    .unwrap();
    let in_sticky = plaintext(&dir.path().join("sticky"), "roots.env");
    fs::set_permissions(&in_sticky, fs::Permissions::from_mode(0o666)).unwrap();
    for other in [&roots, &in_locked, &in_sticky] {
        let output = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_kstrun"))
            .args(["shred", "--method", "overwrite"])
            .arg(&mine)
            .arg(other)
            .current_dir(dir.path())
            .env_remove("KSTRUN_MANIFEST")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(125), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("nothing shredded"), "{stderr}");
        assert_eq!(fs::read(&mine).unwrap(), SECRET.as_bytes(), "{stderr}");
        assert_eq!(fs::read(other).unwrap(), SECRET.as_bytes());
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}
