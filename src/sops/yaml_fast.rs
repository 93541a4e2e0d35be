//! A fast reader for the YAML that sops itself writes, with a way out.
//!
//! serde_yaml (libyaml) spends most of a large file's decryption time
//! scanning long `ENC[...]` scalars byte by byte. The files sops writes use a
//! small part of YAML: block mappings and sequences, plain and quoted
//! single-line scalars, `|` block scalars (the age stanzas), whole-line
//! comments (`#ENC[...]`) and `---` between documents. This reader handles
//! exactly that part and produces the tree serde_yaml would, but for one
//! thing serde_yaml cannot do: plain scalars are typed as sops types them
//! (`go_yaml`: `0X1F` and `1_000` are numbers, `2001-12-14` a time), and
//! only plain ones, never quoted ones. For anything else (flow collections
//! other than `[]`/`{}`, anchors, tags, complex keys, multi-line plain or
//! quoted scalars, tabs, unusual characters, duplicate keys, ...) it
//! *declines* (`None`) and the caller uses serde_yaml. A test checks the two
//! readers agree, typing aside, on every fixture and on generated files; the
//! MAC is the final guard.

use super::format::Raw;
use super::yaml_scalar::{plain_ok, quoted, resolve_plain};
use crate::hash::FnvBuild;
use crate::text::find_pair;
use std::borrow::Cow;
use std::collections::HashSet;

/// The deepest nesting this reader follows; deeper documents go to
/// serde_yaml, which refuses them past the same depth. Each level is a
/// recursive call: without a bound, a crafted file of a few hundred KB would
/// overflow the stack, which aborts the process.
const MAX_DEPTH: usize = 128;

/// The documents of `text`, or `None` when the text is outside the subset.
pub(super) fn parse(bytes: &[u8]) -> Option<Vec<Raw<'_>>> {
    let text = std::str::from_utf8(bytes).ok()?;
    // ASCII (what sops writes) is checked byte by byte; other text char by char.
    let ascii = printable_ascii(bytes);
    if !ascii && !text.chars().all(allowed) {
        return None;
    }
    let ends_with_newline = text.ends_with('\n');
    let mut lines: Vec<&str> = crate::text::split(text, b'\n').collect();
    if ends_with_newline {
        lines.pop();
    }
    let mut documents = Vec::new();
    let mut start = 0;
    let mut first = true;
    for end in (0..lines.len()).chain(std::iter::once(lines.len())) {
        let line = lines.get(end).copied();
        if let Some(line) = line {
            if line.starts_with("...") || line.starts_with('%') {
                return None;
            }
            if !line.starts_with("---") {
                continue;
            }
            if line != "---" {
                return None;
            }
        }
        let segment = &lines[start..end];
        let empty = segment.iter().all(|l| is_blank_or_comment(l));
        // Text before a leading `---` may only be comments.
        if !(first && empty && line.is_some()) {
            let last_is_file_end = end == lines.len() && !ends_with_newline;
            documents.push(document(segment, last_is_file_end)?);
        }
        first = false;
        start = end + 1;
    }
    Some(documents)
}

/// Whether every byte is a line break or printable ASCII. Checked a block at
/// a time without stopping at the first miss inside a block, which the
/// compiler turns into vector code: a byte-by-byte scan was a twentieth of
/// reading a thousand-secret file.
fn printable_ascii(bytes: &[u8]) -> bool {
    bytes.chunks(64).all(|block| {
        block.iter().fold(true, |ok, &b| {
            ok & (b == b'\n' || (b' '..=b'~').contains(&b))
        })
    })
}

/// Characters libyaml accepts anywhere in our subset (no tabs, CR, controls,
/// BOM, or the YAML 1.1 line breaks NEL, LS and PS).
fn allowed(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..)
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    t.is_empty() || t.starts_with('#')
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn document<'a>(lines: &[&'a str], unterminated: bool) -> Option<Raw<'a>> {
    let mut p = Parser {
        lines,
        unterminated,
        depth: 0,
    };
    let i = p.next_content(0)?;
    let (root, next) = p.node(i, indent(lines[i]), 0)?;
    if p.next_content(next).is_some() || !matches!(root, Raw::Map(_)) {
        return None;
    }
    Some(root)
}

/// Lines of the text (`'a`), in a list that lives as long as `'l`.
struct Parser<'l, 'a> {
    lines: &'l [&'a str],
    /// The last line has no final line break.
    unterminated: bool,
    /// How many block nodes enclose the one being read.
    depth: usize,
}

