//! Istio-standard server metrics, recorded by each simulated service as its destination sidecar would.

use crate::timings::{ServiceStats, Timings};
use crate::workload::Workload;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Header through which a caller names its workload (the simulation's stand-in for Istio's peer metadata).
///
/// The simulated services set it on their calls; a load generator may set it too. Without it the source
/// is `unknown`, as Istio reports for traffic from outside the mesh.
pub const SOURCE_HEADER: &str = "x-source-workload";

/// Istio's default buckets for `istio_request_duration_milliseconds`.
const BUCKETS_MS: [f64; 18] = [
    1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0, 60000.0, 300000.0,
    600000.0, 1800000.0, 3600000.0,
];

pub(super) const LABELS: [&str; 8] = [
    "reporter",
    "source_workload",
    "destination_service_name",
    "destination_workload",
    "destination_version",
    "destination_app",
    "response_code",
    "request_protocol",
];

/// Distinct caller-supplied source names kept as labels before the rest become `unknown`.
const MAX_SOURCES: usize = 16;

/// The shared registry with Istio's two standard server metrics.
#[derive(Debug)]
pub(crate) struct IstioMetrics {
    pub(crate) registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    sources: RwLock<Vec<String>>,
    /// The same requests, timed exactly (Prometheus' view of them is bucketed).
    timings: Timings,
}

impl IstioMetrics {
    pub(crate) fn new() -> Result<IstioMetrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("istio_requests_total", "Requests, as reported by the destination."),
            &LABELS,
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "istio_request_duration_milliseconds",
                "Request duration in milliseconds, as reported by the destination.",
            )
            .buckets(BUCKETS_MS.to_vec()),
            &LABELS,
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        Ok(IstioMetrics { registry, requests, duration, sources: RwLock::new(Vec::new()), timings: Timings::new() })
    }

    /// Records one request served by `dest`.
    pub(crate) fn record(&self, source: Option<&str>, dest: Workload, code: u16, elapsed: Duration) {
        self.timings.record(dest, code, elapsed);
        let millis = elapsed.as_secs_f64() * 1000.0;
        let source = self.source_label(source);
        let code = code.to_string();
        let labels = [
            "destination",
            source.as_str(),
            dest.service(),
            dest.deployment(),
            dest.version(),
            dest.service(),
            code.as_str(),
            "http",
        ];
        self.requests.with_label_values(&labels).inc();
        self.duration.with_label_values(&labels).observe(millis);
    }

    /// Bounds the `source_workload` label: label-safe names, at most [`MAX_SOURCES`] of them.
    fn source_label(&self, source: Option<&str>) -> String {
        let Some(name) = source.filter(|s| is_workload_name(s)) else {
            return "unknown".to_owned();
        };
        if self.sources.read().unwrap_or_else(|e| e.into_inner()).iter().any(|s| s == name) {
            return name.to_owned();
        }
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        if sources.iter().any(|s| s == name) {
            return name.to_owned();
        }
        if sources.len() >= MAX_SOURCES {
            return "unknown".to_owned();
        }
        sources.push(name.to_owned());
        name.to_owned()
    }

    /// Per-workload totals and exact quantiles, keyed by [`Workload::name`].
    pub(crate) fn stats(&self) -> BTreeMap<String, ServiceStats> {
        self.timings.stats()
    }
}

fn is_workload_name(s: &str) -> bool {
    (1..=63).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Middleware state: which workload a router serves, and where to record.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    pub(crate) metrics: Arc<IstioMetrics>,
    pub(crate) workload: Workload,
}

/// Times a request from arrival to response head and records it, as the destination sidecar does.
pub(crate) async fn record(State(rec): State<Recorder>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let source = req.headers().get(SOURCE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let resp = next.run(req).await;
    rec.metrics.record(source.as_deref(), rec.workload, resp.status().as_u16(), start.elapsed());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_labels_are_bounded() {
        let m = IstioMetrics::new().unwrap();
        assert_eq!(m.source_label(None), "unknown");
        assert_eq!(m.source_label(Some("Bad Name")), "unknown");
        for i in 0..MAX_SOURCES {
            assert_eq!(m.source_label(Some(&format!("src-{i}"))), format!("src-{i}"));
        }
        assert_eq!(m.source_label(Some("one-too-many")), "unknown");
        assert_eq!(m.source_label(Some("src-0")), "src-0");
    }
}
