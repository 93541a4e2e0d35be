//! The native backend against the real sops 3.11: for every fixture, what we
//! decrypt equals what `sops -d` prints; and lookups through the resolver.

mod sops_common;

use kstrun::secrets::providers::SopsBackend;
use kstrun::secrets::SecretError;
use kstrun::sops::{BackendChoice, Decryptor, DecryptorOptions, Format};
use sops_common::*;
use std::path::Path;

fn native(path: &Path, env: kstrun::sops::Environment) -> kstrun::sops::Decrypted {
    let mut decryptor = Decryptor::new(DecryptorOptions {
        backend: BackendChoice::Native,
        env: Some(env),
        ..DecryptorOptions::default()
    });
    decryptor
        .decrypt(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_of(node: &kstrun::sops::Node) -> serde_json::Value {
    serde_json::from_slice(&node.to_json()).expect("our JSON parses")
}

/// What `sops --decrypt --output-type json` prints for `path` (its first
/// document only).
fn sops_json(sops: &Path, env: &kstrun::sops::Environment, path: &Path) -> serde_json::Value {
    serde_json::from_slice(&sops_decrypt(sops, env, &["--output-type", "json"], path))
        .expect("sops prints JSON")
}

const STRUCTURED: [&str; 23] = [
    "basic.sops.yaml",
    "basic.sops.json",
    "basic.sops.env",
    "basic.sops.ini",
    "encrypted_regex.sops.yaml",
    "unencrypted_regex.sops.yaml",
    "encrypted_suffix.sops.yaml",
    "unencrypted_suffix.sops.yaml",
    "mac_only_encrypted.sops.yaml",
    "two_recipients.sops.yaml",
    "large.sops.yaml",
    "fifty.sops.yaml",
    "multi.sops.yaml",
    "ssh.sops.yaml",
    "duplicates.sops.env",
    "duplicates.sops.json",
    "quoted_keys.sops.ini",
    "reopened.sops.ini",
    "ascii_classes.sops.yaml",
    "quoted_regex.sops.yaml",
    "ini_values.sops.ini",
    "json_floats.sops.json",
    "mac_only.sops.ini",
];

#[test]
fn every_fixture_matches_real_sops_json_output() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let ssh_key = sandbox.private_copy("test-ssh-ed25519");
    let env = sandbox
        .env()
        .with("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &ssh_key);
    for name in STRUCTURED {
        let path = fixture(name);
        let ours = native(&path, env.clone());
        assert_eq!(ours.backend, "native");
        let theirs = sops_json(&sops, &env, &path);
        assert_eq!(json_of(&ours.document.roots()[0]), theirs, "{name}");
    }
}

#[test]
fn multi_document_yaml_matches_every_document() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let path = fixture("multi.sops.yaml");
    let ours = native(&path, env.clone());
    let yaml = sops_decrypt(&sops, &env, &[], &path);
    let theirs: Vec<serde_json::Value> = serde_yaml::Deserializer::from_slice(&yaml)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("yaml"))
        .collect();
    assert_eq!(theirs.len(), 3);
    let ours: Vec<_> = ours.document.roots().iter().map(json_of).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn binary_fixture_matches_real_sops_bytes() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let path = fixture("blob.sops.bin");
    let ours = native(&path, env.clone());
    let theirs = sops_decrypt(&sops, &env, &[], &path);
    let node = ours.document.get(["data"]).expect("data");
    let kstrun::sops::Node::Leaf(leaf) = node else {
        panic!("data is a leaf")
    };
    assert_eq!(&leaf.text[..], &theirs[..]);
    assert_eq!(
        theirs,
        std::fs::read(fixtures().join("plain/blob.txt")).unwrap()
    );
}

fn text(resolver: &mut kstrun::secrets::SecretResolver, segments: &[&str]) -> String {
    let record = resolver
        .resolve(&request(segments))
        .unwrap_or_else(|e| panic!("{segments:?}: {e}"))
        .expect("found");
    record.value.as_str().expect("utf-8").to_string()
}

