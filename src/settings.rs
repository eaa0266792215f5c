//! The raw settings of a run: its flags, and how flags, `TRAFFICGEN_*` env vars and defaults are
//! layered into one [`RawConfig`] that remembers where each value came from. Below `config`, which
//! validates it; it knows no subcommand.

use std::collections::BTreeMap;
use std::ffi::OsString;

use clap::{ArgMatches, Args};
use serde::{Deserialize, Serialize};
pub(crate) use setting::{env_name, flag_name, Invalid, ENV_PREFIX};

/// The headings of the run options in `--help` (and of the README's options table), each set on
/// its fields below; `--help` lists them in the order of their first field.
pub(crate) mod heading {
    /// Where the metrics are pushed instead of being scraped.
    pub(crate) const REMOTE_WRITE: &str = "Remote write (push the metrics to Prometheus instead of being scraped)";
    /// What to send.
    pub(crate) const TARGET: &str = "Target";
    /// How much and for how long.
    pub(crate) const LOAD: &str = "Load";
    /// How to connect.
    pub(crate) const CLIENT: &str = "Client";
    /// Where results go.
    pub(crate) const OUTPUT: &str = "Output";
    /// Trace headers and spans.
    pub(crate) const TRACING: &str = "Tracing";
    /// Pass or fail.
    pub(crate) const VERDICT: &str = "Verdict";
    /// Response classes.
    pub(crate) const CLASSIFICATION: &str = "Classification";
    /// `--verify-*`.
    pub(crate) const VERIFY: &str = "Verify the monitoring at the end of the run (see `trafficgen verify`)";
    /// Life in a Job's pod.
    pub(crate) const CLUSTER: &str = "Cluster";
}

