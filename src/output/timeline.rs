//! The run over time: one point per second of sending, for the JSON summary and the HTML report.
//!
//! Memory is bounded: at [`MAX_POINTS`] points, neighbours merge pairwise and each later point
//! covers twice as long (1 s, 2 s, 4 s…). Counts stay exact when points merge; percentiles cannot be
//! merged without the histograms, so a merged point's p50 is its halves' request-weighted mean and
//! its p99 their larger one (stated in the docs).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::output::recorder::Stats;

/// Points kept before they are merged pairwise: an hour of seconds.
pub(crate) const MAX_POINTS: usize = 3_600;

/// One interval of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Point {
    /// Start of the interval, seconds since the first send.
    pub t: f64,
    /// Length of the interval in seconds (1 until the timeline grows coarser; shorter at the end).
    pub interval_s: f64,
    /// Requests completed in the interval.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// Sends skipped because of `--max-in-flight`.
    pub dropped: u64,
    /// Median corrected latency of the interval.
    pub p50_ms: f64,
    /// 99th percentile corrected latency of the interval.
    pub p99_ms: f64,
    /// Response classes.
    pub classes: BTreeMap<String, u64>,
    /// Errors by type.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub error_types: BTreeMap<String, u64>,
    /// The rate asked for during the interval; `null` for closed loop.
    pub target_rps: Option<f64>,
    /// Requests sent and not yet answered at the interval's end.
    pub in_flight: u64,
}

impl Point {
    /// The point of an interval from its stats and its named classes.
    pub(crate) fn of(t: Duration, interval: Duration, stats: &Stats, classes: BTreeMap<String, u64>) -> Point {
        let c = &stats.counts;
        let q = |q: f64| round(stats.latency.value_at_quantile(q) as f64 / 1000.0);
        let empty = stats.latency.is_empty();
        Point {
            t: round(t.as_secs_f64()),
            interval_s: round(interval.as_secs_f64()),
            requests: c.requests,
            errors: c.errors,
            dropped: c.dropped,
            p50_ms: if empty { 0.0 } else { q(0.5) },
            p99_ms: if empty { 0.0 } else { q(0.99) },
            classes,
            error_types: c.error_types.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect(),
            target_rps: None,
            in_flight: 0,
        }
    }

    /// Requests per second over the interval.
    pub(crate) fn rps(&self) -> f64 {
        if self.interval_s > 0.0 {
            self.requests as f64 / self.interval_s
        } else {
            0.0
        }
    }

    /// This point and the next one as one.
    fn merge(self, next: Point) -> Point {
        let n = (self.requests + next.requests).max(1) as f64;
        let p50 = (self.p50_ms * self.requests as f64 + next.p50_ms * next.requests as f64) / n;
        let sum = |mut a: BTreeMap<String, u64>, b: BTreeMap<String, u64>| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        };
        Point {
            t: self.t,
            interval_s: round(self.interval_s + next.interval_s),
            requests: self.requests + next.requests,
            errors: self.errors + next.errors,
            dropped: self.dropped + next.dropped,
            p50_ms: round(p50),
            p99_ms: self.p99_ms.max(next.p99_ms),
            classes: sum(self.classes, next.classes),
            error_types: sum(self.error_types, next.error_types),
            target_rps: self.target_rps.or(next.target_rps),
            in_flight: next.in_flight,
        }
    }
}

/// The growing list of points, coarsening to stay within [`MAX_POINTS`].
#[derive(Debug)]
pub(crate) struct Timeline {
    points: Vec<Point>,
    max: usize,
    /// Seconds each new point covers.
    step: u32,
    /// Seconds gathered towards the next point: stats are merged exactly until it is complete.
    pending: Option<(Duration, Duration, Stats, BTreeMap<String, u64>)>,
    /// Requests in flight at the end of the latest interval added.
    in_flight: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline::with_max(MAX_POINTS)
    }
}

impl Timeline {
    /// A timeline that keeps at most `max` (even, ≥ 2) points.
    pub(crate) fn with_max(max: usize) -> Self {
        Timeline { points: Vec::new(), max: max.max(2), step: 1, pending: None, in_flight: 0 }
    }

