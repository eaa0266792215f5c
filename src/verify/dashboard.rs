//! Grafana dashboards read from files: dashboard JSON (as exported, or wrapped as `{"dashboard": …}`),
//! or Kubernetes ConfigMaps (YAML or JSON, one, several documents, or a `List`) holding dashboards
//! the way kube-prometheus-stack's Grafana sidecar loads them: labelled `grafana_dashboard`, one
//! dashboard JSON per `data` key. A directory is every `.json`, `.yaml` and `.yml` file in it.
//!
//! Each panel with Prometheus queries becomes a [`Panel`] named `ROW / TITLE` (the title alone
//! outside rows), collapsed rows and the old `rows` layout included; panels Grafana would not ask
//! Prometheus about carry the reason they are skipped.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One dashboard: its variables and its panels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Board {
    /// The dashboard's title.
    pub title: String,
    /// Where it was read from (a file, with the ConfigMap key when there is one).
    pub source: String,
    /// `templating.list`, in order.
    pub variables: Vec<Variable>,
    /// Panels with Prometheus queries, or skipped ones, in the dashboard's order.
    pub panels: Vec<Panel>,
}

/// A template variable as saved in the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Variable {
    /// `$name`.
    pub name: String,
    /// `query`, `custom`, `constant`, `interval`, `textbox`, `datasource`, ...
    pub kind: String,
    /// The definition: a query, a comma-separated list, a constant.
    pub query: String,
    /// `/pattern/` filtering (and capturing) a query's values.
    pub regex: String,
    /// Grafana's sort code (0 none, 1/2 alphabetical, 3/4 numerical, 5/6 case-insensitive).
    pub sort: u64,
    /// The saved selection's values (`$__all` for "All").
    pub current: Vec<String>,
    /// Several values may be chosen.
    pub multi: bool,
    /// "All" is offered.
    pub include_all: bool,
    /// "All" stands for this, when set.
    pub all_value: Option<String>,
}

/// One panel to check.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panel {
    /// `ROW / TITLE`, variables not yet filled in.
    pub name: String,
    /// Its visible Prometheus queries.
    pub targets: Vec<Target>,
    /// Why it cannot be checked (another data source, every query hidden, a library panel).
    pub skip: Option<String>,
    /// Variables the panel (or its row) is repeated for, one copy per value.
    pub repeat: Vec<String>,
    /// The panel's max data points (Grafana's default: its width in pixels).
    pub max_data_points: u32,
    /// The panel's min interval (`interval`), when set.
    pub min_interval: Option<String>,
}

/// One PromQL query of a panel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    /// `A`, `B`, ...
    pub ref_id: String,
    /// The PromQL, variables not yet filled in.
    pub expr: String,
    /// An instant query (at the end of the window) rather than a range query.
    pub instant: bool,
}

/// Read dashboards from files and directories; the error says which file and why.
pub(crate) fn load(paths: &[PathBuf]) -> Result<Vec<Board>, String> {
    let mut boards = Vec::new();
    for path in paths {
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json" || x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            files
        } else {
            vec![path.clone()]
        };
        for file in files {
            let found = load_file(&file)?;
            if found.is_empty() {
                return Err(format!(
                    "{}: no Grafana dashboard (dashboard JSON, or ConfigMaps labelled grafana_dashboard)",
                    file.display()
                ));
            }
            boards.extend(found);
        }
    }
    Ok(boards)
}

fn load_file(file: &Path) -> Result<Vec<Board>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let name = file.display().to_string();
    let docs: Vec<Value> = match serde_json::from_str::<Value>(&text) {
        Ok(v) => vec![v],
        Err(_) => serde_yaml_ng::Deserializer::from_str(&text)
            .map(|d| serde::Deserialize::deserialize(d).map_err(|e| format!("{name}: neither JSON nor YAML: {e}")))
            .collect::<Result<Vec<Value>, String>>()?,
    };
    let mut out = Vec::new();
    for doc in docs.iter().filter(|d| !d.is_null()) {
        from_document(doc, &name, &mut out)?;
    }
    Ok(out)
}

