//! The fast reader against serde_yaml: on every committed fixture it must
//! answer, and answer the same; on hand-made and generated files it must
//! answer the same or decline. "The same" allows one difference, the reason
//! the fast reader types scalars itself: where serde_yaml has the text of a
//! plain scalar, the fast reader has what sops makes of that text.

use super::super::format::{parse_yaml_serde, Raw};
use super::super::yaml_scalar::resolve_plain;
use super::parse;

/// Whether the fast reader's tree is serde_yaml's, typing aside.
fn same_typing_aside(fast: &Raw, slow: &Raw) -> bool {
    match (fast, slow) {
        (Raw::Map(a), Raw::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_typing_aside(va, vb))
        }
        (Raw::List(a), Raw::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_typing_aside(x, y))
        }
        (Raw::Float(a), Raw::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
        (fast, Raw::Str(text)) if fast != slow => resolve_plain(text).as_ref() == Some(fast),
        _ => fast == slow,
    }
}

/// Both readers' documents. `None` for the fast one when it declines.
fn both(text: &str) -> (Option<Vec<Raw<'_>>>, Result<Vec<Raw<'static>>, String>) {
    let fast = parse(text.as_bytes());
    let slow = std::panic::catch_unwind(|| {
        let mut docs = Vec::new();
        for document in serde_yaml::Deserializer::from_str(text) {
            let value = serde::Deserialize::deserialize(document).map_err(|e| format!("{e}"))?;
            docs.push(super::super::format::from_yaml(value).map_err(|e| e.reason)?);
        }
        Ok::<_, String>(docs)
    })
    .unwrap_or_else(|_| Err("panic".into()));
    (fast, slow)
}

fn agrees(text: &str) -> bool {
    match both(text) {
        (None, _) => false,
        (Some(fast), Ok(slow)) => {
            assert!(
                fast.len() == slow.len()
                    && fast.iter().zip(&slow).all(|(f, s)| same_typing_aside(f, s)),
                "the readers differ on:\n{text}\nfast: {fast:?}\nserde_yaml: {slow:?}"
            );
            true
        }
        // serde_yaml refuses a whole number past 64 bits; sops reads it as
        // a float, and so does the fast reader.
        (Some(_), Err(e)) if e.contains("as u128") => true,
        (Some(fast), Err(e)) => {
            panic!("fast reader accepted what serde_yaml refuses ({e}): {fast:?}\n{text}")
        }
    }
}

#[test]
fn every_yaml_fixture_is_read_fast_and_identically() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sops");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.display().to_string();
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(agrees(&text), "the fast reader declined {name}");
        let bytes = text.as_bytes();
        let fast = super::super::format::parse(bytes, super::super::Format::Yaml).unwrap();
        let (slow, _) = parse_yaml_serde(bytes).unwrap();
        assert!(fast.plain_scalars.is_none(), "{name}");
        let branches = |b: Vec<_>| Raw::List(b.into_iter().map(Raw::Map).collect());
        assert!(
            same_typing_aside(&branches(fast.branches), &branches(slow.0)),
            "{name}"
        );
        assert!(
            same_typing_aside(&fast.metadata, &slow.1.unwrap()),
            "{name}"
        );
        count += 1;
    }
    assert!(count >= 10, "only {count} YAML fixtures");
}

#[test]
fn sops_shapes_are_accepted() {
    for text in [
        "a: ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]\n",
        "a:\n    b: x\n    c:\n        - 1\n        - k: v\n          l: w\n        - - p\n          - q\n",
        "#ENC[AES256_GCM,data:x,type:comment]\na: 1\n---\nb: \"2\"\n",
        "---\na: 'it''s'\nsops:\n    enc: |\n        line one\n        line two\n    mac: x\n",
        "a:\n- x\n- y\nb: []\nc: {}\nd:\ne: \"\\u00e9\\n\"\n",
        "k: |-\n  a\n\n  b\n\nz: |+\n  c\n\n",
        "n: 5\nf: 1.5\nh: 0x1F\nt: true\nnull_: ~\nv: 3.11.0\nd: 2024-01-01\nneg: -3\n",
        "\"quoted key\": x\n'single': y\nünï: cödé\n",
    ] {
        assert!(agrees(text), "declined:\n{text}");
    }
}

