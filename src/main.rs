//! The `trafficgen` binary: parse, run, map the outcome to an exit code a Job understands.

use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use trafficgen::capacity::{self, Ending};
use trafficgen::cli::{self, Command, ParseError};
use trafficgen::config::Format;
use trafficgen::demo::{self, DemoError};
use trafficgen::merge::MergeError;
use trafficgen::report::Summary;
use trafficgen::shutdown;

/// Every threshold held (or none was set and some request succeeded).
const EXIT_OK: u8 = 0;
/// A runtime failure that is not the target's (e.g. metrics port taken, Prometheus unreachable).
const EXIT_FAILURE: u8 = 1;
/// Invalid configuration; nothing was sent.
const EXIT_CONFIG: u8 = 2;
/// A threshold or a `verify` check failed, none was set and no request succeeded, or `compare` found a
/// budget exceeded.
const EXIT_THRESHOLDS: u8 = 3;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    // Signal handlers need the runtime.
    let _entered = runtime.enter();
    let command = match runtime.block_on(cli::parse(std::env::args_os(), std::env::vars_os())) {
        Ok(command) => command,
        Err(ParseError::Clap(e)) => e.exit(),
        Err(e @ ParseError::Config(_)) => return fail(EXIT_CONFIG, &e),
    };
    match command {
        Command::Serve(args) => {
            init_logging(Format::Text, no_color());
            let (signal, _) = match shutdown::signals() {
                Ok(s) => s,
                Err(e) => return fail(EXIT_FAILURE, &e),
            };
            // A server stopped by a signal has done its job: exit 0.
            match runtime.block_on(sim::run_serve(*args, signal)) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e @ sim::ServeError::Invalid { .. }) => fail(EXIT_CONFIG, &e),
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
        Command::Demo(args, plan) => {
            init_logging(plan.log_format, plan.no_color);
            let (signal, caught) = match shutdown::signals() {
                Ok(s) => s,
                Err(e) => return fail(EXIT_FAILURE, &e),
            };
            match runtime.block_on(demo::run(&args, *plan, signal)) {
                Ok(summary) => verdict(&summary, &caught),
                Err(e @ DemoError::Config(_)) => fail(EXIT_CONFIG, &e),
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
        Command::Verify(spec) => {
            init_logging(Format::Text, no_color());
            match runtime.block_on(trafficgen::verify::verify(&spec)) {
                Ok(v) => {
                    print!("{}", if spec.json { v.json() } else { v.table("") });
                    ExitCode::from(if v.passed { EXIT_OK } else { EXIT_THRESHOLDS })
                }
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
        Command::Capacity(search) => {
            init_logging(search.plan.log_format, search.plan.no_color);
            let (signal, caught) = match shutdown::signals() {
                Ok(s) => s,
                Err(e) => return fail(EXIT_FAILURE, &e),
            };
            match runtime.block_on(capacity::run(*search, signal)) {
                // A signal: 128 + its number, as for a run. Found: 0. Even --start broke the SLO: 3,
                // as a failed threshold. --max held or the generator's limits were reached: 1.
                Ok(outcome) => ExitCode::from(match (outcome.end, caught.get()) {
                    (Ending::Interrupted, Some(signal)) => shutdown::exit_code(signal),
                    (Ending::Found, _) => EXIT_OK,
                    (Ending::StartBroke, _) => EXIT_THRESHOLDS,
                    (Ending::MaxHeld | Ending::GeneratorLimit | Ending::Interrupted, _) => EXIT_FAILURE,
                }),
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
        Command::Compare(args) => match trafficgen::compare::run(&args) {
            Ok(comparison) => ExitCode::from(if comparison.passed() { EXIT_OK } else { EXIT_THRESHOLDS }),
            Err(e) => fail(EXIT_FAILURE, &e),
        },
        Command::Merge(args) => match trafficgen::merge::run(&args) {
            Ok(merged) => ExitCode::from(if merged.passed() { EXIT_OK } else { EXIT_THRESHOLDS }),
            Err(e @ MergeError::Invalid(_)) => fail(EXIT_CONFIG, &e),
            Err(e) => fail(EXIT_FAILURE, &e),
        },
        Command::Report(args) => match trafficgen::html::run(&args) {
            Ok(()) => ExitCode::from(EXIT_OK),
            Err(e) => fail(EXIT_FAILURE, &e),
        },
        Command::Run(plan) => {
            init_logging(plan.log_format, plan.no_color);
            let (signal, caught) = match shutdown::signals() {
                Ok(s) => s,
                Err(e) => return fail(EXIT_FAILURE, &e),
            };
            match runtime.block_on(trafficgen::run(*plan, signal)) {
                Ok(summary) => verdict(&summary, &caught),
                Err(e) => fail(EXIT_FAILURE, &e),
            }
        }
    }
}

/// A run a signal cut short exits 128 + the signal (its summary is printed, but it is no verdict);
/// otherwise the verdict decides.
fn verdict(summary: &Summary, caught: &shutdown::Caught) -> ExitCode {
    match caught.get() {
        Some(signal) if summary.interrupted => ExitCode::from(shutdown::exit_code(signal)),
        _ => ExitCode::from(if summary.passed { EXIT_OK } else { EXIT_THRESHOLDS }),
    }
}

fn fail(code: u8, e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("trafficgen: {e}");
    ExitCode::from(code)
}

/// `NO_COLOR` is set (<https://no-color.org>), for the commands that have no run plan.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Logs on stderr; ANSI colour only on a terminal and without `NO_COLOR`, never in `kubectl logs`.
fn init_logging(format: Format, no_color: bool) {
    // RUST_LOG as `level` or `target=level,...` (tracing-subscriber's Targets: EnvFilter's span
    // and field filters are not worth their size here); `info` when unset or unreadable.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let colour = std::io::stderr().is_terminal() && !no_color;
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(colour);
    match format {
        Format::Json => builder.json().finish().with(filter).init(),
        Format::Text => builder.finish().with(filter).init(),
    }
}
