use std::time::Duration;

use super::*;
use crate::input::threshold::Threshold;
use crate::model::outcome::{ErrorType, Outcome};
use crate::output::recorder::{Completed, Stats};

fn stats() -> Stats {
    let mut s = Stats::default();
    for i in 1..=100u64 {
        let error = (i > 98).then_some(ErrorType::Http5xx);
        let status = Some(if error.is_some() { 503 } else { 200 });
        let d = Duration::from_millis(i);
        s.record(&Outcome { route: 0, status, error, latency: d, service_time: d, class: None });
    }
    s
}

#[test]
fn json_keeps_the_contract_keys() {
    let mut sum = Summary::of_figures(&stats(), &Completed::default(), Some(10.0), Duration::from_secs(10), &[]);
    sum.add_verdict(Threshold::parse("p99<300ms").unwrap().check(&sum));
    let v: serde_json::Value = serde_json::from_str(&sum.render(Format::Json)).unwrap();
    for key in JSON_KEYS {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in ["p50", "p90", "p95", "p99", "p999", "max", "mean"] {
        assert!(v["latency_ms"][key].is_number(), "latency_ms.{key}");
    }
    assert_eq!(
        (&v["achieved_rps"], &v["throughput_rps"], &v["in_flight_at_end"]),
        (&10.0.into(), &0.0.into(), &100.into())
    );
    assert_eq!(v["status_codes"]["503"], 2);
    assert_eq!(v["error_types"]["http_5xx"], 2);
    assert_eq!(v["thresholds"][0]["passed"], true);
    assert!((sum.error_rate() - 0.02).abs() < 1e-9);
    let latency = decode(v["histograms"]["latency"].as_str().unwrap()).unwrap();
    assert_eq!(latency.len(), 100, "the histogram decodes to the same counts");
    assert_eq!(decode(v["histograms"]["service_time"].as_str().unwrap()).unwrap().max() / 1000, 100);
}

#[test]
fn text_has_the_table_and_verdict() {
    let sum = Summary::of_figures(&stats(), &Completed::all(&stats()), None, Duration::from_secs(4), &[]);
    let text = sum.render(Format::Text);
    assert!(text.contains("max (closed loop)"), "{text}");
    assert!(text.contains("corrected"));
    assert!(
        text.contains("verdict       no thresholds set: 100 requests sent at 25.0 req/s, 25.0 req/s completed"),
        "{text}"
    );
    assert!(!text.contains("did not keep up"), "{text}");
}

#[test]
fn a_backlog_that_grew_through_the_run_is_said() {
    let mut sum = Summary::of_figures(
        &stats(),
        &Completed { requests: 40, routes: vec![40] },
        Some(20.0),
        Duration::from_secs(4),
        &[],
    );
    assert_eq!((sum.achieved_rps, sum.throughput_rps, sum.in_flight_at_end), (25.0, 10.0, 60));
    assert!(sum.fell_behind());
    assert!(sum.render(Format::Text).contains("target did not keep up: 60 still in flight"));
    // Steady: 40 answers a second after the first second, whatever was still out at the end.
    let steady = (0..4).map(|t| Point { t: f64::from(t), interval_s: 1.0, requests: 40, ..Point::default() });
    sum.timeline = steady.collect();
    assert_eq!(sum.steady_throughput_rps(), 40.0);
    // As many in flight at the middle as at the end: a steady run's responses still out.
    sum.timeline =
        (0..4).map(|t| Point { t: f64::from(t), interval_s: 1.0, in_flight: 60, ..Point::default() }).collect();
    assert!(!sum.fell_behind());
}

#[test]
fn without_thresholds_a_run_with_no_success_fails() {
    let mut failed = Stats::default();
    let d = Duration::from_millis(1);
    let error = Some(ErrorType::Connect);
    failed.record(&Outcome { route: 0, status: None, error, latency: d, service_time: d, class: None });
    let sum = Summary::of_figures(&failed, &Completed::all(&failed), Some(10.0), Duration::from_secs(1), &[]);
    assert!(!sum.passed);
    assert!(sum.verdict().starts_with("FAILED (no request succeeded): 1 request sent at"), "{}", sum.verdict());
    let mut sum = Summary::of_figures(&stats(), &Completed::all(&stats()), Some(10.0), Duration::from_secs(1), &[]);
    assert!(sum.passed && sum.verdict().starts_with("no thresholds set"), "{}", sum.verdict());
    sum.add_verdict(Threshold::parse("p99<300ms").unwrap().check(&sum));
    assert!(sum.verdict().starts_with("PASSED"), "{}", sum.verdict());
}
