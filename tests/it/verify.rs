//! `trafficgen verify` against a real Prometheus that scrapes the simulation (as a cluster with no
//! mesh, with Linkerd, with Istio) and a real run: the bookinfo preset passes on a healthy cluster,
//! fails (exit 3, naming the check) with ratings failing, skips what the cluster does not have, and
//! exits 1 once Prometheus is gone; `run --verify-prometheus` adds the same verdict to the run's summary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::prometheus::{dashboard_queries, mesh_of, query_at};
use crate::support::{bin, closed_addr, eventually, external, http_get, spawn, Killed};

/// What one cluster gave: the summary file of its run, and Prometheus (dropped = stopped).
pub(crate) struct Cluster {
    pub(crate) dir: PathBuf,
    run_id: String,
    bookinfo: SocketAddr,
    generator: SocketAddr,
    pub(crate) prometheus: SocketAddr,
    prometheus_guard: Option<Killed>,
    _sim: Killed,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.prometheus_guard.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Start the simulation as `kind` of cluster (with `faults`), Prometheus scraping it and the
/// generator every second, then a 15 s run at 20 req/s; returns once the run has ended.
pub(crate) fn cluster(prometheus_bin: &Path, kind: &str, faults: &[&str]) -> Cluster {
    cluster_with(prometheus_bin, kind, faults, Shape::DEFAULT, &[])
}

/// How often Prometheus scrapes, and how long the run sends.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    scrape_s: u64,
    run_s: u64,
}

impl Shape {
    /// Scrapes every second, a 15 s run.
    pub(crate) const DEFAULT: Shape = Shape { scrape_s: 1, run_s: 15 };
}

/// As [`cluster`], with scrapes every `shape.scrape_s` and a run of `shape.run_s`; the run's own
/// `--verify-prometheus` is given no scrape interval (Prometheus has it), and `env` (e.g. the
/// `TRAFFICGEN_VERIFY_*` a chart sets).
pub(crate) fn cluster_with(
    prometheus_bin: &Path,
    kind: &str,
    faults: &[&str],
    shape: Shape,
    env: &[(&str, &str)],
) -> Cluster {
    let (bookinfo, metrics, generator, prometheus) = (closed_addr(), closed_addr(), closed_addr(), closed_addr());
    let dir = std::env::temp_dir().join(format!("trafficgen-verify-{}-{}", std::process::id(), prometheus.port()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    // productpage's own /metrics is scraped by a PodMonitor in a cluster, which adds these labels.
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: {scrape}s, evaluation_interval: {scrape}s}}\n\
             scrape_configs:\n\
             - {{job_name: trafficgen, static_configs: [{{targets: ['{generator}']}}]}}\n\
             - {{job_name: productpage, static_configs: [{{targets: ['{bookinfo}'], labels: {{namespace: bookinfo, pod: productpage-v1-7c9f8b6d5d-x2kqz}}}}]}}\n\
             - {{job_name: cluster, static_configs: [{{targets: ['{metrics}']}}]}}\n",
            scrape = shape.scrape_s
        ),
    )
    .unwrap();
    let mut sim = bin();
    sim.args(["serve", "--bookinfo", "--latency-scale", "0.05", "--mesh-metrics", kind])
        .arg(format!("--listen={bookinfo}"))
        .arg(format!("--metrics-listen={metrics}"));
    for f in faults {
        sim.arg(format!("--fault={f}"));
    }
    let sim = spawn(&mut sim);
    eventually(10, "the simulation", || http_get(bookinfo, "/health").ok_or("not up"));
    let guard = crate::support::prometheus(prometheus_bin, &config, &dir, prometheus);
    // A cluster's services had traffic before the run: their series exist when it starts (and
    // productpage and the cluster's exporters are scraped; the generator is not up yet).
    for _ in 0..12 {
        http_get(bookinfo, "/productpage");
    }
    eventually(60, "the cluster scraped", || {
        let body = http_get(prometheus, "/api/v1/query?query=count(up%3D%3D1)").ok_or("no answer")?;
        if body.contains("\"2\"") {
            Ok(())
        } else {
            Err(body)
        }
    });
    let summary = dir.join("summary.json");
    let run_id = format!("verify-{}", prometheus.port());
    // Lingers for one scrape and a bit, as the manifests do.
    let linger = format!("{}s", shape.scrape_s + 1);
    let status = bin()
        .args(["run", "--rate", "20", "--progress-interval", "0s", "--run-id", &run_id])
        .args(["--duration", &format!("{}s", shape.run_s), "--linger", &linger])
        .args(["--classify-preset", "bookinfo-reviews", "--output", "json"])
        .arg(format!("--metrics-addr={generator}"))
        .arg(format!("--resolve=productpage:9080:{bookinfo}"))
        .arg(format!("--summary-file={}", summary.display()))
        // The run checks itself too, after its linger (its verdict joins the summary).
        .arg(format!("--verify-prometheus=http://{prometheus}"))
        .args(["--verify-retry-for", "10s", "--verify-mesh", kind])
        .arg("http://productpage:9080/productpage")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.code().is_some(), "the run ended");
    Cluster { dir, run_id, bookinfo, generator, prometheus, prometheus_guard: Some(guard), _sim: sim }
}

