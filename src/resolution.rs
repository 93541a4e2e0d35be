//! Resolving a plan's entries: every entry is tried, every failure kept.
//!
//! `run` and `export` need all-or-nothing (one error listing every missing or
//! failing secret); `check` needs the outcome of each entry. Both start here.

use crate::error::{EntryFailure, Error};
use crate::plan::Entry;
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

/// The resolved records, or one error listing every failure. Unset optional entries are dropped.
pub fn require_all(
    outcomes: Vec<Outcome>,
    report: &Reporter,
) -> Result<Vec<(Entry, SecretRecord)>, Error> {
    let mut failures = Vec::new();
    // Collected from the outcomes' own iterator, so the standard library
    // reuses their allocation: a thousand entries are not copied to fresh pages.
    let records = outcomes
        .into_iter()
        .filter_map(|Outcome { entry, result }| match result {
            Ok(Some(record)) => {
                if report.verbose() {
                    report.info(
                        format!("{} ← {} {}", entry.var, record.source, record.location())
                            .trim_end(),
                    );
                }
                Some((entry, record))
            }
            Ok(None) => {
                if report.verbose() {
                    report.info(&format!(
                        "{} unset (optional; no provider has {})",
                        entry.var, entry.request.name
                    ));
                }
                None
            }
            Err(error) => {
                failures.push(EntryFailure {
                    var: entry.var,
                    error,
                });
                None
            }
        })
        .collect();
    if failures.is_empty() {
        Ok(records)
    } else {
        Err(Error::Secrets(failures))
    }
}
