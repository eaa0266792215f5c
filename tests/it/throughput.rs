//! Sent and completed side by side, through the binary: `serve --workers 4 --delay 50ms` answers
//! some 80 req/s; driven at 150 req/s, the summary must say what was completed, not only sent,
//! and capacity must not credit it with more than it completes.

use std::process::Command;

use crate::support::{bin, closed_addr, eventually, http_get, spawn, Killed};

/// The overloaded target: 4 requests in service at once, 50 ms each.
fn overloaded() -> (Killed, String) {
    let addr = closed_addr();
    let serve = spawn(Command::new(env!("CARGO_BIN_EXE_trafficgen")).args([
        "serve",
        "--listen",
        &addr.to_string(),
        "--workers",
        "4",
        "--delay",
        "50ms",
    ]));
    eventually(10, "serve to answer", || http_get(addr, "/healthz").ok_or("no answer"));
    (serve, format!("http://{addr}/"))
}

#[test]
fn an_overloaded_target_shows_what_it_completed_beside_what_was_sent() {
    let (_serve, url) = overloaded();
    let dir = crate::compare::tempdir("overload");
    let file = dir.join("summary.json");
    let out = bin()
        .args(["--metrics-addr", "off", "--progress-interval", "1s", "--rate", "150", "--duration", "6s"])
        .args(["--threshold", "throughput_rps>=140", "--summary-file"])
        .arg(&file)
        .arg(&url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let (sent, done) = (v["achieved_rps"].as_f64().unwrap(), v["throughput_rps"].as_f64().unwrap());
    assert!((140.0..=160.0).contains(&sent), "sent {sent}: {v}");
    assert!((68.0..=92.0).contains(&done), "completed {done}, not within 15% of 80: {text}");
    assert!(v["in_flight_at_end"].as_u64().unwrap() > 200, "{v}");
    assert_eq!(out.status.code(), Some(3), "the threshold on completions fails: {text}");
    assert!(text.contains("target did not keep up: ") && text.contains(" still in flight"), "{text}");
    assert!(text.contains("FAIL throughput_rps>=140"), "{text}");
    let verdict = text.lines().find(|l| l.contains("verdict")).unwrap();
    assert!(verdict.contains(" sent at 15") && verdict.contains(" req/s completed"), "{verdict}");
    // While sending, progress lines show some 80 req/s completed beside 150 sent.
    assert!(stderr.lines().any(|l| l.contains(" rps=") && l.contains(" sent=1")), "{stderr}");
}

#[test]
fn capacity_is_judged_on_completions() {
    let (_serve, url) = overloaded();
    let out = bin()
        .args(["capacity", "--metrics-addr", "off", "--progress-interval", "0s"])
        .args(["--slo", "p99<30s", "--start", "40", "--step-duration", "3s", "--cooldown", "2s", &url])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("sent") && text.contains("completed") && text.contains("dropped"), "{text}");
    let found: f64 = text
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("capacity "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a capacity in {text}"));
    assert!(found <= 88.0, "a target completing 80 req/s credited with {found}: {text}");
    assert!(text.contains("no (completed "), "a step broke on completions: {text}");
}
