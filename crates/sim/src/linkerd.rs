//! Linkerd proxy metrics, recorded by each simulated service as its inbound proxy would, with the
//! labels Prometheus stores after the relabelling Linkerd documents (shared/MESH-METRICS.md §3):
//! `namespace` and `pod` from the target, `deployment` from the pod label
//! `linkerd.io/proxy-deployment`, and the pod's own labels (`app`, `version`).

use crate::kube::NAMESPACE;
use crate::workload::Workload;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The proxy's latency buckets, in milliseconds (time to first byte of the response).
const BUCKETS_MS: [f64; 25] = [
    1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 100.0, 200.0, 300.0, 400.0, 500.0, 1000.0, 2000.0, 3000.0,
    4000.0, 5000.0, 10000.0, 20000.0, 30000.0, 40000.0, 50000.0,
];

/// Labels of `request_total` on the inbound side.
pub(crate) const LABELS: [&str; 11] = [
    "direction",
    "namespace",
    "pod",
    "deployment",
    "app",
    "version",
    "control_plane_ns",
    "target_addr",
    "tls",
    "srv_kind",
    "srv_name",
];

/// `request_total`, `response_total` and `response_latency_ms` of the six inbound proxies.
#[derive(Debug)]
pub(crate) struct LinkerdMetrics {
    pub(crate) registry: Registry,
    requests: IntCounterVec,
    responses: IntCounterVec,
    latency: HistogramVec,
}

impl LinkerdMetrics {
    pub(crate) fn new() -> Result<LinkerdMetrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(Opts::new("request_total", "Total count of HTTP requests."), &LABELS)?;
        let with_status = [&LABELS[..], &["status_code"]].concat();
        let responses = IntCounterVec::new(
            Opts::new("response_total", "Total count of HTTP responses."),
            &[&with_status[..], &["classification", "error"]].concat(),
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "response_latency_ms",
                "Elapsed times between a request's headers being received and its response stream completing",
            )
            .buckets(BUCKETS_MS.to_vec()),
            &with_status,
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(responses.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(LinkerdMetrics { registry, requests, responses, latency })
    }

    /// Records one request served by `dest`; `meshed` callers come with mTLS.
    pub(crate) fn record(&self, meshed: bool, dest: Workload, code: u16, millis: f64) {
        let target = format!("10.42.0.{}:9080", 10 + dest as usize);
        let labels = [
            "inbound",
            NAMESPACE,
            dest.pod(),
            dest.deployment(),
            dest.service(),
            dest.version(),
            "linkerd",
            target.as_str(),
            if meshed { "true" } else { "no_identity" },
            "default",
            "all-unauthenticated",
        ];
        self.requests.with_label_values(&labels).inc();
        let code = code.to_string();
        let class = if code.starts_with('5') { "failure" } else { "success" };
        let status: Vec<&str> = labels.iter().copied().chain([code.as_str()]).collect();
        let response: Vec<&str> = status.iter().copied().chain([class, ""]).collect();
        self.responses.with_label_values(&response).inc();
        self.latency.with_label_values(&status).observe(millis);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_by_status() {
        let m = LinkerdMetrics::new().unwrap();
        m.record(true, Workload::Ratings, 200, 3.0);
        m.record(false, Workload::Ratings, 503, 1.0);
        let mut buf = Vec::new();
        prometheus::Encoder::encode(&prometheus::TextEncoder::new(), &m.registry.gather(), &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains(r#"classification="failure""#) && text.contains(r#"status_code="503""#), "{text}");
        assert!(text.contains(r#"deployment="ratings-v1""#) && text.contains(r#"direction="inbound""#), "{text}");
        assert!(text.contains("response_latency_ms_bucket{"), "{text}");
    }
}
