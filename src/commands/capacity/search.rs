//! The search itself, free of I/O: which rate to try next, given which rates held. Rates rise
//! from `--start` by `--step` until one breaks the SLO (or `--max` holds), then the bracket
//! between the highest rate that held and the lowest that broke is halved until it is within
//! [`PRECISION`].

use serde::Serialize;

/// The search stops when the lowest breaking rate is within this fraction above the highest
/// rate that held.
pub(crate) const PRECISION: f64 = 0.05;

/// Bound on the number of steps, whatever the flags: 2x from 0.001 to 10M req/s is 34 steps,
/// and bisecting to 5% takes 5 more.
const MAX_STEPS: usize = 60;

/// How the rate rises while no step has broken the SLO.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Growth {
    /// Multiply by this factor (> 1): `2x`.
    Times(f64),
    /// Add this many req/s (> 0): `+100`.
    Plus(f64),
}

impl Growth {
    /// `2x`, `1.5x` or `+100`.
    pub(crate) fn parse(s: &str) -> Option<Growth> {
        let number = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0);
        match (s.strip_suffix(['x', 'X']), s.strip_prefix('+')) {
            (Some(f), _) => number(f).filter(|f| *f > 1.0 && *f <= 100.0).map(Growth::Times),
            (_, Some(n)) => number(n).map(Growth::Plus),
            _ => None,
        }
    }

    fn next(self, rate: f64) -> f64 {
        match self {
            Growth::Times(f) => rate * f,
            Growth::Plus(n) => rate + n,
        }
    }
}

/// How a search ended; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Ending {
    /// The bracket closed within 5%: exit 0.
    Found,
    /// Even `--start` broke the SLO: exit 3.
    StartBroke,
    /// `--max` held: exit 1.
    MaxHeld,
    /// The generator dropped sends at `--max-in-flight` before the SLO broke: exit 1.
    GeneratorLimit,
    /// A signal ended the search: exit 1.
    Interrupted,
}

/// The state of a search.
#[derive(Debug, Clone)]
pub(crate) struct Search {
    growth: Growth,
    max: f64,
    /// Highest rate that held.
    held: Option<f64>,
    /// Lowest rate that broke.
    broke: Option<f64>,
    next: f64,
    steps: usize,
}

impl Search {
    pub(crate) fn new(start: f64, max: f64, growth: Growth) -> Search {
        Search { growth, max, held: None, broke: None, next: start.min(max), steps: 0 }
    }

    /// The rate of the next step, or how the search ended (found, `--start` broke, `--max` held).
    pub(crate) fn next(&self) -> Result<f64, Ending> {
        match (self.held, self.broke) {
            (None, Some(_)) => Err(Ending::StartBroke),
            (Some(lo), Some(hi)) if hi <= lo * (1.0 + PRECISION) || self.steps >= MAX_STEPS => Err(Ending::Found),
            (Some(lo), None) if lo >= self.max || self.steps >= MAX_STEPS => Err(Ending::MaxHeld),
            _ => Ok(self.next),
        }
    }

    /// Record the outcome of a step at `rate`.
    pub(crate) fn record(&mut self, rate: f64, held: bool) {
        self.steps += 1;
        if held {
            self.held = Some(self.held.map_or(rate, |h| h.max(rate)));
        } else {
            self.broke = Some(self.broke.map_or(rate, |b| b.min(rate)));
        }
        self.next = match (self.held, self.broke) {
            (Some(lo), Some(hi)) => (lo + hi) / 2.0,
            (Some(lo), None) => self.growth.next(lo).min(self.max),
            _ => rate,
        };
    }

    /// The highest rate that held, and the lowest that broke.
    pub(crate) fn bracket(&self) -> (Option<f64>, Option<f64>) {
        (self.held, self.broke)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run a search against a target that holds up to `capacity`; returns the rates tried and the end.
    fn search(start: f64, max: f64, growth: Growth, capacity: f64) -> (Vec<f64>, Ending, Search) {
        let mut s = Search::new(start, max, growth);
        let mut tried = Vec::new();
        loop {
            match s.next() {
                Ok(rate) => {
                    tried.push(rate);
                    s.record(rate, rate <= capacity);
                }
                Err(end) => return (tried, end, s),
            }
        }
    }

    #[test]
    fn rises_geometrically_then_bisects_to_five_percent() {
        let (tried, end, s) = search(100.0, 10_000.0, Growth::Times(2.0), 777.0);
        assert_eq!(end, Ending::Found);
        assert_eq!(&tried[..5], [100.0, 200.0, 400.0, 800.0, 600.0]);
        let (Some(lo), Some(hi)) = s.bracket() else { panic!("{s:?}") };
        assert!(lo <= 777.0 && hi > 777.0 && hi <= lo * 1.05, "{lo}..{hi}");
        assert!(tried.len() <= 10, "{tried:?}");
    }

    #[test]
    fn ends_when_start_breaks_or_max_holds() {
        let (tried, end, _) = search(100.0, 10_000.0, Growth::Times(2.0), 50.0);
        assert_eq!((tried, end), (vec![100.0], Ending::StartBroke));
        let (tried, end, _) = search(100.0, 500.0, Growth::Plus(150.0), 1e9);
        assert_eq!((tried, end), (vec![100.0, 250.0, 400.0, 500.0], Ending::MaxHeld));
    }

    #[test]
    fn growth_parses_factors_and_increments() {
        assert_eq!(Growth::parse("2x"), Some(Growth::Times(2.0)));
        assert_eq!(Growth::parse("1.5x"), Some(Growth::Times(1.5)));
        assert_eq!(Growth::parse("+100"), Some(Growth::Plus(100.0)));
        for bad in ["1x", "0.5x", "x", "+0", "+-1", "100", ""] {
            assert_eq!(Growth::parse(bad), None, "{bad}");
        }
    }
}
