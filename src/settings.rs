//! The raw settings of a run: its flags, and how flags, `TRAFFICGEN_*` env vars and defaults are
//! layered into one [`RawConfig`] that remembers where each value came from. Below `config`, which
//! validates it; it knows no subcommand.

use std::collections::BTreeMap;
use std::ffi::OsString;

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
    #[serde(deserialize_with = "list")]
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
    /// Rate over time instead of --rate/--duration: `DURATION:RATE` or `DURATION:FROM->TO` ramps, e.g. `30s:0->150, 10m:150, 30s:150->0`
    #[arg(long)]
    pub stages: Option<String>,
    /// Send this first part of the run on schedule but leave it out of the summary, thresholds and split test
    #[arg(long, default_value = "0s")]
    pub warmup: Option<String>,
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
    /// Request header `Name: value` (repeatable)
    #[arg(short = 'H', long)]
    #[serde(deserialize_with = "list")]
    pub header: Vec<String>,
    /// Request body: literal text, or `@path` to read a file
    #[arg(long)]
    pub body: Option<String>,
    /// Use HTTP/2 (prior knowledge for http://, ALPN for https://); a switch (the env var takes true/false)
    #[arg(long, num_args = 0, default_missing_value = "true")]
    pub http2: Option<String>,
    /// Do not verify TLS certificates; a switch (the env var takes true/false)
    #[arg(long, num_args = 0, default_missing_value = "true")]
    pub insecure: Option<String>,
    /// Extra CA certificates (PEM file) to trust
    #[arg(long)]
    pub cacert: Option<String>,
    /// Pin `host:port:addr` like curl's --resolve, or `host:port:addr:port` to move the port too (repeatable)
    #[arg(long)]
    #[serde(deserialize_with = "list")]
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
    #[serde(deserialize_with = "list")]
    pub threshold: Vec<String>,
    /// Routes file (YAML or JSON): weighted routes, login, per-route classification; replaces URL arguments
    #[arg(long)]
    pub scenario: Option<String>,
    /// Response class `NAME=REGEX` matched on the body, first match wins (repeatable)
    #[arg(long)]
    #[serde(deserialize_with = "list")]
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
    /// After the run (and --linger), check with PromQL that this Prometheus saw it; adds a verify section
    #[arg(long)]
    pub verify_prometheus: Option<String>,
    /// Built-in checks for --verify-prometheus: bookinfo, or none (default bookinfo unless --verify-checks)
    #[arg(long)]
    pub verify_preset: Option<String>,
    /// Kind of cluster for the preset: none, linkerd, istio, or auto
    #[arg(long)]
    pub verify_mesh: Option<String>,
    /// Bookinfo's namespace for the preset (default bookinfo)
    #[arg(long)]
    pub verify_namespace: Option<String>,
    /// YAML file of custom checks, as `verify --checks`
    #[arg(long)]
    pub verify_checks: Option<String>,
    /// Re-run failing checks until they pass or this much time has passed
    #[arg(long, default_value = "2m")]
    pub verify_retry_for: Option<String>,
    /// Prometheus's scrape interval (subquery step; a quarter of rate ranges)
    #[arg(long, default_value = "30s")]
    pub verify_scrape_interval: Option<String>,
    /// File holding a bearer token for Prometheus
    #[arg(long)]
    pub verify_bearer_token_file: Option<String>,
    /// Trace headers each request carries: w3c (traceparent), b3 (x-b3-*), both, or none; all but none add a unique x-request-id
    #[arg(long, default_value = "both")]
    pub trace_headers: Option<String>,
    /// Share of requests marked sampled in their trace headers, e.g. 0.01 or 1%
    #[arg(long, default_value = "0.01")]
    pub trace_sample: Option<String>,
    /// Push the metrics (the series of /metrics) to this Prometheus remote-write receiver, e.g. http://prometheus:9090/api/v1/write, every --remote-write-interval and once more at the end
    #[arg(long, value_name = "URL")]
    pub remote_write: Option<String>,
    /// How often to push the metrics to --remote-write
    #[arg(long, default_value = "5s")]
    pub remote_write_interval: Option<String>,
    /// Label `NAME=VALUE` added to every pushed series that lacks it, as a scrape adds job and instance (repeatable); in a pod job, namespace, pod and instance have defaults
    #[arg(long, value_name = "NAME=VALUE")]
    #[serde(deserialize_with = "list")]
    pub remote_write_label: Vec<String>,
    /// Request header `Name: value` sent to --remote-write, e.g. `X-Scope-OrgID: tenant1` (repeatable)
    #[arg(long, value_name = "HEADER")]
    #[serde(deserialize_with = "list")]
    pub remote_write_header: Vec<String>,
    /// File holding a bearer token for --remote-write, read again at every push
    #[arg(long, value_name = "FILE")]
    pub remote_write_bearer_token_file: Option<String>,
    /// File holding the basic-auth user name for --remote-write (with --remote-write-password-file)
    #[arg(long, value_name = "FILE")]
    pub remote_write_username_file: Option<String>,
    /// File holding the basic-auth password for --remote-write, read again at every push
    #[arg(long, value_name = "FILE")]
    pub remote_write_password_file: Option<String>,
    /// Export the client span of each sampled request to this OTLP/HTTP receiver, e.g. http://jaeger-collector:4318; defaults to OTEL_EXPORTER_OTLP_ENDPOINT
    #[arg(long)]
    pub otlp_endpoint: Option<String>,
}

