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
    /// Per route index, for the summary's route table (filled as routes are seen).
    pub routes: Vec<RouteStats>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats { latency: histogram(), service_time: histogram(), counts: Counts::default(), routes: Vec::new() }
    }
}

/// One route's requests, errors and corrected latency.
#[derive(Debug, Clone)]
pub struct RouteStats {
    /// Requests completed.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// Corrected latency in microseconds, at 2 significant digits: a per-route p99 within 1% is
    /// precise enough, and the histogram is a seventh of the run-wide one's size.
    pub latency: Histogram<u64>,
}

impl Default for RouteStats {
    fn default() -> Self {
        let latency = Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("valid histogram bounds");
        RouteStats { requests: 0, errors: 0, latency }
    }
}

impl RouteStats {
    fn merge(&mut self, other: &RouteStats) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.latency.add(&other.latency).expect("histograms share bounds");
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
        if self.routes.len() <= o.route {
            self.routes.resize_with(o.route + 1, RouteStats::default);
        }
        let route = &mut self.routes[o.route];
        route.requests += 1;
        route.errors += u64::from(o.error.is_some());
        route.latency.saturating_record(micros(o.latency));
    }

    /// Fold another shard's figures into this one.
    pub fn merge(&mut self, other: &Stats) {
        self.latency.add(&other.latency).expect("histograms share bounds");
        self.service_time.add(&other.service_time).expect("histograms share bounds");
        self.counts.add(&other.counts);
        if self.routes.len() < other.routes.len() {
            self.routes.resize_with(other.routes.len(), RouteStats::default);
        }
        for (mine, theirs) in self.routes.iter_mut().zip(&other.routes) {
            mine.merge(theirs);
        }
    }
}

/// 1 µs to 1 h at 3 significant digits: fixed size, whatever the run length.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// Which part of the run an outcome belongs to, by its intended send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The `--warmup`: shown in progress lines and metrics, left out of the summary.
    Warmup,
    /// Stage n of `--stages` (0 without stages).
    Stage(usize),
}

/// One row of the per-stage table: counts and a latency histogram at two significant digits
/// (a tenth of the full histogram's memory; the table shows p50 and p99).
#[derive(Debug, Clone)]
pub(crate) struct StageStats {
    /// Requests completed.
    pub(crate) requests: u64,
    /// Requests with an error.
    pub(crate) errors: u64,
    /// Sends skipped because `--max-in-flight` was reached.
    pub(crate) dropped: u64,
    /// Corrected latency, microseconds.
    pub(crate) latency: Histogram<u64>,
}

impl Default for StageStats {
    fn default() -> Self {
        let latency = Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("valid histogram bounds");
        StageStats { requests: 0, errors: 0, dropped: 0, latency }
    }
}

impl StageStats {
    fn merge(&mut self, other: &StageStats) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.dropped += other.dropped;
        self.latency.add(&other.latency).expect("histograms share bounds");
    }
}

/// One worker's figures: the measured total (warm-up left out), the window since the last
/// progress line (everything), `second`, which the timeline takes once a second whatever the
/// progress interval (everything), and the per-stage rows (row 0 is the warm-up).
#[derive(Debug, Default)]
struct Shard {
    total: Stats,
    window: Stats,
    second: Stats,
    rows: Vec<StageStats>,
}

impl Shard {
    fn row(&mut self, phase: Phase) -> Option<&mut StageStats> {
        let i = match phase {
            Phase::Warmup => 0,
            Phase::Stage(n) => n + 1,
        };
        self.rows.get_mut(i)
    }
}

/// Per-worker shards behind uncontended locks; readers merge them.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    shards: Arc<[Mutex<Shard>]>,
}

impl Recorder {
    /// A recorder with one shard per worker.
    #[cfg(test)]
    pub(crate) fn new(workers: usize) -> Self {
        Self::with_stages(workers, 0)
    }

