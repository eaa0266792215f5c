//! The command line: `trafficgen [run] [OPTIONS] [URL]...`, `trafficgen serve`, `trafficgen demo`,
//! `trafficgen verify`, `trafficgen capacity`, parsed into one [`Command`]. The top of the library: the only
//! module that knows every
//! subcommand, so nothing below it imports a command.

use std::ffi::OsString;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::capacity::{self, Capacity, CapacityArgs};
use crate::cluster;
use crate::compare::CompareArgs;
use crate::config::{parse_mesh, ConfigError, Mesh, Plan};
use crate::demo::{self, DemoArgs};
use crate::html::ReportArgs;
use crate::settings::{self, env_name, RawConfig};
use crate::verify::{self, RawVerify, VerifyArgs};

/// The exit codes, stated in `--help` (and the README): what a Job or a pipeline acts on.
const EXIT_CODES: &str = "\
Exit codes:
  0        every threshold held (without thresholds: at least one request succeeded)
  1        runtime failure, not the target's (metrics port taken, --wait-for timed out, ...)
  2        invalid configuration or input; nothing was sent
  3        a threshold failed (without thresholds: no request succeeded)
  130/143  ended by SIGINT/SIGTERM (128 + the signal), after the summary

Examples:
  trafficgen --rate 150 --duration 10m --threshold 'p99<500ms' http://productpage:9080/productpage
  trafficgen --rate max --concurrency 50 --requests 100000 --http2 https://api.example/health
  TRAFFICGEN_HEADER='accept: text/html\\,application/json' trafficgen --scenario routes.yaml

List env vars take comma-separated items; write \\, for a comma inside an item, or put one item
per line.";

/// Each run option's heading in `--help`, in this order. An option missing here fails a test.
const HEADINGS: [(&str, &[&str]); 10] = [
    ("Target", &["method", "header", "body", "scenario", "resolve"]),
    ("Load", &["rate", "concurrency", "duration", "requests", "stages", "warmup", "max_in_flight"]),
    ("Client", &["connections", "timeout", "http2", "insecure", "cacert"]),
    ("Output", &["metrics_addr", "output", "summary_file", "report", "progress_interval", "log_format"]),
    ("Tracing", &["trace_headers", "trace_sample", "otlp_endpoint"]),
    (
        "Remote write (push the metrics to Prometheus instead of being scraped)",
        &[
            "remote_write",
            "remote_write_interval",
            "remote_write_label",
            "remote_write_header",
            "remote_write_bearer_token_file",
            "remote_write_username_file",
            "remote_write_password_file",
        ],
    ),
    ("Verdict", &["threshold", "expect_split"]),
    ("Classification", &["classify", "classify_header", "classify_preset"]),
    (
        "Verify the monitoring at the end of the run (see `trafficgen verify`)",
        &[
            "verify_prometheus",
            "verify_preset",
            "verify_mesh",
            "verify_namespace",
            "verify_checks",
            "verify_retry_for",
            "verify_scrape_interval",
            "verify_bearer_token_file",
        ],
    ),
    (
        "Cluster",
        &[
            "drain_timeout",
            "linger",
            "mesh_shutdown",
            "wait_for",
            "wait_timeout",
            "pushgateway",
            "run_id",
            "shards",
            "shard_index",
        ],
    ),
];

/// Run options that do nothing in a demo (it needs no gate, no shards, no sidecar): hidden there.
const NOT_IN_DEMO: [&str; 5] = ["wait_for", "wait_timeout", "mesh_shutdown", "shards", "shard_index"];

fn heading(id: &str) -> Option<&'static str> {
    HEADINGS.iter().find(|(_, ids)| ids.contains(&id)).map(|(heading, _)| *heading)
}

