//! Full results in the summary and `trafficgen compare` on real runs against `serve --delay`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use base64::Engine as _;
use hdrhistogram::serialization::Deserializer;

use crate::support::{bin, Killed};

/// `trafficgen serve --delay DELAY` on a free port; the child and its URL.
pub(crate) fn serve(delay: &str) -> (Killed, String) {
    let mut child = Killed::spawn(
        bin().args(["serve", "--listen", "127.0.0.1:0", "--delay", delay]).stderr(Stdio::piped()).stdout(Stdio::null()),
    );
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (child, url)
}

/// Start a 200 req/s run of 4 s against `url` that writes its JSON summary to `file`.
pub(crate) fn start_run(url: &str, file: &Path, extra: &[&str]) -> Child {
    bin()
        .args(["--metrics-addr", "off", "--progress-interval", "0s", "--rate", "200", "--duration", "4s"])
        .arg("--summary-file")
        .arg(file)
        .args(extra)
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn compare(base: &Path, new: &Path, extra: &[&str]) -> (i32, String) {
    let out = bin().arg("compare").arg(base).arg(new).args(extra).output().unwrap();
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

fn summary(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Three runs side by side (so machine noise hits them alike): two against a 10 ms target, one
/// against a 20 ms target.
fn three_runs(dir: &Path) -> [PathBuf; 3] {
    let ((_ten, ten), (_twenty, twenty)) = (serve("10ms"), serve("20ms"));
    let files = ["base", "same", "slower"].map(|n| dir.join(format!("{n}.json")));
    let mut runs: Vec<Child> =
        [&ten, &ten, &twenty].iter().zip(&files).map(|(url, file)| start_run(url, file, &[])).collect();
    for r in &mut runs {
        assert!(r.wait().unwrap().success());
    }
    files
}

#[test]
fn summaries_carry_histograms_and_timelines_and_compare_tells_real_from_noise() {
    let dir = tempdir("compare");
    let [base, same, slower] = three_runs(&dir);

    let v = summary(&base);
    let text = v["histograms"]["latency"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
    let h: hdrhistogram::Histogram<u64> = Deserializer::new().deserialize(&mut bytes.as_slice()).unwrap();
    assert_eq!(h.len(), v["requests"].as_u64().unwrap(), "the histogram holds every request");
    let p50 = h.value_at_quantile(0.5) as f64 / 1000.0;
    assert!((p50 - v["latency_ms"]["p50"].as_f64().unwrap()).abs() < 0.01);
    let timeline = v["timeline"].as_array().unwrap();
    assert!((4..=6).contains(&timeline.len()), "{timeline:?}");
    let sum: u64 = timeline.iter().map(|p| p["requests"].as_u64().unwrap()).sum();
    assert_eq!(sum, v["requests"].as_u64().unwrap(), "per-second requests add up to the total");
    assert_eq!(timeline[0]["t"], 0.0);

    let (code, out) = compare(&base, &slower, &["--output", "json", "--budget", "p50<+2ms", "--budget", "p99<+500%"]);
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    let p50 = &c["figures"]["p50"];
    assert!((p50["diff"].as_f64().unwrap() - 10.0).abs() <= 1.0, "{p50}");
    assert_eq!(p50["significant"], true, "{c}");
    assert_eq!(
        (code, &c["passed"], &c["budgets"][0]["passed"], &c["budgets"][1]["passed"]),
        (3, &false.into(), &false.into(), &true.into())
    );

    let (code, out) = compare(&base, &same, &["--output", "json", "--budget", "p50<+2ms"]);
    let c: serde_json::Value = serde_json::from_str(&out).unwrap();
    let flagged: Vec<_> = c["figures"].as_object().unwrap().iter().filter(|(_, f)| f["significant"] == true).collect();
    assert!(flagged.is_empty(), "same target, yet significant: {flagged:?}\n{c}");
    assert_eq!(code, 0);

    let (code, text) = compare(&base, &slower, &[]);
    eprintln!("{text}");
    assert_eq!(code, 0, "no budget, no failure");
    assert!(text.contains("p50 ms") && text.contains("yes"), "{text}");
}

#[test]
fn compare_reads_kubectl_logs_and_rejects_bad_input() {
    let dir = tempdir("logs");
    let summary = r#"{"requests":100,"errors":0,"achieved_rps":10.0,"latency_ms":{"p50":10.0,"p99":12.0}}"#;
    let logs = dir.join("pod.log");
    std::fs::write(&logs, format!("INFO starting\n{{\"msg\":\"progress\"}}\n{summary}\nINFO bye\n")).unwrap();
    let (code, out) = compare(&logs, &logs, &["--output", "json"]);
    assert_eq!(code, 0);
    assert!(out.contains(r#""p50":{"base":10.0,"diff":0.0,"new":10.0"#), "{out}");
    let empty = dir.join("empty.log");
    std::fs::write(&empty, "nothing\n").unwrap();
    let out = bin().arg("compare").arg(&empty).arg(&logs).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no JSON summary"));
    let out = bin().arg("compare").arg(&logs).arg(&logs).args(["--budget", "p99>1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a bad budget is a usage error");
}

/// A fresh directory under the target dir for one test's files.
pub(crate) fn tempdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
