//! Each simulated service's own timings, exact to the microsecond: what the demo's services table
//! shows. Prometheus' view of the same requests is bucketed (Istio's 100, 250, 500 ms …), and
//! quantiles interpolated inside a bucket are artefacts, not measurements.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::workload::Workload;

/// Requests, errors and latency quantiles of one workload.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceStats {
    /// Requests received.
    pub requests: u64,
    /// Of which answered 5xx.
    pub errors: u64,
    /// Median time from arrival to response head.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

#[derive(Debug)]
struct Entry {
    requests: u64,
    errors: u64,
    micros: Histogram<u64>,
}

/// Per-workload counts and a microsecond histogram (bounded: fixed range, 3 significant digits).
#[derive(Debug)]
pub(crate) struct Timings(Vec<Mutex<Entry>>);

impl Timings {
    pub(crate) fn new() -> Timings {
        let entry = || {
            let micros = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds");
            Mutex::new(Entry { requests: 0, errors: 0, micros })
        };
        Timings(Workload::ALL.iter().map(|_| entry()).collect())
    }

    /// Records one request `w` answered with `code` after `elapsed`.
    pub(crate) fn record(&self, w: Workload, code: u16, elapsed: Duration) {
        let mut e = self.entry(w).lock().unwrap_or_else(|e| e.into_inner());
        e.requests += 1;
        e.errors += u64::from((500..600).contains(&code));
        e.micros.saturating_record(elapsed.as_micros().try_into().unwrap_or(u64::MAX).max(1));
    }

    /// Figures per workload, keyed by [`Workload::name`].
    pub(crate) fn stats(&self) -> BTreeMap<String, ServiceStats> {
        Workload::ALL
            .into_iter()
            .map(|w| {
                let e = self.entry(w).lock().unwrap_or_else(|e| e.into_inner());
                let q = |q: f64| if e.requests == 0 { 0.0 } else { e.micros.value_at_quantile(q) as f64 / 1000.0 };
                let stats = ServiceStats {
                    requests: e.requests,
                    errors: e.errors,
                    p50_ms: q(0.5),
                    p95_ms: q(0.95),
                    p99_ms: q(0.99),
                };
                (w.name().to_owned(), stats)
            })
            .collect()
    }

    fn entry(&self, w: Workload) -> &Mutex<Entry> {
        &self.0[Workload::ALL.iter().position(|x| *x == w).expect("every workload is in ALL")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_exact_per_workload() {
        let t = Timings::new();
        for ms in [20, 30, 40, 45] {
            t.record(Workload::Details, 200, Duration::from_millis(ms));
        }
        t.record(Workload::Details, 503, Duration::from_millis(2));
        let s = t.stats();
        assert_eq!(s.len(), 6);
        let d = &s["details"];
        assert_eq!((d.requests, d.errors), (5, 1));
        assert!((d.p50_ms - 30.0).abs() < 0.1, "{d:?}");
        assert!((d.p99_ms - 45.0).abs() < 0.1, "{d:?}");
        assert_eq!(s["ratings"].requests, 0);
        assert_eq!(s["ratings"].p99_ms, 0.0);
    }
}
