//! `trafficgen capacity` through the binary: a search against `serve --workers 8 --delay 10ms`,
//! and its exit codes.

use std::process::{Command, Output};
use std::sync::atomic::Ordering;

use crate::support::{bin, closed_addr, eventually, http_get, spawn, target};

fn capacity(args: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.args(["capacity", "--metrics-addr", "off", "--progress-interval", "0s", "--output", "json"]).args(args);
    cmd.output().expect("binary runs")
}

/// The JSON lines on stdout: the steps, then the outcome.
fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[test]
fn finds_the_capacity_of_k_workers_behind_a_queue() {
    let addr = closed_addr();
    let _serve = spawn(Command::new(env!("CARGO_BIN_EXE_trafficgen")).args([
        "serve",
        "--listen",
        &addr.to_string(),
        "--workers",
        "8",
        "--delay",
        "10ms",
    ]));
    eventually(10, "serve to answer", || http_get(addr, "/healthz").ok_or("no answer"));
    let url = format!("http://{addr}/");
    // 8 workers / 10 ms = 800 req/s; short steps keep the whole search near half a minute.
    let out = capacity(&["--slo", "p99<50ms", "--start", "200", "--step-duration", "2s", "--cooldown", "500ms", &url]);
    let lines = json_lines(&out);
    let (last, steps) = lines.split_last().expect("output");
    assert_eq!(out.status.code(), Some(0), "{lines:?}");
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(step["step"], i + 1);
        for key in ["rate", "achieved_rps", "p99_ms", "error_rate", "held"] {
            assert!(step.get(key).is_some(), "{key} in {step}");
        }
    }
    let found = last["capacity_rps"].as_f64().expect("a capacity");
    // At a quarter of the capacity nothing queues: p99 is the 10 ms service plus this machine's
    // scheduling noise. When other work (the other tests) starves both processes of CPU, that
    // noise alone can break a 50 ms SLO early, and the search measures the machine, not the
    // queue. Only then is a capacity below the range no finding: say so loudly.
    let floor = steps[0]["p99_ms"].as_f64().unwrap_or(f64::MAX);
    if found < 700.0 && floor > 20.0 {
        eprintln!("SKIPPED the range check: p99 {floor} ms at 200 req/s against a 10 ms service, the machine was too busy ({lines:?})");
        return;
    }
    assert!((700.0..=880.0).contains(&found), "{lines:?}");
    assert_eq!((last["passed"].as_bool(), last["steps"].as_u64()), (Some(true), Some(steps.len() as u64)));
    assert!(last["p99_ms"].as_f64().unwrap() < 50.0, "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_3_when_start_breaks_and_1_when_max_holds() {
    let (addr, _) = target().await;
    let broken = format!("http://{addr}/status/500");
    let out = capacity(&["--slo", "error_rate<1%", "--start", "50", "--step-duration", "1s", &broken]);
    let lines = json_lines(&out);
    assert_eq!(out.status.code(), Some(3), "{lines:?}");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!((lines[0]["held"].as_bool(), lines[1]["end"].as_str()), (Some(false), Some("start_broke")));
    assert!(lines[1]["capacity_rps"].is_null());
    let ok = format!("http://{addr}/ok");
    let args = ["--slo", "p99<5s", "--start", "50", "--max", "100", "--step-duration", "1s", "--cooldown", "0s", &ok];
    let out = capacity(&args);
    let lines = json_lines(&out);
    assert_eq!(out.status.code(), Some(1), "{lines:?}");
    let rates: Vec<_> = lines[..2].iter().map(|l| l["rate"].as_f64().unwrap()).collect();
    assert_eq!(rates, [50.0, 100.0]);
    assert_eq!((lines[2]["end"].as_str(), lines[2]["capacity_rps"].as_f64()), (Some("max_held"), Some(100.0)));
    assert!(lines[2]["message"].as_str().unwrap().contains("--max 100.0 req/s held"), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_capacity_settings_exit_2_before_sending() {
    let (addr, hits) = target().await;
    let url = format!("http://{addr}/ok");
    for (args, env, needle) in [
        (vec!["--slo", "p99<"], None, r#"invalid --slo="p99<""#),
        (vec![], None, "invalid --slo=\"\": expected at least one rule"),
        (vec!["--slo", "p99<1s", "--start", "abc"], None, r#"invalid --start="abc""#),
        (
            vec!["--slo", "p99<1s", "--start", "100", "--max", "50"],
            None,
            r#"invalid --max="50": expected a rate at least --start"#,
        ),
        (vec!["--slo", "p99<1s", "--step", "1x"], None, r#"invalid --step="1x""#),
        (vec!["--slo", "p99<1s", "--rate", "5"], None, r#"invalid --rate="5": expected nothing"#),
        (
            vec!["--slo", "p99<1s"],
            Some(("TRAFFICGEN_STEP_DURATION", "soon")),
            r#"invalid TRAFFICGEN_STEP_DURATION="soon""#,
        ),
        (vec![], Some(("TRAFFICGEN_SLO", "p99<1s,bogus<1")), r#"invalid TRAFFICGEN_SLO="bogus<1""#),
        (vec!["--slo", "p99<1s", "--warmup", "30s"], None, r#"invalid --warmup="30s""#),
    ] {
        let mut cmd = bin();
        cmd.args(["capacity", "--metrics-addr", "off"]).args(&args).arg(&url);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    assert_eq!(hits.total.load(Ordering::Relaxed), 0, "nothing may be sent on a config error");
}
