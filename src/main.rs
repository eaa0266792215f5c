//! The `trafficgen` binary: parse, run, map the outcome to an exit code a Job understands.

use std::process::ExitCode;

use trafficgen::config::{self, ConfigError, Format, Plan};
use trafficgen::demo::{self, DemoError};
use trafficgen::report::Summary;
use trafficgen::server::ServeError;
use trafficgen::{cli, cluster, shutdown};

/// Thresholds held.
const EXIT_OK: u8 = 0;
/// A runtime failure that is not the target's (e.g. metrics port taken).
const EXIT_FAILURE: u8 = 1;
/// Invalid configuration; nothing was sent.
const EXIT_CONFIG: u8 = 2;
/// Thresholds failed.
const EXIT_THRESHOLDS: u8 = 3;

fn main() -> ExitCode {
    let matches = cli::command().get_matches();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match matches.subcommand() {
        Some(("serve", m)) => {
            let args =
                <trafficgen::server::ServeArgs as clap::FromArgMatches>::from_arg_matches(m).expect("clap validated");
            init_logging(Format::Text);
            match runtime.block_on(trafficgen::server::run_serve(args, shutdown::signals())) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e @ ServeError::Invalid { .. }) => fail(EXIT_CONFIG, &e),
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
        Some(("demo", m)) => {
            let args = <demo::DemoArgs as clap::FromArgMatches>::from_arg_matches(m).expect("clap validated");
            let plan = match demo::plan(m, std::env::vars()) {
                Ok(plan) => plan,
                Err(e) => return fail(EXIT_CONFIG, &e),
            };
            init_logging(plan.log_format);
            match runtime.block_on(demo::run(&args, plan, shutdown::signals())) {
                Ok(summary) => verdict(&summary),
                Err(DemoError::Serve(e @ ServeError::Invalid { .. })) => fail(EXIT_CONFIG, &e),
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
        _ => {
            let run = cli::run_matches(&matches).expect("run is the only other command");
            let layered = cli::layer(run, std::env::vars()).map_err(|e| ConfigError::Usage(e.to_string()));
            let plan = match layered.as_ref().map_err(Clone::clone).and_then(Plan::from_layered) {
                Ok(plan) => plan,
                Err(e) => {
                    // Even a bad config must not leave a sidecar keeping the Job's pod alive.
                    let mesh = layered.ok().and_then(|l| l.raw.mesh_shutdown).and_then(|m| config::parse_mesh(&m));
                    runtime.block_on(cluster::quit_sidecar(&mesh.unwrap_or(config::Mesh::Auto)));
                    return fail(EXIT_CONFIG, &e);
                }
            };
            init_logging(plan.log_format);
            match runtime.block_on(trafficgen::run(plan, shutdown::signals())) {
                Ok(summary) => verdict(&summary),
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
    }
}

fn verdict(summary: &Summary) -> ExitCode {
    ExitCode::from(if summary.passed { EXIT_OK } else { EXIT_THRESHOLDS })
}

fn fail(code: u8, e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("trafficgen: {e}");
    ExitCode::from(code)
}

fn init_logging(format: Format) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        Format::Json => builder.json().init(),
        Format::Text => builder.init(),
    }
}
