//! Wiping the stack that secrets passed through, before the child starts.
//!
//! Values live in wiping buffers and every freed heap block is wiped
//! (`alloc`), but a stack frame keeps what its function left in it until a
//! later call happens to overwrite it. Resolving leaves plaintext there: the
//! SHA-512 state of a SOPS file's MAC holds the last block of values hashed,
//! and is moved (copied) from frame to frame. Those frames are dead once
//! resolution returns, yet their bytes would reach `execve` — and with
//! `--init` they would stay in the supervisor for the child's whole life.
//! [`wipe_below`], called where resolution's frames began, overwrites the
//! stack below its caller's frame.
//!
//! How deep: resolution's deepest frames lie well within [`DEPTH`] below
//! the caller; `tests/memory.rs` counts every copy of short SOPS values at
//! the child's `execve` and fails on a single extra one. Pages of that range
//! that resolution never used are touched by the wipe (a few page faults).

/// Bytes of stack below the caller that are overwritten.
const DEPTH: usize = 64 * 1024;

/// Overwrites [`DEPTH`] bytes of stack below the caller's frame with zeros.
#[inline(never)]
pub fn wipe_below() {
    let mut frame = [0u8; DEPTH];
    // The zeros must be considered observed, or the whole frame is dead code.
    std::hint::black_box(&mut frame);
}
