//! The verdict of a verification: a table (check, value, expected, result) or one JSON object
//! `{"passed", "checks": [{"name", "query", "value", "expected", "result", "reason"}]}`.

use std::fmt::Write as _;

use serde::Serialize;

use super::check::{CheckResult, Status};
use super::scrape::Scrape;

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Verification {
    /// No check failed and at least one passed: a verification that verified nothing does not pass.
    pub passed: bool,
    /// Every check, in order.
    pub checks: Vec<CheckResult>,
    /// The kind of cluster the preset's checks were chosen for, e.g. `linkerd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mesh: Option<String>,
    /// The window judged, Unix seconds: `[start, end]`.
    pub window: [f64; 2],
    /// The scrape interval used (subquery step; rate ranges are Grafana's `$__rate_interval` of it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_interval_s: Option<f64>,
    /// Where that interval came from: `--scrape-interval`, the generator's target in Prometheus, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrape_interval_from: Option<String>,
}

impl Verification {
    /// Judge the rows.
    pub(crate) fn new(
        checks: Vec<CheckResult>,
        mesh: Option<String>,
        window: [f64; 2],
        scrape: Option<&Scrape>,
    ) -> Verification {
        let count = |s: Status| checks.iter().filter(|c| c.result == s).count();
        let passed = count(Status::Fail) == 0 && count(Status::Pass) > 0;
        let scrape_interval_s = scrape.map(|s| s.interval.as_secs_f64());
        let scrape_interval_from = scrape.map(|s| s.from.to_string());
        Verification { passed, checks, mesh, window, scrape_interval_s, scrape_interval_from }
    }

    /// A verdict of one failed row, when no check could run (e.g. Prometheus unreachable).
    pub(crate) fn failed(name: &str, reason: String) -> Verification {
        let row = CheckResult {
            name: name.into(),
            query: String::new(),
            value: None,
            expected: "an answer".into(),
            result: Status::Fail,
            reason: Some(reason),
        };
        Verification::new(vec![row], None, [0.0, 0.0], None)
    }

    /// How many checks ended in `status`.
    pub(crate) fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.result == status).count()
    }

    /// The one-line verdict, e.g. `PASSED: 12 pass, 0 fail, 3 skipped`.
    pub(crate) fn line(&self) -> String {
        let failed: Vec<&str> =
            self.checks.iter().filter(|c| c.result == Status::Fail).map(|c| c.name.as_str()).collect();
        let head = if self.passed {
            "PASSED".to_string()
        } else if failed.is_empty() {
            "FAILED (no check passed)".to_string()
        } else {
            format!("FAILED ({})", failed.join(", "))
        };
        format!(
            "{head}: {} pass, {} fail, {} skipped",
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skipped)
        )
    }

    /// The table, indented by `indent`, then the verdict line.
    pub(crate) fn table(&self, indent: &str) -> String {
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(5).max(5);
        let mut s = String::new();
        let _ = writeln!(s, "{indent}{:<width$}  {:>12}  {:<16}  RESULT", "CHECK", "VALUE", "EXPECTED");
        for c in &self.checks {
            let value = c.value.map_or("-".to_string(), number);
            let result = match c.result {
                Status::Pass => "pass",
                Status::Fail => "FAIL",
                Status::Skipped => "skipped",
            };
            let reason = c.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            let _ = writeln!(s, "{indent}{:<width$}  {value:>12}  {:<16}  {result}{reason}", c.name, c.expected);
        }
        let mesh = self.mesh.as_deref().map(|m| format!(", mesh {m}")).unwrap_or_default();
        let secs = self.window[1] - self.window[0];
        let scrape = match (self.scrape_interval_s, &self.scrape_interval_from) {
            (Some(i), Some(from)) => format!(", scrape interval {i} s ({from})"),
            _ => String::new(),
        };
        let _ = writeln!(s, "{indent}window {secs:.0} s ending at {:.0} (Unix){scrape}{mesh}", self.window[1]);
        let _ = writeln!(s, "{indent}verify: {}", self.line());
        s
    }

    /// One JSON object and a newline.
    pub(crate) fn json(&self) -> String {
        serde_json::to_string(self).expect("the verdict serializes") + "\n"
    }
}

/// Short enough for the table, exact enough to judge by.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == v.trunc() && v.abs() < 1e12 {
        format!("{v:.0}")
    } else if v.abs() >= 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, result: Status) -> CheckResult {
        CheckResult {
            name: name.into(),
            query: "up".into(),
            value: Some(1.0),
            expected: ">= 1".into(),
            result,
            reason: (result == Status::Skipped).then(|| "no Linkerd metrics".into()),
        }
    }

    #[test]
    fn skipped_is_not_pass() {
        let v = Verification::new(vec![row("a", Status::Skipped)], None, [0.0, 60.0], None);
        assert!(!v.passed);
        let v = Verification::new(vec![row("a", Status::Pass), row("b", Status::Skipped)], None, [0.0, 60.0], None);
        assert!(v.passed);
        let table = v.table("");
        assert!(table.contains("skipped (no Linkerd metrics)"), "{table}");
        assert!(table.contains("verify: PASSED: 1 pass, 0 fail, 1 skipped"), "{table}");
    }

    #[test]
    fn json_has_the_contract_shape() {
        let v = Verification::new(vec![row("a", Status::Fail)], Some("istio".into()), [0.0, 60.0], None);
        let j: serde_json::Value = serde_json::from_str(&v.json()).unwrap();
        assert_eq!(j["passed"], false);
        for key in ["name", "query", "value", "expected", "result", "reason"] {
            assert!(j["checks"][0].get(key).is_some(), "{key}");
        }
        assert_eq!(j["checks"][0]["result"], "fail");
    }
}
