//! Each command as a function that returns its exit code, or a [`Failure`] that knows its own:
//! the one place that maps outcomes to the exit codes a Job or a pipeline acts on. Logging and
//! signals are set up here, once; [`main`] parses, builds the runtime and calls [`execute`].

pub(crate) mod capacity;
pub mod cli;
pub(crate) mod compare;
pub(crate) mod demo;
pub(crate) mod html;
pub(crate) mod merge;
pub(crate) mod run;

use std::error::Error;
use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::commands::cli::{Command, ParseError};
use crate::commands::compare::CompareArgs;
use crate::commands::html::ReportArgs;
use crate::commands::merge::{MergeArgs, MergeError};
use crate::engine::shutdown::{self, Caught};
use crate::input::config::{Format, Plan};
use crate::output::report::Summary;
use crate::verify;
use capacity::{Capacity, Ending};
use demo::{DemoArgs, DemoError};

/// Every threshold held (or none was set and some request succeeded).
const EXIT_OK: u8 = 0;
/// A runtime failure that is not the target's (e.g. metrics port taken, Prometheus unreachable).
const EXIT_FAILURE: u8 = 1;
/// Invalid configuration; nothing was sent.
const EXIT_CONFIG: u8 = 2;
/// A threshold or a `verify` check failed, none was set and no request succeeded, or `compare` found a
/// budget exceeded.
const EXIT_THRESHOLDS: u8 = 3;

/// Why a command ended without an exit code of its own; printed as `trafficgen: {error}`.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Invalid configuration or input: exit 2, nothing was sent.
    #[error(transparent)]
    Config(Box<dyn Error>),
    /// A runtime failure that is not the target's: exit 1.
    #[error(transparent)]
    Runtime(Box<dyn Error>),
}

impl Failure {
    /// The exit code this failure maps to.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Config(_) => EXIT_CONFIG,
            Failure::Runtime(_) => EXIT_FAILURE,
        })
    }

    fn runtime(e: impl Error + 'static) -> Failure {
        Failure::Runtime(Box::new(e))
    }
}

impl From<ParseError> for Failure {
    fn from(e: ParseError) -> Failure {
        Failure::Config(Box::new(e))
    }
}

/// The process: parse argv and the environment, run the command, and end with its exit code.
/// It lives here rather than in the binary's `main` so that the async code is compiled in one
/// crate, once: a generic or inlined call made from the binary compiled there a second copy of
/// every future it reached (the client, DNS and h2 among them), 0.45 MB of the static binary.
pub fn main() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    // Signal handlers need the runtime.
    let _entered = runtime.enter();
    let result = runtime.block_on(async {
        match cli::parse(std::env::args_os(), std::env::vars_os()).await {
            Ok(command) => execute(command).await,
            Err(ParseError::Clap(e)) => e.exit(),
            Err(e) => Err(Failure::from(e)),
        }
    });
    result.unwrap_or_else(|e| {
        eprintln!("trafficgen: {e}");
        e.exit_code()
    })
}

/// Set up logging for `command` and run it.
pub async fn execute(command: Command) -> Result<ExitCode, Failure> {
    let (format, no_color) = match &command {
        Command::Run(plan) | Command::Demo(_, plan) => (plan.output().log_format(), plan.output().no_color()),
        Command::Capacity(search) => (search.plan.output().log_format(), search.plan.output().no_color()),
        _ => (Format::Text, std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())),
    };
    init_logging(format, no_color);
    match command {
        Command::Run(plan) => run(*plan).await,
        Command::Serve(args) => serve(*args).await,
        Command::Demo(args, plan) => demo(*args, *plan).await,
        Command::Verify(spec) => verify(*spec).await,
        Command::Capacity(search) => capacity(*search).await,
        Command::Compare(args) => compare(&args),
        Command::Report(args) => report(&args),
        Command::Merge(args) => merge(&args),
    }
}

/// `trafficgen [run]`: the verdict decides, unless a signal cut the run short.
async fn run(plan: Plan) -> Result<ExitCode, Failure> {
    let (signal, caught) = shutdown::signals().map_err(Failure::runtime)?;
    let summary = crate::run(plan, signal).await.map_err(Failure::runtime)?;
    Ok(verdict(&summary, &caught))
}

