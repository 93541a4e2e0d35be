//! A standalone SOPS reader (knows nothing of providers or the cascade).

/// A SOPS file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// From the file name: `.yaml`/`.yml`, `.json`, `.env`, `.ini`, else binary.
    Auto,
    /// YAML, all documents.
    Yaml,
    /// JSON.
    Json,
    /// dotenv (`KEY=value` lines).
    Dotenv,
    /// INI sections.
    Ini,
    /// Any file, stored whole under `data`.
    Binary,
}
