//! A summary built whole from what was recorded: a run's from its records ([`Summary::of_run`]),
//! a sharded run's from its shards' summaries merged ([`Summary::of_shards`]); figures, the run's
//! facts and settings, every rule judged. The one place a summary is put together.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::{
    classes, round, routes as route_figures, Histograms, Percentiles, RemoteWritten, RunSettings, ServiceFigures,
    Spans, Split, StageRow, Summary,
};
use crate::input::config::{Load, Plan};
use crate::input::threshold::{Threshold, Verdict};
use crate::model::scenario::Route;
use crate::output::recorder::{Completed, Stats};
use crate::output::timeline::Point;
use crate::verify;

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
    /// What was recorded beside the send loop.
    pub(crate) beside: Beside,
}

/// What a run's summary reports that the send loop did not record.
#[derive(Debug, Default)]
pub(crate) struct Beside {
    /// What the `--remote-write` pushes came to.
    pub(crate) remote_write: Option<RemoteWritten>,
    /// The services' own figures (the demo's simulation).
    pub(crate) services: BTreeMap<String, ServiceFigures>,
    /// Rules judged on them (the demo's "traffic at every service").
    pub(crate) verdicts: Vec<Verdict>,
}

impl Summary {
    /// The figures of merged stats and of what of them had completed when the window ended,
    /// judged: with no rule yet, it passes when some request succeeded. The base of a run's
    /// summary ([`Summary::of_run`]) and a merged one ([`Summary::of_shards`]), which add the
    /// run's identity and its rules.
    pub(super) fn of_figures(
        stats: &Stats,
        completed: &Completed,
        target_rps: Option<f64>,
        window: Duration,
        routes: &[Route],
    ) -> Self {
        let c = &stats.counts;
        let secs = window.as_secs_f64();
        let per_sec = |n: u64| if secs > 0.0 { round(n as f64 / secs) } else { 0.0 };
        let mut summary = Summary {
            run_id: String::new(),
            version: env!("CARGO_PKG_VERSION"),
            started_at: String::new(),
            ended_at: String::new(),
            settings: RunSettings::default(),
            target_rps,
            achieved_rps: per_sec(c.requests),
            throughput_rps: per_sec(completed.requests.min(c.requests)),
            in_flight_at_end: c.requests.saturating_sub(completed.requests),
            duration_s: round(secs),
            requests: c.requests,
            ok: c.ok,
            errors: c.errors,
            dropped: c.dropped,
            status_codes: c.status.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            error_types: c.error_types.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect(),
            latency_ms: Percentiles::of(&stats.latency),
            service_time_ms: Percentiles::of(&stats.service_time),
            routes: route_figures::figures(&stats.routes, &completed.routes, routes, secs),
            classes: classes(&c.classes, routes),
            thresholds: Vec::new(),
            passed: false,
            interrupted: false,
            services: BTreeMap::new(),
            split: None,
            shard: None,
            start_unix_s: 0.0,
            end_unix_s: 0.0,
            verify: None,
            warmup: None,
            stages: Vec::new(),
            histograms: Histograms::of(stats),
            timeline: Vec::new(),
            spans: None,
            remote_write: None,
        };
        summary.judge();
        summary
    }

    /// The Prometheus checks of `--verify-prometheus`, which end after the summary is built (they
    /// wait for the run's last scrape): they join the rules and the run is judged again. The one
    /// way a built summary changes.
    pub(crate) fn add_verification(&mut self, verification: verify::Verification) {
        let passed = verification.count(verify::Status::Pass);
        self.add_verdict(Verdict {
            expr: "prometheus checks (--verify-prometheus)".into(),
            value: passed as f64,
            measured: format!("{passed} of {} checks passed", verification.checks.len()),
            passed: verification.passed,
        });
        self.verify = Some(verification);
    }

    /// The summary of `plan`'s run from its records, judged by the plan's thresholds and split
    /// test and by the verdicts beside them.
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
            beside,
        } = records;
        let ended_at = started_at + window;
        let shard = plan.cluster().shard();
        let mut summary = Summary {
            run_id: plan.cluster().run_id().to_string(),
            started_at: humantime::format_rfc3339_millis(started_at).to_string(),
            ended_at: humantime::format_rfc3339_millis(ended_at).to_string(),
            settings: RunSettings::of(plan),
            interrupted,
            shard: (shard.count > 1).then_some(shard),
            start_unix_s: unix(started_at),
            end_unix_s: unix(ended_at),
            warmup,
            stages,
            timeline,
            spans,
            remote_write: beside.remote_write,
            services: beside.services,
            ..Summary::of_figures(stats, completed, target_rps, measured, routes)
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
        for verdict in beside.verdicts {
            summary.add_verdict(verdict);
        }
        summary
    }

    /// The summary of one run's shards merged (`merge`), judged by `rules`.
    pub(crate) fn of_shards(records: ShardRecords<'_>, rules: &[Threshold]) -> Summary {
        let ShardRecords { stats, completed, target_rps, window, identity, in_flight_at_end, classes } = records;
        let mut summary = Summary {
            run_id: identity.run_id,
            started_at: identity.started_at,
            ended_at: identity.ended_at,
            start_unix_s: identity.start_unix_s,
            end_unix_s: identity.end_unix_s,
            settings: identity.settings,
            interrupted: identity.interrupted,
            in_flight_at_end,
            classes,
            ..Summary::of_figures(stats, completed, target_rps, window, &[])
        };
        for rule in rules {
            summary.add_verdict(rule.check(&summary));
        }
        summary
    }
}

/// What the shards of one run recorded together: counts summed, histograms merged.
#[derive(Debug)]
pub(crate) struct ShardRecords<'a> {
    /// The shards' figures together.
    pub(crate) stats: &'a Stats,
    /// What of `stats` had completed by the end of each shard's window.
    pub(crate) completed: &'a Completed,
    /// The shards' rates summed; `None` in closed loop.
    pub(crate) target_rps: Option<f64>,
    /// The union of the shards' windows.
    pub(crate) window: Duration,
    /// Which run, when, with what settings.
    pub(crate) identity: Identity,
    /// The shards' requests still unanswered at the end of their windows.
    pub(crate) in_flight_at_end: u64,
    /// The shards' response classes summed.
    pub(crate) classes: BTreeMap<String, u64>,
}

/// What names a run and its window in its summary (and in a shard's summary as merge reads it).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Identity {
    /// The run id (the ids, comma-separated, of a merge of mixed runs).
    pub(crate) run_id: String,
    /// When sending started and ended (RFC 3339).
    pub(crate) started_at: String,
    pub(crate) ended_at: String,
    /// The same, Unix seconds.
    pub(crate) start_unix_s: f64,
    pub(crate) end_unix_s: f64,
    /// The settings that shape the numbers.
    pub(crate) settings: RunSettings,
    /// A signal ended the window (of any shard).
    pub(crate) interrupted: bool,
}

impl RunSettings {
    /// The settings that shape a run's numbers.
    fn of(plan: &Plan) -> RunSettings {
        let mut seen = std::collections::HashSet::new();
        let routes = plan.target().routes();
        let targets: Vec<String> =
            routes.iter().map(|r| r.uri.to_string()).filter(|url| seen.insert(url.clone())).collect();
        let client = plan.client().options();
        RunSettings {
            targets,
            rate: plan.load().rate(),
            concurrency: match plan.load().mode() {
                Load::Closed { concurrency } => Some(concurrency.get()),
                Load::Open { .. } => None,
            },
            connections: client.connections.get(),
            http2: client.http2,
            timeout: humantime::format_duration(plan.client().timeout()).to_string(),
        }
    }
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}
