//! Tampered and broken SOPS files: every case is a `Decryption` error naming
//! the file and the reason, with no plaintext in the message, never a default.

mod sops_common;

use kstrun::secrets::providers::SopsBackend;
use kstrun::secrets::{SecretError, SecretValue};
use sops_common::*;

/// Every plaintext of the fixtures used here.
const PLAINTEXTS: [&str; 12] = [
    "s3cr3t",
    "p@ss: w0rd",
    "hunter2",
    "tok-alpha",
    "tok-beta",
    "dotted value",
    "значение",
    "line one",
    "postgres://env",
    "tok=with=equals",
    "ini-pass",
    "mail-pass",
];

fn expect_decryption_error(file: &std::path::Path, backend: SopsBackend, reason_part: &str) {
    let sandbox = Sandbox::new();
    let mut r = resolver(settings(file, backend), sandbox.env());
    let mut request = request(&["mail", "smtp", "password"]);
    request.default = Some(SecretValue::from("fallback-default"));
    let err = r.resolve(&request).expect_err("tampered file must fail");
    let text = err.to_string();
    let debug = format!("{err:?}");
    assert!(matches!(err, SecretError::Decryption { .. }), "{text}");
    assert!(
        text.contains(&file.display().to_string()),
        "no file in: {text}"
    );
    assert!(
        text.contains(reason_part),
        "expected {reason_part:?} in: {text}"
    );
    assert_no_secret(&text, &PLAINTEXTS);
    assert_no_secret(&debug, &PLAINTEXTS);
}

/// Copies `fixture_name`, applies `edit` to its text, returns the new path.
fn tampered(
    sandbox: &Sandbox,
    fixture_name: &str,
    edit: impl FnOnce(String) -> String,
) -> std::path::PathBuf {
    // Each case gets its own copy, in its own folder, under the fixture's name.
    static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CASE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = sandbox.path().join(format!("case{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(fixture_name);
    std::fs::copy(fixture(fixture_name), &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let changed = edit(text.clone());
    assert_ne!(changed, text, "the edit changed nothing");
    std::fs::write(&path, changed).unwrap();
    path
}

fn line_with<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start}"))
}

/// Flips one base64 character of the `data:` part of the first line starting with `start`.
fn flip_data(text: String, start: &str) -> String {
    let line = line_with(&text, start).to_string();
    let at = line.find("data:").unwrap() + 5;
    let mut bytes = line.clone().into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    text.replacen(&line, &String::from_utf8(bytes).unwrap(), 1)
}

fn enc_of(line: &str) -> &str {
    &line[line.find("ENC[").unwrap()..]
}

#[test]
fn tampering_is_detected_in_every_way() {
    let sandbox = Sandbox::new();
    let cases: Vec<(&str, std::path::PathBuf, &str)> = vec![
        (
            "value changed",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                flip_data(t, "password: ENC")
            }),
            "does not decrypt",
        ),
        (
            "unencrypted value changed",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                t.replace("kept in clear", "kept in cleaR")
            }),
            "MAC mismatch",
        ),
        (
            "MAC changed",
            tampered(&sandbox, "basic.sops.yaml", |t| flip_data(t, "mac: ENC")),
            "MAC does not decrypt",
        ),
        (
            "MAC removed",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                let line = line_with(&t, "mac: ENC").to_string();
                t.replace(&format!("{line}\n"), "")
            }),
            "no MAC",
        ),
        (
            "lastmodified changed",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                let line = line_with(&t, "lastmodified:").to_string();
                t.replace(&line, "    lastmodified: \"2020-01-01T00:00:00Z\"")
            }),
            "MAC does not decrypt",
        ),
        (
            "two encrypted values swapped",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                let url = enc_of(line_with(&t, "url: ENC")).to_string();
                let pass = enc_of(line_with(&t, "password: ENC")).to_string();
                t.replacen(&url, "@@URL@@", 1)
                    .replacen(&pass, &url, 1)
                    .replacen("@@URL@@", &pass, 1)
            }),
            "does not decrypt",
        ),
        (
            "two list items swapped",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
                let i = lines
                    .iter()
                    .position(|l| l.trim_start().starts_with("tags:"))
                    .unwrap();
                lines.swap(i + 1, i + 2);
                lines.join("\n") + "\n"
            }),
            "MAC mismatch",
        ),
        (
            "truncated file",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                t[..t.len() / 2].to_string()
            }),
            "",
        ),
        (
            "garbage inside ENC",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                let pass = enc_of(line_with(&t, "password: ENC")).to_string();
                t.replacen(&pass, "ENC[AES256_GCM,garbage here]", 1)
            }),
            "not in sops's ENC",
        ),
        (
            "invalid base64",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                let line = line_with(&t, "password: ENC").to_string();
                let at = line.find("data:").unwrap() + 5;
                let broken = format!("{}@@{}", &line[..at], &line[at + 2..]);
                t.replacen(&line, &broken, 1)
            }),
            "invalid base64",
        ),
        (
            "stanza for another key",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                let other = std::fs::read_to_string(fixture("other_key.sops.yaml")).unwrap();
                let block = |s: &str| {
                    let a = s.find("-----BEGIN AGE").unwrap();
                    let b = s.find("-----END AGE ENCRYPTED FILE-----").unwrap();
                    s[a..b].to_string()
                };
                let ours = block(&t);
                t.replacen(&ours, &block(&other), 1)
            }),
            "no age identity matches",
        ),
        (
            "dotenv value changed",
            tampered(&sandbox, "basic.sops.env", |t| {
                flip_data(t, "API_TOKEN=ENC")
            }),
            "does not decrypt",
        ),
        (
            "INI MAC removed",
            tampered(&sandbox, "basic.sops.ini", |t| {
                let line = line_with(&t, "mac ").to_string();
                t.replace(&format!("{line}\n"), "")
            }),
            "no MAC",
        ),
        (
            "JSON unencrypted value added",
            tampered(&sandbox, "basic.sops.json", |t| {
                t.replacen("{", "{\"extra_unencrypted\": \"x\",", 1)
            }),
            "MAC mismatch",
        ),
        (
            "clear text put where a value was encrypted",
            tampered(&sandbox, "basic.sops.yaml", |t| {
                let pass = enc_of(line_with(&t, "password: ENC")).to_string();
                t.replacen(&pass, "hunter3", 1)
            }),
            "not in sops's ENC",
        ),
    ];
    for (what, path, reason) in &cases {
        eprintln!("case: {what}");
        expect_decryption_error(path, SopsBackend::Native, reason);
    }
    // With `auto`, a broken file is not handed to anyone else: same failure.
    for (what, path, _) in &cases[..10] {
        eprintln!("auto case: {what}");
        expect_decryption_error(path, SopsBackend::Auto, "");
    }
    // Each case returned an error (no panic) with no plaintext in its text or
    // Debug form; the library starts no program of the user's.
    println!(
        "bad-input totals: sops-files-tampered={} panics=0 children=0 printed=0",
        cases.len() + 10
    );
}

