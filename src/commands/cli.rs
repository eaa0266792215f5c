//! The command line: `trafficgen [run] [OPTIONS] [URL]...`, `trafficgen serve`, `trafficgen demo`,
//! `trafficgen verify`, `trafficgen capacity`, parsed into one [`Command`]. The top of the library: the only
//! module that knows every
//! subcommand, so nothing below it imports a command.

use std::ffi::OsString;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands::capacity::{self, Capacity, CapacityArgs};
use crate::commands::compare::CompareArgs;
use crate::commands::demo::{self, DemoArgs};
use crate::commands::html::ReportArgs;
use crate::commands::merge::MergeArgs;
use crate::engine::cluster;
use crate::input::config::{parse_sidecar, ConfigError, Plan, Sidecar};
use crate::settings::{self, env_name, Env, RawConfig};
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

/// `capacity`'s exit codes and examples, in its `--help` (and the README).
const CAPACITY_EXIT_CODES: &str = "\
Exit codes:
  0        a capacity was found: the highest rate that held is within 5% of the lowest that broke
  1        --max held (the capacity is above it), the generator's limits were reached first
           (sends dropped at --max-in-flight), or a runtime failure (metrics port taken, ...)
  2        invalid configuration; nothing was sent
  3        even --start broke the SLO (the capacity is below it)
  130/143  ended by SIGINT/SIGTERM (128 + the signal), after the steps so far

A step holds when every --slo holds, the target completed at least 95% of the step's rate (after
the step's first second), and no send was dropped.

Examples:
  trafficgen capacity --slo 'p99<500ms' --slo 'error_rate<1%' http://productpage:9080/productpage
  trafficgen capacity --slo 'p99<200ms' --start 50 --step +50 --max 2000 --step-duration 20s \\
      --output json http://reviews:9080/reviews/0";

/// `merge`'s exit codes and examples.
const MERGE_HELP: &str = "\
Exit codes:
  0  every threshold held on the merged result (without thresholds: some request succeeded)
  1  an input could not be read or holds no summary
  2  invalid --threshold, or summaries of different run ids without --allow-mixed
  3  a threshold failed on the merged result

Examples:
  trafficgen merge shard-0.json shard-1.json shard-2.json
  kubectl logs -n load -l job-name=trafficgen --prefix --tail=-1 | trafficgen merge --threshold 'p99<500ms' -";

