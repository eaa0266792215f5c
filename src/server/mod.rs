//! `trafficgen serve`: a plain HTTP target with tunable latency and errors, or the Bookinfo simulation.
//!
//! - [`target_router`]: the plain target (delay, jitter, error rate, body size, per-request overrides,
//!   its own `/metrics` and `/healthz`).
//! - [`Bookinfo`]: six services on loopback with the real call graph, bodies and Istio metrics.

mod bookinfo;
mod data;
mod istio;
mod options;
mod pages;
mod productpage;
mod services;
mod session;
mod target;
mod upstream;
mod workload;

#[cfg(test)]
mod tests;

pub use bookinfo::{Bookinfo, BookinfoOptions};
pub use istio::{ServiceStats, SOURCE_HEADER};
pub use options::{ServeArgs, TargetOptions, MAX_RESPONSE_SIZE};
pub use target::target_router;
pub use workload::{Fault, FaultEffect, Workload};

use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Why `serve` could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A flag has an invalid value.
    #[error("invalid {setting} {value:?}: expected {expected}")]
    Invalid { setting: &'static str, value: String, expected: &'static str },
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

/// Runs `trafficgen serve` until `shutdown` completes.
pub async fn run_serve(args: ServeArgs, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let plan = args.plan()?;
    match plan.bookinfo {
        Some(opts) => {
            let sim = Bookinfo::start(opts).await?;
            eprintln!("bookinfo productpage: http://{}/productpage", sim.productpage_addr());
            for w in Workload::ALL.into_iter().skip(1) {
                eprintln!("bookinfo {:<11} http://{}", w.name(), sim.addr(w));
            }
            eprintln!("bookinfo metrics:    http://{}/metrics", sim.metrics_addr());
            shutdown.await;
            sim.shutdown().await;
            Ok(())
        }
        None => {
            let listener = bind(plan.listen).await?;
            eprintln!("serving on http://{}", listener.local_addr()?);
            axum::serve(listener, target_router(plan.target)).with_graceful_shutdown(shutdown).await?;
            Ok(())
        }
    }
}

/// Binds a listener, naming the address on failure.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })
}
