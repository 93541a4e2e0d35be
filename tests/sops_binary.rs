//! The binary backend against the real sops, the document cache, and the
//! choice of file (entry's file, default path, implicit vs configured).

mod sops_common;

use kstrun::secrets::providers::{SopsBackend, SopsProvider, SopsSettings};
use kstrun::secrets::{Lookup, Provider, ProviderState, SecretError};
use sops_common::*;
use std::path::{Path, PathBuf};

/// A `sops` wrapper that counts its runs in `count`, then runs the real sops.
fn counting_wrapper(sandbox: &Sandbox, sops: &Path) -> (PathBuf, PathBuf) {
    let count = sandbox.path().join("count");
    let wrapper = sandbox.path().join("sops-wrapper");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec '{}' \"$@\"\n",
            count.display(),
            sops.display()
        ),
    )
    .unwrap();
    set_mode(&wrapper, 0o755);
    (wrapper, count)
}

fn runs(count: &Path) -> usize {
    std::fs::read_to_string(count)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn binary_backend_reads_every_format_like_native() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let env = sandbox.env();
    let cases: [(&str, &[&str], &str); 9] = [
        ("basic.sops.yaml", &["database", "port"], "5432"),
        ("basic.sops.yaml", &["database", "enabled"], "true"),
        ("basic.sops.yaml", &["database", "big_float"], "1e+21"),
        ("basic.sops.yaml", &["servers", "1", "token"], "tok-beta"),
        ("basic.sops.json", &["database", "port"], "5432"),
        ("basic.sops.env", &["MULTI"], "first\nsecond"),
        ("basic.sops.ini", &["mail.smtp", "user"], "mailer"),
        ("multi.sops.yaml", &["third"], "3"),
        ("blob.sops.bin", &["anything"], "-----BEGIN DEMO KEY-----"),
    ];
    for (file, key, expected) in cases {
        let mut s = settings(&fixture(file), SopsBackend::Binary);
        s.binary = sops.display().to_string();
        let mut r = resolver(s, env.clone());
        let record = r
            .resolve(&request(key))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .unwrap();
        assert!(
            record.value.as_str().unwrap().starts_with(expected),
            "{file} {key:?}"
        );
        assert_eq!(record.meta("backend"), Some("binary"));
    }
}

/// The `identity` setting reaches the sops executable too (as
/// `SOPS_AGE_KEY_FILE`, or `SOPS_AGE_SSH_PRIVATE_KEY_FILE` for an ssh key):
/// with no other key anywhere, the binary backend, and `auto` handing a file
/// the native reader cannot take to sops, both decrypt with it.
#[test]
fn the_identity_setting_reaches_the_sops_executable() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let cases = [
        (
            "encrypted_regex.sops.yaml",
            SopsBackend::Binary,
            "test-age-key.txt",
            &["password"][..],
            "rule-secret",
        ),
        (
            "comment_regex.sops.yaml",
            SopsBackend::Auto,
            "test-age-key.txt",
            &["secret"][..],
            "encrypted-because-of-comment",
        ),
        (
            "ssh.sops.yaml",
            SopsBackend::Binary,
            "test-ssh-ed25519",
            &["password"][..],
            "rule-secret",
        ),
    ];
    for (file, backend, key, segments, expected) in cases {
        let mut s = settings(&fixture(file), backend);
        s.binary = sops.display().to_string();
        s.identity = Some(sandbox.private_copy(key));
        let mut r = resolver(s, sandbox.bare_env());
        let record = r
            .resolve(&request(segments))
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .expect("found");
        assert_eq!(record.value.as_str(), Some(expected), "{file}");
        assert_eq!(record.meta("backend"), Some("binary"), "{file}");
    }
    // An unrelated key in ~/.ssh does not keep the setting from sops: sops
    // 3.11 reads its default ssh keys and the variable's alike.
    std::fs::create_dir(sandbox.path().join(".ssh")).unwrap();
    std::fs::copy(
        sandbox.private_copy("other-ssh-ed25519"),
        sandbox.path().join(".ssh/id_ed25519"),
    )
    .unwrap();
    let mut s = settings(&fixture("ssh.sops.yaml"), SopsBackend::Binary);
    s.binary = sops.display().to_string();
    s.identity = Some(sandbox.private_copy("test-ssh-ed25519"));
    let mut r = resolver(s, sandbox.bare_env());
    let record = r.resolve(&request(&["password"])).unwrap().expect("found");
    assert_eq!(record.value.as_str(), Some("rule-secret"));
}

