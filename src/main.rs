//! The `sfmcp` command line. Each subcommand's arguments and behaviour live in the module
//! that owns them; this file only dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "sfmcp",
    version,
    about = "Salesforce for AI assistants, over MCP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check SOQL queries offline: parse, print canonically, point at errors.
    Soql(sfmcp::soql::cli::SoqlArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Soql(args) => sfmcp::soql::cli::run(&args),
    }
}
