//! Where age identities come from, gathered and merged as sops 3.11 does.
//!
//! Sources, in sops's order: `SOPS_AGE_SSH_PRIVATE_KEY_FILE`,
//! `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`, `SOPS_AGE_KEY` (key text),
//! `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD` (split like a shell, run without
//! one), `$XDG_CONFIG_HOME/sops/age/keys.txt` (else
//! `~/.config/sops/age/keys.txt`), and last the provider's `identity` file.
//! Every source is tried; one that fails is recorded with its reason and the
//! others still count, as in sops. Reports name sources and paths, never key
//! material. The environment is an explicit [`Environment`], so a caller (or
//! a test) decides what is read.

use super::child;
use super::error::ErrorKind;
use super::native::AgeIdentity;
use std::ffi::{OsStr, OsString};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use zeroize::Zeroizing;

/// A snapshot of environment variables, read instead of the process's own.
/// It may hold key material (`SOPS_AGE_KEY`), so every value it lets go of
/// is wiped, with or without kstrun's wiping allocator.
#[derive(Clone, Default)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
}

/// Overwrites a value's bytes with zeros as it is freed.
fn wipe(value: OsString) {
    use std::os::unix::ffi::OsStringExt;
    drop(Zeroizing::new(value.into_vec()));
}

impl Drop for Environment {
    fn drop(&mut self) {
        for (_, value) in self.vars.drain(..) {
            wipe(value);
        }
    }
}

// It may hold SOPS_AGE_KEY: never print it.
impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Environment({} variables)", self.vars.len())
    }
}

impl Environment {
    /// The current process environment.
    pub fn from_process() -> Self {
        Environment {
            vars: std::env::vars_os().collect(),
        }
    }

    /// This environment with `name` set to `value`.
    pub fn with(self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        let name = name.into();
        let mut this = self.without(&name);
        this.vars.push((name, value.into()));
        this
    }

    /// This environment without `name`.
    pub fn without(mut self, name: impl AsRef<OsStr>) -> Self {
        let mut kept = Vec::with_capacity(self.vars.len());
        for (key, value) in self.vars.drain(..) {
            if key == name.as_ref() {
                wipe(value);
            } else {
                kept.push((key, value));
            }
        }
        self.vars = kept;
        self
    }

    /// The value of `name`, when set.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// All variables, for a child process.
    pub fn vars(&self) -> &[(OsString, OsString)] {
        &self.vars
    }
}

/// How one identity source fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    /// Read; this many identities.
    Loaded(usize),
    /// Not set or not present.
    Absent,
    /// Present but unusable, with the reason.
    Failed(String),
}

/// One identity source and its outcome.
#[derive(Debug, Clone)]
pub struct IdentitySource {
    /// The source: an environment variable and/or a path.
    pub name: String,
    /// What happened.
    pub state: SourceState,
}

/// The identities found, and a report of every source.
pub struct Identities {
    /// Usable identities, all sources merged.
    pub identities: Vec<AgeIdentity>,
    /// Every source looked at, in order.
    pub sources: Vec<IdentitySource>,
    /// Permission warnings for key files.
    pub warnings: Vec<String>,
    /// `SOPS_AGE_KEY_CMD` was interrupted (Ctrl-C at its prompt, or
    /// `crate::sops::interrupt`): the reader stops there rather than go on to
    /// the `sops` executable, which would run the command, and ask, again.
    pub interrupted: bool,
    /// `SOPS_AGE_KEY_CMD` ran and failed (an error, a timeout, a wrong
    /// passphrase): the `sops` executable, if the file goes on to it, is
    /// not given the variable, so that the command runs at most once.
    pub command_failed: bool,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities")
            .field("count", &self.identities.len())
            .field("sources", &self.sources)
            .finish()
    }
}

impl Identities {
    /// A one-line summary of the sources, for error messages.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .sources
            .iter()
            .filter_map(|s| match &s.state {
                SourceState::Loaded(n) => Some(format!("{} ({n} key(s))", s.name)),
                SourceState::Failed(why) => Some(format!("{} (failed: {why})", s.name)),
                SourceState::Absent => None,
            })
            .collect();
        if parts.is_empty() {
            "no identity source found (set SOPS_AGE_KEY_FILE, or write sops/age/keys.txt under $XDG_CONFIG_HOME, else ~/.config)"
                .into()
        } else {
            parts.join(", ")
        }
    }
}

