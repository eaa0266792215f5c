//! The command line: `trafficgen [run] [OPTIONS] [URL]...`, `trafficgen serve`, `trafficgen demo`,
//! parsed into one [`Command`]. The top of the library: the only module that knows every
//! subcommand, so nothing below it imports a command.

use std::ffi::OsString;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::cluster;
use crate::compare::CompareArgs;
use crate::config::{parse_mesh, ConfigError, Mesh, Plan};
use crate::demo::{self, DemoArgs};
use crate::html::ReportArgs;
use crate::settings::{self, env_name, RawConfig};

/// Top-level command line, as clap reads it.
#[derive(Debug, Parser)]
#[command(name = "trafficgen", version, about, args_conflicts_with_subcommands = true)]
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
    Serve(sim::ServeArgs),
    /// Start the Bookinfo simulation on loopback and drive it at 150 req/s for 30 s.
    Demo(DemoArgs),
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

/// Parse argv and env pairs (the process's or a test's). A `run` whose settings are invalid still
/// tells the mesh sidecar to quit, so a bad config cannot leave a Job's pod running forever.
pub async fn parse(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Command, ParseError> {
    let matches = command().try_get_matches_from(args)?;
    match matches.subcommand() {
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
    env: impl IntoIterator<Item = (String, String)>,
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
            if matches!(id.as_str(), "help" | "version" | "latency_scale" | "faults") {
                return arg;
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            arg.help(format!("{help} [env: {}]", env_name(&id)))
        })
    }
    let cmd = annotate(Cli::command());
    let demo = |cmd: clap::Command| {
        demo::DEFAULTS
            .iter()
            .fold(annotate(cmd), |cmd, (field, value)| cmd.mut_arg(*field, |a| a.default_value(*value)))
    };
    cmd.mut_subcommand("run", annotate).mut_subcommand("demo", demo)
}

/// The matches of the `run` options, wherever they were given (top level or `run` subcommand).
fn run_matches(matches: &ArgMatches) -> &ArgMatches {
    match matches.subcommand() {
        Some(("run", sub)) => sub,
        _ => matches,
    }
}
