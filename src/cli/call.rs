//! `sfmcp call TOOL JSON`: one tool call through a real MCP session held in memory; prints
//! the text the model would read. Exit 1 when the tool reports an error.

use std::process::ExitCode;
use std::sync::Arc;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use sfmcp_audit::sanitize::printable_lines;
use sfmcp_mcp::{ServerState, SfServer};

use super::fail;
use super::serve::{PolicyArgs, server_state};
use crate::settings::ConnectionSettings;

#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// The tool's name, as `sfmcp tools` lists it.
    pub tool: String,
    /// The arguments as a JSON object, e.g. '{"query": "SELECT Name FROM Account LIMIT 5"}'.
    #[arg(default_value = "{}")]
    pub arguments: String,
    #[command(flatten)]
    pub connection: ConnectionSettings,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// `sfmcp call TOOL JSON`: one tool call through a real MCP session held in memory; prints
/// the text the model would read. Exit 1 when the tool reports an error.
pub async fn run(args: CallArgs) -> ExitCode {
    let arguments = match serde_json::from_str::<serde_json::Value>(&args.arguments) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => {
            return fail("the arguments must be a JSON object, e.g. '{\"object\": \"Account\"}'");
        }
        Err(e) => return fail(&format!("the arguments are not valid JSON: {e}")),
    };
    let state = match server_state(&args.connection, &args.policy) {
        Ok(state) => state,
        Err(message) => return fail(&message),
    };
    call_tool(state, &args.tool, arguments).await
}

async fn call_tool(
    state: Arc<ServerState>,
    tool: &str,
    arguments: serde_json::Map<String, serde_json::Value>,
) -> ExitCode {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = SfServer::new(state);
    let server_task = tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = match ().serve(client_io).await {
        Ok(client) => client,
        Err(e) => return fail(&format!("the in-process MCP session failed: {e}")),
    };
    let request = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
    let outcome = client.call_tool(request).await;
    let _ = client.cancel().await;
    server_task.abort();
    match outcome {
        Ok(result) => {
            for content in &result.content {
                if let Some(text) = content.as_text() {
                    // Tool text quotes record values any Salesforce user wrote: their escape
                    // sequences must not reach the operator's terminal.
                    println!("{}", printable_lines(text.text.trim_end()));
                }
            }
            if result.is_error == Some(true) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => fail(&format!(
            "{tool}: {e} (`sfmcp tools` lists the tools and their arguments)"
        )),
    }
}
