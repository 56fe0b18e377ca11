//! The `sfmcp` command line. Each subcommand's arguments and behaviour live in the module
//! that owns them; this file only dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sfmcp::{audit, emulator, mcp, soql};

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
    /// Serve MCP on stdio against a local demo org (no Salesforce account needed).
    Demo(sfmcp::demo::DemoArgs),
    /// Serve MCP on stdio against a Salesforce org (settings from flags, SF_* or --config).
    Serve(mcp::cli::ServeArgs),
    /// Connect your own org: OAuth in the browser (PKCE), refresh token kept for `serve`.
    Login(sfmcp::salesforce::login::LoginArgs),
    /// List the tools with their schemas, as tools/list gives them.
    Tools(mcp::cli::ToolsArgs),
    /// Run one tool and print the text a model would read.
    Call(mcp::cli::CallArgs),
    /// Identity-gap audit: Salesforce access the identity provider does not know about.
    Audit(audit::cli::AuditArgs),
    /// Serve a local Salesforce org (REST, OAuth) on loopback for demos and tests.
    Emulator(emulator::cli::EmulatorArgs),
    /// Check SOQL queries offline: parse, print canonically, point at errors.
    Soql(soql::cli::SoqlArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    sfmcp::panic_report::install();
    match cli.command {
        Command::Demo(args) => block_on(sfmcp::demo::run(args)),
        Command::Serve(args) => block_on(mcp::cli::serve(args)),
        Command::Login(args) => block_on(sfmcp::salesforce::login::command(args)),
        Command::Tools(args) => mcp::cli::tools(args),
        Command::Call(args) => block_on(mcp::cli::call(args)),
        Command::Audit(args) => audit::cli::run(args),
        Command::Emulator(args) => emulator::cli::run(args),
        Command::Soql(args) => soql::cli::run(&args, sfmcp::demo::schema),
    }
}

/// Diagnostics go to stderr only: in stdio mode stdout is the MCP channel.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

fn block_on<F: std::future::Future<Output = ExitCode>>(future: F) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(e) => {
            eprintln!("sfmcp: the async runtime could not start: {e}");
            ExitCode::from(2)
        }
    }
}
