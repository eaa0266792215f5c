//! Linkerd proxy metrics, recorded by each simulated service as its inbound proxy would, with the
//! labels Prometheus stores after the relabelling Linkerd documents (shared/MESH-METRICS.md §3):
//! `namespace` and `pod` from the target, `deployment` from the pod label
//! `linkerd.io/proxy-deployment`, and the pod's own labels (`app`, `version`).

use crate::kube::NAMESPACE;
use crate::workload::Workload;
use prometheus::{GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The proxy's latency buckets, in milliseconds (time to first byte of the response).
const BUCKETS_MS: [f64; 25] = [
    1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 100.0, 200.0, 300.0, 400.0, 500.0, 1000.0, 2000.0, 3000.0,
    4000.0, 5000.0, 10000.0, 20000.0, 30000.0, 40000.0, 50000.0,
];

/// Labels of `request_total`: those of either side (a side's others are empty, which Prometheus
/// stores as absent): inbound `srv_*`, outbound `authority` and `dst_*`.
pub(crate) const LABELS: [&str; 15] = [
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
    "authority",
    "dst_deployment",
    "dst_namespace",
    "dst_service",
];

/// The labels every series of a proxy carries, from the relabelling: the pod's.
const POD_LABELS: [&str; 6] = ["namespace", "pod", "deployment", "app", "version", "control_plane_ns"];

/// `request_total`, `response_total` and `response_latency_ms` of the six proxies, inbound and
/// outbound, and each proxy's `process_start_time_seconds`.
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
        let started = GaugeVec::new(
            Opts::new("process_start_time_seconds", "Time the proxy started, Unix seconds."),
            &POD_LABELS,
        )?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        for w in Workload::ALL {
            started.with_label_values(&pod_labels(w)).set(now.as_secs() as f64);
        }
        registry.register(Box::new(started))?;
        Ok(LinkerdMetrics { registry, requests, responses, latency })
    }

    /// Records one request served by `dest`, as its inbound proxy reports it; a caller that names
    /// itself comes with mTLS. A Bookinfo caller's own proxy reports the call as outbound too.
    pub(crate) fn record(&self, source: Option<&str>, dest: Workload, code: u16, millis: f64) {
        let target = format!("10.42.0.{}:9080", 10 + dest as usize);
        let tls = if source.is_some() { "true" } else { "no_identity" };
        let [ns, pod, deployment, app, version, cp] = pod_labels(dest);
        let inbound = [
            "inbound",
            ns,
            pod,
            deployment,
            app,
            version,
            cp,
            &target,
            tls,
            "default",
            "all-unauthenticated",
            "",
            "",
            "",
            "",
        ];
        self.observe(&inbound, code, millis);
        let Some(caller) = source.and_then(|s| Workload::ALL.into_iter().find(|w| w.deployment() == s)) else {
            return;
        };
        let [ns, pod, deployment, app, version, cp] = pod_labels(caller);
        let authority = format!("{}.{NAMESPACE}.svc.cluster.local:9080", dest.service());
        let outbound = [
            "outbound",
            ns,
            pod,
            deployment,
            app,
            version,
            cp,
            &target,
            "true",
            "",
            "",
            &authority,
            dest.deployment(),
            NAMESPACE,
            dest.service(),
        ];
        self.observe(&outbound, code, millis);
    }

    fn observe(&self, labels: &[&str; 15], code: u16, millis: f64) {
        self.requests.with_label_values(labels).inc();
        let code = code.to_string();
        let class = if code.starts_with('5') { "failure" } else { "success" };
        let status: Vec<&str> = labels.iter().copied().chain([code.as_str()]).collect();
        let response: Vec<&str> = status.iter().copied().chain([class, ""]).collect();
        self.responses.with_label_values(&response).inc();
        self.latency.with_label_values(&status).observe(millis);
    }
}

/// A proxy's pod labels after the relabelling, in [`POD_LABELS`] order.
fn pod_labels(w: Workload) -> [&'static str; 6] {
    [NAMESPACE, w.pod(), w.deployment(), w.service(), w.version(), "linkerd"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified_by_status() {
        let m = LinkerdMetrics::new().unwrap();
        m.record(Some("reviews-v2"), Workload::Ratings, 200, 3.0);
        m.record(None, Workload::Ratings, 503, 1.0);
        let mut buf = Vec::new();
        prometheus::Encoder::encode(&prometheus::TextEncoder::new(), &m.registry.gather(), &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains(r#"classification="failure""#) && text.contains(r#"status_code="503""#), "{text}");
        assert!(text.contains(r#"deployment="ratings-v1""#) && text.contains(r#"direction="inbound""#), "{text}");
        assert!(text.contains("response_latency_ms_bucket{"), "{text}");
        assert!(text.contains(r#"direction="outbound""#) && text.contains(r#"dst_deployment="ratings-v1""#), "{text}");
        assert!(text.contains("process_start_time_seconds{"), "{text}");
    }
}
