//! `trafficgen demo`: the Bookinfo simulation on loopback, driven exactly as a cluster user drives
//! the real one (`http://productpage:9080/productpage`, pinned with `--resolve`), judged by what a
//! working Bookinfo shows: at least 100 req/s sustained, traffic at all four services, and a
//! reviews split consistent with 1/3 each.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use sim::{Bookinfo, BookinfoOptions, Fault, ServeError};

use crate::commands::run::{run_with, RunError};
use crate::input::config::{ConfigError, Load, Plan};
use crate::input::threshold::{Metric, Op, Threshold, Verdict};
use crate::net::client::Pin;
use crate::output::report::{Beside, ServiceFigures, Summary};
use crate::settings::{Layered, RawConfig, Source};

/// The URL a cluster user types.
pub(crate) const URL: &str = "http://productpage:9080/productpage";

/// The demo's own defaults (shown by `demo --help`); flags and `TRAFFICGEN_*` env vars still win.
pub(crate) const DEFAULTS: [(&str, &str); 6] = [
    ("rate", "150"),
    ("duration", "30s"),
    ("classify_preset", "bookinfo-reviews"),
    ("expect_split", "v1=1,v2=1,v3=1"),
    ("metrics_addr", "127.0.0.1:0"),
    ("mesh_shutdown", "none"),
];

/// The four Bookinfo services and the workloads that serve each.
const SERVICES: [(&str, &[&str]); 4] = [
    ("productpage", &["productpage"]),
    ("details", &["details"]),
    ("reviews", &["reviews-v1", "reviews-v2", "reviews-v3"]),
    ("ratings", &["ratings"]),
];

/// Flags of `trafficgen demo`: every run option, plus the simulation's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Run options (defaults: --rate 150 --duration 30s --classify-preset bookinfo-reviews --expect-split v1=1,v2=1,v3=1)
    #[command(flatten)]
    pub run: RawConfig,
    /// Multiplier for the simulated services' latencies
    #[arg(long, default_value = "1.0", value_parser = sim::parse_scale)]
    pub latency_scale: f64,
    /// Inject a fault: SERVICE:error=10%, SERVICE:delay=200ms, or SERVICE:restart (its container crash-loops) (repeatable)
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<Fault>,
    /// Serve the metrics of this kind of cluster: none, linkerd or istio
    #[arg(long, value_name = "KIND", default_value = "istio", value_parser = sim::parse_mesh_metrics)]
    pub mesh_metrics: sim::MeshMetrics,
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DemoError {
    /// A run setting is invalid (exit 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The simulation could not start, or a simulation setting is invalid.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The run failed (exit 1).
    #[error(transparent)]
    Run(#[from] RunError),
}

/// The demo's validated run plan: run options with the demo's defaults.
pub(crate) fn plan(layered: &Layered) -> Result<Plan, ConfigError> {
    let mut layered = layered.clone();
    // A scenario mixes routes (e.g. a logged-in user who always sees v2): no 1/3 split to expect.
    if layered.raw.scenario.is_some() && layered.sources.get("expect_split") == Some(&Source::Default) {
        layered.raw.expect_split = None;
    }
    if layered.raw.url.is_empty() && layered.raw.scenario.is_none() {
        layered.raw.url.push(URL.to_string());
    }
    let plan = Plan::from_layered(&layered)?;
    let Load::Open { rate } = plan.load().mode() else { return Ok(plan) };
    // The demo must sustain 100 req/s, completed; a slower demo is held to 95% of what it asked for.
    let floor = (rate * 0.95).min(100.0);
    let expr = format!("throughput_rps>={floor}");
    let mut thresholds = plan.verdict().thresholds().to_vec();
    thresholds.push(Threshold { expr, metric: Metric::ThroughputRps, op: Op::Ge, bound: floor });
    Ok(plan.with_thresholds(thresholds))
}

/// Start the simulation, drive it with `plan`, and judge the result.
pub(crate) async fn run(args: &DemoArgs, plan: Plan, shutdown: impl Future<Output = ()>) -> Result<Summary, DemoError> {
    let options = BookinfoOptions {
        latency_scale: args.latency_scale,
        faults: args.faults.clone(),
        mesh_metrics: args.mesh_metrics,
        ..BookinfoOptions::default()
    };
    let sim = Bookinfo::start(options).await?;
    let productpage = sim.productpage_addr();
    tracing::info!(%productpage, metrics = %sim.metrics_addr(), mesh_metrics = ?args.mesh_metrics, "Bookinfo simulation started; the cluster's metrics are at /metrics");
    let plan = plan.with_pin(Pin { host: "productpage".into(), port: 9080, addr: productpage });
    let result = run_with(plan, shutdown, |measured| observe(&sim, measured)).await;
    sim.shutdown().await;
    Ok(result?)
}

/// The services' own figures over the `measured` window, and the "all four services received
/// traffic" verdict drawn from them.
fn observe(sim: &Bookinfo, measured: Duration) -> Beside {
    let seconds = measured.as_secs_f64().max(1e-9);
    let services: BTreeMap<String, ServiceFigures> = sim
        .service_stats()
        .into_iter()
        .map(|(name, stats)| {
            let figures = ServiceFigures {
                requests: stats.requests,
                rps: (stats.requests as f64 / seconds * 10.0).round() / 10.0,
                p50_ms: stats.p50_ms,
                p95_ms: stats.p95_ms,
                p99_ms: stats.p99_ms,
                errors: stats.errors,
            };
            (name, figures)
        })
        .collect();
    let reached = SERVICES
        .iter()
        .filter(|(_, workloads)| workloads.iter().any(|w| services.get(*w).is_some_and(|s| s.requests > 0)))
        .count();
    let verdict = Verdict {
        expr: "traffic at productpage, details, reviews and ratings".into(),
        value: reached as f64,
        measured: format!("{reached} of {} services", SERVICES.len()),
        passed: reached == SERVICES.len(),
    };
    Beside { services, verdicts: vec![verdict], ..Beside::default() }
}
