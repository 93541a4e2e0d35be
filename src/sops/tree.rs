//! Decrypted documents: ordered trees whose leaves live in wiping buffers.
//!
//! Every backend (native or the `sops` executable) produces a [`Document`];
//! lookups, the cache and `as = "json"` only ever see this shape, so the two
//! backends answer the same key with the same text. A leaf keeps the text sops
//! itself prints for it (`true`, `42`, `1.5`, RFC 3339 times), plus its kind,
//! so a subtree can be turned back into JSON with the right quoting. Keys are
//! names, not secrets, and stay plain `String`s.

use zeroize::Zeroizing;

/// The type a leaf had in the SOPS file (sops's `type:` tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKind {
    /// Text (`str`), also dotenv and INI values.
    Str,
    /// A whole number (`int`).
    Int,
    /// A floating-point number (`float`).
    Float,
    /// `true` or `false` (`bool`).
    Bool,
    /// An RFC 3339 timestamp (`time`).
    Time,
    /// Raw bytes (`bytes`).
    Bytes,
}

/// One scalar value: its kind and its text, wiped on drop.
pub struct Leaf {
    /// What the value was in the file.
    pub kind: LeafKind,
    /// The value as sops prints it.
    pub text: Zeroizing<Vec<u8>>,
}

/// A node of a decrypted document.
pub enum Node {
    /// A mapping, in file order.
    Map(Vec<(String, Node)>),
    /// A list, in file order.
    List(Vec<Node>),
    /// A scalar.
    Leaf(Leaf),
    /// An explicit null.
    Null,
}

/// A decrypted SOPS file: one root mapping per document (YAML may have several).
///
/// The top-level keys are indexed when the document is built, so a lookup
/// costs one hash and a comparison however many keys the file holds (a
/// thousand secrets from one file would otherwise be a quadratic walk).
pub struct Document {
    /// The documents, in file order; each is a `Node::Map`. Private so the
    /// index can never go stale.
    roots: Vec<Node>,
    /// Whether this came from a binary-format file (the secret is all of `data`).
    pub binary: bool,
    /// `(hash of key, root, item)` for every top-level key, sorted; `None`
    /// when some root is not a mapping (then lookups walk).
    index: Option<Vec<(u64, u32, u32)>>,
}

// Values never reach `Debug` output: only the shape is shown.
impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Document({} document(s), <redacted>)", self.roots.len())
    }
}

impl Leaf {
    /// A leaf from its kind and text.
    pub fn new(kind: LeafKind, text: Vec<u8>) -> Self {
        Leaf {
            kind,
            text: Zeroizing::new(text),
        }
    }
}

/// The index's hash of a key (see `crate::hash`).
fn key_hash(key: &str) -> u64 {
    crate::hash::fnv1a(key.as_bytes())
}

impl Document {
    /// A document from its roots (one per YAML document, else one).
    pub fn new(roots: Vec<Node>, binary: bool) -> Self {
        let mut index = Some(Vec::new());
        for (r, root) in roots.iter().enumerate() {
            match (root, index.as_mut(), u32::try_from(r)) {
                (Node::Map(items), Some(index), Ok(r)) if u32::try_from(items.len()).is_ok() => {
                    index.reserve(items.len());
                    for (i, (key, _)) in (0u32..).zip(items) {
                        index.push((key_hash(key), r, i));
                    }
                }
                _ => index = None,
            }
        }
        if let Some(index) = index.as_mut() {
            index.sort_unstable();
        }
        Document {
            roots,
            binary,
            index,
        }
    }

    /// The documents, in file order.
    pub fn roots(&self) -> &[Node] {
        &self.roots
    }

