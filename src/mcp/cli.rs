//! `sfmcp serve`, `sfmcp tools` and `sfmcp call`: the MCP server from the command line.

use std::process::ExitCode;
use std::sync::Arc;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;

use super::cursor::CursorKey;
use super::server::{Connections, Policy, ServerState, SfServer};
use crate::config::ConnectionSettings;
use crate::salesforce::SalesforceClient;
use crate::salesforce::client::ClientContext;

/// What tools may touch, from flags or the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct PolicyArgs {
    /// Offer no write tools (create_record, update_record).
    #[arg(long, env = "SFMCP_READ_ONLY")]
    pub read_only: bool,
    /// Only these objects may be queried or written (comma-separated API names).
    #[arg(
        long,
        env = "SFMCP_ALLOW_OBJECTS",
        value_delimiter = ',',
        value_name = "OBJECTS"
    )]
    pub allow_objects: Vec<String>,
    /// Fields no tool reads or writes: Object.Field, or Field for every object (comma-separated).
    #[arg(
        long,
        env = "SFMCP_DENY_FIELDS",
        value_delimiter = ',',
        value_name = "FIELDS"
    )]
    pub deny_fields: Vec<String>,
    /// Rows one query result returns at most (1 to 2000).
    #[arg(long, env = "SFMCP_MAX_ROWS", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=2000))]
    pub max_rows: u32,
    /// Key that seals query cursors (32 random bytes, base64); replicas behind one load
    /// balancer must share it. Default: a fresh key per process.
    #[arg(
        long,
        env = "SFMCP_CURSOR_KEY",
        hide_env_values = true,
        value_name = "BASE64"
    )]
    pub cursor_key: Option<String>,
    /// Ask the person to confirm every create and update before it is sent (through the MCP
    /// client: an input-required result, or elicitation); clients that can ask nobody get
    /// the preview and a refusal. Also `[policy] confirm_writes = true` in the --config file.
    #[arg(long, env = "SF_CONFIRM_WRITES")]
    pub confirm_writes: bool,
}

impl PolicyArgs {
    pub fn policy(&self) -> Policy {
        let clean = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Policy {
            read_only: self.read_only,
            allow_objects: clean(&self.allow_objects),
            deny_fields: clean(&self.deny_fields),
            max_rows: self.max_rows,
            confirm_writes: self.confirm_writes,
        }
    }

    /// The policy with what the `--config` file adds to it (`[policy] confirm_writes`).
    pub fn policy_with_file(&self, connection: &ConnectionSettings) -> Result<Policy, String> {
        let mut policy = self.policy();
        policy.confirm_writes |= connection
            .confirm_writes_in_file()
            .map_err(|e| e.to_string())?;
        Ok(policy)
    }

    pub fn cursor_key(&self) -> Result<CursorKey, String> {
        match self.cursor_key.as_deref().map(str::trim) {
            None | Some("") => Ok(CursorKey::random()),
            Some(text) => CursorKey::from_base64(text).map_err(|e| e.to_string()),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub connection: ConnectionSettings,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub http: super::http::HttpArgs,
}

#[derive(Debug, clap::Args)]
pub struct ToolsArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
}

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

/// Builds the shared server state, or says which setting is wrong. Nothing is sent to
/// Salesforce yet: connecting happens on the first tool call, so a server with an unreachable
/// org still starts and every tool explains what to fix.
pub fn server_state(
    connection_settings: &ConnectionSettings,
    policy: &PolicyArgs,
) -> Result<Arc<ServerState>, String> {
    let options = connection_settings
        .client_options()
        .map_err(|e| e.to_string())?;
    let connection = connection_settings.resolve().map_err(|e| e.to_string())?;
    let context = ClientContext::new(options).map_err(|e| e.to_string())?;
    let client = SalesforceClient::new(context, connection).map_err(|e| e.to_string())?;
    Ok(Arc::new(ServerState {
        connections: Connections::Single(client),
        policy: policy.policy_with_file(connection_settings)?,
        cursor_key: policy.cursor_key()?,
    }))
}

/// The state of a server that serves one org to every request.
pub fn single_org_state(
    client: SalesforceClient,
    policy: &PolicyArgs,
) -> Result<Arc<ServerState>, String> {
    Ok(Arc::new(ServerState {
        connections: Connections::Single(client),
        policy: policy.policy(),
        cursor_key: policy.cursor_key()?,
    }))
}

/// `sfmcp serve`: MCP over stdio (only protocol goes to stdout), or over HTTP with `--http`.
pub async fn serve(args: ServeArgs) -> ExitCode {
    if args.http.http.is_some() {
        return super::http::serve(args).await;
    }
    let state = match server_state(&args.connection, &args.policy) {
        Ok(state) => state,
        Err(message) => return fail(&message),
    };
    serve_stdio(state).await
}

pub async fn serve_stdio(state: Arc<ServerState>) -> ExitCode {
    // Clients launch stdio servers on pipes: driven by the reactor, each message costs no
    // hand-off to a blocking thread (tokio's stdin and stdout have one per read and write).
    // The pipes are reopened, so the non-blocking flag never reaches the process's own
    // stderr, which may share stdout's open file under `2>&1`. Other stdin or stdout kinds
    // (a file, a terminal) fall back to the blocking handles.
    let running = match SfServer::new(state)
        .serve(rmcp::transport::stdio_pipes())
        .await
    {
        Ok(running) => running,
        Err(e) => return fail(&format!("the MCP session could not start: {e}")),
    };
    match running.waiting().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("the MCP session ended with an error: {e}")),
    }
}

/// `sfmcp tools`: every tool with its schemas, as `tools/list` gives them, as JSON.
pub fn tools(args: ToolsArgs) -> ExitCode {
    let mut tools = SfServer::router(&args.policy.policy()).list_all();
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    match serde_json::to_string_pretty(&tools) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("the tool list could not be written: {e}")),
    }
}

/// `sfmcp call TOOL JSON`: one tool call through a real MCP session held in memory; prints
/// the text the model would read. Exit 1 when the tool reports an error.
pub async fn call(args: CallArgs) -> ExitCode {
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

pub async fn call_tool(
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
                    println!("{}", text.text.trim_end());
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

fn fail(message: &str) -> ExitCode {
    eprintln!("sfmcp: {message}");
    ExitCode::from(2)
}
