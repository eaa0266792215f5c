//! `trafficgen merge SUMMARY... | -`: one result for the shards of one run (an Indexed Job's
//! pods). Counts are summed and the shards' HdrHistograms merged, so the percentiles are those
//! of every request together, not an average of the shards' percentiles; rates are taken over
//! the union of the shards' windows. The thresholds given (or else the shards' own) judge the
//! merged result.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use crate::input::config::Format;
use crate::input::threshold::Threshold;
use crate::model::outcome::ErrorType;
use crate::output::recorder::{Completed, Counts, Stats};
use crate::output::report::{decode, Identity, Percentiles, RunSettings, ShardRecords, Summary};

mod read;

use read::Part;
pub(crate) use read::ReadError;

/// Flags of `trafficgen merge`.
#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// The shards' JSON summaries (--summary-file, --output json), or `-` for log text on stdin:
    /// `kubectl logs -l job-name=NAME --prefix --tail=-1`, each pod's last summary line
    #[arg(value_name = "SUMMARY", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Pass/fail rule on the merged result such as `p99<500ms` (repeatable); without one, the
    /// shards' own thresholds judge it
    #[arg(long)]
    pub threshold: Vec<String>,
    /// Merge summaries of different run ids (normally refused: they are different runs)
    #[arg(long)]
    pub allow_mixed: bool,
    /// Output format: text or json
    #[arg(long, default_value = "text", value_parser = crate::commands::compare::parse_format)]
    pub output: Format,
}

/// Why `merge` could not give a result.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MergeError {
    /// An input could not be read or held no summary (exit 1).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The inputs or flags do not make one run (exit 2).
    #[error("{0}")]
    Invalid(String),
}

/// The merged run: its summary (judged) and a row per shard.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    /// The whole run's summary.
    pub summary: Summary,
    /// Each shard as it reported itself.
    pub shards: Vec<ShardRow>,
}

/// One shard in the per-shard table.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ShardRow {
    /// File stem or pod name.
    pub source: String,
    /// Shard index, when the run was sharded.
    pub shard: Option<usize>,
    /// Requests sent.
    pub requests: u64,
    /// Requests sent per second over the shard's window.
    pub achieved_rps: f64,
    /// Responses completed per second over the shard's window.
    pub throughput_rps: f64,
    /// Failed requests.
    pub errors: u64,
    /// The shard's corrected p99.
    pub p99_ms: f64,
    /// Whether the shard's own thresholds held.
    pub passed: bool,
}

/// Read, merge, judge and print; returns the result.
pub(crate) fn run(args: &MergeArgs) -> Result<Merged, MergeError> {
    let mut thresholds = Vec::new();
    for text in &args.threshold {
        let t =
            Threshold::parse(text).map_err(|e| MergeError::Invalid(format!("invalid --threshold {text:?}: {e}")))?;
        thresholds.push(t);
    }
    let mut parts = Vec::new();
    for path in &args.inputs {
        parts.extend(read::load(path)?);
    }
    let merged = merge(&parts, &thresholds, args.allow_mixed)?;
    print!("{}", merged.render(args.output));
    Ok(merged)
}

/// Merge `parts` into one judged result; `thresholds` empty means the shards' own.
pub(crate) fn merge(parts: &[Part], thresholds: &[Threshold], allow_mixed: bool) -> Result<Merged, MergeError> {
    let mut ids: Vec<&str> = parts.iter().map(|p| p.identity.run_id.as_str()).collect();
    ids.dedup();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > 1 && !allow_mixed {
        return Err(MergeError::Invalid(format!(
            "the summaries are of different runs (run ids {}): merge one run's shards, or pass --allow-mixed",
            ids.join(", ")
        )));
    }
    let stats = stats(parts)?;
    let start = parts.iter().map(|p| p.identity.start_unix_s).fold(f64::INFINITY, f64::min);
    let end = parts.iter().map(|p| p.identity.end_unix_s).fold(f64::NEG_INFINITY, f64::max);
    let window = Duration::from_secs_f64((end - start).max(0.0));
    let in_flight: u64 = parts.iter().map(|p| p.in_flight_at_end).sum();
    // Each shard's completions at its own rate completed (its steady one), over its window.
    let done: f64 = parts.iter().map(|p| p.throughput_rps.unwrap_or(p.achieved_rps) * p.duration_s).sum();
    let completed = Completed { requests: (done.round() as u64).min(stats.counts.requests), routes: Vec::new() };
    let target = parts.iter().map(|p| p.target_rps).sum::<Option<f64>>();
    let first = parts.iter().min_by(|a, b| a.identity.start_unix_s.total_cmp(&b.identity.start_unix_s));
    let last = parts.iter().max_by(|a, b| a.identity.end_unix_s.total_cmp(&b.identity.end_unix_s));
    let identity = Identity {
        run_id: ids.join(","),
        started_at: first.map(|p| p.identity.started_at.clone()).unwrap_or_default(),
        ended_at: last.map(|p| p.identity.ended_at.clone()).unwrap_or_default(),
        start_unix_s: start,
        end_unix_s: end,
        settings: RunSettings { rate: target, ..first.map(|p| p.identity.settings.clone()).unwrap_or_default() },
        interrupted: parts.iter().any(|p| p.identity.interrupted),
    };
    let mut classes = BTreeMap::new();
    for (k, v) in parts.iter().flat_map(|p| &p.classes) {
        *classes.entry(k.clone()).or_default() += v;
    }
    let records = ShardRecords {
        stats: &stats,
        completed: &completed,
        target_rps: target,
        window,
        identity,
        in_flight_at_end: in_flight,
        classes,
    };
    let rules = if thresholds.is_empty() { own_thresholds(parts) } else { thresholds.to_vec() };
    let summary = Summary::of_shards(records, &rules);
    let mut shards: Vec<ShardRow> = parts.iter().map(row).collect();
    shards.sort_by(|a, b| (a.shard, &a.source).cmp(&(b.shard, &b.source)));
    Ok(Merged { summary, shards })
}