#[test]
fn fifty_secrets_one_sops_run() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let (wrapper, count) = counting_wrapper(&sandbox, &sops);
    let mut s = settings(&fixture("fifty.sops.yaml"), SopsBackend::Binary);
    s.binary = wrapper.display().to_string();
    let mut r = resolver(s, sandbox.env());
    for i in 1..=50 {
        let record = r
            .resolve(&request(&[&format!("key_{i:04}")]))
            .unwrap()
            .unwrap();
        assert!(record
            .value
            .as_str()
            .unwrap()
            .starts_with(&format!("value-{i:04}-")));
    }
    assert_eq!(runs(&count), 1, "sops runs");
}

#[test]
fn a_failing_sops_runs_once_per_batch_and_is_tried_again_after() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    let (wrapper, count) = counting_wrapper(&sandbox, &sops);
    let mut s = settings(&fixture("fifty.sops.yaml"), SopsBackend::Auto);
    s.binary = wrapper.display().to_string();
    // No key: `auto` falls back to the executable, which fails too, once
    // for the file in a batch, not once per secret.
    let mut r = resolver(s, sandbox.bare_env());
    let requests: Vec<_> = (1..=50)
        .map(|i| request(&[&format!("key_{i:04}")]))
        .collect();
    for answer in r.resolve_all(&requests) {
        let err = answer.unwrap_err().to_string();
        assert!(
            err.contains("no age identity matches") && err.contains("sops found no usable key"),
            "{err}"
        );
    }
    assert_eq!(runs(&count), 1, "sops runs in the batch");
    // Such a failure may pass (sops slow, missing or failing for now): a
    // long-running user asking again gets a new try, not the old error.
    assert!(r.resolve(&requests[0]).is_err());
    assert_eq!(runs(&count), 2, "sops runs after the batch");
}

#[test]
fn native_cache_decrypts_once_and_notices_changes() {
    let sandbox = Sandbox::new();
    let file = sandbox.copy("fifty.sops.yaml");
    let mut provider =
        SopsProvider::with_environment(settings(&file, SopsBackend::Native), sandbox.env());
    for i in 1..=50 {
        let found = provider
            .lookup(&request(&[&format!("key_{i:04}")]))
            .unwrap();
        assert!(matches!(found, Lookup::Found(_)));
    }
    assert_eq!(provider.decrypt_count(), 1);
    // Another file's content under the same name: size and mtime change.
    std::fs::copy(fixture("encrypted_regex.sops.yaml"), &file).unwrap();
    let found = provider.lookup(&request(&["password"])).unwrap();
    assert!(matches!(found, Lookup::Found(_)));
    assert!(matches!(
        provider.lookup(&request(&["key_0001"])).unwrap(),
        Lookup::Missing { .. }
    ));
    assert_eq!(provider.decrypt_count(), 2);
}

/// A request for `key` in `file` (an entry's own `sops = "..."`).
fn request_in(file: &Path, key: &str) -> kstrun::secrets::SecretRequest {
    let mut request = request(&[key]);
    request.metadata.path = Some(file.to_path_buf());
    request
}

#[test]
fn a_batch_decrypts_each_file_once_even_past_the_cache_size() {
    let sandbox = Sandbox::new();
    let files = [
        sandbox.copy("fifty.sops.yaml"),
        sandbox.path().join("b.sops.yaml"),
    ];
    std::fs::copy(&files[0], &files[1]).unwrap();
    let mut s = settings(&files[0], SopsBackend::Native);
    s.cache_size = 1;
    let mut provider = SopsProvider::with_environment(s, sandbox.env());
    provider.batch(true);
    for i in 1..=3 {
        for file in &files {
            let found = provider
                .lookup(&request_in(file, &format!("key_{i:04}")))
                .unwrap();
            assert!(matches!(found, Lookup::Found(_)));
        }
    }
    assert_eq!(provider.decrypt_count(), 2, "each file once in one batch");
    provider.batch(false);
    // Out of the batch the cache holds one document again, the last used.
    for file in files.iter().rev() {
        assert!(matches!(
            provider.lookup(&request_in(file, "key_0004")).unwrap(),
            Lookup::Found(_)
        ));
    }
    assert_eq!(provider.decrypt_count(), 3);
}

