//! The load's shape: `--stages` (which then set the rate and the duration) and `--warmup`.

use std::time::Duration;

use super::validator::Validator;
use super::{ConfigError, Load, Plan};
use crate::settings::Source;
use crate::stages;
use setting::duration;

impl Plan {
    /// Apply `--stages` and `--warmup`: the stages replace `--rate` and `--duration` (given both,
    /// the run would have two rates), and the warm-up must leave something to measure.
    pub(super) fn shaped(mut self, v: &Validator<'_>) -> Result<Plan, ConfigError> {
        let r = &v.0.raw;
        self.warmup =
            v.parse("warmup", r.warmup.as_deref().or(Some("0s")), "a duration such as 30s, or 0s for none", duration)?;
        if let Some(text) = &r.stages {
            let stages = stages::parse(text).map_err(|e| {
                v.invalid("stages", text, &format!("DURATION:RATE or DURATION:FROM->TO, comma-separated ({e})"))
            })?;
            for (field, value) in [("rate", &r.rate), ("duration", &r.duration)] {
                if matches!(v.0.sources.get(field), Some(Source::Flag | Source::Env)) {
                    let value = value.as_deref().unwrap_or_default();
                    let expected = format!(
                        "no {} with {}: the stages set the rate and the duration",
                        v.name(field),
                        v.name("stages")
                    );
                    return Err(v.invalid(field, value, &expected));
                }
            }
            let total: Duration = stages.iter().map(|s| s.duration).sum();
            let requests: f64 = stages.iter().map(|s| s.mean() * s.duration.as_secs_f64()).sum();
            self.load = Load::Open { rate: requests / total.as_secs_f64() };
            self.duration = Some(total);
            self.stages = Some(stages);
        }
        if let Some(window) = self.duration.filter(|d| self.warmup >= *d) {
            let what = if self.stages.is_some() { "the stages' total" } else { "--duration" };
            let value = r.warmup.clone().unwrap_or_default();
            return Err(v.invalid("warmup", &value, &format!("a warm-up shorter than {what} ({window:?})")));
        }
        Ok(self)
    }
}
