//! One encrypted value: `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]`.
//!
//! AES-256-GCM with sops's 32-byte nonce (GCM derives its counter from a
//! non-96-bit nonce through GHASH, which the `aes-gcm` crate supports through
//! its nonce-size parameter). The additional data binds each value to its
//! place: the map keys above it joined by `:`, plus a trailing `:`.
//!
//! After decryption the plaintext is read by its type tag exactly as sops
//! does, because the MAC hashes the value *re-printed* by Go (`True`,
//! shortest floats, normalised times), not the bytes as stored.

use super::error::{Result, SopsError};
use super::timefmt::Timestamp;
use super::tree::{go_json_float, go_plain_float, Leaf, LeafKind};
use crate::text;
use aes_gcm::aead::generic_array::typenum::U32;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use zeroize::Zeroizing;

/// AES-256-GCM with the 32-byte nonce sops uses.
type SopsGcm = AesGcm<Aes256, U32>;

/// A decrypted value, read by its type tag.
pub enum Plain {
    /// A data value: the bytes the MAC hashes, and the leaf for the tree.
    Value {
        /// The bytes sops hashes for this value, when they differ from the
        /// leaf's text (`None`: hash the text; text values are not copied).
        mac: Option<Zeroizing<Vec<u8>>>,
        /// The value as sops prints it.
        leaf: Leaf,
    },
    /// A comment: neither hashed nor part of the data.
    Comment,
}

/// The data key, ready to decrypt values. Its key schedule is wiped on drop
/// by the `aes` crate's `zeroize` feature.
pub struct ValueCipher(SopsGcm);

impl ValueCipher {
    /// A cipher for the 32-byte data key.
    pub fn new(data_key: &[u8; 32]) -> Self {
        ValueCipher(SopsGcm::new(GenericArray::from_slice(data_key)))
    }

    /// Decrypts `text` bound to `aad`, returning the raw plaintext and the type tag.
    pub fn decrypt_raw<'t>(
        &self,
        text: &'t str,
        aad: &str,
    ) -> Result<(Zeroizing<Vec<u8>>, &'t str)> {
        let parts = split(text)?;
        let decode = |what: &str, b64: &str| {
            STANDARD.decode(b64).map_err(|_| {
                SopsError::decryption(format!(
                    "invalid base64 in the {what} of an encrypted value"
                ))
            })
        };
        let mut buffer = Zeroizing::new(decode("data", parts.data)?);
        let iv = decode_fixed::<32>("iv", parts.iv)?;
        let tag = decode_fixed::<16>("tag", parts.tag)?;
        let iv = iv.map_err(|len| {
            SopsError::decryption(format!(
                "an encrypted value has a {len}-byte IV; sops uses 32"
            ))
        })?;
        let tag =
            tag.map_err(|_| SopsError::decryption("an encrypted value has a malformed tag"))?;
        self.0
            .decrypt_in_place_detached(
                GenericArray::from_slice(&iv),
                aad.as_bytes(),
                &mut buffer,
                GenericArray::from_slice(&tag),
            )
            .map_err(|_| {
                SopsError::decryption(
                    "authentication failed (wrong key, or the value or its place was changed)",
                )
            })?;
        Ok((buffer, parts.kind))
    }

    /// Decrypts `text` bound to `aad` and reads it by its type tag.
    pub fn decrypt(&self, text: &str, aad: &str) -> Result<Plain> {
        let (raw, kind) = self.decrypt_raw(text, aad)?;
        read_typed(raw, kind)
    }
}