/// `verify` of the cluster's run (by its summary, giving the scrape interval); returns the exit
/// code and stdout.
fn verify(c: &Cluster, args: &[&str]) -> (i32, String) {
    let summary = format!("--summary={}", c.dir.join("summary.json").display());
    verify_as(c, &[&summary, "--scrape-interval", "1s"], args)
}

/// `verify` with only `window` and `args`.
fn verify_as(c: &Cluster, window: &[&str], args: &[&str]) -> (i32, String) {
    let out = bin()
        .arg("verify")
        .arg(format!("--prometheus=http://{}", c.prometheus))
        .args(window)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    eprintln!("verify {args:?}:\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), stdout)
}

/// The row of `check` in the table.
fn row<'a>(table: &'a str, check: &str) -> &'a str {
    table.lines().find(|l| l.starts_with(check)).unwrap_or_else(|| panic!("no row {check:?} in\n{table}"))
}

/// A healthy cluster of `kind` passes; ratings failing fails naming `failing`; Prometheus gone exits 1.
fn passes_fails_and_needs_prometheus(kind: &str, failing: &[&str]) {
    let Some(prometheus_bin) = external("prometheus") else {
        return;
    };
    let faulty = {
        let bin = prometheus_bin.clone();
        let kind = kind.to_string();
        std::thread::spawn(move || cluster(&bin, &kind, &["ratings:error=100%"]))
    };
    let mut healthy = cluster(&prometheus_bin, kind, &[]);
    let summary = |c: &Cluster| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(c.dir.join("summary.json")).unwrap()).unwrap()
    };
    let own = summary(&healthy);
    assert_eq!(own["verify"]["passed"], true, "run --verify-prometheus: {}", own["verify"]);
    assert!(own["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["expr"] == "prometheus checks (--verify-prometheus)"));
    let (code, table) = verify(&healthy, &["--mesh", kind, "--retry-for", "20s"]);
    assert_eq!(code, 0, "{table}");
    assert!(!table.contains("FAIL"), "{table}");
    let (code, table) = verify(&healthy, &["--mesh", "auto", "--output", "json"]);
    assert_eq!(code, 0, "{table}");
    let json: serde_json::Value = serde_json::from_str(&table).unwrap();
    assert_eq!(json["passed"], true);
    assert!(json["mesh"].as_str().unwrap().starts_with(kind), "auto finds {kind}: {json}");

    // Every dashboard query for this kind of cluster (and for every kind) has data at the end of
    // the run, but those of errors: this run has none (prometheus.rs injects some).
    let end = summary(&healthy)["end_unix_s"].as_f64();
    let ours = |q: &String| mesh_of(q).is_none_or(|m| m == kind) && !q.contains("error_type!=\"\"");
    for (title, promql) in dashboard_queries(".+").into_iter().filter(|(_, q)| ours(q)) {
        eventually(5, &format!("data for panel {title:?}"), || query_at(healthy.prometheus, &promql, end));
    }

    let faulty = faulty.join().unwrap();
    let own = summary(&faulty);
    assert_eq!(own["verify"]["passed"], false, "run --verify-prometheus: {}", own["verify"]);
    assert_eq!(own["passed"], false);
    let (code, table) = verify(&faulty, &["--mesh", kind]);
    assert_eq!(code, 3, "{table}");
    for check in failing {
        assert!(row(&table, check).contains("FAIL"), "{check} fails:\n{table}");
    }
    assert!(table.contains("verify: FAILED ("), "{table}");

    healthy.prometheus_guard.take();
    let (code, _) = verify(&healthy, &["--mesh", kind]);
    assert_eq!(code, 1, "Prometheus stopped");
}

#[test]
fn verify_a_cluster_with_no_mesh() {
    passes_fails_and_needs_prometheus("none", &["error pages seen by trafficgen"]);
}

#[test]
fn verify_a_cluster_with_linkerd() {
    passes_fails_and_needs_prometheus(
        "linkerd",
        &["error pages seen by trafficgen", "success rate per workload (Linkerd)"],
    );
}

#[test]
fn verify_a_cluster_with_istio() {
    passes_fails_and_needs_prometheus(
        "istio",
        &["error pages seen by trafficgen", "success rate per workload (Istio)"],
    );
}

#[test]
fn absent_metrics_are_skipped_with_the_reason() {
    let Some(prometheus_bin) = external("prometheus") else {
        return;
    };
    let c = cluster(&prometheus_bin, "none", &[]);
    let (code, table) = verify(&c, &["--preset", "bookinfo", "--mesh", "linkerd", "--check", "custom: sum(up) >= 3"]);
    assert_eq!(code, 0, "{table}");
    let linkerd = row(&table, "ratings-v1 inbound req/s (Linkerd)");
    assert!(linkerd.contains("skipped (no Linkerd proxy metrics"), "{table}");
    assert!(row(&table, "custom").contains("pass"), "{table}");
}

/// A newcomer's runs, as the README has them, with `scrape_s` scrapes and no scrape interval
/// given: the run's own check of a 20 s run, `--run-id` after the run ended and `--summary` all
/// pass, and the rate check judges the run's own samples. Returns the cluster.
fn newcomer_cases_pass(scrape_s: u64) -> Option<Cluster> {
    let prometheus_bin = external("prometheus")?;
    let c = cluster_with(&prometheus_bin, "istio", &[], Shape { scrape_s, run_s: 20 }, &[]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(c.dir.join("summary.json")).unwrap()).unwrap();
    let own = &summary["verify"];
    eprintln!("run --verify-prometheus:\n{own}");
    assert_eq!(own["passed"], true, "{own}");
    assert_eq!(own["scrape_interval_s"], scrape_s as f64, "{own}");
    let rate = own["checks"].as_array().unwrap().iter().find(|c| c["name"] == "trafficgen rate / target").unwrap();
    assert_eq!(rate["result"], "pass", "{rate}");
    let by_id = format!("--run-id={}", c.run_id);
    let by_summary = format!("--summary={}", c.dir.join("summary.json").display());
    for window in [by_id.as_str(), by_summary.as_str()] {
        let (code, table) = verify_as(&c, &[window], &[]);
        assert_eq!(code, 0, "{window}: {table}");
        assert!(row(&table, "trafficgen rate / target").contains("pass"), "{table}");
        let found = format!("scrape interval {scrape_s} s (the generator's target in Prometheus)");
        assert!(table.contains(&found), "{table}");
        assert!(!table.contains("no data"), "{table}");
    }
    Some(c)
}

#[test]
fn five_second_scrapes_judge_a_short_run_right() {
    let Some(c) = newcomer_cases_pass(5) else {
        return;
    };
    // A run of one scrape interval has no two scrapes taken while sending: skipped, saying why.
    let status = bin()
        .args(["run", "--rate", "20", "--duration", "4s", "--linger", "6s", "--progress-interval", "0s"])
        .args(["--run-id", "too-short"])
        .arg(format!("--metrics-addr={}", c.generator))
        .arg(format!("--resolve=productpage:9080:{}", c.bookinfo))
        .arg("http://productpage:9080/productpage")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.code().is_some());
    let (_, table) = verify_as(&c, &["--run-id=too-short"], &[]);
    let rate = row(&table, "trafficgen rate / target");
    assert!(rate.contains("skipped (too few scrapes to judge: "), "{table}");
    let success = row(&table, "success rate per workload (Istio)");
    assert!(success.contains("skipped (too few scrapes to judge: the window"), "{table}");
    // The 20 s run before it still shows in a rate's range: not this run's figure, not a pass.
    let inbound = row(&table, "productpage-v1 inbound req/s (Istio)");
    assert!(inbound.contains("skipped (too few scrapes to judge: the window"), "{table}");
    assert!(!table.contains("FAIL"), "{table}");
}

