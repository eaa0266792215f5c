//! Pass/fail rules such as `p99<300ms`, `error_rate<1%`, `throughput_rps>=95`, checked on the summary.

use std::fmt;

use serde::Serialize;

/// What a threshold looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// A corrected-latency percentile (50, 90, 95, 99, 99.9) or max/mean, in milliseconds.
    Latency(Stat),
    /// Errors divided by requests, as a fraction.
    ErrorRate,
    /// Requests sent per second over the sending window.
    AchievedRps,
    /// Responses completed per second over the sending window.
    ThroughputRps,
}

/// A latency statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// Percentile in tenths of a percent (500 = p50, 999 = p99.9).
    Percentile(u16),
    /// Largest value.
    Max,
    /// Arithmetic mean.
    Mean,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A parsed threshold, e.g. `p99<300ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The expression as the user wrote it.
    pub expr: String,
    /// What is measured.
    pub metric: Metric,
    /// How it is compared.
    pub op: Op,
    /// The bound, in the metric's unit (ms, fraction, req/s).
    pub bound: f64,
}

/// The figures thresholds are checked against.
pub trait Figures {
    /// Corrected latency statistic in milliseconds.
    fn latency_ms(&self, stat: Stat) -> f64;
    /// Errors / requests (0 when nothing was sent).
    fn error_rate(&self) -> f64;
    /// Requests sent per second.
    fn achieved_rps(&self) -> f64;
    /// Responses completed per second.
    fn throughput_rps(&self) -> f64;
}

/// The outcome of one threshold, as it appears in the JSON summary.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The expression.
    pub expr: String,
    /// The measured value, in the metric's unit.
    pub value: f64,
    /// The measured value as a person reads it, with its unit: `4.6 ms`, `0.25%`, `4 of 4 services`.
    pub measured: String,
    /// Whether the rule held.
    pub passed: bool,
}

/// Why a threshold expression was rejected.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct ThresholdError(String);

const METRICS: &str = "p50, p90, p95, p99, p999, max, mean, error_rate, achieved_rps, throughput_rps";

impl Threshold {
    /// Parse `METRIC OP VALUE`.
    pub fn parse(expr: &str) -> Result<Self, ThresholdError> {
        let at = expr.find(['<', '>']).ok_or_else(|| {
            ThresholdError("expected METRIC<VALUE, METRIC<=VALUE, METRIC>VALUE or METRIC>=VALUE".into())
        })?;
        let (name, rest) = expr.split_at(at);
        let (op, value) = match rest.as_bytes() {
            [b'<', b'=', ..] => (Op::Le, &rest[2..]),
            [b'>', b'=', ..] => (Op::Ge, &rest[2..]),
            [b'<', ..] => (Op::Lt, &rest[1..]),
            _ => (Op::Gt, &rest[1..]),
        };
        let name = name.trim();
        let metric = match name {
            "p50" => Metric::Latency(Stat::Percentile(500)),
            "p90" => Metric::Latency(Stat::Percentile(900)),
            "p95" => Metric::Latency(Stat::Percentile(950)),
            "p99" => Metric::Latency(Stat::Percentile(990)),
            "p999" => Metric::Latency(Stat::Percentile(999)),
            "max" => Metric::Latency(Stat::Max),
            "mean" => Metric::Latency(Stat::Mean),
            "error_rate" => Metric::ErrorRate,
            "achieved_rps" => Metric::AchievedRps,
            "throughput_rps" => Metric::ThroughputRps,
            _ => return Err(ThresholdError(format!("unknown metric {name}; expected one of {METRICS}"))),
        };
        let value = value.trim();
        if matches!(metric, Metric::Latency(_)) && value.parse::<f64>().is_ok() {
            let written = expr.trim();
            return Err(ThresholdError(format!("{written} has no unit: write {written}ms (or s, us)")));
        }
        let bound = match metric {
            Metric::Latency(_) => parse_millis(value),
            Metric::ErrorRate => parse_fraction(value),
            Metric::AchievedRps | Metric::ThroughputRps => {
                value.parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0)
            }
        }
        .ok_or_else(|| {
            let want = match metric {
                Metric::Latency(_) => "a latency such as 300ms, 1.5s or 800us",
                Metric::ErrorRate => "a percentage such as 1% or a fraction such as 0.01",
                Metric::AchievedRps | Metric::ThroughputRps => "a number of requests per second",
            };
            ThresholdError(format!("bad value {value:?} for {name}: expected {want}"))
        })?;
        Ok(Threshold { expr: expr.trim().to_string(), metric, op, bound })
    }

    /// The measured value of this threshold's metric.
    pub fn measure(&self, figures: &impl Figures) -> f64 {
        match self.metric {
            Metric::Latency(stat) => figures.latency_ms(stat),
            Metric::ErrorRate => figures.error_rate(),
            Metric::AchievedRps => figures.achieved_rps(),
            Metric::ThroughputRps => figures.throughput_rps(),
        }
    }

    /// Check this threshold.
    pub fn check(&self, figures: &impl Figures) -> Verdict {
        let value = self.measure(figures);
        let passed = match self.op {
            Op::Lt => value < self.bound,
            Op::Le => value <= self.bound,
            Op::Gt => value > self.bound,
            Op::Ge => value >= self.bound,
        };
        let measured = match self.metric {
            Metric::Latency(_) => format!("{value:.1} ms"),
            Metric::ErrorRate => format!("{:.2}%", value * 100.0),
            Metric::AchievedRps | Metric::ThroughputRps => format!("{value:.1} req/s"),
        };
        Verdict { expr: self.expr.clone(), value, measured, passed }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

/// `300ms`, `1.5s` or `800us`: a unit is required, since a bare number could mean either.
fn parse_millis(s: &str) -> Option<f64> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix("us").or_else(|| s.strip_suffix("µs")) {
        (n, 0.001)
    } else {
        (s.strip_suffix('s')?, 1000.0)
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * scale)
}

/// `1%` or `0.01`.
pub(crate) fn parse_fraction(s: &str) -> Option<f64> {
    let (num, scale) = match s.strip_suffix('%') {
        Some(n) => (n, 0.01),
        None => (s, 1.0),
    };
    let v: f64 = num.trim().parse().ok()?;
    let v = v * scale;
    (v.is_finite() && (0.0..=1.0).contains(&v)).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Figures for Fixed {
        fn latency_ms(&self, stat: Stat) -> f64 {
            match stat {
                Stat::Percentile(p) => f64::from(p) / 10.0,
                Stat::Max => 1000.0,
                Stat::Mean => 40.0,
            }
        }
        fn error_rate(&self) -> f64 {
            0.02
        }
        fn achieved_rps(&self) -> f64 {
            99.5
        }
        fn throughput_rps(&self) -> f64 {
            80.0
        }
    }

    #[test]
    fn parses_the_documented_forms() {
        let t = Threshold::parse("p99<300ms").unwrap();
        assert_eq!((t.metric, t.op, t.bound), (Metric::Latency(Stat::Percentile(990)), Op::Lt, 300.0));
        assert_eq!(Threshold::parse("p95 <= 1.5s").unwrap().bound, 1500.0);
        assert_eq!(Threshold::parse("max<800us").unwrap().bound, 0.8);
        assert_eq!(Threshold::parse("error_rate<1%").unwrap().bound, 0.01);
        assert_eq!(Threshold::parse("error_rate<0.05").unwrap().bound, 0.05);
        let t = Threshold::parse("achieved_rps>=95").unwrap();
        assert_eq!((t.metric, t.op, t.bound), (Metric::AchievedRps, Op::Ge, 95.0));
    }

    #[test]
    fn rejects_bad_expressions_with_a_reason() {
        for (bad, needle) in [
            ("p99", "expected METRIC<VALUE"),
            ("p42<3ms", "unknown metric p42; expected one of p50"),
            ("p99<500", "p99<500 has no unit: write p99<500ms"),
            ("p99<fast", "bad value \"fast\" for p99"),
            ("error_rate<150%", "percentage"),
            ("achieved_rps>-1", "requests per second"),
            ("p99<NaNms", "latency"),
        ] {
            let err = Threshold::parse(bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn checks_against_figures() {
        let pass = |e: &str| Threshold::parse(e).unwrap().check(&Fixed).passed;
        assert!(pass("p99<300ms"));
        assert!(!pass("p99<99ms"));
        assert!(pass("p99<=99ms"));
        assert!(!pass("error_rate<1%"));
        assert!(pass("achieved_rps>=95"));
        assert!(!pass("throughput_rps>=95") && pass("throughput_rps>=79.5"));
        assert!(!pass("max<1s"));
        assert_eq!(Threshold::parse("mean<1s").unwrap().check(&Fixed).value, 40.0);
        assert_eq!(Threshold::parse("p99<1s").unwrap().check(&Fixed).measured, "99.0 ms");
        assert_eq!(Threshold::parse("error_rate<1%").unwrap().check(&Fixed).measured, "2.00%");
    }
}
