//! Sealed anonymous in-memory files for `as = "file"` secrets (Linux).
//!
//! The value is written into a `memfd`, made read-only (mode 0444) and sealed
//! against any change of content or size; the child opens it through
//! `/dev/fd/N`. Readable by all, because a child that drops privileges
//! (`kstrun -- gosu app ./server`) opens it as another user. The mode opens
//! it to no one else: the only path to it is `/proc/PID/fd/N` of a process
//! holding it, which the kernel opens for the same callers as that process's
//! `/proc/PID/environ` (its own user while it is dumpable, and root), so a
//! file secret reaches exactly those who could read a secret in its
//! environment. Nothing ever touches a disk and the file disappears with the
//! last process holding it, however it dies. The descriptor is created
//! close-on-exec, so that no helper kstrun runs while resolving later
//! secrets (the `sops` executable, `SOPS_AGE_KEY_CMD`) inherits it; the
//! last step before the child's `execve` makes it inheritable
//! (`exec::Program::execve`).

use crate::secrets::SecretValue;
use std::os::fd::{AsRawFd, OwnedFd};

/// Creates a sealed memfd holding `value`; `name` shows in `/proc/PID/fd` links.
#[cfg(target_os = "linux")]
pub fn sealed_file(name: &str, value: &SecretValue) -> Result<OwnedFd, String> {
    use nix::fcntl::{fcntl, FcntlArg, SealFlag};
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    use nix::sys::stat::{fchmod, Mode};
    use std::ffi::CString;

    let name =
        CString::new(format!("kstrun:{name}")).map_err(|_| "invalid memfd name".to_string())?;
    let fd = memfd_create(
        &name,
        MemFdCreateFlag::MFD_ALLOW_SEALING | MemFdCreateFlag::MFD_CLOEXEC,
    )
    .map_err(|e| format!("memfd_create: {e}"))?;
    let mut file = std::fs::File::from(fd);
    std::io::Write::write_all(&mut file, value.as_bytes())
        .map_err(|e| format!("writing memfd: {e}"))?;
    // Back to the start: a child that reads the inherited descriptor itself
    // (`cat <&3`) shares this offset; opening the path starts at 0 anyway.
    std::io::Seek::rewind(&mut file).map_err(|e| format!("rewinding memfd: {e}"))?;
    let fd = OwnedFd::from(file);
    let read_only = Mode::S_IRUSR | Mode::S_IRGRP | Mode::S_IROTH;
    fchmod(fd.as_raw_fd(), read_only).map_err(|e| format!("fchmod memfd: {e}"))?;
    let seals = SealFlag::F_SEAL_SEAL
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE;
    fcntl(fd.as_raw_fd(), FcntlArg::F_ADD_SEALS(seals))
        .map_err(|e| format!("sealing memfd: {e}"))?;
    Ok(fd)
}

/// File secrets need Linux's memfd; elsewhere they are refused with a clear error.
#[cfg(not(target_os = "linux"))]
pub fn sealed_file(_name: &str, _value: &SecretValue) -> Result<OwnedFd, String> {
    Err("secrets delivered as files (as = \"file\") need Linux memfd".to_string())
}

/// The path a child opens to read `fd`.
pub fn fd_path(fd: &OwnedFd) -> String {
    format!("/dev/fd/{}", fd.as_raw_fd())
}
