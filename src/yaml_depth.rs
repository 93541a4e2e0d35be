//! A cheap bound on how deeply a YAML text nests, checked before libyaml reads it.
//!
//! libyaml (under serde_yaml) takes time that grows with the square of the
//! nesting depth, and serde_yaml applies its depth limit (128) only after
//! libyaml has scanned that far: a 200 KB SOPS file or kstlib config of
//! `[[[[...` or `- - - -...` kept kstrun busy for a minute before it was
//! refused, and no `timeout_ms` covers parsing. This scan bounds the depth
//! from above in one pass, and texts over the bound are refused before
//! libyaml sees them.
//!
//! The bound: a block node cannot start at a column past the blanks and
//! indicators (`-`, `?`, `:`) that begin its line, so the longest such run
//! bounds the block depth. The flow depth is bounded by counting every `[`
//! and `{` outside comments as an opening, and a `]` or `}` as a closing
//! only outside quotes and comments. Where this scan takes text for a quote
//! that YAML does not, it can only miss closings, never openings, so the
//! count never falls below the real depth (a closing inside a quote, as in
//! `[']',` repeated, would otherwise hide real nesting). Only text with
//! over a thousand unclosed brackets (brackets in quoted text count as
//! opened) or columns of indentation is refused; libyaml refuses real
//! nesting past 128 levels anyway.

/// The most either bound may reach.
pub const MAX_DEPTH: usize = 1024;

/// `Err(line)` (1-based) where the text may nest more than [`MAX_DEPTH`] levels.
pub fn check(text: &[u8]) -> Result<(), usize> {
    let mut line = 1;
    let mut flow: usize = 0;
    let mut leading = Some(0usize);
    let mut quote: Option<u8> = None;
    let mut comment = false;
    // On this line: the byte before this one, and the last that is not blank.
    let mut previous: Option<u8> = None;
    let mut last_token: Option<u8> = None;
    let mut bytes = text.iter().copied().peekable();
    while let Some(byte) = bytes.next() {
        if byte == b'\n' {
            line += 1;
            leading = Some(0);
            comment = false;
            previous = None;
            last_token = None;
            continue;
        }
        leading = match leading {
            Some(run) if quote.is_none() && matches!(byte, b' ' | b'-' | b'?' | b':') => {
                Some(run + 1)
            }
            _ => None,
        };
        match quote {
            _ if comment => {}
            Some(q) => {
                if byte == b'[' || byte == b'{' {
                    flow += 1;
                } else if q == b'"' && byte == b'\\' {
                    // An escaped character, a line break too.
                    if bytes.next() == Some(b'\n') {
                        line += 1;
                    }
                } else if byte == q {
                    if q == b'\'' && bytes.peek() == Some(&b'\'') {
                        bytes.next();
                    } else {
                        quote = None;
                    }
                }
            }
            None => match byte {
                b'#' if matches!(previous, None | Some(b' ' | b'\t')) => comment = true,
                b'\'' | b'"'
                    if matches!(
                        last_token,
                        None | Some(b'[' | b'{' | b',' | b':' | b'?' | b'-')
                    ) =>
                {
                    quote = Some(byte)
                }
                b'[' | b'{' => flow += 1,
                b']' | b'}' => flow = flow.saturating_sub(1),
                _ => {}
            },
        }
        previous = Some(byte);
        if !matches!(byte, b' ' | b'\t') {
            last_token = Some(byte);
        }
        if flow > MAX_DEPTH || leading.is_some_and(|run| run > MAX_DEPTH) {
            return Err(line);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_yaml_passes() {
        let text = b"a:\n    - b: [1, {c: d}]\n    - '[[['\n#ENC[AES256_GCM,data:x]\nsops:\n    mac: ENC[x]\n";
        assert_eq!(check(text), Ok(()));
        // Closed brackets do not add up, however many there are.
        assert_eq!(check("[]".repeat(10_000).as_bytes()), Ok(()));
        assert_eq!(check("a: ENC[x]\n".repeat(10_000).as_bytes()), Ok(()));
        assert_eq!(check("#ENC[x\n".repeat(10_000).as_bytes()), Ok(()));
        assert_eq!(
            check(format!("a: {}", "-".repeat(10_000)).as_bytes()),
            Ok(())
        );
        assert_eq!(check(b"a: it's [x]\nb: \"q\\\"[\"]\n"), Ok(()));
    }

    #[test]
    fn deep_nesting_is_refused_at_its_line() {
        let flow = format!("a: 1\nb: {}", "[".repeat(MAX_DEPTH + 1));
        assert_eq!(check(flow.as_bytes()), Err(2));
        let block = format!("a:\n\n{}x\n", "- ".repeat(MAX_DEPTH));
        assert_eq!(check(block.as_bytes()), Err(3));
        let indented = format!("a:\n{}b: c\n", " ".repeat(MAX_DEPTH + 1));
        assert_eq!(check(indented.as_bytes()), Err(2));
        // At the bound itself, both pass.
        assert_eq!(check("[".repeat(MAX_DEPTH).as_bytes()), Ok(()));
        assert_eq!(check(" ".repeat(MAX_DEPTH).as_bytes()), Ok(()));
    }

    #[test]
    fn closings_in_quotes_or_comments_hide_no_nesting() {
        // Each `[` opens a list; each `]` is text. Found by review.
        for (text, lines) in [
            (format!("a: 1\nb: {}", "[']',".repeat(MAX_DEPTH + 1)), 2),
            (format!("b: {}", "[\"]\",".repeat(MAX_DEPTH + 1)), 1),
            ("[ #]\n".repeat(MAX_DEPTH + 1), MAX_DEPTH + 1),
            // A plain scalar's quote starts no quoted scalar, in flow or not.
            (format!("b: {}", "[a 'b".repeat(MAX_DEPTH + 1)), 1),
        ] {
            assert_eq!(check(text.as_bytes()), Err(lines), "{}", &text[..20]);
        }
    }
}