#[test]
fn one_second_scrapes_judge_a_short_run_right() {
    newcomer_cases_pass(1);
}

/// `--rules` on Istio with ratings failing: the chart's ServiceErrorRatioHigh is active (pending,
/// its `for:` longer than the run), TrafficgenDroppingRequests quiet, Linkerd's rules fail naming
/// their absent metric, pint's lints fail their rules; a check with no data says why.
#[test]
fn rules_and_diagnoses_against_istio_with_ratings_failing() {
    let Some(prometheus_bin) = external("prometheus") else {
        return;
    };
    let c = cluster(&prometheus_bin, "istio", &["ratings:error=100%"]);
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("k8s/helm/trafficgen/files/rules.yaml");
    let lints = c.dir.join("lints.yaml");
    std::fs::write(
        &lints,
        "groups:\n- name: lints\n  rules:\n  - alert: ShortRate\n    expr: sum(rate(istio_requests_total[1s])) > 0\n  - alert: TargetGone\n    expr: absent(trafficgen_target_rps)\n    for: 1s\n",
    )
    .unwrap();
    let rules = |extra: &[&str]| {
        let mut args = vec!["--rules".to_string(), chart.display().to_string(), "--rules".into()];
        args.push(lints.display().to_string());
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let args = rules(&["--expect-firing", "ServiceErrorRatioHigh", "--expect-quiet", "TrafficgenDroppingRequests"]);
    let (code, table) = verify(&c, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 3, "other kinds' rules fail: {table}");
    let firing = row(&table, "trafficgen.services.istio / ServiceErrorRatioHigh");
    assert!(firing.contains("firing") && firing.contains("pass (active") && firing.contains("for: 5m"), "{table}");
    assert!(
        row(&table, "trafficgen.client / TrafficgenDroppingRequests").contains("quiet             pass"),
        "{table}"
    );
    for (rule, metric) in [
        ("trafficgen.services.linkerd / LinkerdServiceErrorRatioHigh", "metric response_total is unknown"),
        ("trafficgen.services.linkerd / LinkerdServiceLatencyP99High", "metric response_latency_ms_bucket is unknown"),
    ] {
        assert!(row(&table, rule).contains("FAIL (no data: ") && row(&table, rule).contains(metric), "{table}");
    }
    assert!(row(&table, "lints / ShortRate").contains("under 2 × the scrape interval (1s)"), "{table}");
    assert!(row(&table, "lints / TargetGone").contains("absent() alert with for: 1s"), "{table}");
    assert!(!table.starts_with("CHECK") || !table.contains("has ready pods"), "rules replace the default preset");

    // Expected quiet but active: fails saying for how long.
    let args = rules(&["--expect-quiet", "ServiceErrorRatioHigh"]);
    let (_, table) = verify(&c, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(row(&table, "trafficgen.services.istio / ServiceErrorRatioHigh").contains("FAIL (active"), "{table}");
    let (code, _) = verify(&c, &["--rules", chart.to_str().unwrap(), "--expect-firing", "NoSuchAlert"]);
    assert_eq!(code, 2, "an alert not in the files is bad input");

    let (_, table) = verify(
        &c,
        &[
            "--check",
            r#"wrong value: sum(istio_requests_total{reporter="sauce"}) > 0"#,
            "--check",
            "unknown metric: sum(rate(request_total[1m])) > 0",
            "--check",
            r#"no such label: sum(istio_requests_total{flavour="x"}) > 0"#,
        ],
    );
    let wrong = row(&table, "wrong value");
    assert!(
        wrong.contains(r#"no value of the label matches reporter="sauce" (values seen: "destination", "source")"#),
        "{table}"
    );
    assert!(row(&table, "unknown metric").contains("metric request_total is unknown to Prometheus"), "{table}");
    assert!(row(&table, "no such label").contains(r#"the metric has no label "flavour""#), "{table}");
    // The run's series are gone after it (once a failed scrape marks them stale): read at now,
    // they stopped at the run's last scrape.
    eventually(10, "the run's series marked stale", || {
        let body = http_get(c.prometheus, "/api/v1/query?query=trafficgen_run_info").ok_or("no answer")?;
        if body.contains("\"result\":[]") {
            Ok(())
        } else {
            Err(body)
        }
    });
    let (_, table) = verify_as(&c, &["--window", "30s"], &["--check", "run info now: sum(trafficgen_run_info) > 0"]);
    assert!(row(&table, "run info now").contains("trafficgen_run_info: its series stopped at 20"), "{table}");
}

/// A crash-looping ratings (the simulation's `--fault ratings:restart`) fails the preset's restart
/// check for ratings only; with no kube-state-metrics restarts series the check is skipped.
#[test]
fn a_crash_looping_service_fails_the_restart_check() {
    let Some(prometheus_bin) = external("prometheus") else {
        return;
    };
    let c = cluster(&prometheus_bin, "none", &["ratings:restart"]);
    let (code, table) = verify(&c, &["--mesh", "none"]);
    assert_eq!(code, 3, "{table}");
    assert!(row(&table, "ratings-v1 no container restarted").contains("== 0              FAIL"), "{table}");
    assert!(row(&table, "details-v1 no container restarted").contains("pass"), "{table}");
    assert!(table.contains("verify: FAILED (ratings-v1 no container restarted)"), "{table}");
    let (_, table) = verify(&c, &["--mesh", "none", "--namespace", "elsewhere"]);
    let skipped = row(&table, "ratings-v1 no container restarted");
    assert!(
        skipped.contains("skipped (no kube-state-metrics series (kube_pod_container_status_restarts_total)"),
        "{table}"
    );
}
