//! An interrupt stops a running helper (here a hanging SOPS_AGE_KEY_CMD) at
//! once. Its own test binary: the interrupt flag is process-wide.

mod sops_common;

use kstrun::secrets::providers::SopsBackend;
use sops_common::*;
use std::time::{Duration, Instant};

#[test]
fn a_hanging_key_command_is_interruptible() {
    let sandbox = Sandbox::new();
    let env = sandbox.bare_env().with("SOPS_AGE_KEY_CMD", "sleep 60");
    let mut r = resolver(
        settings(&fixture("basic.sops.yaml"), SopsBackend::Native),
        env,
    );
    let stopper = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(300));
        kstrun::sops::interrupt();
    });
    let start = Instant::now();
    let err = r.resolve(&request(&["emoji"])).unwrap_err().to_string();
    stopper.join().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert!(err.contains("interrupted"), "{err}");
    // After an interrupt no helper starts, until cleared.
    kstrun::sops::clear_interrupt();
}
