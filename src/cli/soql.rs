//! `sfmcp soql ...`: SOQL tools on the command line.

use std::io::Read;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use sfmcp_soql::{ParseOptions, parse_with};

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
    /// Also validate against the demo org's schema (its standard objects and fields), as
    /// the server does against a real org before sending a query.
    #[arg(long)]
    pub demo: bool,
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
    let parsed = match parse_with(&query, &options) {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("{}", error.render(&query));
            return ExitCode::FAILURE;
        }
    };
    if args.demo {
        #[cfg(not(feature = "demo"))]
        {
            eprintln!(
                "--demo needs the demo org, which this build leaves out: build sfmcp with its default features"
            );
            return ExitCode::from(2);
        }
        #[cfg(feature = "demo")]
        match sfmcp_soql::validate::validate(&parsed, super::demo::schema().as_ref()) {
            Ok(_) => {}
            Err(sfmcp_soql::validate::ValidateError::Invalid(error)) => {
                eprintln!("{}", error.render(&query));
                return ExitCode::FAILURE;
            }
            // The demo schema holds every object it knows: nothing is fetched later.
            Err(sfmcp_soql::validate::ValidateError::NeedsDescribe(object)) => {
                eprintln!("the demo org has no describe of {object}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{parsed}");
    ExitCode::SUCCESS
}
