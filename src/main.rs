//! The `trafficgen` binary: the library's [`trafficgen::commands::main`] is the whole program.

use std::process::ExitCode;

fn main() -> ExitCode {
    trafficgen::commands::main()
}
