//! The generator's achieved rate, judged from its raw samples: the increase of its request counter
//! between the first and the last scrape taken while it was sending, over the time between them.
//! A rate over a fixed range (`rate(x[4 × scrape])`) of a short run averages in its start and
//! end; this does not, so a 20 s run judges right with 1 s or 5 s scrapes. A scrape is taken while
//! sending when the counter grew before and after it.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::prom::{PromError, Prometheus};
use super::scrape::{secs, Generator};

/// What the samples say.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sent {
    /// Requests per second achieved and targeted, summed over the generators.
    Judged {
        /// Achieved req/s.
        achieved: f64,
        /// Target req/s over the same scrapes.
        target: f64,
        /// Time between the first and last scrape judged (the shortest over the generators).
        span: Duration,
    },
    /// Fewer than two scrapes were taken while sending.
    TooFew {
        /// Scrapes taken while sending (the fewest over the generators).
        scrapes: usize,
    },
}

/// One generator's samples, by scrape time in milliseconds.
#[derive(Debug, Default)]
struct Samples {
    scrapes: Vec<i64>,
    count: BTreeMap<i64, f64>,
    target: BTreeMap<i64, f64>,
}

/// The counter query of one generator, as shown in the row.
pub(crate) fn query(g: &Generator, range: Duration) -> String {
    format!("http_client_request_duration_seconds_count{{{}}}[{}]", g.matchers(), secs(range))
}

/// Measure the rate of `gens` between `start` and `at`.
pub(crate) async fn measure(
    prom: &Prometheus,
    gens: &[Generator],
    start: SystemTime,
    at: SystemTime,
) -> Result<Sent, PromError> {
    let range = at.duration_since(start).unwrap_or_default();
    let (mut achieved, mut target, mut span, mut fewest) = (0.0, 0.0, Duration::MAX, usize::MAX);
    for g in gens {
        let mut s = Samples::default();
        let sel = |metric: &str| format!("{metric}{{{}}}[{}]", g.matchers(), secs(range));
        let ms = |t: f64| (t * 1000.0).round() as i64;
        for series in prom.series_at(&sel("trafficgen_build_info"), at).await? {
            s.scrapes.extend(series.points.iter().map(|p| ms(p.0)));
        }
        for series in prom.series_at(&query(g, range), at).await? {
            for (t, v) in series.points {
                *s.count.entry(ms(t)).or_default() += v;
            }
        }
        for series in prom.series_at(&sel("trafficgen_target_rps"), at).await? {
            s.target.extend(series.points.iter().map(|(t, v)| (ms(*t), *v)));
        }
        s.scrapes.sort_unstable();
        s.scrapes.dedup();
        match judge(&s) {
            Ok((a, t, d)) => {
                achieved += a;
                target += t;
                span = span.min(d);
            }
            Err(n) => fewest = fewest.min(n),
        }
    }
    Ok(if fewest < usize::MAX || gens.is_empty() {
        Sent::TooFew { scrapes: if gens.is_empty() { 0 } else { fewest } }
    } else {
        Sent::Judged { achieved, target, span }
    })
}

/// Achieved and target req/s and the span judged, or the number of scrapes taken while sending
/// when there are fewer than two.
fn judge(s: &Samples) -> Result<(f64, f64, Duration), usize> {
    let count: Vec<f64> = s.scrapes.iter().map(|t| s.count.get(t).copied().unwrap_or(0.0)).collect();
    let grew: Vec<usize> = (1..count.len()).filter(|&i| count[i] > count[i - 1]).collect();
    let (Some(&first), Some(&last)) = (grew.first(), grew.last()) else { return Err(0) };
    // The scrape that shows the last growth may come after sending ended: the one before it did not.
    let end = last - 1;
    if end <= first {
        return Err(usize::from(end == first));
    }
    let (t0, t1) = (s.scrapes[first], s.scrapes[end]);
    let secs = (t1 - t0) as f64 / 1000.0;
    let achieved = (count[end] - count[first]) / secs;
    let targets: Vec<f64> = s.scrapes[first..=end].iter().filter_map(|t| s.target.get(t).copied()).collect();
    let target = if targets.is_empty() { 0.0 } else { targets.iter().sum::<f64>() / targets.len() as f64 };
    Ok((achieved, target, Duration::from_millis((t1 - t0) as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(counts: &[Option<f64>], every_ms: i64) -> Samples {
        let mut s = Samples::default();
        for (i, c) in counts.iter().enumerate() {
            let t = i as i64 * every_ms;
            s.scrapes.push(t);
            s.target.insert(t, 20.0);
            if let Some(c) = c {
                s.count.insert(t, *c);
            }
        }
        s
    }

    #[test]
    fn the_rate_is_between_scrapes_taken_while_sending() {
        // 5 s scrapes; sending at 20 req/s from 2 s to 22 s; lingering after.
        let s = samples(&[None, Some(60.0), Some(160.0), Some(260.0), Some(360.0), Some(400.0), Some(400.0)], 5000);
        let (achieved, target, span) = judge(&s).unwrap();
        assert_eq!((achieved, target, span), (20.0, 20.0, Duration::from_secs(15)));
        // 30 s scrapes over a 20 s run: one scrape, or none, while sending.
        assert_eq!(judge(&samples(&[None, Some(300.0), Some(400.0), Some(400.0)], 30_000)), Err(1));
        assert_eq!(judge(&samples(&[None, Some(400.0), Some(400.0)], 30_000)), Err(0));
    }
}
