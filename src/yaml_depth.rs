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
//! bounds the block depth; the flow depth is at most the count of `[` and `{`
//! not yet closed, counted without regard to quotes or comments. Both can
//! only overestimate, and only text with hundreds of unclosed brackets or
//! hundreds of columns of indentation is refused, which libyaml would refuse
//! anyway past 128 levels.

/// The most either bound may reach: four times serde_yaml's own depth limit.
pub const MAX_DEPTH: usize = 512;

/// `Err(line)` (1-based) where the text may nest more than [`MAX_DEPTH`] levels.
pub fn check(text: &[u8]) -> Result<(), usize> {
    let mut line = 1;
    let mut flow: usize = 0;
    let mut leading = Some(0usize);
    for &byte in text {
        match byte {
            b'\n' => {
                line += 1;
                leading = Some(0);
                continue;
            }
            b'[' | b'{' => flow += 1,
            b']' | b'}' => flow = flow.saturating_sub(1),
            _ => {}
        }
        leading = match leading {
            Some(run) if matches!(byte, b' ' | b'-' | b'?' | b':') => Some(run + 1),
            _ => None,
        };
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
        assert_eq!(
            check(format!("a: {}", "-".repeat(10_000)).as_bytes()),
            Ok(())
        );
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
}
