//! `verify --dashboard` against a real Prometheus scraping the simulation: the chart's own dashboard
//! (as JSON and inside a ConfigMap as the Grafana sidecar loads it) passes the rows of the kind of
//! cluster simulated and fails the other mesh's, and a run checks it with the chart's rules as the
//! chart's Job does; Istio's and Linkerd's published dashboards have
//! no query Prometheus rejects, and their panels the simulation serves pass.

use std::path::Path;

use serde_json::Value;

use crate::support::external;
use crate::verify::{cluster, cluster_with, Cluster, Shape};

const CHART_DASHBOARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/k8s/helm/trafficgen/files/dashboard.json");
const CHART_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/k8s/helm/trafficgen/files/rules.yaml");
const THIRD_PARTY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dashboards");

/// `verify --dashboard` over the cluster's run, as JSON (printing the table too, for the log).
fn verify_dashboard(c: &Cluster, args: &[&str]) -> (i32, Value) {
    let run = |output: &str| {
        crate::support::bin()
            .arg("verify")
            .arg(format!("--prometheus=http://{}", c.prometheus))
            .arg(format!("--summary={}", c.dir.join("summary.json").display()))
            .args(["--output", output])
            .args(args)
            .output()
            .unwrap()
    };
    let table = run("text");
    eprintln!("verify {args:?}:\n{}{}", String::from_utf8_lossy(&table.stdout), String::from_utf8_lossy(&table.stderr));
    let out = run("json");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), json)
}

fn rows(v: &Value) -> Vec<(String, String, String)> {
    let text = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    v["checks"].as_array().unwrap().iter().map(|r| (text(r, "name"), text(r, "result"), text(r, "reason"))).collect()
}

/// The ConfigMap the chart renders from its dashboard, written next to the cluster's files.
fn configmap(dir: &Path) -> std::path::PathBuf {
    let dashboard = std::fs::read_to_string(CHART_DASHBOARD).unwrap();
    let indented: String = dashboard.lines().map(|l| format!("    {l}\n")).collect();
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: trafficgen-dashboard\n  labels:\n    grafana_dashboard: \"1\"\ndata:\n  trafficgen.json: |\n{indented}"
    );
    let path = dir.join("dashboard-configmap.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// Every panel passes but those of the other meshes' rows, which fail with a diagnosis.
fn chart_dashboard_matches(kind: &str) {
    let Some(prometheus_bin) = external("prometheus") else {
        return;
    };
    // The run checks the dashboard's rows for its kind itself, as the chart's Job does.
    let kind_rows = match kind {
        "istio" => "Client|Resources per workload|Services with Istio|Services with no mesh",
        "linkerd" => "Client|Resources per workload|Services with Linkerd|Services with no mesh",
        _ => "Client|Resources per workload|Services with no mesh",
    };
    let panels = format!("^({kind_rows})");
    // And the chart's rule groups for its kind, as its verify-rules ConfigMap holds them.
    let rules_dir = std::env::temp_dir().join(format!("trafficgen-rules-{}-{kind}", std::process::id()));
    std::fs::create_dir_all(&rules_dir).unwrap();
    let rules = rules_dir.join("rules.yaml");
    let mut file: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(CHART_RULES).unwrap()).unwrap();
    let keep =
        ["trafficgen.client".to_string(), format!("trafficgen.services.{kind}"), "trafficgen.services.nomesh".into()];
    file["groups"].as_sequence_mut().unwrap().retain(|g| keep.iter().any(|k| g["name"].as_str() == Some(k)));
    std::fs::write(&rules, serde_yaml_ng::to_string(&file).unwrap()).unwrap();
    let env = [
        ("TRAFFICGEN_VERIFY_PRESET", "bookinfo"),
        ("TRAFFICGEN_VERIFY_DASHBOARD", CHART_DASHBOARD),
        ("TRAFFICGEN_VERIFY_PANEL", panels.as_str()),
        ("TRAFFICGEN_VERIFY_RULES", rules.to_str().unwrap()),
    ];
    let c = cluster_with(&prometheus_bin, kind, &[], Shape::DEFAULT, &env);
    let _ = std::fs::remove_dir_all(&rules_dir);
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(c.dir.join("summary.json")).unwrap()).unwrap();
    let own = &summary["verify"];
    // The dashboard's and the rules' rows (the preset's are the verify tests' concern).
    let ours: Vec<&Value> = own["checks"].as_array().unwrap().iter().filter(|r| r["expected"] == "data").collect();
    assert!(ours.len() >= 20, "the run checked the dashboard's panels and the rules: {own}");
    assert!(ours.iter().all(|r| r["result"] == "pass"), "run --verify-dashboard --verify-rules: {own}");
    let names: Vec<&str> = own["checks"].as_array().unwrap().iter().filter_map(|r| r["name"].as_str()).collect();
    assert!(names.iter().any(|n| n.contains("TrafficgenErrorRatioHigh")), "and the rules: {names:?}");
    let (code, json) = verify_dashboard(&c, &["--dashboard", CHART_DASHBOARD]);
    let got = rows(&json);
    assert!(got.len() >= 25, "{got:?}");
    for (name, result, reason) in &got {
        let mesh = ["istio", "linkerd"].into_iter().find(|m| name.to_lowercase().contains(&format!("with {m}")));
        match mesh {
            Some(m) if m != kind => {
                assert_eq!(result, "fail", "{name}");
                assert!(reason.contains("no data: "), "{name}: {reason}");
            }
            _ => assert_eq!(result, "pass", "{name}: {reason}"),
        }
    }
    assert_eq!(code, 3, "the other meshes' panels fail");
    let (_, from_configmap) = verify_dashboard(&c, &["--dashboard", configmap(&c.dir).to_str().unwrap()]);
    let same = |rows: Vec<(String, String, String)>| rows.into_iter().map(|(n, r, _)| (n, r)).collect::<Vec<_>>();
    assert_eq!(same(rows(&from_configmap)), same(got), "the ConfigMap gives the same rows");
}

