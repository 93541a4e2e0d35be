//! The child's environment, built exactly as declared.
//!
//! Order and precedence: the `pass` variables present in the parent (in the
//! parent's order), then `[env]`, then the resolved secrets (in manifest
//! order); a later definition of a name replaces the earlier one, and an
//! optional secret nothing had removes a passed variable of its name. Nothing
//! else is added. Values are held in `SecretValue`s until they are turned into the
//! `NAME=value` block handed to `execve`.

use crate::hash::FnvBuild;
use crate::manifest::{Delivery, PassPattern};
use crate::memfd;
use crate::plan::Entry;
use crate::secrets::{SecretError, SecretRecord, SecretValue};
use nix::libc;
use std::collections::HashSet;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStringExt;
use zeroize::Zeroizing;

/// Why the environment cannot hold `record`'s value the way `entry`
/// delivers it, if it cannot: a variable cannot hold a NUL byte, nor (on
/// Linux) be longer than one `execve` string may be (a file secret can) —
/// the second only for an environment that is exec'd (`FileSecrets::Memfd`:
/// `run`, and `check`, which shows what `run` would do), not for `export`'s
/// text. A failure of that secret like any other, so `run` lists it with the
/// rest and `check` shows it failed; never names the value.
pub fn env_refuses(
    entry: &Entry,
    record: &SecretRecord,
    files: FileSecrets,
) -> Option<SecretError> {
    if !matches!(entry.delivery, Delivery::Env | Delivery::Json) {
        return None;
    }
    let value = record.value.as_bytes();
    let too_long = || {
        let limit = longest_variable().filter(|_| files == FileSecrets::Memfd)?;
        // `NAME=value` and its ending NUL.
        (entry.var.len() + value.len() + 2 > limit).then_some(limit)
    };
    let reason = if value.contains(&0) {
        "the value contains a NUL byte, which an environment variable cannot hold".to_string()
    } else if let Some(limit) = too_long() {
        format!(
            "NAME=value would be longer than the {} bytes the kernel takes for one environment variable",
            limit - 1
        )
    } else {
        return None;
    };
    Some(SecretError::Provider {
        provider: record.source.name(),
        name: entry.request.name.clone(),
        reason: format!("{reason}; deliver it with as = \"file\""),
    })
}

/// The most bytes one `execve` string may have, its NUL included: Linux's
/// MAX_ARG_STRLEN, 32 pages. A longer variable fails the exec with E2BIG,
/// which only says "Argument list too long", after the fork under `--init`.
pub(crate) fn longest_variable() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // Asked once: a thousand secrets would ask a thousand times.
        static LONGEST: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
        *LONGEST.get_or_init(|| {
            // SAFETY: sysconf only reads a constant of the running system.
            let page = unsafe { nix::libc::sysconf(nix::libc::_SC_PAGESIZE) };
            usize::try_from(page).ok().map(|page| page * 32)
        })
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Whether `as = "file"` secrets get a memfd (run: the environment is
/// exec'd) or are left out (export: it is printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSecrets {
    /// Create sealed memfds.
    Memfd,
    /// Leave file secrets out of the environment.
    Omit,
}

/// The environment of the child, plus the memfds it must inherit.
///
/// Definitions are collected in order and replaced ones removed once, at the
/// end (`keep_last_definitions`), by one pass over the names: a thousand
/// secrets cost a thousand lookups, not half a million comparisons.
#[derive(Debug)]
pub struct ChildEnv {
    vars: Vec<(String, SecretValue)>,
    files: Vec<OwnedFd>,
    /// Whether file secrets get a memfd or are left out.
    file_secrets: FileSecrets,
    /// The variables of file secrets left out (`FileSecrets::Omit`).
    omitted: Vec<String>,
    /// Optional secrets no provider had: unset in the child, even where a
    /// `pass` pattern brought the parent's variable of that name.
    unset: Vec<String>,
}

