//! Signals: the first SIGTERM or SIGINT ends the run gracefully; a second one exits at once.

use tokio::signal::unix::{signal, SignalKind};

/// Exit code when a second signal cuts the drain short.
pub const FORCED_EXIT: i32 = 1;

/// Resolves on the first SIGTERM or SIGINT. After that, a watcher exits the process on the next one.
pub async fn signals() {
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    // Detached on purpose: this task's only job is to end the process, so nothing needs to await it.
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        eprintln!("second signal: exiting now");
        std::process::exit(FORCED_EXIT);
    });
}
