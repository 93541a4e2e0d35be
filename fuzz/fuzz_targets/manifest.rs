//! The manifest parser on arbitrary text: no panic, no hang, and an error
//! never echoes a value. Seeds plant `planted-secret-4711` as a string value;
//! it may be echoed only where the input made it a key (keys are names).

#![no_main]

use kstrun::manifest::Manifest;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

const PLANTED: &str = "planted-secret-4711";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // A folder that does not exist: a `config = ...` key finds nothing.
    let file = PathBuf::from("kstrun-fuzz-no-such-folder").join("kstrun.toml");
    for scope in [None, Some("production")] {
        if let Err(e) = Manifest::parse(&text, &file, scope) {
            let shown = format!("{e} {e:?}");
            if shown.contains(PLANTED) && !planted_in_a_key(&text) {
                panic!("a manifest error echoes a planted value: {shown}");
            }
        }
    }
});

/// Whether the planted text is (part of) a key, or the text is not TOML at
/// all and the planted text appears outside quotes (then it is not a value).
fn planted_in_a_key(text: &str) -> bool {
    match toml::from_str::<toml::Table>(text) {
        Ok(table) => key_holds(&toml::Value::Table(table)),
        Err(_) => text
            .match_indices(PLANTED)
            .any(|(at, _)| !matches!(text[..at].chars().last(), Some('"' | '\''))),
    }
}

fn key_holds(value: &toml::Value) -> bool {
    match value {
        toml::Value::Table(t) => t.iter().any(|(k, v)| k.contains(PLANTED) || key_holds(v)),
        toml::Value::Array(a) => a.iter().any(key_holds),
        _ => false,
    }
}
