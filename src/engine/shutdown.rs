//! Signals: the first SIGTERM or SIGINT ends the run gracefully; a second one exits at once.
//! Either way the exit code is 128 + the signal's number, as a shell would report it, so a Job
//! stopped by a node drain is Failed (and retried), never Complete.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use tokio::signal::unix::{signal, SignalKind};

/// SIGINT's number (POSIX).
pub(crate) const SIGINT: i32 = 2;
/// SIGTERM's number (POSIX).
pub(crate) const SIGTERM: i32 = 15;

/// The exit code of a run a signal ended: 128 + its number (130 SIGINT, 143 SIGTERM).
pub(crate) fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

/// Which signal ended the run, once one has.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caught(Arc<OnceLock<i32>>);

impl Caught {
    /// The first signal received, if any.
    pub(crate) fn get(&self) -> Option<i32> {
        self.0.get().copied()
    }
}

/// Listen for SIGTERM and SIGINT from now on (call inside a tokio runtime). The future resolves
/// on the first one and records it in [`Caught`]; after that, a watcher exits the process on the
/// next one with [`exit_code`].
pub(crate) fn signals() -> std::io::Result<(impl Future<Output = ()> + Send + 'static, Caught)> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let caught = Caught::default();
    let record = caught.clone();
    let first = async move {
        let number = tokio::select! {
            _ = term.recv() => SIGTERM,
            _ = int.recv() => SIGINT,
        };
        let _ = record.0.set(number);
        // Detached on purpose: this task's only job is to end the process, so nothing needs to await it.
        tokio::spawn(async move {
            let second = tokio::select! {
                _ = term.recv() => SIGTERM,
                _ = int.recv() => SIGINT,
            };
            eprintln!("second signal: exiting now, without a summary");
            std::process::exit(i32::from(exit_code(second)));
        });
    };
    Ok((first, caught))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        assert_eq!(exit_code(SIGINT), 130);
        assert_eq!(exit_code(SIGTERM), 143);
        assert_eq!(exit_code(1000), 255);
    }
}
