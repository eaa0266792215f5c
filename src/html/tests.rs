use std::collections::BTreeMap;

use super::*;
use crate::timeline::Point;

fn run(label: &str, ms: f64) -> Saved {
    let json = format!(
        r#"{{"requests":30,"errors":2,"achieved_rps":10.0,"target_rps":10.0,"duration_s":3.0,"latency_ms":{{"p50":{ms},"p99":{}}}}}"#,
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
    assert!(html.contains("new &lt;b&gt; vs base"), "a compare table for the second run");
    assert!(html.contains("new &lt;b&gt;: http_5xx") && html.contains("base: v2"));
    for external in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "{external} would fetch or run something");
    }
    let one = page(&[run("only", 10.0)]);
    assert!(!one.contains("vs base") && one.contains(">achieved<"), "one run: no compare table");
}
