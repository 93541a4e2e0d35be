//! How sops types a plain (unquoted, untagged) YAML scalar: go-yaml v3's rules.
//!
//! serde_yaml follows YAML 1.2's core schema; go-yaml v3, which sops reads
//! YAML with, keeps some of YAML 1.1: `1_000` and `0X1F` are numbers, `017`
//! is octal (15) and `09` a float, and `2001-12-14` is a time. For an
//! encrypted value the type is in the `ENC[...]` tag and none of this
//! matters; for an unencrypted one it decides the value sops hands over
//! (with `mac_only_encrypted`, where the MAC does not cover it) and the
//! bytes it hashes (without). This is go-yaml's `resolve` for the untagged
//! case, rule for rule, over Go's `strconv` number syntax.

use super::timefmt::Timestamp;

/// What go-yaml makes of a plain scalar.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    /// A whole number past `i64`: sops refuses it ("unknown type: uint64").
    Uint(u64),
    Float(f64),
    Time(Timestamp),
    Str,
}

/// The type go-yaml v3 gives the plain scalar `text`.
pub fn resolve(text: &str) -> Plain {
    let first = text.bytes().next();
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Plain::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match first {
        Some(b'.') => float(text).map_or(Plain::Str, Plain::Float),
        Some(b'0'..=b'9' | b'+' | b'-') => number_or_time(text),
        _ => Plain::Str,
    }
}

/// The digit and sign case: a time, an integer (any base, `_` ignored) or
/// a float in YAML's decimal form.
fn number_or_time(text: &str) -> Plain {
    if let Some(time) = Timestamp::parse_yaml(text) {
        return Plain::Time(time);
    }
    let plain = text.replace('_', "");
    if let Some(n) = parse_int(&plain, 0) {
        return Plain::Int(n);
    }
    if let Some(n) = parse_uint(&plain, 0) {
        return Plain::Uint(n);
    }
    if yaml_style_float(&plain) {
        if let Some(f) = float(&plain) {
            return Plain::Float(f);
        }
    }
    // Prefixes go-yaml tries on its own as well; they differ from Go's base
    // 0 only at the edges (`0b-1` is -1).
    for (prefix, base) in [("0b", 2), ("0o", 8)] {
        if let Some(digits) = plain.strip_prefix(prefix) {
            if let Some(n) = parse_int(digits, base) {
                return Plain::Int(n);
            }
            if let Some(n) = parse_uint(digits, base) {
                return Plain::Uint(n);
            }
        } else if let Some(digits) = plain.strip_prefix('-').and_then(|p| p.strip_prefix(prefix)) {
            if let Some(n) = parse_uint(digits, base).and_then(|n| 0i64.checked_sub_unsigned(n)) {
                return Plain::Int(n);
            }
        }
    }
    Plain::Str
}

/// Go's `strconv.ParseInt(text, base, 64)` on text without `_`.
fn parse_int(text: &str, base: u32) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = parse_uint(digits, base)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseUint(text, base, 64)` on text without `_` (base 0:
/// `0b`, `0o`, `0x` in either case, or a leading `0` for octal).
fn parse_uint(text: &str, base: u32) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let (base, digits) = match (base, text.as_bytes()) {
        (0, [b'0', letter, _, ..]) if letter.eq_ignore_ascii_case(&b'b') => (2, &text[2..]),
        (0, [b'0', letter, _, ..]) if letter.eq_ignore_ascii_case(&b'o') => (8, &text[2..]),
        (0, [b'0', letter, _, ..]) if letter.eq_ignore_ascii_case(&b'x') => (16, &text[2..]),
        (0, [b'0', ..]) => (8, &text[1..]),
        (0, _) => (10, text),
        (base, _) => (base, text),
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let digit = c.to_digit(base)?;
        value = value
            .checked_mul(u64::from(base))?
            .checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// YAML's decimal float form, `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(text: &str) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut rest = text.as_bytes();
    if let [b'+' | b'-', tail @ ..] = rest {
        rest = tail;
    }
    let whole = digits(rest);
    rest = &rest[whole..];
    if let [b'.', tail @ ..] = rest {
        let fraction = digits(tail);
        if whole == 0 && fraction == 0 {
            return false;
        }
        rest = &tail[fraction..];
    } else if whole == 0 {
        return false;
    }
    if let [b'e' | b'E', tail @ ..] = rest {
        rest = tail;
        if let [b'+' | b'-', tail @ ..] = rest {
            rest = tail;
        }
        let exponent = digits(rest);
        if exponent == 0 {
            return false;
        }
        rest = &rest[exponent..];
    }
    rest.is_empty()
}

/// Go's `strconv.ParseFloat(text, 64)` for decimal text: `_` may stand
/// between two digits, and out of range (an infinite result) is an error
/// there, so the scalar stays a string.
fn float(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    // Rust also reads `inf`, `nan` and `infinity`; Go's spellings of those
    // are not reached here (the ones YAML knows were matched by name).
    if !bytes
        .iter()
        .all(|b| b.is_ascii_digit() || b"+-.eE_".contains(b))
        || !underscores_between_digits(bytes)
    {
        return None;
    }
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    digits.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Whether every `_` follows a digit and is followed by one.
fn underscores_between_digits(bytes: &[u8]) -> bool {
    let mut previous = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let next = bytes.get(i + 1);
            if !previous.is_some_and(|p: u8| p.is_ascii_digit())
                || !next.is_some_and(|n| n.is_ascii_digit())
            {
                return false;
            }
        }
        previous = Some(b);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pair checked against sops 3.11 decrypting a `mac_only_encrypted`
    /// file with the plain scalar unencrypted.
    #[test]
    fn plain_scalars_type_as_in_sops() {
        use Plain::*;
        for (text, expected) in [
            ("31", Int(31)),
            ("0X1F", Int(31)),
            ("0x_1F", Int(31)),
            ("1_000", Int(1000)),
            ("017", Int(15)),
            ("00", Int(0)),
            ("-0o17", Int(-15)),
            ("0b101", Int(5)),
            ("0B101", Int(5)),
            ("+12", Int(12)),
            ("09", Float(9.0)),
            ("1_000.5", Float(1000.5)),
            ("685.230_15e+03", Float(685230.15)),
            (".5", Float(0.5)),
            ("1.", Float(1.0)),
            ("1e3", Float(1000.0)),
            ("12345678901234567890123", Float(1.2345678901234568e22)),
            ("9223372036854775808", Uint(9223372036854775808)),
            ("1e400", Str),
            ("true", Bool(true)),
            ("yes", Str),
            ("on", Str),
            ("~", Null),
            ("Null", Null),
            ("v1.2", Str),
            ("3.11.0", Str),
            ("1st", Str),
            ("0x", Str),
            ("0b-1", Int(-1)),
            ("-0b101", Int(-5)),
            (".5_0", Float(0.5)),
            (".5__0", Str),
            (".5_", Str),
            ("2001-12-14t21:59:43z", Str),
            ("+.inf", Float(f64::INFINITY)),
        ] {
            assert_eq!(resolve(text), expected, "{text}");
        }
        assert!(matches!(resolve("2001-12-14"), Time(_)));
        assert!(matches!(resolve(".nan"), Float(f) if f.is_nan()));
    }
}
