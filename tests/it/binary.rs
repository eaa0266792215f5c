//! The built binary: exit codes, JSON on stdout, /metrics while running (signals: see `faults_bin`).

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::support::{bin, closed_addr, closed_port, external, http_get, spawn, target};

fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("binary runs");
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

fn quiet(cmd: &mut Command) -> &mut Command {
    cmd.args(["--metrics-addr", "off", "--progress-interval", "0s"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_errors_exit_2_before_sending() {
    let (addr, hits) = target().await;
    let url = format!("http://{addr}/ok");
    for (args, env, needle) in [
        (vec!["--rate", "abc", url.as_str()], None, "invalid --rate=\"abc\""),
        (vec!["--bogus", url.as_str()], None, "--bogus"),
        (vec![], None, "no target URL"),
        (vec![url.as_str()], Some(("TRAFFICGEN_DURATION", "soon")), "invalid TRAFFICGEN_DURATION=\"soon\""),
        (vec!["--threshold", "p99<", url.as_str()], None, "invalid --threshold=\"p99<\""),
    ] {
        let mut cmd = bin();
        cmd.args(&args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let (code, _, stderr) = output(&mut cmd);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    assert_eq!(hits.total.load(Ordering::Relaxed), 0, "nothing may be sent on a config error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_and_json_summary() {
    let (addr, _) = target().await;
    let ok = format!("http://{addr}/ok");
    let (code, stdout, _) =
        output(quiet(&mut bin()).args(["--rate", "100", "--requests", "10", "--output", "json", &ok]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    for key in trafficgen::output::report::JSON_KEYS {
        assert!(v.get(key).is_some(), "missing {key} in {stdout}");
    }
    assert_eq!(v["requests"], 10);
    let bad = format!("http://{addr}/status/500");
    let (code, stdout, _) =
        output(quiet(&mut bin()).args(["--rate", "100", "--requests", "5", "--threshold", "error_rate<1%", &bad]));
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("FAILED (error_rate<1%)"), "{stdout}");
    // Without thresholds, a run in which nothing succeeded fails (exit 3), counted and labelled.
    let refused = format!("http://127.0.0.1:{}/", closed_port());
    let (code, stdout, _) = output(quiet(&mut bin()).args(["--rate", "100", "--requests", "5", &refused]));
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("connect=5"), "{stdout}");
    assert!(stdout.contains("FAILED (no request succeeded)"), "{stdout}");
    // Metrics port taken: runtime failure.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let (code, _, stderr) = output(bin().args(["--metrics-addr", &port, "--requests", "1", &ok]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--metrics-addr"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_while_running_and_pass_promtool() {
    let (addr, _) = target().await;
    let metrics = closed_addr();
    let child = spawn(
        bin()
            .args(["--rate", "50", "--duration", "20s", "--progress-interval", "0s", "--metrics-addr"])
            .arg(metrics.to_string())
            .args([format!("http://{addr}/ok"), format!("http://{addr}/status/503")]),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        match http_get(metrics, "/metrics") {
            Some(t) if t.contains(r#"http_response_status_code="503""#) => break t,
            _ if Instant::now() > deadline => panic!("no metrics within 10s"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    assert_eq!(http_get(metrics, "/healthz").as_deref(), Some("ok\n"));
    drop(child);
    for needle in [
        "# TYPE http_client_request_duration_seconds histogram",
        r#"error_type="http_5xx",http_request_method="GET",http_response_status_code="503",route="/status/503",server_address="127.0.0.1",shard="0",le="0.005""#,
        r#"route="/ok",server_address="127.0.0.1",shard="0",le="10"}"#,
        r#"trafficgen_target_rps{shard="0"} 50"#,
        "trafficgen_in_flight_requests",
        r#"trafficgen_requests_dropped_total{shard="0"} 0"#,
        r#"trafficgen_build_info{version=""#,
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    let Some(promtool) = external("promtool") else {
        return;
    };
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut check.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
