//! A dashboard's template variables resolved as Grafana resolves them: query variables
//! (`label_values(label)`, `label_values(metric, label)`, `metrics(regex)`, `query_result(query)`,
//! `label_names()`) asked of Prometheus over the window, in dependency order, then filtered by
//! the variable's regex and sorted; custom, constant, interval, textbox and datasource variables
//! from their definitions. The selection is the `--var` override, else the saved `current` while
//! it is still among the options, else Grafana's default: "All" when offered, else the first value.

use std::collections::BTreeSet;
use std::sync::LazyLock;
use std::time::SystemTime;

use regex::Regex;
use serde_json::Value;

use super::dashboard::Variable;
use super::grafana::{interpolate, Scope, Selected};
use super::prom::{labels, unix, PromError, Prometheus};

static LABEL_VALUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^label_values\((?s:(.+),\s*)?([a-zA-Z_$][a-zA-Z0-9_]*)\)\s*$").expect("a valid regex")
});
static METRICS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^metrics\((.+)\)\s*$").expect("a valid regex"));
static QUERY_RESULT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^query_result\((?s:(.+))\)\s*$").expect("a valid regex"));

/// A value chosen on the command line: `--var NAME=VALUE` (repeat NAME for several; `All` for all).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Override {
    /// The variable's name.
    pub name: String,
    /// The values given.
    pub values: Vec<String>,
}

/// A query variable whose query Prometheus rejected.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rejected {
    /// The variable's name.
    pub name: String,
    /// Its query, variables filled in.
    pub query: String,
    /// Prometheus's error.
    pub error: String,
}

