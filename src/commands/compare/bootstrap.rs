//! Is a percentile difference real? A bootstrap on the two histograms: each resample draws as
//! many requests as the run had from the run's own latency distribution (a multinomial over the
//! histogram's buckets, drawn bucket by bucket as binomials), and the difference of the
//! resamples' percentiles, over [`RESAMPLES`] rounds, gives a 99% interval. A difference is
//! significant when that interval leaves out zero. Seeded: the same inputs give the same answer.
//!
//! Requests of one run are not independent (a slow second slows many), so the interval is too
//! narrow for run-to-run noise; `--min-effect` is the guard against that, not this test.

use hdrhistogram::Histogram;

/// Bootstrap rounds.
pub(crate) const RESAMPLES: usize = 1000;
/// Two-sided level of the interval.
pub(crate) const LEVEL: f64 = 0.99;
/// Requests each run needs above a percentile for it to be tested: the bootstrap of the
/// largest few values (p99.9 of 800 requests is the maximum) is degenerate and would call noise real.
pub(crate) const TAIL: f64 = 10.0;

/// Whether a run of `n` requests can test quantile `q`.
pub(crate) fn testable(n: u64, q: f64) -> bool {
    n as f64 * (1.0 - q) >= TAIL
}

/// A histogram as (value µs, probability) pairs plus its count.
struct Dist {
    values: Vec<u64>,
    probs: Vec<f64>,
    n: u64,
}

impl Dist {
    fn of(h: &Histogram<u64>) -> Dist {
        let n = h.len();
        let (values, probs) = h
            .iter_recorded()
            .map(|v| (h.highest_equivalent(v.value_iterated_to()), v.count_at_value() as f64 / n as f64))
            .unzip();
        Dist { values, probs, n }
    }

    /// The percentiles `qs` (ascending, 0..1) of one resample, in µs.
    fn resample(&self, rng: &mut fastrand::Rng, qs: &[f64], out: &mut Vec<f64>) {
        out.clear();
        let mut left = self.n;
        let mut mass = 1.0;
        let mut cumulative = 0u64;
        let mut next = 0;
        for (value, p) in self.values.iter().zip(&self.probs) {
            let k = if mass <= *p { left } else { binomial(rng, left, (p / mass).min(1.0)) };
            left -= k;
            mass -= p;
            cumulative += k;
            while next < qs.len() && cumulative as f64 >= (qs[next] * self.n as f64).ceil().max(1.0) {
                out.push(*value as f64);
                next += 1;
            }
        }
        while out.len() < qs.len() {
            out.push(*self.values.last().unwrap_or(&0) as f64);
        }
    }
}

/// For each of `qs`, whether the difference new − base of that percentile is significant.
/// A percentile that either run cannot test ([`testable`]) is never significantly different.
pub(crate) fn significant(base: &Histogram<u64>, new: &Histogram<u64>, qs: &[f64]) -> Vec<bool> {
    if base.is_empty() || new.is_empty() {
        return vec![false; qs.len()];
    }
    let (b, n) = (Dist::of(base), Dist::of(new));
    let mut rng = fastrand::Rng::with_seed(0x0074_7261_6666_6963);
    let mut diffs = vec![Vec::with_capacity(RESAMPLES); qs.len()];
    let (mut qb, mut qn) = (Vec::new(), Vec::new());
    for _ in 0..RESAMPLES {
        b.resample(&mut rng, qs, &mut qb);
        n.resample(&mut rng, qs, &mut qn);
        for (i, d) in diffs.iter_mut().enumerate() {
            d.push(qn[i] - qb[i]);
        }
    }
    let tail = ((1.0 - LEVEL) / 2.0 * RESAMPLES as f64) as usize;
    diffs
        .into_iter()
        .map(|mut d| {
            d.sort_by(f64::total_cmp);
            let (lo, hi) = (d[tail], d[RESAMPLES - 1 - tail]);
            lo > 0.0 || hi < 0.0
        })
        .zip(qs)
        .map(|(real, q)| real && testable(b.n, *q) && testable(n.n, *q))
        .collect()
}

/// A Binomial(n, p) draw: by inversion when few successes are expected, else the normal
/// approximation (its error is far below a histogram bucket's width at such counts).
fn binomial(rng: &mut fastrand::Rng, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    let mean = n as f64 * p;
    if mean < 30.0 {
        // Inversion: walk the probability mass function from 0.
        let q = 1.0 - p;
        let s = p / q;
        let a = (n as f64 + 1.0) * s;
        let mut r = q.powf(n as f64);
        let mut u = rng.f64();
        let mut x = 0u64;
        while u > r && x < n {
            u -= r;
            x += 1;
            r *= a / x as f64 - s;
        }
        return x;
    }
    let sd = (mean * (1.0 - p)).sqrt();
    let z = (-2.0 * (1.0 - rng.f64()).ln()).sqrt() * (std::f64::consts::TAU * rng.f64()).cos();
    (mean + sd * z).round().clamp(0.0, n as f64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(samples: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in samples {
            h.record(v).unwrap();
        }
        h
    }

    /// `n` latencies around `center` µs with a ±10% spread and a tail.
    fn run(seed: u64, n: usize, center: f64) -> Histogram<u64> {
        let mut rng = fastrand::Rng::with_seed(seed);
        hist((0..n).map(|_| {
            let tail = if rng.f64() < 0.01 { 3.0 } else { 1.0 };
            (center * tail * (0.9 + 0.2 * rng.f64())) as u64
        }))
    }

    const QS: [f64; 5] = [0.5, 0.9, 0.95, 0.99, 0.999];

    #[test]
    fn a_real_shift_is_significant_and_noise_is_not() {
        let base = run(1, 2000, 10_000.0);
        let shifted = run(2, 2000, 11_000.0);
        let same = run(3, 2000, 10_000.0);
        let shift = significant(&base, &shifted, &QS);
        assert_eq!((&shift[..3], shift[4]), (&[true, true, true][..], false), "p99.9 of 2000: too few");
        assert!(testable(1000, 0.99) && !testable(999, 0.99) && !testable(2000, 0.999));
        assert_eq!(significant(&base, &same, &QS), vec![false; 5]);
        assert_eq!(significant(&base, &hist([]), &QS), vec![false; 5]);
    }

    #[test]
    fn binomial_draws_have_the_right_mean() {
        let mut rng = fastrand::Rng::with_seed(9);
        for (n, p) in [(1000u64, 0.003), (100_000, 0.3), (50, 0.9)] {
            let mean = (0..4000).map(|_| binomial(&mut rng, n, p)).sum::<u64>() as f64 / 4000.0;
            let want = n as f64 * p;
            assert!((mean - want).abs() < 0.05 * want + 0.2, "n={n} p={p}: {mean} vs {want}");
        }
    }
}
