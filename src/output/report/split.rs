//! Response classes over all routes, and the `--expect-split` goodness-of-fit test on them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::round;
use crate::input::threshold::Verdict;
use crate::model::classify::{chi_square, FAIL_BELOW_P};
use crate::model::scenario::Route;

/// Class counts by name over all routes, with every known class present (0 when unseen).
pub fn classes(counts: &BTreeMap<(usize, u16), u64>, routes: &[Route]) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = routes
        .iter()
        .filter(|r| r.weight > 0)
        .flat_map(|r| r.classifier.iter().flat_map(|c| c.classes()))
        .map(|name| (name.clone(), 0))
        .collect();
    for ((route, class), n) in counts {
        if let Some(classifier) = routes.get(*route).and_then(|r| r.classifier.as_ref()) {
            *out.entry(classifier.class_name(*class)).or_default() += n;
        }
    }
    out
}

/// `--expect-split`: observed class counts against expected shares.
#[derive(Debug, Clone, Serialize)]
pub struct Split {
    /// The expectation as given, e.g. `v1=1,v2=1,v3=1`.
    pub expected: String,
    /// Observed count per expected class.
    pub observed: BTreeMap<String, u64>,
    /// Chi-square statistic.
    pub chi_square: f64,
    /// Degrees of freedom.
    pub df: u32,
    /// Goodness-of-fit p-value.
    pub p_value: f64,
    /// Whether p >= 0.001.
    pub passed: bool,
}

impl Split {
    /// Test the summary's classes against `expected` weights.
    pub fn test(text: &str, expected: &[(String, f64)], classes: &BTreeMap<String, u64>) -> Self {
        let observed: Vec<u64> = expected.iter().map(|(name, _)| classes.get(name).copied().unwrap_or(0)).collect();
        let weights: Vec<f64> = expected.iter().map(|(_, w)| *w).collect();
        let fit = chi_square(&observed, &weights);
        Split {
            expected: text.to_string(),
            observed: expected.iter().map(|(n, _)| n.clone()).zip(observed).collect(),
            chi_square: round(fit.statistic),
            df: fit.df,
            p_value: fit.p_value,
            passed: fit.passes(),
        }
    }

    /// The split as a threshold verdict, so it decides the exit code like any threshold.
    pub fn verdict(&self) -> Verdict {
        Verdict {
            expr: format!("split {} (chi-square p >= {FAIL_BELOW_P})", self.expected),
            value: self.p_value,
            measured: format!("p = {:.4}", self.p_value),
            passed: self.passed,
        }
    }
}
