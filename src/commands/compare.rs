//! `trafficgen compare BASE NEW`: two runs side by side, each difference judged real or noise,
//! and budgets on how much worse NEW may be.
//!
//! A latency difference is *significant* when a bootstrap on the two histograms says it is not
//! chance (see `bootstrap`) *and* it is larger than `--min-effect`. The error rate uses a
//! two-proportion z-test (99%) and a minimum of 0.1 percentage points. The rates (sent and
//! completed) and the maximum are shown but never significant: the rate sent is a setting, and a maximum has no usable interval;
//! nor is a percentile with fewer than 10 requests above it in either run (p99.9 needs 10,000).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::json;

use crate::input::config::Format;

mod bootstrap;
mod budget;
mod saved;

pub(crate) use budget::{Budget, Figure, MinEffect};
pub(crate) use saved::{summary, LoadError, Saved};

/// Smallest error-rate difference that counts: 0.1 percentage points.
const MIN_ERROR_RATE_EFFECT: f64 = 0.001;
/// |z| beyond which an error-rate difference is significant (two-sided 99%).
const Z_99: f64 = 2.576;

/// Flags of `trafficgen compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// The baseline: a JSON summary (--summary-file, --output json) or `kubectl logs` output of a run
    #[arg(value_name = "BASE")]
    pub base: PathBuf,
    /// The run judged against it, in the same forms
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Smallest latency difference that counts: N% of BASE and/or N ms, whichever is larger
    #[arg(long, default_value = "5%,0.5ms", value_parser = MinEffect::parse)]
    pub min_effect: MinEffect,
    /// How much worse NEW may be, e.g. `p99<+10%`, `p50<+2ms`, `error_rate<+0.1%`; exit 3 when a
    /// significant difference exceeds one (repeatable)
    #[arg(long, value_parser = Budget::parse)]
    pub budget: Vec<Budget>,
    /// Output format: text or json
    #[arg(long, default_value = "text", value_parser = parse_format)]
    pub output: Format,
}

pub(crate) fn parse_format(s: &str) -> Result<Format, String> {
    match s {
        "text" => Ok(Format::Text),
        "json" => Ok(Format::Json),
        _ => Err(format!("invalid output {s:?}: expected text or json")),
    }
}

/// One figure of both runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Row {
    /// Which figure.
    pub figure: Figure,
    /// BASE's value (ms, req/s, or a fraction for the error rate).
    pub base: f64,
    /// NEW's value.
    pub new: f64,
    /// Whether the difference is real and large enough to count.
    pub significant: bool,
    /// Whether it could be tested at all (not the rate or the maximum, not a percentile with
    /// fewer than 10 requests above it, not without histograms).
    pub tested: bool,
}

impl Row {
    /// NEW − BASE.
    pub(crate) fn diff(&self) -> f64 {
        self.new - self.base
    }

    /// The difference relative to BASE; `None` when BASE is 0.
    pub(crate) fn rel(&self) -> Option<f64> {
        (self.base != 0.0).then(|| self.diff() / self.base)
    }
}

/// The comparison of two runs.
#[derive(Debug, Clone)]
pub(crate) struct Comparison {
    /// BASE's label and NEW's.
    pub labels: (String, String),
    /// The figures, in table order.
    pub rows: Vec<Row>,
    /// Each budget and whether it held.
    pub budgets: Vec<(Budget, bool)>,
    /// The minimum effect used.
    pub min_effect: MinEffect,
}