impl<'a> Parser<'_, 'a> {
    /// The first line at or after `i` that is neither blank nor a comment.
    fn next_content(&self, mut i: usize) -> Option<usize> {
        while i < self.lines.len() {
            if !is_blank_or_comment(self.lines[i]) {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// The block node whose content starts on line `i` at column `col`;
    /// lines deeper than `parent` would continue it. Returns the node and
    /// the first line it did not consume.
    fn node(&mut self, i: usize, col: usize, parent: usize) -> Option<(Raw<'a>, usize)> {
        let content = self.lines[i].get(col..)?;
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let node = if is_item(content) {
            self.sequence(i, col)
        } else if key_end(content).is_some() {
            self.mapping(i, col)
        } else {
            self.value(content, i, parent)
        };
        self.depth -= 1;
        node
    }

    fn mapping(&mut self, mut i: usize, col: usize) -> Option<(Raw<'a>, usize)> {
        let mut items: Vec<(Cow<'a, str>, Raw<'a>)> = Vec::new();
        let next = loop {
            let content = self.lines[i].get(col..)?;
            if is_item(content) {
                return None;
            }
            let (key, rest) = key_end(content)?;
            let value = rest.trim_start_matches(' ');
            let (node, next) = if value.is_empty() || value.starts_with('#') {
                self.child(i + 1, col, true)?
            } else {
                self.value(value, i, col)?
            };
            items.push((key, node));
            match self.next_content(next) {
                Some(j) if indent(self.lines[j]) == col => i = j,
                Some(j) if indent(self.lines[j]) > col => return None,
                _ => break next,
            }
        };
        // serde_yaml refuses duplicate keys: leave that error to it.
        let mut seen: HashSet<_, FnvBuild> =
            HashSet::with_capacity_and_hasher(items.len(), FnvBuild::default());
        if !items.iter().all(|(k, _)| seen.insert(k.as_ref())) {
            return None;
        }
        Some((Raw::Map(items), next))
    }

    fn sequence(&mut self, mut i: usize, col: usize) -> Option<(Raw<'a>, usize)> {
        let mut items = Vec::new();
        let next = loop {
            let rest = self.lines[i].get(col + 1..)?;
            let item = rest.trim_start_matches(' ');
            let (node, next) = if item.is_empty() || item.starts_with('#') {
                self.child(i + 1, col, false)?
            } else {
                self.node(i, col + 1 + (rest.len() - item.len()), col)?
            };
            items.push(node);
            match self.next_content(next) {
                Some(j) if indent(self.lines[j]) > col => return None,
                Some(j) if indent(self.lines[j]) == col && is_item(&self.lines[j][col..]) => i = j,
                _ => break next,
            }
        };
        Some((Raw::List(items), next))
    }

    /// The value of a key or item with nothing after it on its line: a
    /// deeper block, a sequence at the key's own column, or null.
    fn child(&mut self, i: usize, col: usize, in_mapping: bool) -> Option<(Raw<'a>, usize)> {
        match self.next_content(i) {
            Some(j) if indent(self.lines[j]) > col => {
                let at = indent(self.lines[j]);
                self.node(j, at, col)
            }
            Some(j)
                if in_mapping && indent(self.lines[j]) == col && is_item(&self.lines[j][col..]) =>
            {
                self.sequence(j, col)
            }
            _ => Some((Raw::Null, i)),
        }
    }

    /// A scalar written after a key or a dash on line `i`.
    fn value(&mut self, text: &'a str, i: usize, parent: usize) -> Option<(Raw<'a>, usize)> {
        let trimmed = text.trim_end_matches(' ');
        let raw = match trimmed.as_bytes().first()? {
            b'"' | b'\'' => {
                let (s, rest) = quoted(trimmed)?;
                if !rest.is_empty() {
                    return None;
                }
                Raw::Str(s.into())
            }
            b'|' => return self.literal(trimmed, i, parent),
            _ if trimmed == "[]" => Raw::List(Vec::new()),
            _ if trimmed == "{}" => Raw::Map(Vec::new()),
            _ => {
                if !plain_ok(trimmed) {
                    return None;
                }
                resolve_plain(trimmed)?
            }
        };
        // A deeper line right after would continue a plain scalar (or be an error).
        if let Some(next) = self
            .lines
            .get(i + 1..)?
            .iter()
            .find(|l| !l.trim_start_matches(' ').is_empty())
        {
            if indent(next) > parent {
                return None;
            }
        }
        Some((raw, i + 1))
    }

    /// A `|` block scalar: its lines are those below `i` indented like the first.
    fn literal(&mut self, header: &str, i: usize, parent: usize) -> Option<(Raw<'a>, usize)> {
        let keep = match header {
            "|" => None,
            "|-" => Some(false),
            "|+" => Some(true),
            _ => return None,
        };
        let first = *self.lines.get(i + 1)?;
        let m = indent(first);
        if first.trim_start_matches(' ').is_empty() || m <= parent {
            return None;
        }
        let mut parts: Vec<&str> = Vec::new();
        let mut k = i + 1;
        while let Some(line) = self.lines.get(k) {
            if line.trim_start_matches(' ').is_empty() {
                if line.len() > m {
                    return None;
                }
                parts.push("");
            } else if indent(line) >= m {
                parts.push(&line[m..]);
            } else {
                break;
            }
            k += 1;
        }
        if k == self.lines.len() && self.unterminated {
            return None;
        }
        let trailing = parts.iter().rev().take_while(|p| p.is_empty()).count();
        let mut text = parts[..parts.len() - trailing].join("\n");
        match keep {
            Some(false) => {}
            None => text.push('\n'),
            Some(true) => text.extend(std::iter::repeat_n('\n', trailing + 1)),
        }
        Some((Raw::Str(text.into()), k))
    }
}

fn is_item(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// The key of a mapping entry and the text after its `:`.
fn key_end(content: &str) -> Option<(Cow<'_, str>, &str)> {
    if content.starts_with(['"', '\'']) {
        let (key, rest) = quoted(content)?;
        let rest = rest.strip_prefix(':')?;
        return (rest.is_empty() || rest.starts_with(' ')).then_some((key.into(), rest));
    }
    let end = match find_pair(content, b": ") {
        Some(p) => p,
        None => content.strip_suffix(':')?.len(),
    };
    let key = &content[..end];
    // libyaml allows simple keys of at most 1024 characters.
    if !plain_ok(key) || key.len() > 1000 {
        return None;
    }
    match resolve_plain(key)? {
        Raw::Str(key) => Some((key, &content[end + 1..])),
        _ => None,
    }
}

#[cfg(test)]
#[path = "yaml_fast_tests.rs"]
mod tests;
