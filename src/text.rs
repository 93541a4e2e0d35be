//! Splitting text at an ASCII byte, found with `memchr`.
//!
//! `str::split(char)` and `split_once(char)` look for the character one byte
//! at a time; on the run path they are called for every secret (dotted
//! names, `ENC[...]` fields, manifest and YAML lines), and with a thousand
//! secrets that scanning was a visible share of the whole run. These give the
//! same pieces. Cutting at an ASCII byte always lands on a character
//! boundary, so every piece is valid text.

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
        fn the_pieces_are_those_of_std(text in "[a.,\n\u{e9}-]{0,12}", byte in prop::sample::select(vec![b'.', b',', b'\n'])) {
            let std_pieces: Vec<&str> = text.split(byte as char).collect();
            prop_assert_eq!(split(&text, byte).collect::<Vec<_>>(), std_pieces);
            prop_assert_eq!(split_once(&text, byte), text.split_once(byte as char));
            let std_lines: Vec<&str> = text.split_inclusive('\n').collect();
            prop_assert_eq!(lines_inclusive(&text).collect::<Vec<_>>(), std_lines);
        }
    }
}
