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
    /// Identity-gap audit: Salesforce access the identity provider does not know about.
    Audit(sfmcp::audit::cli::AuditArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Audit(args) => sfmcp::audit::cli::run(args),
    }
}