impl Comparison {
    /// Compare `new` with `base`.
    pub(crate) fn of(base: &Saved, new: &Saved, min_effect: MinEffect, budgets: &[Budget]) -> Comparison {
        let qs: Vec<f64> = (3..8).map(|i| quantile(Figure::ALL[i])).collect();
        let real = match (&base.latency, &new.latency) {
            (Some(b), Some(n)) => bootstrap::significant(b, n, &qs),
            _ => vec![false; qs.len()],
        };
        let rows = Figure::ALL
            .iter()
            .map(|&figure| {
                let (b, n) = (value(base, figure), value(new, figure));
                let tested = match figure {
                    Figure::Rps | Figure::Throughput | Figure::Max => false,
                    Figure::ErrorRate => true,
                    Figure::Percentile(_) => {
                        let q = quantile(figure);
                        let ok = |s: &Saved| s.latency.as_ref().is_some_and(|h| bootstrap::testable(h.len(), q));
                        ok(base) && ok(new)
                    }
                };
                let significant = match figure {
                    Figure::Rps | Figure::Throughput | Figure::Max => false,
                    Figure::ErrorRate => error_rate_differs(base, new),
                    Figure::Percentile(_) => {
                        let i = qs.iter().position(|q| *q == quantile(figure)).expect("a tested quantile");
                        real[i] && min_effect.exceeded(b, n - b)
                    }
                };
                Row { figure, base: b, new: n, significant, tested }
            })
            .collect::<Vec<_>>();
        let budgets = budgets
            .iter()
            .map(|budget| {
                let row = rows.iter().find(|r| r.figure == budget.figure).expect("every budget figure has a row");
                (budget.clone(), !row.significant || budget.holds(row.diff(), row.rel()))
            })
            .collect();
        Comparison { labels: (base.label.clone(), new.label.clone()), rows, budgets, min_effect }
    }

    /// Whether every budget held.
    pub(crate) fn passed(&self) -> bool {
        self.budgets.iter().all(|(_, ok)| *ok)
    }

    /// The comparison as text or JSON.
    pub(crate) fn render(&self, format: Format) -> String {
        match format {
            Format::Json => self.json().to_string() + "\n",
            Format::Text => self.text(),
        }
    }

    /// `{"passed", "figures": {"p50": {"base", "new", "diff", "rel", "significant"}, …}, "budgets": [{"expr", "passed"}]}`.
    pub(crate) fn json(&self) -> serde_json::Value {
        let figures: serde_json::Map<String, serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                let (base, new, diff) = (round(r.base), round(r.new), round(r.diff()));
                let rel = r.rel().map(|v| (v * 1e6).round() / 1e6);
                (
                    r.figure.key().to_string(),
                    json!({"base": base, "new": new, "diff": diff, "rel": rel, "significant": r.significant}),
                )
            })
            .collect();
        let budgets: Vec<_> = self.budgets.iter().map(|(b, ok)| json!({"expr": b.expr, "passed": ok})).collect();
        json!({
            "passed": self.passed(), "base": self.labels.0, "new": self.labels.1, "figures": figures,
            "budgets": budgets, "min_effect": self.min_effect.to_string(),
            "not_tested": self.rows.iter().filter(|r| !r.tested).map(|r| r.figure.key()).collect::<Vec<_>>(),
            "test": format!("bootstrap, {} resamples, {}% interval", bootstrap::RESAMPLES, bootstrap::LEVEL * 100.0),
        })
    }

    fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "trafficgen compare: {} (base) vs {} (new)", self.labels.0, self.labels.1);
        let _ = writeln!(s, "  {:<16}{:>11}{:>11}{:>11}{:>10}  significant", "", "base", "new", "diff", "rel");
        for line in self.table() {
            let _ = writeln!(s, "  {line}");
        }
        let _ = writeln!(
            s,
            "  significant = bootstrap of the histograms ({} resamples, {}%) and larger than {}",
            bootstrap::RESAMPLES,
            bootstrap::LEVEL * 100.0,
            self.min_effect
        );
        for (b, ok) in &self.budgets {
            let _ = writeln!(s, "  budget        {} {}", if *ok { "PASS" } else { "FAIL" }, b.expr);
        }
        let verdict = match (self.budgets.is_empty(), self.passed()) {
            (true, _) => "no budget set (add --budget, e.g. 'p99<+10%', to judge)",
            (false, true) => "PASSED",
            (false, false) => "FAILED: a budget was exceeded",
        };
        let _ = writeln!(s, "  verdict       {verdict}");
        s
    }

    /// The figure rows as aligned text.
    pub(crate) fn table(&self) -> Vec<String> {
        self.cells()
            .into_iter()
            .map(|[name, base, new, diff, rel, mark]| {
                format!("{name:<16}{base:>11}{new:>11}{diff:>11}{rel:>10}  {mark}")
            })
            .collect()
    }

    /// The figure rows as cells: name, base, new, diff, rel, significant (also the HTML table).
    pub(crate) fn cells(&self) -> Vec<[String; 6]> {
        self.rows
            .iter()
            .map(|r| {
                let (name, base, new, diff) = match r.figure {
                    Figure::Rps => ("sent req/s".to_string(), num(r.base), num(r.new), signed(r.diff(), "")),
                    Figure::Throughput => {
                        ("completed req/s".to_string(), num(r.base), num(r.new), signed(r.diff(), ""))
                    }
                    Figure::ErrorRate => {
                        ("error rate".to_string(), pct(r.base), pct(r.new), signed(r.diff() * 100.0, "pp"))
                    }
                    f => (format!("{} ms", label(f)), num(r.base), num(r.new), signed(r.diff(), "")),
                };
                let rel = r.rel().map_or("-".to_string(), |v| format!("{:+.1}%", v * 100.0));
                let mark = match (r.tested, r.significant) {
                    (false, _) => "(not tested)",
                    (true, true) => "yes",
                    (true, false) => "no",
                };
                [name, base, new, diff, rel, mark.to_string()]
            })
            .collect()
    }
}

