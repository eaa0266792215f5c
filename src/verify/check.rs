//! A check: a name, a PromQL query and what its value must be; parsed from `--check 'NAME: PROMQL OP VALUE'`
//! or a `--checks` YAML file, and judged against the samples Prometheus returns.

use serde::{Deserialize, Serialize};

/// How a value is compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Expect {
    /// `<`
    Lt(f64),
    /// `<=`
    Le(f64),
    /// `>`
    Gt(f64),
    /// `>=`
    Ge(f64),
    /// `==`
    Eq(f64),
    /// `!=`
    Ne(f64),
    /// `within P% of V`: |value - V| <= P/100 * |V|.
    Within {
        /// Tolerance as a fraction.
        tolerance: f64,
        /// The reference value.
        of: f64,
    },
}

impl Expect {
    /// Whether `v` satisfies the expectation (NaN never does).
    pub(crate) fn holds(&self, v: f64) -> bool {
        match *self {
            Expect::Lt(b) => v < b,
            Expect::Le(b) => v <= b,
            Expect::Gt(b) => v > b,
            Expect::Ge(b) => v >= b,
            Expect::Eq(b) => v == b,
            Expect::Ne(b) => !v.is_nan() && v != b,
            Expect::Within { tolerance, of } => (v - of).abs() <= tolerance * of.abs(),
        }
    }

    /// As the user would write it: `>= 0.95`, `within 5% of 1`.
    pub(crate) fn text(&self) -> String {
        match *self {
            Expect::Lt(b) => format!("< {b}"),
            Expect::Le(b) => format!("<= {b}"),
            Expect::Gt(b) => format!("> {b}"),
            Expect::Ge(b) => format!(">= {b}"),
            Expect::Eq(b) => format!("== {b}"),
            Expect::Ne(b) => format!("!= {b}"),
            Expect::Within { tolerance, of } => format!("within {}% of {of}", tolerance * 100.0),
        }
    }

    /// `OP VALUE` or `within P% of VALUE`.
    pub(crate) fn parse(s: &str) -> Option<Expect> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("within ") {
            let (pct, of) = rest.split_once(" of ")?;
            let tolerance = pct.trim().strip_suffix('%')?.trim().parse::<f64>().ok().filter(|p| *p >= 0.0)? / 100.0;
            return Some(Expect::Within { tolerance, of: number(of)? });
        }
        let (op, value) = ["<=", ">=", "==", "!=", "<", ">"].iter().find_map(|op| Some((*op, s.strip_prefix(op)?)))?;
        let v = number(value)?;
        Some(match op {
            "<=" => Expect::Le(v),
            ">=" => Expect::Ge(v),
            "==" => Expect::Eq(v),
            "!=" => Expect::Ne(v),
            "<" => Expect::Lt(v),
            _ => Expect::Gt(v),
        })
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// What makes a check skipped rather than failed: a query that must return data first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Needs {
    /// PromQL; an empty answer means the metrics this check reads are not in Prometheus.
    pub query: String,
    /// Shown as the reason, e.g. "no Linkerd metrics (request_total)".
    pub reason: String,
}

/// How a check finds its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Measure {
    /// The query's answer at the window's end.
    Query,
    /// The generator's achieved rate over its target, from its raw samples (`sent`).
    SentRate,
}

/// One check to run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Check {
    /// Shown in the table.
    pub name: String,
    /// PromQL, with `$window`, `$rate_interval`, `$namespace` still to fill in.
    pub query: String,
    /// What every returned value must satisfy.
    pub expect: Expect,
    /// When absent metrics mean "not applicable here".
    pub needs: Option<Needs>,
    /// How the value is found.
    pub measure: Measure,
}

/// `NAME: PROMQL OP VALUE`, the operator being the last comparison in the text (PromQL may hold others).
pub(crate) fn parse_flag(s: &str) -> Option<Check> {
    let (name, rest) = s.split_once(':')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let rest = rest.trim();
    let cut = rest.rfind(" within ").filter(|i| Expect::parse(&rest[*i..]).is_some()).or_else(|| last_op(rest))?;
    let (query, expect) = rest.split_at(cut);
    let query = query.trim();
    (!query.is_empty()).then_some(())?;
    Some(Check {
        name: name.to_string(),
        query: query.to_string(),
        expect: Expect::parse(expect)?,
        needs: None,
        measure: Measure::Query,
    })
}

/// Position of the last comparison operator followed only by a number.
fn last_op(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    (0..bytes.len())
        .rev()
        .filter(|&i| b"<>=!".contains(&bytes[i]))
        .map(|i| if i > 0 && b"<>=!".contains(&bytes[i - 1]) { i - 1 } else { i })
        .find(|&i| Expect::parse(&s[i..]).is_some())
}

