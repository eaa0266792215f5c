//! Validation: raw text settings -> a [`Plan`] whose fields already have the right types.
//! Nothing after this module parses a string the user gave.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use crate::input::threshold::Threshold;
use crate::net::client::Pin;
use crate::settings::{self, Layered};
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

/// A validated run, in sections; each section is validated whole by its own constructor, and
/// nothing after [`Plan::from_layered`] parses a string the user gave.
#[derive(Debug, Clone)]
pub struct Plan {
    target: TargetSection,
    load: LoadSection,
    client: ClientSection,
    output: OutputSection,
    verdict: VerdictSection,
    cluster: ClusterSection,
}

impl Plan {
    /// Validate layered settings into a plan, section by section. The cluster section comes
    /// first (the shard narrows the load; the run id names the remote-written series); the
    /// target's files (`--body @file`, the scenario, `@FILE` of URLs) are read last, once every
    /// cheaper setting has passed.
    pub fn from_layered(l: &Layered) -> Result<Plan, ConfigError> {
        let v = Validator(l);
        let cluster = ClusterSection::new(&v)?;
        let load = LoadSection::new(&v, cluster.shard())?;
        let client = ClientSection::new(&v)?;
        let output = OutputSection::new(&v, &client, &cluster)?;
        let verdict = VerdictSection::new(&v, &client)?;
        let target = TargetSection::new(&v)?;
        Ok(Plan { target, load, client, output, verdict, cluster })
    }

    /// What to send.
    pub(crate) fn target(&self) -> &TargetSection {
        &self.target
    }

    /// How fast, how long, how much.
    pub(crate) fn load(&self) -> &LoadSection {
        &self.load
    }

    /// How to connect.
    pub(crate) fn client(&self) -> &ClientSection {
        &self.client
    }

    /// Where the results go.
    pub(crate) fn output(&self) -> &OutputSection {
        &self.output
    }

    /// What the run is judged by.
    pub(crate) fn verdict(&self) -> &VerdictSection {
        &self.verdict
    }

    /// Life in a Job's pod.
    pub(crate) fn cluster(&self) -> &ClusterSection {
        &self.cluster
    }

    /// This plan judged by `thresholds` in place of its own (`demo` adds its floor, `capacity`
    /// judges each step by its SLOs itself).
    pub(crate) fn with_thresholds(mut self, thresholds: Vec<Threshold>) -> Plan {
        self.verdict = self.verdict.with_thresholds(thresholds);
        self
    }

    /// This plan with one more pinned name (`demo`: the simulation's address is known once it runs).
    pub(crate) fn with_pin(mut self, pin: Pin) -> Plan {
        self.client = self.client.with_pin(pin);
        self
    }

    /// One step of `capacity`: this plan at an open-loop `rate` for `duration`.
    pub(crate) fn step(&self, rate: f64, duration: Duration) -> Plan {
        Plan { load: self.load.step(rate, duration), ..self.clone() }
    }

    /// This plan resolving names through `nameserver` (for tests: a stand-in DNS server) rather
    /// than the system's resolver.
    #[doc(hidden)]
    pub fn with_nameserver(mut self, nameserver: Option<SocketAddr>) -> Plan {
        self.client = self.client.with_nameserver(nameserver);
        self
    }
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

mod client;
mod cluster;
mod load;
mod output;
mod remote;
mod routes;
mod validator;
mod verdict;

pub(crate) use client::ClientSection;
pub use cluster::parse_sidecar;
pub(crate) use cluster::ClusterSection;
pub(crate) use load::LoadSection;
pub(crate) use output::OutputSection;
pub(crate) use routes::TargetSection;
use validator::Validator;
pub(crate) use verdict::VerdictSection;

#[cfg(test)]
mod tests;
