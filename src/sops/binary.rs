//! The `sops` executable as a backend, for files the native reader cannot
//! open (KMS, PGP, Vault, Shamir key groups, comment-driven rules).
//!
//! sops is asked for JSON output, so its answer goes through one parser
//! into the same [`Document`] shape the native backend builds. YAML output
//! is asked for only where JSON cannot serve: a multi-document file (sops's
//! JSON keeps the first document only), and a YAML file holding `.inf` or
//! `.nan`, which sops cannot print as JSON (it fails on the whole file; that
//! file is asked for again, as YAML). JSON is preferred because sops's YAML
//! output is the less faithful of the two (yaml.v3 prints some strings, one
//! starting with a tab, as `null`). In YAML output a value that is not UTF-8
//! is a `!!binary` tag the YAML reader drops: rather than hand over its base64
//! text as the value, such output is refused. (In JSON output sops replaces
//! each invalid byte with U+FFFD; the README says so.) Its standard error is
//! never shown: it is reduced to one of a few fixed reasons, chosen by exit
//! status and known phrases, because sops may quote file content there.

use super::child;
use super::error::{ErrorKind, Result, SopsError};
use super::identities::Environment;
use super::tree::{go_json_float, Document, Leaf, LeafKind, Node};
use super::Format;
use serde::Deserialize;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// How to run sops.
#[derive(Debug, Clone)]
pub struct BinaryOptions {
    /// Name or path of the executable (the `binary` setting).
    pub program: String,
    /// Deadline for one run.
    pub timeout: Duration,
}

/// sops's exit status when it cannot print the tree in the asked format.
const ERROR_DUMPING_TREE: i32 = 4;

/// Decrypts `path` (of `format`, not `Auto`) with the sops executable.
/// `multi_document` asks for YAML output, to keep every document.
pub fn decrypt(
    path: &Path,
    format: Format,
    multi_document: bool,
    options: &BinaryOptions,
    env: Option<&Environment>,
) -> Result<Document> {
    let output = match format {
        Format::Binary => "binary",
        Format::Yaml if multi_document => "yaml",
        _ => "json",
    };
    let mut run = run_sops(path, format, output, options, env)?;
    // A YAML file sops cannot print as JSON (`.inf`, `.nan`): ask again, as YAML.
    let dumping = run.status.code() == Some(ERROR_DUMPING_TREE);
    let output = if dumping && format == Format::Yaml && output == "json" {
        run = run_sops(path, format, "yaml", options, env)?;
        "yaml"
    } else {
        output
    };
    if !run.status.success() {
        return Err(failure(run.status.code(), &run.stderr));
    }
    match output {
        "binary" => Ok(Document::new(
            vec![Node::Map(vec![(
                "data".into(),
                Node::Leaf(Leaf::new(LeafKind::Str, run.stdout.to_vec())),
            )])],
            true,
        )),
        "yaml" => from_yaml_output(&run.stdout),
        _ => from_json_output(&run.stdout),
    }
}

/// Runs `sops --decrypt` on `path` for `output`. Only a run that could not
/// be made is an error here; the caller reads the exit status.
fn run_sops(
    path: &Path,
    format: Format,
    output: &str,
    options: &BinaryOptions,
    env: Option<&Environment>,
) -> Result<child::Output> {
    let input = format.sops_name();
    let args: Vec<OsString> = vec![
        "--decrypt".into(),
        "--input-type".into(),
        input.into(),
        "--output-type".into(),
        output.into(),
        path.as_os_str().to_owned(),
    ];
    let program = OsString::from(&options.program);
    child::run(&program, &args, options.timeout, env).map_err(|e| match e.kind {
        ErrorKind::NotFound => SopsError::new(
            ErrorKind::Binary,
            format!(
                "the sops executable '{}' was not found (install sops, or set the provider's 'binary' setting)",
                options.program
            ),
        ),
        _ => SopsError::new(e.kind, format!("sops: {}", e.reason)),
    })
}