/// Decodes base64 that must hold exactly `N` bytes, without a heap buffer.
/// The outer error is bad base64; the inner one the decoded length when it is not `N`.
fn decode_fixed<const N: usize>(
    what: &str,
    b64: &str,
) -> Result<std::result::Result<[u8; N], usize>> {
    let invalid = || {
        SopsError::decryption(format!(
            "invalid base64 in the {what} of an encrypted value"
        ))
    };
    let mut out = [0u8; 64];
    if b64.len() > 84 {
        // Too long for the buffer: decode on the heap only to report the length.
        let len = STANDARD.decode(b64).map_err(|_| invalid())?.len();
        return Ok(Err(len));
    }
    let len = STANDARD
        .decode_slice(b64, &mut out)
        .map_err(|_| invalid())?;
    match out.get(..len).and_then(|b| <[u8; N]>::try_from(b).ok()) {
        Some(bytes) => Ok(Ok(bytes)),
        None => Ok(Err(len)),
    }
}

struct Parts<'t> {
    data: &'t str,
    iv: &'t str,
    tag: &'t str,
    kind: &'t str,
}

fn split(text: &str) -> Result<Parts<'_>> {
    let malformed = || SopsError::decryption("a value is not in sops's ENC[AES256_GCM,...] form");
    let body = text
        .strip_prefix("ENC[AES256_GCM,")
        .and_then(|rest| rest.strip_suffix(']'))
        .ok_or_else(malformed)?;
    // Cut at commas (base64 has none; the type tag keeps any that follow):
    // a byte scan, cheaper than searching for each field's name.
    let (data, rest) = text::split_once(body, b',').ok_or_else(malformed)?;
    let (iv, rest) = text::split_once(rest, b',').ok_or_else(malformed)?;
    let (tag, kind) = text::split_once(rest, b',').ok_or_else(malformed)?;
    Ok(Parts {
        data: data.strip_prefix("data:").ok_or_else(malformed)?,
        iv: iv.strip_prefix("iv:").ok_or_else(malformed)?,
        tag: tag.strip_prefix("tag:").ok_or_else(malformed)?,
        kind: kind.strip_prefix("type:").ok_or_else(malformed)?,
    })
}