#[test]
fn anything_else_is_declined_or_identical() {
    for text in [
        "a: &x 1\nb: *x\n",
        "a: !!str 5\n",
        "? a\n: b\n",
        "a: [1, 2]\n",
        "a: {b: c}\n",
        "a: b\n  c\n",
        "a: \"b\n  c\"\n",
        "a: >\n  x\n",
        "a:\tb\n",
        "a: 1\r\n",
        "a: 1\na: 2\n",
        "- a\n",
        "a\n",
        "",
        "---\n",
        "a: 1\n---\n",
        "a: 1\n...\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: b # c\n",
        "a: b: c\n",
        "a: b:\n",
        "a:b\n",
        "1: x\n",
        "true: x\n",
        "~: x\n",
        "a: |\n\n  x\n",
        "a: |2\n  x\n",
        "a: |\n  x",
        "a: x\n   # c\nb: y\n",
        "a : b\n",
        "a: ---\n",
        "a: ...x\n",
        "a: -\n",
        "a: - b\n",
        "a:\n  - x\n  b: y\n",
        "a: \"x\" y\n",
        "a: '\\n'\n",
        "a: \"\\/\"\n",
        "a: \"\\q\"\n",
        "a: \"\\ud800\"\n",
        "a: 0o17\nb: +1\nc: .inf\n",
        "a: -.inf\nb: .NaN\nc: 1e3\nd: 1_000\ne: 012\nf: 99999999999999999999\n",
        "a: inf\nb: nan\nc: Infinity\nd: yes\ne: No\nf: ~x\n",
        "a:\n    b: 1\n  c: 2\n",
        "\u{feff}a: 1\n",
        "a: \u{85}\n",
        "a: x\u{2028}y\n",
        "  a: 1\n  b: 2\n",
        "a: 'x'\n  - y\n",
        "a:\n- b\n-\n- c: d\n  e:\n  - f\n",
        "a: |+\n  x\n\n\nb: 1\n",
        "a: |\n  x\n   y\n  z\n",
        "a: |\n  x\n     \n  y\n",
        "a: |\n  #x\n# y\nb: 1\n",
        "k: v\n#c\n  #d\nm: n\n",
    ] {
        let _ = agrees(text);
    }
}

/// A small deterministic generator of sops-like and not-so-sops-like files.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() % items.len()]
    }
}

const KEYS: &[&str] = &[
    "a",
    "b_unencrypted",
    "key.with.dots",
    "é",
    "x y",
    "'q'",
    "\"d\"",
    "1",
    "true",
    "null",
    "-x",
    "a:b",
    "<<",
    "sops",
    "k#",
    "\"a\\tb\"",
    "~",
    "0x1",
    "_",
    "Z",
];
const SCALARS: &[&str] = &[
    "ENC[AES256_GCM,data:QUJD,iv:SVY=,tag:VEFH,type:str]",
    "5",
    "-5",
    "+5",
    "0x1F",
    "0o17",
    "017",
    "1.5",
    "1e3",
    ".5",
    "-.inf",
    ".nan",
    "true",
    "False",
    "yes",
    "no",
    "~",
    "null",
    "NULL",
    "",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "3.11.0",
    "'single ''q'''",
    "\"dq \\\" \\n \\u00e9\"",
    "\"\"",
    "''",
    "plain text here",
    "x:y",
    "[]",
    "{}",
    "[a]",
    "a #c",
    "é ü",
    "1_000",
    "-",
    "99999999999999999999",
    "0b101",
    "inf",
    "_x",
    "http://h:1/p",
    "|",
    "|-",
    "|+",
    "!t x",
    "&a x",
];

