//! The `ENC[AES256_GCM,...]` value parser and the typed reading of decrypted
//! values, with the fixtures' real data key so that fixture values decrypt.
//!
//! First byte even: the rest is `aad\nENC[...]`, decrypted as found (the
//! type tag is not authenticated, so mutating it reaches the typed readers).
//! First byte odd: the rest is `type\nplaintext`; the plaintext is encrypted
//! here and decrypted back, so every byte string meets every type reader.
//! Properties: no panic, and an error never holds the plaintext.

#![no_main]

#[path = "common.rs"]
mod common;

use aes_gcm::aead::generic_array::typenum::U32;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use kstrun::sops::{format, native, Metadata, Plain, ValueCipher};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Keys {
    data_key: [u8; 32],
    cipher: ValueCipher,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ids = common::test_identities();
        let (format, bytes) = common::FIXTURES[0];
        let file = format::parse(bytes, format).expect("fixture parses");
        let meta = Metadata::from_raw(&file.metadata).expect("fixture metadata");
        let key = native::unwrap_data_key(&meta, &ids).expect("test key opens the fixture");
        Keys {
            data_key: *key,
            cipher: ValueCipher::new(&key),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (head, tail) = text.split_once('\n').unwrap_or(("", &text));
    let keys = keys();
    if mode % 2 == 0 {
        let _ = keys.cipher.decrypt(tail, head);
        return;
    }
    let (kind, plain) = (head, tail.as_bytes());
    let aad = "fuzz:value:";
    match keys.cipher.decrypt(&encrypt(keys, kind, plain, aad), aad) {
        Ok(Plain::Value { leaf, .. }) => {
            if kind == "str" || kind == "bytes" {
                assert_eq!(&leaf.text[..], plain, "text values come back unchanged");
            }
        }
        Ok(Plain::Comment) => {}
        Err(e) => {
            // The same kind with another plaintext gives the message's fixed
            // words: a plaintext found among them is not a leak.
            let words = match keys.cipher.decrypt(&encrypt(keys, kind, b"\x01", aad), aad) {
                Err(other) => format!("{other} {other:?}"),
                Ok(_) => String::new(),
            };
            if plain.len() >= 4
                && !common::contains(kind.as_bytes(), plain)
                && !common::contains(words.as_bytes(), plain)
            {
                let shown = format!("{e} {e:?}");
                assert!(
                    !common::contains(shown.as_bytes(), plain),
                    "an error holds the plaintext: {shown}"
                );
            }
        }
    }
});

/// `plain` as sops would store it with type tag `kind` at `aad`.
fn encrypt(keys: &Keys, kind: &str, plain: &[u8], aad: &str) -> String {
    let mut buffer = plain.to_vec();
    let iv = [7u8; 32];
    let gcm = AesGcm::<Aes256, U32>::new(GenericArray::from_slice(&keys.data_key));
    let tag = gcm
        .encrypt_in_place_detached(GenericArray::from_slice(&iv), aad.as_bytes(), &mut buffer)
        .expect("encryption of a short value");
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
        STANDARD.encode(&buffer),
        STANDARD.encode(iv),
        STANDARD.encode(tag)
    )
}
