//! Why the simulation or the plain target could not start, in one vocabulary.

use std::net::SocketAddr;

/// Why `serve` could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A flag has an invalid value (exit 2, as every command's invalid setting).
    #[error(transparent)]
    Invalid(#[from] setting::Invalid),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    /// Serving failed.
    #[error("serve: {0}")]
    Io(#[from] std::io::Error),
    /// Metric registration failed (a bug: names are static).
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}
