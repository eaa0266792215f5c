//! Everything the simulated cluster tells Prometheus, and which part of it a kind of cluster shows:
//! the mesh's proxy metrics (Istio or Linkerd, none without a mesh), cAdvisor and kube-state-metrics
//! (every kind), and productpage's own `request_result_total` on productpage's `/metrics`.
//! Every request is recorded in all of them; [`MeshMetrics`] only chooses what is served.

use crate::istio::{Exchange, IstioMetrics, SOURCE_HEADER};
use crate::kube::KubeMetrics;
use crate::linkerd::LinkerdMetrics;
use crate::target::encode;
use crate::timings::Timings;
use crate::workload::Workload;
use axum::body::HttpBody;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{IntCounterVec, Opts, Registry};
use std::sync::Arc;
use std::time::Instant;

/// Which kind of cluster the simulation's metrics look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MeshMetrics {
    /// No mesh: cAdvisor, kube-state-metrics and productpage's own counter only.
    None,
    /// Linkerd proxies: `request_total`, `response_total`, `response_latency_ms`.
    Linkerd,
    /// Istio sidecars: `istio_requests_total`, `istio_request_duration_milliseconds`, request and response bytes.
    #[default]
    Istio,
}

impl MeshMetrics {
    /// `none`, `linkerd` or `istio`.
    pub fn parse(s: &str) -> Option<MeshMetrics> {
        Some(match s {
            "none" => MeshMetrics::None,
            "linkerd" => MeshMetrics::Linkerd,
            "istio" => MeshMetrics::Istio,
            _ => return None,
        })
    }
}

/// Rough size of an HTTP/1.1 head: request or status line plus headers.
fn head_size(headers: &axum::http::HeaderMap, line: usize) -> u64 {
    (line + headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum::<usize>() + 2) as u64
}

/// The simulation's metric registries.
#[derive(Debug)]
pub(crate) struct Telemetry {
    pub(crate) kind: MeshMetrics,
    pub(crate) istio: IstioMetrics,
    pub(crate) linkerd: LinkerdMetrics,
    pub(crate) kube: KubeMetrics,
    /// Each workload's own exact timings, for the demo's services table.
    pub(crate) timings: Timings,
    /// productpage's `request_result_total{destination_app, response_code}`.
    app: Registry,
    results: IntCounterVec,
}

impl Telemetry {
    pub(crate) fn new(kind: MeshMetrics) -> Result<Telemetry, prometheus::Error> {
        let app = Registry::new();
        let results = IntCounterVec::new(
            Opts::new("request_result_total", "Results of requests"),
            &["destination_app", "response_code"],
        )?;
        app.register(Box::new(results.clone()))?;
        Ok(Telemetry {
            kind,
            istio: IstioMetrics::new()?,
            linkerd: LinkerdMetrics::new()?,
            kube: KubeMetrics::new()?,
            timings: Timings::new(),
            app,
            results,
        })
    }

    /// The cluster's exporters as one scrape: the mesh's proxies, then cAdvisor and kube-state-metrics.
    pub(crate) fn cluster_metrics(&self) -> Response {
        let mut families = match self.kind {
            MeshMetrics::Istio => self.istio.registry.gather(),
            MeshMetrics::Linkerd => self.linkerd.registry.gather(),
            MeshMetrics::None => Vec::new(),
        };
        families.extend(self.kube.registry.gather());
        encode_families(&families)
    }

    /// productpage's own `/metrics`: served as `text/html`, as Flask serves `generate_latest()`.
    pub(crate) fn productpage_metrics(&self) -> Response {
        let mut resp = encode(&self.app);
        resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html; charset=utf-8"));
        resp
    }

    /// productpage's call to `to` ended with `code` (500 when there was no answer).
    pub(crate) fn call_result(&self, to: Workload, code: u16) {
        self.results.with_label_values(&[to.service(), &code.to_string()]).inc();
    }
}

fn encode_families(families: &[prometheus::proto::MetricFamily]) -> Response {
    use prometheus::Encoder as _;
    let encoder = prometheus::TextEncoder::new();
    let mut buf = Vec::new();
    match encoder.encode(families, &mut buf) {
        Ok(()) => ([(header::CONTENT_TYPE, encoder.format_type().to_owned())], buf).into_response(),
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Middleware state: which workload a router serves, and where to record.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    pub(crate) telemetry: Arc<Telemetry>,
    pub(crate) workload: Workload,
}

/// Times a request from arrival to response head and records it, as the destination sidecar does,
/// and counts its bytes and its time in flight for cAdvisor.
pub(crate) async fn record(State(rec): State<Recorder>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let t = &rec.telemetry;
    let w = rec.workload;
    let source = req.headers().get(SOURCE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let line = req.method().as_str().len() + req.uri().path().len() + 12;
    let rx = head_size(req.headers(), line) + req.body().size_hint().exact().unwrap_or(0);
    t.kube.in_flight(w, 1);
    let resp = next.run(req).await;
    t.kube.in_flight(w, -1);
    let elapsed = start.elapsed();
    let millis = elapsed.as_secs_f64() * 1000.0;
    let code = resp.status().as_u16();
    t.timings.record(w, code, elapsed);
    let tx = head_size(resp.headers(), 17) + resp.body().size_hint().exact().unwrap_or(0);
    t.istio.record(source.as_deref(), w, Exchange { code, millis, rx, tx });
    t.linkerd.record(source.as_deref(), w, code, millis);
    t.kube.bytes(w, rx, tx);
    resp
}