/// A safe reason for a failed run: fixed words, never sops's own text.
fn failure(code: Option<i32>, stderr: &[u8]) -> SopsError {
    let text = String::from_utf8_lossy(stderr);
    let has = |phrase: &str| text.contains(phrase);
    match code {
        Some(128) => SopsError::new(
            ErrorKind::NoIdentity,
            "sops found no usable key for this file (exit 128: failed to get the data key)",
        ),
        Some(51) => {
            SopsError::decryption("sops reports a MAC mismatch or an undecryptable MAC (exit 51)")
        }
        Some(25) => SopsError::decryption("sops could not decrypt a value (exit 25)"),
        Some(100) => SopsError::new(
            ErrorKind::NotFound,
            "sops could not find the file (exit 100)",
        ),
        Some(c) if has("metadata not found") => {
            SopsError::malformed(format!("sops: the file has no sops metadata (exit {c})"))
        }
        Some(c) if has("rror unmarshal") || has("Could not unmarshal") => {
            SopsError::malformed(format!("sops could not parse the file (exit {c})"))
        }
        Some(c) => SopsError::new(ErrorKind::Binary, format!("sops failed (exit {c})")),
        None => SopsError::new(ErrorKind::Binary, "sops was killed by a signal"),
    }
}

fn from_json_output(bytes: &[u8]) -> Result<Document> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| {
        SopsError::new(ErrorKind::Binary, "sops printed something that is not JSON")
    })?;
    let root = json_node(value);
    if !matches!(root, Node::Map(_)) {
        return Err(SopsError::new(
            ErrorKind::Binary,
            "sops printed JSON that is not an object",
        ));
    }
    Ok(Document::new(vec![root], false))
}

fn json_node(value: serde_json::Value) -> Node {
    use serde_json::Value;
    match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Leaf(Leaf::new(LeafKind::Bool, b.to_string().into_bytes())),
        Value::Number(n) => number_leaf(n.as_i64().map(|i| i.to_string()), n.as_u64(), n.as_f64()),
        Value::String(s) => Node::Leaf(Leaf::new(LeafKind::Str, s.into_bytes())),
        Value::Array(items) => Node::List(items.into_iter().map(json_node).collect()),
        Value::Object(map) => Node::Map(map.into_iter().map(|(k, v)| (k, json_node(v))).collect()),
    }
}

fn number_leaf(int: Option<String>, unsigned: Option<u64>, float: Option<f64>) -> Node {
    let (kind, text) = match (int, unsigned, float) {
        (Some(i), _, _) => (LeafKind::Int, i),
        (None, Some(u), _) => (LeafKind::Int, u.to_string()),
        (None, None, Some(f)) => (LeafKind::Float, go_json_float(f)),
        (None, None, None) => (LeafKind::Float, "NaN".to_string()),
    };
    Node::Leaf(Leaf::new(kind, text.into_bytes()))
}

/// Whether sops's YAML output tags a value `!!binary`: the tag where a value
/// begins — after the indentation and any `- ` of a list item, or after the
/// first `: ` of a `key: value` line — outside comment lines. A string that
/// merely holds the text `!!binary` is no tag.
fn has_binary_tag(bytes: &[u8]) -> bool {
    const TAG: &[u8] = b"!!binary";
    bytes.split(|&b| b == b'\n').any(|line| {
        let mut content = line.trim_ascii_start();
        while let Some(rest) = content.strip_prefix(b"- ") {
            content = rest.trim_ascii_start();
        }
        if content.starts_with(b"#") {
            return false;
        }
        content.starts_with(TAG)
            || content
                .windows(2)
                .position(|pair| pair == b": ")
                .is_some_and(|at| content[at + 2..].trim_ascii_start().starts_with(TAG))
    })
}