/// A list setting. From an env var, one text: items on separate lines when it has any (a YAML
/// block in a manifest), else separated by commas, with `\,` for a comma inside an item
/// (`TRAFFICGEN_HEADER='accept: text/html\,application/json'`). From the layered JSON, a list.
fn list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Text(String),
        List(Vec<String>),
    }
    Ok(match Given::deserialize(d)? {
        Given::List(items) => items,
        Given::Text(text) => split_list(&text),
    })
}

fn split_list(text: &str) -> Vec<String> {
    if text.contains('\n') {
        return text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    }
    let mut items = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let item = items.last_mut().expect("never empty");
        match c {
            '\\' if chars.peek() == Some(&',') => {
                item.push(',');
                chars.next();
            }
            ',' => items.push(String::new()),
            c => item.push(c),
        }
    }
    items
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
    /// `NO_COLOR` is set (<https://no-color.org>): no ANSI colour even on a terminal.
    pub no_color: bool,
    /// The pod's name, namespace and IP, as the manifests pass them from the downward API.
    pub pod: Pod,
}

/// What the downward API tells a pod about itself: `POD_NAME`, `POD_NAMESPACE`, `POD_IP`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pod {
    /// `POD_NAME`.
    pub name: Option<String>,
    /// `POD_NAMESPACE`.
    pub namespace: Option<String>,
    /// `POD_IP`.
    pub ip: Option<String>,
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
    /// A `TRAFFICGEN_*` (or `JOB_COMPLETION_INDEX`) value is not valid UTF-8.
    #[error("invalid {0}: the value is not valid UTF-8")]
    NotUtf8(String),
    /// A `TRAFFICGEN_*` value is empty: an empty value is a mistake, not a way to ask for the default.
    #[error("invalid {0}=\"\": expected a value; unset the variable to use the default")]
    Empty(String),
}