    /// The node at `segments` in the first document that has it. A segment
    /// that is a whole number indexes a list. Any iterator of segments will
    /// do (`name.split('.')`, an array), so a lookup need not collect them.
    ///
    /// A key written twice in one mapping (sops keeps both: a dotenv file's
    /// repeated line, a JSON object's repeated member, an INI section opened
    /// again) means its last occurrence, as the shell, `sops exec-env` and
    /// every JSON reader take it, and as the `sops` executable's output
    /// reads: both backends answer alike.
    pub fn get<'s>(
        &self,
        segments: impl IntoIterator<Item = &'s str, IntoIter: Clone>,
    ) -> Option<&Node> {
        let segments = segments.into_iter();
        let mut rest = segments.clone();
        let (Some(index), Some(first)) = (&self.index, rest.next()) else {
            return self
                .roots
                .iter()
                .find_map(|root| walk(root, segments.clone()));
        };
        let hash = key_hash(first);
        let start = index.partition_point(|&(h, _, _)| h < hash);
        // Sorted by root then item: the last equal key met before the root
        // changes is that root's last occurrence, as a linear walk finds it.
        let mut candidate: Option<(u32, &Node)> = None;
        for &(h, r, i) in &index[start..] {
            if h != hash {
                break;
            }
            let Some(Node::Map(items)) = self.roots.get(r as usize) else {
                continue;
            };
            let Some((key, node)) = items.get(i as usize) else {
                continue;
            };
            if key != first {
                continue;
            }
            if let Some((earlier_root, earlier)) = candidate {
                if earlier_root != r {
                    if let Some(found) = walk(earlier, rest.clone()) {
                        return Some(found);
                    }
                }
            }
            candidate = Some((r, node));
        }
        candidate.and_then(|(_, node)| walk(node, rest))
    }

    /// Number of leaves in all documents (for tests and reports).
    pub fn leaf_count(&self) -> usize {
        fn count(node: &Node) -> usize {
            match node {
                Node::Map(items) => items.iter().map(|(_, n)| count(n)).sum(),
                Node::List(items) => items.iter().map(count).sum(),
                Node::Leaf(_) => 1,
                Node::Null => 0,
            }
        }
        self.roots.iter().map(count).sum()
    }
}

fn walk<'a, 's>(mut node: &'a Node, segments: impl Iterator<Item = &'s str>) -> Option<&'a Node> {
    for segment in segments {
        node = match node {
            Node::Map(items) => items.iter().rfind(|(k, _)| k == segment).map(|(_, n)| n)?,
            Node::List(items) => items.get(list_index(segment)?)?,
            Node::Leaf(_) | Node::Null => return None,
        };
    }
    Some(node)
}

/// A segment that indexes a list: a whole number written plainly (`0`,
/// `12`), not `+1` or `01`, which `usize`'s parser would also take.
fn list_index(segment: &str) -> Option<usize> {
    let plain = segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'));
    plain.then(|| segment.parse().ok()).flatten()
}

impl Node {
    /// Compact JSON text of this node, built straight into a wiping buffer.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(256));
        write_json(self, &mut out);
        out
    }
}

fn write_json(node: &Node, out: &mut Vec<u8>) {
    match node {
        Node::Map(items) => {
            out.push(b'{');
            for (i, (key, value)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_string(key.as_bytes(), out);
                out.push(b':');
                write_json(value, out);
            }
            out.push(b'}');
        }
        Node::List(items) => {
            out.push(b'[');
            for (i, value) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(value, out);
            }
            out.push(b']');
        }
        Node::Null => out.extend_from_slice(b"null"),
        Node::Leaf(leaf) => match leaf.kind {
            LeafKind::Int | LeafKind::Bool => out.extend_from_slice(&leaf.text),
            // JSON has no infinities or NaN: such floats travel as strings.
            LeafKind::Float if matches!(&leaf.text[..], b"+Inf" | b"-Inf" | b"NaN") => {
                write_json_string(&leaf.text, out)
            }
            LeafKind::Float => out.extend_from_slice(&leaf.text),
            LeafKind::Str | LeafKind::Time | LeafKind::Bytes => write_json_string(&leaf.text, out),
        },
    }
}

fn write_json_string(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    // Invalid UTF-8 (a `bytes` leaf) is carried as U+FFFD, one per invalid
    // byte, as Go's encoder does (not one per invalid sequence).
    for chunk in bytes.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0..=0x1f => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                _ => out.push(b),
            }
        }
        for _ in chunk.invalid() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    out.push(b'"');
}

/// A float as sops's JSON output prints it (Go's `encoding/json`): plain
/// digits between 1e-6 and 1e21, exponent form outside, shortest round-trip.
pub fn go_json_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let abs = value.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust prints `1e21` / `1.5e-7`; Go prints `1e+21` / `1.5e-7`.
        let text = format!("{value:e}");
        match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => text,
        }
    } else {
        format!("{value}")
    }
}