/// Gathers identities from every source.
pub fn gather(env: &Environment, extra: Option<&Path>, cmd_timeout: Duration) -> Identities {
    let mut out = Identities {
        identities: Vec::new(),
        sources: Vec::new(),
        warnings: Vec::new(),
        interrupted: false,
        command_failed: false,
    };
    let home = env.get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);

    match env.get("SOPS_AGE_SSH_PRIVATE_KEY_FILE") {
        Some(path) => out.file("SOPS_AGE_SSH_PRIVATE_KEY_FILE", Path::new(path), Kind::Ssh),
        None => out.absent("SOPS_AGE_SSH_PRIVATE_KEY_FILE"),
    }
    for name in ["id_ed25519", "id_rsa"] {
        if let Some(home) = &home {
            let path = home.join(".ssh").join(name);
            if path.exists() {
                out.file("ssh key", &path, Kind::Ssh);
            } else {
                out.absent(&path.display().to_string());
            }
        }
    }
    match env.get("SOPS_AGE_KEY") {
        // Key text from the environment: no file, so no permission check.
        Some(text) => {
            let text = Zeroizing::new(text.to_string_lossy().into_owned());
            out.text("SOPS_AGE_KEY", text.as_bytes());
        }
        None => out.absent("SOPS_AGE_KEY"),
    }
    match env.get("SOPS_AGE_KEY_FILE") {
        Some(path) => out.file("SOPS_AGE_KEY_FILE", Path::new(path), Kind::Age),
        None => out.absent("SOPS_AGE_KEY_FILE"),
    }
    match env.get("SOPS_AGE_KEY_CMD") {
        Some(cmd) => out.command(&cmd.to_string_lossy(), env, cmd_timeout),
        None => out.absent("SOPS_AGE_KEY_CMD"),
    }
    if let Some(path) = user_keys_file(env, home.as_deref()) {
        if path.exists() {
            out.file("user keys file", &path, Kind::Age);
        } else {
            out.absent(&path.display().to_string());
        }
    }
    if let Some(path) = extra {
        if path.exists() {
            out.file("identity setting", path, Kind::Detect);
        } else {
            out.failed(
                &format!(
                    "identity setting {}",
                    shown_unless_key(&path.to_string_lossy())
                ),
                "file not found".into(),
            );
        }
    }
    out
}

/// `text`, a path or a command taken from a variable, as a message may show
/// it, unless it looks like key material put in the wrong variable (a key
/// in `SOPS_AGE_KEY_FILE` rather than `SOPS_AGE_KEY`): that would be
/// printed whole in errors and in `check`.
pub(super) fn shown_unless_key(text: &str) -> std::borrow::Cow<'_, str> {
    let upper = text.to_ascii_uppercase();
    if ["AGE-SECRET-KEY-", "AGE-PLUGIN-", "PRIVATE KEY"]
        .iter()
        .any(|marker| upper.contains(marker))
    {
        "(a value that looks like a private key, not shown)".into()
    } else {
        text.into()
    }
}

fn user_keys_file(env: &Environment, home: Option<&Path>) -> Option<PathBuf> {
    let xdg = env
        .get("XDG_CONFIG_HOME")
        .filter(|x| !x.is_empty())
        .map(PathBuf::from);
    let config = match xdg {
        // Go's os.UserConfigDir ignores a relative XDG_CONFIG_HOME.
        Some(dir) if dir.is_absolute() => dir,
        Some(_) => return None,
        None if cfg!(target_os = "macos") => home?.join("Library").join("Application Support"),
        None => home?.join(".config"),
    };
    Some(config.join("sops").join("age").join("keys.txt"))
}

#[derive(Clone, Copy)]
enum Kind {
    Age,
    Ssh,
    Detect,
}

impl Identities {
    fn absent(&mut self, name: &str) {
        self.sources.push(IdentitySource {
            name: name.to_string(),
            state: SourceState::Absent,
        });
    }

    fn failed(&mut self, name: &str, why: String) {
        self.sources.push(IdentitySource {
            name: name.to_string(),
            state: SourceState::Failed(why),
        });
    }

    fn loaded(&mut self, name: &str, found: Vec<AgeIdentity>) {
        self.sources.push(IdentitySource {
            name: name.to_string(),
            state: SourceState::Loaded(found.len()),
        });
        self.identities.extend(found);
    }

