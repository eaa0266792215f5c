//! Goodness of fit: does the observed class split match the expected one?
//!
//! Used by `--expect-split v1=1,v2=1,v3=1`: a run fails when the chi-square test rejects the expected
//! weights at p < [`FAIL_BELOW_P`].

use super::ClassifyError;

/// A split is rejected when the p-value falls below this.
///
/// 0.001 keeps false alarms to one run in a thousand when traffic really follows the weights, while a
/// real skew (a version missing, a 2:1 imbalance) still drives p far below it after a few hundred responses.
pub(crate) const FAIL_BELOW_P: f64 = 0.001;

/// Result of a chi-square goodness-of-fit test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub(crate) struct ChiSquare {
    /// Pearson's statistic, sum of (observed - expected)^2 / expected.
    pub statistic: f64,
    /// Degrees of freedom: categories with a positive weight, minus one.
    pub df: u32,
    /// Probability of a statistic at least this large if the weights were right.
    pub p_value: f64,
}

impl ChiSquare {
    /// True when the observation is consistent with the weights (p >= [`FAIL_BELOW_P`]).
    pub(crate) fn passes(&self) -> bool {
        self.p_value >= FAIL_BELOW_P
    }
}

/// Parses `v1=1,v2=1,v3=2` into class names and positive weights.
pub(crate) fn parse_expect_split(value: &str) -> Result<Vec<(String, f64)>, ClassifyError> {
    let bad = |reason: String| ClassifyError::ExpectSplit { value: value.to_owned(), reason };
    let mut out: Vec<(String, f64)> = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, weight) = part.split_once('=').ok_or_else(|| bad(format!("{part:?} is not CLASS=WEIGHT")))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad(format!("{part:?} has an empty class name")));
        }
        let weight: f64 = weight
            .trim()
            .parse()
            .ok()
            .filter(|w: &f64| w.is_finite() && *w > 0.0)
            .ok_or_else(|| bad(format!("weight of {name:?} must be a positive number")))?;
        if out.iter().any(|(n, _)| n == name) {
            return Err(bad(format!("class {name:?} appears twice")));
        }
        out.push((name.to_owned(), weight));
    }
    if out.len() < 2 {
        return Err(bad("expected at least two classes, e.g. v1=1,v2=1".into()));
    }
    Ok(out)
}

/// Pearson's chi-square goodness-of-fit test of `observed` counts against relative `weights`.
///
/// Categories with a zero weight must have zero observations, else the split is impossible (p = 0).
pub(crate) fn chi_square(observed: &[u64], weights: &[f64]) -> ChiSquare {
    assert_eq!(observed.len(), weights.len(), "one weight per category");
    let total: u64 = observed.iter().sum();
    let weight_sum: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    let categories = weights.iter().filter(|w| **w > 0.0).count();
    let df = categories.saturating_sub(1) as u32;
    if total == 0 || df == 0 {
        return ChiSquare { statistic: 0.0, df, p_value: 1.0 };
    }
    let mut statistic = 0.0;
    for (&o, &w) in observed.iter().zip(weights) {
        let expected = total as f64 * w.max(0.0) / weight_sum;
        if expected > 0.0 {
            statistic += (o as f64 - expected).powi(2) / expected;
        } else if o > 0 {
            statistic = f64::INFINITY;
        }
    }
    let p_value = chi_square_sf(statistic, df);
    ChiSquare { statistic, df, p_value }
}

/// Survival function of the chi-square distribution: Q(df/2, x/2).
fn chi_square_sf(x: f64, df: u32) -> f64 {
    if x.is_infinite() {
        return 0.0;
    }
    gamma_q(f64::from(df) / 2.0, x / 2.0)
}

/// Regularized upper incomplete gamma Q(a, x), as in Numerical Recipes (series below a+1, else Lentz).
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let log_prefix = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        // Series for P converges fast here, and Q is not small enough to lose precision in 1 - P.
        let (mut sum, mut term, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * log_prefix.exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -f64::from(i) * (f64::from(i) - a);
            b += 2.0;
            d = an * d + b;
            d = if d.abs() < tiny { tiny } else { d };
            c = b + an / c;
            c = if c.abs() < tiny { tiny } else { c };
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        log_prefix.exp() * h
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7), accurate to ~1e-15.
fn ln_gamma(x: f64) -> f64 {
    const COEFFS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the approximation in its accurate range.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = COEFFS[1..].iter().enumerate().fold(COEFFS[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative comparison: the references span 1 to 1e-20, so an absolute bound would be meaningless.
    fn close(actual: f64, expected: f64) {
        let rel = (actual - expected).abs() / expected.abs();
        assert!(rel < 1e-6, "{actual} != {expected} (relative error {rel})");
    }

    #[test]
    fn survival_function_matches_closed_forms() {
        // References from the closed forms for integer df (erfc series for odd df, Poisson sum for even).
        close(chi_square_sf(3.84, 1), 0.050_043_521_248_705_09);
        close(chi_square_sf(1.0, 3), 0.801_251_956_901_200_8);
        close(chi_square_sf(10.0, 5), 0.075_235_246_146_512_2);
        close(chi_square_sf(50.0, 2), 1.388_794_386_496_402_1e-11);
        close(chi_square_sf(20.0, 10), 0.029_252_688_076_961_075);
        close(chi_square_sf(0.5, 7), 0.999_446_481_390_425);
        close(chi_square_sf(100.0, 4), 9.836_624_224_615_98e-21);
    }

    #[test]
    fn even_split_passes() {
        let r = chi_square(&[100, 100, 100], &[1.0, 1.0, 1.0]);
        assert_eq!(r.statistic, 0.0);
        assert_eq!(r.df, 2);
        close(r.p_value, 1.0);
        assert!(r.passes());
    }

    #[test]
    fn skewed_split_fails() {
        let r = chi_square(&[50, 100, 150], &[1.0, 1.0, 1.0]);
        close(r.statistic, 50.0);
        close(r.p_value, 1.388_794_386_496_402_1e-11);
        assert!(!r.passes());
    }

    #[test]
    fn weights_are_relative() {
        let r = chi_square(&[100, 200], &[1.0, 2.0]);
        assert_eq!(r.statistic, 0.0);
        assert_eq!(r.df, 1);
    }

    #[test]
    fn zero_weight_with_observations_is_impossible() {
        let r = chi_square(&[10, 10, 1], &[1.0, 1.0, 0.0]);
        assert_eq!(r.df, 1);
        assert_eq!(r.p_value, 0.0);
    }

    #[test]
    fn no_observations_passes() {
        assert_eq!(chi_square(&[0, 0], &[1.0, 1.0]).p_value, 1.0);
    }

    #[test]
    fn parses_expect_split() {
        let s = parse_expect_split("v1=1, v2=1,v3=2.5").unwrap();
        assert_eq!(s, vec![("v1".into(), 1.0), ("v2".into(), 1.0), ("v3".into(), 2.5)]);
    }

    #[test]
    fn rejects_bad_expect_split() {
        for bad in ["v1", "v1=1", "v1=0,v2=1", "v1=x,v2=1", "=1,v2=1", "v1=1,v1=2"] {
            let err = parse_expect_split(bad).unwrap_err().to_string();
            assert!(err.contains("--expect-split"), "{err}");
            assert!(err.contains(bad), "{err}");
        }
    }
}
