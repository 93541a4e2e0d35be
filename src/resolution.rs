//! Resolving a plan's entries: every entry is tried, every failure kept.
//!
//! `run` and `export` need all-or-nothing (one error listing every missing or
//! failing secret) and resolve straight into the child's environment;
//! `check` needs the outcome of each entry. Both start here.

use crate::child::{env_refuses, ChildEnv, FileSecrets};
use crate::error::{EntryFailure, Error};
use crate::plan::{Entry, Plan};
use crate::report::Reporter;
use crate::secrets::{SecretError, SecretRecord, SecretResolver};

/// The outcome of one entry.
#[derive(Debug)]
pub struct Outcome {
    /// The entry.
    pub entry: Entry,
    /// Its record, `None` for an optional secret nobody has, or the failure.
    pub result: Result<Option<SecretRecord>, SecretError>,
}

/// Resolves every entry, in order and as one batch, keeping every failure.
/// Each answer goes straight into its outcome: no list of answers is made
/// and then paired up (with a thousand entries, 88 KB more in memory at once).
pub fn resolve_entries(resolver: &mut SecretResolver, entries: Vec<Entry>) -> Vec<Outcome> {
    resolver.in_batch(|resolver| {
        entries
            .into_iter()
            .map(|entry| {
                let result = resolver.resolve(&entry.request);
                Outcome { entry, result }
            })
            .collect()
    })
}

/// The child's environment: the plan's `pass` and `[env]` variables, then
/// every secret, resolved in order and as one batch. All or nothing: one
/// error lists every secret that failed. The resolver's warnings and skipped
/// tiers are reported, then the resolver (caches, decrypted documents, keys,
/// connections) is dropped before this returns.
///
/// Each record goes into the environment as soon as it is resolved: no list
/// of outcomes is built. With a thousand secrets that list (an entry and a
/// record each, about 360 KB) and its copies cost 90 page faults and a tenth
/// of the run's time.
pub fn resolve_into_env(
    plan: Plan,
    files: FileSecrets,
    report: &Reporter,
) -> Result<ChildEnv, Error> {
    let mut child =
        ChildEnv::new(&plan.pass, &plan.env, files, plan.entries.len()).map_err(Error::Child)?;
    let mut resolver = SecretResolver::from_settings(plan.settings);
    let mut failures = Vec::new();
    // The first secret the environment could not take in (a memfd that could
    // not be made); reported only if nothing failed before.
    let mut unusable = None;
    resolver.in_batch(|resolver| {
        for entry in plan.entries {
            match resolver.resolve(&entry.request) {
                Ok(Some(record)) => {
                    if report.verbose() {
                        report.info(
                            format!("{} ← {} {}", entry.var, record.source, record.location())
                                .trim_end(),
                        );
                    }
                    if let Some(error) = env_refuses(&entry, &record, files) {
                        failures.push(EntryFailure {
                            var: entry.var,
                            error,
                        });
                    } else if failures.is_empty() && unusable.is_none() {
                        // Once anything failed nothing will run: no more is added.
                        unusable = child.add_secret(entry, record).err();
                    }
                }
                Ok(None) => {
                    if report.verbose() {
                        report.info(&format!(
                            "{} unset (optional; no provider has {})",
                            entry.var, entry.request.name
                        ));
                    }
                    child.leave_unset(entry.var);
                }
                Err(error) => failures.push(EntryFailure {
                    var: entry.var,
                    error,
                }),
            }
        }
    });
    for warning in resolver.warnings() {
        report.warning(&warning);
    }
    if report.verbose() {
        for (tier, reason) in resolver.skipped_tiers() {
            report.info(&format!("{tier} tier skipped: {reason}"));
        }
    }
    drop(resolver);
    if !failures.is_empty() {
        return Err(Error::Secrets(failures));
    }
    if let Some(message) = unusable {
        return Err(Error::Child(message));
    }
    child.keep_last_definitions();
    Ok(child)
}
