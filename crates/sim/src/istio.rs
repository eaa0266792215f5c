//! Istio-standard server metrics, recorded by each simulated service as its destination sidecar would.

use crate::kube::NAMESPACE;
use crate::workload::Workload;
use prometheus::core::Collector;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use std::collections::BTreeMap;
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

/// Requests, errors and latency quantiles of one workload, as PromQL would compute them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceStats {
    /// Requests received (`istio_requests_total`).
    pub requests: u64,
    /// Of which answered 5xx.
    pub errors: u64,
    /// Median duration, interpolated like `histogram_quantile(0.5, ...)`.
    pub p50_ms: f64,
    /// 95th percentile duration.
    pub p95_ms: f64,
    /// 99th percentile duration.
    pub p99_ms: f64,
}

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

    /// Per-workload totals and quantiles, keyed by [`Workload::name`].
    pub(crate) fn stats(&self) -> BTreeMap<String, ServiceStats> {
        let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        let mut buckets: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let by_deployment = |labels: &[prometheus::proto::LabelPair]| {
            let dep = label(labels, "destination_workload");
            Workload::ALL.into_iter().find(|w| w.deployment() == dep)
        };
        for family in self.requests.collect() {
            for m in family.get_metric() {
                let Some(w) = by_deployment(m.get_label()) else {
                    continue;
                };
                let n = m.get_counter().get_value() as u64;
                let entry = counts.entry(w.name()).or_default();
                entry.0 += n;
                if label(m.get_label(), "response_code").starts_with('5') {
                    entry.1 += n;
                }
            }
        }
        for family in self.duration.collect() {
            for m in family.get_metric() {
                let Some(w) = by_deployment(m.get_label()) else {
                    continue;
                };
                let h = m.get_histogram();
                let sums = buckets.entry(w.name()).or_insert_with(|| vec![0.0; BUCKETS_MS.len() + 1]);
                for (i, b) in h.get_bucket().iter().enumerate() {
                    sums[i] += b.cumulative_count() as f64;
                }
                sums[BUCKETS_MS.len()] += h.get_sample_count() as f64;
            }
        }
        Workload::ALL
            .into_iter()
            .map(|w| {
                let (requests, errors) = counts.get(w.name()).copied().unwrap_or_default();
                let cumulative = buckets.remove(w.name()).unwrap_or_default();
                let q = |q| quantile_or_zero(q, &cumulative);
                let stats = ServiceStats { requests, errors, p50_ms: q(0.5), p95_ms: q(0.95), p99_ms: q(0.99) };
                (w.name().to_owned(), stats)
            })
            .collect()
    }
}

fn label<'a>(labels: &'a [prometheus::proto::LabelPair], name: &str) -> &'a str {
    labels.iter().find(|l| l.name() == name).map_or("", |l| l.value())
}

fn is_workload_name(s: &str) -> bool {
    (1..=63).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `histogram_quantile` over Istio's buckets (cumulative counts, +Inf last), 0 when there is no data.
fn quantile_or_zero(q: f64, cumulative: &[f64]) -> f64 {
    if cumulative.len() != BUCKETS_MS.len() + 1 {
        return 0.0;
    }
    let bounds: Vec<(f64, f64)> =
        BUCKETS_MS.iter().copied().chain([f64::INFINITY]).zip(cumulative.iter().copied()).collect();
    let v = histogram_quantile(q, &bounds);
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// PromQL's `histogram_quantile` for one series of (upper bound, cumulative count) with +Inf last.
///
/// Linear interpolation inside the bucket holding the rank; the lowest bucket starts at 0; a rank in
/// the +Inf bucket yields the highest finite bound. NaN without observations.
pub(crate) fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    let Some(&(last_bound, total)) = buckets.last() else {
        return f64::NAN;
    };
    if buckets.len() < 2 || last_bound != f64::INFINITY || total == 0.0 {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let mut rank = q * total;
    let b = buckets.iter().position(|&(_, c)| c >= rank).unwrap_or(buckets.len() - 1);
    if b == buckets.len() - 1 {
        return buckets[b - 1].0;
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let (end, mut count) = buckets[b];
    let mut start = 0.0;
    if b > 0 {
        start = buckets[b - 1].0;
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    start + (end - start) * (rank / count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_like_promql() {
        let b = [(10.0, 0.0), (50.0, 50.0), (100.0, 100.0), (f64::INFINITY, 100.0)];
        assert_eq!(histogram_quantile(0.5, &b), 50.0);
        assert_eq!(histogram_quantile(0.25, &b), 30.0);
        assert_eq!(histogram_quantile(0.75, &b), 75.0);
        let first = [(10.0, 10.0), (f64::INFINITY, 10.0)];
        assert_eq!(histogram_quantile(0.5, &first), 5.0);
        let inf = [(10.0, 1.0), (f64::INFINITY, 10.0)];
        assert_eq!(histogram_quantile(0.99, &inf), 10.0);
        assert!(histogram_quantile(0.5, &[(1.0, 0.0), (f64::INFINITY, 0.0)]).is_nan());
    }

    #[test]
    fn stats_group_by_workload() {
        let m = IstioMetrics::new().unwrap();
        for ms in [20.0, 30.0, 40.0, 45.0] {
            m.record(Some("productpage-v1"), Workload::Details, 200, ms);
        }
        m.record(None, Workload::Details, 503, 2.0);
        let s = m.stats();
        assert_eq!(s.len(), 6);
        let d = &s["details"];
        assert_eq!((d.requests, d.errors), (5, 1));
        assert!(d.p50_ms > 25.0 && d.p50_ms <= 50.0, "{d:?}");
        assert_eq!(s["ratings"].requests, 0);
        assert_eq!(s["ratings"].p99_ms, 0.0);
    }

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
