//! Finding ASCII separators in text with `memchr`, and splitting there.
//!
//! `str::split(char)`, `split_once(char)` and `find(&str)` look for the
//! character one byte at a time; on the run path they are called for every
//! secret (dotted names, `ENC[...]` fields, manifest and YAML lines), and with
//! a thousand secrets that scanning was a visible share of the whole run.
//! These give the same answers. Cutting at an ASCII byte always lands on a
//! character boundary, so every piece is valid text.
//!
//! On x86-64 the search is memchr's SSE2 one, which every x86-64 processor
//! has, not `memchr::memchr`: that one asks the processor for AVX2 on its
//! first call, and std's detection behind it runs seven `cpuid`
//! instructions. In a virtual machine each `cpuid` traps to the hypervisor
//! (over 8 µs each on the machine of BENCHMARKS.md): about a fifth of
//! kstrun's own start-up cost in a run with secrets from the environment,
//! for separators that are mostly a few bytes apart.

/// The pieces of `text` between occurrences of `byte`, as `text.split(byte as char)`.
pub fn split(text: &str, byte: u8) -> impl Iterator<Item = &str> + Clone {
    debug_assert!(byte.is_ascii());
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match find_byte(byte, current.as_bytes()) {
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
    let at = find_byte(byte, text.as_bytes())?;
    Some((&text[..at], &text[at + 1..]))
}

/// Where the two ASCII bytes `pair` first occur in `text`, as `text.find(pair)`.
/// A scan for the second byte (`#`, or the space that `ENC[...]` scalars
/// never hold): much cheaper than a substring search on the long scalars of
/// a large SOPS file.
pub fn find_pair(text: &str, pair: &[u8; 2]) -> Option<usize> {
    debug_assert!(pair.is_ascii());
    let bytes = text.as_bytes();
    let mut from = 1;
    while from <= bytes.len() {
        let at = from + find_byte(pair[1], &bytes[from..])?;
        if bytes[at - 1] == pair[0] {
            return Some(at - 1);
        }
        from = at + 1;
    }
    None
}

/// The lines of `text`, each with its `\n` if it has one, as `text.split_inclusive('\n')`.
pub fn lines_inclusive(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = find_byte(b'\n', rest.as_bytes()).map_or(rest.len(), |at| at + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        Some(line)
    })
}

/// Where `byte` first occurs in `bytes`, as `memchr::memchr` (see the module docs).
pub fn find_byte(byte: u8, bytes: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(searcher) = memchr::arch::x86_64::sse2::memchr::One::new(byte) {
        return searcher.find(bytes);
    }
    memchr::memchr(byte, bytes)
}

/// How many times `needle` occurs in `bytes`, not overlapping, as
/// `memchr::memmem::find_iter(..).count()` (whose searcher asks the processor
/// for AVX2, see the module docs), except that an empty needle occurs 0
/// times here. A scan for the needle's first byte: meant for needles that
/// seldom start where they do not occur.
pub fn count_occurrences(bytes: &[u8], needle: &[u8]) -> usize {
    let Some((&first, _)) = needle.split_first() else {
        return 0;
    };
    let (mut count, mut from) = (0, 0);
    while let Some(at) = find_byte(first, &bytes[from..]).map(|at| from + at) {
        if bytes[at..].starts_with(needle) {
            count += 1;
            from = at + needle.len();
        } else {
            from = at + 1;
        }
    }
    count
}

/// How many times `byte` occurs in `bytes`, as `memchr::memchr_iter(..).count()`.
pub fn count_byte(byte: u8, bytes: &[u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if let Some(searcher) = memchr::arch::x86_64::sse2::memchr::One::new(byte) {
        return searcher.count(bytes);
    }
    memchr::memchr_iter(byte, bytes).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_pieces_are_those_of_std(text in "[a .,\n\u{e9}-]{0,80}", byte in prop::sample::select(vec![b'.', b',', b'\n'])) {
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

        /// Long enough for the vector code's blocks and the tails after them.
        #[test]
        fn byte_searches_agree_with_a_plain_scan(bytes in prop::collection::vec(prop::sample::select(vec![b'a', b'\n', b'#', 0xe9]), 0..300), byte in prop::sample::select(vec![b'a', b'\n', b'#', b'z'])) {
            prop_assert_eq!(find_byte(byte, &bytes), bytes.iter().position(|&b| b == byte));
            prop_assert_eq!(count_byte(byte, &bytes), bytes.iter().filter(|&&b| b == byte).count());
            for needle in [&b"a#"[..], b"##", b"aaa", b"\n"] {
                prop_assert_eq!(
                    count_occurrences(&bytes, needle),
                    memchr::memmem::find_iter(&bytes, needle).count()
                );
            }
        }
    }
}
