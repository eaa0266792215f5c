//! What the user reads: progress lines on stderr, the summary (text or JSON) on stdout,
//! and a one-line verdict for `/dev/termination-log`.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::input::config::{Format, Shard};
use crate::input::threshold::{Figures, Stat, Verdict};
use crate::output::timeline::Point;
use crate::verify;

mod fields;
mod histograms;
mod progress;
mod records;
mod routes;
mod split;
mod stages;
mod text;

use text::plural;

pub use histograms::{decode, DecodeError, Histograms};
pub use progress::Progress;
pub(crate) use records::{Beside, Identity, Records, ShardRecords};
pub use routes::RouteFigures;
pub use split::{classes, Split};
pub(crate) use stages::table as stage_table;
pub use stages::StageRow;

/// Latency statistics in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Percentiles {
    /// From a microsecond histogram.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        let q = |q: f64| ms(h.value_at_quantile(q));
        Percentiles {
            p50: q(0.5),
            p90: q(0.9),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: ms(h.max()),
            mean: round(h.mean() / 1000.0),
        }
    }
}

fn ms(micros: u64) -> f64 {
    round(micros as f64 / 1000.0)
}

/// Three decimals are enough for milliseconds and keep the JSON readable.
fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The summary's JSON keys that tools may rely on: a contract, kept by tests.
pub const JSON_KEYS: [&str; 20] = [
    "run_id",
    "version",
    "started_at",
    "ended_at",
    "settings",
    "target_rps",
    "achieved_rps",
    "throughput_rps",
    "in_flight_at_end",
    "duration_s",
    "requests",
    "ok",
    "errors",
    "dropped",
    "status_codes",
    "error_types",
    "latency_ms",
    "service_time_ms",
    "thresholds",
    "passed",
];

/// The rule a run without thresholds is judged by: it fails when no request succeeded.
pub const NO_SUCCESS: &str = "no request succeeded";

/// What identifies a run and the settings that shape its numbers, so two summaries can be
/// compared later without guessing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunSettings {
    /// Target URLs, each once, in route order.
    pub targets: Vec<String>,
    /// Configured rate; `null` for closed loop.
    pub rate: Option<f64>,
    /// Closed-loop concurrency; `null` for open loop.
    pub concurrency: Option<usize>,
    /// Maximum connections per target.
    pub connections: usize,
    /// HTTP/2 or HTTP/1.1.
    pub http2: bool,
    /// Per-request timeout, e.g. `10s`.
    pub timeout: String,
}

/// The end-of-run summary. Its JSON keys are a contract that tools parse.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The run's identifier (`trafficgen_run_info`, the Pushgateway's instance).
    run_id: String,
    /// trafficgen's version.
    version: &'static str,
    /// When sending started (RFC 3339, UTC).
    started_at: String,
    /// When the sending window ended (RFC 3339, UTC).
    ended_at: String,
    /// The settings that shape the numbers.
    settings: RunSettings,
    /// Configured rate; `null` for closed loop.
    target_rps: Option<f64>,
    /// Requests sent per second over the sending window.
    achieved_rps: f64,
    /// Responses completed (errors included) per second: what the target kept up with. Taken
    /// over the window after its first second once the timeline is known (see
    /// [`Summary::steady_throughput_rps`]), else over the whole window.
    throughput_rps: f64,
    /// Requests sent in the window and still unanswered when it ended (answered, failed or
    /// cancelled while draining; all of them are in `requests`).
    in_flight_at_end: u64,
    /// Length of the sending window in seconds.
    duration_s: f64,
    /// Requests sent and ended (ok + errors, those that ended after the window included).
    requests: u64,
    /// Requests without error.
    ok: u64,
    /// Requests with an error.
    errors: u64,
    /// Sends skipped because of `--max-in-flight`.
    dropped: u64,
    /// Responses by status code.
    status_codes: BTreeMap<String, u64>,
    /// Errors by type.
    error_types: BTreeMap<String, u64>,
    /// Corrected latency (from the intended send time).
    latency_ms: Percentiles,
    /// Service time (from the actual send).
    service_time_ms: Percentiles,
    /// Per-route figures, when there is more than one route.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<RouteFigures>,
    /// Response classes and their counts, when classification is on.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    classes: BTreeMap<String, u64>,
    /// Threshold outcomes.
    thresholds: Vec<Verdict>,
    /// Whether every threshold held.
    passed: bool,
    /// Whether a signal ended the run early.
    interrupted: bool,
    /// Per-service figures as the services saw them (the demo's simulation).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    services: BTreeMap<String, ServiceFigures>,
    /// The `--expect-split` test, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    split: Option<Split>,
    /// Which shard of an Indexed Job this pod was; absent when not sharded.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<Shard>,
    /// When sending started and ended, Unix seconds: `verify --summary` judges this window.
    start_unix_s: f64,
    /// See `start_unix_s`.
    end_unix_s: f64,
    /// `--verify-prometheus`: the checks run against Prometheus after the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    verify: Option<verify::Verification>,
    /// The `--warmup`'s figures, left out of everything above; absent without a warm-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    warmup: Option<StageRow>,
    /// One row per `--stages` stage (or one for a flat rate with a warm-up); absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stages: Vec<StageRow>,
    /// The full latency distributions (HdrHistogram V2 compressed, base64, µs).
    histograms: Histograms,
    /// The run second by second (coarser past an hour).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    timeline: Vec<Point>,
    /// Client spans of sampled requests sent to `--otlp-endpoint`; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    spans: Option<Spans>,
    /// What the `--remote-write` pushes came to; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_write: Option<RemoteWritten>,
}

