//! A program that resolves its own secrets with kstrun's library, instead of
//! being started by the `kstrun` command.
//!
//! It asks the standard cascade (env → keyring → sops → default) for each
//! dotted path given on the command line (default: `database.url`) and prints
//! where each came from and a summary of it — never the value. The value is
//! only ever seen inside `sensitive`, which wipes it when the closure returns
//! or panics.
//!
//! ```sh
//! KSTLIB_DATABASE_URL=postgres://app:pw@db/app cargo run --example library
//! cargo run --example library -- api.stripe_key mail.smtp.password
//! ```

use kstrun::secrets::{sensitive, ResolverSettings, SecretResolver};
use std::process::ExitCode;

// Optional, but it is what the kstrun binary does: every heap block freed
// (copies made while parsing or growing strings included) is wiped.
#[global_allocator]
static ALLOCATOR: kstrun::alloc::ZeroizingAllocator = kstrun::alloc::ZeroizingAllocator;

fn main() -> ExitCode {
    let mut paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        paths.push("database.url".to_string());
    }
    // The same settings a kstrun.toml holds: env prefix, keyring service,
    // sops file... `ResolverSettings::default()` is what an empty manifest gives.
    let mut resolver = SecretResolver::from_settings(ResolverSettings::default());
    let mut missing = 0;
    for path in &paths {
        match resolver.resolve_secret(path) {
            Ok(record) => {
                // Debug output of a record shows where it came from, never the value.
                println!("{path}: {record:?}");
                let summary = sensitive(record, |value| describe(value.as_bytes()));
                println!("{path}: {summary}");
            }
            Err(error) => {
                // Errors name the path and the providers tried, never a value.
                eprintln!("{path}: {error}");
                missing += 1;
            }
        }
    }
    // Dropping the resolver wipes its caches (decrypted documents, keys).
    drop(resolver);
    if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What a program might check about a secret without showing any of it
/// (not even a URL's scheme: whatever comes before `://` is the value's too).
fn describe(value: &[u8]) -> String {
    let kind = if looks_like_url(value) {
        "a URL"
    } else {
        "an opaque value"
    };
    format!("{} bytes, {kind}", value.len())
}

/// Whether `value` holds `://`.
fn looks_like_url(value: &[u8]) -> bool {
    value.windows(3).any(|w| w == b"://")
}
