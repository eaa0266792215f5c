//! trafficgen: open-loop HTTP load at a precise rate, with its own Prometheus `/metrics`,
//! made to run as a Kubernetes Job.
//!
//! The path of a request, module by module (imports run downhill: each module uses only those
//! below it in this layering, never a command above it; `.ci/check-modules.py` keeps it so):
//!
//! ```text
//! cli ──> settings ──> config ──> run ──> send ──> worker ─────────> client ──> outcome ──> recorder ──> report
//! the     flags, env   Plan        │      one      the one send loop  dns, tls   ErrorType    │           summary, verdict,
//! commands             ▲           │      window   pacer: when        url        Outcome      └> metrics  progress lines
//!                      scenario    │      stages   trace ──> otlp     classify: what came back    /metrics
//!                                  └─ shutdown (signals), cluster (wait-for, push, sidecar quit), verify,
//!                                     remote_write (the registry pushed while the window runs)
//! ```
//!
//! Beside the path: `recorder ──> timeline ──> report` (the run second by second); `capacity`
//! runs `send` step after step; `compare` and `html` read saved summaries (`run` calls `html`
//! for `--report`); `demo` drives the Bookinfo simulation, crate `sim` (which also serves `serve`).
//!
//! - [`commands`]: each command run to its exit code (logging and signals set up once); the top.
//! - [`cli`]: the commands (`run`, `serve`, `demo`, `verify`, `capacity`, `compare`, `report`,
//!   `merge`)
//!   parsed into one [`cli::Command`].
//! - `settings`: flags and `TRAFFICGEN_*` env vars layered into raw text that remembers sources, by
//!   one rule for every command (`settings::pick`); values are parsed by crate `setting`'s parsers.
//! - [`config`]: validation into a typed [`config::Plan`]; every later module trusts it.
//! - `run`: binds /metrics, runs one sending window, judges and reports it, checks Prometheus.
//! - `send`: one sending window: a `worker` per core, progress, stage gauges, timeline, drain.
//! - `worker`: the send loop, driven by a `pacer` (open loop: absolute deadlines, shaped by
//!   `stages`; closed loop: now).
//! - `client`: connections per target (with its `dns`, `tls`, `connect` fall-back over every address
//!   and `failure` typing, first failures logged; `h1` is the HTTP/1.1 exchange, `h2` the HTTP/2
//!   one over the h2 crate), one request, one `outcome`.
//! - `trace`: each request's trace headers and `x-request-id`; `otlp` exports sampled client spans.
//! - `url`: the target URLs the generator accepts; `scenario`: routes, from flags or a file.
//! - `outcome`: `ErrorType` and `Outcome`, the vocabulary of logs, metrics and the summary.
//! - `recorder`: per-worker histograms and counters; `metrics` is their Prometheus view;
//!   `timeline` the run second by second.
//! - [`report`]: progress lines, the summary and its verdict; `threshold` decides pass/fail;
//!   `classify`: response classes (e.g. the reviews version).
//! - `cluster`: around the run in a Job: `--wait-for`, `--pushgateway`, sidecar quit.
//! - `remote_write`: `--remote-write`, the `metrics` registry pushed to Prometheus from its own
//!   task while `send` runs, and once more when the figures are final.
//! - `verify`: PromQL checks against Prometheus (`verify`, `run --verify-prometheus`): did
//!   Prometheus see the traffic, per kind of cluster (no mesh, Linkerd, Istio)?
//! - `capacity`: steps at rising rates, then bisection: the highest rate that keeps the SLO.
//! - `compare`: two saved summaries side by side, significance (a bootstrap on the histograms),
//!   budgets; `html`: the HTML report of saved summaries or of the run just ended;
//!   `merge`: one result for a sharded run's summaries (counts summed, histograms merged).
//! - `demo`: the Bookinfo simulation driven as a cluster user drives the real one.

mod capacity;
mod classify;
pub mod cli;
mod client;
mod cluster;
pub mod commands;
mod compare;
pub mod config;
mod demo;
mod html;
mod merge;
mod metrics;
mod otlp;
mod outcome;
mod pacer;
mod recorder;
mod remote_write;
pub mod report;
mod run;
mod scenario;
mod send;
mod settings;
mod shutdown;
mod stages;
mod threshold;
mod timeline;
mod trace;
mod url;
mod verify;
mod worker;

pub use run::run;
