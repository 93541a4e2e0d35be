//! What the `kstrun` binary does first, in place of the Rust runtime's start-up.
//!
//! `main.rs` has no Rust runtime start-up (`#![no_main]`): that start-up
//! reads `/proc/self/maps` and installs a stack-overflow handler with its own
//! signal stack — a tenth of kstrun's own start-up time, for a report kstrun
//! does not need — and, above all, sets SIGPIPE to ignored before `main`, so
//! that the caller's SIGPIPE disposition, which the child must get back,
//! would be lost. [`begin`] does what kstrun does need, in order:
//!
//! * records the caller's SIGPIPE disposition, then ignores SIGPIPE (a
//!   closed pipe or socket is then an error kstrun reports, not a silent
//!   death);
//! * opens `/dev/null` on any of descriptors 0, 1 and 2 that is closed, so
//!   that no file kstrun opens (a manifest, a memfd holding a secret file)
//!   can land on a standard descriptor and be written to or handed to the
//!   child as one; a closed stdout is remembered, so that a command whose
//!   output is the point (`export`, `check`) fails instead of writing to
//!   `/dev/null` (see [`stdout_was_closed`]);
//! * tells glibc's allocator to keep freed memory (see
//!   `keep_freed_heap_memory`).

use nix::libc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether descriptor 1 was closed when kstrun started.
static STDOUT_WAS_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether kstrun was started with its stdout closed (`kstrun export >&-`);
/// descriptor 1 is then `/dev/null`, and output written there is lost.
pub fn stdout_was_closed() -> bool {
    STDOUT_WAS_CLOSED.load(Ordering::Relaxed)
}

/// Runs the start-up; call before anything else in `main`.
pub fn begin() {
    #[cfg(target_os = "linux")]
    crate::hardening::record_at_start();
    #[cfg(not(target_os = "linux"))]
    // SAFETY: setting a disposition to SIG_IGN involves no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    open_closed_standard_descriptors();
    keep_freed_heap_memory();
}

/// Tells glibc's allocator to serve large blocks from the heap and to keep
/// freed heap memory instead of returning it to the kernel. A run is short
/// and its memory is wiped on free anyway; what costs is the page faults of
/// touching fresh pages (over a microsecond each here), and by default a
/// 160 KB SOPS file gets its own mapping, unmapped when freed, and the heap
/// top is trimmed and grown again, so later allocations fault on new pages.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_heap_memory() {
    const LARGE: libc::c_int = 64 << 20;
    // SAFETY: mallopt only adjusts the allocator's thresholds.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE);
        libc::mallopt(libc::M_TRIM_THRESHOLD, LARGE);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_heap_memory() {}

/// One `poll` finds the closed descriptors (POLLNVAL); each gets `/dev/null`.
fn open_closed_standard_descriptors() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd; a zero timeout never blocks.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for pollfd in fds {
        if pollfd.revents & libc::POLLNVAL != 0 {
            if pollfd.fd == libc::STDOUT_FILENO {
                STDOUT_WAS_CLOSED.store(true, Ordering::Relaxed);
            }
            // SAFETY: a NUL-terminated path; open returns the lowest free
            // descriptor, which is this one since the lower ones are open.
            let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if fd >= 0 && fd != pollfd.fd {
                // SAFETY: plain descriptor calls on descriptors this process owns.
                unsafe {
                    libc::dup2(fd, pollfd.fd);
                    libc::close(fd);
                }
            }
        }
    }
}
