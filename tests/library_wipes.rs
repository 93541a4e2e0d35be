//! What the library wipes by itself, without the binary's wiping allocator:
//! a spy allocator looks into every block as it is freed for a marker
//! value. One test only in this binary, since the spy watches the whole
//! process.

use kstrun::sops::Environment;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const MARKER: &str = "AGE-SECRET-KEY-1SPYMARKERFORTHEWIPETEST";
static WATCHING: AtomicBool = AtomicBool::new(false);
static FREED_WITH_MARKER: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting freed blocks that still hold `MARKER`.
struct Spy;

// SAFETY: every call forwards to `System` with the caller's layout; `dealloc`
// only reads the block it is handed before freeing it.
unsafe impl GlobalAlloc for Spy {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::SeqCst) {
            // SAFETY: `ptr` is a live block of `layout.size()` bytes.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()) {
                FREED_WITH_MARKER.fetch_add(1, Ordering::SeqCst);
            }
        }
        // SAFETY: the caller's contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static SPY: Spy = Spy;

#[test]
fn an_environment_wipes_every_value_it_lets_go_of() {
    WATCHING.store(true, Ordering::SeqCst);
    let env = Environment::default()
        .with("SOPS_AGE_KEY", MARKER)
        .with("OTHER", MARKER)
        // Replaced, then removed, then dropped with the rest.
        .with("SOPS_AGE_KEY", "replaced");
    let copy = env.clone();
    drop(copy.without("OTHER"));
    drop(env);
    WATCHING.store(false, Ordering::SeqCst);
    assert_eq!(FREED_WITH_MARKER.load(Ordering::SeqCst), 0);
    // The spy sees what it must: a plain String holding the marker.
    WATCHING.store(true, Ordering::SeqCst);
    drop(std::hint::black_box(MARKER.to_string()));
    WATCHING.store(false, Ordering::SeqCst);
    assert_eq!(FREED_WITH_MARKER.load(Ordering::SeqCst), 1);
}
