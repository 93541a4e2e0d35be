//! A small LRU of decrypted documents, so one run decrypts each file once.
//!
//! Keyed by the file's canonical path; an entry is only served while the
//! file's modification time and size are what they were when it was
//! decrypted, so a long-running program sees an edited file. Dropping an
//! entry (evicted, invalidated, or the cache itself) wipes its leaves.

use super::tree::Document;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// What identifies one version of a file: modification time, size, and
/// (on Unix) device and inode, so that a symbolic link pointed at another
/// file of the same size and time is still seen as a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    /// Last modification, when the platform reports it.
    pub modified: Option<SystemTime>,
    /// Size in bytes.
    pub size: u64,
    /// Device and inode, where the platform has them.
    pub file: Option<(u64, u64)>,
}

impl FileStamp {
    /// The stamp of `path` now (following symbolic links).
    pub fn of(path: &Path) -> std::io::Result<FileStamp> {
        Ok(FileStamp::from_metadata(&std::fs::metadata(path)?))
    }

    /// The stamp of a file whose metadata is at hand.
    pub fn from_metadata(meta: &std::fs::Metadata) -> FileStamp {
        #[cfg(unix)]
        let file = {
            use std::os::unix::fs::MetadataExt;
            Some((meta.dev(), meta.ino()))
        };
        #[cfg(not(unix))]
        let file = None;
        FileStamp {
            modified: meta.modified().ok(),
            size: meta.len(),
            file,
        }
    }
}

struct Entry {
    stamp: FileStamp,
    document: Arc<Document>,
    backend: &'static str,
}

/// Decrypted documents by canonical path, least recently used evicted first.
pub struct DocumentCache {
    entries: Option<LruCache<PathBuf, Entry>>,
}

impl DocumentCache {
    /// A cache of `capacity` documents (0 disables caching).
    pub fn new(capacity: usize) -> Self {
        DocumentCache {
            entries: NonZeroUsize::new(capacity).map(LruCache::new),
        }
    }

    /// The document for `path` if it was decrypted from the same file version.
    pub fn get(&mut self, path: &Path, stamp: FileStamp) -> Option<(Arc<Document>, &'static str)> {
        let entries = self.entries.as_mut()?;
        match entries.get(path) {
            Some(entry) if entry.stamp == stamp => {
                Some((Arc::clone(&entry.document), entry.backend))
            }
            Some(_) => {
                entries.pop(path);
                None
            }
            None => None,
        }
    }

    /// Keeps `document` for `path` at `stamp`.
    pub fn put(
        &mut self,
        path: PathBuf,
        stamp: FileStamp,
        document: Arc<Document>,
        backend: &'static str,
    ) {
        if let Some(entries) = self.entries.as_mut() {
            entries.put(
                path,
                Entry {
                    stamp,
                    document,
                    backend,
                },
            );
        }
    }

    /// Number of documents held.
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, LruCache::len)
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops (and so wipes) every document.
    pub fn clear(&mut self) {
        if let Some(entries) = self.entries.as_mut() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Arc<Document> {
        Arc::new(Document::new(Vec::new(), false))
    }

    #[test]
    fn stale_entries_are_dropped_and_capacity_evicts() {
        let stamp = FileStamp {
            modified: None,
            size: 1,
            file: None,
        };
        let mut cache = DocumentCache::new(1);
        cache.put("/a".into(), stamp, doc(), "native");
        assert!(cache.get(Path::new("/a"), stamp).is_some());
        assert!(cache
            .get(Path::new("/a"), FileStamp { size: 2, ..stamp })
            .is_none());
        assert!(cache.is_empty());
        cache.put("/a".into(), stamp, doc(), "native");
        cache.put("/b".into(), stamp, doc(), "native");
        assert!(cache.get(Path::new("/a"), stamp).is_none());
        assert_eq!(cache.len(), 1);
        let mut off = DocumentCache::new(0);
        off.put("/a".into(), stamp, doc(), "native");
        assert!(off.get(Path::new("/a"), stamp).is_none());
    }
}
