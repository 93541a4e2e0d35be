//! A zero-on-free global allocator.
//!
//! `SecretValue` wipes the buffers it owns, but parsers (TOML, YAML, JSON),
//! `String` growth and `Vec` reallocation leave copies of plaintext in blocks
//! they free along the way. Wiping every block on `dealloc` (and the old block
//! on `realloc`) makes those copies disappear too, so the only plaintext left
//! at `execve` is the environment block handed to the kernel. The binary
//! installs it with `#[global_allocator]`; the library does not impose it.

use std::alloc::{GlobalAlloc, Layout, System};
use zeroize::Zeroize;

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
            std::slice::from_raw_parts_mut(ptr, layout.size()).zeroize();
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
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