/// Resolve every variable of a dashboard into `scope` (which holds the built-ins already); a
/// variable whose query Prometheus rejects has no values and is returned.
pub(crate) async fn resolve(
    prom: &Prometheus,
    vars: &[Variable],
    overrides: &[Override],
    scope: &mut Scope,
    (start, end): (SystemTime, SystemTime),
) -> Result<Vec<Rejected>, PromError> {
    let mut rejected = Vec::new();
    let names: BTreeSet<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    let mut pending: Vec<&Variable> = vars.iter().collect();
    while !pending.is_empty() {
        // Grafana's order: a variable after those it refers to (a cycle is taken as it comes).
        let ready = |v: &&Variable| {
            let text = format!("{} {} {}", v.query, v.regex, v.all_value.as_deref().unwrap_or_default());
            names.iter().all(|n| *n == v.name || scope.contains_key(*n) || !mentions(&text, n))
        };
        let at = pending.iter().position(ready).unwrap_or(0);
        let var = pending.remove(at);
        let options = match options(prom, var, scope, (start, end)).await {
            Ok(o) => o,
            Err(PromError::Rejected { query, error }) => {
                rejected.push(Rejected { name: var.name.clone(), query, error });
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let given = overrides.iter().find(|o| o.name == var.name).map(|o| o.values.clone());
        scope.insert(var.name.clone(), select(var, options, given));
    }
    Ok(rejected)
}

/// Whether `text` uses the variable `name` in any of Grafana's syntaxes.
fn mentions(text: &str, name: &str) -> bool {
    let mut probe = Scope::new();
    probe.insert(name.to_string(), Selected::one("\u{0}"));
    interpolate(text, &probe).contains('\u{0}')
}

/// The variable's options, in order.
async fn options(
    prom: &Prometheus,
    var: &Variable,
    scope: &Scope,
    window: (SystemTime, SystemTime),
) -> Result<Vec<String>, PromError> {
    let values = match var.kind.as_str() {
        "query" => {
            let found = query_values(prom, &interpolate(&var.query, scope), window).await?;
            filter(found, &interpolate(&var.regex, scope))
        }
        "custom" | "interval" => split_custom(&var.query),
        "constant" => vec![var.query.clone()],
        "textbox" => vec![var.current.first().cloned().unwrap_or_else(|| var.query.clone())],
        "datasource" => vec![var.query.clone()],
        _ => var.current.clone(),
    };
    let mut seen = BTreeSet::new();
    let mut values: Vec<String> = values.into_iter().filter(|v| seen.insert(v.clone())).collect();
    sort(&mut values, var.sort);
    Ok(values)
}

/// What one query variable's definition asks of Prometheus.
async fn query_values(
    prom: &Prometheus,
    query: &str,
    (start, end): (SystemTime, SystemTime),
) -> Result<Vec<String>, PromError> {
    let query = query.trim();
    if query == "label_names()" {
        return label_values(prom, "", None, (start, end)).await;
    }
    if let Some(c) = LABEL_VALUES.captures(query) {
        let selector = c.get(1).map(|m| m.as_str().trim());
        return label_values(prom, &c[2], selector, (start, end)).await;
    }
    if let Some(c) = METRICS.captures(query) {
        let names = label_values(prom, "__name__", None, (start, end)).await?;
        let Ok(re) = Regex::new(c[1].trim()) else { return Ok(names) };
        return Ok(names.into_iter().filter(|n| re.is_match(n)).collect());
    }
    let expr = QUERY_RESULT.captures(query).map_or(query, |c| c.get(1).map_or(query, |m| m.as_str()));
    let data = prom.api("query", expr, &[("time", format!("{:.3}", unix(end)))]).await?;
    Ok(query_result_lines(&data))
}

/// Values of `label` (label names when empty) over the window, on series matching `selector` when given.
async fn label_values(
    prom: &Prometheus,
    label: &str,
    selector: Option<&str>,
    (start, end): (SystemTime, SystemTime),
) -> Result<Vec<String>, PromError> {
    let mut form = vec![("start", format!("{:.0}", unix(start).floor())), ("end", format!("{:.0}", unix(end).ceil()))];
    if let Some(m) = selector {
        form.push(("match[]", m.to_string()));
    }
    let endpoint = if label.is_empty() { "labels".to_string() } else { format!("label/{label}/values") };
    let what = selector.map_or_else(|| format!("label_values({label})"), |m| format!("label_values({m}, {label})"));
    let data = prom.api(&endpoint, "", &form).await.map_err(|e| match e {
        PromError::Rejected { error, .. } => PromError::Rejected { query: what.clone(), error },
        other => other,
    })?;
    Ok(data.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect())
}

/// Each series as Grafana's `query_result` writes it: `name{a="1",b="2"} value timestamp_ms`.
fn query_result_lines(data: &Value) -> Vec<String> {
    let line = |metric: &Value, value: &Value| {
        let mut metric = metric.clone();
        let name = metric.as_object_mut().and_then(|m| m.remove("__name__"));
        let name = name.as_ref().and_then(Value::as_str).unwrap_or_default().to_string();
        let inner = labels(&metric).replace(", ", ",");
        let (t, v) = (value[0].as_f64().unwrap_or_default(), value[1].as_str().unwrap_or_default());
        format!("{name}{inner} {v} {}", (t * 1000.0).round() as i64)
    };
    match data["resultType"].as_str() {
        Some("vector") => {
            data["result"].as_array().into_iter().flatten().map(|s| line(&s["metric"], &s["value"])).collect()
        }
        Some("scalar") => vec![line(&Value::Null, &data["result"])],
        _ => Vec::new(),
    }
}

/// Grafana's variable regex: keep the values it matches, its first group (or the group named
/// `value`) when it has one. `/pattern/flags` as written in dashboards.
fn filter(values: Vec<String>, regex: &str) -> Vec<String> {
    if regex.is_empty() {
        return values;
    }
    let (pattern, flags) = match regex.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
        Some((p, f)) => (p, f),
        None => (regex, ""),
    };
    let inline: String = flags.chars().filter(|c| "ims".contains(*c)).collect();
    let pattern = if inline.is_empty() { pattern.to_string() } else { format!("(?{inline}){pattern}") };
    let Ok(re) = Regex::new(&pattern) else {
        tracing::warn!(regex, "verify: a variable regex this program cannot read; values kept unfiltered");
        return values;
    };
    values
        .into_iter()
        .filter_map(|v| {
            let c = re.captures(&v)?;
            let picked = c.name("value").or_else(|| c.get(1)).map_or(v.as_str(), |m| m.as_str());
            Some(picked.to_string())
        })
        .collect()
}

/// A custom variable's `a, b, c` (`\,` is a comma inside a value; `text : value` keeps the value).
fn split_custom(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut item = String::new();
    let mut chars = query.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' if chars.peek() == Some(&',') => item.push(chars.next().expect("peeked")),
            ',' => out.push(std::mem::take(&mut item)),
            _ => item.push(ch),
        }
    }
    out.push(item);
    out.into_iter()
        .map(|s| s.rsplit_once(" : ").map_or(s.trim(), |(_, v)| v.trim()).to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn sort(values: &mut [String], how: u64) {
    let number = |s: &String| s.parse::<f64>().unwrap_or(f64::NAN);
    match how {
        1 | 7 => values.sort(),
        2 | 8 => values.sort_by(|a, b| b.cmp(a)),
        3 => values.sort_by(|a, b| number(a).total_cmp(&number(b))),
        4 => values.sort_by(|a, b| number(b).total_cmp(&number(a))),
        5 => values.sort_by_key(|s| s.to_lowercase()),
        6 => values.sort_by_key(|s| std::cmp::Reverse(s.to_lowercase())),
        _ => {}
    }
}

/// The selection: `given`, else the saved one where still valid, else "All" or the first option.
fn select(var: &Variable, options: Vec<String>, given: Option<Vec<String>>) -> Selected {
    let wants_all = |v: &[String]| v.iter().any(|s| s == "$__all" || s == "All");
    let constant = matches!(var.kind.as_str(), "constant" | "textbox" | "datasource");
    let (all, values) = match given {
        Some(v) if var.include_all && wants_all(&v) => (true, options.clone()),
        Some(v) => (false, v),
        None if constant => (false, options.clone()),
        None if var.include_all && wants_all(&var.current) => (true, options.clone()),
        None => {
            let valid: Vec<String> = var.current.iter().filter(|c| options.contains(c)).cloned().collect();
            match (valid.is_empty(), var.include_all) {
                (false, _) => (false, valid),
                (true, true) => (true, options.clone()),
                (true, false) => (false, options.first().cloned().into_iter().collect()),
            }
        }
    };
    Selected { values, all, all_value: var.all_value.clone(), multi: var.multi, include_all: var.include_all }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(kind: &str, current: &[&str]) -> Variable {
        Variable {
            name: "v".into(),
            kind: kind.into(),
            query: String::new(),
            regex: String::new(),
            sort: 0,
            current: current.iter().map(|s| s.to_string()).collect(),
            multi: false,
            include_all: false,
            all_value: None,
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_saved_selection_holds_while_it_is_an_option() {
        let opts = strings(&["details", "reviews"]);
        assert_eq!(select(&var("query", &["reviews"]), opts.clone(), None).values, ["reviews"]);
        assert_eq!(select(&var("query", &["gone"]), opts.clone(), None).values, ["details"]);
        let all = Variable { include_all: true, ..var("query", &["gone"]) };
        assert!(select(&all, opts.clone(), None).all, "an invalid selection falls back to All when offered");
        let given = select(&var("query", &["details"]), opts, Some(strings(&["ratings"])));
        assert_eq!(given.values, ["ratings"], "--var wins, even with a value Prometheus has not seen");
    }

    #[test]
    fn regexes_capture_like_grafana() {
        let lines = strings(&[r#"{destination_workload_namespace="bookinfo"} 3 1000"#, "other 1 1000"]);
        assert_eq!(filter(lines, r#"/.*_namespace="([^"]*).*/"#), ["bookinfo"]);
        assert_eq!(filter(strings(&["Ab", "cd"]), "/ab/i"), ["Ab"]);
        assert_eq!(filter(strings(&["x-1"]), "/x-(?<value>\\d)/"), ["1"]);
    }

    #[test]
    fn custom_values_split_on_unescaped_commas() {
        assert_eq!(split_custom("source,destination"), ["source", "destination"]);
        assert_eq!(split_custom(r"a\,b, c , Label : val"), ["a,b", "c", "val"]);
        let mut v = strings(&["10", "9", "b", "A"]);
        sort(&mut v, 3);
        assert_eq!(v[..2], ["9", "10"]);
        sort(&mut v, 5);
        assert_eq!(v, ["10", "9", "A", "b"]);
    }

    #[test]
    fn query_result_lines_read_as_grafana_writes_them() {
        let data = serde_json::json!({"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "job": "a", "instance": "b"}, "value": [1700000000.5, "1"]}]});
        assert_eq!(query_result_lines(&data), [r#"up{instance="b",job="a"} 1 1700000000500"#]);
        assert!(LABEL_VALUES.captures("label_values(job)").unwrap().get(1).is_none());
        let c = LABEL_VALUES.captures(r#"label_values(istio_requests_total{a="b, c"}, destination_service)"#).unwrap();
        assert_eq!((&c[1], &c[2]), (r#"istio_requests_total{a="b, c"}"#, "destination_service"));
    }
}