#[test]
fn lookups_print_scalars_like_sops() {
    let sandbox = Sandbox::new();
    let mut r = resolver(
        settings(&fixture("basic.sops.yaml"), SopsBackend::Native),
        sandbox.env(),
    );
    let cases: [(&[&str], &str); 16] = [
        (&["database", "password"], "p@ss: w0rd # not a comment"),
        (&["database", "port"], "5432"),
        (&["database", "ratio"], "1.5"),
        (&["database", "big_float"], "1e+21"),
        (&["database", "enabled"], "true"),
        (&["database", "disabled"], "false"),
        (&["database", "created"], "2024-01-01T00:00:00Z"),
        (&["database", "stamp"], "2024-03-04T05:06:07.5+02:00"),
        (&["database", "empty"], ""),
        (&["database", "multiline"], "line one\nline two\n"),
        (&["key.with.dots"], "dotted value"),
        (&["ключ"], "значение ✓"),
        (&["servers", "1", "token"], "tok-beta"),
        (&["servers", "1", "tags", "0"], "a"),
        (&["count_unencrypted"], "42"),
        (&["created_unencrypted"], "2024-01-01T00:00:00Z"),
    ];
    for (segments, expected) in cases {
        assert_eq!(text(&mut r, segments), expected, "{segments:?}");
    }
    // The dotted name works too when no key path is given.
    let record = r.resolve_secret("mail.smtp.password").unwrap();
    assert_eq!(record.value.as_str(), Some("hunter2"));
    assert_eq!(record.meta("backend"), Some("native"));
    assert!(record.meta("file").unwrap().ends_with("basic.sops.yaml"));
}

