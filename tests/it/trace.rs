//! Trace headers on the wire, and the client spans a local OTLP/HTTP receiver gets.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::Output;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;

use crate::support::{bin, closed_addr};

/// What the header-recording target and the OTLP receiver saw.
#[derive(Debug, Default)]
struct Seen {
    headers: Mutex<Vec<HashMap<String, String>>>,
    batches: Mutex<Vec<serde_json::Value>>,
}

/// `/ok` and `/fail` (500) record each request's headers; `POST /v1/traces` keeps each OTLP batch.
async fn recorder() -> (SocketAddr, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let keep = |seen: Arc<Seen>, status: StatusCode| {
        move |headers: HeaderMap| async move {
            let map = headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string())).collect();
            seen.headers.lock().unwrap().push(map);
            status
        }
    };
    let otlp = seen.clone();
    let app = Router::new()
        .route("/ok", get(keep(seen.clone(), StatusCode::OK)))
        .route("/fail", get(keep(seen.clone(), StatusCode::INTERNAL_SERVER_ERROR)))
        .route(
            "/v1/traces",
            post(move |headers: HeaderMap, body: Bytes| async move {
                assert_eq!(headers["content-type"], "application/json");
                otlp.batches.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
                "{}"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        bin()
            .args(["--metrics-addr", "off", "--progress-interval", "0s", "--output", "json"])
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && s.bytes().any(|b| b != b'0')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_matching_w3c_and_b3_ids_and_sampled_spans_are_exported() {
    let (addr, seen) = recorder().await;
    let n = 600;
    let args = ["--rate", "300", "--requests", &n.to_string(), "--trace-sample", "0.25"];
    let mut args: Vec<String> = args.iter().map(ToString::to_string).collect();
    args.extend([format!("--otlp-endpoint=http://{addr}"), format!("http://{addr}/ok")]);
    let out = run(args).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let headers = seen.headers.lock().unwrap().clone();
    assert_eq!(headers.len(), n);
    let mut sampled = HashSet::new();
    for h in &headers {
        let parts: Vec<&str> = h["traceparent"].split('-').collect();
        assert_eq!(parts.len(), 4, "{h:?}");
        assert!(parts[0] == "00" && is_hex(parts[1], 32) && is_hex(parts[2], 16), "{h:?}");
        assert!(matches!(parts[3], "00" | "01"), "{h:?}");
        assert_eq!(
            (h["x-b3-traceid"].as_str(), h["x-b3-spanid"].as_str()),
            (parts[1], parts[2]),
            "b3 ids = traceparent ids"
        );
        assert_eq!(h["x-b3-sampled"] == "1", parts[3] == "01");
        if parts[3] == "01" {
            sampled.insert((parts[1].to_string(), parts[2].to_string()));
        }
    }
    let ids: HashSet<&String> = headers.iter().map(|h| &h["x-request-id"]).collect();
    assert_eq!(ids.len(), n, "x-request-id is unique");
    let (mean, sd) = (n as f64 * 0.25, (n as f64 * 0.25 * 0.75).sqrt());
    assert!((sampled.len() as f64 - mean).abs() <= 3.0 * sd, "{} sampled of {n}", sampled.len());

    let batches = seen.batches.lock().unwrap().clone();
    let spans: Vec<&serde_json::Value> =
        batches.iter().flat_map(|b| b["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().unwrap()).collect();
    let exported: HashSet<(String, String)> = spans
        .iter()
        .map(|s| (s["traceId"].as_str().unwrap().to_string(), s["spanId"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(exported, sampled, "one span per sampled request, with the ids it sent");
    assert!(spans.iter().all(|s| s["kind"] == 3 && s["name"] == "GET"));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["spans"]["exported"], sampled.len());
    assert_eq!(summary["spans"]["dropped"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_receiver_down_the_run_goes_on_and_counts_dropped_spans() {
    let (addr, seen) = recorder().await;
    let args = vec![
        "--rate".into(),
        "200".into(),
        "--requests".into(),
        "200".into(),
        "--trace-sample".into(),
        "100%".into(),
        format!("--otlp-endpoint=http://{}", closed_addr()),
        format!("http://{addr}/ok"),
    ];
    let out = run(args).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((summary["requests"].as_u64(), summary["errors"].as_u64()), (Some(200), Some(0)));
    assert!(summary["achieved_rps"].as_f64().unwrap() > 150.0, "{summary}");
    assert_eq!(summary["spans"]["exported"], 0);
    assert_eq!(summary["spans"]["dropped"], 200, "{summary}");
    assert_eq!(seen.headers.lock().unwrap().len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sampled_failed_request_logs_its_trace_id_and_none_sends_no_trace_headers() {
    let (addr, seen) = recorder().await;
    let args = ["--requests", "2", "--trace-headers", "w3c", "--log-format", "json"];
    let out = run(args.iter().map(ToString::to_string).chain([format!("http://{addr}/fail")]).collect()).await;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let headers = seen.headers.lock().unwrap().clone();
    assert!(headers.iter().all(|h| !h.contains_key("x-b3-traceid")), "w3c only");
    // Failures are sampled: the first one is logged with its ids, the next only counted (unless
    // a new sampling period began in between).
    let logged = headers.iter().filter(|h| {
        let trace_id = h["traceparent"].split('-').nth(1).unwrap();
        let found = stderr.contains(&format!(r#""trace_id":"{trace_id}""#));
        assert_eq!(found, stderr.contains(&format!(r#""request_id":"{}""#, h["x-request-id"])), "{stderr}");
        found
    });
    assert!((1..=2).contains(&logged.count()), "{stderr}");
    assert!(stderr.contains(r#""failed":1"#), "the sampled line counts the failures: {stderr}");
    seen.headers.lock().unwrap().clear();
    let out = run(vec![
        "--requests".into(),
        "1".into(),
        "--trace-headers".into(),
        "none".into(),
        format!("http://{addr}/ok"),
    ])
    .await;
    assert!(out.status.success());
    let h = seen.headers.lock().unwrap()[0].clone();
    assert!(!h.contains_key("traceparent") && !h.contains_key("x-request-id"), "{h:?}");
}
