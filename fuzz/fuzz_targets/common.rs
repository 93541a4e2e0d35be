//! Shared by the fuzz targets: the committed test-only age key and fixtures,
//! and the check that an error message carries no plaintext.

#![allow(dead_code)]

use kstrun::sops::{format, identities, native, Document, Environment, Format, Metadata, Node};
use std::time::Duration;

/// The test-only age key the fixtures are encrypted for.
pub const TEST_KEY: &str = include_str!("../../tests/fixtures/sops/test-age-key.txt");

/// The fixtures mutated by `sops_decrypt`, by the format selector byte.
pub const FIXTURES: [(Format, &[u8]); 5] = [
    (
        Format::Yaml,
        include_bytes!("../../tests/fixtures/sops/basic.sops.yaml"),
    ),
    (
        Format::Json,
        include_bytes!("../../tests/fixtures/sops/basic.sops.json"),
    ),
    (
        Format::Dotenv,
        include_bytes!("../../tests/fixtures/sops/basic.sops.env"),
    ),
    (
        Format::Ini,
        include_bytes!("../../tests/fixtures/sops/basic.sops.ini"),
    ),
    (
        Format::Binary,
        include_bytes!("../../tests/fixtures/sops/blob.sops.bin"),
    ),
];

/// The formats a tree parser can be asked for, by selector byte.
pub fn format_of(selector: u8) -> Format {
    FIXTURES[usize::from(selector) % FIXTURES.len()].0
}

/// The test identities, gathered the way kstrun gathers them (from `SOPS_AGE_KEY`).
pub fn test_identities() -> Vec<native::AgeIdentity> {
    let env = Environment::default().with("SOPS_AGE_KEY", TEST_KEY);
    identities::gather(&env, None, Duration::from_secs(1)).identities
}

/// Decrypts `bytes` natively: parse, metadata, data key, values, MAC.
pub fn decrypt(
    bytes: &[u8],
    format: Format,
    ids: &[native::AgeIdentity],
) -> kstrun::sops::Result<Document> {
    let file = format::parse(bytes, format)?;
    let meta = Metadata::from_raw(&file.metadata)?;
    let key = native::unwrap_data_key(&meta, ids)?;
    native::decrypt(&file, &meta, &key)
}

/// Every plaintext leaf of every fixture that is long enough to be recognised
/// (short ones such as `5432` or `True` could appear in a message by chance).
pub fn fixture_plaintexts(ids: &[native::AgeIdentity]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (format, bytes) in FIXTURES {
        let document = decrypt(bytes, format, ids).expect("the committed fixtures decrypt");
        for root in document.roots() {
            collect(root, &mut out);
        }
    }
    out.retain(|p| p.len() >= 6 && !p.iter().all(u8::is_ascii_digit));
    out.sort();
    out.dedup();
    out
}

fn collect(node: &Node, out: &mut Vec<Vec<u8>>) {
    match node {
        Node::Map(items) => items.iter().for_each(|(_, n)| collect(n, out)),
        Node::List(items) => items.iter().for_each(|n| collect(n, out)),
        Node::Leaf(leaf) => {
            out.push(leaf.text.to_vec());
            // Multi-line values: each line is a secret too.
            for line in leaf.text.split(|&b| b == b'\n') {
                out.push(line.to_vec());
            }
        }
        Node::Null => {}
    }
}

/// Panics when `message` holds a plaintext that the input did not itself
/// contain (text already in the input may be echoed, e.g. as a key name).
pub fn assert_no_plaintext(message: &str, input: &[u8], plaintexts: &[Vec<u8>]) {
    for plain in plaintexts {
        if contains(message.as_bytes(), plain) && !contains(input, plain) {
            panic!(
                "an error message holds a plaintext: {message:?} ({} bytes)",
                plain.len()
            );
        }
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
