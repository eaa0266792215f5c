//! The per-stage table: target and achieved rate, p50/p99 and errors of each `--stages` stage,
//! with the `--warmup` in a row of its own.

use std::time::Duration;

use serde::Serialize;

use super::{ms, round};
use crate::input::stages::{Schedule, Stage};
use crate::output::recorder::StageStats;
use crate::output::timeline::Point;

/// One row of the per-stage table. The figures cover the stage's measured part: the warm-up
/// and whatever a signal cut off are left out.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageRow {
    /// 1-based stage number; 0 for the warm-up.
    pub stage: usize,
    /// The stage's rate as given, `0->150` or `150`; `max` for closed loop.
    pub target: String,
    /// Mean target rate over the row's window; `null` for closed loop.
    pub target_rps: Option<f64>,
    /// Length of the row's window in seconds.
    pub duration_s: f64,
    /// Requests completed whose intended send time fell in the window.
    pub requests: u64,
    /// Those requests per second of the window: the rate sent.
    pub achieved_rps: f64,
    /// Responses completed per second while the row's window lasted (whichever stage sent
    /// them; from the run's timeline, to the second).
    pub throughput_rps: f64,
    /// Median corrected latency.
    pub p50_ms: f64,
    /// 99th percentile corrected latency.
    pub p99_ms: f64,
    /// Requests with an error.
    pub errors: u64,
    /// Sends skipped because of `--max-in-flight`.
    pub dropped: u64,
}

/// The warm-up row (when there is a warm-up) and the stage rows, from the recorder's rows
/// (warm-up first). `stages` is `None` for a flat rate, which makes one stage.
pub(crate) fn table(
    schedule: Option<&Schedule>,
    stages: Option<&[Stage]>,
    warmup: Duration,
    window: Duration,
    rows: &[StageStats],
    timeline: &[Point],
) -> (Option<StageRow>, Vec<StageRow>) {
    let Some((warm, rows)) = rows.split_first() else { return (None, Vec::new()) };
    let end = window.as_secs_f64();
    let warm_end = warmup.as_secs_f64().min(end);
    let row = |stage: usize, target: String, from: f64, to: f64, stats: &StageStats| {
        let secs = (to - from).max(0.0);
        let per_sec = |n: f64| if secs > 0.0 { round(n / secs) } else { 0.0 };
        StageRow {
            stage,
            target,
            target_rps: schedule.map(|s| per_sec(s.integral(to) - s.integral(from))),
            duration_s: round(secs),
            requests: stats.requests,
            achieved_rps: per_sec(stats.requests as f64),
            throughput_rps: per_sec(completions(timeline, from, to)),
            p50_ms: quantile(stats, 0.5),
            p99_ms: quantile(stats, 0.99),
            errors: stats.errors,
            dropped: stats.dropped,
        }
    };
    let label = |from: f64, to: f64| match schedule {
        None => "max".to_string(),
        Some(s) => Stage { duration: Duration::ZERO, from: s.rate_at(from), to: s.rate_at(to) }.to_string(),
    };
    let warm = (!warmup.is_zero()).then(|| row(0, label(0.0, warm_end), 0.0, warm_end, warm));
    let mut at = 0.0;
    let stages: Vec<StageRow> = match stages {
        Some(stages) => stages
            .iter()
            .zip(rows)
            .enumerate()
            .map(|(i, (stage, stats))| {
                let (from, to) = (at, at + stage.duration.as_secs_f64());
                at = to;
                row(i + 1, stage.to_string(), from.max(warm_end).min(end), to.min(end), stats)
            })
            .collect(),
        None => rows.iter().take(1).map(|stats| row(1, label(warm_end, end), warm_end, end, stats)).collect(),
    };
    (warm, stages)
}

/// Responses completed from `from` to `to` seconds, each timeline point counted for the part of
/// it that falls in between.
pub(super) fn completions(timeline: &[Point], from: f64, to: f64) -> f64 {
    timeline
        .iter()
        .filter(|p| p.interval_s > 0.0)
        .map(|p| {
            let overlap = (to.min(p.t + p.interval_s) - from.max(p.t)).max(0.0);
            p.requests as f64 * overlap / p.interval_s
        })
        .sum()
}

fn quantile(stats: &StageStats, q: f64) -> f64 {
    if stats.latency.is_empty() {
        0.0
    } else {
        ms(stats.latency.value_at_quantile(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(requests: u64, errors: u64, latency_ms: u64) -> StageStats {
        let mut s = StageStats::default();
        for _ in 0..requests {
            s.latency.record(latency_ms * 1000).unwrap();
        }
        StageStats { requests, errors, ..s }
    }

    /// 40 responses a second for 5 s.
    fn timeline() -> Vec<Point> {
        (0..5).map(|t| Point { t: f64::from(t), interval_s: 1.0, requests: 40, ..Point::default() }).collect()
    }

    #[test]
    fn rows_cover_the_measured_part_of_each_stage() {
        let stages = crate::input::stages::parse("2s:0->100, 3s:100").unwrap();
        let schedule = Schedule::staged(&stages);
        let rows = [stats(50, 0, 900), stats(50, 1, 20), stats(300, 3, 10)];
        let (warm, table) =
            table(Some(&schedule), Some(&stages), Duration::from_secs(1), Duration::from_secs(5), &rows, &timeline());
        let warm = warm.unwrap();
        assert_eq!((warm.stage, warm.target.as_str(), warm.duration_s, warm.target_rps), (0, "0->50", 1.0, Some(25.0)));
        assert_eq!(table.len(), 2);
        // Stage 1 is measured from the warm-up's end: 1 s, 75 requests due, 50 done.
        let first = &table[0];
        assert_eq!((first.target.as_str(), first.duration_s, first.target_rps), ("0->100", 1.0, Some(75.0)));
        assert_eq!((first.achieved_rps, first.errors), (50.0, 1));
        assert_eq!(
            (first.throughput_rps, table[1].throughput_rps),
            (40.0, 40.0),
            "completions per second of the timeline"
        );
        assert!((first.p99_ms - 20.0).abs() < 0.2, "{first:?}");
        assert_eq!((table[1].target.as_str(), table[1].achieved_rps, table[1].target_rps), ("100", 100.0, Some(100.0)));
    }

    #[test]
    fn a_flat_run_with_a_warmup_has_two_rows_and_without_none() {
        let schedule = Schedule::flat(20.0);
        let rows = [stats(40, 0, 100), stats(160, 0, 10)];
        let (warm, rows) = table(Some(&schedule), None, Duration::from_secs(2), Duration::from_secs(10), &rows, &[]);
        assert_eq!(warm.unwrap().target, "20");
        assert_eq!((rows.len(), rows[0].duration_s, rows[0].achieved_rps), (1, 8.0, 20.0));
        assert_eq!(table(Some(&schedule), None, Duration::ZERO, Duration::from_secs(1), &[], &[]), (None, Vec::new()));
    }
}
