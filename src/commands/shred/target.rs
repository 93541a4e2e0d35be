//! Which files `kstrun shred` may touch, decided before anything is touched.
//!
//! Overwriting follows a file's name to one inode, so every shape where that
//! is not "the plaintext and nothing else" is refused: a symbolic link (the
//! data lives elsewhere, under another name that stays), a directory, a
//! device, FIFO or socket (overwriting a disk or blocking on a pipe is never
//! what a user cleaning up a decrypted file meant), and a file with several
//! hard links (the other names would see their content destroyed while the
//! file itself lived on). A read-only file is refused unless `--force`, which
//! adds the owner's write permission first, as GNU `shred -f` does; the mode
//! bits are checked rather than trusting `open` to fail, because root may
//! write to any file.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A regular file with one link, checked and ready to be shredded.
#[derive(Debug, Clone)]
pub struct Target {
    /// The name given on the command line.
    pub path: PathBuf,
    /// Device and inode seen when checking, compared again after opening.
    pub id: (u64, u64),
    /// Size in bytes.
    pub size: u64,
    /// Preferred I/O block size; overwriting rounds the size up to it.
    pub block: u64,
    /// Whether the owner's write permission is missing (only with `--force`).
    pub read_only: bool,
}

/// Checks `path` without following links and without changing anything.
/// The error is the complete message, naming the file.
pub fn inspect(path: &Path, force: bool) -> Result<Target, String> {
    let name = path.display();
    let meta = std::fs::symlink_metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => format!("'{name}': no such file"),
        _ => format!("'{name}': {e}"),
    })?;
    if let Some(kind) = refused_kind(&meta) {
        return Err(format!(
            "'{name}' is {kind}; only regular files are shredded"
        ));
    }
    if meta.nlink() > 1 {
        return Err(format!(
            "'{name}' has {} hard links; overwriting it would destroy the content seen \
             through the other names while it stayed on disk (remove the other links first)",
            meta.nlink()
        ));
    }
    let read_only = meta.mode() & 0o200 == 0;
    if read_only && !force {
        return Err(format!(
            "'{name}' is read-only; use --force to make it writable and shred it"
        ));
    }
    permitted(path, &meta, read_only).map_err(|why| format!("'{name}' {why}"))?;
    Ok(Target {
        path: path.to_path_buf(),
        id: (meta.dev(), meta.ino()),
        size: meta.size(),
        block: meta.blksize().clamp(512, 1 << 20),
        read_only,
    })
}

/// Whether this user may overwrite `path` and remove its name, found out
/// now rather than after other files are gone: a file it cannot write (or,
/// read-only, cannot make writable, not being its owner), or whose folder
/// does not let it remove the name. Root may do all of it.
fn permitted(path: &Path, meta: &Metadata, read_only: bool) -> Result<(), &'static str> {
    use nix::unistd::{access, AccessFlags};
    // SAFETY: geteuid only reads the process's credentials; it cannot fail.
    let user = unsafe { nix::libc::geteuid() };
    if user == 0 {
        return Ok(());
    }
    if read_only && meta.uid() != user {
        return Err("is read-only and belongs to another user, so it cannot be made writable");
    }
    if !read_only && access(path, AccessFlags::W_OK).is_err() {
        return Err("cannot be written by this user");
    }
    let folder = folder_of(path);
    if access(folder, AccessFlags::W_OK | AccessFlags::X_OK).is_err() {
        return Err("is in a folder this user cannot remove it from");
    }
    // In a sticky folder (/tmp) only the file's or the folder's owner may
    // remove the name, whatever the folder's write permission says.
    let folder_meta =
        std::fs::metadata(folder).map_err(|_| "is in a folder that cannot be read")?;
    if folder_meta.mode() & 0o1000 != 0 && meta.uid() != user && folder_meta.uid() != user {
        return Err(
            "belongs to another user in a sticky folder (like /tmp), so it could not be removed",
        );
    }
    Ok(())
}

fn refused_kind(meta: &Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        Some("a symbolic link (shred the file it points to by its own name)")
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_socket() {
        Some("a socket")
    } else if !kind.is_file() {
        Some("not a regular file")
    } else {
        None
    }
}

impl Target {
    /// Adds the owner's write permission when the file lacks it, without
    /// following a link that may have replaced the file since it was checked.
    pub fn make_writable(&self) -> io::Result<()> {
        if !self.read_only {
            return Ok(());
        }
        self.still_named()?;
        use nix::sys::stat::{fchmodat, FchmodatFlags, Mode};
        let mode = std::fs::symlink_metadata(&self.path)?.mode() | 0o200;
        fchmodat(
            None,
            &self.path,
            Mode::from_bits_truncate(mode & 0o7777),
            FchmodatFlags::NoFollowSymlink,
        )
        .map_err(io::Error::from)
    }

    /// Opens the file for writing, refusing to follow a link, and checks it
    /// is still the inode that was inspected, with a single link.
    pub fn open(&self) -> io::Result<File> {
        let file = OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
            .open(&self.path)?;
        if !self.is_inspected(&file.metadata()?) {
            return Err(io::Error::other(
                "the file changed between the check and the overwrite; not touched",
            ));
        }
        Ok(file)
    }

    /// Checks that the name still names the inode that was inspected, with
    /// one link, without following a link.
    pub fn still_named(&self) -> io::Result<()> {
        if !self.is_inspected(&std::fs::symlink_metadata(&self.path)?) {
            return Err(io::Error::other(
                "its name now names another file (replaced or linked since the check)",
            ));
        }
        Ok(())
    }

    /// Whether `meta` is the inode that was inspected, still a regular file
    /// with one link.
    fn is_inspected(&self, meta: &Metadata) -> bool {
        (meta.dev(), meta.ino()) == self.id && meta.is_file() && meta.nlink() == 1
    }

    /// The folder holding the file's name, for the fsync after unlinking.
    pub fn folder(&self) -> &Path {
        folder_of(&self.path)
    }
}

/// The folder holding `path`'s name (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}