fn gen_node(rng: &mut Rng, out: &mut String, indent: usize, depth: usize) {
    let pad = " ".repeat(indent);
    let step = [2, 4][rng.next() % 2];
    let n = 1 + rng.next() % 3;
    if depth > 0 && rng.next().is_multiple_of(4) {
        for _ in 0..n {
            out.push_str(&pad);
            out.push('-');
            gen_value(rng, out, indent, depth, step);
        }
        return;
    }
    for i in 0..n {
        if rng.next().is_multiple_of(7) {
            out.push_str(&pad);
            out.push_str("#ENC[AES256_GCM,data:x,type:comment]\n");
        }
        out.push_str(&pad);
        let key = rng.pick(KEYS);
        out.push_str(if i > 0 && rng.next().is_multiple_of(5) {
            "a"
        } else {
            key
        });
        out.push(':');
        gen_value(rng, out, indent, depth, step);
    }
}

fn gen_value(rng: &mut Rng, out: &mut String, indent: usize, depth: usize, step: usize) {
    match rng.next() % 6 {
        0 if depth < 3 => {
            out.push('\n');
            gen_node(rng, out, indent + step, depth + 1);
        }
        1 => {
            let header = ["|", "|-", "|+"][rng.next() % 3];
            out.push_str(&format!(" {header}\n"));
            let pad = " ".repeat(indent + step);
            for _ in 0..1 + rng.next() % 3 {
                match rng.next() % 4 {
                    0 => out.push('\n'),
                    _ => out.push_str(&format!("{pad}{}\n", rng.pick(SCALARS))),
                }
            }
        }
        _ => {
            let value = rng.pick(SCALARS);
            out.push_str(if value.is_empty() { "" } else { " " });
            out.push_str(value);
            out.push('\n');
        }
    }
}

#[test]
fn generated_files_agree_or_are_declined() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut accepted, mut total) = (0, 0);
    for _ in 0..4000 {
        let mut text = String::new();
        for doc in 0..1 + rng.next() % 2 {
            if doc > 0 || rng.next().is_multiple_of(3) {
                text.push_str("---\n");
            }
            gen_node(&mut rng, &mut text, 0, 0);
        }
        total += 1;
        if agrees(&text) {
            accepted += 1;
        }
    }
    // The generator is meant to exercise the reader, not only its way out.
    assert!(accepted * 10 > total, "only {accepted} of {total} accepted");
    eprintln!("generated: {accepted} of {total} read by the fast reader");
}

#[test]
fn nesting_is_followed_to_serde_yamls_depth_and_no_deeper() {
    // Each level is a recursive call: a crafted file nested far deeper
    // overflowed the stack (an abort) before the reader had a bound.
    let nested = |levels: usize| format!("a:\n{}v\n", "- ".repeat(levels));
    assert!(agrees(&nested(100)));
    assert_eq!(parse(nested(200).as_bytes()), None);
    assert_eq!(parse(nested(100_000).as_bytes()), None);
}

#[test]
fn plain_scalars_are_typed_as_sops_types_them_and_quoted_ones_are_text() {
    let text = "a: '017'\nb: \"2024-01-01\"\nc: 017\nd: 2024-01-01\ne: 0X1F\nf: 1_000\ng: 09\n";
    let documents = parse(text.as_bytes()).expect("read fast");
    let expected = Raw::Map(vec![
        ("a".into(), Raw::Str("017".into())),
        ("b".into(), Raw::Str("2024-01-01".into())),
        ("c".into(), Raw::Int(15)),
        ("d".into(), Raw::Time("2024-01-01".into())),
        ("e".into(), Raw::Int(31)),
        ("f".into(), Raw::Int(1000)),
        ("g".into(), Raw::Float(9.0)),
    ]);
    assert_eq!(documents, vec![expected]);
    assert!(agrees(text));
}
