//! Validation: raw text settings -> a [`Plan`] whose fields already have the right types.
//! Nothing after this module parses a string the user gave.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use http::Uri;

use crate::input::stages::Stage;
use crate::input::threshold::Threshold;
use crate::model::scenario::Route;
use crate::net::client::ClientOptions;
use crate::net::trace::Tracing;
use crate::settings;
use setting::Invalid;

/// How requests are started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// Open loop: request n is due at `start + n / rate`.
    Open {
        /// Requests per second.
        rate: f64,
    },
    /// Closed loop: this many workers send back to back.
    Closed {
        /// Number of concurrent requests.
        concurrency: NonZeroUsize,
    },
}

impl Load {
    /// The open-loop rate; `None` for closed loop.
    pub fn rate(&self) -> Option<f64> {
        match self {
            Load::Open { rate } => Some(*rate),
            Load::Closed { .. } => None,
        }
    }
}

/// Summary and progress format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Human-readable text.
    Text,
    /// One JSON object.
    Json,
}

/// Which sidecar to tell to quit when the run ends, so the Job's pod can complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sidecar {
    /// Inside a pod, probe the Istio and Linkerd admin ports; outside a pod, nothing.
    Auto,
    /// POST 127.0.0.1:15020/quitquitquit.
    Istio,
    /// POST 127.0.0.1:4191/shutdown.
    Linkerd,
    /// Do nothing.
    None,
    /// POST to this loopback address and path (for other sidecars, and for tests).
    Url(SocketAddr, String),
}

/// This pod's part of an Indexed Job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// 0-based index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

/// The slice of `total` that part `index` of `parts` gets, spreading the remainder over the first parts.
pub(crate) fn share(total: u64, index: usize, parts: usize) -> u64 {
    let (parts, index) = (parts as u64, index as u64);
    total / parts + u64::from(index < total % parts)
}

/// A validated run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Open or closed loop.
    pub load: Load,
    /// Sending window; `None` = until a signal or `requests`.
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    pub requests: Option<u64>,
    /// `--stages`: the rate over time (then `load` holds their mean rate and `duration` their sum).
    pub stages: Option<Vec<Stage>>,
    /// `--warmup`: the first part of the run, sent but left out of the summary; zero = none.
    pub warmup: Duration,
    /// How to connect: connections per target, HTTP/2, TLS, pinned names.
    pub client: ClientOptions,
    /// Maximum outstanding requests.
    pub max_in_flight: NonZeroUsize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// What to send.
    pub routes: Vec<Route>,
    /// Where to serve /metrics; `None` = off.
    pub metrics_addr: Option<SocketAddr>,
    /// Summary format.
    pub output: Format,
    /// Where to also write the JSON summary.
    pub summary_file: Option<PathBuf>,
    /// Where to write the HTML report.
    pub report: Option<PathBuf>,
    /// Progress line interval; `None` = off.
    pub progress_interval: Option<Duration>,
    /// Log and progress format.
    pub log_format: Format,
    /// `NO_COLOR` was set: no colour even on a terminal.
    pub no_color: bool,
    /// Pass/fail rules.
    pub thresholds: Vec<Threshold>,
    /// How long to wait for in-flight requests after a signal.
    pub drain_timeout: Duration,
    /// How long to keep serving /metrics after the run.
    pub linger: Duration,
    /// Sidecar to stop at exit.
    pub sidecar: Sidecar,
    /// Running inside a Kubernetes pod: `--mesh-shutdown auto` looks for a sidecar only then.
    pub in_pod: bool,
    /// Start-up gate.
    pub wait_for: Option<Uri>,
    /// Bound of the start-up gate.
    pub wait_timeout: Duration,
    /// Where to push the final metrics.
    pub pushgateway: Option<Uri>,
    /// Identifies this run in metrics and the Pushgateway.
    pub run_id: String,
    /// This pod's shard; rate and requests are already this shard's share.
    pub shard: Shard,
    /// Index of the login route, sent once per worker before logged-in routes.
    pub login: Option<usize>,
    /// `--expect-split`: the text as given and the class weights.
    pub expect_split: Option<(String, Vec<(String, f64)>)>,
    /// `--verify-prometheus`: checks against Prometheus after the run (window set by the run).
    pub verify: Option<crate::verify::Spec>,
    /// Trace headers and sampling.
    pub tracing: Tracing,
    /// Where to export sampled requests' client spans (the full `/v1/traces` URL).
    pub otlp_endpoint: Option<Uri>,
    /// `--remote-write`: where and how to push the metrics.
    pub remote_write: Option<crate::net::remote_write::RemoteWrite>,
}

// Upper bounds of every count, so no input can make the generator reserve unbounded memory (or
// overflow tokio's semaphore) before it sends. Each is stated in the error message.
/// `--connections`, per target.
pub const MAX_CONNECTIONS: usize = 10_000;
/// `--concurrency` (closed loop).
pub const MAX_CONCURRENCY: usize = 10_000;
/// `--max-in-flight`.
pub const MAX_IN_FLIGHT: usize = 100_000;
/// `--shards`.
pub const MAX_SHARDS: usize = 1_000;
/// `--requests`.
pub const MAX_REQUESTS: u64 = 1_000_000_000_000;

/// A configuration error: the run never starts and the process exits 2.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    /// A setting has a value that cannot be used.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No target URL was given.
    #[error("no target URL: give one or more as arguments (trafficgen --rate 100 http://productpage:9080/productpage) or set TRAFFICGEN_URL")]
    NoUrl,
    /// The command line or environment could not be read.
    #[error("{0}")]
    Usage(String),
}

impl From<settings::LayerError> for ConfigError {
    fn from(e: settings::LayerError) -> ConfigError {
        match e {
            settings::LayerError::Empty(invalid) => ConfigError::Invalid(invalid),
            e => ConfigError::Usage(e.to_string()),
        }
    }
}

mod build;
mod remote;
mod routes;
mod shape;
mod validator;
pub use build::parse_sidecar;

#[cfg(test)]
mod tests;