/// The table label of a figure: `p99.9` rather than the JSON key `p999`.
fn label(f: Figure) -> &'static str {
    match f {
        Figure::Percentile(999) => "p99.9",
        f => f.key(),
    }
}

fn quantile(f: Figure) -> f64 {
    match f {
        Figure::Percentile(t) => f64::from(t) / 1000.0,
        _ => 1.0,
    }
}

/// A figure of one run: percentiles from the histogram when it has one.
fn value(s: &Saved, f: Figure) -> f64 {
    let p = &s.latency_ms;
    match (f, &s.latency) {
        (Figure::Rps, _) => s.achieved_rps,
        (Figure::Throughput, _) => s.throughput(),
        (Figure::ErrorRate, _) => s.error_rate(),
        (Figure::Percentile(_), Some(h)) if !h.is_empty() => h.value_at_quantile(quantile(f)) as f64 / 1000.0,
        (Figure::Percentile(500), _) => p.p50,
        (Figure::Percentile(900), _) => p.p90,
        (Figure::Percentile(950), _) => p.p95,
        (Figure::Percentile(990), _) => p.p99,
        (Figure::Percentile(_), _) => p.p999,
        (Figure::Max, _) => p.max,
    }
}

/// Two-proportion z-test on the error counts, plus the minimum effect.
fn error_rate_differs(base: &Saved, new: &Saved) -> bool {
    let (n1, n2) = (base.requests as f64, new.requests as f64);
    if n1 == 0.0 || n2 == 0.0 {
        return false;
    }
    let pooled = (base.errors + new.errors) as f64 / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let diff = new.error_rate() - base.error_rate();
    se > 0.0 && (diff / se).abs() > Z_99 && diff.abs() > MIN_ERROR_RATE_EFFECT
}

fn round(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn num(v: f64) -> String {
    format!("{v:.2}")
}

fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

fn signed(v: f64, unit: &str) -> String {
    format!("{v:+.2}{unit}")
}

/// Why `compare` could not run (exit 1).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CompareError {
    /// A summary could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Load both runs, print the comparison, and return it.
pub(crate) fn run(args: &CompareArgs) -> Result<Comparison, CompareError> {
    let (base, new) = (Saved::load(&args.base)?, Saved::load(&args.new)?);
    let comparison = Comparison::of(&base, &new, args.min_effect, &args.budget);
    print!("{}", comparison.render(args.output));
    Ok(comparison)
}

#[cfg(test)]
mod tests;