#[test]
fn one_file_under_two_names_is_read_as_each_name_says() {
    let sandbox = Sandbox::new();
    let yaml = sandbox.copy("fifty.sops.yaml");
    let dotenv = sandbox.path().join("alias.sops.env");
    std::os::unix::fs::symlink(&yaml, &dotenv).unwrap();
    for order in [[&yaml, &dotenv], [&dotenv, &yaml]] {
        let mut provider =
            SopsProvider::with_environment(settings(&yaml, SopsBackend::Native), sandbox.env());
        provider.batch(true);
        for file in order {
            let answer = provider.lookup(&request_in(file, "key_0001"));
            if file == &yaml {
                assert!(matches!(answer, Ok(Lookup::Found(_))), "{order:?}");
            } else {
                let error = answer
                    .expect_err("a YAML file read as dotenv fails")
                    .to_string();
                assert!(
                    error.contains("alias.sops.env") && error.contains("dotenv"),
                    "{error}"
                );
            }
        }
    }
}

#[test]
fn missing_executable_names_the_setting() {
    let sandbox = Sandbox::new();
    let mut s = settings(&fixture("basic.sops.yaml"), SopsBackend::Binary);
    s.binary = "kstrun-no-such-sops".into();
    let err = resolver(s, sandbox.env())
        .resolve(&request(&["emoji"]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'kstrun-no-such-sops' was not found") && err.contains("'binary' setting"),
        "{err}"
    );
    // auto with no identity and no executable: says everything that was tried.
    let mut s = settings(&fixture("basic.sops.yaml"), SopsBackend::Auto);
    s.binary = "kstrun-no-such-sops".into();
    let err = resolver(s, sandbox.bare_env())
        .resolve(&request(&["emoji"]))
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SecretError::Decryption { .. }), "{text}");
    assert!(
        text.contains("age1") && text.contains("identity source") && text.contains("not found"),
        "{text}"
    );
}

#[test]
fn binary_backend_reports_sops_failures_safely() {
    let Some(sops) = tool("sops") else { return };
    let sandbox = Sandbox::new();
    // A MAC failure seen by sops: exit 51, no values in the message.
    let path = sandbox.copy("basic.sops.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("kept in clear", "kept in cleaR");
    std::fs::write(&path, text).unwrap();
    let mut s = settings(&path, SopsBackend::Binary);
    s.binary = sops.display().to_string();
    let err = resolver(s, sandbox.env())
        .resolve(&request(&["emoji"]))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, SecretError::Decryption { .. }) && text.contains("exit 51"),
        "{text}"
    );
    assert_no_secret(&text, &["hunter2", "s3cr3t", "kept in"]);
    // No usable key: exit 128.
    let mut s = settings(&fixture("basic.sops.yaml"), SopsBackend::Binary);
    s.binary = sops.display().to_string();
    let err = resolver(s, sandbox.bare_env())
        .resolve(&request(&["emoji"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("exit 128"), "{err}");
}

#[test]
fn file_choice_default_entry_and_missing() {
    let sandbox = Sandbox::new();
    let absent = sandbox.path().join("secrets.sops.yml");
    // The implicit default that does not exist skips the tier.
    let implicit = SopsSettings {
        path: absent.clone(),
        path_configured: false,
        ..SopsSettings::default()
    };
    let mut provider = SopsProvider::with_environment(implicit.clone(), sandbox.env());
    assert!(matches!(
        provider.lookup(&request(&["a"])).unwrap(),
        Lookup::Skipped { .. }
    ));
    assert!(matches!(provider.status().state, ProviderState::Skipped(_)));
    // A link left there to a file that does not exist is an error.
    std::os::unix::fs::symlink(sandbox.path().join("unmounted/s.yml"), &absent).unwrap();
    let mut dangling = SopsProvider::with_environment(implicit.clone(), sandbox.env());
    let err = dangling.lookup(&request(&["a"])).unwrap_err().to_string();
    assert!(err.contains("symbolic link"), "{err}");
    assert!(matches!(dangling.status().state, ProviderState::Failed(_)));
    std::fs::remove_file(&absent).unwrap();
    // The entry's own file wins over the default path.
    let mut entry = request(&["mail", "smtp", "password"]);
    entry.metadata.path = Some(fixture("basic.sops.yaml"));
    assert!(matches!(provider.lookup(&entry).unwrap(), Lookup::Found(_)));
    // A configured file that does not exist is an error.
    let configured = SopsSettings {
        path_configured: true,
        ..implicit
    };
    let mut provider = SopsProvider::with_environment(configured, sandbox.env());
    let err = provider.lookup(&request(&["a"])).unwrap_err().to_string();
    assert!(
        err.contains("file not found") && err.contains("secrets.sops.yml"),
        "{err}"
    );
    assert!(matches!(provider.status().state, ProviderState::Failed(_)));
    let mut missing_entry = request(&["a"]);
    missing_entry.metadata.path = Some(sandbox.path().join("nope.sops.yaml"));
    assert!(provider.lookup(&missing_entry).is_err());
}