#[test]
fn the_charts_dashboard_with_istio() {
    chart_dashboard_matches("istio");
}

#[test]
fn the_charts_dashboard_with_linkerd() {
    chart_dashboard_matches("linkerd");
}

#[test]
fn the_charts_dashboard_with_no_mesh() {
    chart_dashboard_matches("none");
}

/// A published dashboard: no query is rejected; the panels the simulation cannot serve fail with a
/// diagnosis that names what is missing, every other panel passes.
fn third_party(kind: &str, file: &str, vars: &[&str], cannot: &[(&str, &str)]) -> Option<Cluster> {
    let prometheus_bin = external("prometheus")?;
    let c = cluster(&prometheus_bin, kind, &["productpage:error=5%"]);
    let mut args = vec!["--dashboard".to_string(), format!("{THIRD_PARTY}/{file}")];
    args.extend(vars.iter().map(|v| format!("--var={v}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, json) = verify_dashboard(&c, &args);
    let got = rows(&json);
    assert!(got.len() > 5, "{got:?}");
    for (name, result, reason) in &got {
        assert!(!reason.contains("rejected"), "{name}: {reason}");
        match cannot.iter().find(|(panel, _)| name.contains(panel)) {
            Some((_, missing)) => {
                assert_eq!(result, "fail", "{name}");
                assert!(reason.contains(missing), "{name}: {reason}");
            }
            None if result == "skipped" => assert!(!reason.is_empty(), "{name}"),
            None => assert_eq!(result, "pass", "{name}: {reason}"),
        }
    }
    Some(c)
}

/// A query Prometheus rejects once expanded is a failed row quoting it; `--var` overrides a variable.
fn rejected_and_overridden(c: &Cluster) {
    let board = serde_json::json!({
        "title": "mine",
        "templating": {"list": [{"name": "wl", "type": "custom", "query": "productpage-v1,details-v1",
                                  "current": {"value": "productpage-v1"}}]},
        "panels": [
            {"type": "stat", "title": "Broken", "targets": [{"refId": "A",
              "expr": "sum(rate(istio_requests_total{destination_workload=\"$wl\"}[$__rate_interval])"}]},
            {"type": "stat", "title": "Calls", "targets": [{"refId": "A",
              "expr": "sum(rate(istio_requests_total{destination_workload=~\"${wl:regex}\"}[$__rate_interval]))"}]}
        ]
    });
    let file = c.dir.join("mine.json");
    std::fs::write(&file, board.to_string()).unwrap();
    let (code, json) = verify_dashboard(c, &["--dashboard", file.to_str().unwrap(), "--var", "wl=details-v1"]);
    assert_eq!(code, 3);
    let broken = &json["checks"][0];
    assert_eq!(broken["result"], "fail");
    assert!(broken["reason"].as_str().unwrap().contains("Prometheus rejected the query of A"), "{broken}");
    assert!(broken["query"].as_str().unwrap().contains("destination_workload=\"details-v1\""), "{broken}");
    assert!(!broken["query"].as_str().unwrap().contains('$'), "expanded: {broken}");
    let calls = &json["checks"][1];
    assert_eq!(calls["result"], "pass", "{calls}");
    assert!(calls["query"].as_str().unwrap().contains("details-v1"), "{calls}");
}

#[test]
fn istios_workload_dashboard_against_the_istio_simulation() {
    let c =
        third_party("istio", "istio-workload-dashboard.json", &["workload=productpage-v1"], &[("TCP", "istio_tcp_")]);
    if let Some(c) = c {
        rejected_and_overridden(&c);
    }
}

#[test]
fn linkerds_deployment_dashboard_against_the_linkerd_simulation() {
    let _ = third_party(
        "linkerd",
        "linkerd-deployment.json",
        &["namespace=bookinfo", "deployment=productpage-v1"],
        // productpage's only caller is the generator, which has no proxy here: no meshed inbound.
        &[("TCP", "tcp_"), ("INBOUND DEPLOYMENTS", "dst_deployment=\"productpage-v1\"")],
    );
}
