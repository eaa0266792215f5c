use std::time::Duration;

use super::*;
use crate::model::outcome::Outcome;

/// A shard's JSON summary: `n` requests of `ms` milliseconds each, over 10 s from `start`.
fn shard(index: usize, run_id: &str, n: u64, ms: u64, start: f64) -> String {
    let mut stats = Stats::default();
    for i in 0..n {
        let d = Duration::from_millis(ms + i % 7);
        stats.record(&Outcome { route: 0, status: Some(200), error: None, latency: d, service_time: d, class: None });
    }
    let identity =
        Identity { run_id: run_id.to_string(), start_unix_s: start, end_unix_s: start + 10.0, ..Identity::default() };
    let records = ShardRecords {
        stats: &stats,
        completed: &Completed::all(&stats),
        target_rps: Some(10.0),
        window: Duration::from_secs(10),
        identity,
        in_flight_at_end: 0,
        classes: BTreeMap::new(),
    };
    let s = Summary::of_shards(records, &[Threshold::parse("p99<1s").unwrap()]);
    // As the shard wrote it: a sharded run's summary names its shard.
    let mut v = serde_json::to_value(&s).unwrap();
    v["shard"] = serde_json::json!({ "index": index, "count": 3 });
    v.to_string()
}

fn parts(run_ids: [&str; 3]) -> Vec<Part> {
    let texts = [
        shard(0, run_ids[0], 100, 5, 1000.0),
        shard(1, run_ids[1], 200, 20, 1001.0),
        shard(2, run_ids[2], 50, 80, 999.0),
    ];
    texts.iter().enumerate().flat_map(|(i, t)| read::parse(t, &format!("shard-{i}"))).collect()
}

#[test]
fn counts_sum_and_percentiles_come_from_the_merged_histograms() {
    let parts = parts(["r", "r", "r"]);
    let merged = merge(&parts, &[], false).unwrap();
    let s = &merged.summary;
    assert_eq!((s.requests(), s.ok(), s.run_id()), (350, 350, "r"));
    assert_eq!((s.duration_s(), s.achieved_rps()), (12.0, round1(350.0 / 12.0)), "rates over the union of the windows");
    let p99s: Vec<f64> = merged.shards.iter().map(|r| r.p99_ms).collect();
    let (lo, hi) = (p99s.iter().copied().fold(f64::MAX, f64::min), p99s.iter().copied().fold(0.0, f64::max));
    assert!((lo..=hi).contains(&s.latency_ms().p99), "{} within {p99s:?}", s.latency_ms().p99);
    assert_eq!(s.latency_ms().p99, Percentiles::of(&stats(&parts).unwrap().latency).p99);
    assert_eq!(s.thresholds().iter().map(|t| t.expr.as_str()).collect::<Vec<_>>(), ["p99<1s"], "the shards' own");
    assert!(merged.passed());
    let strict = merge(&parts, &[Threshold::parse("p99<1ms").unwrap()], false).unwrap();
    assert!(!strict.passed());
    let text = merged.render(Format::Text);
    assert!(text.starts_with("trafficgen merge: 3 shards of run r") && text.contains("shard-1"), "{text}");
}

fn round1(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[test]
fn different_runs_are_refused_unless_allowed() {
    let parts = parts(["a", "b", "a"]);
    let err = merge(&parts, &[], false).unwrap_err().to_string();
    assert!(err.contains("different runs (run ids a, b)") && err.contains("--allow-mixed"), "{err}");
    assert_eq!(merge(&parts, &[], true).unwrap().summary.requests(), 350);
}
