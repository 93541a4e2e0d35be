//! Helpers shared by the `sops_*` integration tests: fixture paths, a private
//! environment (own HOME, the test-only key), and the real sops executable.
//!
//! A test that needs `sops` (or `age-keygen`) skips with a printed reason when
//! it is missing, unless KSTRUN_TEST_REQUIRE_TOOLS=1 (set by scripts/test),
//! in which case it fails.
#![allow(dead_code)]

use kstrun::secrets::{
    providers::{SopsBackend, SopsProvider, SopsSettings},
    Provider, SecretRequest, SecretResolver,
};
use kstrun::sops::Environment;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sops")
}

/// A fixture by name.
pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// Finds `tool` on PATH or in the test venv; `None` (with a printed reason)
/// when missing and tools are not required; panics when they are.
pub fn tool(name: &str) -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(std::iter::once(venv))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        if std::env::var("KSTRUN_TEST_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("required test tool '{name}' is missing (run scripts/install-test-deps)");
        }
        eprintln!("skipping: '{name}' is not installed (scripts/install-test-deps installs it)");
    }
    found
}

/// A private home with the test-only age key copied in as a 0600 file.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies a fixture key into the sandbox with mode 0600, returning its path.
    pub fn private_copy(&self, fixture_name: &str) -> PathBuf {
        let target = self.path().join(fixture_name);
        std::fs::copy(fixture(fixture_name), &target).expect("copy key");
        set_mode(&target, 0o600);
        target
    }

    /// Copies any fixture file into the sandbox (to tamper with it).
    pub fn copy(&self, fixture_name: &str) -> PathBuf {
        let target = self.path().join(fixture_name);
        std::fs::copy(fixture(fixture_name), &target).expect("copy fixture");
        target
    }

    /// An environment with only HOME, PATH (with sops) and no key at all.
    pub fn bare_env(&self) -> Environment {
        let mut path = std::env::var_os("PATH").unwrap_or_default();
        if let Some(sops) = tool_quiet("sops") {
            let dir = sops.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut dirs = vec![dir];
            dirs.extend(std::env::split_paths(&path));
            path = std::env::join_paths(dirs).expect("PATH");
        }
        Environment::default()
            .with("HOME", self.path())
            .with("PATH", path)
            .with("SOPS_DISABLE_VERSION_CHECK", "1")
    }

    /// The bare environment plus SOPS_AGE_KEY_FILE = the test-only key.
    pub fn env(&self) -> Environment {
        let key = self.private_copy("test-age-key.txt");
        self.bare_env().with("SOPS_AGE_KEY_FILE", key)
    }
}

fn tool_quiet(name: &str) -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(std::iter::once(venv))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Settings for one file with a backend.
pub fn settings(file: &Path, backend: SopsBackend) -> SopsSettings {
    SopsSettings {
        path: file.to_path_buf(),
        path_configured: true,
        backend,
        ..SopsSettings::default()
    }
}

/// A resolver with only the sops tier.
pub fn resolver(settings: SopsSettings, env: Environment) -> SecretResolver {
    let provider: Box<dyn Provider> = Box::new(SopsProvider::with_environment(settings, env));
    SecretResolver::new(vec![provider])
}

/// A request for the key `segments` (bypassing the dotted name).
pub fn request(segments: &[&str]) -> SecretRequest {
    let mut request = SecretRequest::new(segments.join("."));
    request.metadata.key_path = Some(segments.iter().map(|s| s.to_string()).collect());
    request
}

/// Runs the real `sops -d` with `env` and extra args, returning stdout.
pub fn sops_decrypt(sops: &Path, env: &Environment, args: &[&str], file: &Path) -> Vec<u8> {
    let output = Command::new(sops)
        .env_clear()
        .envs(env.vars().iter().map(|(k, v)| (k, v)))
        .arg("--decrypt")
        .args(args)
        .arg(file)
        .output()
        .expect("run sops");
    assert!(
        output.status.success(),
        "sops -d {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Panics if `text` contains any of `secrets`.
pub fn assert_no_secret(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "secret {secret:?} leaked into: {text}"
        );
    }
}
