//! What libyaml's own event stream says about a YAML text before serde_yaml reads it.
//!
//! Two things serde_yaml cannot give: a depth limit that takes effect
//! early, and how each scalar was written. serde_yaml loads a whole
//! document's events before it checks its depth limit (128), and libyaml's
//! time grows with the square of the nesting depth: a 200 KB SOPS file or
//! kstlib config of `[[[[...` kept kstrun busy for a minute before it was
//! refused, and no `timeout_ms` covers parsing. A guess at the depth from
//! the raw text was tried and fooled in many ways (brackets in quotes,
//! comments ended by a lone `\r`, tags before quotes); libyaml's events are
//! the YAML itself, read the same way serde_yaml then reads it, and reading
//! them stops at the first level too deep, before the cost adds up.
//!
//! The same pass bounds what aliases stand for (serde_yaml copies an
//! anchored node at each alias) and the number of `%TAG` directives (each
//! checked against all before it), and notes the scalars written plain or
//! with a tag that sops (go-yaml) may read as a number or a time, while
//! serde_yaml hands them over as text like quoted ones (see `sops::native`).
//! The parser is set up as serde_yaml sets up its own (UTF-8), so that both
//! read the same text the same way.

use std::collections::{HashMap, HashSet};
use std::ffi::CStr;
use std::mem::MaybeUninit;

/// The deepest nesting read: serde_yaml's own limit.
pub const MAX_DEPTH: usize = 128;

/// The most nodes a document may stand for once its aliases are followed
/// (serde_yaml copies an anchored node at every alias: a 30 KB file of
/// aliases to a large anchor took 3.6 GB).
pub const MAX_EXPANDED: usize = 250_000;

/// The most `%TAG` directives (libyaml checks each against all before it).
pub const MAX_TAG_DIRECTIVES: usize = 64;

/// Texts of the scalars sops may read as something other than text.
pub type PlainScalars = HashSet<String>;

/// Why a text is refused before serde_yaml reads it, and the line (1-based).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Nested past [`MAX_DEPTH`].
    TooDeep(usize),
    /// Aliases that stand for more than [`MAX_EXPANDED`] nodes, or more
    /// than [`MAX_TAG_DIRECTIVES`] `%TAG` directives.
    TooLarge(usize),
    /// Not YAML to libyaml (serde_yaml says why).
    Invalid(usize),
}

