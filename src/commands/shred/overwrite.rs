//! The two ways of destroying a file's content: in place, or by GNU `shred`.
//!
//! Both do the same work so that `method` changes the tool, not the outcome:
//! N passes of random data, one more of zeros when asked (GNU `shred -n N -z`
//! counts the same way), each pass forced to the device with fsync, then the
//! size cut to zero, the name removed and the folder synced so the removal
//! itself is durable. The overwrite covers the size rounded up to the file's
//! block size, as GNU shred does, so the slack of the last block goes too.
//!
//! Both work on the descriptor kstrun opened after checking the file (no
//! link followed, the inode the one inspected), never on its name again: GNU
//! `shred` is handed `/dev/fd/N`, not the name, since between the check and
//! the overwrite (the prompt is open-ended) the name may have become a link
//! to another file. The name is removed by kstrun, and only while it still
//! names the inode that was overwritten: a file saved over it meanwhile (an
//! editor's atomic save) is left in place, with an error.

use super::target::Target;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Size of one write; random data is read from the kernel in the same steps.
const CHUNK: usize = 64 * 1024;

/// Overwrites `target` in place `passes` times (plus zeros), then deletes it.
pub fn overwrite(target: &Target, passes: u32, zero_last_pass: bool) -> io::Result<()> {
    let file = target.open()?;
    let mut random = File::open("/dev/urandom")?;
    let mut buffer = vec![0u8; CHUNK];
    let total = passes + u32::from(zero_last_pass);
    for pass in 0..total {
        let zeros = zero_last_pass && pass + 1 == total;
        let length = pass_length(&file, target)?;
        let mut offset = 0u64;
        while offset < length {
            let step = usize::try_from(length - offset).map_or(CHUNK, |left| left.min(CHUNK));
            let chunk = &mut buffer[..step];
            if zeros {
                chunk.fill(0);
            } else {
                random.read_exact(chunk)?;
            }
            file.write_all_at(chunk, offset)?;
            offset += step as u64;
        }
        file.sync_all()?;
    }
    finish(target, file)
}

/// How much one pass overwrites: the size now, not when the file was
/// checked (it may have grown since), rounded up to whole blocks.
fn pass_length(file: &File, target: &Target) -> io::Result<u64> {
    Ok(round_up(
        file.metadata()?.len().max(target.size),
        target.block,
    ))
}

/// Runs GNU `shred -n N [-z] -- /dev/fd/FD` on the checked file's
/// descriptor, without a shell, then cuts and removes it as [`overwrite`] does.
pub fn command(
    program: &Path,
    target: &Target,
    passes: u32,
    zero_last_pass: bool,
) -> io::Result<()> {
    let file = target.open()?;
    let fd = file.as_raw_fd();
    let mut shred = Command::new(program);
    shred.arg("-n").arg(passes.to_string());
    if zero_last_pass {
        shred.arg("-z");
    }
    shred
        .arg("--")
        .arg(format!("/dev/fd/{fd}"))
        .stdin(Stdio::null());
    // SAFETY: between fork and exec only fcntl runs, which is async-signal-safe.
    unsafe {
        // The descriptor is close-on-exec, as all of kstrun's: shred alone inherits it.
        shred.pre_exec(move || crate::exec::inherit_on_exec(fd).map_err(io::Error::from));
    }
    let status = shred
        .status()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run {}: {e}", program.display())))?;
    if !status.success() {
        return Err(io::Error::other(format!(
            "{} failed ({status})",
            program.display()
        )));
    }
    finish(target, file)
}

/// The end of both methods: the size cut to zero, then the name removed —
/// only while it still names the inode overwritten — and the folder synced.
fn finish(target: &Target, file: File) -> io::Result<()> {
    file.set_len(0)?;
    file.sync_all()?;
    drop(file);
    target
        .still_named()
        .and_then(|()| std::fs::remove_file(&target.path))
        .map_err(|e| io::Error::new(e.kind(), format!("overwritten, but not deleted: {e}")))?;
    sync_folder(target.folder())
}

/// The first executable `name` on `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

fn round_up(size: u64, block: u64) -> u64 {
    match size % block {
        0 => size,
        rest => size.saturating_add(block - rest),
    }
}

fn sync_folder(folder: &Path) -> io::Result<()> {
    File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| io::Error::new(e.kind(), format!("deleted, but syncing its folder: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::shred::target::inspect;

    /// Both methods, GNU shred's only where it is installed.
    fn methods() -> Vec<Option<PathBuf>> {
        let mut methods = vec![None];
        if let Some(shred) = find_on_path("shred") {
            methods.push(Some(shred));
        }
        methods
    }

    fn shred_with(method: &Option<PathBuf>, target: &Target) -> io::Result<()> {
        match method {
            Some(program) => command(program, target, 1, true),
            None => overwrite(target, 1, true),
        }
    }

    #[test]
    fn a_name_that_became_a_link_after_the_check_is_not_followed() {
        for method in methods() {
            let dir = tempfile::tempdir().unwrap();
            let plain = dir.path().join("plain.yml");
            let precious = dir.path().join("precious.txt");
            std::fs::write(&plain, "plain").unwrap();
            std::fs::write(&precious, "precious data").unwrap();
            let target = inspect(&plain, false).unwrap();
            std::fs::remove_file(&plain).unwrap();
            std::os::unix::fs::symlink(&precious, &plain).unwrap();
            assert!(shred_with(&method, &target).is_err(), "{method:?}");
            assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious data");
            assert!(plain.symlink_metadata().unwrap().file_type().is_symlink());
        }
    }

    #[test]
    fn a_file_saved_over_the_name_during_the_overwrite_is_left_in_place() {
        for method in methods() {
            let dir = tempfile::tempdir().unwrap();
            let plain = dir.path().join("plain.yml");
            std::fs::write(&plain, "plain").unwrap();
            let target = inspect(&plain, false).unwrap();
            let file = target.open().unwrap();
            // An editor's atomic save: a new file renamed over the name.
            let saved = dir.path().join("saved.tmp");
            std::fs::write(&saved, "new content").unwrap();
            std::fs::rename(&saved, &plain).unwrap();
            let error = finish(&target, file).unwrap_err();
            assert!(
                error.to_string().contains("overwritten, but not deleted"),
                "{error}"
            );
            assert_eq!(
                std::fs::read_to_string(&plain).unwrap(),
                "new content",
                "{method:?}"
            );
        }
    }

    #[test]
    fn a_pass_covers_what_the_file_grew_to_after_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.yml");
        std::fs::write(&plain, "small").unwrap();
        let target = inspect(&plain, false).unwrap();
        std::fs::write(&plain, vec![b'x'; 200_000]).unwrap();
        let file = target.open().unwrap();
        assert_eq!(
            pass_length(&file, &target).unwrap(),
            round_up(200_000, target.block)
        );
        drop(file);
        overwrite(&target, 1, true).unwrap();
        assert!(!plain.exists());
    }

    #[test]
    fn rounds_up_to_whole_blocks() {
        assert_eq!(round_up(0, 4096), 0);
        assert_eq!(round_up(1, 4096), 4096);
        assert_eq!(round_up(4096, 4096), 4096);
        assert_eq!(round_up(4097, 4096), 8192);
    }
}
