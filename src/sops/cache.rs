//! A small LRU of decrypted documents, so one run decrypts each file once.
//!
//! Keyed by the file's canonical path and the format it is read in (two
//! names of one file may call for different formats, and each must be read
//! as its own name says, whichever comes first); an entry is only served
//! while the file's modification time and size are what they were when it
//! was decrypted, so a long-running program sees an edited file. While held
//! (a run's batch of lookups), nothing is evicted: a run with more files than
//! the capacity would otherwise decrypt a file twice, and could take two of
//! its secrets from two versions of it. Dropping an entry (evicted,
//! invalidated, or the cache itself) wipes its leaves.

use super::tree::Document;
use super::Format;
use lru::LruCache;
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

/// Decrypted documents by canonical path and format, least recently used
/// evicted first.
pub struct DocumentCache {
    /// Unbounded: the capacity is kept here, so that a held cache grows.
    entries: LruCache<(PathBuf, Format), Entry>,
    /// The capacity asked for (0: nothing is kept outside a hold).
    capacity: usize,
    held: bool,
}

impl DocumentCache {
    /// A cache of `capacity` documents (0 keeps nothing between batches).
    pub fn new(capacity: usize) -> Self {
        DocumentCache {
            entries: LruCache::unbounded(),
            capacity,
            held: false,
        }
    }

    /// Evicts the least recently used documents down to the capacity,
    /// unless held.
    fn trim(&mut self) {
        while !self.held && self.entries.len() > self.capacity {
            self.entries.pop_lru();
        }
    }

    /// The document for `path` read as `format`, if it was decrypted from
    /// the same file version.
    pub fn get(
        &mut self,
        path: &Path,
        format: Format,
        stamp: FileStamp,
    ) -> Option<(Arc<Document>, &'static str)> {
        let key = (path.to_path_buf(), format);
        match self.entries.get(&key) {
            Some(entry) if entry.stamp == stamp => {
                Some((Arc::clone(&entry.document), entry.backend))
            }
            Some(_) => {
                self.entries.pop(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps `document` for `path` read as `format` at `stamp`.
    pub fn put(
        &mut self,
        path: PathBuf,
        format: Format,
        stamp: FileStamp,
        document: Arc<Document>,
        backend: &'static str,
    ) {
        let entry = Entry {
            stamp,
            document,
            backend,
        };
        self.entries.put((path, format), entry);
        self.trim();
    }

    /// Holds every document put from now on until released; releasing
    /// evicts down to the capacity again.
    pub fn hold(&mut self, held: bool) {
        self.held = held;
        self.trim();
    }

    /// Number of documents held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops (and so wipes) every document.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Arc<Document> {
        Arc::new(Document::new(Vec::new(), false))
    }

    const STAMP: FileStamp = FileStamp {
        modified: None,
        size: 1,
        file: None,
    };

    #[test]
    fn stale_entries_are_dropped_and_capacity_evicts() {
        let stamp = FileStamp {
            modified: None,
            size: 1,
            file: None,
        };
        let yaml = Format::Yaml;
        let mut cache = DocumentCache::new(1);
        cache.put("/a".into(), yaml, stamp, doc(), "native");
        assert!(cache.get(Path::new("/a"), yaml, stamp).is_some());
        assert!(cache
            .get(Path::new("/a"), yaml, FileStamp { size: 2, ..stamp })
            .is_none());
        assert!(cache.is_empty());
        cache.put("/a".into(), yaml, stamp, doc(), "native");
        cache.put("/b".into(), yaml, stamp, doc(), "native");
        assert!(cache.get(Path::new("/a"), yaml, stamp).is_none());
        assert_eq!(cache.len(), 1);
        let mut off = DocumentCache::new(0);
        off.put("/a".into(), yaml, stamp, doc(), "native");
        assert!(off.get(Path::new("/a"), yaml, stamp).is_none());
        // Held, even a cache of 0 keeps what a batch read.
        off.hold(true);
        off.put("/a".into(), yaml, stamp, doc(), "native");
        assert!(off.get(Path::new("/a"), yaml, stamp).is_some());
        off.hold(false);
        assert!(off.is_empty());
    }

    #[test]
    fn one_file_in_two_formats_is_two_entries() {
        let mut cache = DocumentCache::new(4);
        cache.put("/a".into(), Format::Yaml, STAMP, doc(), "native");
        assert!(cache.get(Path::new("/a"), Format::Dotenv, STAMP).is_none());
        assert!(cache.get(Path::new("/a"), Format::Yaml, STAMP).is_some());
    }

    #[test]
    fn a_held_cache_evicts_nothing_until_released() {
        let yaml = Format::Yaml;
        let mut cache = DocumentCache::new(1);
        cache.hold(true);
        for path in ["/a", "/b", "/c"] {
            cache.put(path.into(), yaml, STAMP, doc(), "native");
        }
        for path in ["/a", "/b", "/c"] {
            assert!(cache.get(Path::new(path), yaml, STAMP).is_some(), "{path}");
        }
        cache.hold(false);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(Path::new("/c"), yaml, STAMP).is_some());
        cache.put("/d".into(), yaml, STAMP, doc(), "native");
        assert_eq!(cache.len(), 1);
    }
}
