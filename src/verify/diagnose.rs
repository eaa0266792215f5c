//! Why a query returned no data, asked of Prometheus the way pint does: for each selector of the
//! query (found by `promql-parser`, never by hand) that has no series in the window, is the metric
//! unknown, has it no such label, does no value of the label match, or did its series stop? A
//! selector under `absent()`/`absent_over_time()` or on the right of `unless` is left out: its
//! emptiness is the point.

use std::fmt;
use std::time::{Duration, SystemTime};

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, token, Expr};

use super::prom::{unix, PromError, Prometheus};

/// How far before the window's end a missing series is looked for, to tell "stopped" from "unknown"
/// (pint's default look-back).
const LOOKBACK: Duration = Duration::from_secs(2 * 3600);
/// Label values listed when none matches.
const VALUES_SHOWN: usize = 5;

/// One vector or range selector of a query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selector {
    /// `name{matchers}`, without `offset` or `@`.
    pub text: String,
    /// The metric name, when the selector names one.
    pub metric: Option<String>,
    /// The label matchers but the metric name's.
    pub matchers: Vec<Matcher>,
    /// The range of a range selector (`[5m]`).
    pub range: Option<Duration>,
    /// The function the selector is a direct argument of, e.g. `rate`.
    pub func: Option<&'static str>,
}

/// The selectors of `query` whose emptiness matters, in the order written; the parser's message
/// when `query` is not PromQL.
pub(crate) fn selectors(query: &str) -> Result<Vec<Selector>, String> {
    let expr = parser::parse(query)?;
    let mut out = Vec::new();
    walk(&expr, None, &mut out);
    Ok(out)
}

fn walk(e: &Expr, func: Option<&'static str>, out: &mut Vec<Selector>) {
    match e {
        Expr::Aggregate(a) => {
            walk(&a.expr, None, out);
            if let Some(p) = &a.param {
                walk(p, None, out);
            }
        }
        Expr::Unary(u) => walk(&u.expr, None, out),
        Expr::Binary(b) => {
            walk(&b.lhs, None, out);
            if b.op.id() != token::T_LUNLESS {
                walk(&b.rhs, None, out);
            }
        }
        Expr::Paren(p) => walk(&p.expr, func, out),
        Expr::Subquery(s) => walk(&s.expr, None, out),
        Expr::Call(c) if c.func.name.starts_with("absent") => {}
        Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, Some(c.func.name), out)),
        Expr::VectorSelector(v) => out.push(selector(v, None, func)),
        Expr::MatrixSelector(m) => out.push(selector(&m.vs, Some(m.range), func)),
        _ => {}
    }
}

fn selector(v: &parser::VectorSelector, range: Option<Duration>, func: Option<&'static str>) -> Selector {
    let named = |m: &Matcher| m.name == "__name__" && m.op == MatchOp::Equal;
    let metric = v.name.clone().or_else(|| v.matchers.matchers.iter().find(|m| named(m)).map(|m| m.value.clone()));
    let matchers: Vec<Matcher> = v.matchers.matchers.iter().filter(|m| m.name != "__name__").cloned().collect();
    let plain = parser::VectorSelector { offset: None, at: None, ..v.clone() };
    Selector { text: plain.to_string(), metric, matchers, range, func }
}

/// Why one selector had no series in the window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Why {
    /// No series of the metric in the look-back before the window's end.
    UnknownMetric {
        /// The metric name.
        metric: String,
    },
    /// The metric's series (or the selector's) last had a sample at this time, before the window.
    Stopped {
        /// The last sample's time.
        at: SystemTime,
    },
    /// The metric has series in the window, none with this label.
    NoLabel {
        /// The label name.
        label: String,
    },
    /// The label exists, but no value matches the matcher.
    NoValue {
        /// The matcher, e.g. `reporter="source"`.
        matcher: String,
        /// A few values the label has in the window.
        seen: Vec<String>,
        /// Whether there are more values than `seen`.
        more: bool,
    },
    /// Each matcher matches series, but no series matches them all.
    NotTogether,
}

/// A selector that returned nothing, and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Miss {
    /// The selector, as written (without offset or `@`).
    pub selector: String,
    /// Why it has no series.
    pub why: Why,
}

