//! The shards' summaries as `merge` reads them: JSON summary files (`--summary-file`,
//! `--output json`), or log text such as `kubectl logs -l job-name=NAME --prefix --tail=-1`,
//! where each `[pod/NAME/container] ` prefix is one pod and its last summary line is taken.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::commands::compare::summary;
use crate::input::config::Shard;
use crate::output::report::{Histograms, Identity, Percentiles};

/// One shard's summary: the figures a merge adds up.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Part {
    /// Where it came from: a file's stem or a pod's name.
    #[serde(skip)]
    pub(crate) label: String,
    /// Run id, window and settings, under the summary's own keys.
    #[serde(flatten)]
    pub(crate) identity: Identity,
    pub(crate) target_rps: Option<f64>,
    pub(crate) achieved_rps: f64,
    pub(crate) throughput_rps: Option<f64>,
    pub(crate) in_flight_at_end: u64,
    pub(crate) duration_s: f64,
    pub(crate) requests: u64,
    pub(crate) ok: u64,
    pub(crate) errors: u64,
    pub(crate) dropped: u64,
    pub(crate) status_codes: BTreeMap<String, u64>,
    pub(crate) error_types: BTreeMap<String, u64>,
    pub(crate) classes: BTreeMap<String, u64>,
    pub(crate) latency_ms: Percentiles,
    pub(crate) thresholds: Vec<Rule>,
    pub(crate) passed: bool,
    pub(crate) shard: Option<Shard>,
    pub(crate) histograms: Option<Histograms>,
}

/// A threshold as a shard judged it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Rule {
    pub(crate) expr: String,
    pub(crate) passed: bool,
}

/// Why an input gave no summary.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The file or stdin could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file, or `-`.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No summary in it.
    #[error("{path}: no JSON summary found (run the shards with --output json or --summary-file; for kubectl logs pass --prefix --tail=-1)")]
    NoSummary {
        /// The file, or `-`.
        path: String,
    },
}

/// The summaries in `path` (`-` is stdin): one for a summary file, one per pod for log text.
pub(crate) fn load(path: &Path) -> Result<Vec<Part>, ReadError> {
    let name = path.display().to_string();
    let text = if name == "-" { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(path) }
        .map_err(|source| ReadError::Read { path: name.clone(), source })?;
    let stem = path.file_stem().map_or(name.clone(), |s| s.to_string_lossy().into_owned());
    let parts = parse(&text, &stem);
    if parts.is_empty() {
        return Err(ReadError::NoSummary { path: name });
    }
    Ok(parts)
}

/// The summaries in `text`: the whole of it when it is one, else each pod's last summary line
/// in pod name order (lines without a `[pod/...] ` prefix count as one source, labelled `label`).
pub(crate) fn parse(text: &str, label: &str) -> Vec<Part> {
    if let Some(mut part) = summary::<Part>(text.trim()) {
        part.label = label.to_string();
        return vec![part];
    }
    let mut last: BTreeMap<String, Part> = BTreeMap::new();
    for line in text.lines() {
        let (source, rest) = split_prefix(line);
        let Some(mut part) = rest.find('{').and_then(|i| summary::<Part>(rest[i..].trim())) else { continue };
        let source = source.map_or_else(|| label.to_string(), pod_name);
        part.label.clone_from(&source);
        last.insert(source, part);
    }
    last.into_values().collect()
}

/// `[pod/NAME/container] rest` into the prefix's inside and the rest.
fn split_prefix(line: &str) -> (Option<&str>, &str) {
    line.strip_prefix('[').and_then(|l| l.split_once("] ")).map_or((None, line), |(prefix, rest)| (Some(prefix), rest))
}

/// `pod/NAME/container` -> `NAME`.
fn pod_name(prefix: &str) -> String {
    let mut parts = prefix.split('/');
    match (parts.next(), parts.next()) {
        (Some("pod"), Some(name)) => name.to_string(),
        _ => prefix.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pods_last_summary_line_is_taken() {
        let logs = r#"[pod/tg-0-abc/trafficgen] 2026-01-01T00:00:00Z INFO serving /metrics
[pod/tg-1-def/trafficgen] {"requests":3,"latency_ms":{"p50":1.0},"run_id":"r"}
[pod/tg-0-abc/trafficgen] {"msg":"progress","done":10}
[pod/tg-0-abc/trafficgen] {"requests":7,"latency_ms":{"p50":2.5},"run_id":"r"}
[pod/tg-1-def/trafficgen] {"requests":5,"latency_ms":{"p50":2.0},"run_id":"r"}
[pod/tg-1-def/trafficgen] 2026-01-01T00:00:09Z INFO bye"#;
        let parts = parse(logs, "-");
        let got: Vec<(&str, u64)> = parts.iter().map(|p| (p.label.as_str(), p.requests)).collect();
        assert_eq!(got, [("tg-0-abc", 7), ("tg-1-def", 5)]);
        let file = parse(r#"{"requests":2,"latency_ms":{},"run_id":"r"}"#, "shard-2");
        assert_eq!((file.len(), file[0].label.as_str()), (1, "shard-2"));
        assert!(parse("nothing\n{\"msg\":\"progress\"}", "x").is_empty());
    }
}