/// One entry of a `--checks` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCheck {
    name: String,
    query: String,
    /// `OP VALUE` or `within P% of VALUE`.
    expect: String,
    /// Skip (instead of fail) when this query returns nothing.
    #[serde(default)]
    skip_unless: Option<String>,
}

/// The `--checks` file: `checks: [{name, query, expect, skip_unless?}]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksFile {
    checks: Vec<FileCheck>,
}

/// Parse a `--checks` file's text; the error says which entry and why.
pub(crate) fn parse_file(text: &str) -> Result<Vec<Check>, String> {
    let file: ChecksFile = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    file.checks
        .into_iter()
        .map(|c| {
            let expect = Expect::parse(&c.expect).ok_or_else(|| {
                format!("check {:?}: expect {:?} is not `OP VALUE` or `within P% of VALUE`", c.name, c.expect)
            })?;
            let needs = c.skip_unless.map(|query| Needs { reason: format!("no data for {query}"), query });
            Ok(Check { name: c.name, query: c.query, expect, needs, measure: Measure::Query })
        })
        .collect()
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// The value satisfied the expectation.
    Pass,
    /// It did not, or there was no value.
    Fail,
    /// Not applicable: the metrics it reads are absent.
    Skipped,
}

/// One row of the verdict; its JSON keys are a contract.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CheckResult {
    /// The check's name.
    pub name: String,
    /// The PromQL sent, variables filled in.
    pub query: String,
    /// The value judged (the worst series), if there was one.
    pub value: Option<f64>,
    /// `>= 0.95`, `within 5% of 1`, ...
    pub expected: String,
    /// pass, fail or skipped.
    pub result: Status,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
}

/// Judge the samples `(labels, value)` a query returned: every series must satisfy `expect`.
pub(crate) fn judge(check: &Check, query: String, samples: &[(String, f64)]) -> CheckResult {
    let expected = check.expect.text();
    let mut row =
        CheckResult { name: check.name.clone(), query, value: None, expected, result: Status::Fail, reason: None };
    if samples.is_empty() {
        row.reason = Some("no data: the query returned no series".into());
        return row;
    }
    let failing: Vec<&(String, f64)> = samples.iter().filter(|(_, v)| !check.expect.holds(*v)).collect();
    match failing.first() {
        None => {
            row.value = Some(samples[0].1);
            row.result = Status::Pass;
        }
        Some((labels, v)) => {
            row.value = Some(*v);
            if samples.len() > 1 {
                row.reason = Some(format!("{} of {} series fail, e.g. {labels}", failing.len(), samples.len()));
            }
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_split_at_the_last_comparison() {
        let c = parse_flag("ratio: sum(rate(a[1m])) > 0 / sum(b) >= 0.95").unwrap();
        assert_eq!(c.name, "ratio");
        assert_eq!(c.query, "sum(rate(a[1m])) > 0 / sum(b)");
        assert_eq!(c.expect, Expect::Ge(0.95));
        let c = parse_flag("split: x within 5% of 0.333").unwrap();
        assert_eq!(c.expect, Expect::Within { tolerance: 0.05, of: 0.333 });
        assert_eq!(parse_flag("up: up{job=\"a\"} == 1").unwrap().expect, Expect::Eq(1.0));
        for bad in ["no colon", ": up == 1", "x: up", "x: == 1", "x: up > abc"] {
            assert!(parse_flag(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn expectations_hold_as_written() {
        assert!(Expect::Within { tolerance: 0.05, of: 100.0 }.holds(95.0));
        assert!(!Expect::Within { tolerance: 0.05, of: 100.0 }.holds(94.9));
        assert!(!Expect::Gt(0.0).holds(f64::NAN));
        assert_eq!(Expect::Within { tolerance: 0.05, of: 1.0 }.text(), "within 5% of 1");
    }

    #[test]
    fn every_series_must_hold() {
        let c = parse_flag("x: y > 0").unwrap();
        let r = judge(&c, "y".into(), &[("{a=\"1\"}".into(), 2.0), ("{a=\"2\"}".into(), 0.0)]);
        assert_eq!(r.result, Status::Fail);
        assert_eq!(r.value, Some(0.0));
        assert!(r.reason.unwrap().contains("a=\"2\""));
        assert_eq!(judge(&c, "y".into(), &[]).result, Status::Fail);
    }

    #[test]
    fn files_name_the_bad_entry() {
        let ok = "checks:\n- {name: up, query: up, expect: '== 1', skip_unless: up}\n";
        assert_eq!(parse_file(ok).unwrap()[0].needs.as_ref().unwrap().query, "up");
        let bad = parse_file("checks:\n- {name: up, query: up, expect: 'about 1'}\n").unwrap_err();
        assert!(bad.contains("\"up\""), "{bad}");
        assert!(parse_file("checks:\n- {name: up, query: up, expect: '== 1', bogus: 1}\n").is_err());
    }
}
