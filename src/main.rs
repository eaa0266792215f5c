//! The `trafficgen` binary: parse, run, map the outcome to an exit code a Job understands.

use std::process::ExitCode;

use trafficgen::cli::{self, Command, ParseError};
use trafficgen::config::Format;
use trafficgen::demo::{self, DemoError};
use trafficgen::report::Summary;
use trafficgen::shutdown;

/// Thresholds held.
const EXIT_OK: u8 = 0;
/// A runtime failure that is not the target's (e.g. metrics port taken).
const EXIT_FAILURE: u8 = 1;
/// Invalid configuration; nothing was sent.
const EXIT_CONFIG: u8 = 2;
/// Thresholds failed, or `compare` found a budget exceeded.
const EXIT_THRESHOLDS: u8 = 3;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let command = match runtime.block_on(cli::parse(std::env::args_os(), std::env::vars())) {
        Ok(command) => command,
        Err(ParseError::Clap(e)) => e.exit(),
        Err(e @ ParseError::Config(_)) => return fail(EXIT_CONFIG, &e),
    };
    match command {
        Command::Serve(args) => {
            init_logging(Format::Text);
            match runtime.block_on(sim::run_serve(*args, shutdown::signals())) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e @ sim::ServeError::Invalid { .. }) => fail(EXIT_CONFIG, &e),
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
        Command::Demo(args, plan) => {
            init_logging(plan.log_format);
            match runtime.block_on(demo::run(&args, *plan, shutdown::signals())) {
                Ok(summary) => verdict(&summary),
                Err(e @ DemoError::Config(_)) => fail(EXIT_CONFIG, &e),
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
        Command::Compare(args) => match trafficgen::compare::run(&args) {
            Ok(comparison) => ExitCode::from(if comparison.passed() { EXIT_OK } else { EXIT_THRESHOLDS }),
            Err(e) => fail(EXIT_FAILURE, &e),
        },
        Command::Report(args) => match trafficgen::html::run(&args) {
            Ok(()) => ExitCode::from(EXIT_OK),
            Err(e) => fail(EXIT_FAILURE, &e),
        },
        Command::Run(plan) => {
            init_logging(plan.log_format);
            match runtime.block_on(trafficgen::run(*plan, shutdown::signals())) {
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
