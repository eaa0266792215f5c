//! How a failure is typed, and reported the first time: the first error of each type per
//! target is logged at once with its cause; later ones are only counted (progress lines, summary).

use std::io;
use std::sync::atomic::Ordering;

use super::{Client, Target};
use crate::model::outcome::ErrorType;

impl Client {
    /// A client whose caller reports failures itself: none is logged here.
    pub(crate) fn quiet(self) -> Self {
        for target in &self.targets {
            for seen in &target.seen {
                seen.store(true, Ordering::Relaxed);
            }
        }
        self
    }

    /// Count a failure the caller saw on `route` (timeout, status, cancellation), logging it
    /// with `detail` when it is the first of its type on the route's target.
    pub(crate) fn note_route(&self, route: usize, kind: ErrorType, detail: impl FnOnce() -> String) {
        self.note(&self.targets[self.routes[route].target], kind, detail);
    }

    /// Count `kind` on `target`: the first time, log it with `detail`; later ones show only in
    /// progress lines and the summary. Returns `kind`.
    pub(super) fn note(&self, target: &Target, kind: ErrorType, detail: impl FnOnce() -> String) -> ErrorType {
        if !target.seen[kind as usize].swap(true, Ordering::Relaxed) {
            tracing::warn!(
                server = %target.origin,
                error_type = kind.as_str(),
                detail = %detail(),
                "first {} error on this target; later ones are counted on progress lines",
                kind.as_str()
            );
        }
        kind
    }
}

/// The type of an I/O error on an open connection.
pub(super) fn io_kind(kind: io::ErrorKind) -> ErrorType {
    match kind {
        io::ErrorKind::TimedOut => ErrorType::Timeout,
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof => ErrorType::Protocol,
        // Reset, aborted, broken pipe and the rest.
        _ => ErrorType::Reset,
    }
}

/// The error and its causes, for the first log line of its type.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
