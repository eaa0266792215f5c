use super::*;

fn outcome(ms: u64, status: Option<u16>, error: Option<ErrorType>) -> Outcome {
    let d = Duration::from_millis(ms);
    Outcome { route: 0, status, error, latency: d, service_time: d / 2, class: Some(1) }
}

#[test]
fn shards_merge_into_one_view() {
    let r = Recorder::new(3);
    for i in 0..300u64 {
        let (status, error) = if i % 10 == 0 { (Some(503), Some(ErrorType::Http5xx)) } else { (Some(200), None) };
        r.record((i % 3) as usize, &outcome(i + 1, status, error));
    }
    r.record(1, &outcome(5, None, Some(ErrorType::Connect)));
    r.drop_send(2);
    let t = r.total();
    assert_eq!(t.counts.requests, 301);
    assert_eq!((t.counts.ok, t.counts.errors, t.counts.dropped), (270, 31, 1));
    assert_eq!(t.counts.status[&503], 30);
    assert_eq!(t.counts.error_types[&ErrorType::Connect], 1);
    assert_eq!(t.counts.classes[&(0, 1)], 301);
    assert_eq!(t.latency.len(), 301);
    let p50 = t.latency.value_at_quantile(0.5) as f64 / 1000.0;
    assert!((p50 - 150.0).abs() < 2.0, "{p50}");
    assert_eq!(t.latency.max() / 1000, 300);
    assert_eq!(t.service_time.max() / 1000, 150);
    assert_eq!((t.routes.len(), t.routes[0].requests, t.routes[0].errors), (1, 301, 31));
}

#[test]
fn windows_reset_but_totals_do_not() {
    let r = Recorder::new(2);
    r.record(0, &outcome(10, Some(200), None));
    assert_eq!(r.take_window().counts.requests, 1);
    assert_eq!(r.take_window().counts.requests, 0);
    r.record(1, &outcome(10, Some(200), None));
    assert_eq!(r.take_window().counts.requests, 1);
    assert_eq!(r.total().counts.requests, 2);
    r.drop_send(0);
    let second = r.take_second();
    assert_eq!((second.counts.requests, second.counts.dropped), (2, 1), "seconds ignore progress windows");
    assert_eq!(r.take_second().counts.requests, 0);
}

#[test]
fn the_warmup_shows_in_windows_and_its_row_but_not_in_the_total() {
    let r = Recorder::with_stages(2, 2, std::sync::Arc::from([]));
    r.record_in(0, Phase::Warmup, &outcome(500, Some(200), None));
    r.drop_in(1, Phase::Warmup);
    r.record_in(1, Phase::Stage(0), &outcome(10, Some(503), Some(ErrorType::Http5xx)));
    r.record_in(0, Phase::Stage(1), &outcome(20, Some(200), None));
    r.record_in(1, Phase::Stage(1), &outcome(30, Some(200), None));
    let t = r.total();
    assert_eq!((t.counts.requests, t.counts.dropped, t.latency.max() / 1000), (3, 0, 30));
    let w = r.take_window();
    assert_eq!((w.counts.requests, w.counts.dropped), (4, 1));
    let rows = r.stages();
    let counts: Vec<_> = rows.iter().map(|s| (s.requests, s.errors, s.dropped)).collect();
    assert_eq!(counts, [(1, 0, 1), (1, 1, 0), (2, 0, 0)]);
    assert!((495..=505).contains(&(rows[0].latency.max() / 1000)));
    assert!(Recorder::new(1).stages().is_empty());
}

#[test]
fn error_labels_are_stable() {
    let labels: Vec<_> = ErrorType::ALL.iter().map(|e| e.as_str()).collect();
    assert_eq!(labels, ["timeout", "connect", "dns", "reset", "tls", "protocol", "http_4xx", "http_5xx", "cancelled"]);
    assert_eq!(ErrorType::from_status(404), Some(ErrorType::Http4xx));
    assert_eq!(ErrorType::from_status(302), None);
}
