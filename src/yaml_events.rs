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
//! The same pass notes every scalar written plain or with a tag: those are
//! the ones sops (go-yaml) may read as a number or a time, while serde_yaml
//! hands all of them over as text alike (see `sops::native`).

use std::collections::HashSet;
use std::mem::MaybeUninit;

/// The deepest nesting read: serde_yaml's own limit.
pub const MAX_DEPTH: usize = 128;

/// Texts of the scalars written plain or tagged.
pub type PlainScalars = HashSet<String>;

/// Reads `text`'s events: `Err(line)` (1-based) at the first collection
/// nested past [`MAX_DEPTH`], else the texts of the scalars written plain
/// or tagged (collected when `collect`). Text libyaml refuses is left for
/// serde_yaml to refuse, with its message.
pub fn survey(text: &[u8], collect: bool) -> Result<PlainScalars, usize> {
    let mut scalars = PlainScalars::new();
    let mut parser = MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit();
    // SAFETY: the parser is initialised before use and deleted once; it
    // reads `text`, which outlives it; each event is read only after a
    // successful parse and deleted before the next.
    unsafe {
        if unsafe_libyaml::yaml_parser_initialize(parser.as_mut_ptr()).fail {
            return Ok(scalars);
        }
        let parser = parser.as_mut_ptr();
        unsafe_libyaml::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as _);
        let mut depth = 0usize;
        let result = loop {
            let mut event = MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
            if unsafe_libyaml::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                break Ok(());
            }
            let event = event.as_mut_ptr();
            let kind = (*event).type_;
            let line = (*event).start_mark.line as usize + 1;
            if collect && kind == unsafe_libyaml::YAML_SCALAR_EVENT {
                let scalar = (*event).data.scalar;
                if scalar.style == unsafe_libyaml::YAML_PLAIN_SCALAR_STYLE || !scalar.tag.is_null()
                {
                    let bytes = match scalar.value.is_null() {
                        true => &[][..],
                        false => std::slice::from_raw_parts(scalar.value, scalar.length as usize),
                    };
                    scalars.insert(String::from_utf8_lossy(bytes).into_owned());
                }
            }
            unsafe_libyaml::yaml_event_delete(event);
            match kind {
                unsafe_libyaml::YAML_SEQUENCE_START_EVENT
                | unsafe_libyaml::YAML_MAPPING_START_EVENT => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        break Err(line);
                    }
                }
                unsafe_libyaml::YAML_SEQUENCE_END_EVENT
                | unsafe_libyaml::YAML_MAPPING_END_EVENT => {
                    depth = depth.saturating_sub(1);
                }
                unsafe_libyaml::YAML_STREAM_END_EVENT => break Ok(()),
                _ => {}
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
        survey(text.as_bytes(), false).map(|_| ())
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
        let text = "a: 017\nb: '018'\nc: \"019\"\nd: !!timestamp \"2001-12-14\"\ne: |\n  020\nf: {\"k\":2001-12-15}\n";
        let scalars = survey(text.as_bytes(), true).unwrap();
        for plain in ["017", "2001-12-14", "a", "2001-12-15"] {
            assert!(scalars.contains(plain), "{plain}");
        }
        for quoted in ["018", "019", "020\n"] {
            assert!(!scalars.contains(quoted), "{quoted}");
        }
    }
}
