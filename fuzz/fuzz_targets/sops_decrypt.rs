//! Native decryption of mutated real sops files, with the test-only key:
//! parse, metadata, age data key, values, MAC. The first byte picks the
//! format. Properties: no panic, no hang, and an error message never holds
//! a plaintext of the fixtures (unless the mutated input itself does).

#![no_main]

#[path = "common.rs"]
mod common;

use kstrun::sops::native::AgeIdentity;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct State {
    ids: Vec<AgeIdentity>,
    plaintexts: Vec<Vec<u8>>,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let ids = common::test_identities();
        let plaintexts = common::fixture_plaintexts(&ids);
        assert!(
            plaintexts.len() >= 5,
            "the fixtures yield plaintexts to look for"
        );
        State { ids, plaintexts }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let state = state();
    if let Err(e) = common::decrypt(bytes, common::format_of(selector), &state.ids) {
        let shown = format!("{e} {e:?}");
        common::assert_no_plaintext(&shown, bytes, &state.plaintexts);
    }
});
