//! `trafficgen serve`: a plain HTTP target with tunable latency and errors, or the Bookinfo simulation.
//!
//! - [`target_router`]: the plain target (delay, jitter, error rate, body size, per-request overrides,
//!   its own `/metrics` and `/healthz`).
//! - [`Bookinfo`]: six services on loopback with the real call graph and bodies, and the metrics a
//!   cluster with no mesh, Linkerd or Istio gives Prometheus ([`MeshMetrics`]): `telemetry` picks, `istio`,
//!   `linkerd` and `kube` (cAdvisor, kube-state-metrics) record.

mod bookinfo;
mod data;
mod error;
mod istio;
mod kube;
mod linkerd;
mod net;
mod options;
mod pages;
mod productpage;
mod services;
mod session;
mod target;
mod telemetry;
mod timings;
mod units;
mod upstream;
mod workload;

#[cfg(test)]
mod tests;

pub use bookinfo::{Bookinfo, BookinfoOptions};
pub use error::ServeError;
pub use istio::SOURCE_HEADER;
pub use net::serve;
pub use options::{parse_mesh_metrics, ServeArgs};
pub use target::{target_router, TargetOptions, QUERY_HELP};
pub use telemetry::MeshMetrics;
pub use timings::ServiceStats;
pub use units::{parse_scale, MAX_RESPONSE_SIZE};
pub use workload::{Fault, FaultEffect, Workload};

use std::future::Future;

use net::bind;

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
            serve(listener, target_router(plan.target), Box::pin(shutdown)).await?;
            Ok(())
        }
    }
}
