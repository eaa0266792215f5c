//! Grafana's template syntax as its Prometheus data source applies it: `$var`, `${var}`,
//! `${var:format}` and the deprecated `[[var]]` (grafana `templateSrv.replace`), multi-value and
//! "All" selections (`interpolateQueryExpr`: regex-escaped alternations), and the interval
//! arithmetic behind `$__interval` and `$__rate_interval` (Grafana's Prometheus backend:
//! `calculateStep`, `calculateRateInterval`, `roundInterval`, `FormatDuration`).

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use regex::{Captures, Regex};

use super::scrape::rate_interval;

/// `$var`, `[[var]]`, `[[var:fmt]]`, `${var}`, `${var.field}`, `${var:fmt}`, as Grafana matches them.
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}").expect("a valid regex")
});

/// What a variable stands for at the moment of a query.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Selected {
    /// The values chosen; for "All" without an `allValue`, every option.
    pub values: Vec<String>,
    /// "All" is chosen.
    pub all: bool,
    /// The variable's custom "All" value, inserted unformatted when "All" is chosen.
    pub all_value: Option<String>,
    /// Multi-value: its value is a list (`json` format, alternations).
    pub multi: bool,
    /// Offers "All": with `multi`, makes Prometheus regex-escape the value.
    pub include_all: bool,
}

impl Selected {
    /// One plain value, as built-in variables and textboxes have.
    pub(crate) fn one(value: impl Into<String>) -> Selected {
        Selected { values: vec![value.into()], ..Selected::default() }
    }
}

/// Variables by name, built-in ones (`__interval`, ...) included.
pub(crate) type Scope = BTreeMap<String, Selected>;

/// Replace every variable of `scope` in `text`; unknown names stay as written, as in Grafana.
pub(crate) fn interpolate(text: &str, scope: &Scope) -> String {
    interpolate_depth(text, scope, 0)
}

fn interpolate_depth(text: &str, scope: &Scope, depth: usize) -> String {
    VARIABLE
        .replace_all(text, |c: &Captures| {
            let name = [1, 2, 4].iter().find_map(|i| c.get(*i)).map_or("", |m| m.as_str());
            let format = [3, 6].iter().find_map(|i| c.get(*i)).map(|m| m.as_str());
            match scope.get(name) {
                None => c[0].to_string(),
                Some(sel) => match (&sel.all_value, sel.all) {
                    // Grafana skips formatting a custom "All" value (but for text and percentencode).
                    (Some(all), true) if !matches!(format, Some("text" | "percentencode")) => {
                        if depth < 8 {
                            interpolate_depth(all, scope, depth + 1)
                        } else {
                            all.clone()
                        }
                    }
                    _ => format_value(name, sel, format),
                },
            }
        })
        .into_owned()
}

/// One variable's value in `format`, or as the Prometheus data source writes it when none is given.
fn format_value(name: &str, sel: &Selected, format: Option<&str>) -> String {
    let v = &sel.values;
    let list = |each: &dyn Fn(&str) -> String, sep: &str| v.iter().map(|s| each(s)).collect::<Vec<_>>().join(sep);
    match format {
        None => prometheus(sel),
        Some("raw" | "csv" | "distributed") => v.join(","),
        Some("pipe") => v.join("|"),
        Some("regex") => match v.as_slice() {
            [one] => regex_escape(one),
            _ => format!("({})", list(&|s| regex_escape(s), "|")),
        },
        Some("doublequote") => list(&|s| format!("\"{}\"", s.replace('"', "\\\"")), ","),
        Some("singlequote") => list(&|s| format!("'{}'", s.replace('\'', "\\'")), ","),
        Some("sqlstring") => list(&|s| format!("'{}'", s.replace('\'', "''")), ","),
        Some("json") => {
            if sel.multi || sel.all || v.len() > 1 {
                serde_json::to_string(v).expect("strings serialize")
            } else {
                serde_json::to_string(v.first().map_or("", String::as_str)).expect("a string serializes")
            }
        }
        Some("lucene") => match v.as_slice() {
            [one] if !sel.multi => lucene_escape(one),
            _ => format!("({})", list(&|s| format!("\"{}\"", lucene_escape(s)), " OR ")),
        },
        Some("percentencode") => {
            let joined = if v.len() > 1 { format!("{{{}}}", v.join(",")) } else { v.join(",") };
            serde_urlencoded::to_string([("", joined)]).expect("strings encode").trim_start_matches('=').to_string()
        }
        Some("queryparam") => {
            let pairs: Vec<(String, &str)> = v.iter().map(|s| (format!("var-{name}"), s.as_str())).collect();
            serde_urlencoded::to_string(pairs).expect("strings encode")
        }
        Some("text") if sel.all => "All".into(),
        Some("text") => v.join(" + "),
        // `glob`, and Grafana's fallback for a format it does not know.
        Some(_) => match v.as_slice() {
            [one] => one.clone(),
            _ => format!("{{{}}}", v.join(",")),
        },
    }
}