/// `trafficgen serve`: a server stopped by a signal has done its job: exit 0.
async fn serve(args: sim::ServeArgs) -> Result<ExitCode, Failure> {
    let (signal, _) = shutdown::signals().map_err(Failure::runtime)?;
    match sim::run_serve(args, signal).await {
        Ok(()) => Ok(ExitCode::from(EXIT_OK)),
        Err(e @ sim::ServeError::Invalid(_)) => Err(Failure::Config(Box::new(e))),
        Err(e) => Err(Failure::runtime(e)),
    }
}

/// `trafficgen demo`: judged as a run.
async fn demo(args: DemoArgs, plan: Plan) -> Result<ExitCode, Failure> {
    let (signal, caught) = shutdown::signals().map_err(Failure::runtime)?;
    match demo::run(&args, plan, signal).await {
        Ok(summary) => Ok(verdict(&summary, &caught)),
        Err(e @ DemoError::Config(_)) => Err(Failure::Config(Box::new(e))),
        Err(e) => Err(Failure::runtime(e)),
    }
}

/// `trafficgen verify`: the table (or JSON) on stdout; exit 3 when a check failed.
async fn verify(spec: verify::Spec) -> Result<ExitCode, Failure> {
    let verification = verify::verify(&spec).await.map_err(Failure::runtime)?;
    print!("{}", if spec.json { verification.json() } else { verification.table("") });
    Ok(ExitCode::from(if verification.passed { EXIT_OK } else { EXIT_THRESHOLDS }))
}

/// `trafficgen capacity`. A signal: 128 + its number, as for a run. Found: 0. Even `--start` broke
/// the SLO: 3, as a failed threshold. `--max` held or the generator's limits were reached: 1.
async fn capacity(search: Capacity) -> Result<ExitCode, Failure> {
    let (signal, caught) = shutdown::signals().map_err(Failure::runtime)?;
    let outcome = capacity::run(search, signal).await.map_err(Failure::runtime)?;
    Ok(ExitCode::from(match (outcome.end, caught.get()) {
        (Ending::Interrupted, Some(signal)) => shutdown::exit_code(signal),
        (Ending::Found, _) => EXIT_OK,
        (Ending::StartBroke, _) => EXIT_THRESHOLDS,
        (Ending::MaxHeld | Ending::GeneratorLimit | Ending::Interrupted, _) => EXIT_FAILURE,
    }))
}

/// `trafficgen compare`: exit 3 when a budget was exceeded.
fn compare(args: &CompareArgs) -> Result<ExitCode, Failure> {
    let comparison = crate::commands::compare::run(args).map_err(Failure::runtime)?;
    Ok(ExitCode::from(if comparison.passed() { EXIT_OK } else { EXIT_THRESHOLDS }))
}

/// `trafficgen report`: the HTML page written.
fn report(args: &ReportArgs) -> Result<ExitCode, Failure> {
    crate::commands::html::run(args).map_err(Failure::runtime)?;
    Ok(ExitCode::from(EXIT_OK))
}

/// `trafficgen merge`: judged as one run; exit 3 when a threshold failed on the merged result.
fn merge(args: &MergeArgs) -> Result<ExitCode, Failure> {
    match crate::commands::merge::run(args) {
        Ok(merged) => Ok(ExitCode::from(if merged.passed() { EXIT_OK } else { EXIT_THRESHOLDS })),
        Err(e @ MergeError::Invalid(_)) => Err(Failure::Config(Box::new(e))),
        Err(e) => Err(Failure::runtime(e)),
    }
}

/// A run a signal cut short exits 128 + the signal (its summary is printed, but it is no verdict);
/// otherwise the verdict decides.
fn verdict(summary: &Summary, caught: &Caught) -> ExitCode {
    match caught.get() {
        Some(signal) if summary.interrupted() => ExitCode::from(shutdown::exit_code(signal)),
        _ => ExitCode::from(if summary.passed() { EXIT_OK } else { EXIT_THRESHOLDS }),
    }
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
