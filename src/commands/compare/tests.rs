use hdrhistogram::Histogram;

use super::*;

/// A run of `n` requests around `ms` milliseconds (±5%), `errors` of them failed.
fn saved(seed: u64, n: u64, ms: f64, errors: u64) -> Saved {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for _ in 0..n {
        h.record((ms * 1000.0 * (0.95 + 0.1 * rng.f64())) as u64).unwrap();
    }
    Saved {
        label: format!("run{seed}"),
        achieved_rps: 100.0,
        requests: n,
        errors,
        latency: Some(h),
        ..Saved::default()
    }
}

fn row(c: &Comparison, key: &str) -> Row {
    *c.rows.iter().find(|r| r.figure.key() == key).unwrap()
}

#[test]
fn ten_ms_more_is_significant_and_the_same_target_is_not() {
    let budgets = [Budget::parse("p50<+2ms").unwrap(), Budget::parse("p99<+200%").unwrap()];
    let c = Comparison::of(&saved(1, 3000, 10.0, 0), &saved(2, 3000, 20.0, 0), MinEffect::default(), &budgets);
    let p50 = row(&c, "p50");
    assert!((p50.diff() - 10.0).abs() < 1.0 && p50.significant, "{p50:?}");
    assert_eq!(c.budgets.iter().map(|(_, ok)| *ok).collect::<Vec<_>>(), [false, true]);
    assert!(!c.passed());
    let same = Comparison::of(&saved(1, 3000, 10.0, 0), &saved(3, 3000, 10.0, 0), MinEffect::default(), &budgets);
    assert!(same.rows.iter().all(|r| !r.significant), "{:?}", same.rows);
    assert!(same.passed());
}

#[test]
fn json_has_the_documented_shape() {
    let budgets = [Budget::parse("error_rate<+0.1%").unwrap()];
    let c = Comparison::of(&saved(1, 3000, 10.0, 0), &saved(2, 3000, 10.0, 90), MinEffect::default(), &budgets);
    let v = c.json();
    assert_eq!(v["passed"], false);
    for key in ["rps", "error_rate", "p50", "p90", "p95", "p99", "p999", "max"] {
        for field in ["base", "new", "diff", "rel", "significant"] {
            assert!(v["figures"][key].get(field).is_some(), "{key}.{field} in {v}");
        }
    }
    assert_eq!(v["figures"]["error_rate"]["significant"], true);
    assert_eq!(v["figures"]["error_rate"]["rel"], serde_json::Value::Null, "rel of a zero base");
    assert_eq!(v["budgets"][0]["expr"], "error_rate<+0.1%");
    assert_eq!(v["budgets"][0]["passed"], false);
    let text = c.render(Format::Text);
    assert!(text.contains("error rate") && text.contains("FAIL error_rate<+0.1%"), "{text}");
}

#[test]
fn summaries_without_histograms_are_compared_untested() {
    let mut base = saved(1, 10, 10.0, 0);
    base.latency = None;
    base.latency_ms.p50 = 10.0;
    let mut new = base.clone();
    new.latency_ms.p50 = 30.0;
    let c = Comparison::of(&base, &new, MinEffect::default(), &[]);
    let p50 = row(&c, "p50");
    assert_eq!((p50.diff(), p50.significant), (20.0, false));
}
