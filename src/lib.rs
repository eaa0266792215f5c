//! trafficgen: open-loop HTTP load at a precise rate, with its own Prometheus `/metrics`,
//! made to run as a Kubernetes Job.
//!
//! The source is grouped in layers, one folder each, declared at the bottom of this file from the
//! top down. A module imports only from its own layer or the layers under it; `.ci/check-modules.py`
//! fails the build on an import that goes up.
//!
//! | layer        | what it holds |
//! |--------------|---------------|
//! | [`commands`] | each command run to its exit code (logging and signals set up once): `cli` parses argv and env into one [`commands::cli::Command`]; `run`, `demo`, `capacity`, `compare`, `html` (`report`), `merge` |
//! | `engine`     | one sending window: `send` starts a `worker` per core, each the one send loop, driven by a `pacer` (open loop: absolute deadlines; closed loop: now); `cluster` (wait-for, Pushgateway, sidecar quit), `shutdown` (signals) |
//! | [`output`]   | what happened and how it is shown: `recorder` (per-worker histograms and counters), `timeline` (the run second by second), `metrics` (`/metrics`), [`output::report`] (progress lines, the summary and its verdict) |
//! | [`input`]    | what the user asked for: the settings validated by [`input::config`] into a `Plan`, section by section (target, load, client, output, verdict, cluster), that every later module trusts; `threshold`, `stages` |
//! | `verify`     | PromQL checks that Prometheus saw the traffic (`verify`, `run --verify-prometheus`): presets per kind of cluster, Grafana dashboards, alert rules, and why a query had no data |
//! | `net`        | talking HTTP: `client` (dns, tls, connect, the `h1` exchange, h2), `trace` headers, `otlp` span export, `remote_write` (the metrics pushed to Prometheus) |
//! | `model`      | the shared vocabulary: `scenario` (routes), `classify` (response classes), `outcome` (`ErrorType`, `Outcome`), `url` |
//! | `settings`   | flags over `TRAFFICGEN_*` env over defaults, by one rule (`settings::pick`) for every command and for `verify`'s own flags; raw text that remembers where it came from |
//!
//! The path of a request:
//!
//! ```text
//! commands::cli ─> settings ─> input::config (Plan) ─> commands::run ─> engine::send
//!   ─> engine::worker (pacer: when) ─> net::client (dns, tls, h1/h2) ─> model::outcome
//!   ─> output::recorder ─> output::report (summary, verdict)
//!                       └> output::metrics (/metrics; net::remote_write pushes it)
//! ```
//!
//! Beside the path: `capacity` runs `send` step after step; `compare`, `html` and `merge` read
//! saved summaries; `demo` drives the Bookinfo simulation, crate `sim` (which also serves `serve`);
//! crate `setting` holds the value parsers and the one "invalid setting" error of every command.

// Layers, top first:
pub mod commands;
mod engine;
pub mod output;
pub mod input;
mod verify;
mod net;
mod model;
mod settings;

pub use commands::run::run;
