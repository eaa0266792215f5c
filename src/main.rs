//! The `trafficgen` binary: parse, run the command, exit with the code it maps to.

use std::process::ExitCode;

use trafficgen::commands::cli::{self, ParseError};
use trafficgen::commands::{self, Failure};

fn main() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    // Signal handlers need the runtime.
    let _entered = runtime.enter();
    let result = runtime.block_on(async {
        match cli::parse(std::env::args_os(), std::env::vars_os()).await {
            Ok(command) => commands::execute(command).await,
            Err(ParseError::Clap(e)) => e.exit(),
            Err(e) => Err(Failure::from(e)),
        }
    });
    result.unwrap_or_else(|e| {
        eprintln!("trafficgen: {e}");
        e.exit_code()
    })
}
