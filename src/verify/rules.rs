//! `verify --rules`: Prometheus rule files (or PrometheusRule objects) checked against what
//! Prometheus has. One row per rule: its selectors have series over the window (else why not, from
//! `diagnose`); an alert expected firing or quiet is judged by a range query of its expression at
//! the scrape step (for how long it was active, and whether that reached its `for:`); and pint's
//! lints: a rate range under two scrape intervals, an `absent()` alert's `for:` under two.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::Value;

use super::check::{CheckResult, Status};
use super::diagnose::{self, Diagnosis, Miss, Why};
use super::prom::{PromError, Prometheus};

/// Functions whose range must hold at least two samples.
const RATE_FUNCTIONS: [&str; 4] = ["rate", "irate", "increase", "deriv"];

/// One alerting or recording rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    /// Its group's name.
    pub group: String,
    /// The alert's name, or the recorded series' name.
    pub name: String,
    /// An alert (else a recording rule).
    pub alert: bool,
    /// PromQL.
    pub expr: String,
    /// How long the expression must hold before the alert fires.
    pub hold: Duration,
}

/// What an alert is expected to do in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expectation {
    /// Active (pending or firing) at some time.
    Firing,
    /// Never active.
    Quiet,
}

/// The `--rules` files' rules, and what `--expect-firing`/`--expect-quiet` expect of their alerts.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleSet {
    /// Every rule, in file order.
    pub rules: Vec<Rule>,
    /// Alert name -> expectation.
    pub expect: Vec<(String, Expectation)>,
}

impl RuleSet {
    /// What is expected of `rule`, if it is an alert named by an `--expect-*` flag.
    pub(crate) fn expectation(&self, rule: &Rule) -> Option<Expectation> {
        self.expect.iter().find(|(a, _)| rule.alert && *a == rule.name).map(|(_, e)| *e)
    }
}

#[derive(Debug, Deserialize)]
struct Group {
    name: String,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
struct RawRule {
    alert: Option<String>,
    record: Option<String>,
    expr: Value,
    #[serde(rename = "for")]
    hold: Option<String>,
}

/// The rules of one file: rule-file `groups:`, or PrometheusRule objects (`spec.groups`), one or
/// several YAML documents or a `List`.
pub(crate) fn parse(text: &str) -> Result<Vec<Rule>, String> {
    let mut out = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let v = Value::deserialize(doc).map_err(|e| e.to_string())?;
        collect(&v, &mut out)?;
    }
    if out.is_empty() {
        return Err("no rules: expected `groups:` or PrometheusRule objects with `spec.groups`".into());
    }
    Ok(out)
}

fn collect(v: &Value, out: &mut Vec<Rule>) -> Result<(), String> {
    if let Some(items) = v.get("items").and_then(Value::as_array) {
        return items.iter().try_for_each(|i| collect(i, out));
    }
    let groups = v.get("groups").or_else(|| v.get("spec").and_then(|s| s.get("groups")));
    let Some(groups) = groups else { return Ok(()) };
    let groups: Vec<Group> = serde_json::from_value(groups.clone()).map_err(|e| format!("groups: {e}"))?;
    for g in groups {
        for r in g.rules {
            let (name, alert) = match (r.alert, r.record) {
                (Some(a), _) => (a, true),
                (None, Some(rec)) => (rec, false),
                (None, None) => return Err(format!("group {:?}: a rule with neither alert nor record", g.name)),
            };
            let expr = match r.expr {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let hold = match r.hold.as_deref() {
                None => Duration::ZERO,
                Some(h) => humantime::parse_duration(h).map_err(|_| format!("{name}: for: {h:?} is not a duration"))?,
            };
            out.push(Rule { group: g.name.clone(), name, alert, expr: expr.trim().to_string(), hold });
        }
    }
    Ok(())
}

/// What a rule row needs of the attempt.
#[derive(Debug)]
pub(crate) struct Judging<'a> {
    pub prom: &'a Prometheus,
    pub start: SystemTime,
    pub at: SystemTime,
    pub scrape: Duration,
}