/// Why a query that returned no series did so.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Diagnosis {
    /// These selectors have no series in the window.
    Missing(Vec<Miss>),
    /// Every selector has series in the window: the query's operations (comparisons, `and`, label
    /// matching between the sides of an operator) left none.
    Filtered,
    /// The query has no selector whose emptiness matters (e.g. only `absent(...)`).
    NoSelectors,
    /// `promql-parser` cannot read the query (Prometheus may still: e.g. newer functions).
    Unparsed(String),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::UnknownMetric { metric } => {
                write!(f, "metric {metric} is unknown to Prometheus (no series in the last {})", hours(LOOKBACK))
            }
            Why::Stopped { at } => write!(f, "its series stopped at {}", humantime::format_rfc3339_seconds(*at)),
            Why::NoLabel { label } => write!(f, "the metric has no label {label:?}"),
            Why::NoValue { matcher, seen, more } => {
                let more = if *more { ", ..." } else { "" };
                write!(f, "no value of the label matches {matcher} (values seen: {}{more})", seen.join(", "))
            }
            Why::NotTogether => write!(f, "each matcher matches series, but no series matches them all"),
        }
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diagnosis::Missing(misses) => {
                let parts: Vec<String> = misses.iter().map(|m| format!("{}: {}", m.selector, m.why)).collect();
                write!(f, "no data: {}", parts.join("; "))
            }
            Diagnosis::Filtered => write!(
                f,
                "no data: every selector has series in the window; the query's comparisons or label matching left none"
            ),
            Diagnosis::NoSelectors => write!(f, "no data: the query returned no series"),
            Diagnosis::Unparsed(e) => write!(f, "no data (and the query could not be parsed to say why: {e})"),
        }
    }
}

fn hours(d: Duration) -> String {
    format!("{}h", d.as_secs() / 3600)
}

/// Why `query` has no data between `start` and `end`: each selector without series in that window,
/// with the reason. Queries Prometheus a few times per such selector.
pub(crate) async fn diagnose(
    prom: &Prometheus,
    query: &str,
    start: SystemTime,
    end: SystemTime,
) -> Result<Diagnosis, PromError> {
    let found = match selectors(query) {
        Ok(s) => s,
        Err(e) => return Ok(Diagnosis::Unparsed(e.trim().to_string())),
    };
    if found.is_empty() {
        return Ok(Diagnosis::NoSelectors);
    }
    let probe = Probe { prom, start, end };
    let mut misses: Vec<Miss> = Vec::new();
    for s in &found {
        if misses.iter().any(|m| m.selector == s.text) {
            continue;
        }
        if let Some(why) = probe.why(s).await? {
            misses.push(Miss { selector: s.text.clone(), why });
        }
    }
    Ok(if misses.is_empty() { Diagnosis::Filtered } else { Diagnosis::Missing(misses) })
}

/// The questions asked about one selector.
struct Probe<'a> {
    prom: &'a Prometheus,
    start: SystemTime,
    end: SystemTime,
}

