//! The `trafficgen` binary: parse, run, map the outcome to an exit code a Job understands.

use std::process::ExitCode;

use trafficgen::config::{self, ConfigError, Format};

/// Thresholds held.
const EXIT_OK: u8 = 0;
/// A runtime failure that is not the target's (e.g. metrics port taken).
const EXIT_FAILURE: u8 = 1;
/// Invalid configuration; nothing was sent.
const EXIT_CONFIG: u8 = 2;
/// Thresholds failed.
const EXIT_THRESHOLDS: u8 = 3;

fn main() -> ExitCode {
    let matches = trafficgen::cli::command().get_matches();
    let Some(run) = trafficgen::cli::run_matches(&matches) else { unreachable!("every subcommand is handled above") };
    let layered = trafficgen::cli::layer(run, std::env::vars()).map_err(|e| ConfigError::Usage(e.to_string()));
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let plan = match layered.as_ref().map_err(Clone::clone).and_then(config::Plan::from_layered) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("trafficgen: {e}");
            // Even a bad config must not leave a sidecar keeping the Job's pod alive.
            let mesh = layered.ok().and_then(|l| l.raw.mesh_shutdown).and_then(|m| config::parse_mesh(&m));
            runtime.block_on(trafficgen::cluster::quit_sidecar(&mesh.unwrap_or(config::Mesh::Auto)));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    init_logging(plan.log_format);
    match runtime.block_on(trafficgen::run(plan, trafficgen::shutdown::signals())) {
        Ok(summary) if summary.passed => ExitCode::from(EXIT_OK),
        Ok(_) => ExitCode::from(EXIT_THRESHOLDS),
        Err(e) => {
            eprintln!("trafficgen: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn init_logging(format: Format) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        Format::Json => builder.json().init(),
        Format::Text => builder.init(),
    }
}
