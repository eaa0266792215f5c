//! A run's summary built whole from the run's records: figures, the run's facts and settings,
//! every rule judged. The one place a run's summary is put together.

use std::time::{Duration, SystemTime};

use super::{RunSettings, Spans, Split, StageRow, Summary};
use crate::input::config::{Load, Plan};
use crate::model::scenario::Route;
use crate::output::recorder::{Completed, Stats};
use crate::output::timeline::Point;

/// What a sending window recorded, and when.
#[derive(Debug)]
pub(crate) struct Records<'a> {
    /// The measured figures (warm-up left out).
    pub(crate) stats: &'a Stats,
    /// What of `stats` had completed when the window ended.
    pub(crate) completed: &'a Completed,
    /// The routes as the summary names them (routes that share a name share their figures).
    pub(crate) routes: &'a [Route],
    /// The rate the schedule asked for over the measured part; `None` in closed loop.
    pub(crate) target_rps: Option<f64>,
    /// The measured part of the window.
    pub(crate) measured: Duration,
    /// When sending started, and the whole window.
    pub(crate) started_at: SystemTime,
    pub(crate) window: Duration,
    /// A signal ended the window.
    pub(crate) interrupted: bool,
    pub(crate) timeline: Vec<Point>,
    pub(crate) spans: Option<Spans>,
    pub(crate) warmup: Option<StageRow>,
    pub(crate) stages: Vec<StageRow>,
}

impl Summary {
    /// The summary of `plan`'s run from its records, judged by the plan's thresholds and split test.
    pub(crate) fn of_run(plan: &Plan, records: Records<'_>) -> Summary {
        let Records {
            stats,
            completed,
            routes,
            target_rps,
            measured,
            started_at,
            window,
            interrupted,
            timeline,
            spans,
            warmup,
            stages,
        } = records;
        let ended_at = started_at + window;
        let mut summary = Summary {
            run_id: plan.cluster().run_id().to_string(),
            started_at: humantime::format_rfc3339_millis(started_at).to_string(),
            ended_at: humantime::format_rfc3339_millis(ended_at).to_string(),
            settings: RunSettings::of(plan),
            interrupted,
            shard: (plan.cluster().shard().count > 1).then_some(plan.cluster().shard()),
            start_unix_s: unix(started_at),
            end_unix_s: unix(ended_at),
            warmup,
            stages,
            timeline,
            spans,
            ..Summary::new(stats, completed, target_rps, measured, routes)
        };
        // The rate completed is the steady one, read from the timeline.
        summary.throughput_rps = summary.steady_throughput_rps();
        for threshold in plan.verdict().thresholds() {
            summary.add_verdict(threshold.check(&summary));
        }
        if let Some(expected) = plan.verdict().expect_split() {
            let split = Split::test(&expected.text, &expected.weights, &summary.classes);
            summary.add_verdict(split.verdict());
            summary.split = Some(split);
        }
        summary
    }
}

impl RunSettings {
    /// The settings that shape a run's numbers.
    fn of(plan: &Plan) -> RunSettings {
        let mut seen = std::collections::HashSet::new();
        let targets: Vec<String> =
            plan.target().routes().iter().map(|r| r.uri.to_string()).filter(|url| seen.insert(url.clone())).collect();
        RunSettings {
            targets,
            rate: plan.load().rate(),
            concurrency: match plan.load().mode() {
                Load::Closed { concurrency } => Some(concurrency.get()),
                Load::Open { .. } => None,
            },
            connections: plan.client().options().connections.get(),
            http2: plan.client().options().http2,
            timeout: humantime::format_duration(plan.client().timeout()).to_string(),
        }
    }
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
