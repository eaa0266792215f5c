//! A built summary read field by field; each accessor is named after its JSON key.

use std::collections::BTreeMap;

use super::{Percentiles, RouteFigures, StageRow, Summary};
use crate::input::threshold::Verdict;

impl Summary {
    /// The run's identifier.
    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Configured rate; `None` for closed loop.
    pub fn target_rps(&self) -> Option<f64> {
        self.target_rps
    }

    /// Requests sent per second over the sending window.
    pub fn achieved_rps(&self) -> f64 {
        self.achieved_rps
    }

    /// Responses completed per second: what the target kept up with.
    pub(crate) fn throughput_rps(&self) -> f64 {
        self.throughput_rps
    }

    /// Requests sent in the window and still unanswered when it ended.
    pub(crate) fn in_flight_at_end(&self) -> u64 {
        self.in_flight_at_end
    }

    /// Length of the sending window in seconds.
    pub fn duration_s(&self) -> f64 {
        self.duration_s
    }

    /// Requests sent and ended.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Requests without error.
    pub fn ok(&self) -> u64 {
        self.ok
    }

    /// Requests with an error.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Sends skipped because of `--max-in-flight`.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Responses by status code.
    pub fn status_codes(&self) -> &BTreeMap<String, u64> {
        &self.status_codes
    }

    /// Errors by type.
    pub fn error_types(&self) -> &BTreeMap<String, u64> {
        &self.error_types
    }

    /// Corrected latency (from the intended send time).
    pub(crate) fn latency_ms(&self) -> &Percentiles {
        &self.latency_ms
    }

    /// Service time (from the actual send).
    pub fn service_time_ms(&self) -> &Percentiles {
        &self.service_time_ms
    }

    /// Per-route figures, when there is more than one route.
    pub fn routes(&self) -> &[RouteFigures] {
        &self.routes
    }

    /// Response classes and their counts, when classification is on.
    pub fn classes(&self) -> &BTreeMap<String, u64> {
        &self.classes
    }

    /// Every rule's outcome.
    pub fn thresholds(&self) -> &[Verdict] {
        &self.thresholds
    }

    /// Whether every rule held.
    pub fn passed(&self) -> bool {
        self.passed
    }

    /// Whether a signal ended the run early.
    pub fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// When sending started, Unix seconds.
    pub(crate) fn start_unix_s(&self) -> f64 {
        self.start_unix_s
    }

    /// When sending ended, Unix seconds.
    pub(crate) fn end_unix_s(&self) -> f64 {
        self.end_unix_s
    }

    /// The `--warmup`'s figures, left out of the rest.
    pub fn warmup(&self) -> Option<&StageRow> {
        self.warmup.as_ref()
    }

    /// One row per `--stages` stage.
    pub fn stages(&self) -> &[StageRow] {
        &self.stages
    }
}