/// Raw, unvalidated run settings: every value is text exactly as the user gave it.
///
/// The same struct is filled from flags (clap) and from `TRAFFICGEN_<FIELD>` env vars ([`pick`]);
/// field names are the single source of both names.
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct RawConfig {
    /// Target URLs; requests are spread over them in turn. `@FILE` reads URLs from FILE, one a line (up to 100,000 URLs; past 100 different paths, the rest share the route name `other`)
    #[arg(value_name = "URL")]
    pub url: Vec<String>,
    /// Requests per second (fractional allowed), or `max` for closed loop
    #[arg(long, default_value = "10", help_heading = heading::LOAD)]
    pub rate: Option<String>,
    /// Closed-loop workers, used with `--rate max`
    #[arg(long, default_value = "10", help_heading = heading::LOAD)]
    pub concurrency: Option<String>,
    /// How long to send, e.g. `30s`, `10m`; absent = until SIGTERM or --requests
    #[arg(long, help_heading = heading::LOAD)]
    pub duration: Option<String>,
    /// Stop after this many requests
    #[arg(long, help_heading = heading::LOAD)]
    pub requests: Option<String>,
    /// Rate over time instead of --rate/--duration: `DURATION:RATE` or `DURATION:FROM->TO` ramps, e.g. `30s:0->150, 10m:150, 30s:150->0`
    #[arg(long, help_heading = heading::LOAD)]
    pub stages: Option<String>,
    /// Send this first part of the run on schedule but leave it out of the summary, thresholds and split test
    #[arg(long, default_value = "0s", help_heading = heading::LOAD)]
    pub warmup: Option<String>,
    /// Maximum connections per target
    #[arg(long, default_value = "64", help_heading = heading::CLIENT)]
    pub connections: Option<String>,
    /// Maximum outstanding requests; open-loop sends beyond it are dropped and counted
    #[arg(long, default_value = "1000", help_heading = heading::LOAD)]
    pub max_in_flight: Option<String>,
    /// Per-request timeout, connecting included
    #[arg(long, default_value = "10s", help_heading = heading::CLIENT)]
    pub timeout: Option<String>,
    /// HTTP method
    #[arg(long, default_value = "GET", help_heading = heading::TARGET)]
    pub method: Option<String>,
    /// Request header `Name: value` (repeatable)
    #[arg(short = 'H', long, help_heading = heading::TARGET)]
    pub header: Vec<String>,
    /// Request body: literal text, or `@path` to read a file
    #[arg(long, help_heading = heading::TARGET)]
    pub body: Option<String>,
    /// Use HTTP/2 (prior knowledge for http://, ALPN for https://); a switch (the env var takes true/false)
    #[arg(long, num_args = 0, default_missing_value = "true", help_heading = heading::CLIENT)]
    pub http2: Option<String>,
    /// Do not verify TLS certificates; a switch (the env var takes true/false)
    #[arg(long, num_args = 0, default_missing_value = "true", help_heading = heading::CLIENT)]
    pub insecure: Option<String>,
    /// Extra CA certificates (PEM file) to trust
    #[arg(long, help_heading = heading::CLIENT)]
    pub cacert: Option<String>,
    /// Pin `host:port:addr` like curl's --resolve, or `host:port:addr:port` to move the port too (repeatable)
    #[arg(long, help_heading = heading::TARGET)]
    pub resolve: Vec<String>,
    /// Where to serve /metrics and /healthz, or `off`
    #[arg(long, default_value = "0.0.0.0:9464", help_heading = heading::OUTPUT)]
    pub metrics_addr: Option<String>,
    /// Summary format on stdout: text or json
    #[arg(long, default_value = "text", help_heading = heading::OUTPUT)]
    pub output: Option<String>,
    /// Also write the JSON summary to this file
    #[arg(long, help_heading = heading::OUTPUT)]
    pub summary_file: Option<String>,
    /// Also write an HTML report of the run (charts, no network needed to view) to this file
    #[arg(long, value_name = "FILE", help_heading = heading::OUTPUT)]
    pub report: Option<String>,
    /// Interval of progress lines on stderr (`0s` = off)
    #[arg(long, default_value = "5s", help_heading = heading::OUTPUT)]
    pub progress_interval: Option<String>,
    /// Log and progress format on stderr: text or json
    #[arg(long, default_value = "text", help_heading = heading::OUTPUT)]
    pub log_format: Option<String>,
    /// Pass/fail rule such as `p99<300ms`, `error_rate<1%`, `throughput_rps>=95` (repeatable; achieved_rps is the rate sent, throughput_rps the rate completed)
    #[arg(long, help_heading = heading::VERDICT)]
    pub threshold: Vec<String>,
    /// Routes file (YAML or JSON): weighted routes, login, per-route classification; replaces URL arguments
    #[arg(long, help_heading = heading::TARGET)]
    pub scenario: Option<String>,
    /// Response class `NAME=REGEX` matched on the body, first match wins (repeatable)
    #[arg(long, help_heading = heading::CLASSIFICATION)]
    pub classify: Vec<String>,
    /// Classify responses by this header's value (at most 16 distinct values, then `other`)
    #[arg(long, help_heading = heading::CLASSIFICATION)]
    pub classify_header: Option<String>,
    /// Built-in classification: bookinfo-reviews (v1, v2, v3, error from productpage HTML)
    #[arg(long, help_heading = heading::CLASSIFICATION)]
    pub classify_preset: Option<String>,
    /// Expected class shares, e.g. v1=1,v2=1,v3=1: a chi-square test that fails the run when p < 0.001
    #[arg(long, help_heading = heading::VERDICT)]
    pub expect_split: Option<String>,
    /// After a signal, how long to wait for in-flight requests
    #[arg(long, default_value = "5s", help_heading = heading::CLUSTER)]
    pub drain_timeout: Option<String>,
    /// After the run, keep serving /metrics this long so Prometheus scrapes the final values
    #[arg(long, default_value = "0s", help_heading = heading::CLUSTER)]
    pub linger: Option<String>,
    /// At exit, tell the mesh sidecar to quit: auto, istio, linkerd, none, or a URL to POST to
    #[arg(long, default_value = "auto", help_heading = heading::CLUSTER)]
    pub mesh_shutdown: Option<String>,
    /// Before sending, retry GET on this URL until it answers 2xx (sidecar or target ready)
    #[arg(long, help_heading = heading::CLUSTER)]
    pub wait_for: Option<String>,
    /// Give up waiting for --wait-for after this long (exit 1)
    #[arg(long, default_value = "60s", help_heading = heading::CLUSTER)]
    pub wait_timeout: Option<String>,
    /// At exit, push the final metrics to this Pushgateway (grouping key job=trafficgen, instance=run id)
    #[arg(long, help_heading = heading::CLUSTER)]
    pub pushgateway: Option<String>,
    /// Run identifier for trafficgen_run_info and the Pushgateway; generated when absent
    #[arg(long, help_heading = heading::CLUSTER)]
    pub run_id: Option<String>,
    /// Split the rate and --requests over this many pods of an Indexed Job
    #[arg(long, default_value = "1", help_heading = heading::CLUSTER)]
    pub shards: Option<String>,
    /// This pod's shard, 0-based; defaults to JOB_COMPLETION_INDEX
    #[arg(long, help_heading = heading::CLUSTER)]
    pub shard_index: Option<String>,
    /// After the run (and --linger), check with PromQL that this Prometheus saw it; adds a verify section
    #[arg(long, help_heading = heading::VERIFY)]
    pub verify_prometheus: Option<String>,
    /// Built-in checks for --verify-prometheus: bookinfo, or none (default bookinfo unless --verify-checks)
    #[arg(long, help_heading = heading::VERIFY)]
    pub verify_preset: Option<String>,
    /// Kind of cluster for the preset: none, linkerd, istio, or auto
    #[arg(long, help_heading = heading::VERIFY)]
    pub verify_mesh: Option<String>,
    /// Bookinfo's namespace for the preset (default bookinfo)
    #[arg(long, help_heading = heading::VERIFY)]
    pub verify_namespace: Option<String>,
    /// YAML file of custom checks, as `verify --checks`
    #[arg(long, help_heading = heading::VERIFY)]
    pub verify_checks: Option<String>,
    /// Re-run failing checks until they pass or this much time has passed
    #[arg(long, default_value = "2m", help_heading = heading::VERIFY)]
    pub verify_retry_for: Option<String>,
    /// Prometheus's scrape interval, when not the one Prometheus lists for the generator's target
    #[arg(long, help_heading = heading::VERIFY)]
    pub verify_scrape_interval: Option<String>,
    /// File holding a bearer token for Prometheus
    #[arg(long, help_heading = heading::VERIFY)]
    pub verify_bearer_token_file: Option<String>,
    /// Grafana dashboard (JSON, or ConfigMaps labelled grafana_dashboard, or a directory) whose panels --verify-prometheus checks, as `verify --dashboard`; repeatable
    #[arg(long, value_name = "FILE|DIR", help_heading = heading::VERIFY)]
    pub verify_dashboard: Vec<String>,
    /// A dashboard variable's value for --verify-dashboard, NAME=VALUE, as `verify --var`; repeatable
    #[arg(long, value_name = "NAME=VALUE", help_heading = heading::VERIFY)]
    pub verify_var: Vec<String>,
    /// Check only the --verify-dashboard panels whose name (ROW / TITLE) matches this regex
    #[arg(long, value_name = "REGEX", help_heading = heading::VERIFY)]
    pub verify_panel: Option<String>,
    /// Prometheus rule file (or PrometheusRule) whose rules --verify-prometheus checks, as `verify --rules`; repeatable
    #[arg(long, value_name = "FILE", help_heading = heading::VERIFY)]
    pub verify_rules: Vec<String>,
    /// Trace headers each request carries: w3c (traceparent), b3 (x-b3-*), both, or none; all but none add a unique x-request-id
    #[arg(long, default_value = "both", help_heading = heading::TRACING)]
    pub trace_headers: Option<String>,
    /// Share of requests marked sampled in their trace headers, e.g. 0.01 or 1%
    #[arg(long, default_value = "0.01", help_heading = heading::TRACING)]
    pub trace_sample: Option<String>,
    /// Push the metrics (the series of /metrics) to this Prometheus remote-write receiver, e.g. http://prometheus:9090/api/v1/write, every --remote-write-interval and once more at the end
    #[arg(long, value_name = "URL", help_heading = heading::REMOTE_WRITE)]
    pub remote_write: Option<String>,
    /// How often to push the metrics to --remote-write
    #[arg(long, default_value = "5s", help_heading = heading::REMOTE_WRITE)]
    pub remote_write_interval: Option<String>,
    /// Label `NAME=VALUE` added to every pushed series that lacks it, as a scrape adds job and instance (repeatable); in a pod job, namespace, pod and instance have defaults
    #[arg(long, value_name = "NAME=VALUE", help_heading = heading::REMOTE_WRITE)]
    pub remote_write_label: Vec<String>,
    /// Request header `Name: value` sent to --remote-write, e.g. `X-Scope-OrgID: tenant1` (repeatable)
    #[arg(long, value_name = "HEADER", help_heading = heading::REMOTE_WRITE)]
    pub remote_write_header: Vec<String>,
    /// File holding a bearer token for --remote-write, read again at every push
    #[arg(long, value_name = "FILE", help_heading = heading::REMOTE_WRITE)]
    pub remote_write_bearer_token_file: Option<String>,
    /// File holding the basic-auth user name for --remote-write (with --remote-write-password-file)
    #[arg(long, value_name = "FILE", help_heading = heading::REMOTE_WRITE)]
    pub remote_write_username_file: Option<String>,
    /// File holding the basic-auth password for --remote-write, read again at every push
    #[arg(long, value_name = "FILE", help_heading = heading::REMOTE_WRITE)]
    pub remote_write_password_file: Option<String>,
    /// Export the client span of each sampled request to this OTLP/HTTP receiver, e.g. http://jaeger-collector:4318; defaults to OTEL_EXPORTER_OTLP_ENDPOINT
    #[arg(long, help_heading = heading::TRACING)]
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
            _ => flag_name(field),
        }
    }
}