/// Top-level command line, as clap reads it.
#[derive(Debug, Parser)]
#[command(name = "trafficgen", version, about, args_conflicts_with_subcommands = true, after_help = EXIT_CODES)]
struct Cli {
    /// What to do; `run` when absent.
    #[command(subcommand)]
    command: Option<Sub>,
    /// Options of the default `run` command.
    #[command(flatten)]
    run: RawConfig,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Sub {
    /// Send HTTP load at a precise rate (the default).
    Run(RawConfig),
    /// Serve a test target: a plain endpoint with tunable latency and errors, or the Bookinfo simulation.
    #[command(after_help = sim::QUERY_HELP)]
    Serve(sim::ServeArgs),
    /// Start the Bookinfo simulation on loopback and drive it at 150 req/s for 30 s.
    Demo(DemoArgs),
    /// Check with PromQL that Prometheus saw the traffic: the bookinfo preset (no mesh, Linkerd, Istio) or your own checks.
    Verify(VerifyArgs),
    /// Find the highest rate that keeps the SLO: steps at rising rates, then bisection to 5%.
    Capacity(CapacityArgs),
    /// Compare two runs' summaries: differences, their significance, budgets (exit 3 when exceeded).
    Compare(CompareArgs),
    /// Draw one or more runs' summaries as one self-contained HTML page.
    Report(ReportArgs),
}

/// What the user asked for, validated.
#[derive(Debug)]
pub enum Command {
    /// Send load.
    Run(Box<Plan>),
    /// Serve a test target or the Bookinfo simulation.
    Serve(Box<sim::ServeArgs>),
    /// Drive the Bookinfo simulation with the plan.
    Demo(Box<DemoArgs>, Box<Plan>),
    /// Run PromQL checks against Prometheus.
    Verify(Box<verify::Spec>),
    /// Search for the highest rate that keeps the SLO.
    Capacity(Box<Capacity>),
    /// Compare two runs.
    Compare(Box<CompareArgs>),
    /// Write the HTML report of some runs.
    Report(Box<ReportArgs>),
}

/// Why the command line could not become a [`Command`].
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// clap's own answer: usage errors, but also `--help` and `--version` (print it and exit).
    #[error(transparent)]
    Clap(#[from] clap::Error),
    /// A setting is invalid (exit 2); nothing was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Parse argv and env pairs (the process's `std::env::vars_os`, or a test's). A `run` whose settings are invalid still
/// tells the mesh sidecar to quit, so a bad config cannot leave a Job's pod running forever.
pub async fn parse(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    env: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Command, ParseError> {
    let matches = command().try_get_matches_from(args)?;
    let env: Vec<(OsString, OsString)> = env.into_iter().collect();
    match matches.subcommand() {
        Some(("verify", m)) => {
            let env = settings::prefixed(env).map_err(ConfigError::from)?;
            let spec = RawVerify::layer(m, &env).spec().map_err(ConfigError::from)?;
            Ok(Command::Verify(Box::new(spec)))
        }
        Some(("capacity", m)) => {
            let args = CapacityArgs::from_arg_matches(m)?;
            let layered = settings::layer(m, env.clone()).map_err(ConfigError::from)?;
            let text = settings::prefixed(env).map_err(ConfigError::from)?;
            Ok(Command::Capacity(Box::new(capacity::plan(&args, m, &layered, &text)?)))
        }
        Some(("serve", m)) => Ok(Command::Serve(Box::new(sim::ServeArgs::from_arg_matches(m)?))),
        Some(("compare", m)) => Ok(Command::Compare(Box::new(CompareArgs::from_arg_matches(m)?))),
        Some(("report", m)) => Ok(Command::Report(Box::new(ReportArgs::from_arg_matches(m)?))),
        Some(("demo", m)) => {
            let args = DemoArgs::from_arg_matches(m)?;
            let plan = demo::plan(&settings::layer(m, env).map_err(ConfigError::from)?)?;
            Ok(Command::Demo(Box::new(args), Box::new(plan)))
        }
        _ => {
            let layered = settings::layer(run_matches(&matches), env);
            match layered.as_ref().map_err(|e| ConfigError::Usage(e.to_string())).and_then(Plan::from_layered) {
                Ok(plan) => Ok(Command::Run(Box::new(plan))),
                Err(e) => {
                    let layered = layered.ok();
                    let mesh = layered.as_ref().and_then(|l| l.raw.mesh_shutdown.as_deref()).and_then(parse_mesh);
                    let in_pod = layered.is_some_and(|l| l.in_pod);
                    cluster::quit_sidecar(&mesh.unwrap_or(Mesh::Auto), in_pod).await;
                    Err(e.into())
                }
            }
        }
    }
}

/// Build a run plan from argv and env pairs, as `trafficgen [run]` would (tests use it).
pub fn plan_from(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    env: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Plan, ConfigError> {
    let matches = command().try_get_matches_from(args).map_err(|e| ConfigError::Usage(e.to_string()))?;
    if matches.subcommand().is_some_and(|(name, _)| name != "run") {
        return Err(ConfigError::Usage("not a run".into()));
    }
    Plan::from_layered(&settings::layer(run_matches(&matches), env)?)
}

/// The clap command, with each option's env var added to its help and the demo's own defaults.
pub fn command() -> clap::Command {
    fn annotate(cmd: clap::Command) -> clap::Command {
        cmd.allow_negative_numbers(true).mut_args(|arg| {
            let id = arg.get_id().as_str().to_string();
            if matches!(id.as_str(), "help" | "version" | "latency_scale" | "faults" | "mesh_metrics") {
                return arg;
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let arg = arg.help(format!("{help} [env: {}]", env_name(&id)));
            match heading(&id) {
                Some(h) => arg.help_heading(h),
                None => arg,
            }
        })
    }
    let cmd = annotate(Cli::command());
    let demo = |cmd: clap::Command| {
        let cmd = NOT_IN_DEMO.iter().fold(annotate(cmd), |cmd, id| cmd.mut_arg(*id, |a| a.hide(true)));
        demo::DEFAULTS.iter().fold(cmd, |cmd, (field, value)| cmd.mut_arg(*field, |a| a.default_value(*value)))
    };
    // The search sets each step's rate and duration: those run options are refused, so not shown.
    let capacity = |cmd: clap::Command| {
        capacity::OWN_SETTINGS.iter().fold(annotate(cmd), |cmd, field| cmd.mut_arg(*field, |a| a.hide(true)))
    };
    cmd.mut_subcommand("run", |c| annotate(c).after_help(EXIT_CODES))
        .mut_subcommand("demo", |c| demo(c).after_help(EXIT_CODES))
        .mut_subcommand("verify", annotate)
        .mut_subcommand("capacity", capacity)
}

/// The matches of the `run` options, wherever they were given (top level or `run` subcommand).
fn run_matches(matches: &ArgMatches) -> &ArgMatches {
    match matches.subcommand() {
        Some(("run", sub)) => sub,
        _ => matches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_option_has_a_heading() {
        let cmd = command();
        for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
            let id = arg.get_id().as_str();
            if !matches!(id, "help" | "version") {
                assert!(heading(id).is_some(), "--{id} has no heading in HEADINGS");
            }
        }
    }

    #[test]
    fn help_shows_headings_exit_codes_and_examples() {
        let help = command().render_long_help().to_string();
        for needle in ["Target:", "Load:", "Client:", "Output:", "Verdict:", "Cluster:", "Exit codes:", "Examples:"] {
            assert!(help.contains(needle), "{needle} in\n{help}");
        }
        let demo = command().find_subcommand_mut("demo").expect("demo").render_long_help().to_string();
        assert!(!demo.contains("--wait-for <") && !demo.contains("--shards <") && demo.contains("--latency-scale"));
    }
}
