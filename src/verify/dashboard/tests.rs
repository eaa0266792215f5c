use super::*;
use serde_json::json;

fn board(v: Value) -> Board {
    let mut out = Vec::new();
    from_document(&v, "test", &mut out).unwrap();
    out.remove(0)
}

fn names(b: &Board) -> Vec<(String, Option<String>)> {
    b.panels.iter().map(|p| (p.name.clone(), p.skip.clone())).collect()
}

#[test]
fn panels_are_named_by_their_row_collapsed_or_not() {
    let prom = json!({"type": "prometheus", "uid": "${datasource}"});
    let b = board(json!({
        "title": "t",
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": [
            {"type": "stat", "title": "Top", "datasource": prom, "targets": [{"refId": "A", "expr": "up"}]},
            {"type": "row", "title": "Open", "collapsed": false, "panels": []},
            {"type": "text", "title": "Notes"},
            {"type": "timeseries", "title": "Rate", "datasource": prom, "gridPos": {"w": 6},
             "targets": [{"refId": "A", "expr": "a"}, {"refId": "B", "expr": "b", "hide": true}]},
            {"type": "row", "title": "Shut", "collapsed": true, "panels": [
                {"type": "graph", "title": "Inside", "datasource": "$datasource", "targets": [{"expr": "c", "instant": true}]},
                {"type": "graph", "title": "Hidden", "targets": [{"expr": "d", "hide": true}]},
                {"type": "graph", "title": "Logs", "datasource": {"type": "loki", "uid": "x"}, "targets": [{"expr": "{a=\"b\"}"}]},
                {"type": "graph", "title": "Shared", "libraryPanel": {"uid": "u", "name": "Shared one"}}
            ]}
        ]
    }));
    let got = names(&b);
    assert_eq!(got[0], ("Top".into(), None));
    assert_eq!(got[1], ("Open / Rate".into(), None));
    assert_eq!(got[2], ("Shut / Inside".into(), None));
    assert_eq!(got[3].1.as_deref(), Some("every query is hidden (hide: true)"));
    assert_eq!(got[4].1.as_deref(), Some("data source loki, not Prometheus"));
    assert!(got[5].1.as_deref().unwrap().starts_with("library panel \"Shared one\""), "{got:?}");
    assert_eq!(got.len(), 6, "the text panel is no check: {got:?}");
    assert_eq!(b.panels[1].targets.len(), 1, "hidden targets are left out");
    assert_eq!(b.panels[1].max_data_points, 480);
    assert!(b.panels[2].targets[0].instant);
}

#[test]
fn configmaps_hold_dashboards_as_the_sidecar_loads_them() {
    let dash = r#"{"title": "d", "panels": [{"type": "stat", "title": "P", "targets": [{"expr": "up"}]}]}"#;
    let cm = |label: bool| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "x", "labels": if label { json!({"grafana_dashboard": "1"}) } else { json!({}) }},
               "data": {"d.json": dash}})
    };
    let list = json!({"kind": "List", "items": [cm(true), cm(false)]});
    let yaml = serde_yaml_ng::to_string(&list).unwrap() + "---\n" + &serde_yaml_ng::to_string(&cm(true)).unwrap();
    let dir = std::env::temp_dir().join(format!("trafficgen-dash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cm.yaml"), yaml).unwrap();
    std::fs::write(dir.join("skip.txt"), "not read").unwrap();
    let boards = load(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(boards.len(), 2, "the unlabelled ConfigMap is not a dashboard");
    assert_eq!(boards[0].panels[0].name, "P");
    assert!(boards[0].source.ends_with("cm.yaml (d.json)"), "{}", boards[0].source);
    std::fs::write(dir.join("cm.yaml"), serde_yaml_ng::to_string(&cm(false)).unwrap()).unwrap();
    assert!(load(std::slice::from_ref(&dir)).unwrap_err().contains("no Grafana dashboard"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn variables_keep_their_saved_selection() {
    let b = board(json!({"panels": [], "templating": {"list": [
        {"name": "svc", "type": "query", "query": {"query": "label_values(up, job)", "refId": "x"},
         "multi": true, "includeAll": true, "allValue": ".+", "current": {"value": ["$__all"]}, "sort": 1},
        {"name": "ns", "type": "textbox", "query": "bookinfo", "current": {"value": "bookinfo"}}
    ]}}));
    assert_eq!(b.variables[0].query, "label_values(up, job)");
    assert_eq!(b.variables[0].current, ["$__all"]);
    assert_eq!(b.variables[0].all_value.as_deref(), Some(".+"));
    assert_eq!(b.variables[1].current, ["bookinfo"]);
}
