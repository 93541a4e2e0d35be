//! `kstrun init`: write a commented starter `kstrun.toml`.
//!
//! The starter (`init.toml`, beside this file) is the shortest manifest that
//! teaches the format: a sensible `pass` list, one live example of the short
//! form, an optional secret and a default, and the other forms and provider
//! settings commented out. It must load with kstrun's own loader, which a
//! test checks. An existing file is never overwritten without `--force`; with
//! it, the new text is written beside the old file (with its permissions,
//! and as root its owner) and renamed over it, so a failure midway never
//! leaves half a manifest.

use crate::error::Error;
use std::fs::{Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The starter manifest.
pub const STARTER: &str = include_str!("init.toml");

/// Writes the starter at `manifest` (default `./kstrun.toml`); says so unless `quiet`.
pub fn run(manifest: Option<&Path>, force: bool, quiet: bool) -> Result<i32, Error> {
    let file = manifest.unwrap_or(Path::new("kstrun.toml"));
    let name = file.display();
    if file.is_dir() {
        return Err(Error::Toolbox(format!("'{name}' is a directory")));
    }
    let written = if force {
        replace(file)
    } else {
        create_new(file, 0o666, None).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => {
                io::Error::new(e.kind(), "it already exists; use --force to replace it")
            }
            _ => e,
        })
    };
    written.map_err(|e| Error::Toolbox(format!("cannot write '{name}': {e}")))?;
    if !quiet {
        // The check must read the file just written, wherever it is.
        let check = match manifest {
            Some(_) => format!("kstrun -m {name} check"),
            None => "kstrun check".to_string(),
        };
        let shown =
            crate::report::printable_inline(&format!("wrote {name}; edit it, then run `{check}`"))
                .into_owned();
        crate::report::stderr_line(format_args!("kstrun: {shown}"));
    }
    Ok(0)
}

/// Writes the starter into a new `file` of `mode` (less the umask), given
/// the owner and the exact permissions of `replaced`, if any (through the
/// open file, not its name). A file it created but could not fill (a full
/// disk) is removed again; a file that already existed is an error and is
/// not touched.
fn create_new(file: &Path, mode: u32, replaced: Option<&Metadata>) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(file)?;
    let written = match replaced {
        Some(old) => {
            // Only root may give a file away: anyone else's replacement is
            // their own, as an editor's would be.
            let _ = std::os::unix::fs::fchown(&out, Some(old.uid()), Some(old.gid()));
            out.set_permissions(old.permissions())
        }
        None => Ok(()),
    }
    .and_then(|()| out.write_all(STARTER.as_bytes()))
    .and_then(|()| out.sync_all());
    if written.is_err() {
        let _ = std::fs::remove_file(file);
    }
    written
}

fn replace(file: &Path) -> io::Result<()> {
    // Only a regular file is replaced: renaming over a device (`-m
    // /dev/null` as root), a pipe, a socket or a symbolic link would put a
    // manifest where something else was.
    let old = match std::fs::symlink_metadata(file) {
        Ok(old) if !old.file_type().is_file() => {
            return Err(io::Error::other(
                "it is not a regular file (a link, device, pipe or socket); replace it by hand",
            ))
        }
        Ok(old) => Some(old),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mut temporary = PathBuf::from(file);
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".kstrun-init-{}", std::process::id()));
    temporary.set_file_name(name);
    // The new file keeps the old one's permissions: a manifest kept private
    // (0600) must not become readable by all through `--force`, not even
    // for the moment before they are set.
    use std::os::unix::fs::PermissionsExt;
    let mode = old
        .as_ref()
        .map_or(0o666, |old| old.permissions().mode() & 0o7777);
    // A file already at the temporary name is someone else's: left alone.
    create_new(&temporary, mode, old.as_ref()).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot write '{}': {e}", temporary.display()),
        )
    })?;
    let written = std::fs::rename(&temporary, file);
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::STARTER;
    use crate::manifest::Manifest;

    fn load(text: &str) -> Manifest {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kstrun.toml");
        std::fs::write(&file, text).unwrap();
        Manifest::load(&file, None).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
    }

    #[test]
    fn the_starter_loads() {
        let manifest = load(STARTER);
        let vars: Vec<&str> = manifest.secrets.iter().map(|s| s.var.as_str()).collect();
        assert_eq!(vars, ["DATABASE_URL", "STRIPE_KEY", "LOG_TOKEN"]);
        assert_eq!(manifest.pass.len(), 6);
    }

    /// Every commented example is valid too, once uncommented (except the
    /// kstlib config, whose file a new folder does not have).
    #[test]
    fn the_commented_examples_load_when_uncommented() {
        let uncommented: String = STARTER
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if is_example(rest) => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let manifest = load(&uncommented);
        assert_eq!(manifest.secrets.len(), 7);
        assert_eq!(manifest.command.as_deref().map(<[String]>::len), Some(3));
        assert_eq!(manifest.secure_delete.passes, 3);
    }

    fn is_example(rest: &str) -> bool {
        if rest.starts_with('[') {
            return true;
        }
        let Some((key, _)) = rest.split_once(" = ") else {
            return false;
        };
        key.trim_end() != "config"
            && !key.is_empty()
            && key
                .trim_end()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
    }
}
