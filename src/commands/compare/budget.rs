//! Budgets: how much worse NEW may be than BASE, e.g. `p99<+10%`, `p50<+2ms`,
//! `error_rate<+0.1%`. A budget is exceeded only by a difference that is also significant.

use std::fmt;

/// A figure a budget or the table names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Requests sent per second.
    Rps,
    /// Responses completed per second.
    Throughput,
    /// Errors per request.
    ErrorRate,
    /// A corrected-latency percentile, as a quantile in thousandths (500 = p50, 999 = p99.9).
    Percentile(u16),
    /// The largest latency.
    Max,
}

impl Figure {
    /// The table rows, in order.
    pub const ALL: [Figure; 9] = [
        Figure::Rps,
        Figure::Throughput,
        Figure::ErrorRate,
        Figure::Percentile(500),
        Figure::Percentile(900),
        Figure::Percentile(950),
        Figure::Percentile(990),
        Figure::Percentile(999),
        Figure::Max,
    ];

    /// The key in `--output json` (`p999` as in the run summary).
    pub fn key(self) -> &'static str {
        match self {
            Figure::Rps => "rps",
            Figure::Throughput => "throughput_rps",
            Figure::ErrorRate => "error_rate",
            Figure::Percentile(500) => "p50",
            Figure::Percentile(900) => "p90",
            Figure::Percentile(950) => "p95",
            Figure::Percentile(990) => "p99",
            Figure::Percentile(_) => "p999",
            Figure::Max => "max",
        }
    }

    fn parse(s: &str) -> Option<Figure> {
        Some(match s {
            "error_rate" => Figure::ErrorRate,
            "p99.9" => Figure::Percentile(999),
            _ => *Figure::ALL[3..8].iter().find(|f| f.key() == s)?,
        })
    }
}

/// How a budget's bound is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// Relative to BASE, as a fraction (`+10%` → 0.10).
    Relative(f64),
    /// In milliseconds (`+2ms`).
    Millis(f64),
    /// An error-rate difference as a fraction (`+0.1%` → 0.001): percentage points.
    Points(f64),
}

/// A parsed budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    /// As written.
    pub expr: String,
    /// What it limits.
    pub figure: Figure,
    /// By how much NEW may exceed BASE.
    pub bound: Bound,
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

impl Budget {
    /// Parse `FIGURE<+N%`, `FIGURE<+Nms` (latencies) or `error_rate<+N%` (percentage points).
    pub fn parse(s: &str) -> Result<Budget, String> {
        let expected = "FIGURE<+AMOUNT such as p99<+10%, p50<+2ms, error_rate<+0.1% (figures p50, p90, p95, p99, p99.9, error_rate)";
        let bad = || format!("invalid budget {s:?}: expected {expected}");
        let (name, amount) = s.split_once('<').ok_or_else(bad)?;
        let figure = Figure::parse(name.trim()).ok_or_else(bad)?;
        let amount = amount.trim();
        let number = |t: &str| t.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        let bound = match (figure, amount.strip_suffix('%'), amount.strip_suffix("ms")) {
            (Figure::ErrorRate, Some(p), _) => Bound::Points(number(p).ok_or_else(bad)? / 100.0),
            (Figure::Percentile(_), Some(p), _) => Bound::Relative(number(p).ok_or_else(bad)? / 100.0),
            (Figure::Percentile(_), None, Some(ms)) => Bound::Millis(number(ms).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        Ok(Budget { expr: s.to_string(), figure, bound })
    }

    /// Whether a difference `diff` (ms, or a fraction for the error rate), relative `rel`, stays
    /// within the budget.
    pub fn holds(&self, diff: f64, rel: Option<f64>) -> bool {
        match self.bound {
            Bound::Millis(b) | Bound::Points(b) => diff < b,
            Bound::Relative(b) => rel.map_or(diff <= 0.0, |r| r < b),
        }
    }
}

/// `--min-effect`: the smallest latency difference that counts, `5%,0.5ms` = whichever is larger
/// of 5% of BASE and 0.5 ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinEffect {
    /// Fraction of BASE.
    pub relative: f64,
    /// Milliseconds.
    pub millis: f64,
}

impl Default for MinEffect {
    fn default() -> Self {
        MinEffect { relative: 0.05, millis: 0.5 }
    }
}

impl MinEffect {
    /// Parse a comma-separated list of `N%` and `Nms` (a missing part is 0).
    pub fn parse(s: &str) -> Result<MinEffect, String> {
        let bad = || format!("invalid min effect {s:?}: expected N% and/or Nms, e.g. 5%,0.5ms");
        let mut m = MinEffect { relative: 0.0, millis: 0.0 };
        for part in s.split(',').map(str::trim) {
            let number = |t: &str| t.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
            match (part.strip_suffix('%'), part.strip_suffix("ms")) {
                (Some(p), _) => m.relative = number(p).ok_or_else(bad)? / 100.0,
                (None, Some(ms)) => m.millis = number(ms).ok_or_else(bad)?,
                _ => return Err(bad()),
            }
        }
        Ok(m)
    }

    /// Whether a latency difference of `diff` ms from `base` ms is large enough to count.
    pub fn exceeded(&self, base: f64, diff: f64) -> bool {
        diff.abs() > (self.relative * base.abs()).max(self.millis)
    }
}

impl fmt::Display for MinEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}% or {} ms, whichever is larger", self.relative * 100.0, self.millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_into_their_units() {
        let b = |s| Budget::parse(s).unwrap();
        assert_eq!(b("p99<+10%").bound, Bound::Relative(0.1));
        assert_eq!(b("p50<+2ms").bound, Bound::Millis(2.0));
        assert_eq!(b("p99.9<+5ms").figure, Figure::Percentile(999));
        assert_eq!(b("error_rate<+0.1%").bound, Bound::Points(0.001));
        for bad in ["p99>+1%", "max<+1ms", "error_rate<+1ms", "p42<+1%", "p50<+abc%", "p50<2"] {
            assert!(Budget::parse(bad).is_err(), "{bad}");
        }
        assert!(b("p99<+10%").holds(1.0, Some(0.05)));
        assert!(!b("p99<+10%").holds(2.0, Some(0.2)));
        assert!(!b("p50<+2ms").holds(2.5, None));
    }

    #[test]
    fn min_effect_is_the_larger_of_its_parts() {
        let m = MinEffect::default();
        assert!(!m.exceeded(10.0, 0.5), "0.5 ms at 10 ms is noise");
        assert!(m.exceeded(10.0, -0.6));
        assert!(!m.exceeded(100.0, 4.9));
        assert_eq!(MinEffect::parse("2%").unwrap(), MinEffect { relative: 0.02, millis: 0.0 });
        assert_eq!(MinEffect::parse("1ms, 3%").unwrap(), MinEffect { relative: 0.03, millis: 1.0 });
        assert!(MinEffect::parse("fast").is_err());
    }
}
