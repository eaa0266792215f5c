//! The HTML report: written by `--report` and by `trafficgen report`, rendered by headless Chromium.

use std::path::Path;
use std::process::Command;

use crate::compare::tempdir;
use crate::support::{bin, external, target};

const CHARTS: [&str; 5] = ["rate", "latency", "spectrum", "errors", "classes"];

/// A 2 s run against `/ok` and `/status/503` in turn, with its summary and report.
fn short_run(url_ok: &str, url_bad: &str, dir: &Path, name: &str) {
    let status = bin()
        .args(["--metrics-addr", "off", "--progress-interval", "0s", "--rate", "50", "--duration", "2s"])
        .args(["--classify", "ok=ok", "--classify", "other=."])
        .arg("--summary-file")
        .arg(dir.join(format!("{name}.json")))
        .arg("--report")
        .arg(dir.join(format!("{name}.html")))
        .args([url_ok, url_bad])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
}

/// Chromium, headless, with a throwaway profile and nothing in the background.
fn chromium(chromium: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"])
        .args(["--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--window-size=1000,2300"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(args)
        .output()
        .expect("chromium runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_render_in_headless_chromium_with_every_chart() {
    let (addr, _) = target().await;
    let (ok, bad) = (format!("http://{addr}/ok"), format!("http://{addr}/status/503"));
    let dir = tempdir("report");
    let (d, o, b) = (dir.clone(), ok.clone(), bad.clone());
    tokio::task::spawn_blocking(move || short_run(&o, &b, &d, "one")).await.unwrap();
    let (d, o) = (dir.clone(), ok.clone());
    tokio::task::spawn_blocking(move || short_run(&o, &o, &d, "two")).await.unwrap();
    let one = std::fs::read_to_string(dir.join("one.html")).unwrap();
    assert!(CHARTS.iter().all(|id| one.contains(&format!("<svg id=\"{id}\""))), "--report has every chart");

    let both = dir.join("both.html");
    let out =
        bin().arg("report").arg(dir.join("one.json")).arg(dir.join("two.json")).arg("-o").arg(&both).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&both).unwrap();
    assert!(html.contains("one vs two") && html.contains("one: http_5xx"), "compare table and overlays");
    assert!(html.contains("<h2>What ran</h2>") && html.contains(&ok), "the page names what ran");

    let Some(browser) = external("chromium") else { return };
    let url = format!("file://{}", both.display());
    let shot = dir.join("report.png");
    let out = chromium(&browser, &dir, &[&format!("--screenshot={}", shot.display()), &url]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{} bytes", png.len());
    let dom = chromium(&browser, &dir, &["--dump-dom", &url]);
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    for id in CHARTS {
        assert!(dom_text.contains(&format!("<svg id=\"{id}\"")), "chart {id} not in the rendered page");
    }
    for log in [log, String::from_utf8_lossy(&dom.stderr)] {
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).collect();
        assert!(console.is_empty(), "console messages: {console:#?}");
    }
}
