//! A zero-on-free global allocator.
//!
//! `SecretValue` wipes the buffers it owns, but parsers (TOML, YAML, JSON),
//! `String` growth and `Vec` reallocation leave copies of plaintext in blocks
//! they free along the way. Wiping every block on `dealloc` (and the old block
//! on `realloc`) makes those copies disappear too, so the only plaintext left
//! at `execve` is the environment block handed to the kernel. The binary
//! installs it with `#[global_allocator]`; the library does not impose it.
//!
//! Cost: the wipe is one `memset` per freed block (kept from being optimised
//! away by `black_box`), not a byte-at-a-time volatile loop. On Linux a
//! `realloc` that still fits in the block's usable size stays in place (a
//! shrink wipes the tail it gives up), so growing a `String` or `Vec` does not
//! copy and wipe the whole buffer each time.

use std::alloc::{GlobalAlloc, Layout, System};

/// Overwrites `len` bytes at `ptr` with zeros in a way the compiler keeps,
/// although the block is freed right after.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes.
unsafe fn wipe(ptr: *mut u8, len: usize) {
    // SAFETY: the caller guarantees `ptr..ptr + len` is writable.
    unsafe { std::ptr::write_bytes(ptr, 0, len) };
    // The zeros must be considered observed, or the stores before `free` are dead.
    std::hint::black_box(ptr);
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

#[cfg(target_os = "linux")]
fn usable_size(ptr: *mut u8) -> usize {
    // SAFETY: `ptr` is a live block from the system allocator (malloc or
    // posix_memalign), which is what `malloc_usable_size` accepts.
    unsafe { nix::libc::malloc_usable_size(ptr.cast()) }
}

/// The system allocator, wiping every block before it is freed.
pub struct ZeroizingAllocator;

// SAFETY: every method forwards to `System` with the same layouts; the extra
// work only writes zeros into blocks the caller owns and is about to free.
unsafe impl GlobalAlloc for ZeroizingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` is a live block of `layout.size()` bytes owned by the caller.
        unsafe {
            wipe(ptr, layout.size());
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // In place when the block is big enough: nothing is copied, and the
        // bytes a shrink gives up are wiped now (a later free wipes only the
        // new size).
        #[cfg(target_os = "linux")]
        if new_size <= usable_size(ptr) {
            if new_size < layout.size() {
                // SAFETY: `ptr..ptr + layout.size()` is the caller's live block.
                unsafe { wipe(ptr.add(new_size), layout.size() - new_size) };
            }
            return ptr;
        }
        // Never let the system allocator move the block itself: it would free
        // the old copy without wiping it. Allocate, copy, wipe and free instead.
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new_ptr = System.alloc(new_layout);
            if !new_ptr.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new_ptr
        }
    }
}
