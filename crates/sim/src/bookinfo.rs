//! The Bookinfo simulation: six services in one process, each on its own listener, calling each other
//! over real HTTP on loopback, with Istio-standard metrics on a shared registry.

use crate::error::ServeError;
use crate::net::bind;
use crate::productpage;
use crate::services::{details_router, ratings_router, reviews_router, Sim};
use crate::telemetry::{MeshMetrics, Telemetry};
use crate::timings::ServiceStats;
use crate::workload::{Behaviour, Fault, Workload};
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long [`Bookinfo::shutdown`] lets in-flight requests finish before aborting.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of the simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct BookinfoOptions {
    /// Multiplier for every service's own latency (0 = as fast as possible).
    pub latency_scale: f64,
    /// Injected errors and delays.
    pub faults: Vec<Fault>,
    /// Host for productpage and the metrics listener; the backends always stay on 127.0.0.1.
    pub listen_host: IpAddr,
    /// productpage's port (0 = ephemeral).
    pub productpage_port: u16,
    /// Port of the cluster's metrics (mesh proxies, cAdvisor, kube-state-metrics); 0 = ephemeral.
    pub metrics_port: u16,
    /// Which kind of cluster the metrics look like.
    pub mesh_metrics: MeshMetrics,
}

impl Default for BookinfoOptions {
    fn default() -> BookinfoOptions {
        BookinfoOptions {
            latency_scale: 1.0,
            faults: Vec::new(),
            listen_host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            productpage_port: 0,
            metrics_port: 0,
            mesh_metrics: MeshMetrics::Istio,
        }
    }
}

/// A running simulation; it owns its serving tasks — call [`Bookinfo::shutdown`] to stop them gracefully.
#[derive(Debug)]
pub struct Bookinfo {
    addrs: [SocketAddr; 6],
    metrics_addr: SocketAddr,
    telemetry: Arc<Telemetry>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<std::io::Result<()>>,
}

impl Bookinfo {
    /// Binds every listener, then starts serving.
    pub async fn start(opts: BookinfoOptions) -> Result<Bookinfo, ServeError> {
        let telemetry = Arc::new(Telemetry::new(opts.mesh_metrics)?);
        // The given ports first, before the backends' ephemeral ones could take them.
        let productpage = bind(SocketAddr::new(opts.listen_host, opts.productpage_port)).await?;
        let metrics_listener = bind(SocketAddr::new(opts.listen_host, opts.metrics_port)).await?;
        let mut productpage = Some(productpage);
        let mut listeners = Vec::with_capacity(Workload::ALL.len());
        for w in Workload::ALL {
            listeners.push(match productpage.take().filter(|_| w == Workload::Productpage) {
                Some(l) => l,
                None => bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)).await?,
            });
        }
        let mut addrs = [SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0); 6];
        for (slot, l) in addrs.iter_mut().zip(&listeners) {
            *slot = l.local_addr()?;
        }
        let metrics_addr = metrics_listener.local_addr()?;
        let behaviours = Workload::ALL.map(|w| Behaviour::new(w, opts.latency_scale, &opts.faults));
        let sim = Arc::new(Sim::new(telemetry.clone(), addrs, behaviours));

        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for (w, listener) in Workload::ALL.into_iter().zip(listeners) {
            let router = match w {
                Workload::Productpage => productpage::router(&sim),
                Workload::Details => details_router(&sim),
                Workload::Ratings => ratings_router(&sim),
                reviews => reviews_router(&sim, reviews),
            };
            tasks.spawn(serve(listener, router, stopped.clone()));
        }
        let cluster = telemetry.clone();
        let metrics_router = Router::new().route("/metrics", get(move || async move { cluster.cluster_metrics() }));
        tasks.spawn(serve(metrics_listener, metrics_router, stopped));
        Ok(Bookinfo { addrs, metrics_addr, telemetry, stop, tasks })
    }

    /// Where productpage listens.
    pub fn productpage_addr(&self) -> SocketAddr {
        self.addr(Workload::Productpage)
    }

    /// Where the cluster's `/metrics` listens: the mesh's proxy metrics, cAdvisor and kube-state-metrics.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    /// Where one workload listens.
    pub fn addr(&self, w: Workload) -> SocketAddr {
        self.addrs[w as usize]
    }

    /// Requests, 5xx errors and p50/p95/p99 per workload, from the Istio metrics (recorded whatever is served).
    pub fn service_stats(&self) -> BTreeMap<String, ServiceStats> {
        self.telemetry.timings.stats()
    }

    /// Stops accepting, lets in-flight requests finish for up to 5 s, then aborts what is left.
    pub async fn shutdown(mut self) {
        // Ignore send errors: they only mean every server already stopped.
        let _ = self.stop.send(true);
        let drained =
            tokio::time::timeout(DRAIN_TIMEOUT, async { while self.tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

async fn serve(listener: TcpListener, router: Router, mut stopped: watch::Receiver<bool>) -> std::io::Result<()> {
    crate::net::serve(
        listener,
        router,
        Box::pin(async move {
            // A dropped sender also means stop.
            let _ = stopped.wait_for(|s| *s).await;
        }),
    )
    .await
}