    fn file(&mut self, label: &str, path: &Path, kind: Kind) {
        let name = format!("{label} {}", shown_unless_key(&path.to_string_lossy()));
        if let Ok(meta) = std::fs::metadata(path) {
            self.check_permissions(path, &meta);
            crate::interrupt::watch_unless_regular(&meta);
        }
        let contents = match read_limited(path) {
            Ok(c) => c,
            Err(why) => return self.failed(&name, why),
        };
        let ssh = match kind {
            Kind::Ssh => true,
            Kind::Age => false,
            Kind::Detect => looks_like_ssh_key(&contents),
        };
        if ssh {
            match parse_ssh(&contents, path) {
                Ok(found) => self.loaded(&name, found),
                Err(why) => self.failed(&name, why),
            }
        } else {
            self.text(&name, &contents);
        }
    }

    /// Age identity lines from a file, a variable or a command's output.
    fn text(&mut self, name: &str, text: &[u8]) {
        match parse_age_lines(text) {
            Ok(AgeLines { found, plugins: 0 }) => self.loaded(name, found),
            Ok(AgeLines { found, plugins }) => self.loaded(
                &format!(
                    "{name} (skipping {plugins} age plugin identit{}: only the sops executable can use them)",
                    if plugins == 1 { "y" } else { "ies" }
                ),
                found,
            ),
            Err(why) => self.failed(name, why),
        }
    }

    fn command(&mut self, cmd: &str, env: &Environment, timeout: Duration) {
        let name = "SOPS_AGE_KEY_CMD";
        let words = match shell_words::split(cmd) {
            Ok(words) if !words.is_empty() => words,
            Ok(_) => return self.failed(name, "empty command".into()),
            Err(_) => {
                return self.failed(name, "cannot split the command (unbalanced quotes?)".into())
            }
        };
        let program = OsString::from(&words[0]);
        let args: Vec<OsString> = words[1..].iter().map(OsString::from).collect();
        let output = match child::run(&program, &args, timeout, Some(env)) {
            Ok(output) => output,
            Err(e) => {
                self.interrupted |= e.kind == ErrorKind::Interrupted;
                self.command_failed = true;
                return self.failed(name, e.reason);
            }
        };
        if !output.status.success() {
            self.command_failed = true;
            return self.failed(name, format!("the command failed ({})", output.status));
        }
        self.text(name, &output.stdout);
    }

    /// Warns about a key file others may read. Only a regular file: a pipe
    /// (`<(pass show key)`) or a device has its mode for other reasons, and
    /// `chmod 400 /tmp` for a folder given by mistake would be bad advice.
    fn check_permissions(&mut self, path: &Path, meta: &std::fs::Metadata) {
        #[cfg(unix)]
        if meta.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o044 != 0 {
                self.warnings.push(format!(
                    "key file {} is readable by group or others (mode {mode:03o}); chmod 400 it",
                    path.display()
                ));
            }
        }
        #[cfg(not(unix))]
        let _ = (path, meta);
    }
}

/// Whether a key file holds an ssh private key: it starts with a PEM
/// "PRIVATE KEY" header (an age key file may mention one in a comment).
fn looks_like_ssh_key(contents: &[u8]) -> bool {
    let start = contents.trim_ascii_start();
    start.starts_with(b"-----BEGIN")
        && start
            .split(|&b| b == b'\n')
            .next()
            .is_some_and(|header| header.windows(11).any(|w| w == b"PRIVATE KEY"))
}

/// The variable through which sops 3.11 takes a key file like `path`:
/// `SOPS_AGE_SSH_PRIVATE_KEY_FILE` for an ssh key, else `SOPS_AGE_KEY_FILE`.
/// Only a regular file is read to tell: a pipe (`<(pass show key)`) would
/// be emptied before sops could read it.
pub(super) fn sops_variable_for(path: &Path) -> &'static str {
    if !std::fs::metadata(path).is_ok_and(|meta| meta.is_file()) {
        return "SOPS_AGE_KEY_FILE";
    }
    match read_limited(path) {
        Ok(contents) if looks_like_ssh_key(&contents) => "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        _ => "SOPS_AGE_KEY_FILE",
    }
}

fn read_limited(path: &Path) -> Result<Zeroizing<Vec<u8>>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    let mut contents = Zeroizing::new(Vec::with_capacity(4096));
    // Key files are small; a huge one is a mistake, not a key.
    file.take(1 << 20)
        .read_to_end(&mut contents)
        .map_err(|e| format!("cannot read: {}", io_reason(&e)))?;
    Ok(contents)
}

