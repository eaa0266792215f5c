//! A summary read back: from a JSON summary file, or from `kubectl logs` output, where the last
//! line holding a JSON summary is taken (progress lines and log prefixes are skipped).

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Deserialize;

use crate::output::report::{decode, Histograms, Percentiles};
use crate::output::timeline::Point;

/// The figures of one past run that `compare` and `report` use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Saved {
    /// Where it came from (file name), for tables and legends.
    #[serde(skip)]
    pub label: String,
    /// Configured rate; `None` for closed loop.
    pub target_rps: Option<f64>,
    /// Rate sent.
    pub achieved_rps: f64,
    /// Rate completed; `None` in summaries older than the figure, which had all requests done.
    pub throughput_rps: Option<f64>,
    /// Requests still in flight when the window ended.
    pub in_flight_at_end: u64,
    /// The run's identifier.
    pub run_id: String,
    /// When sending started (RFC 3339).
    pub started_at: String,
    /// The settings that shape the numbers, as the run wrote them.
    pub settings: serde_json::Value,
    /// The warm-up's row, when the run had one (its `duration_s` precedes the measured window).
    pub warmup: Option<serde_json::Value>,
    /// Sending window, seconds.
    pub duration_s: f64,
    /// Completed requests.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Sends dropped at `--max-in-flight`.
    pub dropped: u64,
    /// Errors by type.
    pub error_types: BTreeMap<String, u64>,
    /// Response classes.
    pub classes: BTreeMap<String, u64>,
    /// Corrected latency percentiles.
    pub latency_ms: Percentiles,
    /// The encoded histograms, when the summary has them.
    pub histograms: Option<Histograms>,
    /// The timeline, when the summary has one.
    pub timeline: Vec<Point>,
    /// Whether the run's thresholds held.
    pub passed: bool,
    /// The decoded corrected-latency histogram (µs).
    #[serde(skip)]
    pub latency: Option<Histogram<u64>>,
}

/// Why a summary could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// No JSON summary in it.
    #[error("{path}: no JSON summary found (run with --output json or --summary-file)")]
    NoSummary {
        /// The file.
        path: String,
    },
    /// A histogram in it is not HdrHistogram V2.
    #[error("{path}: histograms.latency: {source}")]
    Histogram {
        /// The file.
        path: String,
        /// Why.
        source: crate::output::report::DecodeError,
    },
}

impl Saved {
    /// Read the summary in `path` (`-` is stdin).
    pub(crate) fn load(path: &Path) -> Result<Saved, LoadError> {
        let name = path.display().to_string();
        let text = if name == "-" { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(path) }
            .map_err(|source| LoadError::Read { path: name.clone(), source })?;
        let mut saved = Saved::parse(&text).ok_or_else(|| LoadError::NoSummary { path: name.clone() })?;
        saved.check(&name)?;
        saved.label = path.file_stem().map_or(name.clone(), |s| s.to_string_lossy().into_owned());
        Ok(saved)
    }

    /// The last JSON summary in `text` (a whole file, or log lines), histograms decoded.
    pub(crate) fn parse(text: &str) -> Option<Saved> {
        let whole = std::iter::once(text.trim());
        let lines = text.lines().rev().filter_map(|l| l.find('{').map(|i| l[i..].trim()));
        let mut saved: Saved = whole.chain(lines).find_map(summary)?;
        saved.latency = saved.histograms.as_ref().and_then(|h| decode(&h.latency).ok());
        Some(saved)
    }

    /// Responses completed per second (the rate sent, for a summary without the figure).
    pub(crate) fn throughput(&self) -> f64 {
        self.throughput_rps.unwrap_or(self.achieved_rps)
    }

    /// Seconds of warm-up before the measured window.
    pub(crate) fn warmup_s(&self) -> f64 {
        self.warmup.as_ref().and_then(|w| w["duration_s"].as_f64()).unwrap_or(0.0)
    }

    /// Errors per request.
    pub(crate) fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }

    /// Check the encoded histogram decodes (to report a broken one instead of ignoring it).
    fn check(&self, path: &str) -> Result<(), LoadError> {
        match &self.histograms {
            Some(h) => {
                decode(&h.latency).map(drop).map_err(|source| LoadError::Histogram { path: path.into(), source })
            }
            None => Ok(()),
        }
    }
}

/// `text` as a summary (or the part of one that `T` reads), if it is a JSON object with a
/// summary's keys.
pub(crate) fn summary<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let is_summary = value.get("latency_ms").is_some_and(|v| v.is_object()) && value.get("requests").is_some();
    is_summary.then(|| serde_json::from_value(value).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_summary_line_of_kubectl_logs_is_taken() {
        let logs = r#"2026-01-01T00:00:00Z INFO serving /metrics
{"msg":"progress","elapsed_s":5.0,"done":10}
{"requests":1,"errors":0,"latency_ms":{"p50":1.0},"achieved_rps":1.0}
[pod/tg-abc/trafficgen] {"requests":7,"errors":1,"latency_ms":{"p50":2.5},"achieved_rps":3.0}
2026-01-01T00:00:09Z INFO bye"#;
        let s = Saved::parse(logs).unwrap();
        assert_eq!((s.requests, s.latency_ms.p50), (7, 2.5));
        assert!((s.error_rate() - 1.0 / 7.0).abs() < 1e-12);
        assert!(s.latency.is_none());
        assert!(Saved::parse("no summary here\n{\"msg\":\"progress\"}").is_none());
    }
}