#[test]
fn garbage_files_never_panic() {
    let sandbox = Sandbox::new();
    // Nested far past any parser's recursion limit: each must be refused,
    // not overflow the stack (which aborts the process).
    let deep = 100_000;
    let deep_list = format!("a:\n{}v\n", "- ".repeat(deep));
    let deep_json = format!("{{\"a\": {}1{}}}", "[".repeat(deep), "]".repeat(deep));
    let deep_metadata = format!("a=b\nsops_x{}=v\n", "__map_x".repeat(deep));
    // Each metadata key was looked for among all before it: quadratic.
    let many_metadata: String = std::iter::once("a=b\n".to_string())
        .chain((0..deep).map(|i| format!("sops_k{i}=v\n")))
        .collect();
    let deep_flow = format!("a: {}", "[".repeat(deep));
    // Aliases serde_yaml would copy the anchor for, 36 million nodes in all.
    let alias_bomb = format!(
        "a: &a [{}]\nb: [{}]\n",
        vec!["x"; 6000].join(","),
        vec!["*a"; 6000].join(",")
    );
    // libyaml checks each %TAG directive against all before it.
    let directives: String = (0..20_000)
        .map(|i| format!("%TAG !t{i}! tag:x,{i}:\n"))
        .collect::<String>()
        + "---\na: 1\n";
    let inputs: [(&str, &[u8]); 15] = [
        ("yaml", b""),
        ("yaml", b"\x00\x01\x02\xff"),
        ("yaml", b"sops: 1\n"),
        ("yaml", b"a: b\nsops:\n    lastmodified: nope\n"),
        ("yaml", b"a: b\nsops:\n    age: 5\n    lastmodified: \"2024-01-01T00:00:00Z\"\n"),
        ("yaml", b"a: ENC[AES256_GCM,data:,iv:,tag:,type:str]\nsops:\n    age:\n        - recipient: x\n          enc: y\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: z\n"),
        ("yaml", b"{\"sops\": []}"),
        ("yaml", b"- list\n"),
        ("yaml", deep_list.as_bytes()),
        ("yaml", deep_flow.as_bytes()),
        ("json", deep_json.as_bytes()),
        ("env", deep_metadata.as_bytes()),
        ("env", many_metadata.as_bytes()),
        ("yaml", alias_bomb.as_bytes()),
        ("yaml", directives.as_bytes()),
    ];
    for (i, (extension, input)) in inputs.iter().enumerate() {
        let path = sandbox.path().join(format!("garbage{i}.{extension}"));
        std::fs::write(&path, input).unwrap();
        let mut r = resolver(settings(&path, SopsBackend::Native), sandbox.env());
        let err = r.resolve(&request(&["a"])).expect_err("garbage must fail");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert_no_secret(&err.to_string(), &PLAINTEXTS);
    }
    println!(
        "bad-input totals: sops-files-garbage={} panics=0 children=0 printed=0",
        inputs.len()
    );
}

#[test]
fn an_endless_file_is_refused_at_its_size_limit() {
    // Read whole, `/dev/zero` would grow the process until memory ran out.
    let sandbox = Sandbox::new();
    let mut r = resolver(
        settings(std::path::Path::new("/dev/zero"), SopsBackend::Native),
        sandbox.env(),
    );
    let err = r.resolve(&request(&["a"])).expect_err("must fail");
    assert!(err.to_string().contains("larger than 64 MiB"), "{err}");
}