#[test]
fn subtrees_need_structured_and_absent_keys_pass_on() {
    let sandbox = Sandbox::new();
    let mut r = resolver(
        settings(&fixture("basic.sops.yaml"), SopsBackend::Native),
        sandbox.env(),
    );
    let err = r.resolve(&request(&["servers"])).unwrap_err();
    assert!(matches!(err, SecretError::Provider { .. }), "{err}");
    assert!(err.to_string().contains("as = \"json\""), "{err}");
    assert_no_secret(&err.to_string(), &["tok-alpha", "alpha"]);

    let mut structured = request(&["servers", "0"]);
    structured.metadata.structured = true;
    let record = r.resolve(&structured).unwrap().unwrap();
    assert_eq!(
        record.value.as_str(),
        Some(r#"{"name":"alpha","token":"tok-alpha"}"#)
    );

    for missing in [&["nope"][..], &["servers", "9"], &["database", "port", "x"]] {
        let err = r.resolve(&request(missing)).unwrap_err();
        assert!(matches!(err, SecretError::NotFound { .. }), "{err}");
    }
    // A null is no value: the next tier (here none) is asked.
    let err = r.resolve(&request(&["database", "nothing"])).unwrap_err();
    assert!(matches!(err, SecretError::NotFound { .. }), "{err}");
}

#[test]
fn every_format_answers_lookups() {
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let cases: [(&str, &[&str], &str); 8] = [
        ("basic.sops.json", &["list", "2", "three"], "3"),
        ("basic.sops.json", &["big"], "12345678901234567000"),
        ("basic.sops.env", &["API_TOKEN"], "tok=with=equals"),
        ("basic.sops.env", &["MULTI"], "first\nsecond"),
        ("basic.sops.ini", &["mail.smtp", "password"], "mail-pass"),
        (
            "basic.sops.ini",
            &["DEFAULT", "top_key"],
            "in default section",
        ),
        ("multi.sops.yaml", &["list", "1"], "two"),
        ("multi.sops.yaml", &["shared", "token"], "doc-one-token"),
    ];
    for (file, segments, expected) in cases {
        let mut r = resolver(settings(&fixture(file), SopsBackend::Native), env.clone());
        assert_eq!(text(&mut r, segments), expected, "{file} {segments:?}");
    }
    // A binary file is one secret, whatever the key.
    let mut r = resolver(
        settings(&fixture("blob.sops.bin"), SopsBackend::Native),
        env.clone(),
    );
    assert!(text(&mut r, &["tls", "key"]).starts_with("-----BEGIN DEMO KEY-----"));
    // Format forced by the settings.
    let copy = sandbox.copy("basic.sops.json");
    let renamed = sandbox.path().join("basic.sops.data");
    std::fs::rename(&copy, &renamed).unwrap();
    let mut s = settings(&renamed, SopsBackend::Native);
    s.format = Format::Json;
    let mut r = resolver(s, env);
    assert_eq!(text(&mut r, &["unicode ✓"]), "värde");
}

#[test]
fn rule_files_decrypt_and_leave_clear_values_clear() {
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    for file in [
        "encrypted_regex.sops.yaml",
        "unencrypted_regex.sops.yaml",
        "encrypted_suffix.sops.yaml",
        "unencrypted_suffix.sops.yaml",
        "mac_only_encrypted.sops.yaml",
    ] {
        let mut r = resolver(settings(&fixture(file), SopsBackend::Native), env.clone());
        assert_eq!(text(&mut r, &["password"]), "rule-secret", "{file}");
        assert_eq!(text(&mut r, &["db", "token"]), "nested-token", "{file}");
        assert_eq!(text(&mut r, &["db", "port"]), "5432", "{file}");
        assert_eq!(text(&mut r, &["list", "0", "host"]), "h1", "{file}");
        assert_eq!(text(&mut r, &["description"]), "public text", "{file}");
    }
}

#[test]
fn comment_rules_go_to_the_executable() {
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let path = fixture("comment_regex.sops.yaml");
    let mut r = resolver(settings(&path, SopsBackend::Native), env.clone());
    let err = r.resolve(&request(&["secret"])).unwrap_err();
    assert!(err.to_string().contains("encrypted_comment_regex"), "{err}");
    let Some(_) = tool("sops") else { return };
    let mut r = resolver(settings(&path, SopsBackend::Auto), env);
    let record = r.resolve(&request(&["secret"])).unwrap().unwrap();
    assert_eq!(record.value.as_str(), Some("encrypted-because-of-comment"));
    assert_eq!(record.meta("backend"), Some("binary"));
}

#[test]
fn a_thousand_keys_in_one_decrypt() {
    let sandbox = Sandbox::new();
    let ours = native(&fixture("large.sops.yaml"), sandbox.env());
    assert_eq!(ours.document.leaf_count(), 1000);
    let mut r = resolver(
        settings(&fixture("large.sops.yaml"), SopsBackend::Native),
        sandbox.env(),
    );
    assert!(text(&mut r, &["key_0001"]).starts_with("value-0001-"));
    assert!(text(&mut r, &["key_1000"]).starts_with("value-1000-"));
}

#[test]
fn ssh_ed25519_identity_from_home() {
    let sandbox = Sandbox::new();
    std::fs::create_dir(sandbox.path().join(".ssh")).unwrap();
    let key = sandbox.path().join(".ssh/id_ed25519");
    std::fs::copy(fixture("test-ssh-ed25519"), &key).unwrap();
    set_mode(&key, 0o600);
    let mut r = resolver(
        settings(&fixture("ssh.sops.yaml"), SopsBackend::Native),
        sandbox.bare_env(),
    );
    assert_eq!(text(&mut r, &["password"]), "rule-secret");
}

/// Files sops reads its own way: a repeated key means its last occurrence
/// (as `sops exec-env` and sops's JSON output give it), gopkg.in/ini quotes
/// some keys, the rules' regular expressions are Go's, and an extension in
/// capitals makes a binary file. The native backend and the real sops (the
/// binary backend) must give the same answers.
#[test]
fn both_backends_answer_alike_where_sops_has_its_own_rules() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let whole_file = std::fs::read_to_string(fixtures().join("plain/basic.yaml")).unwrap();
    let cases: [(&str, &[&str], Option<&str>); 35] = [
        ("duplicates.sops.env", &["API_KEY"], Some("new-current")),
        ("duplicates.sops.env", &["OTHER"], Some("kept")),
        ("duplicates.sops.json", &["token"], Some("second")),
        // Floats read to the nearest double, as Go reads them.
        (
            "json_floats.sops.json",
            &["ratio"],
            Some("123456789.12345679"),
        ),
        (
            "json_floats.sops.json",
            &["ratio_plain"],
            Some("123456789.12345679"),
        ),
        ("json_floats.sops.json", &["tiny_plain"], Some("5e-324")),
        // gopkg.in/ini keeps quotes that are not only around the value.
        (
            "ini_values.sops.ini",
            &["app", "flags_plain"],
            Some("\"--a\" \"--b\""),
        ),
        ("reopened.sops.ini", &["db", "password"], Some("hunter2")),
        // The section's first part is shadowed, with either backend.
        ("reopened.sops.ini", &["db", "user"], None),
        (
            "quoted_keys.sops.ini",
            &["db", "pass:word"],
            Some("colon-secret"),
        ),
        (
            "quoted_keys.sops.ini",
            &["db", "x=y"],
            Some("equals-secret"),
        ),
        (
            "quoted_keys.sops.ini",
            &["db", "say \"hi\""],
            Some("quote-secret"),
        ),
        (
            "quoted_keys.sops.ini",
            &["db", "back`tick"],
            Some("backtick-secret"),
        ),
        (
            "ascii_classes.sops.yaml",
            &["api_key"],
            Some("ascii-secret"),
        ),
        (
            "ascii_classes.sops.yaml",
            &["clé_key"],
            Some("left-in-clear"),
        ),
        (
            "quoted_regex.sops.yaml",
            &["pass.word"],
            Some("dotted-secret"),
        ),
        ("quoted_regex.sops.yaml", &["other"], Some("public")),
        (
            "capitals.sops.YAML",
            &["database", "password"],
            Some(&whole_file),
        ),
        // sops cannot print these as JSON: the YAML file is read as YAML.
        ("yaml_only.sops.yaml", &["greeting"], Some("hello")),
        ("yaml_only.sops.yaml", &["ratio"], Some("+Inf")),
        ("yaml_only.sops.yaml", &["undefined"], Some("NaN")),
        // Comments inside a list are items in the file, not in the data.
        ("list_comments.sops.yaml", &["hosts", "0"], Some("alpha")),
        ("list_comments.sops.yaml", &["hosts", "2"], Some("gamma")),
        ("list_comments.sops.yaml", &["hosts", "3"], None),
        // INI section names keep their spaces.
        (
            "spaced_sections.sops.ini",
            &[" spaced ", "user"],
            Some("spaced-user"),
        ),
        (
            "spaced_sections.sops.ini",
            &["trailing ", "key"],
            Some("trailing-value"),
        ),
        ("spaced_sections.sops.ini", &["spaced", "user"], None),
        // A quoted date stays text, a plain one is a time, a day the month
        // lacks is no date; with or without the MAC covering them.
        ("dates.sops.yaml", &["quoted"], Some("2024-01-01")),
        ("dates.sops.yaml", &["plain"], Some("2024-01-02T00:00:00Z")),
        ("dates.sops.yaml", &["not_a_day"], Some("2024-02-30")),
        ("dates.sops.yaml", &["password"], Some("dates-secret")),
        ("dates_mac_only.sops.yaml", &["quoted"], Some("2024-01-01")),
        (
            "dates_mac_only.sops.yaml",
            &["plain"],
            Some("2024-01-02T00:00:00Z"),
        ),
        (
            "dates_mac_only.sops.yaml",
            &["not_a_day"],
            Some("2024-02-30"),
        ),
        (
            "dates_mac_only.sops.yaml",
            &["password"],
            Some("dates-secret"),
        ),
    ];
    for (file, segments, expected) in cases {
        for backend in [SopsBackend::Native, SopsBackend::Binary] {
            let mut s = settings(&fixture(file), backend);
            s.binary = sops.display().to_string();
            let mut r = resolver(s, env.clone());
            let found = r
                .resolve(&request(segments))
                .map(|record| record.map(|r| r.value.as_str().unwrap().to_string()));
            match (expected, found) {
                (Some(want), Ok(Some(got))) => {
                    assert_eq!(got, want, "{file} {segments:?} {backend:?}")
                }
                (None, Err(SecretError::NotFound { .. })) => {}
                (_, other) => panic!(
                    "{file} {segments:?} {backend:?}: {:?}",
                    other.map(|o| o.is_some())
                ),
            }
        }
    }
}