/// Errors found while reading the environment.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// The command line could not be read into the settings.
    #[error("invalid command line: {0}")]
    Args(String),
    /// A `TRAFFICGEN_*` (or `JOB_COMPLETION_INDEX`) value is not valid UTF-8.
    #[error("invalid {0}: the value is not valid UTF-8")]
    NotUtf8(String),
    /// A `TRAFFICGEN_*` value is empty: an empty value is a mistake, not a way to ask for the default.
    #[error(transparent)]
    Empty(Invalid),
}

/// What the environment holds for trafficgen, read once for every command. Every other variable
/// is ignored, whatever its bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    /// `TRAFFICGEN_*` pairs, with the fallbacks of the standard variables folded in.
    vars: Vec<(String, String)>,
    /// `KUBERNETES_SERVICE_HOST` is set.
    pub in_pod: bool,
    /// `NO_COLOR` is set to something (<https://no-color.org>).
    pub no_color: bool,
    /// The downward API's `POD_*` variables.
    pub pod: Pod,
}

/// The OpenTelemetry SDKs' standard endpoint variables, the traces-specific one first.
const OTEL_ENDPOINTS: [&str; 2] = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"];

impl Env {
    /// Read the process's environment as the OS gives it (`std::env::vars_os`, or a test's pairs):
    /// `TRAFFICGEN_*`, and the standard variables some settings fall back to. A `TRAFFICGEN_*` value
    /// that is not UTF-8, or empty, is an error naming the variable.
    pub(crate) fn read(env: impl IntoIterator<Item = (OsString, OsString)>) -> Result<Env, LayerError> {
        let mut ours = Env::default();
        let (mut job_index, mut otel) = (None, [None, None]);
        for (key, value) in env {
            let name = key.to_string_lossy();
            let text = || value.to_str().map(str::to_owned).ok_or_else(|| LayerError::NotUtf8(name.to_string()));
            if name.starts_with(ENV_PREFIX) {
                let text = text()?;
                if text.is_empty() {
                    let expected = "a value; unset the variable to use the default";
                    return Err(LayerError::Empty(Invalid::new(name.to_string(), "", expected)));
                }
                ours.vars.push((name.to_string(), text));
            } else if name == "KUBERNETES_SERVICE_HOST" {
                ours.in_pod = true;
            } else if name == "NO_COLOR" {
                ours.no_color = !value.is_empty();
            } else if name == "JOB_COMPLETION_INDEX" {
                job_index = Some(text()?).filter(|t| !t.is_empty());
            } else if let Some(i) = OTEL_ENDPOINTS.iter().position(|v| *v == name) {
                otel[i] = Some(text()?).filter(|t| !t.is_empty());
            } else if let Some(slot) = match &*name {
                "POD_NAME" => Some(&mut ours.pod.name),
                "POD_NAMESPACE" => Some(&mut ours.pod.namespace),
                "POD_IP" => Some(&mut ours.pod.ip),
                _ => None,
            } {
                *slot = Some(text()?).filter(|t| !t.is_empty());
            }
        }
        // An Indexed Job tells each pod its index this way; TRAFFICGEN_SHARD_INDEX still wins.
        ours.fall_back("shard_index", job_index);
        // The OpenTelemetry SDKs' standard variables, unless TRAFFICGEN_OTLP_ENDPOINT is set.
        let [traces, any] = otel;
        ours.fall_back("otlp_endpoint", traces.or(any));
        Ok(ours)
    }

