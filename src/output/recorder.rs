//! What happened: per-worker histograms and counters of [`Outcome`]s, merged on demand.
//!
//! Memory is fixed: histograms have fixed bounds, counters are keyed by bounded sets
//! (status codes, the [`ErrorType`] enum, the configured classes).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::model::outcome::{ErrorType, Outcome};

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

/// How many measured requests had completed at one moment (the end of the sending window),
/// run-wide and per route index: with what was sent, the throughput the target kept up with.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Completed {
    /// Requests completed (ok + errors), the warm-up left out.
    pub requests: u64,
    /// The same per route index.
    pub routes: Vec<u64>,
}

impl Completed {
    /// Everything `stats` holds completed: a window that ended only once every request had.
    pub(crate) fn all(stats: &Stats) -> Completed {
        Completed { requests: stats.counts.requests, routes: stats.routes.iter().map(|r| r.requests).collect() }
    }
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
///
/// An outcome is recorded once, into `fresh` (by phase); readers fold `fresh` into the other
/// four before they look. Recording into all four per request cost three times the histogram
/// work, and readers come at most a few times a second.
#[derive(Debug, Default)]
struct Shard {
    total: Stats,
    window: Stats,
    second: Stats,
    rows: Vec<StageStats>,
    /// What was recorded since the last fold, by phase: two, so the outcomes of two phases that
    /// finish interleaved at a stage boundary do not fold on each request.
    fresh: Vec<(Phase, Stats)>,
}

impl Shard {
    fn row(&mut self, phase: Phase) -> Option<&mut StageStats> {
        let i = match phase {
            Phase::Warmup => 0,
            Phase::Stage(n) => n + 1,
        };
        self.rows.get_mut(i)
    }

    /// The fresh figures of `phase`, folding the older phase's first when a third phase comes.
    fn fresh(&mut self, phase: Phase) -> &mut Stats {
        let i = match self.fresh.iter().position(|(p, _)| *p == phase) {
            Some(i) => i,
            None => {
                if self.fresh.len() >= 2 {
                    let (p, stats) = self.fresh.remove(0);
                    self.fold_one(p, &stats);
                }
                self.fresh.push((phase, Stats::default()));
                self.fresh.len() - 1
            }
        };
        &mut self.fresh[i].1
    }

    /// Move everything fresh into the total, window, second and stage rows.
    fn fold(&mut self) {
        for (phase, stats) in std::mem::take(&mut self.fresh) {
            self.fold_one(phase, &stats);
        }
    }

    fn fold_one(&mut self, phase: Phase, fresh: &Stats) {
        self.window.merge(fresh);
        self.second.merge(fresh);
        if phase != Phase::Warmup {
            self.total.merge(fresh);
        }
        if let Some(row) = self.row(phase) {
            row.requests += fresh.counts.requests;
            row.errors += fresh.counts.errors;
            row.dropped += fresh.counts.dropped;
            row.latency.add(&fresh.latency).expect("histograms share bounds");
        }
    }
}

/// Per-worker shards behind uncontended locks; readers merge them.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    shards: Arc<[Mutex<Shard>]>,
    /// Each route's index among the routes' names: per-route figures are kept per name.
    names: Arc<[usize]>,
}

impl Recorder {
    /// A recorder with one shard per worker.
    #[cfg(test)]
    pub(crate) fn new(workers: usize) -> Self {
        Self::with_stages(workers, 0, Arc::from([]))
    }

    /// A recorder that also keeps a row per stage and one for the warm-up (`stages` = 0 keeps
    /// none), and per-route figures by name (`names[route]`; by route when `names` is empty).
    pub(crate) fn with_stages(workers: usize, stages: usize, names: Arc<[usize]>) -> Self {
        let rows = if stages == 0 { 0 } else { stages + 1 };
        let shard = || Mutex::new(Shard { rows: vec![StageStats::default(); rows], ..Shard::default() });
        Recorder { shards: (0..workers).map(|_| shard()).collect(), names }
    }

    fn shard(&self, worker: usize) -> MutexGuard<'_, Shard> {
        self.shards[worker].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Worker `worker`'s shard with everything fresh folded in, for readers.
    fn folded(&self, worker: usize) -> MutexGuard<'_, Shard> {
        let mut s = self.shard(worker);
        s.fold();
        s
    }

    /// Record a measured outcome on worker `worker`'s shard.
    #[cfg(test)]
    pub(crate) fn record(&self, worker: usize, o: &Outcome) {
        self.record_in(worker, Phase::Stage(0), o);
    }

    /// Record an outcome of `phase` on worker `worker`'s shard.
    pub(crate) fn record_in(&self, worker: usize, phase: Phase, o: &Outcome) {
        let named = Outcome { route: self.names.get(o.route).copied().unwrap_or(o.route), ..*o };
        self.shard(worker).fresh(phase).record(&named);
    }

    /// Count a dropped send on worker `worker`'s shard.
    #[cfg(test)]
    pub(crate) fn drop_send(&self, worker: usize) {
        self.drop_in(worker, Phase::Stage(0));
    }

    /// Count a dropped send of `phase` on worker `worker`'s shard.
    pub(crate) fn drop_in(&self, worker: usize, phase: Phase) {
        self.shard(worker).fresh(phase).counts.dropped += 1;
    }

    /// Everything measured so far (the warm-up left out), merged.
    pub(crate) fn total(&self) -> Stats {
        let mut all = Stats::default();
        for w in 0..self.shards.len() {
            all.merge(&self.folded(w).total);
        }
        all
    }

    /// What has completed so far (the warm-up left out), merged.
    pub(crate) fn completed(&self) -> Completed {
        let mut all = Completed::default();
        for w in 0..self.shards.len() {
            let shard = self.folded(w);
            let total = &shard.total;
            all.requests += total.counts.requests;
            all.routes.resize(all.routes.len().max(total.routes.len()), 0);
            for (n, r) in all.routes.iter_mut().zip(&total.routes) {
                *n += r.requests;
            }
        }
        all
    }

    /// The warm-up row and then one row per stage, merged over workers; empty without stages.
    pub(crate) fn stages(&self) -> Vec<StageStats> {
        let mut rows: Vec<StageStats> = Vec::new();
        for w in 0..self.shards.len() {
            let s = self.folded(w);
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
            all.merge(&std::mem::take(&mut self.folded(w).window));
        }
        all
    }

    /// What was recorded since the previous call, merged: the timeline's next interval.
    pub(crate) fn take_second(&self) -> Stats {
        let mut all = Stats::default();
        for w in 0..self.shards.len() {
            all.merge(&std::mem::take(&mut self.folded(w).second));
        }
        all
    }
}

#[cfg(test)]
mod tests;