impl ChildEnv {
    /// An environment holding the parent's `pass` variables and `[env]`,
    /// with room for `secrets` more.
    pub fn new(
        pass: &[PassPattern],
        env: &[(String, String)],
        file_secrets: FileSecrets,
        secrets: usize,
    ) -> Result<ChildEnv, String> {
        // Sized once: growing by doubling would copy (and wipe) the list ten
        // times over for a thousand secrets.
        let mut child = ChildEnv {
            vars: Vec::with_capacity(env.len() + secrets),
            files: Vec::new(),
            file_secrets,
            omitted: Vec::new(),
            unset: Vec::new(),
        };
        // Reading the parent environment copies every variable; with nothing
        // to pass (the common case) that work and those copies are skipped.
        if !pass.is_empty() {
            // A name the environment holds twice (possible through a direct
            // `execve`) passes with its first value: the one `getenv` and
            // the env tier see.
            let mut passed = HashSet::new();
            for (name, value) in std::env::vars_os() {
                let name = name.into_vec();
                if pass.iter().any(|p| p.matches(&name)) && passed.insert(name.clone()) {
                    if let Ok(name) = String::from_utf8(name) {
                        child.set(name, SecretValue::from_bytes(value.into_vec()));
                    }
                }
            }
        }
        for (name, value) in env {
            if value.contains('\0') {
                return Err(format!("[env] {name}: value contains a NUL byte"));
            }
            child.set(name.clone(), SecretValue::from(value.as_str()));
        }
        Ok(child)
    }

    /// Adds a resolved secret the way its entry delivers it. The error
    /// names the variable and the secret, never the value.
    pub fn add_secret(&mut self, entry: Entry, record: SecretRecord) -> Result<(), String> {
        match entry.delivery {
            Delivery::File if self.file_secrets == FileSecrets::Omit => {
                self.omitted.push(entry.var);
            }
            Delivery::File => {
                let fd = memfd::sealed_file(&entry.var, &record.value)
                    .map_err(|e| format!("secret {} ({}): {e}", entry.var, entry.request.name))?;
                self.set(entry.var, SecretValue::from_string(memfd::fd_path(&fd)));
                self.files.push(fd);
            }
            Delivery::Env | Delivery::Json => {
                // Callers list such a secret as failed first (`env_refuses`);
                // the block handed to `execve` must never hold a NUL anyway.
                if let Some(error) = env_refuses(&entry, &record, self.file_secrets) {
                    return Err(format!("{}: {error}", entry.var));
                }
                self.set(entry.var, record.value);
            }
        }
        Ok(())
    }

    /// Leaves `name` out of the child: an optional secret nothing had.
    pub fn leave_unset(&mut self, name: String) {
        self.unset.push(name);
    }

    /// The variables of the file secrets left out, in order.
    pub fn omitted(&self) -> &[String] {
        &self.omitted
    }

    /// Sets `name`, replacing an earlier definition.
    fn set(&mut self, name: String, value: SecretValue) {
        self.vars.push((name, value));
    }

    /// Removes every definition that a later one of the same name replaces
    /// (dropping wipes its value); the others keep their order. Called once,
    /// when every secret is in.
    pub(crate) fn keep_last_definitions(&mut self) {
        let mut seen: HashSet<&str, FnvBuild> =
            HashSet::with_capacity_and_hasher(self.vars.len(), FnvBuild::default());
        // An unresolved optional secret comes after every `pass` variable
        // (and no `[env]` or other secret has its name): it replaces them all.
        seen.extend(self.unset.iter().map(String::as_str));
        let mut replaced = vec![false; self.vars.len()];
        // From the last definition back: a name already seen is replaced.
        for (index, (name, _)) in self.vars.iter().enumerate().rev() {
            replaced[index] = !seen.insert(name);
        }
        drop(seen);
        let mut index = 0;
        self.vars.retain(|_| {
            index += 1;
            !replaced[index - 1]
        });
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_bytes())
    }

    /// The variables, in order.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &SecretValue)> {
        self.vars.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The environment block for `execve` and the memfds the child must inherit.
    /// Each value is copied once, into the block, and wiped as it goes.
    pub fn into_exec_parts(self) -> (EnvBlock, Vec<OwnedFd>) {
        let size = self.vars.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
        let mut block = EnvBlock {
            bytes: Zeroizing::new(Vec::with_capacity(size)),
            starts: Vec::with_capacity(self.vars.len()),
        };
        for (name, value) in self.vars {
            // NUL bytes were refused in `build`, and names are variable names
            // or the parent's; an entry with one would be cut short, so it is left out.
            if name.as_bytes().contains(&0) || value.as_bytes().contains(&0) {
                continue;
            }
            block.starts.push(block.bytes.len());
            block.bytes.extend_from_slice(name.as_bytes());
            block.bytes.push(b'=');
            block.bytes.extend_from_slice(value.as_bytes());
            block.bytes.push(0);
        }
        (block, self.files)
    }
}