/// Run options that do nothing in a demo (it needs no gate, no shards, no sidecar): hidden there.
const NOT_IN_DEMO: [&str; 5] = ["wait_for", "wait_timeout", "mesh_shutdown", "shards", "shard_index"];

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
    /// One result for a sharded run: its shards' summaries merged (exact percentiles), judged.
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
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
    /// Merge a sharded run's summaries.
    Merge(Box<MergeArgs>),
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
    // Read by the commands that take env vars only: a stray variable cannot break `serve` or `compare`.
    let read_env = move || Env::read(env).map_err(ConfigError::from);
    match matches.subcommand() {
        Some(("verify", m)) => {
            Ok(Command::Verify(Box::new(RawVerify::layer(m, &read_env()?).spec().map_err(ConfigError::from)?)))
        }
        Some(("capacity", m)) => {
            let env = read_env()?;
            let layered = settings::layer_env(m, &env).map_err(ConfigError::from)?;
            Ok(Command::Capacity(Box::new(capacity::plan(m, &layered, &env)?)))
        }
        Some(("serve", m)) => Ok(Command::Serve(Box::new(sim::ServeArgs::from_arg_matches(m)?))),
        Some(("compare", m)) => Ok(Command::Compare(Box::new(CompareArgs::from_arg_matches(m)?))),
        Some(("report", m)) => Ok(Command::Report(Box::new(ReportArgs::from_arg_matches(m)?))),
        Some(("merge", m)) => Ok(Command::Merge(Box::new(MergeArgs::from_arg_matches(m)?))),
        Some(("demo", m)) => {
            let args = DemoArgs::from_arg_matches(m)?;
            let plan = demo::plan(&settings::layer_env(m, &read_env()?).map_err(ConfigError::from)?)?;
            Ok(Command::Demo(Box::new(args), Box::new(plan)))
        }
        _ => {
            let env = read_env()?;
            let layered = settings::layer_env(run_matches(&matches), &env);
            match layered.as_ref().map_err(|e| ConfigError::Usage(e.to_string())).and_then(Plan::from_layered) {
                Ok(plan) => Ok(Command::Run(Box::new(plan))),
                Err(e) => {
                    let layered = layered.ok();
                    let mesh = layered.as_ref().and_then(|l| l.raw.mesh_shutdown.as_deref()).and_then(parse_sidecar);
                    cluster::quit_sidecar(&mesh.unwrap_or(Sidecar::Auto), env.in_pod).await;
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

/// The clap command, with each option's env var (named after its field) added to its help, and the
/// demo's own defaults.
pub fn command() -> clap::Command {
    fn annotate(cmd: clap::Command) -> clap::Command {
        cmd.allow_negative_numbers(true).mut_args(|arg| {
            let id = arg.get_id().as_str().to_string();
            if matches!(id.as_str(), "help" | "version" | "latency_scale" | "faults" | "mesh_metrics") {
                return arg;
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            arg.help(format!("{help} [env: {}]", env_name(&id)))
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
        .mut_subcommand("capacity", |c| capacity(c).after_help(CAPACITY_EXIT_CODES))
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
                assert!(arg.get_help_heading().is_some(), "--{id} has no help_heading");
            }
        }
    }

    #[test]
    fn help_shows_headings_exit_codes_and_examples() {
        let help = command().render_long_help().to_string();
        for needle in ["Target:", "Load:", "Client:", "Output:", "Verdict:", "Cluster:", "Exit codes:", "Examples:"] {
            assert!(help.contains(needle), "{needle} in\n{help}");
        }
        let capacity = command().find_subcommand_mut("capacity").expect("capacity").render_long_help().to_string();
        assert!(capacity.contains("Exit codes:") && capacity.contains("128 + the signal"), "{capacity}");
        let demo = command().find_subcommand_mut("demo").expect("demo").render_long_help().to_string();
        assert!(!demo.contains("--wait-for <") && !demo.contains("--shards <") && demo.contains("--latency-scale"));
    }

    /// Every command that takes a list from an env var splits it by the one rule: lines, else
    /// commas with `\,` for a comma inside an item.
    #[test]
    fn env_lists_follow_one_rule_in_every_command() {
        let text = r"a: x\,y,b: z";
        let want = ["a: x,y", "b: z"];
        let lines = "a: x,y\n  b: z\n";
        for (argv, field) in [
            (vec!["trafficgen"], "header"),
            (vec!["trafficgen", "run"], "threshold"),
            (vec!["trafficgen", "demo"], "classify"),
            (vec!["trafficgen", "capacity"], "slo"),
            (vec!["trafficgen", "verify"], "check"),
        ] {
            let matches = command().try_get_matches_from(&argv).unwrap();
            let m = matches.subcommand().map_or(&matches, |(_, m)| m);
            for given in [text, lines] {
                let env = Env::read([(env_name(field).into(), given.into())]).unwrap();
                let items = settings::pick(m, &env, field).expect("set by env").items();
                assert_eq!(items, want, "{argv:?} {field} from {given:?}");
            }
        }
    }

    /// The README's options table and `run --help` list the same options, each with its env var
    /// and, where clap has one, its default.
    #[test]
    fn readme_options_table_matches_help() {
        let readme = include_str!("../../README.md");
        let table = readme.split("\n## Options\n").nth(1).expect("an Options section");
        let rows: Vec<Vec<&str>> = table
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect();
        let mut cmd = command();
        let run = cmd.find_subcommand_mut("run").expect("run");
        // Wrapped to the terminal's width: compare with single spaces.
        let help = run.render_long_help().to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        let options: Vec<&clap::Arg> =
            run.get_arguments().filter(|a| !matches!(a.get_id().as_str(), "help" | "version")).collect();
        let name = |a: &clap::Arg| match a.get_long() {
            Some(long) => format!("`--{long}`"),
            None => "`URL...`".to_string(),
        };
        for arg in &options {
            let id = arg.get_id().as_str();
            let row = rows
                .iter()
                .find(|r| r[0].ends_with(&name(arg)))
                .unwrap_or_else(|| panic!("{} is in --help but not in the README's options table", name(arg)));
            assert_eq!(row[1], format!("`{}`", env_name(id)), "env of {}", name(arg));
            assert!(help.contains(&format!("[env: {}]", env_name(id))), "{id} in --help");
            if let [default] = arg.get_default_values() {
                assert_eq!(row[2], format!("`{}`", default.to_string_lossy()), "default of {}", name(arg));
            }
        }
        for row in &rows {
            assert!(
                options.iter().any(|a| row[0].ends_with(&name(a))),
                "{} is in the README but not in --help",
                row[0]
            );
        }
    }
}
