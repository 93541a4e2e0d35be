//! The two ways of destroying a file's content: in place, or by GNU `shred`.
//!
//! Both do the same work so that `method` changes the tool, not the outcome:
//! N passes of random data, one more of zeros when asked (GNU `shred -n N -z`
//! counts the same way), each pass forced to the device with fsync, then the
//! size cut to zero, the name removed and the folder synced so the removal
//! itself is durable. The overwrite covers the size rounded up to the file's
//! block size, as GNU shred does, so the slack of the last block goes too.

use super::target::Target;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Size of one write; random data is read from the kernel in the same steps.
const CHUNK: usize = 64 * 1024;

/// Overwrites `target` in place `passes` times (plus zeros), then deletes it.
pub fn overwrite(target: &Target, passes: u32, zero_last_pass: bool) -> io::Result<()> {
    let file = target.open()?;
    let length = round_up(target.size, target.block);
    let mut random = File::open("/dev/urandom")?;
    let mut buffer = vec![0u8; CHUNK];
    let total = passes + u32::from(zero_last_pass);
    for pass in 0..total {
        let zeros = zero_last_pass && pass + 1 == total;
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
    file.set_len(0)?;
    file.sync_all()?;
    drop(file);
    std::fs::remove_file(&target.path)
        .map_err(|e| io::Error::new(e.kind(), format!("overwritten, but not deleted: {e}")))?;
    sync_folder(target.folder())
}

/// Runs GNU `shred -n N [-z] -u -- FILE`, without a shell.
pub fn command(
    program: &Path,
    target: &Target,
    passes: u32,
    zero_last_pass: bool,
) -> io::Result<()> {
    let mut shred = Command::new(program);
    shred.arg("-n").arg(passes.to_string());
    if zero_last_pass {
        shred.arg("-z");
    }
    let status = shred
        .arg("-u")
        .arg("--")
        .arg(&target.path)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run {}: {e}", program.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{} failed ({status})",
            program.display()
        )))
    }
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
    use super::round_up;

    #[test]
    fn rounds_up_to_whole_blocks() {
        assert_eq!(round_up(0, 4096), 0);
        assert_eq!(round_up(1, 4096), 4096);
        assert_eq!(round_up(4096, 4096), 4096);
        assert_eq!(round_up(4097, 4096), 8192);
    }
}