/// Reads decrypted bytes by sops's type tag.
fn read_typed(mut raw: Zeroizing<Vec<u8>>, kind: &str) -> Result<Plain> {
    let bad =
        |what: &str| SopsError::decryption(format!("a decrypted value is not a valid {what}"));
    // Borrowed, never copied: the plaintext stays in its one wiping buffer.
    fn utf8<'r>(raw: &'r [u8], kind: &str) -> Result<&'r str> {
        std::str::from_utf8(raw)
            .map_err(|_| SopsError::decryption(format!("a decrypted value is not a valid {kind}")))
    }
    // Text values keep the decryption buffer itself: no copy is made.
    let same = |leaf_kind: LeafKind, raw: &mut Zeroizing<Vec<u8>>| Plain::Value {
        mac: None,
        leaf: Leaf::new(leaf_kind, std::mem::take(&mut **raw)),
    };
    let (mac, leaf_kind, text): (Vec<u8>, LeafKind, Vec<u8>) = match kind {
        "str" => return Ok(same(LeafKind::Str, &mut raw)),
        "bytes" => return Ok(same(LeafKind::Bytes, &mut raw)),
        "int" => {
            let n: i64 = utf8(&raw, kind)?.parse().map_err(|_| bad("int"))?;
            let leaf = Leaf::new(LeafKind::Int, n.to_string().into_bytes());
            return Ok(Plain::Value { mac: None, leaf });
        }
        "float" => {
            let f: f64 = utf8(&raw, kind)?.parse().map_err(|_| bad("float"))?;
            (
                go_plain_float(f).into_bytes(),
                LeafKind::Float,
                go_json_float(f).into_bytes(),
            )
        }
        "bool" => {
            let b = match utf8(&raw, kind)? {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
                "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
                _ => return Err(bad("bool")),
            };
            let (mac, text) = if b {
                ("True", "true")
            } else {
                ("False", "false")
            };
            (mac.into(), LeafKind::Bool, text.into())
        }
        "time" => {
            let t = Timestamp::parse(utf8(&raw, kind)?).ok_or_else(|| bad("time"))?;
            let leaf = Leaf::new(LeafKind::Time, t.to_rfc3339_nano().into_bytes());
            return Ok(Plain::Value { mac: None, leaf });
        }
        "comment" => return Ok(Plain::Comment),
        _ => {
            return Err(SopsError::decryption(
                "an encrypted value has an unknown type tag",
            ))
        }
    };
    Ok(Plain::Value {
        mac: Some(Zeroizing::new(mac)),
        leaf: Leaf::new(leaf_kind, text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::aead::Aead;

    fn seal(key: &[u8; 32], plain: &str, aad: &str, kind: &str) -> String {
        let iv = [7u8; 32];
        let cipher = SopsGcm::new(GenericArray::from_slice(key));
        let out = cipher
            .encrypt(
                GenericArray::from_slice(&iv),
                aes_gcm::aead::Payload {
                    msg: plain.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .unwrap();
        let (data, tag) = out.split_at(out.len() - 16);
        format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
            STANDARD.encode(data),
            STANDARD.encode(iv),
            STANDARD.encode(tag)
        )
    }

    fn value(plain: Plain) -> (String, String) {
        match plain {
            Plain::Value { mac, leaf } => (
                String::from_utf8(mac.as_deref().unwrap_or(&leaf.text).to_vec()).unwrap(),
                String::from_utf8(leaf.text.to_vec()).unwrap(),
            ),
            Plain::Comment => ("#".into(), "#".into()),
        }
    }

    #[test]
    fn types_are_read_and_reprinted_like_sops() {
        let key = [1u8; 32];
        let c = ValueCipher::new(&key);
        let cases = [
            ("str", "hello", "hello", "hello"),
            ("int", "042", "42", "42"),
            ("float", "1e21", "1000000000000000000000", "1e+21"),
            ("bool", "True", "True", "true"),
            ("bool", "f", "False", "false"),
            (
                "time",
                "2024-01-01T00:00:00.500Z",
                "2024-01-01T00:00:00.5Z",
                "2024-01-01T00:00:00.5Z",
            ),
        ];
        for (kind, plain, mac, text) in cases {
            let enc = seal(&key, plain, "a:b:", kind);
            assert_eq!(
                value(c.decrypt(&enc, "a:b:").unwrap()),
                (mac.into(), text.into()),
                "{kind}"
            );
        }
        assert!(matches!(
            c.decrypt(&seal(&key, "x", "a:", "comment"), "a:").unwrap(),
            Plain::Comment
        ));
    }

    #[test]
    fn wrong_place_wrong_key_and_garbage_fail_without_the_value() {
        let key = [1u8; 32];
        let enc = seal(&key, "topsecret", "a:b:", "str");
        let c = ValueCipher::new(&key);
        for err in [
            c.decrypt(&enc, "a:c:").err().unwrap(),
            ValueCipher::new(&[2u8; 32])
                .decrypt(&enc, "a:b:")
                .err()
                .unwrap(),
            c.decrypt("ENC[AES256_GCM,data:!!,iv:AA==,tag:AA==,type:str]", "a:")
                .err()
                .unwrap(),
            c.decrypt("ENC[garbage]", "a:").err().unwrap(),
            c.decrypt(&seal(&key, "abc", "a:", "int"), "a:")
                .err()
                .unwrap(),
            c.decrypt(&seal(&key, "abc", "a:", "weird"), "a:")
                .err()
                .unwrap(),
        ] {
            assert!(
                !err.reason.contains("topsecret") && !err.reason.contains("abc"),
                "{err}"
            );
        }
    }

    /// From the `enc_value` fuzz target: an unknown type tag gives one fixed
    /// message, naming neither the tag (text from the file) nor the value.
    #[test]
    fn unknown_type_tag_gives_a_fixed_message() {
        let key = [1u8; 32];
        let c = ValueCipher::new(&key);
        let err = c
            .decrypt(&seal(&key, "e ta", "a:", "f1ol"), "a:")
            .err()
            .unwrap();
        assert_eq!(err.reason, "an encrypted value has an unknown type tag");
    }
}
