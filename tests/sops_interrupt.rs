//! An interrupt stops a running helper (here a hanging SOPS_AGE_KEY_CMD) at
//! once. Its own test binary: the interrupt flag is process-wide.

mod common;
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

/// Ctrl-C typed at a key command's prompt reaches the command, not its
/// caller: a library caller gets an `interrupted` error, and backend `auto`
/// does not go on to the `sops` executable, which would run the command and
/// ask again. The caller must run at a terminal: this test runs a copy of
/// itself (the branch on `KSTRUN_TEST_ASK`) in a shell on a pseudo-terminal.
#[test]
fn ctrl_c_at_a_key_command_prompt_is_not_asked_again() {
    if let Some(ask) = std::env::var_os("KSTRUN_TEST_ASK") {
        let sandbox = Sandbox::new();
        let env = sandbox.bare_env().with("SOPS_AGE_KEY_CMD", ask);
        let mut settings = settings(&fixture("basic.sops.yaml"), SopsBackend::Auto);
        settings.timeout = Duration::from_secs(3);
        match resolver(settings, env).resolve(&request(&["emoji"])) {
            Ok(_) => println!("outcome: found"),
            Err(error) => println!("outcome: {error}"),
        }
        return;
    }
    if tool("sops").is_none() {
        return;
    }
    let sandbox = Sandbox::new();
    let ask = sandbox.path().join("ask.sh");
    std::fs::write(
        &ask,
        "#!/bin/sh\nprintf 'passphrase: ' > /dev/tty\nread -r line < /dev/tty\n",
    )
    .expect("write the key command");
    set_mode(&ask, 0o755);
    let run = format!(
        "KSTRUN_TEST_ASK={} {} --exact ctrl_c_at_a_key_command_prompt_is_not_asked_again --nocapture --test-threads=1 --quiet; echo status-$?\n",
        ask.display(),
        std::env::current_exe().expect("this test").display()
    );
    let Some(shown) = common::at_a_terminal(&["sleep:0.5", &run, "sleep:2", "\x03", "sleep:5"])
    else {
        eprintln!("skipping: no python3");
        return;
    };
    assert_eq!(shown.matches("passphrase: ").count(), 1, "{shown}");
    assert!(
        shown.contains("outcome: ") && shown.contains("SOPS_AGE_KEY_CMD was interrupted"),
        "{shown}"
    );
    assert!(shown.contains("status-0"), "{shown}");
}