/// The row of one rule.
pub(crate) async fn row(j: &Judging<'_>, rule: &Rule, expect: Option<Expectation>) -> Result<CheckResult, PromError> {
    let kind = if rule.alert { "" } else { "record " };
    let mut row = CheckResult {
        name: format!("{} / {kind}{}", rule.group, rule.name),
        query: rule.expr.clone(),
        value: None,
        expected: match expect {
            Some(Expectation::Firing) => "firing".into(),
            Some(Expectation::Quiet) => "quiet".into(),
            None => "data".into(),
        },
        result: Status::Fail,
        reason: None,
    };
    if let Some(lint) = lint(rule, j.scrape) {
        row.reason = Some(lint);
        return Ok(row);
    }
    // A filter on labels or values not seen yet (errors in a healthy run: `response_code=~"5.."`,
    // `error_type!=""` on a counter that has the label only on failures) is the rule waiting for
    // its case, not a gap in the monitoring: only an unknown metric or stopped series fail the row.
    let (missing, waiting) = match diagnose::diagnose(j.prom, &rule.expr, j.start, j.at).await? {
        Diagnosis::Missing(misses) => {
            let (waiting, missing): (Vec<Miss>, Vec<Miss>) =
                misses.into_iter().partition(|m| matches!(m.why, Why::NoValue { .. } | Why::NoLabel { .. }));
            let text = |m: Vec<Miss>| (!m.is_empty()).then(|| Diagnosis::Missing(m).to_string());
            let waiting = text(waiting).map(|t| t.replacen("no data: ", "no series yet: ", 1));
            (text(missing), waiting)
        }
        Diagnosis::Unparsed(e) => {
            row.reason = Some(format!("not PromQL this tool can read: {e}"));
            return Ok(row);
        }
        _ => (None, None),
    };
    let Some(expect) = expect else {
        row.result = if missing.is_none() { Status::Pass } else { Status::Fail };
        row.reason = missing.or(waiting);
        return Ok(row);
    };
    let active = active(j, &rule.expr).await?;
    row.value = Some(active.as_secs_f64());
    let said = said(rule, active);
    match expect {
        Expectation::Firing if said.is_some() => {
            row.result = Status::Pass;
            row.reason = said;
        }
        Expectation::Firing => {
            row.reason = Some(missing.or(waiting).unwrap_or_else(|| "never active in the window".into()))
        }
        // Quiet because its metrics are absent proves nothing.
        Expectation::Quiet if missing.is_some() => row.reason = missing.map(|m| format!("quiet, but {m}")),
        Expectation::Quiet if said.is_none() => {
            row.result = Status::Pass;
            row.reason = waiting;
        }
        Expectation::Quiet => row.reason = said,
    }
    Ok(row)
}

/// "active 45 s: would fire (for: 30s)" or "... pending only, under for: 5m"; `None` when never active.
fn said(rule: &Rule, active: Duration) -> Option<String> {
    if active.is_zero() {
        return None;
    }
    let secs = active.as_secs_f64();
    let hold = humantime::format_duration(rule.hold);
    Some(if active >= rule.hold {
        format!("active {secs:.0} s: would fire (for: {hold})")
    } else {
        format!("active {secs:.0} s: pending only, under for: {hold}")
    })
}

/// The longest stretch the expression returned series, from a range query at the scrape step (a
/// single point counts as one step).
async fn active(j: &Judging<'_>, expr: &str) -> Result<Duration, PromError> {
    let series = j.prom.query_range(expr, j.start, j.at, j.scrape).await?;
    let step = j.scrape.as_secs_f64();
    let mut times: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let (mut longest, mut from) = (0.0f64, None);
    for (i, t) in times.iter().enumerate() {
        let begin = match from {
            Some(b) if t - times[i - 1] <= step * 1.5 => b,
            _ => *t,
        };
        from = Some(begin);
        longest = longest.max(t - begin + step);
    }
    Ok(Duration::from_secs_f64(longest))
}

/// pint's lints that need only the scrape interval: the reason, when one fails.
pub(crate) fn lint(rule: &Rule, scrape: Duration) -> Option<String> {
    let every = humantime::format_duration(scrape);
    let selectors = match diagnose::selectors(&rule.expr) {
        Ok(s) => s,
        Err(e) => return Some(format!("not PromQL: {e}")),
    };
    for s in &selectors {
        let (Some(range), Some(func)) = (s.range, s.func) else { continue };
        if RATE_FUNCTIONS.contains(&func) && range < scrape * 2 {
            let range = humantime::format_duration(range);
            return Some(format!(
                "{func}({}[{range}]): the range is under 2 × the scrape interval ({every}), so it holds fewer than two samples at times",
                s.text
            ));
        }
    }
    if rule.alert && rule.expr.contains("absent") && rule.hold < scrape * 2 {
        return Some(format!(
            "an absent() alert with for: {} under 2 × the scrape interval ({every}) fires on one missed scrape",
            humantime::format_duration(rule.hold)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rule_files_and_prometheus_rules() {
        let file = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 5m\n  - record: r:x\n    expr: sum(up)\n";
        let rules = parse(file).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!((rules[0].alert, rules[0].hold), (true, Duration::from_secs(300)));
        let object = format!(
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  {}",
            file.replace('\n', "\n  ")
        );
        assert_eq!(parse(&object).unwrap(), rules);
        let list = "kind: List\nitems:\n- spec: {groups: [{name: h, rules: [{alert: B, expr: 'absent(x)'}]}]}\n";
        assert_eq!(parse(list).unwrap()[0].name, "B");
        assert!(parse("a: 1\n").is_err());
    }

    #[test]
    fn lints_as_pint_does() {
        let rule = |expr: &str, hold: u64| Rule {
            group: "g".into(),
            name: "A".into(),
            alert: true,
            expr: expr.into(),
            hold: Duration::from_secs(hold),
        };
        let scrape = Duration::from_secs(30);
        let short = lint(&rule("sum(rate(x[45s]))", 0), scrape).unwrap();
        assert!(short.contains("rate(x[45s])") && short.contains("2 × the scrape interval (30s)"), "{short}");
        assert!(lint(&rule("sum(rate(x[2m]))", 0), scrape).is_none());
        assert!(lint(&rule("absent(up)", 30), scrape).unwrap().contains("absent()"));
        assert!(lint(&rule("absent(up)", 60), scrape).is_none());
    }
}
