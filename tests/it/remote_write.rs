//! `--remote-write` through the real binary: a real Prometheus that scrapes nothing receives
//! every series of /metrics, the request counter to the summary's count, the final push after a
//! SIGTERM, and `verify --run-id` finds the run; a receiver that is down, or answers 500 and 429,
//! changes neither the verdict nor the rate, and its failures and retries are counted.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::Value;

use crate::support::{bin, closed_addr, closed_port, eventually, external, http_get, target, Killed};

/// A Prometheus with the remote-write receiver on and no scrape configuration at all.
struct Receiver {
    addr: SocketAddr,
    dir: PathBuf,
    _server: Killed,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn receiver() -> Option<Receiver> {
    let prometheus = external("prometheus")?;
    let addr = closed_addr();
    let dir = std::env::temp_dir().join(format!("trafficgen-rw-{}-{}", std::process::id(), addr.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global: {evaluation_interval: 1s}\n").unwrap();
    let server =
        crate::support::prometheus_with(&prometheus, &config, &dir, addr, &["--web.enable-remote-write-receiver"]);
    Some(Receiver { addr, dir, _server: server })
}

/// The series `promql` answers, evaluated at `time` (Unix seconds) or now: labels and value.
fn query(prometheus: SocketAddr, promql: &str, time: Option<f64>) -> Vec<(Value, f64)> {
    let mut q = serde_urlencoded::to_string([("query", promql)]).unwrap();
    if let Some(t) = time {
        q.push_str(&format!("&time={t:.3}"));
    }
    let body = http_get(prometheus, &format!("/api/v1/query?{q}")).expect("Prometheus answers");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["status"], "success", "{promql}: {body}");
    let value = |s: &Value| s["value"][1].as_str().unwrap().parse::<f64>().unwrap();
    v["data"]["result"].as_array().unwrap().iter().map(|s| (s["metric"].clone(), value(s))).collect()
}

/// The one value `promql` answers.
fn scalar(prometheus: SocketAddr, promql: &str, time: Option<f64>) -> f64 {
    let found = query(prometheus, promql, time);
    assert_eq!(found.len(), 1, "{promql}: {found:?}");
    found[0].1
}

/// `name{k="v",...}` lines of a text exposition, as `name|k=v,k=v` with labels sorted, as a
/// scrape would store them.
fn exposed(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let series = l.rsplit_once(' ').unwrap().0;
            let (name, labels) = series.split_once('{').unwrap_or((series, "}"));
            let mut pairs: Vec<String> = labels
                .trim_end_matches('}')
                .split("\",")
                .map(|p| p.trim_end_matches('"').replacen("=\"", "=", 1))
                // An empty value is no label: a scrape stores the series without it.
                .filter(|p| !p.is_empty() && !p.ends_with('='))
                .collect();
            pairs.sort();
            format!("{name}|{}", pairs.join(","))
        })
        .collect()
}

/// A series as Prometheus returns it, in the form of [`exposed`], without the pushed labels.
fn stored(metric: &Value) -> String {
    let map = metric.as_object().unwrap();
    let mut pairs: Vec<String> = map
        .iter()
        .filter(|(k, _)| !["__name__", "job", "instance", "env"].contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
        .collect();
    pairs.sort();
    format!("{}|{}", map["__name__"].as_str().unwrap(), pairs.join(","))
}

fn finished(child: std::process::Child) -> (Option<i32>, Value, String) {
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr).into_owned());
    let summary = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    (status.code(), summary, stderr)
}

