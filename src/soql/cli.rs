//! `sfmcp soql ...`: SOQL tools on the command line.

use std::io::Read;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{ParseOptions, parse_with};

#[derive(Debug, Args)]
pub struct SoqlArgs {
    #[command(subcommand)]
    pub command: SoqlCommand,
}

#[derive(Debug, Subcommand)]
pub enum SoqlCommand {
    /// Parse a query: print its canonical form and exit 0, or show the error under the
    /// offending token and exit 1.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The SOQL query, or `-` to read it from standard input.
    pub query: String,
    /// Accept Apex bind variables (`:name`), as Apex does. The REST API rejects them.
    #[arg(long)]
    pub allow_apex_binds: bool,
}

pub fn run(args: &SoqlArgs) -> ExitCode {
    match &args.command {
        SoqlCommand::Check(check) => run_check(check),
    }
}

fn run_check(args: &CheckArgs) -> ExitCode {
    let query = if args.query == "-" {
        let mut text = String::new();
        if let Err(error) = std::io::stdin().read_to_string(&mut text) {
            eprintln!("could not read the query from standard input: {error}");
            return ExitCode::FAILURE;
        }
        text
    } else {
        args.query.clone()
    };
    let options = ParseOptions {
        allow_apex_binds: args.allow_apex_binds,
        ..ParseOptions::default()
    };
    match parse_with(&query, &options) {
        Ok(parsed) => {
            println!("{parsed}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}", error.render(&query));
            ExitCode::FAILURE
        }
    }
}
