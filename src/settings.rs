//! The raw settings of a run: its flags, and how flags, `TRAFFICGEN_*` env vars and defaults are
//! layered into one [`RawConfig`] that remembers where each value came from. Below `config`, which
//! validates it; it knows no subcommand.

use std::collections::BTreeMap;

use clap::{ArgMatches, Args, FromArgMatches};
use serde::{Deserialize, Serialize};

/// Prefix of every env var that sets an option; it keeps Kubernetes service-link vars out.
pub(crate) const ENV_PREFIX: &str = "TRAFFICGEN_";

/// Raw, unvalidated run settings: every value is text exactly as the user gave it.
///
/// The same struct is filled from flags (clap) and from `TRAFFICGEN_<FIELD>` env vars (envy);
/// field names are the single source of both names.
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct RawConfig {
    /// Target URLs; requests are spread over them in turn
    #[arg(value_name = "URL")]
    pub url: Vec<String>,
    /// Requests per second (fractional allowed), or `max` for closed loop
    #[arg(long, default_value = "10")]
    pub rate: Option<String>,
    /// Closed-loop workers, used with `--rate max`
    #[arg(long, default_value = "10")]
    pub concurrency: Option<String>,
    /// How long to send, e.g. `30s`, `10m`; absent = until SIGTERM or --requests
    #[arg(long)]
    pub duration: Option<String>,
    /// Stop after this many requests
    #[arg(long)]
    pub requests: Option<String>,
    /// Maximum connections per target
    #[arg(long, default_value = "64")]
    pub connections: Option<String>,
    /// Maximum outstanding requests; open-loop sends beyond it are dropped and counted
    #[arg(long, default_value = "1000")]
    pub max_in_flight: Option<String>,
    /// Per-request timeout, connecting included
    #[arg(long, default_value = "10s")]
    pub timeout: Option<String>,
    /// HTTP method
    #[arg(long, default_value = "GET")]
    pub method: Option<String>,
    /// Request header `Name: value` (repeatable; comma-separated in the env var)
    #[arg(short = 'H', long)]
    pub header: Vec<String>,
    /// Request body: literal text, or `@path` to read a file
    #[arg(long)]
    pub body: Option<String>,
    /// Use HTTP/2 (prior knowledge for http://, ALPN for https://)
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub http2: Option<String>,
    /// Do not verify TLS certificates
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub insecure: Option<String>,
    /// Extra CA certificates (PEM file) to trust
    #[arg(long)]
    pub cacert: Option<String>,
    /// Pin `host:port:addr` like curl's --resolve, or `host:port:addr:port` to move the port too (repeatable)
    #[arg(long)]
    pub resolve: Vec<String>,
    /// Where to serve /metrics and /healthz, or `off`
    #[arg(long, default_value = "0.0.0.0:9464")]
    pub metrics_addr: Option<String>,
    /// Summary format on stdout: text or json
    #[arg(long, default_value = "text")]
    pub output: Option<String>,
    /// Also write the JSON summary to this file
    #[arg(long)]
    pub summary_file: Option<String>,
    /// Also write an HTML report of the run (charts, no network needed to view) to this file
    #[arg(long, value_name = "FILE")]
    pub report: Option<String>,
    /// Interval of progress lines on stderr (`0s` = off)
    #[arg(long, default_value = "5s")]
    pub progress_interval: Option<String>,
    /// Log and progress format on stderr: text or json
    #[arg(long, default_value = "text")]
    pub log_format: Option<String>,
    /// Pass/fail rule such as `p99<300ms`, `error_rate<1%`, `achieved_rps>=95` (repeatable)
    #[arg(long)]
    pub threshold: Vec<String>,
    /// Routes file (YAML or JSON): weighted routes, login, per-route classification; replaces URL arguments
    #[arg(long)]
    pub scenario: Option<String>,
    /// Response class `NAME=REGEX` matched on the body, first match wins (repeatable)
    #[arg(long)]
    pub classify: Vec<String>,
    /// Classify responses by this header's value (at most 16 distinct values, then `other`)
    #[arg(long)]
    pub classify_header: Option<String>,
    /// Built-in classification: bookinfo-reviews (v1, v2, v3, error from productpage HTML)
    #[arg(long)]
    pub classify_preset: Option<String>,
    /// Expected class shares, e.g. v1=1,v2=1,v3=1: a chi-square test that fails the run when p < 0.001
    #[arg(long)]
    pub expect_split: Option<String>,
    /// After a signal, how long to wait for in-flight requests
    #[arg(long, default_value = "5s")]
    pub drain_timeout: Option<String>,
    /// After the run, keep serving /metrics this long so Prometheus scrapes the final values
    #[arg(long, default_value = "0s")]
    pub linger: Option<String>,
    /// At exit, tell the mesh sidecar to quit: auto, istio, linkerd, none, or a URL to POST to
    #[arg(long, default_value = "auto")]
    pub mesh_shutdown: Option<String>,
    /// Before sending, retry GET on this URL until it answers 2xx (sidecar or target ready)
    #[arg(long)]
    pub wait_for: Option<String>,
    /// Give up waiting for --wait-for after this long (exit 1)
    #[arg(long, default_value = "60s")]
    pub wait_timeout: Option<String>,
    /// At exit, push the final metrics to this Pushgateway (grouping key job=trafficgen, instance=run id)
    #[arg(long)]
    pub pushgateway: Option<String>,
    /// Run identifier for trafficgen_run_info and the Pushgateway; generated when absent
    #[arg(long)]
    pub run_id: Option<String>,
    /// Split the rate and --requests over this many pods of an Indexed Job
    #[arg(long, default_value = "1")]
    pub shards: Option<String>,
    /// This pod's shard, 0-based; defaults to JOB_COMPLETION_INDEX
    #[arg(long)]
    pub shard_index: Option<String>,
    /// Trace headers each request carries: w3c (traceparent), b3 (x-b3-*), both, or none; all but none add a unique x-request-id
    #[arg(long, default_value = "both")]
    pub trace_headers: Option<String>,
    /// Share of requests marked sampled in their trace headers, e.g. 0.01 or 1%
    #[arg(long, default_value = "0.01")]
    pub trace_sample: Option<String>,
    /// Export the client span of each sampled request to this OTLP/HTTP receiver, e.g. http://jaeger-collector:4318; defaults to OTEL_EXPORTER_OTLP_ENDPOINT
    #[arg(long)]
    pub otlp_endpoint: Option<String>,
}

