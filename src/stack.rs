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
//!
//! Never past the stack's end: under a small stack limit (`ulimit -s 80`)
//! a wipe of [`DEPTH`] would run past the limit and kill kstrun with
//! SIGSEGV. On Linux the wipe first asks `mincore` whether the pages it
//! would use are mapped (the stack's mapping only grows, so it holds every
//! page resolution used), and wipes less where they are not: resolution's
//! frames cannot have gone further. That holds for the main thread, where
//! kstrun calls it: below its stack the kernel leaves a gap with nothing
//! mapped, where a thread's stack has a guard page that is mapped (but not
//! writable). The wipe is made of calls of one page each, so that its depth
//! can be chosen at run time.

/// Bytes of stack below the caller that are overwritten, when the stack has them.
const DEPTH: usize = 64 * 1024;

/// Bytes each call of [`wipe_frames`] overwrites.
const FRAME: usize = 4096;

/// What one call of [`wipe_frames`] takes of the stack at most: its bytes,
/// and the call's own return address, saved registers and alignment.
#[cfg(target_os = "linux")]
const FRAME_COST: usize = FRAME + 256;

/// Overwrites up to [`DEPTH`] bytes of stack below the caller's frame with
/// zeros, as far as the stack goes.
#[inline(never)]
pub fn wipe_below() {
    let here = 0u8;
    let frames = frames_that_fit(std::ptr::addr_of!(here) as usize);
    if frames > 0 {
        wipe_frames(frames);
    }
}

/// Overwrites `count` (at least one) frames of [`FRAME`] bytes, each below
/// the one before.
#[inline(never)]
fn wipe_frames(count: usize) {
    let mut frame = [0u8; FRAME];
    // The zeros must be considered observed, or the frame is dead code.
    std::hint::black_box(&mut frame);
    if count > 1 {
        wipe_frames(count - 1);
    }
    // Used after the call: it cannot become a jump that reuses this frame.
    std::hint::black_box(&frame);
}

/// How many frames of [`wipe_frames`] fit in the stack's mapped pages
/// below `here`: all of them, unless the stack ends sooner.
#[cfg(target_os = "linux")]
fn frames_that_fit(here: usize) -> usize {
    use nix::libc;
    // SAFETY: sysconf only reads a constant of the running system.
    let page = match usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }) {
        Ok(page) if page.is_power_of_two() && page >= 4096 => page,
        _ => 4096,
    };
    let top = here & !(page - 1);
    let mut resident = [0u8; (DEPTH / FRAME * FRAME_COST).div_ceil(4096)];
    let mut mapped = |bytes: usize| {
        let pages = bytes.div_ceil(page);
        top.checked_sub(pages * page).is_some_and(|start| {
            // SAFETY: mincore only reads the mappings of the range and
            // writes one byte per page into `resident`, which has room for
            // `pages` (at most its length, for pages of 4 KiB or more).
            unsafe { libc::mincore(start as *mut _, pages * page, resident.as_mut_ptr()) == 0 }
        })
    };
    (0..=DEPTH / FRAME)
        .rev()
        .find(|&frames| frames == 0 || mapped(frames * FRAME_COST))
        .unwrap_or(0)
}

#[cfg(not(target_os = "linux"))]
fn frames_that_fit(_here: usize) -> usize {
    DEPTH / FRAME
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};
    use std::num::NonZeroUsize;

    /// `pages` mapped pages with an unmapped one below them; returns the
    /// address just past the top.
    fn mapped_pages(pages: usize) -> (std::ptr::NonNull<std::ffi::c_void>, usize) {
        let length = NonZeroUsize::new((pages + 1) * 4096).unwrap();
        // SAFETY: a fresh private anonymous mapping, unmapped below.
        let start = unsafe {
            mmap_anonymous(
                None,
                length,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_PRIVATE,
            )
        }
        .unwrap();
        // SAFETY: the lowest page of the mapping just made.
        unsafe { munmap(start, 4096) }.unwrap();
        (start, start.as_ptr() as usize + length.get())
    }

    #[test]
    fn the_wipe_stops_where_the_mapped_pages_end() {
        // `here` lies in the top page, as a local in the caller's frame
        // does; the pages below it are counted.
        for (pages, expected) in [(40, DEPTH / FRAME), (10, 9 * 4096 / FRAME_COST), (1, 0)] {
            let (start, top) = mapped_pages(pages);
            assert_eq!(frames_that_fit(top - 100), expected, "{pages} pages");
            let rest = NonZeroUsize::new(pages * 4096).unwrap();
            // SAFETY: the pages `mapped_pages` left mapped.
            unsafe { munmap(start.byte_add(4096), rest.get()) }.unwrap();
        }
    }
}