/// A dashboard, a ConfigMap, or a List of them.
fn from_document(doc: &Value, source: &str, out: &mut Vec<Board>) -> Result<(), String> {
    match doc["kind"].as_str() {
        Some("List") | Some("ConfigMapList") => {
            for item in doc["items"].as_array().into_iter().flatten() {
                from_document(item, source, out)?;
            }
        }
        Some("ConfigMap") => {
            let labelled = doc["metadata"]["labels"].get("grafana_dashboard").is_some();
            let data = doc["data"].as_object().filter(|_| labelled);
            for (key, text) in data.into_iter().flatten() {
                let text = text.as_str().unwrap_or_default();
                let board: Value =
                    serde_json::from_str(text).map_err(|e| format!("{source}: ConfigMap key {key}: not JSON: {e}"))?;
                out.push(board_of(&board, &format!("{source} ({key})"))?);
            }
        }
        _ if doc.get("dashboard").is_some_and(Value::is_object) => out.push(board_of(&doc["dashboard"], source)?),
        _ if doc.get("panels").is_some() || doc.get("rows").is_some() => out.push(board_of(doc, source)?),
        _ => {}
    }
    Ok(())
}

fn board_of(d: &Value, source: &str) -> Result<Board, String> {
    let variables: Vec<Variable> =
        d["templating"]["list"].as_array().into_iter().flatten().filter_map(variable).collect();
    let mut panels = Vec::new();
    walk(d["panels"].as_array().map_or(&[][..], Vec::as_slice), &variables, &mut panels);
    // The layout before schema 16: rows holding panels.
    for row in d["rows"].as_array().into_iter().flatten() {
        let title = text(&row["title"]);
        let shown = row["showTitle"].as_bool().unwrap_or(!title.is_empty());
        let repeat: Vec<String> =
            row["repeat"].as_str().filter(|s| !s.is_empty()).map(String::from).into_iter().collect();
        for p in row["panels"].as_array().into_iter().flatten() {
            panels.extend(panel(p, shown.then_some(title.as_str()), &repeat, &variables));
        }
    }
    Ok(Board { title: text(&d["title"]), source: source.to_string(), variables, panels })
}

/// Panels in order; a row's title applies to the panels after it (and to those nested in it when collapsed).
fn walk(list: &[Value], vars: &[Variable], out: &mut Vec<Panel>) {
    let mut row: Option<(String, Vec<String>)> = None;
    for p in list {
        if p["type"] == "row" {
            let repeat: Vec<String> =
                p["repeat"].as_str().filter(|s| !s.is_empty()).map(String::from).into_iter().collect();
            let current = (text(&p["title"]), repeat);
            for nested in p["panels"].as_array().into_iter().flatten() {
                out.extend(panel(nested, Some(&current.0), &current.1, vars));
            }
            row = Some(current);
            continue;
        }
        let (title, repeat) = row.as_ref().map_or((None, &[][..]), |(t, r)| (Some(t.as_str()), r.as_slice()));
        out.extend(panel(p, title, repeat, vars));
        // Panels nested in a non-row panel (old dashboards): same row.
        if p["type"] != "row" {
            for nested in p["panels"].as_array().into_iter().flatten() {
                out.extend(panel(nested, title, repeat, vars));
            }
        }
    }
}

