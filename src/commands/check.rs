//! `kstrun check`: resolve everything, show where each secret comes from.
//!
//! It prints, per variable, the secret path, the tier that answered and where
//! (env name, file, keyring service) — never a value — then each provider's
//! state. Exit 0 when every required secret resolves, 1 otherwise; an invalid
//! manifest never gets this far (125).

use crate::child::{env_refuses, FileSecrets};
use crate::error::Error;
use crate::plan::Plan;
use crate::report::{printable, printable_inline};
use crate::resolution::{resolve_entries, Outcome};
use crate::secrets::{ProviderStatus, SecretResolver};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::fmt::Write as _;

/// One row of the report.
struct Row {
    var: String,
    path: String,
    required: bool,
    status: &'static str,
    provider: String,
    location: Vec<(&'static str, String)>,
    error: Option<String>,
}

/// Runs `check` and returns its exit status (0 or 1); an error only when
/// the report cannot be written (a closed pipe, a full disk).
pub fn run(plan: Plan, as_json: bool) -> Result<i32, Error> {
    let mut resolver = SecretResolver::from_settings(plan.settings);
    let outcomes = resolve_entries(&mut resolver, plan.entries);
    let statuses = resolver.statuses();
    drop(resolver);
    let rows: Vec<Row> = outcomes.into_iter().map(row).collect();
    let ok = rows.iter().all(|r| r.error.is_none());
    let manifest = plan.manifest_file.map(|f| f.display().to_string());
    let text = if as_json {
        format!("{}\n", to_json(manifest, &rows, &statuses, ok))
    } else {
        // Paths and reasons are the user's text: no control character
        // reaches the terminal raw (JSON escapes its own).
        printable(&table(manifest, &rows, &statuses)).into_owned()
    };
    super::write_stdout(text.as_bytes())?;
    Ok(if ok { 0 } else { 1 })
}

fn row(outcome: Outcome) -> Row {
    let Outcome { entry, result } = outcome;
    // A value the child's environment cannot hold fails `run`, so here too.
    let result = match result {
        // As `run` would deliver it.
        Ok(Some(record)) => match env_refuses(&entry, &record, FileSecrets::Memfd) {
            Some(error) => Err(error),
            None => Ok(Some(record)),
        },
        other => other,
    };
    let (status, provider, location, error) = match result {
        Ok(Some(record)) => {
            let location = record
                .metadata()
                .map(|(key, text)| (key, text.to_string()))
                .collect();
            ("ok", record.source.to_string(), location, None)
        }
        Ok(None) => ("unset", "-".to_string(), Vec::new(), None),
        Err(e) => {
            let status = if matches!(e, crate::secrets::SecretError::NotFound { .. }) {
                "missing"
            } else {
                "failed"
            };
            (status, "-".to_string(), Vec::new(), Some(e.to_string()))
        }
    };
    Row {
        var: entry.var,
        path: entry.request.name,
        required: entry.request.required,
        status,
        provider,
        location,
        error,
    }
}

/// The widest a column of the table is padded to.
const MAX_COLUMN: usize = 64;

/// The width of a column: its longest cell in characters, at least its
/// title's, at most `MAX_COLUMN`.
fn column_width<'a>(cells: impl Iterator<Item = &'a str>, title: usize) -> usize {
    cells
        .map(|cell| cell.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(title, MAX_COLUMN)
}

/// The report as a table. (`writeln!` into a `String` cannot fail.)
fn table(manifest: Option<String>, rows: &[Row], statuses: &[ProviderStatus]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "manifest: {}",
        printable_inline(manifest.as_deref().unwrap_or("(none)"))
    );
    // Cells as they will be shown (control characters escaped, tabs and
    // newlines too), measured in characters as `format!` pads them (a wide
    // or combining character still shifts its row). A column is as wide as
    // its longest cell, up to `MAX_COLUMN`: a longer name or path runs past
    // its column instead (a width also has to fit in `u16`, or `format!`
    // panics).
    let shown: Vec<(Cow<str>, Cow<str>)> = rows
        .iter()
        .map(|r| (printable_inline(&r.var), printable_inline(&r.path)))
        .collect();
    let var_w = column_width(shown.iter().map(|(var, _)| var.as_ref()), 8);
    let path_w = column_width(shown.iter().map(|(_, path)| path.as_ref()), 4);
    let _ = writeln!(
        out,
        "{:var_w$}  {:path_w$}  {:7}  {:8}  WHERE",
        "VARIABLE", "PATH", "STATUS", "PROVIDER"
    );
    for (r, (var, path)) in rows.iter().zip(&shown) {
        let place = r
            .location
            .iter()
            .map(|(k, v)| format!("{k}={}", printable_inline(v)))
            .collect::<Vec<_>>()
            .join(" ");
        let place = if r.required || r.status != "unset" {
            place
        } else {
            "(optional)".to_string()
        };
        let _ = writeln!(
            out,
            "{var:var_w$}  {path:path_w$}  {:7}  {:8}  {place}",
            r.status, r.provider
        );
        if let Some(error) = &r.error {
            let _ = writeln!(out, "{:var_w$}  {}", "", printable_inline(error));
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "providers:");
    for status in statuses {
        let reason = status
            .state
            .reason()
            .map(|r| format!(" ({})", printable_inline(r)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:8}  {}{reason}",
            status.source.name(),
            status.state.label()
        );
        for detail in &status.details {
            let _ = writeln!(out, "            {}", printable_inline(detail));
        }
        for warning in &status.warnings {
            let _ = writeln!(out, "            warning: {}", printable_inline(warning));
        }
    }
    out
}

fn to_json(manifest: Option<String>, rows: &[Row], statuses: &[ProviderStatus], ok: bool) -> Value {
    let secrets: Vec<Value> = rows
        .iter()
        .map(|r| {
            let place: serde_json::Map<String, Value> =
                r.location.iter().map(|(k, v)| (k.to_string(), Value::from(v.as_str()))).collect();
            json!({
                "variable": r.var,
                "path": r.path,
                "required": r.required,
                "status": r.status,
                "provider": if r.status == "ok" { Value::from(r.provider.as_str()) } else { Value::Null },
                "where": place,
                "error": r.error,
            })
        })
        .collect();
    let providers: Vec<Value> = statuses
        .iter()
        .map(|s| {
            json!({
                "name": s.source.name(),
                "state": s.state.label(),
                "reason": s.state.reason(),
                "details": s.details,
                "warnings": s.warnings,
            })
        })
        .collect();
    json!({ "manifest": manifest, "ok": ok, "secrets": secrets, "providers": providers })
}