/// Where a setting's value came from; error messages name the flag or the env var accordingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Given on the command line.
    Flag,
    /// Given by a `TRAFFICGEN_*` env var.
    Env,
    /// The built-in default.
    Default,
}

/// A [`RawConfig`] together with the source of each field that has a value.
#[derive(Debug, Clone, Default)]
pub struct Layered {
    /// The merged values.
    pub raw: RawConfig,
    /// Field name -> where its value came from.
    pub sources: BTreeMap<String, Source>,
    /// Running inside a Kubernetes pod (`KUBERNETES_SERVICE_HOST` is set).
    pub in_pod: bool,
}

impl Layered {
    /// How to name field `field` in a message: `--max-in-flight`, `TRAFFICGEN_MAX_IN_FLIGHT` or `URL`.
    pub fn name(&self, field: &str) -> String {
        match self.sources.get(field) {
            Some(Source::Env) => env_name(field),
            _ if field == "url" => "URL".to_string(),
            _ => format!("--{}", field.replace('_', "-")),
        }
    }
}

/// The env var for a field: `max_in_flight` -> `TRAFFICGEN_MAX_IN_FLIGHT`.
pub(crate) fn env_name(field: &str) -> String {
    format!("{ENV_PREFIX}{}", field.to_uppercase())
}

/// Errors found while layering flags and env vars.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// An env var could not be read into the settings.
    #[error("invalid environment: {0}")]
    Env(String),
}

/// Layer defaults, then env vars, then explicit flags, remembering the source of each value.
pub(crate) fn layer(
    matches: &ArgMatches,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Layered, LayerError> {
    let flags = RawConfig::from_arg_matches(matches).map_err(|e| LayerError::Env(e.to_string()))?;
    let mut env: Vec<(String, String)> = env.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let in_pod = env.iter().any(|(k, _)| k == "KUBERNETES_SERVICE_HOST");
    // An Indexed Job tells each pod its index this way; TRAFFICGEN_SHARD_INDEX still wins.
    let shard_index = env_name("shard_index");
    if !env.iter().any(|(k, _)| *k == shard_index) {
        if let Some((_, v)) = env.iter().find(|(k, _)| k == "JOB_COMPLETION_INDEX") {
            env.push((shard_index, v.clone()));
        }
    }
    // The OpenTelemetry SDKs' standard variables, unless TRAFFICGEN_OTLP_ENDPOINT is set.
    let otlp = env_name("otlp_endpoint");
    for standard in ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"] {
        if !env.iter().any(|(k, _)| *k == otlp) {
            if let Some((_, v)) = env.iter().find(|(k, _)| k == standard) {
                env.push((otlp.clone(), v.clone()));
            }
        }
    }
    let env: RawConfig = envy::prefixed(ENV_PREFIX).from_iter(env).map_err(|e| LayerError::Env(e.to_string()))?;
    let explicit = |key: &str| matches.value_source(key) == Some(clap::parser::ValueSource::CommandLine);
    let (given, defaults): (Vec<_>, Vec<_>) = present(&flags).into_iter().partition(|(key, _)| explicit(key));
    let mut merged = serde_json::Map::new();
    let mut sources = BTreeMap::new();
    for (layer, source) in [(defaults, Source::Default), (present(&env), Source::Env), (given, Source::Flag)] {
        for (key, value) in layer {
            sources.insert(key.clone(), source);
            merged.insert(key, value);
        }
    }
    let raw = serde_json::from_value(merged.into()).map_err(|e| LayerError::Env(e.to_string()))?;
    Ok(Layered { raw, sources, in_pod })
}

/// The fields of `raw` that hold a value (non-null, non-empty list), as JSON.
fn present(raw: &RawConfig) -> Vec<(String, serde_json::Value)> {
    let serde_json::Value::Object(map) = serde_json::to_value(raw).expect("RawConfig is plain data") else {
        unreachable!("RawConfig serializes to an object")
    };
    map.into_iter().filter(|(_, v)| !(v.is_null() || v.as_array().is_some_and(|a| a.is_empty()))).collect()
}
