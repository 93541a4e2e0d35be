//! FNV-1a, for the in-memory indexes of short names the run path builds and
//! searches: a SOPS document's keys, the environment's variable names, the
//! manifest's `[secrets]` table and the YAML reader's duplicate-key check.
//!
//! Those need only that equal names hash equally, and a thousand short names
//! hash in a fraction of SipHash's time. FNV-1a has no secret key, so names
//! made to collide can be written on purpose; they only make a search
//! compare more names (time, never a wrong answer: every index compares the
//! names themselves after the hash), and they would have to be written into
//! the user's own manifest or SOPS file.

use std::hash::{BuildHasherDefault, Hasher};

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// The 64-bit FNV-1a hash of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fold(OFFSET, bytes)
}

fn fold(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// FNV-1a as a `Hasher`, for the maps and sets of names built on the run path.
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(OFFSET)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fold(self.0, bytes);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds `Fnv1a` hashers: `HashSet<K, FnvBuild>`, `IndexMap<K, V, FnvBuild>`.
pub type FnvBuild = BuildHasherDefault<Fnv1a>;

#[cfg(test)]
mod tests {
    use super::fnv1a;
    use std::hash::Hasher;

    #[test]
    fn known_values() {
        // The published FNV-1a 64-bit test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_hasher_hashes_as_the_function() {
        let mut hasher = super::Fnv1a::default();
        hasher.write(b"foo");
        hasher.write(b"bar");
        assert_eq!(hasher.finish(), fnv1a(b"foobar"));
    }
}
