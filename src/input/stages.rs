//! Load shapes: `--stages`, a piecewise-linear rate, and the schedule math that turns any rate
//! into absolute due times. Request n is due at the time t where the integral of the rate from
//! the start reaches n; each segment solves that in closed form, so a ramp has no drift (nothing
//! accumulates) and no bursts (no catching up).

use std::fmt;
use std::time::Duration;

/// One stage: the rate goes linearly from `from` to `to` req/s over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stage {
    /// How long the stage lasts.
    pub duration: Duration,
    /// Rate at the stage's start, req/s.
    pub from: f64,
    /// Rate at the stage's end, req/s.
    pub to: f64,
}

impl Stage {
    /// Mean rate over the stage.
    pub(crate) fn mean(&self) -> f64 {
        (self.from + self.to) / 2.0
    }
}

impl fmt::Display for Stage {
    /// `0->150` for a ramp, `150` for a flat stage.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |r: f64| (r * 1000.0).round() / 1000.0;
        if short(self.from) == short(self.to) {
            write!(f, "{}", short(self.from))
        } else {
            write!(f, "{}->{}", short(self.from), short(self.to))
        }
    }
}

/// Highest rate a stage may name, as for `--rate`.
const MAX_RATE: f64 = 1e7;

/// Parse `30s:0->150, 10m:150, 30s:150->0`: `DURATION:RATE` or `DURATION:FROM->TO`, comma-separated.
/// The error says what is wrong with which stage.
pub(crate) fn parse(text: &str) -> Result<Vec<Stage>, String> {
    let rate =
        |s: &str| {
            s.trim().parse::<f64>().ok().filter(|r| r.is_finite() && (0.0..=MAX_RATE).contains(r)).ok_or_else(|| {
                format!("rate {:?} is not a number of requests per second from 0 to {MAX_RATE}", s.trim())
            })
        };
    let stages = text
        .split(',')
        .map(|part| {
            let part = part.trim();
            let (duration, rates) = part
                .split_once(':')
                .ok_or_else(|| format!("stage {part:?} is not DURATION:RATE or DURATION:FROM->TO"))?;
            let duration = humantime::parse_duration(duration.trim())
                .ok()
                .filter(|d| !d.is_zero() && *d <= Duration::from_secs(366 * 24 * 3600))
                .ok_or_else(|| format!("stage {part:?}: {:?} is not a duration such as 30s or 10m", duration.trim()))?;
            let (from, to) = match rates.split_once("->") {
                Some((from, to)) => (rate(from)?, rate(to)?),
                None => (rate(rates)?, rate(rates)?),
            };
            Ok(Stage { duration, from, to })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if stages.iter().all(|s| s.mean() * s.duration.as_secs_f64() < 1.0) {
        return Err("the stages send no request: give at least one a rate above 0".into());
    }
    Ok(stages)
}

/// One linear piece of a schedule, with what came before it precomputed.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Seconds from the run's start to the segment's start.
    at: f64,
    /// Requests due before the segment (the integral up to `at`).
    before: f64,
    /// Length in seconds; infinite for a flat rate without end.
    len: f64,
    from: f64,
    to: f64,
}

impl Segment {
    /// Requests due within the segment.
    fn count(&self) -> f64 {
        if self.len.is_infinite() {
            f64::INFINITY
        } else {
            (self.from + self.to) / 2.0 * self.len
        }
    }

    /// Seconds into the segment at which its `m`-th request (fractional) is due: the root of
    /// from·t + (to - from)·t²/(2·len) = m, in the form that is stable for ramps up and down.
    fn offset(&self, m: f64) -> f64 {
        if m <= 0.0 {
            return 0.0;
        }
        let slope = if self.len.is_infinite() { 0.0 } else { (self.to - self.from) / self.len };
        let root = (self.from * self.from + 2.0 * slope * m).max(0.0).sqrt();
        2.0 * m / (self.from + root)
    }

    /// Requests due in the first `t` seconds of the segment.
    fn integral(&self, t: f64) -> f64 {
        let slope = if self.len.is_infinite() { 0.0 } else { (self.to - self.from) / self.len };
        self.from * t + slope * t * t / 2.0
    }

    fn rate(&self, t: f64) -> f64 {
        if self.len.is_infinite() {
            self.from
        } else {
            self.from + (self.to - self.from) * (t / self.len)
        }
    }
}

/// A rate over time, as the pacer reads it: due times of request indices, and the rate now.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    segments: Vec<Segment>,
}

impl Schedule {
    /// A constant rate without end.
    pub(crate) fn flat(rate: f64) -> Self {
        Schedule { segments: vec![Segment { at: 0.0, before: 0.0, len: f64::INFINITY, from: rate, to: rate }] }
    }

    /// The stages one after another.
    pub(crate) fn staged(stages: &[Stage]) -> Self {
        let (mut at, mut before) = (0.0, 0.0);
        let segments = stages
            .iter()
            .map(|s| {
                let seg = Segment { at, before, len: s.duration.as_secs_f64(), from: s.from, to: s.to };
                at += seg.len;
                before += seg.count();
                seg
            })
            .collect();
        Schedule { segments }
    }