fn io_reason(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::NotFound => "file not found",
        std::io::ErrorKind::PermissionDenied => "permission denied",
        std::io::ErrorKind::IsADirectory => "is a directory",
        _ => "I/O error",
    }
}

/// The identities of a text of age lines, and how many plugin lines were skipped.
struct AgeLines {
    found: Vec<AgeIdentity>,
    plugins: usize,
}

/// Parses age identity lines: `AGE-SECRET-KEY-1...`, skipping blanks and
/// `#` comments (whatever bytes they hold). One bad line makes the whole
/// source fail, as in sops. A plugin identity (`AGE-PLUGIN-...`, a YubiKey)
/// is valid to sops, which runs the plugin; the native reader skips it, so
/// the file's other keys still count.
fn parse_age_lines(text: &[u8]) -> Result<AgeLines, String> {
    let trimmed = text.trim_ascii_start();
    if trimmed.starts_with(b"age-encryption.org") || trimmed.starts_with(b"-----BEGIN AGE") {
        return Err("passphrase-protected key files need the sops executable".into());
    }
    let mut lines = AgeLines {
        found: Vec::new(),
        plugins: 0,
    };
    for (number, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        if line.starts_with(b"AGE-PLUGIN-") {
            lines.plugins += 1;
            continue;
        }
        let identity = std::str::from_utf8(line)
            .ok()
            .filter(|line| line.starts_with("AGE-SECRET-KEY-1"))
            .ok_or_else(|| format!("line {}: not an age identity", number + 1))?;
        let identity = age::x25519::Identity::from_str(identity)
            .map_err(|_| format!("line {}: malformed age identity", number + 1))?;
        lines.found.push(Box::new(identity));
    }
    Ok(lines)
}

fn parse_ssh(contents: &[u8], path: &Path) -> Result<Vec<AgeIdentity>, String> {
    let reader = BufReader::new(contents);
    match age::ssh::Identity::from_buffer(reader, Some(path.display().to_string())) {
        Ok(age::ssh::Identity::Unencrypted(key)) => {
            Ok(vec![Box::new(age::ssh::Identity::Unencrypted(key))])
        }
        Ok(age::ssh::Identity::Encrypted(_)) => {
            Err("passphrase-protected ssh keys are not supported".into())
        }
        Ok(age::ssh::Identity::Unsupported(_)) => Err("unsupported ssh key type".into()),
        Err(_) => Err("not a valid ssh private key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_lines_skip_comments_and_reject_junk() {
        let key = age::x25519::Identity::generate();
        use age::secrecy::ExposeSecret;
        let text = format!("# created\n\n{}\n", key.to_string().expose_secret());
        assert_eq!(parse_age_lines(text.as_bytes()).unwrap().found.len(), 1);
        let err = parse_age_lines(b"AGE-SECRET-KEY-1NOPE\n").err().unwrap();
        assert!(err.contains("line 1"), "{err}");
        assert!(parse_age_lines(b"hello\n").is_err());
        assert!(parse_age_lines(b"AGE-SECRET-KEY-1\xff\n").is_err());
    }

    /// As sops reads a keys.txt: a plugin line (a YubiKey) does not void the
    /// file's other keys, and a comment may hold any bytes.
    #[test]
    fn plugin_lines_are_skipped_and_comments_may_hold_any_bytes() {
        let key = age::x25519::Identity::generate();
        use age::secrecy::ExposeSecret;
        let text = format!(
            "# cl\u{e9}\nAGE-PLUGIN-YUBIKEY-1QQQQQQ\n{}\n",
            key.to_string().expose_secret()
        );
        let mut bytes = text.into_bytes();
        // A Latin-1 é in the comment: not UTF-8.
        bytes[4] = 0xe9;
        bytes.remove(5);
        let lines = parse_age_lines(&bytes).unwrap();
        assert_eq!((lines.found.len(), lines.plugins), (1, 1));
    }

    #[test]
    fn absent_sources_are_recorded_without_failing() {
        let env = Environment::default().with("HOME", "/nonexistent-home");
        let ids = gather(&env, None, Duration::from_secs(1));
        assert!(ids.identities.is_empty());
        assert!(ids.sources.iter().all(|s| s.state == SourceState::Absent));
        assert!(ids.describe().contains("no identity source"));
    }
}