/// Reads `text`'s events as serde_yaml will (UTF-8), refusing nesting past
/// [`MAX_DEPTH`] and aliases that stand for more than [`MAX_EXPANDED`]
/// nodes before the cost adds up. When `collect`, returns the texts of the
/// scalars written plain that sops (go-yaml) would not read as text, and of
/// those tagged with anything but `!!str`.
pub fn survey(text: &[u8], collect: bool) -> Result<PlainScalars, Refusal> {
    let directives = crate::text::count_occurrences(text, b"%TAG");
    if directives > MAX_TAG_DIRECTIVES {
        return Err(Refusal::TooLarge(1));
    }
    let mut scalars = PlainScalars::new();
    let mut parser = MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit();
    // SAFETY: the parser is initialised before use and deleted once; it
    // reads `text`, which outlives it; each event is read only after a
    // successful parse (libyaml fills nothing on failure) and deleted once,
    // right after its fields are copied; the union field read matches the
    // event's type.
    unsafe {
        if unsafe_libyaml::yaml_parser_initialize(parser.as_mut_ptr()).fail {
            return Err(Refusal::Invalid(1));
        }
        let parser = parser.as_mut_ptr();
        unsafe_libyaml::yaml_parser_set_encoding(parser, unsafe_libyaml::YAML_UTF8_ENCODING);
        unsafe_libyaml::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as _);
        let mut depth = 0usize;
        let mut line = 1;
        // Nodes so far with aliases followed; per anchor, what it stands for.
        let mut expanded = 0usize;
        let mut anchors: HashMap<Vec<u8>, usize> = HashMap::new();
        // Anchored collections still open: their name and `expanded` at the start.
        let mut open: Vec<Option<(Vec<u8>, usize)>> = Vec::new();
        // sops's metadata, the root mapping's `sops` entry, holds scalars it
        // writes plain (`mac_only_encrypted: true`) and types no value: its
        // scalars are not collected. Where the root is a mapping, whether
        // its next node is a key, whether the last key was `sops`, and
        // whether that entry's value is being read.
        let mut root_mapping = false;
        let mut key_turn = true;
        let mut after_sops_key = false;
        let mut in_metadata = false;
        let name = |anchor: *const u8| {
            (!anchor.is_null()).then(|| CStr::from_ptr(anchor.cast()).to_bytes().to_vec())
        };
        let result = loop {
            let mut event = MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
            if unsafe_libyaml::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                break Err(Refusal::Invalid(line));
            }
            let event = event.as_mut_ptr();
            let kind = (*event).type_;
            line = (*event).start_mark.line as usize + 1;
            expanded += 1;
            match kind {
                unsafe_libyaml::YAML_SCALAR_EVENT => {
                    let scalar = (*event).data.scalar;
                    let bytes = match scalar.value.is_null() {
                        true => &[][..],
                        false => std::slice::from_raw_parts(scalar.value, scalar.length as usize),
                    };
                    if depth == 1 && root_mapping {
                        after_sops_key = key_turn && bytes == b"sops";
                        key_turn = !key_turn;
                    }
                    if collect && !in_metadata {
                        let value = String::from_utf8_lossy(bytes);
                        let typed = match name(scalar.tag) {
                            Some(tag) => tag.as_slice() != b"tag:yaml.org,2002:str",
                            None => {
                                scalar.style == unsafe_libyaml::YAML_PLAIN_SCALAR_STYLE
                                    && crate::sops::go_yaml::resolve(&value)
                                        != crate::sops::go_yaml::Plain::Str
                            }
                        };
                        if typed {
                            scalars.insert(value.into_owned());
                        }
                    }
                    if let Some(anchor) = name(scalar.anchor) {
                        anchors.insert(anchor, 1);
                    }
                }
                unsafe_libyaml::YAML_ALIAS_EVENT => {
                    if depth == 1 && root_mapping {
                        after_sops_key = false;
                        key_turn = !key_turn;
                    }
                    let anchor = name((*event).data.alias.anchor).unwrap_or_default();
                    expanded += anchors.get(&anchor).copied().unwrap_or(1);
                }
                unsafe_libyaml::YAML_DOCUMENT_START_EVENT => root_mapping = false,
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT => {
                    in_metadata |= depth == 1 && root_mapping && after_sops_key;
                    open.push(name((*event).data.sequence_start.anchor).map(|a| (a, expanded)));
                }
                unsafe_libyaml::YAML_MAPPING_START_EVENT => {
                    if depth == 0 {
                        (root_mapping, key_turn) = (true, true);
                    }
                    in_metadata |= depth == 1 && root_mapping && after_sops_key;
                    open.push(name((*event).data.mapping_start.anchor).map(|a| (a, expanded)));
                }
                unsafe_libyaml::YAML_SEQUENCE_END_EVENT
                | unsafe_libyaml::YAML_MAPPING_END_EVENT => {
                    if let Some(Some((anchor, start))) = open.pop() {
                        anchors.insert(anchor, expanded - start + 1);
                    }
                    if depth == 2 && root_mapping {
                        (in_metadata, after_sops_key) = (false, false);
                        key_turn = !key_turn;
                    }
                }
                _ => {}
            }
            unsafe_libyaml::yaml_event_delete(event);
            match kind {
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT
                | unsafe_libyaml::YAML_MAPPING_START_EVENT => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        break Err(Refusal::TooDeep(line));
                    }
                }
                unsafe_libyaml::YAML_SEQUENCE_END_EVENT
                | unsafe_libyaml::YAML_MAPPING_END_EVENT => {
                    depth = depth.saturating_sub(1);
                }
                unsafe_libyaml::YAML_STREAM_END_EVENT => break Ok(()),
                _ => {}
            }
            if expanded > MAX_EXPANDED {
                break Err(Refusal::TooLarge(line));
            }
        };
        unsafe_libyaml::yaml_parser_delete(parser);
        result.map(|()| scalars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_of(text: &str) -> Result<(), usize> {
        match survey(text.as_bytes(), false) {
            Ok(_) => Ok(()),
            Err(Refusal::TooDeep(line)) => Err(line),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn nesting_past_the_limit_is_refused_at_its_line() {
        let flow = format!("a: 1\nb: {}", "[".repeat(MAX_DEPTH + 1));
        assert_eq!(depth_of(&flow), Err(2));
        let block = format!("a:\n\n{}x\n", "- ".repeat(MAX_DEPTH));
        assert_eq!(depth_of(&block), Err(3));
        assert_eq!(
            depth_of(&format!("{}1{}", "[".repeat(100), "]".repeat(100))),
            Ok(())
        );
        assert_eq!(depth_of(&"a: [[]]\n".repeat(10_000)), Ok(()));
    }

    #[test]
    fn nothing_in_quotes_comments_or_line_ends_hides_nesting() {
        // Each fooled a scan of the raw text (found by review).
        for text in [
            format!("b: {}", "[']',".repeat(1000)),
            format!("z: {}", "[!!str ']',".repeat(1000)),
            format!("z: {}", "[&a ']',".repeat(1000)),
            format!("z: 1 #\rw: {}", "[".repeat(1000)),
            format!("z: |\n  '\nw: {}", "[' #', ".repeat(1000)),
        ] {
            assert!(depth_of(&text).is_err(), "{}", &text[..20]);
        }
    }

    #[test]
    fn plain_and_tagged_scalars_are_noted_quoted_ones_not() {
        let text = "a: 017\nb: '018'\nc: \"019\"\nd: !!timestamp \"2001-12-14\"\ne: |\n  020\nf: {\"k\":2001-12-15}\ng: !!str 2001-12-16\n";
        let scalars = survey(text.as_bytes(), true).unwrap();
        let mut noted: Vec<_> = scalars.iter().map(String::as_str).collect();
        noted.sort();
        // Keys, text and `!!str` are text to sops too: not noted.
        assert_eq!(noted, ["017", "2001-12-14", "2001-12-15"]);
    }

    #[test]
    fn the_root_sops_entry_is_metadata_and_not_noted() {
        let text = "a: 1\nsops:\n  mac_only_encrypted: true\n  x: [2]\nb: 3\n---\n- sops\n- {k: 4}\n---\nsops: 5\nn:\n  sops: {v: 6}\n";
        let scalars = survey(text.as_bytes(), true).unwrap();
        let mut noted: Vec<_> = scalars.iter().map(String::as_str).collect();
        noted.sort();
        // Only the root mapping's `sops` entry is left out, and only when
        // it holds a mapping or a list, as sops's metadata does.
        assert_eq!(noted, ["1", "3", "4", "5", "6"]);
    }

    #[test]
    fn the_text_is_read_as_serde_yaml_reads_it() {
        // Two byte order marks and an indented first line: libyaml guessing
        // the encoding read this differently from serde_yaml (found by review).
        let text = "\u{feff}\u{feff} day: 2001-12-14\n port: 0X1F\n";
        let scalars = survey(text.as_bytes(), true).unwrap();
        assert!(scalars.contains("2001-12-14") && scalars.contains("0X1F"));
    }

    #[test]
    fn aliases_and_tag_directives_are_bounded() {
        let items = vec!["x"; 6000].join(",");
        let aliases = vec!["*a"; 6000].join(",");
        let bomb = format!("a: &a [{items}]\nb: [{aliases}]\n");
        assert_eq!(survey(bomb.as_bytes(), false), Err(Refusal::TooLarge(2)));
        let fine = format!("a: &a [x, y]\nb: [{}]\n", vec!["*a"; 1000].join(","));
        assert!(survey(fine.as_bytes(), false).is_ok());
        let directives: String = (0..100)
            .map(|i| format!("%TAG !t{i}! tag:x,{i}:\n"))
            .collect();
        let text = format!("{directives}---\na: 1\n");
        assert_eq!(survey(text.as_bytes(), false), Err(Refusal::TooLarge(1)));
    }
}
