//! The report's charts, each drawn for every run given (overlaid, one colour per run).

use std::collections::BTreeSet;

use super::svg::{Chart, Series, XAxis, COLOURS};
use crate::commands::compare::Saved;
use crate::output::timeline::Point;

/// Every chart of the report, in page order.
pub(super) fn all(runs: &[Saved]) -> Vec<Chart> {
    vec![rate(runs), latency(runs), spectrum(runs), errors(runs), classes(runs)]
}

/// Per-interval values as steps: each holds from its interval's start to its end.
fn steps(points: impl Iterator<Item = (f64, f64, f64)>) -> Vec<(f64, f64)> {
    points.flat_map(|(t, length, v)| [(t, v), (t + length, v)]).collect()
}

fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

/// A name for a run's series: the bare `what` for one run, `label: what` for several.
fn name(runs: &[Saved], run: &Saved, what: &str) -> String {
    if runs.len() == 1 {
        what.to_string()
    } else {
        format!("{}: {what}", run.label)
    }
}

/// The run's timeline within its sending window (warm-up included), so the time axis and the
/// table's seconds agree; the responses that came back while the run drained are left out.
fn window(run: &Saved) -> Vec<Point> {
    let end = run.duration_s + run.warmup_s();
    run.timeline
        .iter()
        .filter(|p| p.t < end - 1e-9 || end <= 0.0)
        .map(|p| Point { interval_s: if end > 0.0 { p.interval_s.min(end - p.t) } else { p.interval_s }, ..p.clone() })
        .collect()
}

/// Target, sent and completed rate, per second.
fn rate(runs: &[Saved]) -> Chart {
    let mut series = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let timeline = window(run);
        let completed = steps(timeline.iter().map(|p| (p.t, p.interval_s, p.rps())));
        // Sent in an interval: what completed in it, plus the growth of what is in flight.
        let mut before = 0;
        let sent = steps(timeline.iter().map(|p| {
            let sent = (p.requests + p.in_flight).saturating_sub(before) as f64 / p.interval_s.max(1e-9);
            before = p.in_flight;
            (p.t, p.interval_s, sent)
        }));
        series.push(Series { name: name(runs, run, "sent"), colour: colour(2 * i + 1), dashed: false, points: sent });
        let points = completed;
        series.push(Series { name: name(runs, run, "completed"), colour: colour(2 * i), dashed: false, points });
        let target: Vec<_> = timeline
            .iter()
            .filter_map(|p| p.target_rps.or(run.target_rps).map(|r| [(p.t, r), (p.t + p.interval_s, r)]))
            .flatten()
            .collect();
        if !target.is_empty() {
            series.push(Series {
                name: name(runs, run, "target"),
                colour: colour(2 * i),
                dashed: true,
                points: target,
            });
        }
    }
    Chart {
        id: "rate",
        title: "Target, sent and completed rate".into(),
        y_label: "requests/s",
        x: XAxis::Seconds,
        y_max: None,
        series,
    }
}

/// p50 and p99 per second.
fn latency(runs: &[Saved]) -> Chart {
    let mut series = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let timeline = window(run);
        let busy = || timeline.iter().filter(|p| p.requests > 0);
        series.push(Series {
            name: name(runs, run, "p50"),
            colour: colour(i),
            dashed: false,
            points: steps(busy().map(|p| (p.t, p.interval_s, p.p50_ms))),
        });
        series.push(Series {
            name: name(runs, run, "p99"),
            colour: colour(i),
            dashed: true,
            points: steps(busy().map(|p| (p.t, p.interval_s, p.p99_ms))),
        });
    }
    Chart {
        id: "latency",
        title: "Latency over time (corrected)".into(),
        y_label: "ms",
        x: XAxis::Seconds,
        y_max: None,
        series,
    }
}

/// The percentile spectrum (HdrHistogram's plot): latency by percentile, log scale of 1/(1−q).
fn spectrum(runs: &[Saved]) -> Chart {
    let series = runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let points = match &run.latency {
                Some(h) if !h.is_empty() => h
                    .iter_quantiles(5)
                    .map(|v| (v.quantile_iterated_to(), h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0))
                    .filter(|(q, _)| *q < 1.0)
                    .collect(),
                _ => {
                    let p = &run.latency_ms;
                    vec![(0.5, p.p50), (0.9, p.p90), (0.95, p.p95), (0.99, p.p99), (0.999, p.p999)]
                }
            };
            Series { name: run.label.clone(), colour: colour(i), dashed: false, points }
        })
        .collect();
    Chart {
        id: "spectrum",
        title: "Latency by percentile (corrected)".into(),
        y_label: "ms",
        x: XAxis::Percentile,
        y_max: None,
        series,
    }
}

/// Errors per second by type.
fn errors(runs: &[Saved]) -> Chart {
    let mut series = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let timeline = window(run);
        let types: BTreeSet<&String> = timeline.iter().flat_map(|p| p.error_types.keys()).collect();
        for (j, kind) in types.into_iter().enumerate() {
            let per_second = |p: &Point| p.error_types.get(kind).copied().unwrap_or(0) as f64 / p.interval_s.max(1e-9);
            let points = steps(timeline.iter().map(|p| (p.t, p.interval_s, per_second(p))));
            // One colour per type; later runs dashed.
            series.push(Series { name: name(runs, run, kind), colour: colour(j), dashed: i > 0, points });
        }
    }
    Chart { id: "errors", title: "Errors by type".into(), y_label: "errors/s", x: XAxis::Seconds, y_max: None, series }
}

/// Each response class's share of the responses, per second.
fn classes(runs: &[Saved]) -> Chart {
    let mut series = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let timeline = window(run);
        let names: BTreeSet<&String> = timeline.iter().flat_map(|p| p.classes.keys()).collect();
        for (j, class) in names.into_iter().enumerate() {
            let share = |p: &Point| {
                let total = p.classes.values().sum::<u64>().max(1) as f64;
                p.classes.get(class).copied().unwrap_or(0) as f64 * 100.0 / total
            };
            let answered = timeline.iter().filter(|p| p.classes.values().sum::<u64>() > 0);
            let points = steps(answered.map(|p| (p.t, p.interval_s, share(p))));
            // One colour per class; later runs dashed.
            series.push(Series { name: name(runs, run, class), colour: colour(j), dashed: i > 0, points });
        }
    }
    let title = "Response classes".into();
    Chart { id: "classes", title, y_label: "% of responses", x: XAxis::Seconds, y_max: Some(100.0), series }
}
