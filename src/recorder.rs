//! What happened: per-worker histograms and counters of [`Outcome`]s, merged on demand.
//!
//! Memory is fixed: histograms have fixed bounds, counters are keyed by bounded sets
//! (status codes, the [`ErrorType`] enum, the configured classes).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::outcome::{ErrorType, Outcome};

/// Counters of one recorder shard or of a merged view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Requests completed (ok + errors).
    pub requests: u64,
    /// Requests without error.
    pub ok: u64,
    /// Requests with an error.
    pub errors: u64,
    /// Sends skipped because `--max-in-flight` was reached.
    pub dropped: u64,
    /// Responses by status code.
    pub status: BTreeMap<u16, u64>,
    /// Errors by type.
    pub error_types: BTreeMap<ErrorType, u64>,
    /// Responses by route index and class index.
    pub classes: BTreeMap<(usize, u16), u64>,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.ok += other.ok;
        self.errors += other.errors;
        self.dropped += other.dropped;
        for (k, v) in &other.status {
            *self.status.entry(*k).or_default() += v;
        }
        for (k, v) in &other.error_types {
            *self.error_types.entry(*k).or_default() += v;
        }
        for (k, v) in &other.classes {
            *self.classes.entry(*k).or_default() += v;
        }
    }
}

/// Latency histograms (microseconds) plus counters.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Corrected latency.
    pub latency: Histogram<u64>,
    /// Service time.
    pub service_time: Histogram<u64>,
    /// Counters.
    pub counts: Counts,
}

impl Default for Stats {
    fn default() -> Self {
        Stats { latency: histogram(), service_time: histogram(), counts: Counts::default() }
    }
}

impl Stats {
    /// Add one outcome.
    pub fn record(&mut self, o: &Outcome) {
        self.latency.saturating_record(micros(o.latency));
        self.service_time.saturating_record(micros(o.service_time));
        let c = &mut self.counts;
        c.requests += 1;
        match o.error {
            Some(e) => {
                c.errors += 1;
                *c.error_types.entry(e).or_default() += 1;
            }
            None => c.ok += 1,
        }
        if let Some(s) = o.status {
            *c.status.entry(s).or_default() += 1;
        }
        if let Some(class) = o.class {
            *c.classes.entry((o.route, class)).or_default() += 1;
        }
    }

    /// Fold another shard's figures into this one.
    pub fn merge(&mut self, other: &Stats) {
        self.latency.add(&other.latency).expect("histograms share bounds");
        self.service_time.add(&other.service_time).expect("histograms share bounds");
        self.counts.add(&other.counts);
    }
}

/// 1 µs to 1 h at 3 significant digits: fixed size, whatever the run length.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// One worker's figures: outcomes land in the current window, which is folded into the total
/// when a progress line takes it; the run's figures are total + window. Each outcome also lands
/// in `second`, which the timeline takes once a second, whatever the progress interval.
#[derive(Debug, Default)]
struct Shard {
    total: Stats,
    window: Stats,
    second: Stats,
}

/// Per-worker shards behind uncontended locks; readers merge them.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    shards: Arc<[Mutex<Shard>]>,
}

impl Recorder {
    /// A recorder with one shard per worker.
    pub(crate) fn new(workers: usize) -> Self {
        Recorder { shards: (0..workers).map(|_| Mutex::default()).collect() }
    }

    fn shard(&self, worker: usize) -> MutexGuard<'_, Shard> {
        self.shards[worker].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record an outcome on worker `worker`'s shard.
    pub(crate) fn record(&self, worker: usize, o: &Outcome) {
        let mut shard = self.shard(worker);
        shard.window.record(o);
        shard.second.record(o);
    }

    /// Count a dropped send on worker `worker`'s shard.
    pub(crate) fn drop_send(&self, worker: usize) {
        let mut shard = self.shard(worker);
        shard.window.counts.dropped += 1;
        shard.second.counts.dropped += 1;
    }

    /// Everything recorded so far, merged.
    pub(crate) fn total(&self) -> Stats {
        let mut all = Stats::default();
        for w in 0..self.shards.len() {
            let s = self.shard(w);
            all.merge(&s.total);
            all.merge(&s.window);
        }
        all
    }

    /// What was recorded since the previous call, merged; starts a new window.
    pub(crate) fn take_window(&self) -> Stats {
        let mut all = Stats::default();
        for w in 0..self.shards.len() {
            let mut s = self.shard(w);
            let window = std::mem::take(&mut s.window);
            s.total.merge(&window);
            all.merge(&window);
        }
        all
    }

    /// What was recorded since the previous call, merged: the timeline's next interval.
    pub(crate) fn take_second(&self) -> Stats {
        let mut all = Stats::default();
        for w in 0..self.shards.len() {
            all.merge(&std::mem::take(&mut self.shard(w).second));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(ms: u64, status: Option<u16>, error: Option<ErrorType>) -> Outcome {
        let d = Duration::from_millis(ms);
        Outcome { route: 0, status, error, latency: d, service_time: d / 2, class: Some(1) }
    }

    #[test]
    fn shards_merge_into_one_view() {
        let r = Recorder::new(3);
        for i in 0..300u64 {
            let (status, error) = if i % 10 == 0 { (Some(503), Some(ErrorType::Http5xx)) } else { (Some(200), None) };
            r.record((i % 3) as usize, &outcome(i + 1, status, error));
        }
        r.record(1, &outcome(5, None, Some(ErrorType::Connect)));
        r.drop_send(2);
        let t = r.total();
        assert_eq!(t.counts.requests, 301);
        assert_eq!((t.counts.ok, t.counts.errors, t.counts.dropped), (270, 31, 1));
        assert_eq!(t.counts.status[&503], 30);
        assert_eq!(t.counts.error_types[&ErrorType::Connect], 1);
        assert_eq!(t.counts.classes[&(0, 1)], 301);
        assert_eq!(t.latency.len(), 301);
        let p50 = t.latency.value_at_quantile(0.5) as f64 / 1000.0;
        assert!((p50 - 150.0).abs() < 2.0, "{p50}");
        assert_eq!(t.latency.max() / 1000, 300);
        assert_eq!(t.service_time.max() / 1000, 150);
    }

    #[test]
    fn windows_reset_but_totals_do_not() {
        let r = Recorder::new(2);
        r.record(0, &outcome(10, Some(200), None));
        assert_eq!(r.take_window().counts.requests, 1);
        assert_eq!(r.take_window().counts.requests, 0);
        r.record(1, &outcome(10, Some(200), None));
        assert_eq!(r.take_window().counts.requests, 1);
        assert_eq!(r.total().counts.requests, 2);
        r.drop_send(0);
        let second = r.take_second();
        assert_eq!((second.counts.requests, second.counts.dropped), (2, 1), "seconds ignore progress windows");
        assert_eq!(r.take_second().counts.requests, 0);
    }

    #[test]
    fn error_labels_are_stable() {
        let labels: Vec<_> = ErrorType::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            labels,
            ["timeout", "connect", "dns", "reset", "tls", "protocol", "http_4xx", "http_5xx", "cancelled"]
        );
        assert_eq!(ErrorType::from_status(404), Some(ErrorType::Http4xx));
        assert_eq!(ErrorType::from_status(302), None);
    }
}
