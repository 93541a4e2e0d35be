//! kstrun's top-level error and the one place it becomes an exit status.
//!
//! | status | meaning |
//! |---|---|
//! | 125 | kstrun failed: usage, manifest, missing or undecryptable secret, provider failure |
//! | 126 | the command was found but could not be executed |
//! | 127 | the command was not found, or a file it needs (its `#!` interpreter, its loader) |
//! | 128+N | interrupted by signal N while resolving |

use crate::manifest::ManifestError;
use crate::secrets::SecretError;
use std::fmt;

/// A secret that could not be resolved, with the variable it was for.
#[derive(Debug)]
pub struct EntryFailure {
    /// Child variable name.
    pub var: String,
    /// What went wrong; never holds a value.
    pub error: SecretError,
}

/// Why kstrun stopped before the child started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad command-line usage.
    #[error("{0}")]
    Usage(String),
    /// Bad manifest, kstlib config or option.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Secrets that could not be resolved; all of them, not only the first.
    #[error("{}", Failures(.0))]
    Secrets(Vec<EntryFailure>),
    /// The child's environment could not be built.
    #[error("{0}")]
    Child(String),
    /// The command exists but cannot be executed.
    #[error("cannot execute '{program}': {reason}")]
    NotExecutable {
        /// The program as given.
        program: String,
        /// Why.
        reason: String,
    },
    /// The command was not found.
    #[error("command not found: '{program}'")]
    NotFound {
        /// The program as given.
        program: String,
    },
    /// The command exists, but its `#!` interpreter or dynamic loader does not.
    #[error("cannot execute '{program}': a file it needs is missing (the interpreter on its #! line, or its dynamic loader)")]
    NeedsMissingFile {
        /// The program as given.
        program: String,
    },
    /// A toolbox command (`shred`, `init`) failed; details were reported.
    #[error("{0}")]
    Toolbox(String),
    /// A termination signal arrived while resolving.
    #[error("interrupted by signal {0} before the command started")]
    Interrupted(i32),
}

impl Error {
    /// The message as the lines kstrun prints: one per secret that could
    /// not be resolved, after a line that counts them.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Error::Secrets(failures) => std::iter::once(Failures::header(failures.len()))
                .chain(failures.iter().map(Failures::line))
                .collect(),
            other => vec![other.to_string()],
        }
    }

    /// The exit status for this error (SPEC §4.2).
    pub fn exit_status(&self) -> i32 {
        match self {
            Error::NotExecutable { .. } => 126,
            Error::NotFound { .. } | Error::NeedsMissingFile { .. } => 127,
            Error::Interrupted(signal) => 128 + signal,
            _ => 125,
        }
    }
}

struct Failures<'a>(&'a [EntryFailure]);

impl Failures<'_> {
    fn header(count: usize) -> String {
        format!(
            "{count} secret{} could not be resolved:",
            if count == 1 { "" } else { "s" }
        )
    }

    fn line(failure: &EntryFailure) -> String {
        format!("  {}: {}", failure.var, failure.error)
    }
}

impl fmt::Display for Failures<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Failures::header(self.0.len()))?;
        for failure in self.0 {
            write!(f, "\n{}", Failures::line(failure))?;
        }
        Ok(())
    }
}