fn run(url: &str, args: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.args(["run", "--progress-interval", "0s", "--output", "json", "--rate", "100"])
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_remote_written_to_a_prometheus_that_scrapes_nothing_lands_every_series() {
    let Some(rx) = receiver() else { return };
    let (target, hits) = target().await;
    let generator = closed_addr();
    let run_id = format!("rw-{}", generator.port());
    let write = format!("http://{}/api/v1/write", rx.addr);
    let child = run(&format!("http://{target}/ok"), &["--duration", "10s", "--remote-write-interval", "1s"])
        .args(["--remote-write", &write, "--run-id", &run_id, "--metrics-addr", &generator.to_string()])
        .args(["--remote-write-label", "env=ci"])
        .spawn()
        .unwrap();
    // Every series /metrics serves while the run sends (all of them exist by the first response).
    eventually(10, "the first responses", || (hits.total.load(Ordering::Relaxed) > 0).then_some(()).ok_or("none"));
    let scraped = exposed(&http_get(generator, "/metrics").expect("/metrics"));
    let (code, summary, stderr) = finished(child);
    assert_eq!(code, Some(0), "{summary}{stderr}");
    let requests = summary["requests"].as_f64().unwrap();
    assert_eq!(requests, 1000.0, "{summary}");

    // Every push's samples, with their times: the first is the run's start, at zero; a range
    // leaves out the staleness markers that end the series.
    let counter = r#"http_client_request_duration_seconds_count{job="trafficgen", route="/ok"}"#;
    let times = sample_times(rx.addr, &format!("{counter}[1h]"));
    let (first, last) = (times[0], *times.last().unwrap());
    // Every series, as the final push left it; since then each has ended.
    let series = query(rx.addr, r#"{job="trafficgen"}"#, Some(last));
    assert!(series.iter().all(|(m, _)| m["env"] == "ci" && m["instance"].as_str().is_some_and(|i| !i.is_empty())));
    let pushed: BTreeSet<String> = series.iter().map(|(m, _)| stored(m)).collect();
    let missing: Vec<&String> = scraped.difference(&pushed).collect();
    assert!(missing.is_empty(), "series of /metrics not remote-written: {missing:?}\npushed: {pushed:?}");
    let live = query(rx.addr, r#"{job="trafficgen"}"#, None);
    assert!(live.is_empty(), "series not ended by a staleness marker: {live:?}");
    let last_value = scalar(rx.addr, &format!("sum(last_over_time({counter}[1h]))"), None);
    let range = ((last - first) * 1000.0).round() as u64 + 500;
    let increase = scalar(rx.addr, &format!("sum(increase({counter}[{range}ms]))"), Some(last));
    eprintln!(
        "REMOTE WRITE 10 s at 100 req/s: summary requests {requests}; Prometheus last value {last_value}, \
         increase over the run {increase}; {} pushes from {first} to {last}; {} series of /metrics, all pushed; \
         summary remote_write {}",
        times.len(),
        scraped.len(),
        summary["remote_write"]
    );
    assert_eq!((last_value, increase), (requests, requests));
    assert_eq!(summary["remote_write"]["failed_samples"], 0, "{summary}");
    assert!(summary["remote_write"]["sent_samples"].as_u64().unwrap() > 0, "{summary}");

    // `verify --run-id` finds the run from its pushed trafficgen_run_info, as it would a scraped one.
    let check = format!(
        "requests: sum(max_over_time(http_client_request_duration_seconds_count[$window]) and on (instance, job) $trafficgen) == {requests}"
    );
    let verify = bin()
        .args(["verify", "--prometheus", &format!("http://{}", rx.addr), "--run-id", &run_id])
        .args(["--scrape-interval", "1s", "--check", &check])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&verify.stdout);
    eprintln!("REMOTE WRITE verify --run-id {run_id}:\n{table}{}", String::from_utf8_lossy(&verify.stderr));
    assert_eq!(verify.status.code(), Some(0), "{table}");
}

/// The timestamps of a range selector's samples, oldest first.
fn sample_times(prometheus: SocketAddr, selector: &str) -> Vec<f64> {
    let q = serde_urlencoded::to_string([("query", selector)]).unwrap();
    let body = http_get(prometheus, &format!("/api/v1/query?{q}")).expect("Prometheus answers");
    let v: Value = serde_json::from_str(&body).unwrap();
    let series = v["data"]["result"].as_array().unwrap();
    assert_eq!(series.len(), 1, "{body}");
    series[0]["values"].as_array().unwrap().iter().map(|p| p[0].as_f64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_sigterm_the_final_push_still_lands() {
    let Some(rx) = receiver() else { return };
    let (target, hits) = target().await;
    let write = format!("http://{}/api/v1/write", rx.addr);
    // Basic auth from files (Prometheus takes the header and ignores it).
    let (user, password) = (rx.dir.join("user"), rx.dir.join("password"));
    std::fs::write(&user, "trafficgen\n").unwrap();
    std::fs::write(&password, "s3cret\n").unwrap();
    // A push every minute: only the start's and the final one land before the signal's exit.
    let child = run(&format!("http://{target}/ok"), &["--remote-write-interval", "1m", "--metrics-addr", "off"])
        .args(["--remote-write", &write])
        .arg(format!("--remote-write-username-file={}", user.display()))
        .arg(format!("--remote-write-password-file={}", password.display()))
        .spawn()
        .unwrap();
    eventually(10, "some load", || (hits.total.load(Ordering::Relaxed) >= 100).then_some(()).ok_or("not yet"));
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let (code, summary, stderr) = finished(child);
    assert_eq!(code, Some(143), "{summary}{stderr}");
    assert_eq!(summary["interrupted"], true);
    let requests = summary["requests"].as_f64().unwrap();
    let stored = scalar(rx.addr, "sum(last_over_time(http_client_request_duration_seconds_count[1h]))", None);
    eprintln!(
        "REMOTE WRITE SIGTERM after {requests} requests: Prometheus has {stored}; remote_write {}",
        summary["remote_write"]
    );
    assert!(requests >= 100.0, "{summary}");
    assert_eq!(stored, requests);
    assert!(stderr.contains("remote-wrote the final metrics"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_is_down_changes_neither_verdict_nor_rate() {
    let (target, _) = target().await;
    let write = format!("http://127.0.0.1:{}/api/v1/write", closed_port());
    let started = Instant::now();
    let child = run(&format!("http://{target}/ok"), &["--duration", "3s", "--metrics-addr", "off"])
        .args(["--remote-write", &write, "--remote-write-interval", "1s", "--threshold", "error_rate<1%"])
        .spawn()
        .unwrap();
    let (code, summary, stderr) = finished(child);
    let rw = &summary["remote_write"];
    eprintln!(
        "REMOTE WRITE receiver down: exit {code:?} after {:?}, {} requests at {} req/s, passed {}; remote_write {rw}",
        started.elapsed(),
        summary["requests"],
        summary["achieved_rps"],
        summary["passed"]
    );
    assert_eq!(code, Some(0), "{summary}{stderr}");
    assert_eq!((summary["requests"].as_u64(), summary["passed"].as_bool()), (Some(300), Some(true)));
    assert_eq!(rw["sent_samples"], 0);
    assert!(rw["failed_samples"].as_u64().unwrap() > 0 && rw["retries"].as_u64().unwrap() > 0, "{rw}");
    assert!(stderr.contains("the final remote write failed") && stderr.contains("connect"), "{stderr}");
}

/// What a stand-in receiver saw: when each push came and its headers.
type Seen = Arc<Mutex<Vec<(Instant, HeaderMap)>>>;

/// A receiver answering `script` in turn (status, Retry-After), then 200; every body must be
/// snappy-compressed protobuf.
async fn standin(script: Vec<(u16, Option<&'static str>)>) -> (SocketAddr, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            let script = script.clone();
            async move {
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push((Instant::now(), headers));
                    log.len() - 1
                };
                if snap::raw::Decoder::new().decompress_vec(&body).is_err() {
                    return StatusCode::BAD_REQUEST.into_response();
                }
                match script.get(n) {
                    Some((status, after)) => {
                        let mut r = StatusCode::from_u16(*status).unwrap().into_response();
                        if let Some(after) = after {
                            r.headers_mut().insert("retry-after", after.parse().unwrap());
                        }
                        r
                    }
                    None => StatusCode::NO_CONTENT.into_response(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_retried_and_a_429_waits_for_its_retry_after() {
    let (target, _) = target().await;
    let (receiver, seen) = standin(vec![(500, None), (429, Some("2"))]).await;
    let dir = std::env::temp_dir().join(format!("trafficgen-rw-token-{}-{}", std::process::id(), receiver.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let child = run(&format!("http://{target}/ok"), &["--duration", "3s", "--metrics-addr", "off"])
        .args(["--remote-write", &format!("http://{receiver}/api/v1/write"), "--remote-write-interval", "1s"])
        .args(["--remote-write-header", "X-Scope-OrgID: tenant-a"])
        .arg(format!("--remote-write-bearer-token-file={}", token.display()))
        .spawn()
        .unwrap();
    let (code, summary, stderr) = finished(child);
    let _ = std::fs::remove_dir_all(&dir);
    let rw = &summary["remote_write"];
    let seen = seen.lock().unwrap();
    let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1].0 - w[0].0).collect();
    eprintln!("REMOTE WRITE 500 then 429 (Retry-After: 2) then 2xx: remote_write {rw}; gaps between pushes {gaps:?}");
    assert_eq!(code, Some(0), "{summary}{stderr}");
    assert_eq!((summary["requests"].as_u64(), summary["passed"].as_bool()), (Some(300), Some(true)));
    assert_eq!((rw["retries"].as_u64(), rw["failed_samples"].as_u64()), (Some(2), Some(0)), "{rw}");
    assert!(rw["sent_samples"].as_u64().unwrap() > 0);
    // The 500's retry waits the first backoff; the 429's waits the two seconds it asked for.
    assert!(gaps[0] >= Duration::from_millis(200), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(1900), "{gaps:?}");
    let headers = &seen[0].1;
    for (name, value) in [
        ("content-encoding", "snappy"),
        ("content-type", "application/x-protobuf"),
        ("x-prometheus-remote-write-version", "0.1.0"),
        ("x-scope-orgid", "tenant-a"),
        ("authorization", "Bearer s3cret"),
    ] {
        assert_eq!(headers.get(name).and_then(|v| v.to_str().ok()), Some(value), "{name}: {headers:?}");
    }
}
