//! Finding ASCII separators in text with `memchr`, and splitting there.
//!
//! `str::split(char)`, `split_once(char)` and `find(&str)` look for the
//! character one byte at a time; on the run path they are called for every
//! secret (dotted names, `ENC[...]` fields, manifest and YAML lines), and with
//! a thousand secrets that scanning was a visible share of the whole run.
//! These give the same answers. Cutting at an ASCII byte always lands on a
//! character boundary, so every piece is valid text.

/// The pieces of `text` between occurrences of `byte`, as `text.split(byte as char)`.
pub fn split(text: &str, byte: u8) -> impl Iterator<Item = &str> + Clone {
    debug_assert!(byte.is_ascii());
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(byte, current.as_bytes()) {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// The text before and after the first `byte`, as `text.split_once(byte as char)`.
pub fn split_once(text: &str, byte: u8) -> Option<(&str, &str)> {
    debug_assert!(byte.is_ascii());
    let at = memchr::memchr(byte, text.as_bytes())?;
    Some((&text[..at], &text[at + 1..]))
}

/// Where the two ASCII bytes `pair` first occur in `text`, as `text.find(pair)`.
/// A scan for the second byte (`#`, or the space that `ENC[...]` scalars
/// never hold): much cheaper than a substring search on the long scalars of
/// a large SOPS file.
pub fn find_pair(text: &str, pair: &[u8; 2]) -> Option<usize> {
    debug_assert!(pair.is_ascii());
    let bytes = text.as_bytes();
    memchr::memchr_iter(pair[1], bytes)
        .find(|&i| i > 0 && bytes[i - 1] == pair[0])
        .map(|i| i - 1)
}

/// The lines of `text`, each with its `\n` if it has one, as `text.split_inclusive('\n')`.
pub fn lines_inclusive(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |at| at + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        Some(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_pieces_are_those_of_std(text in "[a .,\n\u{e9}-]{0,12}", byte in prop::sample::select(vec![b'.', b',', b'\n'])) {
            let std_pieces: Vec<&str> = text.split(byte as char).collect();
            prop_assert_eq!(split(&text, byte).collect::<Vec<_>>(), std_pieces);
            prop_assert_eq!(split_once(&text, byte), text.split_once(byte as char));
            let std_lines: Vec<&str> = text.split_inclusive('\n').collect();
            prop_assert_eq!(lines_inclusive(&text).collect::<Vec<_>>(), std_lines);
            for pair in [b". ", b",,", b"\n."] {
                let std_place = text.find(std::str::from_utf8(pair).unwrap());
                prop_assert_eq!(find_pair(&text, pair), std_place);
            }
        }
    }
}
