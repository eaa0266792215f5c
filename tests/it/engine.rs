//! In-process runs of `trafficgen::run` against local targets.

use std::future::pending;
use std::sync::atomic::Ordering;

use trafficgen::commands::cli::plan_from;
use trafficgen::output::report::Summary;

use crate::support::{closed_port, target};

async fn run(args: &[&str]) -> Summary {
    let argv = ["trafficgen", "--metrics-addr", "off", "--progress-interval", "0s", "--output", "json"]
        .into_iter()
        .chain(args.iter().copied());
    let plan = plan_from(argv, Vec::new()).expect("valid test config");
    trafficgen::run(plan, pending()).await.expect("run completes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_exactly_the_requested_count() {
    let (addr, hits) = target().await;
    let url = format!("http://{addr}/ok");
    let s = run(&["--rate", "500", "--requests", "137", &url]).await;
    assert_eq!(s.requests(), 137);
    assert_eq!(s.ok(), 137);
    assert_eq!(hits.total.load(Ordering::Relaxed), 137);
    let s = run(&["--rate", "max", "--concurrency", "7", "--requests", "101", &url]).await;
    assert_eq!((s.requests(), s.target_rps()), (101, None));
    assert_eq!(hits.total.load(Ordering::Relaxed), 238);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_statuses_and_error_types() {
    let (addr, _) = target().await;
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let s = run(&["--rate", "200", "--requests", "10", &format!("http://{addr}/status/503"), &refused]).await;
    assert_eq!(s.requests(), 10);
    assert_eq!(s.status_codes()["503"], 5);
    assert_eq!(s.error_types()["http_5xx"], 5);
    assert_eq!(s.error_types()["connect"], 5);
    assert_eq!(s.errors(), 10);
    let s =
        run(&["--rate", "100", "--requests", "4", "--timeout", "100ms", &format!("http://{addr}/sleep/2000")]).await;
    assert_eq!(s.error_types()["timeout"], 4);
    assert!(s.status_codes().is_empty());
    let s = run(&["--rate", "100", "--requests", "3", &format!("http://{addr}/status/404")]).await;
    assert_eq!(s.error_types()["http_4xx"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_pins_a_name_and_h2_is_spoken() {
    let (addr, hits) = target().await;
    let pin = format!("productpage:{}:127.0.0.1", addr.port());
    let url = format!("http://productpage:{}/ok", addr.port());
    let s = run(&["--rate", "200", "--requests", "20", "--resolve", &pin, &url]).await;
    assert_eq!(s.ok(), 20, "{s:?}");
    let s = run(&["--rate", "200", "--requests", "20", "--http2", "--connections", "2", "--resolve", &pin, &url]).await;
    assert_eq!(s.ok(), 20, "{s:?}");
    assert_eq!(hits.h2.load(Ordering::Relaxed), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_decide_the_verdict() {
    let (addr, _) = target().await;
    let url = format!("http://{addr}/ok");
    let s = run(&["--rate", "200", "--requests", "20", "--threshold", "error_rate<1%", "--threshold", "p99<5s", &url])
        .await;
    assert!(s.passed(), "{s:?}");
    let s = run(&["--rate", "200", "--requests", "20", "--threshold", "p50<0.001ms", &url]).await;
    assert!(!s.passed());
    assert!(!s.thresholds()[0].passed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_in_flight_drops_instead_of_queueing() {
    let (addr, _) = target().await;
    let url = format!("http://{addr}/sleep/300");
    let s = run(&["--rate", "100", "--duration", "500ms", "--max-in-flight", "2", &url]).await;
    assert!(s.dropped() > 0, "{s:?}");
    assert!(s.requests() <= 4, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_timeout_cancels_what_is_left() {
    let (addr, _) = target().await;
    let argv = [
        "trafficgen",
        "--metrics-addr",
        "off",
        "--progress-interval",
        "0s",
        "--rate",
        "50",
        "--drain-timeout",
        "300ms",
    ];
    let url = format!("http://{addr}/sleep/5000");
    let plan = plan_from(argv.into_iter().chain([url.as_str()]), Vec::new()).unwrap();
    let s = trafficgen::run(plan, tokio::time::sleep(std::time::Duration::from_millis(500))).await.unwrap();
    assert!(s.interrupted());
    assert!(s.requests() > 0, "{s:?}");
    assert_eq!(s.error_types()["cancelled"], s.requests(), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_names_its_run_and_its_routes() {
    let (addr, _) = target().await;
    let (ok, failing) = (format!("http://{addr}/ok"), format!("http://{addr}/status/503"));
    let s = run(&["--rate", "50", "--requests", "20", "--run-id", "r-1", "--connections", "3", &ok, &failing]).await;
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["run_id"], "r-1");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    for key in ["started_at", "ended_at"] {
        let t = v[key].as_str().unwrap();
        assert!(t.len() == 24 && t.ends_with('Z') && &t[10..11] == "T", "{key}: {t}");
    }
    assert_eq!(v["settings"]["targets"], serde_json::json!([ok, failing]));
    assert_eq!((v["settings"]["rate"].as_f64(), v["settings"]["connections"].as_u64()), (Some(50.0), Some(3)));
    assert_eq!(
        (&v["settings"]["http2"], &v["settings"]["timeout"]),
        (&serde_json::json!(false), &serde_json::json!("10s"))
    );
    // 20 requests at 50/s are 0.4 s of schedule: exactly 50 req/s, however early the last answer came.
    assert_eq!((s.duration_s(), s.achieved_rps()), (0.4, 50.0));
    let routes = v["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 2);
    assert_eq!(
        (&routes[0]["route"], &routes[0]["requests"], &routes[0]["errors"]),
        (&"/ok".into(), &10.into(), &0.into())
    );
    assert_eq!(
        (&routes[1]["route"], &routes[1]["errors"], &routes[1]["rps"]),
        (&"/status/503".into(), &10.into(), &25.0.into())
    );
    for key in ["p50_ms", "p95_ms", "p99_ms"] {
        assert!(routes[1][key].as_f64().unwrap() > 0.0, "{key}");
    }
    let text = s.render(trafficgen::input::config::Format::Text);
    assert!(text.contains("  route ") && text.contains("/status/503"), "{text}");
    // One route: no route table.
    let s = run(&["--rate", "100", "--requests", "1", &ok]).await;
    assert!(s.routes().is_empty());
    assert!(s.render(trafficgen::input::config::Format::Text).contains("no thresholds set: 1 request sent at"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_warmup_is_sent_but_left_out_of_the_summary_and_thresholds() {
    let (addr, hits) = target().await;
    // The first 50 answers are 503: all of them fall in the warm-up's 100 requests.
    let url = format!("http://{addr}/ready-after/50");
    let s = run(&["--rate", "100", "--duration", "2s", "--warmup", "1s", "--threshold", "error_rate<1%", &url]).await;
    assert_eq!(hits.total.load(Ordering::Relaxed), 200);
    assert_eq!((s.requests(), s.errors(), s.passed(), s.duration_s()), (100, 0, true, 1.0), "{s:?}");
    let warmup = s.warmup().expect("a warm-up row");
    assert_eq!((warmup.requests, warmup.errors), (100, 50));
    assert_eq!((s.stages().len(), s.stages()[0].requests), (1, 100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_send_their_integral_and_report_each_stage() {
    let (addr, hits) = target().await;
    let url = format!("http://{addr}/ok");
    let s = run(&["--stages", "1s:0->200, 1s:200", &url]).await;
    assert_eq!(hits.total.load(Ordering::Relaxed), 300);
    assert_eq!((s.requests(), s.target_rps(), s.achieved_rps()), (300, Some(150.0), 150.0));
    let rows: Vec<_> = s.stages().iter().map(|r| (r.stage, r.target.as_str(), r.requests, r.target_rps)).collect();
    assert_eq!(rows, [(1, "0->200", 100, Some(100.0)), (2, "200", 200, Some(200.0))]);
    assert!(s.warmup().is_none());
}

/// An h2 server that says GOAWAY on each connection after `after` requests; counts connections.
async fn goaway_server(after: u64) -> (std::net::SocketAddr, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::AtomicU64;
    use std::sync::Arc;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            let (seen, enough) = (Arc::new(AtomicU64::new(0)), Arc::new(tokio::sync::Notify::new()));
            let notify = enough.clone();
            let ok = hyper::service::service_fn(move |_| {
                if seen.fetch_add(1, Ordering::Relaxed) + 1 == after {
                    notify.notify_one();
                }
                let body = http_body_util::Full::new(bytes::Bytes::from_static(b"ok"));
                std::future::ready(Ok::<_, std::convert::Infallible>(http::Response::new(body)))
            });
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(tcp);
                let conn = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(io, ok);
                let mut conn = std::pin::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => return,
                    () = enough.notified() => conn.as_mut().graceful_shutdown(),
                }
                let _ = conn.await;
            });
        }
    });
    (addr, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_goaway_mid_run_moves_to_new_connections_and_is_counted() {
    let (addr, accepted) = goaway_server(7).await;
    let url = format!("http://{addr}/");
    let s = run(&["--rate", "500", "--requests", "60", "--http2", "--connections", "2", &url]).await;
    // Every request is counted: answered, or a reset when the server refused it twice.
    assert_eq!(s.requests(), 60, "{s:?}");
    assert_eq!(s.ok() + s.error_types().get("reset").copied().unwrap_or(0), 60, "{s:?}");
    assert!(s.ok() >= 50, "{s:?}");
    // Streams open when the GOAWAY comes are still answered, so a slow machine fits more than 7
    // requests on a connection; at least one GOAWAY moved the load.
    assert!(accepted.load(Ordering::Relaxed) >= 2, "{accepted:?} connections");
}

/// The JSON keys of a run's summary, a contract: a plain run has exactly these...
const PLAIN_KEYS: [&str; 25] = [
    "achieved_rps",
    "duration_s",
    "end_unix_s",
    "ended_at",
    "error_types",
    "errors",
    "histograms",
    "in_flight_at_end",
    "interrupted",
    "latency_ms",
    "ok",
    "passed",
    "requests",
    "run_id",
    "service_time_ms",
    "settings",
    "start_unix_s",
    "started_at",
    "status_codes",
    "target_rps",
    "throughput_rps",
    "thresholds",
    "timeline",
    "version",
    "dropped",
];

/// ...and a run with routes, classes, a split test, a shard, a warm-up and stages adds these.
const OPTIONAL_KEYS: [&str; 6] = ["classes", "routes", "shard", "split", "stages", "warmup"];

fn keys(s: &Summary) -> std::collections::BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(&s.render(trafficgen::input::config::Format::Json)).unwrap();
    v.as_object().expect("an object").keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_summary_has_exactly_the_committed_json_keys() {
    let (addr, _) = target().await;
    let ok = format!("http://{addr}/ok");
    let plain = run(&["--rate", "200", "--requests", "5", &ok]).await;
    let expected: std::collections::BTreeSet<String> = PLAIN_KEYS.iter().map(|k| k.to_string()).collect();
    assert_eq!(keys(&plain), expected);
    let other = format!("http://{addr}/status/200");
    let full = [
        ["--stages", "1s:40"],
        ["--warmup", "200ms"],
        ["--classify", "ok=ok"],
        ["--expect-split", "ok=1,other=1"],
        ["--shards", "2"],
        ["--shard-index", "0"],
    ];
    let args: Vec<&str> = full.iter().flatten().copied().chain([ok.as_str(), other.as_str()]).collect();
    let full = run(&args).await;
    let expected: std::collections::BTreeSet<String> =
        PLAIN_KEYS.iter().chain(&OPTIONAL_KEYS).map(|k| k.to_string()).collect();
    assert_eq!(keys(&full), expected);
}