/// A value that is not UTF-8 reaches the child byte for byte from the native
/// backend; the binary backend hands over what sops's JSON output holds,
/// U+FFFD for each invalid byte (the README says so), and the rest of the
/// file as it is.
#[test]
fn a_value_that_is_not_utf8_is_exact_natively_and_replaced_by_sops_json() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let file = fixture("binary_value.sops.yaml");
    let mut r = resolver(settings(&file, SopsBackend::Native), env.clone());
    let record = r.resolve(&request(&["raw"])).unwrap().unwrap();
    assert_eq!(record.value.as_bytes(), b"\xff\xfe");
    let mut s = settings(&file, SopsBackend::Binary);
    s.binary = sops.display().to_string();
    let mut r = resolver(s, env);
    let record = r.resolve(&request(&["raw"])).unwrap().unwrap();
    assert_eq!(record.value.as_bytes(), "\u{fffd}\u{fffd}".as_bytes());
    let record = r.resolve(&request(&["greeting"])).unwrap().unwrap();
    assert_eq!(record.value.as_bytes(), b"hello");
}

/// Unencrypted values edited by hand in a `mac_only_encrypted` file (the
/// MAC does not cover them, which is the point of the option): each reads
/// as sops reads it, go-yaml's typing included (`0X1F`, `1_000`, `017`,
/// plain dates), quoted ones as text. Where the YAML takes serde_yaml (a
/// tag here), which cannot tell a quoted scalar from a plain one, the
/// native backend refuses the file and `auto` hands it to sops.
#[test]
fn hand_edited_clear_values_read_as_sops_reads_them() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let original = std::fs::read_to_string(fixture("dates_mac_only.sops.yaml")).unwrap();
    let edited = |extra: &str| {
        let path = sandbox.path().join("edited.sops.yaml");
        std::fs::write(&path, format!("{extra}{original}")).unwrap();
        path
    };
    let lines = "day: 2001-12-14\nport: 0X1F\nn: 1_000\noct: 017\nnine: 09\nf: 1_000.5\n\
                 t: 2001-12-14 21:59:43\nq2: \"017\"\nq3: '2001-12-14'\n";
    // A whole number past 64 bits, which serde_yaml refuses and sops reads as a float.
    let big = "big: 12345678901234567890123\n";
    let lookup = |path: &Path, backend: SopsBackend, key: &str| {
        let mut s = settings(path, backend);
        s.binary = sops.display().to_string();
        resolver(s, env.clone())
            .resolve(&request(&[key]))
            .map(|found| found.expect("found").value.as_str().unwrap().to_string())
    };
    let path = edited(&format!("{lines}{big}"));
    for (key, expected) in [
        ("day", Some("2001-12-14T00:00:00Z")),
        ("port", Some("31")),
        ("n", Some("1000")),
        ("oct", Some("15")),
        ("nine", None),
        ("f", None),
        ("t", Some("2001-12-14T21:59:43Z")),
        ("q2", Some("017")),
        ("q3", Some("2001-12-14")),
        ("big", None),
        ("password", Some("dates-secret")),
    ] {
        let native = lookup(&path, SopsBackend::Native, key).unwrap();
        let binary = lookup(&path, SopsBackend::Binary, key).unwrap();
        assert_eq!(native, binary, "{key}");
        if let Some(expected) = expected {
            assert_eq!(native, expected, "{key}");
        }
    }
    let tagged = edited(&format!("blob: !!binary aGVsbG8=\n{lines}"));
    let err = lookup(&tagged, SopsBackend::Native, "day").unwrap_err();
    assert!(err.to_string().contains("use backend \"auto\""), "{err}");
    for (key, expected) in [("day", "2001-12-14T00:00:00Z"), ("blob", "hello")] {
        assert_eq!(lookup(&tagged, SopsBackend::Auto, key).unwrap(), expected);
    }
}