    /// A recorder that also keeps a row per stage and one for the warm-up; `stages` = 0 keeps none.
    pub(crate) fn with_stages(workers: usize, stages: usize) -> Self {
        let rows = if stages == 0 { 0 } else { stages + 1 };
        let shard = || Mutex::new(Shard { rows: vec![StageStats::default(); rows], ..Shard::default() });
        Recorder { shards: (0..workers).map(|_| shard()).collect() }
    }

    fn shard(&self, worker: usize) -> MutexGuard<'_, Shard> {
        self.shards[worker].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record a measured outcome on worker `worker`'s shard.
    #[cfg(test)]
    pub(crate) fn record(&self, worker: usize, o: &Outcome) {
        self.record_in(worker, Phase::Stage(0), o);
    }

    /// Record an outcome of `phase` on worker `worker`'s shard.
    pub(crate) fn record_in(&self, worker: usize, phase: Phase, o: &Outcome) {
        let mut s = self.shard(worker);
        s.window.record(o);
        s.second.record(o);
        if phase != Phase::Warmup {
            s.total.record(o);
        }
        if let Some(row) = s.row(phase) {
            row.requests += 1;
            row.errors += u64::from(o.error.is_some());
            row.latency.saturating_record(micros(o.latency));
        }
    }

    /// Count a dropped send on worker `worker`'s shard.
    #[cfg(test)]
    pub(crate) fn drop_send(&self, worker: usize) {
        self.drop_in(worker, Phase::Stage(0));
    }

    /// Count a dropped send of `phase` on worker `worker`'s shard.
    pub(crate) fn drop_in(&self, worker: usize, phase: Phase) {
        let mut s = self.shard(worker);
        s.window.counts.dropped += 1;
        s.second.counts.dropped += 1;
        if phase != Phase::Warmup {
            s.total.counts.dropped += 1;
        }
        if let Some(row) = s.row(phase) {
            row.dropped += 1;
        }
    }

    /// Everything measured so far (the warm-up left out), merged.
    pub(crate) fn total(&self) -> Stats {
        let mut all = Stats::default();
        for w in 0..self.shards.len() {
            all.merge(&self.shard(w).total);
        }
        all
    }

    /// The warm-up row and then one row per stage, merged over workers; empty without stages.
    pub(crate) fn stages(&self) -> Vec<StageStats> {
        let mut rows: Vec<StageStats> = Vec::new();
        for w in 0..self.shards.len() {
            let s = self.shard(w);
            rows.resize_with(s.rows.len(), StageStats::default);
            for (all, row) in rows.iter_mut().zip(&s.rows) {
                all.merge(row);
            }
        }
        rows
    }

    /// What was recorded since the previous call (warm-up included), merged; starts a new window.
    pub(crate) fn take_window(&self) -> Stats {
        let mut all = Stats::default();
        for w in 0..self.shards.len() {
            all.merge(&std::mem::take(&mut self.shard(w).window));
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
        assert_eq!((t.routes.len(), t.routes[0].requests, t.routes[0].errors), (1, 301, 31));
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
    fn the_warmup_shows_in_windows_and_its_row_but_not_in_the_total() {
        let r = Recorder::with_stages(2, 2);
        r.record_in(0, Phase::Warmup, &outcome(500, Some(200), None));
        r.drop_in(1, Phase::Warmup);
        r.record_in(1, Phase::Stage(0), &outcome(10, Some(503), Some(ErrorType::Http5xx)));
        r.record_in(0, Phase::Stage(1), &outcome(20, Some(200), None));
        r.record_in(1, Phase::Stage(1), &outcome(30, Some(200), None));
        let t = r.total();
        assert_eq!((t.counts.requests, t.counts.dropped, t.latency.max() / 1000), (3, 0, 30));
        let w = r.take_window();
        assert_eq!((w.counts.requests, w.counts.dropped), (4, 1));
        let rows = r.stages();
        let counts: Vec<_> = rows.iter().map(|s| (s.requests, s.errors, s.dropped)).collect();
        assert_eq!(counts, [(1, 0, 1), (1, 1, 0), (2, 0, 0)]);
        assert!((495..=505).contains(&(rows[0].latency.max() / 1000)));
        assert!(Recorder::new(1).stages().is_empty());
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
