//! Running one blocking store call on its own thread, with a deadline.
//!
//! Credential stores block in ways kstrun cannot cancel: a Secret Service
//! whose collection is locked asks for an unlock prompt and, when nobody can
//! answer it (a server, a container), the D-Bus call only returns after the
//! bus's own timeout, some 25 seconds later. A program start must not wait for
//! that. So every call runs on a fresh thread and the caller waits at most the
//! configured time; a call that overruns is abandoned (its thread finishes or
//! dies with the process) and the caller reports a timeout instead.
//!
//! A thread per call costs tens of microseconds, nothing next to a D-Bus round
//! trip, and keeps the caller free of any shared worker that a stuck call could
//! wedge for the calls after it.

use std::sync::mpsc;
use std::time::Duration;

/// Why a call gave no answer.
#[derive(Debug)]
pub(super) enum Overrun {
    /// The deadline passed first.
    TimedOut,
    /// The call could not be started, or its thread died without answering.
    Lost(String),
}

/// Runs `call` on a new thread and waits for its answer at most `timeout`.
///
/// Whatever `call` returns after the deadline is dropped on its own thread,
/// so values should be wrapped (in `SecretValue`) before they are returned:
/// a late secret is then still wiped when it is thrown away.
pub(super) fn run_with_deadline<T, F>(timeout: Duration, call: F) -> Result<T, Overrun>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    // The caller waits up to `timeout`: an interrupt must not wait with it.
    crate::interrupt::watch();
    let (sender, receiver) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("kstrun-keyring".into())
        .spawn(move || {
            // The receiver may be gone (deadline passed): then the answer is
            // dropped here, which wipes any secret it holds.
            let _ = sender.send(call());
        })
        .map_err(|e| Overrun::Lost(format!("cannot start a thread for the call: {e}")))?;
    match receiver.recv_timeout(timeout) {
        Ok(answer) => Ok(answer),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Overrun::TimedOut),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Overrun::Lost(
            "the call panicked without an answer".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_quick_call_answers() {
        let answer = run_with_deadline(Duration::from_secs(5), || 41 + 1);
        assert!(matches!(answer, Ok(42)));
    }

    #[test]
    fn a_slow_call_is_abandoned_at_the_deadline() {
        let started = Instant::now();
        let answer = run_with_deadline(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(2));
        });
        assert!(matches!(answer, Err(Overrun::TimedOut)));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_panicking_call_is_reported_not_propagated() {
        let answer: Result<(), _> = run_with_deadline(Duration::from_secs(5), || panic!("boom"));
        assert!(matches!(answer, Err(Overrun::Lost(_))));
    }
}
