//! Istio-standard server metrics, recorded by each simulated service as its destination sidecar would.

use crate::kube::NAMESPACE;
use crate::workload::Workload;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use std::sync::RwLock;

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

pub(super) const LABELS: [&str; 10] = [
    "reporter",
    "source_workload",
    "destination_service_name",
    "destination_service_namespace",
    "destination_workload",
    "destination_workload_namespace",
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
        Ok(IstioMetrics { registry, requests, duration, sources: RwLock::new(Vec::new()) })
    }

    /// Records one request served by `dest`.
    pub(crate) fn record(&self, source: Option<&str>, dest: Workload, code: u16, millis: f64) {
        let source = self.source_label(source);
        let code = code.to_string();
        let labels = [
            "destination",
            source.as_str(),
            dest.service(),
            NAMESPACE,
            dest.deployment(),
            NAMESPACE,
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
}

fn is_workload_name(s: &str) -> bool {
    (1..=63).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
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