    /// Add the interval starting at `t` (normally one second long), with the requests in flight
    /// at its end.
    pub(crate) fn add(
        &mut self,
        t: Duration,
        interval: Duration,
        stats: Stats,
        classes: BTreeMap<String, u64>,
        in_flight: u64,
    ) {
        self.in_flight = in_flight;
        let (start, length, mut merged, mut names) = match self.pending.take() {
            Some(p) => p,
            None => (t, Duration::ZERO, Stats::default(), BTreeMap::new()),
        };
        merged.merge(&stats);
        for (k, v) in classes {
            *names.entry(k).or_default() += v;
        }
        let length = length + interval;
        if length.as_secs_f64() + 1e-6 < f64::from(self.step) {
            self.pending = Some((start, length, merged, names));
            return;
        }
        self.push(Point { in_flight, ..Point::of(start, length, &merged, names) });
    }

    fn push(&mut self, point: Point) {
        self.points.push(point);
        if self.points.len() >= self.max {
            let old = std::mem::take(&mut self.points);
            let mut pairs = old.into_iter();
            while let Some(a) = pairs.next() {
                self.points.push(match pairs.next() {
                    Some(b) => a.merge(b),
                    None => a,
                });
            }
            self.step *= 2;
        }
    }

    /// All points, the one still gathering included (joined to the one before when shorter than
    /// half a step, so a last sliver of draining requests does not read as a rate spike); each
    /// gets `target` as its asked-for rate.
    pub(crate) fn finish(mut self, target: Option<f64>) -> Vec<Point> {
        if let Some((start, length, stats, names)) = self.pending.take() {
            let point = Point { in_flight: self.in_flight, ..Point::of(start, length, &stats, names) };
            match self.points.pop() {
                Some(last) if length.as_secs_f64() < 0.5 * f64::from(self.step) => self.points.push(last.merge(point)),
                last => self.points.extend(last.into_iter().chain([point])),
            }
        }
        for p in &mut self.points {
            p.target_rps = target;
        }
        self.points
    }
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::Outcome;

    fn second(n: u64, ms: u64) -> Stats {
        let mut s = Stats::default();
        let d = Duration::from_millis(ms);
        for _ in 0..n {
            s.record(&Outcome { route: 0, status: Some(200), error: None, latency: d, service_time: d, class: None });
        }
        s
    }

    #[test]
    fn seconds_become_points_until_full_then_coarser() {
        let mut tl = Timeline::with_max(4);
        for i in 0..11u64 {
            tl.add(Duration::from_secs(i), Duration::from_secs(1), second(i + 1, 10 * (i + 1)), BTreeMap::new(), i);
        }
        tl.add(Duration::from_secs(11), Duration::from_millis(100), second(1, 5), BTreeMap::new(), 0);
        let points = tl.finish(Some(5.0));
        assert!(points.len() <= 4, "{points:?}");
        assert_eq!(points.iter().map(|p| p.requests).sum::<u64>(), (1..=11).sum::<u64>() + 1);
        let covered: f64 = points.iter().map(|p| p.interval_s).sum();
        assert!((covered - 11.1).abs() < 1e-9, "{covered}");
        assert_eq!(points[0].t, 0.0);
        assert!(points.windows(2).all(|w| (w[0].t + w[0].interval_s - w[1].t).abs() < 1e-9), "{points:?}");
        assert!(points.iter().all(|p| p.target_rps == Some(5.0)));
        assert_eq!(points.last().map(|p| p.in_flight), Some(0), "the last interval's in-flight count");
    }

    #[test]
    fn a_merged_point_keeps_counts_and_the_larger_p99() {
        let a = Point::of(Duration::ZERO, Duration::from_secs(1), &second(10, 10), BTreeMap::new());
        let b = Point::of(Duration::from_secs(1), Duration::from_secs(1), &second(30, 20), BTreeMap::new());
        let m = a.merge(b);
        assert_eq!((m.requests, m.interval_s), (40, 2.0));
        assert!((m.p50_ms - 17.5).abs() < 0.1, "{}", m.p50_ms);
        assert!((m.p99_ms - 20.0).abs() < 0.1, "{}", m.p99_ms);
        assert_eq!(m.rps(), 20.0);
    }
}