/// A float as sops hashes it in the MAC (Go's `FormatFloat(f, 'f', -1, 64)`).
pub fn go_plain_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(kind: LeafKind, text: &str) -> Node {
        Node::Leaf(Leaf::new(kind, text.as_bytes().to_vec()))
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(go_json_float(1.5), "1.5");
        assert_eq!(go_json_float(5432.0), "5432");
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(1.5e-7), "1.5e-7");
        assert_eq!(go_json_float(0.000001), "0.000001");
        assert_eq!(
            go_json_float(12345678901234567890.0),
            "12345678901234567000"
        );
        assert_eq!(go_plain_float(1e21), "1000000000000000000000");
        assert_eq!(go_plain_float(f64::INFINITY), "+Inf");
        assert_eq!(go_plain_float(-0.0), "-0");
    }

    #[test]
    fn lookup_walks_maps_and_lists_across_documents() {
        let doc = Document::new(
            vec![
                Node::Map(vec![(
                    "a".into(),
                    Node::List(vec![leaf(LeafKind::Int, "1")]),
                )]),
                Node::Map(vec![("b".into(), leaf(LeafKind::Str, "x"))]),
            ],
            false,
        );
        assert!(matches!(doc.get(["a", "0"]), Some(Node::Leaf(_))));
        assert!(doc.get(["a", "1"]).is_none());
        for not_an_index in ["+0", "00", "-0", " 0", ""] {
            assert!(doc.get(["a", not_an_index]).is_none(), "{not_an_index}");
        }
        assert!(doc.get(["a", "x"]).is_none());
        assert!(matches!(doc.get("b".split('.')), Some(Node::Leaf(_))));
        assert_eq!(doc.leaf_count(), 2);
    }

    #[test]
    fn indexed_lookup_finds_what_a_walk_finds() {
        let map = |items: &[(&str, &str)]| {
            Node::Map(
                items
                    .iter()
                    .map(|(k, v)| (k.to_string(), leaf(LeafKind::Str, v)))
                    .collect(),
            )
        };
        let nested = Node::Map(vec![
            ("n".into(), map(&[("x", "deep")])),
            ("m".into(), map(&[("x", "replaced")])),
            ("m".into(), map(&[("y", "last")])),
        ]);
        let roots = vec![
            map(&[("a", "1"), ("b", "2"), ("a", "dup")]),
            nested,
            map(&[("b", "3"), ("c", "4"), ("n", "5")]),
            Node::Map(vec![
                ("n".into(), map(&[("y", "other")])),
                ("m".into(), map(&[("x", "later document")])),
            ]),
        ];
        let doc = Document::new(roots, false);
        let text = |segments: &[&str]| {
            let found = doc
                .roots()
                .iter()
                .find_map(|root| walk(root, segments.iter().copied()));
            let indexed = doc.get(segments.iter().copied());
            let show = |n: Option<&Node>| match n {
                Some(Node::Leaf(l)) => Some(String::from_utf8(l.text.to_vec()).unwrap()),
                Some(_) => Some("node".to_string()),
                None => None,
            };
            assert_eq!(show(found), show(indexed), "{segments:?}");
            show(indexed)
        };
        // A repeated key means its last occurrence in that mapping.
        assert_eq!(text(&["a"]).as_deref(), Some("dup"));
        assert_eq!(text(&["m", "y"]).as_deref(), Some("last"));
        assert_eq!(text(&["m", "x"]).as_deref(), Some("later document"));
        assert_eq!(text(&["b"]).as_deref(), Some("2"));
        assert_eq!(text(&["c"]).as_deref(), Some("4"));
        assert_eq!(text(&["n", "x"]).as_deref(), Some("deep"));
        assert_eq!(text(&["n", "y"]).as_deref(), Some("other"));
        assert_eq!(text(&["n"]).as_deref(), Some("node"));
        assert_eq!(text(&["zz"]), None);
        assert_eq!(text(&[]).as_deref(), Some("node"));
        let listed = Document::new(vec![Node::List(vec![leaf(LeafKind::Str, "l")])], false);
        assert!(matches!(listed.get(["0"]), Some(Node::Leaf(_))));
    }

    #[test]
    fn json_output_quotes_by_kind() {
        let node = Node::Map(vec![
            ("s".into(), leaf(LeafKind::Str, "a\"b\n")),
            ("i".into(), leaf(LeafKind::Int, "42")),
            ("b".into(), leaf(LeafKind::Bool, "true")),
            ("f".into(), leaf(LeafKind::Float, "1e+21")),
            ("t".into(), leaf(LeafKind::Time, "2024-01-01T00:00:00Z")),
            ("n".into(), Node::Null),
        ]);
        let text = String::from_utf8(node.to_json().to_vec()).unwrap();
        assert_eq!(
            text,
            r#"{"s":"a\"b\n","i":42,"b":true,"f":1e+21,"t":"2024-01-01T00:00:00Z","n":null}"#
        );
        // E2 82 starts a three-byte character it does not finish: Go writes
        // one U+FFFD for each of its bytes, then the valid rest.
        let bytes = Node::Leaf(Leaf::new(LeafKind::Bytes, b"\xe2\x82A\xff".to_vec()));
        assert_eq!(
            String::from_utf8(bytes.to_json().to_vec()).unwrap(),
            "\"\u{fffd}\u{fffd}A\u{fffd}\""
        );
    }
}
