//! `trafficgen merge` through the binary: three shards of one run against a 5 ms target, merged
//! from their files and from the same as `kubectl logs --prefix` text.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::compare::tempdir;
use crate::support::{bin, closed_addr, eventually, http_get, spawn};

fn merge(args: &[&str], files: &[&Path], stdin: Option<&str>) -> Output {
    let mut cmd = bin();
    cmd.arg("merge").args(args).args(files).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn three_shards_merge_into_one_result_from_files_or_logs() {
    let addr = closed_addr();
    let _serve = spawn(Command::new(env!("CARGO_BIN_EXE_trafficgen")).args([
        "serve",
        "--listen",
        &addr.to_string(),
        "--delay",
        "5ms",
    ]));
    eventually(10, "serve to answer", || http_get(addr, "/healthz").ok_or("no answer"));
    let url = format!("http://{addr}/");
    let dir = tempdir("merge");
    let shards: Vec<_> = (0..3)
        .map(|i| {
            let file = dir.join(format!("shard-{i}.json"));
            let child = bin()
                .args(["--metrics-addr", "off", "--progress-interval", "0s", "--output", "json"])
                .args(["--rate", "60", "--duration", "2s", "--run-id", "nightly-1", "--shards", "3"])
                .args(["--shard-index", &i.to_string(), "--threshold", "p99<2s", "--summary-file"])
                .arg(&file)
                .arg(&url)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (file, child)
        })
        .collect();
    let mut logs = String::new();
    let mut files = Vec::new();
    for (i, (file, child)) in shards.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // What `kubectl logs --prefix` shows: stderr and stdout lines, each behind its pod.
        for line in String::from_utf8_lossy(&out.stderr).lines().chain(String::from_utf8_lossy(&out.stdout).lines()) {
            logs.push_str(&format!("[pod/trafficgen-{i}-x7k2p/trafficgen] {line}\n"));
        }
        files.push(file);
    }
    let paths: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
    let from_files = merge(&["--output", "json"], &paths, None);
    assert_eq!(from_files.status.code(), Some(0), "{}", String::from_utf8_lossy(&from_files.stderr));
    let from_logs = merge(&["--output", "json", "-"], &[], Some(&logs));
    let (a, b) = (json(&from_files), json(&from_logs));
    for key in
        ["requests", "ok", "errors", "achieved_rps", "throughput_rps", "latency_ms", "histograms", "run_id", "passed"]
    {
        assert_eq!(a[key], b[key], "{key}");
    }
    let each: Vec<serde_json::Value> =
        files.iter().map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap()).collect();
    let sum: u64 = each.iter().map(|s| s["requests"].as_u64().unwrap()).sum();
    assert_eq!(a["requests"].as_u64(), Some(sum));
    let p99s: Vec<f64> = each.iter().map(|s| s["latency_ms"]["p99"].as_f64().unwrap()).collect();
    let p99 = a["latency_ms"]["p99"].as_f64().unwrap();
    let (lo, hi) = (p99s.iter().copied().fold(f64::MAX, f64::min), p99s.iter().copied().fold(0.0, f64::max));
    assert!(lo <= p99 && p99 <= hi, "merged p99 {p99} within the shards' {p99s:?}");
    let merged = trafficgen::output::report::decode(a["histograms"]["latency"].as_str().unwrap()).unwrap();
    assert_eq!(p99, (merged.value_at_quantile(0.99) as f64 / 1000.0 * 1000.0).round() / 1000.0);
    assert_eq!(a["thresholds"][0]["expr"], "p99<2s", "the shards' own threshold");
    assert_eq!(a["shards"].as_array().map(Vec::len), Some(3));

    let text = merge(&[], &paths, None);
    let text = String::from_utf8_lossy(&text.stdout);
    eprintln!("{text}");
    assert!(text.starts_with("trafficgen merge: 3 shards of run nightly-1"), "{text}");
    let strict = merge(&["--threshold", "p99<1ms"], &paths, None);
    assert_eq!(strict.status.code(), Some(3), "{}", String::from_utf8_lossy(&strict.stdout));

    let other = dir.join("other.json");
    let mut v = each[0].clone();
    v["run_id"] = "nightly-2".into();
    std::fs::write(&other, v.to_string()).unwrap();
    let mixed = merge(&[], &[paths[0], &other], None);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("--allow-mixed"));
    assert_eq!(merge(&["--allow-mixed"], &[paths[0], &other], None).status.code(), Some(0));
}
