//! What a person or a script reads on stderr: plain lines off a terminal, JSON lines that parse.

use crate::support::{bin, target};

/// Stderr of a short run against the in-process target.
async fn stderr_of(extra: &[&str]) -> String {
    let (addr, _) = target().await;
    let out = bin()
        .args(["--metrics-addr", "off", "--rate", "50", "--requests", "30", "--progress-interval", "200ms"])
        .args(extra)
        .arg(format!("http://{addr}/ok"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stderr).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_escape_codes_when_stderr_is_not_a_terminal() {
    let stderr = stderr_of(&[]).await;
    assert!(stderr.lines().any(|l| l.contains(" rps=")), "plain progress lines: {stderr}");
    assert!(!stderr.contains('\x1b') && !stderr.contains('\r'), "{stderr:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_and_progress_lines_parse_with_numbers() {
    let stderr = stderr_of(&["--log-format", "json"]).await;
    let lines: Vec<serde_json::Value> =
        stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}"))).collect();
    assert!(lines.iter().all(|v| v["timestamp"].is_string() && v["level"].is_string()), "{stderr}");
    let progress: Vec<_> = lines.iter().filter(|v| v["msg"] == "progress").collect();
    assert!(!progress.is_empty(), "{stderr}");
    for p in progress {
        for key in ["target_rps", "rps", "done", "p50_ms", "p99_ms", "errors", "dropped", "in_flight"] {
            assert!(p[key].is_number(), "{key} is a number: {p}");
        }
    }
}
