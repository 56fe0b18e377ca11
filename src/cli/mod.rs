//! One module per subcommand: its arguments (clap) and what it does. Each returns the
//! process's exit code; `main` only dispatches.

pub mod audit;
pub mod call;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "demo")]
pub mod emulator;
pub mod login;
pub mod serve;
pub mod soql;
pub mod tools;

use std::process::ExitCode;

/// A command that could not run: the message goes to stderr, the exit code is 2.
pub fn fail(message: &str) -> ExitCode {
    eprintln!("sfmcp: {message}");
    ExitCode::from(2)
}
