use std::collections::BTreeMap;

use super::*;
use crate::output::timeline::Point;

fn run(label: &str, ms: f64) -> Saved {
    let connections = if label == "base" { 64 } else { 12 };
    let json = format!(
        r#"{{"requests":30,"errors":2,"achieved_rps":10.0,"target_rps":10.0,"duration_s":3.0,"latency_ms":{{"p50":{ms},"p99":{}}},"run_id":"{label}-1","started_at":"2026-12-06T14:00:00Z","settings":{{"targets":["http://productpage:9080/productpage"],"connections":{connections},"http2":false}}}}"#,
        ms * 2.0
    );
    let mut s = Saved::parse(&json).unwrap();
    s.label = label.into();
    s.timeline = (0..3)
        .map(|t| Point {
            t: f64::from(t),
            interval_s: 1.0,
            requests: 10,
            errors: 1,
            p50_ms: ms,
            p99_ms: ms * 2.0,
            classes: BTreeMap::from([("v1".into(), 4), ("v2".into(), 6)]),
            error_types: BTreeMap::from([("http_5xx".into(), 1)]),
            target_rps: Some(10.0),
            ..Point::default()
        })
        .collect();
    s
}

#[test]
fn the_page_is_self_contained_with_every_chart() {
    let html = page(&[run("base", 10.0), run("new <b>", 20.0)]);
    for id in ["rate", "latency", "spectrum", "errors", "classes"] {
        assert!(html.contains(&format!(r#"<svg id="{id}""#)), "chart {id} missing");
    }
    assert!(html.contains("base vs new &lt;b&gt;"), "a compare table for the second run, in the title's order");
    assert!(html.contains("trafficgen report: base vs new &lt;b&gt;"));
    assert!(html.contains("<h2>What ran</h2>") && html.contains("http://productpage:9080/productpage"), "{html}");
    assert!(
        html.contains("Settings that differ") && html.contains("<td>connections</td><td>64</td><td>12</td>"),
        "{html}"
    );
    assert!(!html.contains("<td>http2</td>"), "settings alike in both runs are left out");
    assert!(html.contains("new &lt;b&gt;: http_5xx") && html.contains("base: v2"));
    for external in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "{external} would fetch or run something");
    }
    let one = page(&[run("only", 10.0)]);
    assert!(
        !one.contains("vs new") && one.contains(">completed<") && one.contains(">sent<"),
        "one run: no compare table"
    );
}
