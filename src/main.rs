//! The `sfmcp` command line: parses the arguments, starts the one async runtime, and hands
//! each subcommand to its module under `cli/`.

mod cli;
mod panic_report;
mod settings;

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
    /// Serve MCP on stdio against a local demo org (no Salesforce account needed).
    #[cfg(feature = "demo")]
    Demo(cli::demo::DemoArgs),
    /// Serve MCP on stdio against a Salesforce org (settings from flags, SF_* or --config).
    Serve(cli::serve::ServeArgs),
    /// Connect your own org: OAuth in the browser (PKCE), refresh token kept for `serve`.
    Login(cli::login::LoginArgs),
    /// List the tools with their schemas, as tools/list gives them.
    Tools(cli::tools::ToolsArgs),
    /// Run one tool and print the text a model would read.
    Call(cli::call::CallArgs),
    /// Identity-gap audit: Salesforce access the identity provider does not know about.
    Audit(cli::audit::AuditArgs),
    /// Serve a local Salesforce org (REST, OAuth) on loopback for demos and tests.
    #[cfg(feature = "demo")]
    Emulator(cli::emulator::EmulatorArgs),
    /// Check SOQL queries offline: parse, print canonically, point at errors.
    Soql(cli::soql::SoqlArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    panic_report::install();
    // Commands that need no I/O run without a runtime: `tools` and `soql` answer at once.
    match cli.command {
        Command::Tools(args) => return cli::tools::run(args),
        Command::Soql(args) => return cli::soql::run(&args),
        _ => {}
    }
    let mut builder = if serves_one_client(&cli.command) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return cli::fail(&format!("the async runtime could not start: {e}")),
    };
    runtime.block_on(async move {
        match cli.command {
            #[cfg(feature = "demo")]
            Command::Demo(args) => cli::demo::run(args).await,
            Command::Serve(args) => cli::serve::serve(args).await,
            Command::Login(args) => cli::login::command(args).await,
            Command::Call(args) => cli::call::run(args).await,
            Command::Audit(args) => cli::audit::run(args).await,
            #[cfg(feature = "demo")]
            Command::Emulator(args) => cli::emulator::run(args).await,
            Command::Tools(args) => cli::tools::run(args),
            Command::Soql(args) => cli::soql::run(&args),
        }
    })
}

/// Whether a command serves one client (stdio, a single call, a login): then every task runs
/// on the main thread. A second worker cost each call the hand-offs between threads: side by
/// side, two workers added 0.06-0.13 ms more to a 200-row call (0.02-0.04 ms to a 1-row one)
/// and a sixth more CPU than one thread (tools/README.md, session 10). Calls in flight together
/// still overlap while they wait on Salesforce; only their CPU work (about 0.2 ms for 200 rows)
/// takes turns. Servers many clients share (`serve --http`, the emulator) get tokio's worker
/// per core.
fn serves_one_client(command: &Command) -> bool {
    match command {
        Command::Serve(args) => args.http.http.is_none(),
        #[cfg(feature = "demo")]
        Command::Emulator(_) => false,
        _ => true,
    }
}

/// Diagnostics go to stderr only: in stdio mode stdout is the MCP channel.
///
/// rmcp logs whole requests and results at debug and trace (tool arguments, the records a
/// tool returned): personal data, which must not reach a log. Its events stop at info, whatever
/// RUST_LOG asks; sfmcp's own events never carry record values.
fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer, filter};

    let wanted = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let no_payloads = filter::filter_fn(|metadata| {
        !(metadata.target().starts_with("rmcp") && *metadata.level() > tracing::Level::INFO)
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_filter(wanted)
        .with_filter(no_payloads);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
