//! A real Prometheus scrapes the real binary and the Bookinfo simulation; every query of the
//! chart's Grafana dashboard returns data and the chart's alert rules evaluate (and the error
//! alerts go pending under an injected fault).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::{bin, closed_addr, eventually, external, http_get, spawn};

const CHART_FILES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/k8s/helm/trafficgen/files");

/// The `data` of a Prometheus API answer.
fn api(prometheus: SocketAddr, path: &str) -> Result<Value, String> {
    let body = http_get(prometheus, path).ok_or("no answer")?;
    let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    match v["status"].as_str() {
        Some("success") => Ok(v["data"].clone()),
        _ => Err(body),
    }
}

fn query(prometheus: SocketAddr, promql: &str) -> Result<usize, String> {
    query_at(prometheus, promql, None)
}

/// How many series `promql` returns, evaluated now or at `time` (Unix seconds).
pub(crate) fn query_at(prometheus: SocketAddr, promql: &str, time: Option<f64>) -> Result<usize, String> {
    let mut q = serde_urlencoded::to_string([("query", promql)]).unwrap();
    if let Some(t) = time {
        q.push_str(&format!("&time={t:.3}"));
    }
    let data = api(prometheus, &format!("/api/v1/query?{q}"))?;
    let found = data["result"].as_array().map_or(0, Vec::len);
    if found == 0 {
        return Err(format!("no series for {promql}"));
    }
    Ok(found)
}

/// The kind of cluster a dashboard query needs (`istio`, `linkerd`), or `None` for every kind.
pub(crate) fn mesh_of(expr: &str) -> Option<&'static str> {
    if expr.contains("istio_") {
        Some("istio")
    } else if ["request_total{direction", "response_total", "response_latency_ms"].iter().any(|m| expr.contains(m)) {
        Some("linkerd")
    } else {
        None
    }
}

/// The dashboard's queries (panels and variables) with Grafana's variables filled in, `$job`
/// being the generator's scrape job.
pub(crate) fn dashboard_queries(job: &str) -> Vec<(String, String)> {
    let board: Value = serde_json::from_str(&std::fs::read_to_string(format!("{CHART_FILES}/dashboard.json")).unwrap())
        .expect("dashboard.json is JSON");
    let fill = |e: &str| {
        // "All" of $job is the union of the trafficgen jobs (here one); of $service, `.+`.
        e.replace("$job", job)
            .replace("$namespace", "bookinfo")
            .replace("$service", ".+")
            .replace("$__rate_interval", "10s")
            .replace("$__range", "1m")
    };
    let mut out = Vec::new();
    for panel in board["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            out.push((panel["title"].as_str().unwrap().to_string(), fill(target["expr"].as_str().unwrap())));
        }
    }
    for var in board["templating"]["list"].as_array().unwrap().iter().filter(|v| v["type"] == "query") {
        // label_values(SELECTOR, LABEL) has data when `count by (LABEL) (SELECTOR)` has.
        let q = var["query"].as_str().unwrap();
        let (selector, label) =
            q.strip_prefix("label_values(").unwrap().trim_end_matches(')').rsplit_once(", ").unwrap();
        out.push((format!("variable {}", var["name"]), format!("count by ({label}) ({selector})")));
    }
    assert!(out.len() > 20, "{out:?}");
    out
}

#[test]
fn a_real_prometheus_answers_every_dashboard_query_and_evaluates_the_rules() {
    let Some(prometheus_bin) = external("prometheus") else {
        return;
    };
    let (bookinfo, cluster, generator, prometheus) = (closed_addr(), closed_addr(), closed_addr(), closed_addr());
    let dir: PathBuf =
        std::env::temp_dir().join(format!("trafficgen-prometheus-{}-{}", std::process::id(), prometheus.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             rule_files: ['{CHART_FILES}/rules.yaml']\n\
             scrape_configs:\n\
             - {{job_name: bookinfo/trafficgen, static_configs: [{{targets: ['{generator}']}}]}}\n\
             - {{job_name: bookinfo/productpage, static_configs: [{{targets: ['{bookinfo}'], labels: {{namespace: bookinfo}}}}]}}\n\
             - {{job_name: cluster, static_configs: [{{targets: ['{cluster}']}}]}}\n"
        ),
    )
    .unwrap();

    let _sim = spawn(
        bin()
            .args(["serve", "--bookinfo", "--latency-scale", "0.05", "--fault", "productpage:error=10%"])
            .arg(format!("--listen={bookinfo}"))
            .arg(format!("--metrics-listen={cluster}")),
    );
    eventually(10, "the simulation", || http_get(bookinfo, "/health").ok_or("not up"));
    let _generator = spawn(bin().args([
        "run",
        "--rate",
        "40",
        "--duration",
        "2m",
        "--progress-interval",
        "0s",
        "--classify-preset",
        "bookinfo-reviews",
        "--metrics-addr",
        &generator.to_string(),
        "--resolve",
        &format!("productpage:9080:{bookinfo}"),
        "http://productpage:9080/productpage",
    ]));
    let _prometheus = crate::support::prometheus(&prometheus_bin, &config, &dir, prometheus);

    // Both targets are scraped, and all four Bookinfo services received traffic.
    eventually(30, "all three targets up", || {
        query(prometheus, "up == 1").and_then(|n| if n == 3 { Ok(()) } else { Err(format!("{n} up")) })
    });
    for (title, promql) in
        dashboard_queries("bookinfo/trafficgen").into_iter().filter(|(_, q)| mesh_of(q) != Some("linkerd"))
    {
        eventually(40, &format!("data for panel {title:?}"), || query(prometheus, &promql));
    }
    let services =
        query(prometheus, r#"count by (destination_service_name) (istio_requests_total{reporter="destination"})"#)
            .unwrap();
    assert_eq!(services, 4, "productpage, details, reviews and ratings");

    // Every rule evaluates without error; the injected productpage errors (10% > 1%) make the
    // error-ratio alerts pending on the client side and on the service side.
    let rules = eventually(30, "the error alerts", || {
        let data = api(prometheus, "/api/v1/rules")?;
        let rules: Vec<Value> = data["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().unwrap().clone())
            .collect();
        let state = |name: &str| {
            rules.iter().find(|r| r["name"] == name).map(|r| r["state"].as_str().unwrap_or("").to_string())
        };
        for alert in ["TrafficgenErrorRatioHigh", "ServiceErrorRatioHigh"] {
            match state(alert).as_deref() {
                Some("pending" | "firing") => {}
                other => return Err(format!("{alert} is {other:?}")),
            }
        }
        Ok(rules)
    });
    assert_eq!(rules.len(), 10);
    for rule in &rules {
        assert_eq!(rule["health"], "ok", "{rule}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn promtool_tests_the_alert_rules_of_each_kind_of_cluster() {
    let Some(promtool) = external("promtool") else {
        return;
    };
    for kind in ["none", "linkerd", "istio"] {
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rules/").to_string() + kind + ".yaml";
        let out = Command::new(&promtool).args(["test", "rules", &file]).output().unwrap();
        assert!(
            out.status.success(),
            "{kind}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
