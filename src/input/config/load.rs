//! The load section of a plan: how fast (`--rate`, or `--stages` which then set the rate and the
//! duration), how much (`--duration`, `--requests`), what is left out (`--warmup`), and this
//! shard's share of it all.

use std::num::NonZeroUsize;
use std::time::Duration;

use super::validator::Validator;
use super::{ConfigError, Load, Shard, MAX_CONCURRENCY, MAX_IN_FLIGHT, MAX_REQUESTS};
use crate::input::stages::{self, Stage};
use crate::settings::Source;
use setting::{duration, positive_duration};

/// The validated load settings, already this shard's share.
#[derive(Debug, Clone)]
pub(crate) struct LoadSection {
    mode: Load,
    duration: Option<Duration>,
    requests: Option<u64>,
    stages: Option<Vec<Stage>>,
    warmup: Duration,
    max_in_flight: NonZeroUsize,
}

impl LoadSection {
    /// Open loop at a rate, or closed loop with a concurrency.
    pub(crate) fn mode(&self) -> Load {
        self.mode
    }

    /// The open-loop rate (the stages' mean with `--stages`); `None` for closed loop.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.mode.rate()
    }

    /// The sending window (the stages' total with `--stages`); `None` = until a signal or `requests`.
    pub(crate) fn duration(&self) -> Option<Duration> {
        self.duration
    }

    /// Stop after this many requests.
    pub(crate) fn requests(&self) -> Option<u64> {
        self.requests
    }

    /// `--stages`: the rate over time.
    pub(crate) fn stages(&self) -> Option<&[Stage]> {
        self.stages.as_deref()
    }

    /// `--warmup`: the first part of the run, sent but left out of the summary; zero = none.
    pub(crate) fn warmup(&self) -> Duration {
        self.warmup
    }

    /// Most requests outstanding at once.
    pub(crate) fn max_in_flight(&self) -> NonZeroUsize {
        self.max_in_flight
    }

    /// This load at an open-loop `rate` for `duration` (a `capacity` step, whose own settings
    /// refuse `--stages` and `--requests`).
    pub(super) fn step(&self, rate: f64, duration: Duration) -> LoadSection {
        LoadSection { mode: Load::Open { rate }, duration: Some(duration), ..self.clone() }
    }

    /// Validate the load settings and narrow them to `shard`'s share: rate / count, and
    /// `--requests` split with the remainder going one each to the lowest indices.
    pub(super) fn new(v: &Validator<'_>, shard: Shard) -> Result<LoadSection, ConfigError> {
        let r = &v.0.raw;
        let load = match r.rate.as_deref() {
            Some("max") => Load::Closed { concurrency: v.count("concurrency", &r.concurrency, MAX_CONCURRENCY)? },
            rate => Load::Open {
                rate: v.parse(
                    "rate",
                    rate,
                    "a positive number of requests per second (0.001 to 10000000), or max",
                    |s| s.parse::<f64>().ok().filter(|r| r.is_finite() && (1e-3..=1e7).contains(r)),
                )?,
            },
        };
        let duration = v.opt("duration", &r.duration, "a duration such as 30s or 10m", positive_duration)?;
        let expected = format!("a whole number from 1 to {MAX_REQUESTS}");
        let requests = v.opt("requests", &r.requests, &expected, |s| {
            s.parse::<u64>().ok().filter(|n| (1..=MAX_REQUESTS).contains(n))
        })?;
        let max_in_flight = v.count("max_in_flight", &r.max_in_flight, MAX_IN_FLIGHT)?;
        let (load, duration, stages) = match &r.stages {
            Some(text) => {
                let Staged { rate, total, stages } = staged(v, text)?;
                (Load::Open { rate }, Some(total), Some(stages))
            }
            None => (load, duration, None),
        };
        let warmup = warmup(v, duration, stages.is_some())?;
        let section = LoadSection { mode: load, duration, requests, stages, warmup, max_in_flight };
        Ok(section.share(shard))
    }

    /// This shard's part: every rate (each stage's too) divided by the shard count, and the
    /// closed-loop workers and `--requests` shared out.
    fn share(mut self, shard: Shard) -> LoadSection {
        let share = |total: u64| super::share(total, shard.index, shard.count);
        self.mode = match self.mode {
            Load::Open { rate } => Load::Open { rate: rate / shard.count as f64 },
            Load::Closed { concurrency } => Load::Closed {
                concurrency: NonZeroUsize::new(share(concurrency.get() as u64) as usize).unwrap_or(NonZeroUsize::MIN),
            },
        };
        self.requests = self.requests.map(share);
        for stage in self.stages.iter_mut().flatten() {
            stage.from /= shard.count as f64;
            stage.to /= shard.count as f64;
        }
        self
    }
}

/// What `--stages` set in place of `--rate` and `--duration`.
struct Staged {
    /// Their mean rate.
    rate: f64,
    /// Their total duration.
    total: Duration,
    stages: Vec<Stage>,
}

/// `--stages`: they replace `--rate` and `--duration` (given both, the run would have two rates),
/// so the load is their mean rate over their total duration.
fn staged(v: &Validator<'_>, text: &str) -> Result<Staged, ConfigError> {
    let r = &v.0.raw;
    let stages = stages::parse(text).map_err(|e| {
        v.invalid("stages", text, &format!("DURATION:RATE or DURATION:FROM->TO, comma-separated ({e})"))
    })?;
    for (field, value) in [("rate", &r.rate), ("duration", &r.duration)] {
        if matches!(v.0.sources.get(field), Some(Source::Flag | Source::Env)) {
            let value = value.as_deref().unwrap_or_default();
            let expected =
                format!("no {} with {}: the stages set the rate and the duration", v.name(field), v.name("stages"));
            return Err(v.invalid(field, value, &expected));
        }
    }
    let total: Duration = stages.iter().map(|s| s.duration).sum();
    let requests: f64 = stages.iter().map(|s| s.mean() * s.duration.as_secs_f64()).sum();
    Ok(Staged { rate: requests / total.as_secs_f64(), total, stages })
}

/// `--warmup`, which must leave something of the sending window to measure.
fn warmup(v: &Validator<'_>, window: Option<Duration>, staged: bool) -> Result<Duration, ConfigError> {
    let r = &v.0.raw;
    let expected = "a duration such as 30s, or 0s for none";
    let warmup = v.parse("warmup", r.warmup.as_deref().or(Some("0s")), expected, duration)?;
    if let Some(window) = window.filter(|d| warmup >= *d) {
        let what = if staged { "the stages' total" } else { "--duration" };
        let value = r.warmup.clone().unwrap_or_default();
        return Err(v.invalid("warmup", &value, &format!("a warm-up shorter than {what} ({window:?})")));
    }
    Ok(warmup)
}