/// The counts summed and the histograms merged.
fn stats(parts: &[Part]) -> Result<Stats, MergeError> {
    let mut stats = Stats::default();
    for p in parts {
        let h = p.histograms.as_ref().ok_or_else(|| {
            MergeError::Invalid(format!(
                "{}: the summary has no histograms, so its percentiles cannot be merged",
                p.label
            ))
        })?;
        for (into, text) in [(&mut stats.latency, &h.latency), (&mut stats.service_time, &h.service_time)] {
            let decoded = decode(text).map_err(|e| MergeError::Invalid(format!("{}: histograms: {e}", p.label)))?;
            into.add(&decoded).map_err(|e| MergeError::Invalid(format!("{}: histograms: {e:?}", p.label)))?;
        }
        add(&mut stats.counts, p);
    }
    Ok(stats)
}

fn add(c: &mut Counts, p: &Part) {
    c.requests += p.requests;
    c.ok += p.ok;
    c.errors += p.errors;
    c.dropped += p.dropped;
    for (code, n) in &p.status_codes {
        if let Ok(code) = code.parse() {
            *c.status.entry(code).or_default() += n;
        }
    }
    for (kind, n) in &p.error_types {
        if let Some(kind) = ErrorType::ALL.into_iter().find(|e| e.as_str() == kind) {
            *c.error_types.entry(kind).or_default() += n;
        }
    }
}

/// The shards' thresholds that are rules on the figures (each once, in order); the implicit
/// "no request succeeded", `--expect-split` and Prometheus checks are each shard's own.
fn own_thresholds(parts: &[Part]) -> Vec<Threshold> {
    let mut rules: Vec<Threshold> = Vec::new();
    for rule in parts.iter().flat_map(|p| &p.thresholds) {
        if let Ok(t) = Threshold::parse(&rule.expr) {
            if !rules.iter().any(|r| r.expr == t.expr) {
                rules.push(t);
            }
        }
    }
    rules
}

fn row(p: &Part) -> ShardRow {
    let p99 = match p.histograms.as_ref().and_then(|h| decode(&h.latency).ok()) {
        Some(h) => Percentiles::of(&h).p99,
        None => p.latency_ms.p99,
    };
    ShardRow {
        source: p.label.clone(),
        shard: p.shard.map(|s| s.index),
        requests: p.requests,
        achieved_rps: p.achieved_rps,
        throughput_rps: p.throughput_rps.unwrap_or(p.achieved_rps),
        errors: p.errors,
        p99_ms: p99,
        passed: p.passed,
    }
}

impl Merged {
    /// The per-shard table and the merged summary, or the summary's JSON with a `shards` list.
    pub(crate) fn render(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let mut v = serde_json::to_value(&self.summary).expect("summary serializes");
                v["shards"] = serde_json::to_value(&self.shards).expect("rows serialize");
                v.to_string() + "\n"
            }
            Format::Text => {
                let mut s = String::new();
                let runs = self.summary.run_id();
                let _ = writeln!(s, "trafficgen merge: {} of run {runs}", plural_shards(self.shards.len()));
                let _ = writeln!(
                    s,
                    "  {:<24}{:>6}{:>10}{:>9}{:>9}{:>8}{:>10}  passed",
                    "source", "shard", "requests", "sent/s", "done/s", "errors", "p99 ms"
                );
                for r in &self.shards {
                    let shard = r.shard.map_or("-".to_string(), |i| i.to_string());
                    let _ = writeln!(
                        s,
                        "  {:<24}{shard:>6}{:>10}{:>9.1}{:>9.1}{:>8}{:>10.2}  {}",
                        r.source,
                        r.requests,
                        r.achieved_rps,
                        r.throughput_rps,
                        r.errors,
                        r.p99_ms,
                        if r.passed { "yes" } else { "no" }
                    );
                }
                s + &self.summary.render(Format::Text)
            }
        }
    }

    /// Whether the merged result passed.
    pub(crate) fn passed(&self) -> bool {
        self.summary.passed()
    }
}

fn plural_shards(n: usize) -> String {
    if n == 1 {
        "1 shard".into()
    } else {
        format!("{n} shards")
    }
}

#[cfg(test)]
mod tests;
