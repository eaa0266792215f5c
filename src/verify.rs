//! `trafficgen verify` (and `run --verify-prometheus`): PromQL checks against a Prometheus HTTP API,
//! judged over a window (the last `--window`, a run found by `--run-id`, or a `--summary` file's),
//! re-run while they fail for up to `--retry-for`, since data arrives a scrape after the traffic.
//!
//! - `args`: the flags and `TRAFFICGEN_*` env vars, validated into a [`Spec`].
//! - `check`: `NAME: PROMQL OP VALUE`, `--checks` files, judging a query's samples.
//! - `diagnose`: why a query returned nothing (which selector, and why), asked of Prometheus.
//! - `preset`: the `bookinfo` checks per kind of cluster (no mesh, Linkerd, Istio).
//! - `dashboard`: Grafana dashboards (JSON, ConfigMaps) read into panels and variables;
//!   `grafana` is Grafana's template syntax, `variables` resolves a dashboard's variables
//!   against Prometheus, `board` makes each panel a check.
//! - `prom`: the HTTP API, over the generator's own client.
//! - `rules`: `--rules` files, a row per rule, alerts expected firing or quiet, pint's lints.
//! - `scrape`: the generator's targets, last sample and scrape interval, as Prometheus has them.
//! - `sent`: the generator's achieved rate from its raw samples, for short runs as for long ones.
//! - `render`: the [`Verification`] as a table or JSON.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

mod args;
mod board;
mod check;
mod dashboard;
mod diagnose;
mod grafana;
mod preset;
mod prom;
mod render;
mod rules;
mod scrape;
mod sent;
mod variables;

pub(crate) use args::{RawVerify, VerifyArgs};
pub(crate) use check::{CheckResult, Status};
pub(crate) use preset::Mesh;
pub(crate) use prom::PromError;
pub(crate) use render::Verification;

use check::{judge, Check, Measure};
use prom::{unix, Prometheus};
use scrape::{secs, Generator, Scrape};
use sent::Sent;

/// How far back `--run-id` looks for the run's `trafficgen_run_info`.
const RUN_LOOKBACK: &str = "7d";
/// How long after a summary's end of sending its run's last scrape is looked for: past the chart's
/// linger (60 s) and a scrape. Without a run id, the next run's series would be the same ones.
const LATE_WITH_ID: Duration = Duration::from_secs(600);
const LATE_WITHOUT_ID: Duration = Duration::from_secs(60);

/// Which stretch of time the checks judge.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// The last this long, ending now (at each attempt).
    Last(Duration),
    /// The run's own start and end, from its `trafficgen_run_info{run_id}` samples.
    RunId(String),
    /// Fixed start and end, e.g. from a summary file; the run id narrows trafficgen's series.
    Fixed {
        /// Start of sending.
        start: SystemTime,
        /// End of sending.
        end: SystemTime,
        /// The run's id, if known.
        run_id: Option<String>,
    },
}

/// A validated verification.
#[derive(Debug, Clone)]
pub struct Spec {
    prometheus: Prometheus,
    /// The window judged.
    pub window: Window,
    /// Run the `bookinfo` preset.
    pub preset: bool,
    /// The preset's kind of cluster.
    pub mesh: Mesh,
    /// Bookinfo's namespace.
    pub namespace: String,
    checks: Vec<Check>,
    /// Grafana dashboards whose panels are checks.
    dashboards: Dashboards,
    /// `--rules`: a row per rule.
    rules: rules::RuleSet,
    /// How long failing checks are re-run.
    pub retry_for: Duration,
    /// `--scrape-interval`: overrides the interval found in Prometheus (the subquery step; rate
    /// ranges follow Grafana's `$__rate_interval`).
    pub scrape_interval: Option<Duration>,
    /// Print JSON instead of the table.
    pub json: bool,
}

/// `--dashboard` files, parsed, and the `--var` overrides of their variables.
#[derive(Debug, Clone, Default)]
struct Dashboards {
    boards: Vec<dashboard::Board>,
    overrides: Vec<variables::Override>,
    /// `--panel`: only the panels whose name matches.
    panels: Option<regex::Regex>,
}

