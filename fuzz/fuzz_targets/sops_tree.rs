//! Each sops format's tree parser (YAML, JSON, dotenv, INI, binary envelope)
//! and the metadata reader on arbitrary bytes: no panic, no hang. The first
//! byte picks the format.

#![no_main]

#[path = "common.rs"]
mod common;

use kstrun::sops::{format, Metadata};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    if let Ok(file) = format::parse(bytes, common::format_of(selector)) {
        let _ = Metadata::from_raw(&file.metadata);
    }
});