impl Probe<'_> {
    fn range(&self, d: Duration) -> String {
        format!("{}s", d.as_secs_f64().ceil().max(1.0) as u64)
    }

    fn window(&self) -> Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }

    /// Whether `sel` has a sample in the window.
    async fn any(&self, sel: &str) -> Result<bool, PromError> {
        let q = format!("count(last_over_time({sel}[{}]))", self.range(self.window()));
        Ok(!self.prom.query(&q, self.end).await?.is_empty())
    }

    /// Whether `sel` has series at the window's end itself (an instant selector's view).
    async fn at_end(&self, sel: &str) -> Result<bool, PromError> {
        Ok(!self.prom.query(&format!("count({sel})"), self.end).await?.is_empty())
    }

    /// The time of `sel`'s last sample in the look-back, if any. `timestamp()` of an instant
    /// selector is its sample's own time: read every minute over the look-back, it finds the last
    /// sample before the last whole minute; one after that is among the raw samples of the last
    /// minute before the end.
    async fn last(&self, sel: &str) -> Result<Option<SystemTime>, PromError> {
        let look = self.range(LOOKBACK.max(self.window()));
        let q = format!("max(max_over_time(timestamp({sel})[{look}:1m]))");
        let coarse = self.prom.query(&q, self.end).await?.first().map(|(_, t)| *t).filter(|t| t.is_finite());
        let recent = self.prom.query(&format!("{sel}[61s]"), self.end).await?;
        let last = recent.iter().map(|(_, t)| *t).reduce(f64::max).or(coarse);
        Ok(last.map(|t| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(t.max(0.0))))
    }

    /// `None` when the selector has series in the window.
    async fn why(&self, s: &Selector) -> Result<Option<Why>, PromError> {
        if self.any(&s.text).await? {
            // An instant selector is read at the end only: a series that stopped just before it
            // (the staleness marker after a finished run's last scrape) is gone there.
            if s.range.is_none() && !self.at_end(&s.text).await? {
                return Ok(self.last(&s.text).await?.map(|at| Why::Stopped { at }));
            }
            return Ok(None);
        }
        let base: Vec<String> = s.metric.iter().map(|m| format!("__name__={m:?}")).collect();
        let with =
            |extra: &[String]| format!("{{{}}}", base.iter().chain(extra).cloned().collect::<Vec<_>>().join(","));
        if let Some(metric) = &s.metric {
            match self.last(&with(&[])).await? {
                None => return Ok(Some(Why::UnknownMetric { metric: metric.clone() })),
                Some(at) if at < self.start => return Ok(Some(Why::Stopped { at })),
                Some(_) => {}
            }
        }
        for m in &s.matchers {
            let needs_value = !matches_empty(m);
            let has_label = format!("{}!=\"\"", m.name);
            if needs_value && !base.is_empty() && !self.any(&with(std::slice::from_ref(&has_label))).await? {
                return Ok(Some(Why::NoLabel { label: m.name.clone() }));
            }
            let alone = with(&[m.to_string()]);
            if alone != "{}" && !self.any(&alone).await? {
                let (seen, more) = self.values(&m.name, &with(&[has_label])).await?;
                if !seen.is_empty() || needs_value {
                    return Ok(Some(Why::NoValue { matcher: m.to_string(), seen, more }));
                }
            }
        }
        Ok(Some(match self.last(&s.text).await? {
            Some(at) => Why::Stopped { at },
            None => Why::NotTogether,
        }))
    }

    /// A few values of `label` on the series of `sel` in the window, and whether there are more.
    async fn values(&self, label: &str, sel: &str) -> Result<(Vec<String>, bool), PromError> {
        if sel == "{}" {
            return Ok((Vec::new(), false));
        }
        let form = [
            ("match[]", sel.to_string()),
            ("start", format!("{:.3}", unix(self.start))),
            ("end", format!("{:.3}", unix(self.end))),
        ];
        let data = self.prom.api(&format!("label/{label}/values"), "", &form).await?;
        let all: Vec<String> =
            data.as_array().into_iter().flatten().filter_map(|v| v.as_str()).map(|v| format!("{v:?}")).collect();
        let more = all.len() > VALUES_SHOWN;
        Ok((all.into_iter().take(VALUES_SHOWN).collect(), more))
    }
}

/// Whether the matcher accepts a series without the label (value "").
fn matches_empty(m: &Matcher) -> bool {
    match &m.op {
        MatchOp::Equal => m.value.is_empty(),
        MatchOp::NotEqual => !m.value.is_empty(),
        MatchOp::Re(re) => re.is_match(""),
        MatchOp::NotRe(re) => !re.is_match(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(q: &str) -> Vec<String> {
        selectors(q).unwrap().into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn selectors_leave_out_absent_and_unless() {
        let q = r#"sum(rate(a{x="1"}[5m])) / sum(b) or vector(0) unless c and absent(d{y="2"})"#;
        assert_eq!(texts(q), vec![r#"a{x="1"}"#, "b"]);
        assert_eq!(texts("max_over_time((sum(e offset 5m) > 0)[10m:1m])"), vec!["e"]);
        let s = &selectors(r#"rate(f{a=~"x|y",b!=""}[2m])"#).unwrap()[0];
        assert_eq!(s.metric.as_deref(), Some("f"));
        assert_eq!(s.range, Some(Duration::from_secs(120)));
        assert_eq!(s.func, Some("rate"));
        assert_eq!(s.matchers.len(), 2);
        assert!(!matches_empty(&s.matchers[0]) && !matches_empty(&s.matchers[1]));
        let s = &selectors(r#"{__name__="g",c=""}"#).unwrap()[0];
        assert_eq!((s.metric.as_deref(), s.matchers.len()), (Some("g"), 1));
        assert!(matches_empty(&s.matchers[0]));
        assert!(selectors("sum(").is_err());
    }

    #[test]
    fn reasons_read_as_sentences() {
        let miss = |why| Diagnosis::Missing(vec![Miss { selector: "m{a=\"b\"}".into(), why }]);
        let d = miss(Why::NoValue { matcher: "a=\"b\"".into(), seen: vec!["\"c\"".into()], more: true });
        assert_eq!(d.to_string(), r#"no data: m{a="b"}: no value of the label matches a="b" (values seen: "c", ...)"#);
        let d = miss(Why::UnknownMetric { metric: "m".into() });
        assert!(d.to_string().ends_with("metric m is unknown to Prometheus (no series in the last 2h)"), "{d}");
        let d = miss(Why::Stopped { at: SystemTime::UNIX_EPOCH + Duration::from_secs(60) });
        assert!(d.to_string().ends_with("its series stopped at 1970-01-01T00:01:00Z"), "{d}");
    }
}