/// What became of the client spans of sampled requests.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Spans {
    /// Accepted by the OTLP receiver.
    pub exported: u64,
    /// Lost: the queue was full, the receiver failed or did not answer in time.
    pub dropped: u64,
}

/// What became of the samples pushed to `--remote-write`.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct RemoteWritten {
    /// Samples the receiver accepted.
    pub sent_samples: u64,
    /// Samples given up: refused, not accepted in time, or dropped from a full queue.
    pub failed_samples: u64,
    /// Pushes sent again after a failure (5xx, 429, no answer).
    pub retries: u64,
}

impl Summary {
    /// Add one rule's outcome (a threshold, the split test, a check) and judge again.
    fn add_verdict(&mut self, verdict: Verdict) {
        self.thresholds.push(verdict);
        self.judge();
    }

    /// The summary in the chosen format.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string(self).expect("summary serializes") + "\n",
            Format::Text => self.text(),
        }
    }

    /// Decide `passed`: every rule held. Without any rule, a run in which no request succeeded
    /// (a mistyped host, a target that is down) fails by the implicit rule [`NO_SUCCESS`], which
    /// gives way to the first real rule.
    fn judge(&mut self) {
        if self.thresholds.len() > 1 {
            self.thresholds.retain(|t| t.expr != NO_SUCCESS);
        }
        if self.thresholds.is_empty() && self.ok == 0 {
            let measured = format!("{} ok of {}", self.ok, self.requests);
            self.thresholds.push(Verdict { expr: NO_SUCCESS.to_string(), value: 0.0, measured, passed: false });
        }
        self.passed = self.thresholds.iter().all(|t| t.passed);
    }

    /// One line: PASSED/FAILED (or "no thresholds set" when nothing was judged) and the headline figures.
    pub fn verdict(&self) -> String {
        let failed: Vec<&str> = self.thresholds.iter().filter(|t| !t.passed).map(|t| t.expr.as_str()).collect();
        let head = match (self.passed, self.thresholds.is_empty()) {
            (true, true) => "no thresholds set".to_string(),
            (true, false) => "PASSED".to_string(),
            (false, _) => format!("FAILED ({})", failed.join(", ")),
        };
        format!(
            "{head}: {} sent at {:.1} req/s, {:.1} req/s completed, p99 {:.1} ms, {:.2}% errors, {} dropped",
            plural(self.requests, "request"),
            self.achieved_rps,
            self.throughput_rps,
            self.latency_ms.p99,
            self.error_rate() * 100.0,
            self.dropped
        )
    }

    /// Responses completed per second over the window after its first second, from the
    /// timeline: by then the first requests are answered (at any latency under a second), so a
    /// target that keeps up completes the rate sent even when its latency is a good part of a
    /// short window (what was answered
    /// within the window is 93% of what a 4 s run at 300 ms sent). Without a timeline, the
    /// rate answered within the window.
    pub fn steady_throughput_rps(&self) -> f64 {
        let warm = self.warmup.as_ref().map_or(0.0, |w| w.duration_s);
        let (from, to) = (warm + 1.0, warm + self.duration_s);
        // A run shorter than two of the timeline's seconds leaves too little to count.
        if self.timeline.is_empty() || self.duration_s < 2.0 {
            return self.throughput_rps;
        }
        round(stages::completions(&self.timeline, from, to) / (to - from))
    }

    /// Whether the target fell behind: requests were still in flight at the window's end, more
    /// than half as many again as at its middle (so a backlog that grew, not the few a steady
    /// run always has out), and completions fell short of sends by more than 5%.
    pub fn fell_behind(&self) -> bool {
        let middle = self.duration_s / 2.0;
        let at_middle = self.timeline.iter().take_while(|p| p.t + p.interval_s <= middle + 1e-9).last();
        let grew = at_middle.is_none_or(|p| self.in_flight_at_end as f64 > 1.5 * p.in_flight as f64 + 1.0);
        grew && self.in_flight_at_end > 0 && self.throughput_rps < 0.95 * self.achieved_rps
    }
}

/// One service's view of the traffic, from its server-side metrics.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceFigures {
    /// Requests it served.
    pub requests: u64,
    /// Requests per second over the run's window.
    pub rps: f64,
    /// Median server-side latency.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 5xx answers.
    pub errors: u64,
}

impl Figures for Summary {
    fn latency_ms(&self, stat: Stat) -> f64 {
        let p = &self.latency_ms;
        match stat {
            Stat::Percentile(500) => p.p50,
            Stat::Percentile(900) => p.p90,
            Stat::Percentile(950) => p.p95,
            Stat::Percentile(990) => p.p99,
            Stat::Percentile(_) => p.p999,
            Stat::Max => p.max,
            Stat::Mean => p.mean,
        }
    }

    fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }

    fn achieved_rps(&self) -> f64 {
        self.achieved_rps
    }

    fn throughput_rps(&self) -> f64 {
        self.throughput_rps
    }
}

/// Kubernetes shows this file's content in `kubectl describe pod`; write it only where it exists.
pub fn write_termination_log(line: &str) {
    const PATH: &str = "/dev/termination-log";
    if let Ok(mut f) = std::fs::OpenOptions::new().write(true).truncate(true).open(PATH) {
        let _ = std::io::Write::write_all(&mut f, line.as_bytes());
    }
}

#[cfg(test)]
mod tests;
