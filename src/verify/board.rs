//! A Grafana dashboard as checks: its variables resolved against Prometheus, then one row per
//! panel, asked of Prometheus as Grafana asks (a range query over the window at the panel's
//! `$__interval` step, or an instant query at its end). A panel passes when one of its queries
//! returns a series, as Grafana then draws something instead of "No data".

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use regex::Regex;

use super::check::{CheckResult, Status};
use super::dashboard::{Board, Panel};
use super::diagnose;
use super::grafana::{self, builtins, interpolate, Scope, Selected};
use super::prom::{unix, PromError, Prometheus};
use super::variables::{self, Override};

/// Grafana's default resolution when a query states none.
const DEFAULT_DATA_POINTS: u32 = 1500;

/// What a panel's row says it expects.
const EXPECTED: &str = "data";

/// The window and scrape interval every panel of a dashboard is judged with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    /// The dashboard's time range: from.
    pub start: SystemTime,
    /// The dashboard's time range: to.
    pub end: SystemTime,
    /// Prometheus's scrape interval (the data source's "scrape interval" setting).
    pub scrape: Duration,
}

impl Range {
    fn length(&self) -> Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }

    fn builtins(&self, interval: Duration) -> Scope {
        builtins(self.length(), interval, self.scrape, (unix(self.end) * 1000.0) as u64)
    }
}

/// The rows of one dashboard (of the panels `only` matches); `prefix` puts its title before each
/// name (several dashboards).
pub(crate) async fn check(
    prom: &Prometheus,
    board: &Board,
    overrides: &[Override],
    only: Option<&Regex>,
    range: Range,
    prefix: bool,
) -> Result<Vec<CheckResult>, PromError> {
    let name = |n: &str| if prefix { format!("{}: {n}", board.title) } else { n.to_string() };
    let interval = grafana::interval(range.length(), DEFAULT_DATA_POINTS, range.scrape);
    let mut scope = range.builtins(interval);
    let rejected = variables::resolve(prom, &board.variables, overrides, &mut scope, (range.start, range.end)).await?;
    let mut rows: Vec<CheckResult> = rejected
        .into_iter()
        .map(|r| CheckResult {
            name: name(&format!("variable ${}", r.name)),
            query: r.query,
            value: None,
            expected: "values".into(),
            result: Status::Fail,
            reason: Some(format!("Prometheus rejected the variable's query: {}", r.error)),
        })
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for panel in &board.panels {
        for (title, scoped) in copies(panel, &scope) {
            if only.is_some_and(|re| !re.is_match(&title)) {
                continue;
            }
            let mut row = check_panel(prom, panel, &scoped, range).await?;
            let n = seen.entry(title.clone()).and_modify(|n| *n += 1).or_insert(1);
            row.name = name(&if *n > 1 { format!("{title} #{n}") } else { title });
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The panel once, or once per value of the variables it (or its row) repeats for; with its title.
fn copies(panel: &Panel, scope: &Scope) -> Vec<(String, Scope)> {
    let mut out = vec![(String::new(), scope.clone())];
    for var in &panel.repeat {
        let Some(sel) = scope.get(var) else { continue };
        out = out
            .into_iter()
            .flat_map(|(suffix, s)| {
                sel.values.iter().map(move |v| {
                    let mut s = s.clone();
                    s.insert(var.clone(), Selected::one(v.clone()));
                    (format!("{suffix} ({var}={v})"), s)
                })
            })
            .collect();
    }
    let repeated = out.len() > 1;
    out.into_iter()
        .map(|(suffix, s)| {
            let title = title(&panel.name, &s);
            // A repeated panel whose title does not name the value gets it appended.
            let title = if repeated && title == self::title(&panel.name, scope) { title + &suffix } else { title };
            (title, s)
        })
        .collect()
}

/// A title with variables as their text (`All`, or the values joined by ` + `).
fn title(name: &str, scope: &Scope) -> String {
    let text: Scope = scope
        .iter()
        .map(|(k, v)| {
            let text = if v.all { "All".to_string() } else { v.values.join(" + ") };
            (k.clone(), Selected::one(text))
        })
        .collect();
    interpolate(name, &text)
}

/// One panel's row.
async fn check_panel(prom: &Prometheus, panel: &Panel, scope: &Scope, range: Range) -> Result<CheckResult, PromError> {
    let mut row = CheckResult {
        name: panel.name.clone(),
        query: String::new(),
        value: None,
        expected: EXPECTED.into(),
        result: Status::Skipped,
        reason: panel.skip.clone(),
    };
    if panel.skip.is_some() {
        return Ok(row);
    }
    let min = panel
        .min_interval
        .as_deref()
        .map(|i| interpolate(i, scope))
        .and_then(|i| humantime::parse_duration(i.trim_start_matches('>')).ok())
        .unwrap_or(range.scrape);
    let interval = grafana::interval(range.length(), panel.max_data_points.max(1), min);
    let mut scope = scope.clone();
    scope.extend(range.builtins(interval));
    let mut series = 0;
    let mut queries = Vec::new();
    for t in &panel.targets {
        let q = interpolate(&t.expr, &scope);
        let found = if t.instant {
            prom.query(&q, range.end).await.map(|s| s.len())
        } else {
            prom.query_range(&q, range.start, range.end, interval)
                .await
                .map(|s| s.iter().filter(|s| !s.points.is_empty()).count())
        };
        match found {
            Ok(n) => series += n,
            Err(PromError::Rejected { error, .. }) => {
                row.query = q;
                row.result = Status::Fail;
                row.reason = Some(format!("Prometheus rejected the query of {}: {error}", t.ref_id));
                return Ok(row);
            }
            Err(e) => return Err(e),
        }
        queries.push(q);
    }
    row.query = queries.join("\n");
    row.value = Some(series as f64);
    if series > 0 {
        row.result = Status::Pass;
        row.reason = None;
    } else {
        row.result = Status::Fail;
        row.reason = Some(why_empty(prom, panel, &queries, range).await?);
    }
    Ok(row)
}

/// Why none of a panel's queries returned data: each query's diagnosis (by its refId when several).
async fn why_empty(prom: &Prometheus, panel: &Panel, queries: &[String], range: Range) -> Result<String, PromError> {
    let mut why = Vec::new();
    for (t, q) in panel.targets.iter().zip(queries) {
        let d = diagnose::diagnose(prom, q, range.start, range.end).await?.to_string();
        why.push(if queries.len() > 1 { format!("{}: {d}", t.ref_id) } else { d });
    }
    Ok(why.join("; "))
}