fn from_yaml_output(bytes: &[u8]) -> Result<Document> {
    if has_binary_tag(bytes) {
        return Err(SopsError::new(
            ErrorKind::Binary,
            "sops printed a value that is not UTF-8 (YAML !!binary), which the binary backend cannot hand over as it is; the native backend can (age keys)",
        ));
    }
    let mut roots = Vec::new();
    for document in serde_yaml::Deserializer::from_slice(bytes) {
        let value = serde_yaml::Value::deserialize(document).map_err(|_| {
            SopsError::new(ErrorKind::Binary, "sops printed something that is not YAML")
        })?;
        roots.push(match yaml_node(value)? {
            Node::Null => Node::Map(Vec::new()),
            node @ Node::Map(_) => node,
            _ => {
                return Err(SopsError::new(
                    ErrorKind::Binary,
                    "sops printed a YAML document that is not a mapping",
                ))
            }
        });
    }
    Ok(Document::new(roots, false))
}

fn yaml_node(value: serde_yaml::Value) -> Result<Node> {
    use serde_yaml::Value;
    Ok(match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Leaf(Leaf::new(LeafKind::Bool, b.to_string().into_bytes())),
        Value::Number(n) => number_leaf(n.as_i64().map(|i| i.to_string()), n.as_u64(), n.as_f64()),
        Value::String(s) => Node::Leaf(Leaf::new(LeafKind::Str, s.into_bytes())),
        Value::Sequence(items) => {
            Node::List(items.into_iter().map(yaml_node).collect::<Result<_>>()?)
        }
        Value::Mapping(map) => {
            let mut items = Vec::with_capacity(map.len());
            for (key, value) in map {
                let Value::String(key) = key else {
                    return Err(SopsError::new(
                        ErrorKind::Binary,
                        "sops printed a non-string key",
                    ));
                };
                items.push((key, yaml_node(value)?));
            }
            Node::Map(items)
        }
        Value::Tagged(tagged) => yaml_node(tagged.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_never_echo_stderr() {
        let stderr = b"MAC mismatch. File has 0123, computed hunter2";
        for code in [
            Some(51),
            Some(128),
            Some(25),
            Some(100),
            Some(1),
            Some(2),
            None,
        ] {
            let err = failure(code, stderr);
            assert!(!err.reason.contains("hunter2"), "{err}");
        }
        assert_eq!(failure(Some(51), b"").kind, ErrorKind::Decryption);
        assert_eq!(failure(Some(128), b"").kind, ErrorKind::NoIdentity);
    }

    #[test]
    fn yaml_output_keeps_infinities_and_refuses_binary_values() {
        let doc = from_yaml_output(b"a: .inf\nb: -.inf\nc: .nan\n").unwrap();
        for (key, text) in [("a", "+Inf"), ("b", "-Inf"), ("c", "NaN")] {
            let Some(Node::Leaf(leaf)) = doc.get([key]) else {
                panic!("{key}: not a leaf")
            };
            assert_eq!(&leaf.text[..], text.as_bytes());
        }
        for tagged in [
            &b"b: !!binary //4=\n"[..],
            b"l:\n  - !!binary //4=\n",
            b"l:\n  - k: !!binary //4=\n",
            b"- - !!binary //4=\n",
            b"!!binary //4=\n",
        ] {
            let err = from_yaml_output(tagged).unwrap_err();
            assert!(err.reason.contains("not UTF-8"), "{err}");
        }
        let untagged =
            b"# stored as !!binary once\na: use !!binary for blobs\nb: 'x - !!binary'\nc: 'd: !!binary'\n";
        assert!(from_yaml_output(untagged).is_ok());
    }

    #[test]
    fn json_output_becomes_a_document() {
        let doc = from_json_output(br#"{"a": {"b": [1, 1.5, true, null, "x"]}}"#).unwrap();
        let node = doc.get(["a", "b", "1"]).unwrap();
        let Node::Leaf(leaf) = node else {
            panic!("not a leaf")
        };
        assert_eq!(&leaf.text[..], b"1.5");
        assert!(from_json_output(b"[1]").is_err());
        assert!(from_json_output(b"nope").is_err());
    }
}