fn panel(p: &Value, row: Option<&str>, row_repeat: &[String], vars: &[Variable]) -> Option<Panel> {
    let title = text(&p["title"]);
    let name = match row.filter(|r| !r.trim().is_empty()) {
        Some(r) => format!("{r} / {title}"),
        None => title,
    };
    let mut repeat = row_repeat.to_vec();
    repeat.extend(p["repeat"].as_str().filter(|s| !s.is_empty()).map(String::from));
    let skip = |reason: String| Panel {
        name: name.clone(),
        targets: Vec::new(),
        skip: Some(reason),
        repeat: repeat.clone(),
        max_data_points: 0,
        min_interval: None,
    };
    let queries: Vec<&Value> = p["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()))
        .collect();
    if queries.is_empty() {
        let library = p.get("libraryPanel")?;
        let lib = text(&library["name"]);
        let lib = if lib.is_empty() { text(&library["uid"]) } else { lib };
        return Some(skip(format!("library panel {lib:?}: its queries are kept in Grafana, not in the dashboard")));
    }
    match foreign(&p["datasource"], vars).as_deref() {
        None | Some("mixed") => {}
        Some(kind) => return Some(skip(format!("data source {kind}, not Prometheus"))),
    }
    let visible: Vec<&Value> = queries.iter().copied().filter(|t| t["hide"] != true).collect();
    let targets: Vec<Target> = visible
        .iter()
        .filter(|t| t["datasource"].is_null() || foreign(&t["datasource"], vars).is_none())
        .map(|t| Target {
            ref_id: text(&t["refId"]),
            expr: text(&t["expr"]),
            instant: t["instant"] == true && t["range"] != true,
        })
        .collect();
    if targets.is_empty() {
        let reason = if visible.is_empty() {
            "every query is hidden (hide: true)".to_string()
        } else {
            "no query on a Prometheus data source".to_string()
        };
        return Some(skip(reason));
    }
    let max_data_points = p["maxDataPoints"].as_u64().map_or_else(|| width(p), |m| m as u32);
    let min_interval = p["interval"].as_str().filter(|s| !s.is_empty()).map(String::from);
    Some(Panel { name, targets, skip: None, repeat, max_data_points, min_interval })
}

/// Grafana's default max data points is the panel's width in pixels: its share of 24 grid
/// columns, on a 1920-pixel screen.
fn width(p: &Value) -> u32 {
    let columns = p["gridPos"]["w"].as_u64().or_else(|| p["span"].as_u64().map(|s| s * 2)).unwrap_or(12);
    (columns.clamp(1, 24) * 1920 / 24) as u32
}

/// The type of a data source that is not Prometheus, or `None` for Prometheus (and the default one).
fn foreign(ds: &Value, vars: &[Variable]) -> Option<String> {
    let named = |name: &str| -> Option<String> {
        let var = name.trim_start_matches('$').trim_start_matches('{').trim_end_matches('}');
        if let Some(v) = vars.iter().find(|v| v.name == var && v.kind == "datasource") {
            return (!v.query.eq_ignore_ascii_case("prometheus")).then(|| v.query.clone());
        }
        match name {
            "-- Grafana --" | "grafana" => Some("grafana".into()),
            "-- Dashboard --" => Some("dashboard".into()),
            "-- Mixed --" => Some("mixed".into()),
            _ => None,
        }
    };
    match ds {
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some("prometheus") => None,
            Some("datasource") => named(o.get("uid").and_then(Value::as_str).unwrap_or_default()),
            Some(other) if !other.starts_with('$') => Some(other.to_string()),
            _ => o.get("uid").and_then(Value::as_str).and_then(named),
        },
        Value::String(s) => named(s),
        _ => None,
    }
}

fn variable(v: &Value) -> Option<Variable> {
    let name = v["name"].as_str()?.to_string();
    let query = match &v["query"] {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("query").and_then(Value::as_str).unwrap_or_default().to_string(),
        _ => text(&v["definition"]),
    };
    let current = match &v["current"]["value"] {
        Value::Array(a) => a.iter().map(text).collect(),
        Value::Null => Vec::new(),
        one => vec![text(one)],
    };
    Some(Variable {
        name,
        kind: text(&v["type"]),
        query,
        regex: text(&v["regex"]),
        sort: v["sort"].as_u64().unwrap_or(0),
        current,
        multi: v["multi"] == true,
        include_all: v["includeAll"] == true,
        all_value: v["allValue"].as_str().filter(|s| !s.is_empty()).map(String::from),
    })
}

/// A JSON string (or number) as text; anything else as empty.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
