//! Around the run in a Job: --wait-for, --linger, --mesh-shutdown, --pushgateway, sharding.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use crate::support::{bin, closed_addr, closed_port, eventually, external, http_get, spawn, target};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(["--progress-interval", "0s"]).args(args).output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_gates_the_start_and_times_out() {
    let (addr, hits) = target().await;
    let ok = format!("http://{addr}/ok");
    let gate = format!("http://{addr}/ready-after/2");
    let (code, out, err) = run(&["--metrics-addr", "off", "--requests", "3", "--wait-for", &gate, &ok]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(hits.probes.load(Ordering::Relaxed), 3, "two 503s, then the 200");
    let never = format!("http://127.0.0.1:{}/", closed_port());
    let (code, _, err) =
        run(&["--metrics-addr", "off", "--requests", "3", "--wait-for", &never, "--wait-timeout", "1s", &ok]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--wait-for"), "{err}");
    // Backing off, and one readable line per 5 s, not one per try.
    assert_eq!(err.matches("waiting for --wait-for").count(), 1, "{err}");
    assert!(err.contains("last try got connect error"), "{err}");
    assert_eq!(
        hits.total.load(Ordering::Relaxed) - hits.probes.load(Ordering::Relaxed),
        3,
        "nothing sent after a failed gate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mesh_shutdown_posts_to_the_sidecar_even_on_bad_config() {
    let (addr, hits) = target().await;
    let quit = format!("http://{addr}/quitquitquit");
    let (code, ..) =
        run(&["--metrics-addr", "off", "--requests", "2", "--mesh-shutdown", &quit, &format!("http://{addr}/ok")]);
    assert_eq!(code, 0);
    assert_eq!(hits.quits.load(Ordering::Relaxed), 1);
    let (code, ..) = run(&["--rate", "fast", "--mesh-shutdown", &quit, "http://a/"]);
    assert_eq!(code, 2);
    assert_eq!(hits.quits.load(Ordering::Relaxed), 2);
    // auto outside a pod does nothing (and does not fail).
    let (code, ..) = run(&["--metrics-addr", "off", "--requests", "1", &format!("http://{addr}/ok")]);
    assert_eq!(code, 0);
    assert_eq!(hits.quits.load(Ordering::Relaxed), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linger_keeps_final_metrics_scrapeable() {
    let (addr, _) = target().await;
    let metrics = closed_addr();
    let mut child = bin()
        .args([
            "--progress-interval",
            "0s",
            "--requests",
            "3",
            "--linger",
            "3s",
            "--output",
            "json",
            "--run-id",
            "linger-1",
        ])
        .args(["--metrics-addr", &metrics.to_string(), &format!("http://{addr}/ok")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.contains("\"requests\":3"), "{line}");
    let text = http_get(metrics, "/metrics").expect("metrics still served after the summary");
    assert!(
        text.contains(r#"http_response_status_code="200",route="/ok",server_address="127.0.0.1",shard="0"} 3"#),
        "{text}"
    );
    assert!(text.contains(r#"trafficgen_run_info{run_id="linger-1",shard="0"} 1"#), "{text}");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_take_their_share_and_say_so() {
    let (addr, hits) = target().await;
    let url = format!("http://{addr}/ok");
    let mut total = 0;
    for index in 0..3 {
        let mut cmd = bin();
        cmd.args([
            "--progress-interval",
            "0s",
            "--metrics-addr",
            "off",
            "--output",
            "json",
            "--rate",
            "300",
            "--requests",
            "10",
            "--shards",
            "3",
            &url,
        ]);
        let out = cmd.env("JOB_COMPLETION_INDEX", index.to_string()).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["shard"]["index"], index);
        assert_eq!(v["shard"]["count"], 3);
        assert_eq!(v["target_rps"], 100.0);
        total += v["requests"].as_u64().unwrap();
    }
    assert_eq!(total, 10);
    assert_eq!(hits.total.load(Ordering::Relaxed), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushgateway_keeps_the_final_samples() {
    let Some(pushgateway) = external("prometheus-pushgateway") else {
        return;
    };
    let (addr, _) = target().await;
    let pg = closed_addr();
    let _server = spawn(Command::new(pushgateway).arg(format!("--web.listen-address={pg}")));
    eventually(10, "pushgateway", || http_get(pg, "/-/ready").ok_or("not ready"));
    let (code, out, err) = run(&[
        "--metrics-addr",
        "off",
        "--requests",
        "4",
        "--run-id",
        "cron-42",
        "--pushgateway",
        &format!("http://{pg}"),
        &format!("http://{addr}/ok"),
    ]);
    let pushed = http_get(pg, "/metrics").unwrap_or_default();
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        pushed.contains(r#"trafficgen_run_info{instance="cron-42",job="trafficgen",run_id="cron-42",shard="0"} 1"#),
        "{pushed}"
    );
    assert!(pushed.contains(r#"http_client_request_duration_seconds_count{error_type="",http_request_method="GET",http_response_status_code="200",instance="cron-42",job="trafficgen",route="/ok",server_address="127.0.0.1",shard="0"} 4"#), "{pushed}");
}
