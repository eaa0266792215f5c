//! The rough edges a newcomer hit, each through the binary: what a failing target logs, what a
//! mistyped URL or threshold says, `compare` without budgets, `report`'s output flag, the
//! switches, and docs that stand alone.

use crate::compare::tempdir;
use crate::support::{bin, closed_port};

fn stderr_of(args: &[&str]) -> (Option<i32>, String) {
    let out = bin().args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_failing_target_logs_its_first_error_with_the_cause_then_samples() {
    let url = format!("http://127.0.0.1:{}/productpage", closed_port());
    let args = ["--metrics-addr", "off", "--progress-interval", "0s", "--rate", "10", "--duration", "3s", &url];
    let (code, stderr) = stderr_of(&args);
    assert_eq!(code, Some(3), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("WARN")).collect();
    assert!(warnings[0].contains("first connect error") && warnings[0].contains("refused"), "{warnings:#?}");
    // 30 failures in 3 s: the first with its cause, then a sampled line every 5 s at most.
    assert!(warnings.len() <= 3, "{warnings:#?}");
    let sampled = warnings.iter().find(|l| l.contains("trace_id=")).expect("a sampled failure with its trace id");
    assert!(sampled.contains("failed="), "{sampled}");
}

#[test]
fn mistyped_inputs_say_how_to_write_them() {
    let (code, stderr) = stderr_of(&["--metrics-addr", "off", "127.0.0.1:19080/productpage"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("did you mean http://127.0.0.1:19080/productpage?"), "{stderr}");
    let (code, stderr) = stderr_of(&["--metrics-addr", "off", "--threshold", "p99<500", "http://127.0.0.1:1/"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("p99<500 has no unit: write p99<500ms"), "{stderr}");
}

#[test]
fn compare_without_budgets_gives_no_verdict_of_passing() {
    let dir = tempdir("edges-compare");
    let (base, new) = (dir.join("base.json"), dir.join("new.json"));
    std::fs::write(&base, r#"{"requests":100,"errors":0,"achieved_rps":10.0,"latency_ms":{"p50":10.0,"p99":12.0}}"#)
        .unwrap();
    std::fs::write(&new, r#"{"requests":100,"errors":0,"achieved_rps":10.0,"latency_ms":{"p50":90.0,"p99":184.0}}"#)
        .unwrap();
    let out = bin().arg("compare").arg(&base).arg(&new).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("verdict       no budget set") && !text.contains("PASSED"), "{text}");
    assert!(text.contains("completed req/s"), "{text}");
}

#[test]
fn report_writes_only_to_out_and_verify_insecure_is_a_switch() {
    let dir = tempdir("edges-report");
    let summary = dir.join("a.json");
    std::fs::write(&summary, r#"{"requests":1,"errors":0,"achieved_rps":1.0,"latency_ms":{"p50":1.0}}"#).unwrap();
    let out = bin().current_dir(&dir).arg("report").arg(&summary).args(["--output", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--output is not report's flag");
    assert!(!dir.join("json").exists(), "no file named after the format");
    let out = bin().arg("report").arg(&summary).arg("-o").arg(dir.join("a.html")).output().unwrap();
    assert!(out.status.success() && dir.join("a.html").exists());
    let help = bin().args(["verify", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let line = help.lines().find(|l| l.trim_start().starts_with("--insecure")).expect("--insecure in verify --help");
    assert!(!line.contains('<'), "a switch takes no value: {line}");
}

#[test]
fn the_verify_doc_stands_alone_with_a_loopback_recipe() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/verify.md")).unwrap();
    assert!(!doc.contains("](../") && !doc.contains("../shared"), "a link outside the repository");
    for step in ["trafficgen serve --bookinfo", "prometheus --config.file", "trafficgen verify"] {
        assert!(doc.contains(step), "the recipe lacks `{step}`");
    }
}

#[test]
fn a_hundred_thousand_urls_from_a_file_keep_the_routes_bounded() {
    let addr = crate::support::closed_addr();
    let _serve = crate::support::spawn(std::process::Command::new(env!("CARGO_BIN_EXE_trafficgen")).args([
        "serve",
        "--listen",
        &addr.to_string(),
    ]));
    crate::support::eventually(10, "serve to answer", || crate::support::http_get(addr, "/healthz").ok_or("no answer"));
    let dir = tempdir("edges-urls");
    let file = dir.join("urls.txt");
    let urls: String = (0..100_000).map(|i| format!("http://{addr}/item/{i}\n")).collect();
    std::fs::write(&file, format!("# a vegeta-style list\n{urls}")).unwrap();
    let out = bin()
        .args(["--metrics-addr", "off", "--progress-interval", "0s", "--output", "json"])
        .args(["--rate", "1000", "--requests", "2000"])
        .arg(format!("@{}", file.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["requests"].as_u64(), v["ok"].as_u64()), (Some(2000), Some(2000)), "{v}");
    let routes = v["routes"].as_array().expect("a route table");
    assert_eq!(routes.len(), 101, "100 paths and `other`");
    let other = routes.iter().find(|r| r["route"] == "other").expect("the rest as `other`");
    assert_eq!(other["requests"].as_u64(), Some(1900), "{other}");
    assert_eq!(v["settings"]["targets"].as_array().map(Vec::len), Some(100_000));
}