/// Unencrypted values edited by hand in a `mac_only_encrypted` INI file, read
/// as sops reads them (gopkg.in/ini): a trailing backslash joins the next
/// lines, quotes come off only when they are the value's only ones of their
/// kind, a comment ends a plain value, triple quotes close at the last
/// ones on their line, and a key repeated in a section keeps its first
/// place with its last value (also where the MAC covers it: a copied line).
#[test]
fn hand_edited_ini_values_read_as_sops_reads_them() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let path = sandbox.path().join("edited.sops.ini");
    let read_alike = |text: &str| {
        std::fs::write(&path, text).unwrap();
        let theirs = sops_json(&sops, &env, &path);
        let ours = native(&path, env.clone());
        assert_eq!(json_of(&ours.document.roots()[0]), theirs, "{text}");
    };
    let original = std::fs::read_to_string(fixture("mac_only.sops.ini")).unwrap();
    let host = "host     = db.internal\n";
    assert!(original.contains(host));
    for edit in [
        "args = one\\\n  two \\\n three\\\n\nport = 5432\n",
        "args = one\\\nport = 5432\n",
        "slash = a\\\\\nafter = z\\\n",
        "q1 = \"a\" \"b\"\nq2 = 'a'b'\nq3 = \"x\"  # c\nq4 = x ; \"y\"\nq5 = ''\nq6 = \"\n",
        "t1 = \"\"\"a\nb\"\"\"c\"\"\"\nt2 = `x`y` ; z\nt3 = \"\"\"\"\"\"\n",
        "host = a\nport = 1\nhost = b\n",
    ] {
        read_alike(&original.replacen(host, edit, 1));
    }
    // An encrypted line copied below the next one, in a file whose MAC
    // covers every value in order.
    let basic = std::fs::read_to_string(fixture("basic.sops.ini")).unwrap();
    let url = basic.lines().find(|l| l.starts_with("url ")).unwrap();
    let password = basic.lines().find(|l| l.starts_with("password ")).unwrap();
    read_alike(&basic.replacen(password, &format!("{password}\n{url}"), 1));
}

