//! The top of the report: what was run. Each run's id, start and targets, then the settings
//! that differ between the runs (all of them for a single run), so a reader knows what the
//! charts compare before reading them.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

use super::svg::esc;
use crate::commands::compare::Saved;

/// Targets listed per run; a list of thousands ends with how many more.
const SHOWN: usize = 10;

/// The "What ran" section.
pub(super) fn what_ran(s: &mut String, runs: &[Saved]) {
    s.push_str("<h2>What ran</h2><table><tr><th>run</th><th>run id</th><th>started</th><th>targets</th></tr>");
    for r in runs {
        let mut targets: Vec<String> = match r.settings.get("targets") {
            Some(Value::Array(urls)) => urls.iter().take(SHOWN).map(text).collect(),
            _ => Vec::new(),
        };
        let all = r.settings.get("targets").and_then(Value::as_array).map_or(0, Vec::len);
        if all > SHOWN {
            targets.push(format!("and {} more", all - SHOWN));
        }
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"targets\">{}</td></tr>",
            esc(&r.label),
            esc(or_dash(&r.run_id)),
            esc(or_dash(&r.started_at)),
            esc(or_dash(&targets.join(" ")))
        );
    }
    s.push_str("</table>");
    let rows = settings(runs);
    if rows.is_empty() {
        return;
    }
    let heading = if runs.len() == 1 { "Settings" } else { "Settings that differ" };
    let _ = write!(s, "<h2>{heading}</h2><table><tr><th>setting</th>");
    for r in runs {
        let _ = write!(s, "<th>{}</th>", esc(&r.label));
    }
    s.push_str("</tr>");
    for (key, values) in rows {
        let _ = write!(s, "<tr><td>{}</td>", esc(&key));
        for v in values {
            let _ = write!(s, "<td>{}</td>", esc(&v));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
}

/// Each setting (targets apart, shown above) with its value per run: those that differ, or all
/// of a single run's.
fn settings(runs: &[Saved]) -> Vec<(String, Vec<String>)> {
    let keys: BTreeSet<&String> =
        runs.iter().filter_map(|r| r.settings.as_object()).flat_map(|o| o.keys()).filter(|k| *k != "targets").collect();
    keys.into_iter()
        .map(|key| (key.clone(), runs.iter().map(|r| r.settings.get(key).map_or("-".into(), text)).collect::<Vec<_>>()))
        .filter(|(_, values)| runs.len() == 1 || values.iter().any(|v| *v != values[0]))
        .collect()
}

/// A setting's value as a person reads it: `null` is `-`, strings bare.
fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}