/// Layer defaults, then env vars, then explicit flags, remembering the source of each value.
/// `env` is the process's environment as the OS gives it (`std::env::vars_os`): only
/// `TRAFFICGEN_*`, `JOB_COMPLETION_INDEX` and `KUBERNETES_SERVICE_HOST` are looked at.
pub(crate) fn layer(
    matches: &ArgMatches,
    env: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Layered, LayerError> {
    let flags = RawConfig::from_arg_matches(matches).map_err(|e| LayerError::Env(e.to_string()))?;
    let Ours { vars: mut env, in_pod, no_color, job_index, otel, pod } = ours(env)?;
    // An Indexed Job tells each pod its index this way; TRAFFICGEN_SHARD_INDEX still wins.
    let shard_index = env_name("shard_index");
    if let Some(index) = job_index.filter(|_| !env.iter().any(|(k, _)| *k == shard_index)) {
        env.push((shard_index, index));
    }
    // The OpenTelemetry SDKs' standard variables, unless TRAFFICGEN_OTLP_ENDPOINT is set.
    let otlp = env_name("otlp_endpoint");
    if let Some(v) = otel.iter().flatten().next().filter(|_| !env.iter().any(|(k, _)| *k == otlp)) {
        env.push((otlp, v.clone()));
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
    Ok(Layered { raw, sources, in_pod, no_color, pod })
}

/// The `TRAFFICGEN_*` variables as text, under the same rules as a run's: a value that is not
/// UTF-8, or empty, is an error naming the variable.
pub(crate) fn prefixed(
    env: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Vec<(String, String)>, LayerError> {
    Ok(ours(env)?.vars)
}

/// What the environment holds for trafficgen. Every other variable is ignored, whatever its bytes.
struct Ours {
    /// `TRAFFICGEN_*` pairs.
    vars: Vec<(String, String)>,
    /// `KUBERNETES_SERVICE_HOST` is set.
    in_pod: bool,
    /// `NO_COLOR` is set to something (<https://no-color.org>).
    no_color: bool,
    /// `JOB_COMPLETION_INDEX`, when set.
    job_index: Option<String>,
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` then `OTEL_EXPORTER_OTLP_ENDPOINT`, when set.
    otel: [Option<String>; 2],
    /// The downward API's `POD_*` variables.
    pod: Pod,
}

/// The OpenTelemetry SDKs' standard endpoint variables, the traces-specific one first.
const OTEL_ENDPOINTS: [&str; 2] = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"];

fn ours(env: impl IntoIterator<Item = (OsString, OsString)>) -> Result<Ours, LayerError> {
    let mut ours = Ours {
        vars: Vec::new(),
        in_pod: false,
        no_color: false,
        job_index: None,
        otel: [None, None],
        pod: Pod::default(),
    };
    for (key, value) in env {
        let name = key.to_string_lossy();
        let text = || value.to_str().map(str::to_owned).ok_or_else(|| LayerError::NotUtf8(name.to_string()));
        if name.starts_with(ENV_PREFIX) {
            let text = text()?;
            if text.is_empty() {
                return Err(LayerError::Empty(name.to_string()));
            }
            ours.vars.push((name.to_string(), text));
        } else if name == "KUBERNETES_SERVICE_HOST" {
            ours.in_pod = true;
        } else if name == "NO_COLOR" {
            ours.no_color = !value.is_empty();
        } else if name == "JOB_COMPLETION_INDEX" {
            ours.job_index = Some(text()?).filter(|t| !t.is_empty());
        } else if let Some(i) = OTEL_ENDPOINTS.iter().position(|v| *v == name) {
            ours.otel[i] = Some(text()?).filter(|t| !t.is_empty());
        } else if let Some(slot) = match &*name {
            "POD_NAME" => Some(&mut ours.pod.name),
            "POD_NAMESPACE" => Some(&mut ours.pod.namespace),
            "POD_IP" => Some(&mut ours.pod.ip),
            _ => None,
        } {
            *slot = Some(text()?).filter(|t| !t.is_empty());
        }
    }
    Ok(ours)
}

/// The fields of `raw` that hold a value (non-null, non-empty list), as JSON.
fn present(raw: &RawConfig) -> Vec<(String, serde_json::Value)> {
    let serde_json::Value::Object(map) = serde_json::to_value(raw).expect("RawConfig is plain data") else {
        unreachable!("RawConfig serializes to an object")
    };
    map.into_iter().filter(|(_, v)| !(v.is_null() || v.as_array().is_some_and(|a| a.is_empty()))).collect()
}