/// A file sops wrote that the fast reader leaves to serde_yaml (a tab in a
/// multi-line value), with `mac_only_encrypted` and quoted strings sops
/// would read as a number or a time unquoted: the quotes are found in the
/// text, and the strings read natively as the text they are.
#[test]
fn quoted_clear_strings_read_natively_when_serde_yaml_reads_the_file() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let plain = sandbox.path().join("plain.yaml");
    std::fs::write(
        &plain,
        "password: hunter2\nx: \"a\\n\\tb\\n\"\nd: \"2024-01-01\"\no: \"017\"\nu: \"1_000\"\ne: \"true\"\nm: \"<<\"\n",
    )
    .unwrap();
    let output = std::process::Command::new(&sops)
        .env_clear()
        .envs(env.vars().iter().map(|(k, v)| (k, v)))
        // The public key of tests/fixtures/sops/test-age-key.txt.
        .args([
            "--encrypt",
            "--age",
            "age1qev46qg3qcg6v4mptqftzuzpvaqmkxmn0m9xsexka2yplyv8cg9s0c475q",
        ])
        .args(["--encrypted-regex", "^password$", "--mac-only-encrypted"])
        .arg(&plain)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let path = sandbox.path().join("tabs.sops.yaml");
    std::fs::write(&path, &output.stdout).unwrap();
    for (key, expected) in [
        ("d", "2024-01-01"),
        ("o", "017"),
        ("u", "1_000"),
        // sops writes its metadata's `mac_only_encrypted: true` plain, and
        // this string as `!!merge <<`: neither makes this text a boolean.
        ("e", "true"),
        ("m", "<<"),
        ("x", "a\n\tb\n"),
        ("password", "hunter2"),
    ] {
        let found = resolver(settings(&path, SopsBackend::Native), env.clone())
            .resolve(&request(&[key]))
            .unwrap()
            .unwrap();
        assert_eq!(found.value.as_str(), Some(expected), "{key}");
    }
}
