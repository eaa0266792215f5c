//! trafficgen: open-loop HTTP load at a precise rate, with its own Prometheus `/metrics`,
//! made to run as a Kubernetes Job.
//!
//! The path of a request, module by module:
//!
//! ```text
//! cli ──> config ──> run ──> worker ─────────> client ──> recorder ──> report
//! flags,   Plan       │      the one send loop  dns, tls    │            summary, verdict,
//! env      ▲          │      pacer: when        classify:   └> metrics   progress lines
//!          scenario   │                         what came back   /metrics
//!                     └─ shutdown (signals), cluster (wait-for, push, sidecar quit)
//! ```
//!
//! - [`cli`]: flags and `TRAFFICGEN_*` env vars layered into a raw config that remembers sources.
//! - [`config`]: validation into a typed [`config::Plan`]; every later module trusts it.
//! - [`run`]: binds /metrics, starts up to one [`worker`] per core, stops them, reports.
//! - [`worker`]: the send loop, driven by a [`pacer`] (open loop: absolute deadlines; closed loop: now).
//! - [`client`]: connections per target ([`dns`], [`tls`]), one request, one [`recorder::ErrorType`].
//! - [`recorder`]: per-worker histograms and counters; [`metrics`] is their Prometheus view.
//! - [`server`]: the `serve` target and the Bookinfo simulation; [`demo`] drives the latter.
//! - [`classify`]: response classes (e.g. the reviews version); [`scenario`]: routes from a file.
//! - [`cluster`]: around the run in a Job: `--wait-for`, `--pushgateway`, sidecar quit.
//! - [`report`]: progress lines, the summary and its verdict; [`threshold`] decides pass/fail.

pub mod classify;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod dns;
pub mod metrics;
pub mod pacer;
pub mod recorder;
pub mod report;
pub mod run;
pub mod scenario;
pub mod server;
pub mod shutdown;
pub mod threshold;
pub mod tls;
pub mod worker;

pub use run::run;