/// The window of one attempt, with the values of the query placeholders.
#[derive(Debug)]
struct Resolved {
    start: SystemTime,
    /// When queries are evaluated: now, or a finished run's last real sample.
    at: SystemTime,
    vars: Vec<(&'static str, String)>,
    /// The generator's targets with samples in the window.
    generators: Vec<Generator>,
    /// The scrape interval used, and where it came from.
    scrape: Scrape,
}

impl Resolved {
    fn fill(&self, query: &str) -> String {
        self.vars.iter().fold(query.to_string(), |q, (k, v)| q.replace(k, v))
    }
}

/// Run the checks, re-running failures until they pass or `retry_for` is up. Prometheus being
/// unreachable is retried as well; a rejected query ends the verification at once.
pub(crate) async fn verify(spec: &Spec) -> Result<Verification, PromError> {
    let deadline = Instant::now() + spec.retry_for;
    let pause =
        spec.scrape_interval.unwrap_or(Duration::from_secs(5)).clamp(Duration::from_secs(1), Duration::from_secs(10));
    let mut settled: BTreeMap<String, CheckResult> = BTreeMap::new();
    loop {
        let attempt = attempt(spec, &mut settled).await;
        let retry = match &attempt {
            Ok(v) => !v.passed && v.count(Status::Fail) > 0,
            Err(PromError::Unreachable { .. }) => true,
            Err(PromError::Rejected { .. }) => false,
        };
        if !retry || Instant::now() + pause > deadline {
            return attempt;
        }
        tracing::info!(pause = ?pause, "verify: checks failing; trying again");
        tokio::time::sleep(pause).await;
    }
}

/// One pass over the checks not yet passed or skipped.
async fn attempt(spec: &Spec, settled: &mut BTreeMap<String, CheckResult>) -> Result<Verification, PromError> {
    let Some(r) = resolve(spec).await? else {
        let id = match &spec.window {
            Window::RunId(id) => id.as_str(),
            _ => "",
        };
        let row = CheckResult {
            name: "run found in Prometheus".into(),
            query: format!(r#"trafficgen_run_info{{run_id="{id}"}}[{RUN_LOOKBACK}]"#),
            value: None,
            expected: "samples".into(),
            result: Status::Fail,
            reason: Some(format!("no trafficgen_run_info of run {id} in the last {RUN_LOOKBACK}")),
        };
        return Ok(Verification::new(vec![row], None, [0.0, 0.0], None));
    };
    let (checks, mesh) = checks(spec, &r).await?;
    let mut rows = Vec::with_capacity(checks.len());
    for c in &checks {
        if let Some(done) = settled.get(&c.name) {
            rows.push(done.clone());
            continue;
        }
        let row = run_check(spec, &r, c).await?;
        if row.result != Status::Fail {
            settled.insert(c.name.clone(), row.clone());
        }
        rows.push(row);
    }
    let range = board::Range { start: r.start, end: r.at, scrape: r.scrape.interval };
    let several = spec.dashboards.boards.len() > 1;
    for b in &spec.dashboards.boards {
        let d = &spec.dashboards;
        for row in board::check(&spec.prometheus, b, &d.overrides, d.panels.as_ref(), range, several).await? {
            let row = settled.get(&row.name).cloned().unwrap_or(row);
            if row.result != Status::Fail {
                settled.insert(row.name.clone(), row.clone());
            }
            rows.push(row);
        }
    }
    let judging = rules::Judging { prom: &spec.prometheus, start: r.start, at: r.at, scrape: r.scrape.interval };
    for rule in &spec.rules.rules {
        let key = format!("{}/{}", rule.group, rule.name);
        if let Some(done) = settled.get(&key) {
            rows.push(done.clone());
            continue;
        }
        let row = rules::row(&judging, rule, spec.rules.expectation(rule)).await?;
        if row.result != Status::Fail {
            settled.insert(key, row.clone());
        }
        rows.push(row);
    }
    Ok(Verification::new(rows, mesh, [unix(r.start), unix(r.at)], Some(&r.scrape)))
}

async fn run_check(spec: &Spec, r: &Resolved, c: &Check) -> Result<CheckResult, PromError> {
    let query = r.fill(&c.query);
    if let Some(needs) = &c.needs {
        if spec.prometheus.query(&r.fill(&needs.query), r.at).await?.is_empty() {
            return Ok(CheckResult {
                name: c.name.clone(),
                query,
                value: None,
                expected: c.expect.text(),
                result: Status::Skipped,
                reason: Some(needs.reason.clone()),
            });
        }
    }
    if c.measure == Measure::SentRate {
        return sent_rate(spec, r, c).await;
    }
    let samples = spec.prometheus.query(&query, r.at).await?;
    let mut row = judge(c, query, &samples);
    let window = r.at.duration_since(r.start).unwrap_or_default();
    let reaches_back = c.query.contains("$rate_interval");
    if (row.result == Status::Fail || reaches_back) && window < r.scrape.interval * 2 {
        // A range over the window holds one sample at most, and a rate's range reaches back before
        // the run: no data, a figure that misses its bound, or a rate that may be an earlier
        // run's, is nothing to judge either way.
        row.result = Status::Skipped;
        let (w, every) = (secs(window), humantime::format_duration(r.scrape.interval));
        row.reason =
            Some(format!("too few scrapes to judge: the window ({w}) is under two scrape intervals ({every})"));
    } else if samples.is_empty() {
        row.reason = Some(diagnose::diagnose(&spec.prometheus, &row.query, r.start, r.at).await?.to_string());
    }
    Ok(row)
}

/// The custom checks, then the preset's for the kind of cluster (found by probing for `auto`).
async fn checks(spec: &Spec, r: &Resolved) -> Result<(Vec<Check>, Option<String>), PromError> {
    let mut out = spec.checks.clone();
    if !spec.preset {
        return Ok((out, None));
    }
    let kinds = match spec.mesh {
        Mesh::Auto => {
            let mut found = Vec::new();
            for kind in [Mesh::Linkerd, Mesh::Istio] {
                let probe = preset::probe(kind).expect("a mesh has a probe");
                if !spec.prometheus.query(&r.fill(probe), r.at).await?.is_empty() {
                    found.push(kind);
                }
            }
            if found.is_empty() {
                vec![Mesh::None]
            } else {
                found
            }
        }
        kind => vec![kind],
    };
    out.extend(preset::common());
    for kind in &kinds {
        out.extend(if *kind == Mesh::None { preset::none() } else { preset::mesh(*kind) });
    }
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let mesh = match spec.mesh {
        Mesh::Auto => format!("{} (auto)", names.join("+")),
        _ => names.join("+"),
    };
    Ok((out, Some(mesh)))
}

/// The rate check: the generator's achieved rate over its target, between scrapes taken while sending.
async fn sent_rate(spec: &Spec, r: &Resolved, c: &Check) -> Result<CheckResult, PromError> {
    let range = r.at.duration_since(r.start).unwrap_or_default();
    let query = r.generators.first().map_or_else(|| r.fill(&c.query), |g| sent::query(g, range));
    let mut row = CheckResult {
        name: c.name.clone(),
        query,
        value: None,
        expected: c.expect.text(),
        result: Status::Fail,
        reason: None,
    };
    match sent::measure(&spec.prometheus, &r.generators, r.start, r.at).await? {
        Sent::TooFew { scrapes } => {
            row.result = Status::Skipped;
            let every = humantime::format_duration(r.scrape.interval);
            row.reason = Some(format!(
                "too few scrapes to judge: {scrapes} taken while sending, 2 needed (scrapes every {every}: a run of 3 intervals or more)"
            ));
        }
        Sent::Judged { achieved, target, span } => {
            let ratio = achieved / target;
            row.value = Some(ratio);
            if c.expect.holds(ratio) {
                row.result = Status::Pass;
            } else {
                let secs = span.as_secs_f64();
                row.reason = Some(format!("sent {achieved:.2} req/s for a target of {target} over {secs:.0} s"));
            }
        }
    }
    Ok(row)
}

/// The generator's own series: its run's `trafficgen_run_info`, else `trafficgen_build_info`.
fn trafficgen(run_id: Option<&str>) -> String {
    match run_id {
        Some(id) => format!(r#"trafficgen_run_info{{run_id="{id}"}}"#),
        None => "trafficgen_build_info".to_string(),
    }
}

/// The attempt's window and placeholders; `None` when `--run-id` names no run Prometheus knows.
/// A finished run's window ends at its last real sample, never on the staleness marker after it.
async fn resolve(spec: &Spec) -> Result<Option<Resolved>, PromError> {
    let now = SystemTime::now();
    let prom = &spec.prometheus;
    let (start, at, run_id) = match &spec.window {
        Window::Last(d) => (now - *d, now, None),
        Window::Fixed { start, end, run_id } => {
            let late = if run_id.is_some() { LATE_WITH_ID } else { LATE_WITHOUT_ID };
            let bound = (*end + late).min(now);
            // The last scrape comes after the end of sending (during `--linger`), or just before it.
            let from = (*end - LATE_WITHOUT_ID).max(*start);
            let last = scrape::last_sample(prom, &trafficgen(run_id.as_deref()), from, bound).await?;
            (*start, last.unwrap_or((*end).min(now)), run_id.clone())
        }
        Window::RunId(id) => {
            let q = format!(r#"trafficgen_run_info{{run_id="{id}"}}[{RUN_LOOKBACK}]"#);
            let times: Vec<f64> = prom.query(&q, now).await?.into_iter().map(|(_, t)| t).collect();
            let (Some(first), Some(last)) =
                (times.iter().copied().reduce(f64::min), times.iter().copied().reduce(f64::max))
            else {
                return Ok(None);
            };
            let time = |t: f64| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(t.max(0.0));
            (time(first), time(last), Some(id.clone()))
        }
    };
    let trafficgen = trafficgen(run_id.as_deref());
    let generators = scrape::generators(prom, &trafficgen, start, at).await?;
    let scrape = match spec.scrape_interval {
        Some(interval) => Scrape { interval, from: "--scrape-interval" },
        None => scrape::discover(prom, &generators, start, at).await?,
    };
    let step = scrape.interval;
    let window = at.duration_since(start).unwrap_or_default().max(step);
    // Longest names first: `$window` must not eat the start of a longer placeholder.
    let vars = vec![
        ("$rate_interval", secs(scrape::rate_interval(step, step))),
        ("$trafficgen", trafficgen),
        ("$namespace", spec.namespace.clone()),
        ("$window", secs(window)),
        ("$step", secs(step)),
    ];
    Ok(Some(Resolved { start, at, vars, generators, scrape }))
}
