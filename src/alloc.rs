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
//! copy and wipe the whole buffer each time. A large block (64 KiB or more,
//! such as age's stream buffer, which holds a 32-byte key) is wiped only in
//! the pages the process ever touched (`mincore`): a page never written holds
//! nothing, and writing zeros to it would only fault in a fresh page — a
//! tenth of a short SOPS run here.

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

/// Blocks from this size on are wiped page by page, where touched.
#[cfg(target_os = "linux")]
const SPARSE_WIPE_FROM: usize = 64 * 1024;

/// Wipes the pages of `ptr..ptr + len` that are in memory; the partial pages
/// at either end are always wiped. Anything `mincore` cannot tell is wiped.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes.
#[cfg(target_os = "linux")]
unsafe fn wipe_touched(ptr: *mut u8, len: usize) {
    use nix::libc;
    // SAFETY: sysconf only reads a constant of the running system.
    let page = match usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }) {
        Ok(page) if page.is_power_of_two() => page,
        // SAFETY: the caller's guarantee.
        _ => return unsafe { wipe(ptr, len) },
    };
    let start = ptr as usize;
    let end = start + len;
    let first = start.next_multiple_of(page);
    let last = end & !(page - 1);
    if first >= last {
        // SAFETY: the caller's guarantee.
        return unsafe { wipe(ptr, len) };
    }
    // SAFETY: both ends lie inside the caller's block.
    unsafe {
        wipe(ptr, first - start);
        wipe(ptr.add(last - start), end - last);
    }
    let mut resident = [0u8; 256];
    let mut at = first;
    while at < last {
        let pages = ((last - at) / page).min(resident.len());
        // SAFETY: `at` is page-aligned and `pages` pages from it lie in the
        // block; `resident` has room for one byte per page.
        let asked = unsafe { libc::mincore(at as *mut _, pages * page, resident.as_mut_ptr()) };
        for (index, flags) in resident[..pages].iter().enumerate() {
            if asked != 0 || flags & 1 != 0 {
                // SAFETY: this page lies inside the caller's block.
                unsafe { wipe(ptr.add(at - start + index * page), page) };
            }
        }
        at += pages * page;
    }
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
            #[cfg(target_os = "linux")]
            if layout.size() >= SPARSE_WIPE_FROM {
                wipe_touched(ptr, layout.size());
                return System.dealloc(ptr, layout);
            }
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_large_block_is_wiped_wherever_it_was_written() {
        // Fresh zeroed pages, written here and there: at both partial ends,
        // in single pages far apart, across a page boundary, and in a run of
        // pages longer than one `mincore` call covers.
        let mut block = vec![0u8; 3 << 20];
        let len = block.len();
        let page = 4096;
        let mut written = vec![0, 1, len - 1, 5 * page + 7, 700 * page - 1];
        written.extend((300 * page..300 * page + 2 * page + 3).step_by(97));
        written.extend((400 * page..(400 + 300) * page).step_by(page));
        for &at in &written {
            block[at] = 0xA5;
        }
        // Starting one byte in, so that neither end is page-aligned.
        // SAFETY: the range lies inside `block`, which this test owns.
        unsafe { wipe_touched(block.as_mut_ptr().add(1), len - 1) };
        assert_eq!(block[0], 0xA5, "a byte before the range is left alone");
        for &at in &written[1..] {
            assert_eq!(block[at], 0, "byte {at} was not wiped");
        }
        assert!(block[1..].iter().all(|b| *b == 0));
    }
}