/// The Prometheus data source's `interpolateQueryExpr`: a single-value variable is inserted as is
/// (quotes and backslashes escaped for the string literal); a multi-value or "All" one is
/// regex-escaped, several values as `(a|b)`.
fn prometheus(sel: &Selected) -> String {
    if !sel.multi && !sel.include_all {
        let one = sel.values.first().map_or("", String::as_str);
        return one.replace('\\', "\\\\").replace('\'', "\\\\'");
    }
    let escaped: Vec<String> = sel.values.iter().map(|s| prometheus_regex_escape(s)).collect();
    match escaped.as_slice() {
        [one] => one.clone(),
        _ => format!("({})", escaped.join("|")),
    }
}

/// `prometheusSpecialRegexEscape`: escaped for a regex inside a PromQL string, hence two backslashes.
fn prometheus_regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\\\\\"),
            '$' | '^' | '*' | '{' | '}' | '[' | ']' | '\'' | '+' | '?' | '.' | '(' | ')' | '|' => {
                out.push_str("\\\\");
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// The `regex` format's escape (one backslash).
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if "\\^$*+?.()|[]{}/".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn lucene_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if "+-=&|><!(){}[]^\"~*?:\\/ ".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Grafana's `roundInterval`: a computed interval rounded to a "nice" one.
pub(crate) fn round_interval(d: Duration) -> Duration {
    const STEPS: [(u64, u64); 29] = [
        (10, 1),
        (15, 10),
        (35, 20),
        (75, 50),
        (150, 100),
        (350, 200),
        (750, 500),
        (1_500, 1_000),
        (3_500, 2_000),
        (7_500, 5_000),
        (12_500, 10_000),
        (17_500, 15_000),
        (25_000, 20_000),
        (45_000, 30_000),
        (90_000, 60_000),
        (210_000, 120_000),
        (450_000, 300_000),
        (1_050_000, 600_000),
        (1_500_000, 900_000),
        (2_000_000, 1_200_000),
        (2_700_000, 1_800_000),
        (5_400_000, 3_600_000),
        (9_000_000, 7_200_000),
        (16_200_000, 10_800_000),
        (27_000_000, 21_600_000),
        (86_400_000, 43_200_000),
        (604_800_000, 86_400_000),
        (1_814_400_000, 604_800_000),
        (3_628_800_000, 1_814_400_000),
    ];
    let ms = d.as_millis() as u64;
    let rounded = STEPS.iter().find(|(upto, _)| ms <= *upto).map_or(2_592_000_000, |(_, to)| *to);
    Duration::from_millis(rounded)
}

/// Grafana's `FormatDuration`: the largest whole unit, truncated (75 s is `1m`).
pub(crate) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    const UNITS: [(u64, &str); 5] =
        [(365 * 86_400_000, "y"), (86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")];
    UNITS
        .iter()
        .find(|(unit, _)| ms >= *unit)
        .map_or_else(|| format!("{}ms", ms.max(1)), |(unit, name)| format!("{}{name}", ms / unit))
}

/// A panel query's `$__interval`: the range over the data points, at least the minimum interval
/// (the panel's own, else the scrape interval), rounded as Grafana rounds it.
pub(crate) fn interval(range: Duration, max_data_points: u32, min_interval: Duration) -> Duration {
    let computed = range / max_data_points.max(1);
    round_interval(computed.max(min_interval))
}

/// The built-in variables of one query: `$__interval`, `$__rate_interval`, `$__range`, ...
pub(crate) fn builtins(range: Duration, interval: Duration, scrape: Duration, end_ms: u64) -> Scope {
    let range_s = (range.as_millis() as f64 / 1000.0).round() as u64;
    let mut scope = Scope::new();
    let mut put = |name: &str, v: String| {
        scope.insert(name.to_string(), Selected::one(v));
    };
    put("__interval", format_duration(interval));
    put("__interval_ms", interval.as_millis().to_string());
    put("__rate_interval", format_duration(rate_interval(interval, scrape)));
    put("__rate_interval_ms", rate_interval(interval, scrape).as_millis().to_string());
    put("__range", format!("{range_s}s"));
    put("__range_s", range_s.to_string());
    put("__range_ms", (range_s * 1000).to_string());
    put("__from", end_ms.saturating_sub(range.as_millis() as u64).to_string());
    put("__to", end_ms.to_string());
    scope
}

#[cfg(test)]
mod tests;
