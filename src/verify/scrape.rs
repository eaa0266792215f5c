//! The generator as Prometheus sees it: its targets (instance and job of its own series), the
//! time of its last real sample, and the scrape interval, found rather than assumed: the
//! target's `scrapeInterval` in `/api/v1/targets`, else the spacing of its samples, else the
//! interval most targets have. `--scrape-interval` only overrides.

use std::time::{Duration, SystemTime};

use super::prom::{PromError, Prometheus};

/// Used when Prometheus tells nothing: kube-prometheus-stack's and the chart's interval.
pub(crate) const FALLBACK: Duration = Duration::from_secs(30);

/// One scraped generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Generator {
    /// Its `instance` label.
    pub instance: String,
    /// Its `job` label.
    pub job: String,
}

impl Generator {
    /// `instance="...",job="..."`, for a selector.
    pub(crate) fn matchers(&self) -> String {
        format!("instance={:?},job={:?}", self.instance, self.job)
    }
}

/// A scrape interval and where it came from, said in the table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scrape {
    /// The interval.
    pub interval: Duration,
    /// `--scrape-interval`, `the generator's target`, ...
    pub from: &'static str,
}

/// Grafana's `$__rate_interval`: max(step + scrape interval, 4 × scrape interval).
pub(crate) fn rate_interval(step: Duration, scrape: Duration) -> Duration {
    (step + scrape).max(scrape * 4)
}

/// `[20s]`-style range text, at least one second.
pub(crate) fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64().ceil().max(1.0) as u64)
}

fn time(t: f64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs_f64(t.max(0.0))
}

/// The time of the last sample of `sel` between `from` and `end`, if any: where a window over a
/// finished run ends, never on the staleness marker after it. Raw samples, since `timestamp()` of
/// a function's result is the evaluation time.
pub(crate) async fn last_sample(
    prom: &Prometheus,
    sel: &str,
    from: SystemTime,
    end: SystemTime,
) -> Result<Option<SystemTime>, PromError> {
    let span = end.duration_since(from).unwrap_or_default();
    let raw = prom.query(&format!("{sel}[{}]", secs(span)), end).await?;
    Ok(raw.iter().map(|(_, t)| *t).reduce(f64::max).map(time))
}

/// The targets whose `sel` series (the generator's own) have samples between `start` and `at`.
pub(crate) async fn generators(
    prom: &Prometheus,
    sel: &str,
    start: SystemTime,
    at: SystemTime,
) -> Result<Vec<Generator>, PromError> {
    let span = at.duration_since(start).unwrap_or_default();
    let found = prom.series_at(&format!("last_over_time({sel}[{}])", secs(span)), at).await?;
    let mut out: Vec<Generator> = found
        .into_iter()
        .map(|s| Generator {
            instance: s.metric.get("instance").cloned().unwrap_or_default(),
            job: s.metric.get("job").cloned().unwrap_or_default(),
        })
        .collect();
    out.sort_by(|a, b| (&a.job, &a.instance).cmp(&(&b.job, &b.instance)));
    out.dedup();
    Ok(out)
}

/// The scrape interval of the generator's targets (the longest, when shards differ).
pub(crate) async fn discover(
    prom: &Prometheus,
    gens: &[Generator],
    start: SystemTime,
    at: SystemTime,
) -> Result<Scrape, PromError> {
    let targets = prom.api("targets", "", &[("state", "active".into())]).await?;
    let active = targets["activeTargets"].as_array().cloned().unwrap_or_default();
    let interval = |t: &serde_json::Value| t["scrapeInterval"].as_str().and_then(|s| humantime::parse_duration(s).ok());
    let ours = active.iter().filter(|t| {
        gens.iter().any(|g| t["labels"]["instance"] == g.instance.as_str() && t["labels"]["job"] == g.job.as_str())
    });
    if let Some(d) = ours.filter_map(interval).max() {
        return Ok(Scrape { interval: d, from: "the generator's target in Prometheus" });
    }
    if let Some(d) = spacing(prom, gens, start, at).await? {
        return Ok(Scrape { interval: d, from: "the spacing of the generator's samples" });
    }
    let mut all: Vec<Duration> = active.iter().filter_map(interval).collect();
    all.sort();
    let most = all.chunk_by(|a, b| a == b).max_by_key(|c| c.len()).map(|c| c[0]);
    Ok(match most {
        Some(d) => Scrape { interval: d, from: "most of Prometheus's targets" },
        None => Scrape { interval: FALLBACK, from: "a default: Prometheus lists no scrape interval" },
    })
}

/// The median spacing of the generator's `trafficgen_build_info` samples.
async fn spacing(
    prom: &Prometheus,
    gens: &[Generator],
    start: SystemTime,
    at: SystemTime,
) -> Result<Option<Duration>, PromError> {
    let span = secs(at.duration_since(start).unwrap_or_default());
    let mut gaps = Vec::new();
    for g in gens {
        for s in prom.series_at(&format!("trafficgen_build_info{{{}}}[{span}]", g.matchers()), at).await? {
            gaps.extend(s.points.windows(2).map(|w| w[1].0 - w[0].0));
        }
    }
    gaps.sort_by(f64::total_cmp);
    Ok(gaps.get(gaps.len() / 2).filter(|g| **g > 0.0).map(|g| Duration::from_millis((g * 1000.0).round() as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_interval_is_grafanas() {
        let s = Duration::from_secs;
        assert_eq!(rate_interval(s(5), s(5)), s(20));
        assert_eq!(rate_interval(s(60), s(15)), s(75));
        assert_eq!(rate_interval(s(1), s(30)), s(120));
        assert_eq!(secs(Duration::from_millis(1500)), "2s");
    }
}
