//! Istio's standard HTTP metrics, recorded by each simulated service as its sidecar would, and for a
//! call from another Bookinfo workload as the caller's sidecar would too.

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

/// Istio's standard labels (istio/proxy `testdata/metric/client_request_total.yaml.tmpl`).
pub(super) const LABELS: [&str; 25] = [
    "reporter",
    "source_workload",
    "source_workload_namespace",
    "source_principal",
    "source_app",
    "source_version",
    "source_canonical_service",
    "source_canonical_revision",
    "source_cluster",
    "destination_workload",
    "destination_workload_namespace",
    "destination_principal",
    "destination_app",
    "destination_version",
    "destination_service",
    "destination_service_name",
    "destination_service_namespace",
    "destination_canonical_service",
    "destination_canonical_revision",
    "destination_cluster",
    "request_protocol",
    "response_code",
    "grpc_response_status",
    "response_flags",
    "connection_security_policy",
];

/// Istio's buckets for `istio_request_bytes` and `istio_response_bytes`: decades.
const BUCKETS_BYTES: [f64; 9] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

/// Distinct caller-supplied source names kept as labels before the rest become `unknown`.
const MAX_SOURCES: usize = 16;

/// The cluster name Istio reports by default.
const CLUSTER: &str = "Kubernetes";

/// One request as a sidecar sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exchange {
    /// Response status.
    pub(crate) code: u16,
    /// Time to the response, in milliseconds.
    pub(crate) millis: f64,
    /// Request bytes (head and body).
    pub(crate) rx: u64,
    /// Response bytes (head and body).
    pub(crate) tx: u64,
}

/// The shared registry with Istio's standard HTTP metrics.
#[derive(Debug)]
pub(crate) struct IstioMetrics {
    pub(crate) registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    request_bytes: HistogramVec,
    response_bytes: HistogramVec,
    sources: RwLock<Vec<String>>,
}

impl IstioMetrics {
    pub(crate) fn new() -> Result<IstioMetrics, prometheus::Error> {
        let registry = Registry::new();
        let requests =
            IntCounterVec::new(Opts::new("istio_requests_total", "Requests, as reported by a sidecar."), &LABELS)?;
        let histogram = |name: &str, help: &str, buckets: &[f64]| {
            HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), &LABELS)
        };
        let duration =
            histogram("istio_request_duration_milliseconds", "Request duration in milliseconds.", &BUCKETS_MS)?;
        let request_bytes = histogram("istio_request_bytes", "Request size in bytes.", &BUCKETS_BYTES)?;
        let response_bytes = histogram("istio_response_bytes", "Response size in bytes.", &BUCKETS_BYTES)?;
        registry.register(Box::new(requests.clone()))?;
        for h in [&duration, &request_bytes, &response_bytes] {
            registry.register(Box::new(h.clone()))?;
        }
        Ok(IstioMetrics {
            registry,
            requests,
            duration,
            request_bytes,
            response_bytes,
            sources: RwLock::new(Vec::new()),
        })
    }

    /// Records one request served by `dest`, as its sidecar reports it (`reporter="destination"`)
    /// and, when the caller is a Bookinfo workload with its own sidecar, as the caller's sidecar
    /// reports it too (`reporter="source"`): Istio counts a call between meshed workloads twice.
    pub(crate) fn record(&self, source: Option<&str>, dest: Workload, x: Exchange) {
        let meshed = source.and_then(|s| Workload::ALL.into_iter().find(|w| w.deployment() == s));
        let src = match meshed {
            Some(w) => Peer::meshed(w),
            None => Peer::outside(self.source_label(source)),
        };
        let policy = if meshed.is_some() { "mutual_tls" } else { "none" };
        self.observe(&self.labels("destination", &src, dest, x.code, policy), x);
        if meshed.is_some() {
            self.observe(&self.labels("source", &src, dest, x.code, "unknown"), x);
        }
    }

    fn observe(&self, labels: &[String], x: Exchange) {
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        self.requests.with_label_values(&labels).inc();
        self.duration.with_label_values(&labels).observe(x.millis);
        self.request_bytes.with_label_values(&labels).observe(x.rx as f64);
        self.response_bytes.with_label_values(&labels).observe(x.tx as f64);
    }

    fn labels(&self, reporter: &str, src: &Peer, dest: Workload, code: u16, policy: &str) -> Vec<String> {
        let d = Peer::meshed(dest);
        let service = format!("{}.{NAMESPACE}.svc.cluster.local", dest.service());
        [
            reporter,
            &src.workload,
            &src.namespace,
            &src.principal,
            &src.app,
            &src.version,
            &src.app,
            &src.version,
            &src.cluster,
            &d.workload,
            &d.namespace,
            &d.principal,
            &d.app,
            &d.version,
            &service,
            dest.service(),
            NAMESPACE,
            &d.app,
            &d.version,
            CLUSTER,
            "http",
            &code.to_string(),
            "",
            "-",
            policy,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
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

/// One end of a call, labelled as Istio labels it (`unknown` outside the mesh).
#[derive(Debug)]
struct Peer {
    workload: String,
    namespace: String,
    principal: String,
    app: String,
    version: String,
    cluster: String,
}

impl Peer {
    fn meshed(w: Workload) -> Peer {
        Peer {
            workload: w.deployment().into(),
            namespace: NAMESPACE.into(),
            principal: format!("spiffe://cluster.local/ns/{NAMESPACE}/sa/bookinfo-{}", w.service()),
            app: w.service().into(),
            version: w.version().into(),
            cluster: CLUSTER.into(),
        }
    }

    fn outside(workload: String) -> Peer {
        let unknown = || "unknown".to_string();
        Peer {
            workload,
            namespace: unknown(),
            principal: unknown(),
            app: unknown(),
            version: unknown(),
            cluster: unknown(),
        }
    }
}