    fn fall_back(&mut self, field: &str, value: Option<String>) {
        let name = env_name(field);
        if let Some(value) = value.filter(|_| self.get(field).is_none()) {
            self.vars.push((name, value));
        }
    }

    /// `TRAFFICGEN_<FIELD>`'s value, if set.
    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        let name = env_name(field);
        self.vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

/// One setting's value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Given {
    /// Flag or env var, as messages name it.
    pub(crate) name: String,
    /// Where the value came from.
    pub(crate) source: Source,
    /// The flag's values (several for a repeated flag), or the env var's one text.
    values: Vec<String>,
}

impl Given {
    /// The value as one text (the first, for a repeated flag).
    pub(crate) fn value(&self) -> &str {
        self.values.first().map_or("", String::as_str)
    }

    /// The value as a list: a repeated flag's values, or an env var's text split by the one list
    /// rule ([`setting::split_list`]).
    pub(crate) fn items(&self) -> Vec<String> {
        match self.source {
            Source::Env => setting::split_list(self.value()),
            Source::Flag | Source::Default => self.values.clone(),
        }
    }
}

/// The one layering rule of every command: a flag given on the command line, else
/// `TRAFFICGEN_<FIELD>`, else the flag's default. `None` when none of them has a value.
pub(crate) fn pick(matches: &ArgMatches, env: &Env, field: &str) -> Option<Given> {
    let flag = || -> Option<Vec<String>> {
        let raw = matches.try_get_raw(field).ok()??;
        Some(raw.map(|v| v.to_string_lossy().into_owned()).collect())
    };
    let explicit = matches.value_source(field) == Some(clap::parser::ValueSource::CommandLine);
    match (explicit, env.get(field)) {
        (false, Some(text)) => Some(Given { name: env_name(field), source: Source::Env, values: vec![text.into()] }),
        (true, _) => Some(Given { name: flag_name(field), source: Source::Flag, values: flag()? }),
        (false, None) => Some(Given { name: flag_name(field), source: Source::Default, values: flag()? }),
    }
}

/// Layer defaults, env vars and explicit flags into the run's settings, remembering the source of
/// each value. `env` is the process's environment as the OS gives it (`std::env::vars_os`).
pub(crate) fn layer(
    matches: &ArgMatches,
    env: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Layered, LayerError> {
    layer_env(matches, &Env::read(env)?)
}

/// [`layer`] with the environment already read.
pub(crate) fn layer_env(matches: &ArgMatches, env: &Env) -> Result<Layered, LayerError> {
    let serde_json::Value::Object(fields) = serde_json::to_value(RawConfig::default()).expect("plain data") else {
        unreachable!("RawConfig serializes to an object")
    };
    let mut merged = serde_json::Map::new();
    let mut sources = BTreeMap::new();
    for (field, empty) in fields {
        let Some(given) = pick(matches, env, &field) else { continue };
        let value = match empty.is_array() {
            true => given.items().into(),
            false => given.value().into(),
        };
        sources.insert(field.clone(), given.source);
        merged.insert(field, value);
    }
    let raw = serde_json::from_value(merged.into()).map_err(|e| LayerError::Args(e.to_string()))?;
    Ok(Layered { raw, sources, in_pod: env.in_pod, no_color: env.no_color, pod: env.pod.clone() })
}