    /// Index of the segment that holds request `n`, searching forward from `hint`; `None` past the end.
    pub(crate) fn segment_of(&self, n: u64, hint: usize) -> Option<usize> {
        let n = n as f64;
        (hint..self.segments.len()).find(|&i| {
            let s = &self.segments[i];
            n >= s.before && n < s.before + s.count()
        })
    }

    /// Seconds after the start at which request `n` of segment `segment` is due.
    pub(crate) fn due(&self, n: u64, segment: usize) -> f64 {
        let s = &self.segments[segment];
        if s.len.is_infinite() {
            // Plain division: exact for rates like 4 req/s, however far into the run.
            return n as f64 / s.from;
        }
        (s.at + s.offset(n as f64 - s.before)).min(s.at + s.len)
    }

    /// Which segment is running `secs` after the start (the last one after the end).
    pub(crate) fn stage_at(&self, secs: f64) -> usize {
        self.segments.iter().rposition(|s| s.at <= secs).unwrap_or(0)
    }

    /// The target rate `secs` after the start; after the end, the last stage's final rate.
    pub(crate) fn rate_at(&self, secs: f64) -> f64 {
        let s = &self.segments[self.stage_at(secs)];
        s.rate((secs - s.at).min(s.len))
    }

    /// Requests due in the first `secs` seconds.
    pub(crate) fn integral(&self, secs: f64) -> f64 {
        let s = &self.segments[self.stage_at(secs)];
        s.before + s.integral((secs - s.at).clamp(0.0, s.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due_times(s: &Schedule) -> Vec<f64> {
        let mut hint = 0;
        (0..)
            .map_while(|n| {
                hint = s.segment_of(n, hint)?;
                Some(s.due(n, hint))
            })
            .collect()
    }

    #[test]
    fn parses_ramps_and_flats() {
        let stages = parse(" 30s:0->150, 10m:150 ,30s:150->0").unwrap();
        assert_eq!(stages.len(), 3);
        assert_eq!(stages[0], Stage { duration: Duration::from_secs(30), from: 0.0, to: 150.0 });
        assert_eq!(stages[1].to_string(), "150");
        assert_eq!(stages[2].to_string(), "150->0");
        for (bad, needle) in [
            ("30s", "not DURATION:RATE"),
            ("soon:10", "not a duration"),
            ("0s:10", "not a duration"),
            ("10s:-1", "rate \"-1\""),
            ("10s:1->x", "rate \"x\""),
            ("10s:0, 5s:0", "send no request"),
            ("", "not DURATION:RATE"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn a_ramp_to_1000_over_10s_sends_5000_with_per_second_counts_on_the_ramp() {
        let s = Schedule::staged(&parse("10s:0->1000").unwrap());
        let due = due_times(&s);
        assert!((4999..=5001).contains(&due.len()), "{}", due.len());
        assert!(due.windows(2).all(|w| w[0] <= w[1]), "due times never go back");
        for second in 0..10 {
            let count = due.iter().filter(|t| (second as f64..second as f64 + 1.0).contains(*t)).count() as f64;
            // Rate 100·t: the integral over [k, k+1) is 50·(2k+1).
            let want = 50.0 * (2.0 * second as f64 + 1.0);
            assert!((count - want).abs() <= want * 0.02, "second {second}: {count} vs {want}");
        }
    }

    #[test]
    fn stages_join_without_gaps_or_bursts() {
        let s = Schedule::staged(&parse("2s:0->100, 3s:100, 2s:100->0, 1s:0, 1s:50").unwrap());
        let due = due_times(&s);
        // 100 + 300 + 100 + 0 + 50.
        assert_eq!(due.len(), 550);
        // In the flat stage requests are exactly 10 ms apart, continuing the ramp's spacing.
        let flat: Vec<f64> = due.iter().copied().filter(|t| (2.0..5.0).contains(t)).collect();
        assert_eq!(flat.len(), 300);
        assert!(flat.windows(2).all(|w| ((w[1] - w[0]) - 0.01).abs() < 1e-9));
        // Nothing is due during the pause; the last stage starts at 8 s.
        assert!(!due.iter().any(|t| (7.0..8.0).contains(t)));
        assert_eq!(due[500], 8.0);
        assert_eq!(s.rate_at(1.0), 50.0);
        assert_eq!(s.rate_at(6.5), 25.0);
        assert_eq!(s.rate_at(100.0), 50.0);
        assert_eq!(s.integral(5.0), 400.0);
    }

    #[test]
    fn flat_is_plain_division() {
        let s = Schedule::flat(4.0);
        assert_eq!(s.segment_of(1_000_000, 0), Some(0));
        assert_eq!(s.due(999, 0), 249.75);
        assert_eq!(s.integral(10.0), 40.0);
    }
}
