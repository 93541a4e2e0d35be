//! The child's environment, built exactly as declared.
//!
//! Order and precedence: the `pass` variables present in the parent (in the
//! parent's order), then `[env]`, then the resolved secrets (in manifest
//! order); a later definition of a name replaces the earlier one. Nothing else
//! is added. Values are held in `SecretValue`s until they are turned into the
//! `NAME=value` block handed to `execve`.

use crate::manifest::{Delivery, PassPattern};
use crate::memfd;
use crate::plan::Entry;
use crate::secrets::{SecretRecord, SecretValue};
use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStringExt;

/// Whether `as = "file"` secrets get a memfd (run) or are left out (export).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileSecrets {
    /// Create sealed memfds.
    Memfd,
    /// Leave file secrets out of the environment.
    Omit,
}

/// The environment of the child, plus the memfds it must inherit.
///
/// A replaced definition leaves a hole in `vars` (wiped at once) rather than
/// being searched for and removed: `set` stays O(1), so a thousand secrets
/// cost a thousand inserts, not half a million comparisons.
#[derive(Debug, Default)]
pub struct ChildEnv {
    vars: Vec<Option<(String, SecretValue)>>,
    /// Where each name currently lives in `vars`.
    slots: HashMap<String, usize>,
    files: Vec<OwnedFd>,
}

impl ChildEnv {
    /// Builds the environment from the parent's `pass` variables, `[env]` and resolved secrets.
    pub fn build(
        pass: &[PassPattern],
        env: &[(String, String)],
        secrets: Vec<(Entry, SecretRecord)>,
        files: FileSecrets,
    ) -> Result<ChildEnv, String> {
        let mut child = ChildEnv::default();
        // Reading the parent environment copies every variable; with nothing
        // to pass (the common case) that work and those copies are skipped.
        if !pass.is_empty() {
            for (name, value) in std::env::vars_os() {
                let name = name.into_vec();
                if pass.iter().any(|p| p.matches(&name)) {
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
        for (entry, record) in secrets {
            match entry.delivery {
                Delivery::File if files == FileSecrets::Omit => continue,
                Delivery::File => {
                    let fd = memfd::sealed_file(&entry.var, &record.value).map_err(|e| {
                        format!("secret {} ({}): {e}", entry.var, entry.request.name)
                    })?;
                    child.set(entry.var, SecretValue::from_string(memfd::fd_path(&fd)));
                    child.files.push(fd);
                }
                Delivery::Env | Delivery::Json => {
                    if record.value.as_bytes().contains(&0) {
                        return Err(format!(
                            "secret {} ({}) from {}: value contains a NUL byte, which an environment variable cannot hold; deliver it with as = \"file\"",
                            entry.var, entry.request.name, record.source
                        ));
                    }
                    child.set(entry.var, record.value);
                }
            }
        }
        Ok(child)
    }

    /// Sets `name`, replacing an earlier definition.
    fn set(&mut self, name: String, value: SecretValue) {
        let slot = self.vars.len();
        if let Some(old) = self.slots.insert(name.clone(), slot) {
            // Dropping the old value wipes it.
            self.vars[old] = None;
        }
        self.vars.push(Some((name, value)));
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        let slot = *self.slots.get(name)?;
        self.vars[slot].as_ref().map(|(_, v)| v.as_bytes())
    }

    /// The variables, in order.
    pub fn vars(&self) -> impl Iterator<Item = (&str, &SecretValue)> {
        self.vars.iter().flatten().map(|(n, v)| (n.as_str(), v))
    }

    /// The `NAME=value` strings for `execve` and the memfds the child must inherit.
    /// Each value is moved, not copied: the `SecretValue`s are wiped as they go.
    pub fn into_exec_parts(self) -> (Vec<CString>, Vec<OwnedFd>) {
        let mut block = Vec::with_capacity(self.slots.len());
        for (name, value) in self.vars.into_iter().flatten() {
            let mut bytes = Vec::with_capacity(name.len() + 1 + value.len() + 1);
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(b'=');
            bytes.extend_from_slice(value.as_bytes());
            drop(value);
            // NUL bytes were refused in `build`, and names are checked variable names.
            if let Ok(entry) = CString::new(bytes) {
                block.push(entry);
            }
        }
        (block, self.files)
    }
}