/// The environment as `execve` takes it: every `NAME=value` and its NUL in
/// one buffer, wiped when dropped (one allocation, not one per variable).
pub struct EnvBlock {
    bytes: Zeroizing<Vec<u8>>,
    starts: Vec<usize>,
}

impl EnvBlock {
    /// The bytes `execve` copies from the block (every entry with its NUL),
    /// and the number of entries.
    pub fn size(&self) -> (usize, usize) {
        (self.bytes.len(), self.starts.len())
    }

    /// The names of the `count` variables with the longest values, longest first.
    pub fn largest(&self, count: usize) -> Vec<String> {
        let ends = self
            .starts
            .iter()
            .skip(1)
            .copied()
            .chain([self.bytes.len()]);
        let mut entries: Vec<(usize, &[u8])> = self
            .starts
            .iter()
            .zip(ends)
            .map(|(&start, end)| {
                let entry = &self.bytes[start..end - 1];
                let name_end = entry.iter().position(|&b| b == b'=').unwrap_or(entry.len());
                (entry.len() - name_end, &entry[..name_end])
            })
            .collect();
        entries.sort_unstable_by(|a, b| b.cmp(a));
        entries
            .iter()
            .take(count)
            .map(|(_, name)| String::from_utf8_lossy(name).into_owned())
            .collect()
    }

    /// A null-terminated array of pointers to the entries, valid while the
    /// block lives (its buffer is never changed after it is built).
    pub fn pointers(&self) -> Vec<*const libc::c_char> {
        self.starts
            .iter()
            .map(|&start| self.bytes[start..].as_ptr().cast())
            .chain(std::iter::once(std::ptr::null()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_definition_replaces_an_earlier_one_in_its_own_place() {
        let mut env = ChildEnv::new(&[], &[], FileSecrets::Omit, 0).unwrap();
        for (name, value) in [("B", "1"), ("A", "2"), ("B", "3"), ("C", "4"), ("A", "5")] {
            env.set(name.into(), SecretValue::from(value));
        }
        env.keep_last_definitions();
        let vars: Vec<_> = env
            .vars()
            .map(|(name, value)| (name, value.as_str().unwrap()))
            .collect();
        assert_eq!(vars, [("B", "3"), ("C", "4"), ("A", "5")]);
        assert_eq!(env.get("A"), Some(&b"5"[..]));
        assert_eq!(env.get("D"), None);
    }

    #[test]
    fn the_exec_block_holds_each_entry_once_in_order() {
        let mut env = ChildEnv::new(&[], &[], FileSecrets::Omit, 0).unwrap();
        for (name, value) in [("A", "1"), ("EMPTY", ""), ("C", "x=y z")] {
            env.set(name.into(), SecretValue::from(value));
        }
        let (block, files) = env.into_exec_parts();
        assert!(files.is_empty());
        let pointers = block.pointers();
        assert_eq!(pointers.last(), Some(&std::ptr::null()));
        let entries: Vec<_> = pointers[..pointers.len() - 1]
            .iter()
            // SAFETY: each pointer is to a NUL-terminated entry of the live block.
            .map(|&p| unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes().to_vec())
            .collect();
        assert_eq!(entries, [&b"A=1"[..], b"EMPTY=", b"C=x=y z"]);
    }
}
