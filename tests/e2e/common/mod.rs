//! End-to-end plumbing: an emulator on 127.0.0.1, the real `sfmcp` binary spawned as an MCP
//! server over stdio, and rmcp's client driving it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::sync::Arc;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, RoleClient};
use serde_json::{Value, json};
use sfmcp_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, OrgCredentials, OrgSource, SeedFileText,
};
use tokio::io::AsyncReadExt;

pub mod capture;

pub type Client = RunningService<RoleClient, ()>;

/// Server state for an org that is never called: tools/list, prompts and resources need no
/// connection.
pub fn offline_state(policy: sfmcp_mcp::Policy) -> Arc<sfmcp_mcp::ServerState> {
    use sfmcp_salesforce::{
        ClientContext, ClientOptions, Connection, DirectCredential, SalesforceClient, Secret,
    };
    let instance = url::Url::parse("https://acme.my.salesforce.com").expect("url");
    let connection = Connection::direct(
        Some(instance.clone()),
        DirectCredential::AccessToken {
            access_token: Secret::new("00Dxx!unused"),
            login_url: instance,
            client: None,
        },
    );
    let context = ClientContext::new(ClientOptions::default()).expect("context");
    let client = SalesforceClient::new(context, connection).expect("client");
    Arc::new(sfmcp_mcp::ServerState {
        connections: sfmcp_mcp::Connections::Single(client),
        policy,
        cursor_key: sfmcp_mcp::cursor::CursorKey::random(),
        audit: Default::default(),
    })
}

pub async fn demo_emulator() -> EmulatorHandle {
    Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts")
}

pub async fn seeded_emulator(seed: Value) -> EmulatorHandle {
    let config = EmulatorConfig {
        orgs: vec![OrgSource::Seed(Arc::new(SeedFileText {
            path: "test seed".into(),
            text: seed.to_string(),
        }))],
        ..EmulatorConfig::default()
    };
    Emulator::start(config).await.expect("emulator starts")
}

/// The environment `sfmcp serve` reads for a refresh-token connection to `org`.
pub fn org_env(org: &OrgCredentials) -> Vec<(&'static str, String)> {
    vec![
        ("SF_INSTANCE_URL", org.instance_url.clone()),
        ("SF_LOGIN_URL", org.login_url.clone()),
        ("SF_ACCESS_TOKEN", org.access_token.clone()),
        ("SF_REFRESH_TOKEN", org.refresh_token.clone()),
        ("SF_CLIENT_ID", org.client_id.clone()),
        ("SF_CLIENT_SECRET", org.client_secret.clone()),
    ]
}

/// What the server wrote on stderr, read as it comes so a full pipe never blocks it.
pub struct Stderr(tokio::task::JoinHandle<String>);

/// Spawns `sfmcp serve` with exactly `env` (plus PATH) and connects rmcp's client to it.
/// Its stderr (trace level) is kept, to check what the server wrote.
pub async fn spawn_server(env: &[(&str, String)], args: &[&str]) -> (Client, Stderr) {
    spawn_server_as(env, args, (), ClientLifecycleMode::Initialize).await
}

/// [`spawn_server`] with a client of our own (capabilities, answers to elicitation, progress
/// it records) and a lifecycle: `Initialize` negotiates 2025-11-25, `Discover` 2026-07-28.
/// Everything the server writes on stdout and stderr also goes to the [`capture`].
pub async fn spawn_server_as<H: ClientHandler>(
    env: &[(&str, String)],
    args: &[&str],
    handler: H,
    lifecycle: ClientLifecycleMode,
) -> (RunningService<RoleClient, H>, Stderr) {
    let process = capture::process_name("serve-stdio");
    let mut child = serve_command(env, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sfmcp spawns");
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = capture::Tee::new(
        child.stdout.take().expect("stdout is piped"),
        &process,
        "stdout",
    );
    let mut stderr = capture::Tee::new(
        child.stderr.take().expect("stderr is piped"),
        &process,
        "stderr",
    );
    // The reader owns the child: it lives until the server has closed stderr (it exits when
    // the session ends), or until the runtime drops the task, which kills it.
    let reader = tokio::spawn(async move {
        let mut out = String::new();
        let _ = stderr.read_to_string(&mut out).await;
        let _ = child.wait().await;
        out
    });
    let client = handler
        .serve_with_lifecycle((stdout, stdin), lifecycle)
        .await
        .expect("MCP session starts");
    (client, Stderr(reader))
}

/// `sfmcp serve ARGS` with exactly `env` (plus PATH and the [`capture`]'s log filter), its
/// secrets noted for the sweep; the caller chooses its stdio.
pub fn serve_command(env: &[(&str, String)], args: &[&str]) -> tokio::process::Command {
    capture::secrets_in_env(env.iter().map(|(k, v)| (k, v)));
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(capture::env())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .arg("serve")
        .args(args);
    command
}

pub async fn call<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .inspect(capture::tool_result)
        .unwrap_or_else(|e| panic!("{tool} call failed at the protocol level: {e}"))
}

pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

/// The structured content; a query's columnar form (`columns`, `rows`) also decoded into
/// `records` as a program reading it would: one object per row, parents nested by their
/// dotted paths, children under `{"records": [...]}`, and each record's link (`url`) from
/// the one template. Tests then read records by field name.
pub fn structured(result: &CallToolResult) -> Value {
    let mut value = result.structured_content.clone().unwrap_or(Value::Null);
    if let (Some(columns), Some(rows)) = (value.get("columns"), value.get("rows")) {
        let records = decode_rows(
            columns,
            rows,
            value.get("ids"),
            value.get("children"),
            value.get("recordUrl").and_then(Value::as_str),
        );
        value["records"] = Value::Array(records);
    }
    value
}

fn decode_rows(
    columns: &Value,
    rows: &Value,
    ids: Option<&Value>,
    children: Option<&Value>,
    template: Option<&str>,
) -> Vec<Value> {
    let columns: Vec<String> = serde_json::from_value(columns.clone()).unwrap_or_default();
    let rows = rows.as_array().cloned().unwrap_or_default();
    rows.iter()
        .map(|row| {
            let mut record = serde_json::Map::new();
            for (i, column) in columns.iter().enumerate() {
                let cell = row.get(i).cloned().unwrap_or(Value::Null);
                if let Some(spec) = children.and_then(|c| c.get(column)) {
                    let nested = if cell.is_null() {
                        Value::Null
                    } else {
                        let records =
                            decode_rows(&spec["columns"], &cell, spec.get("ids"), None, template);
                        json!({"totalSize": records.len(), "done": true, "records": records})
                    };
                    record.insert(column.clone(), nested);
                    continue;
                }
                let path: Vec<&str> = column.split('.').collect();
                let mut at = &mut record;
                for parent in &path[..path.len() - 1] {
                    let entry = at.entry(parent.to_string()).or_insert_with(|| json!({}));
                    if !entry.is_object() {
                        *entry = json!({});
                    }
                    at = entry.as_object_mut().expect("an object");
                }
                at.insert(path[path.len() - 1].to_string(), cell.clone());
                let object = ids.and_then(|ids| ids.get(column)).and_then(Value::as_str);
                if let (Some(object), Some(template), Some(id)) = (object, template, cell.as_str())
                {
                    let url = template.replace("{object}", object).replace("{id}", id);
                    at.insert("url".into(), Value::String(url));
                }
            }
            // A parent whose every field is null was a null parent.
            for value in record.values_mut() {
                if value
                    .as_object()
                    .is_some_and(|o| !o.contains_key("records") && o.values().all(Value::is_null))
                {
                    *value = Value::Null;
                }
            }
            Value::Object(record)
        })
        .collect()
}

/// The emulator's request log: method, path, status of every request it served.
pub async fn requests(emulator: &EmulatorHandle) -> Vec<Value> {
    let url = format!("{}/__emulator/requests", emulator.base_url);
    let body: Value = reqwest::get(url)
        .await
        .expect("request log")
        .json()
        .await
        .expect("request log is JSON");
    match body {
        Value::Array(entries) => entries,
        Value::Object(mut map) => match map.remove("requests") {
            Some(Value::Array(entries)) => entries,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Ends the session (the server exits when stdin closes) and returns all it wrote on stderr.
pub async fn stop<H: ClientHandler>(
    client: RunningService<RoleClient, H>,
    stderr: Stderr,
) -> String {
    let _ = client.cancel().await;
    tokio::time::timeout(std::time::Duration::from_secs(10), stderr.0)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
}

/// A seed with `n` leads, for paging tests.
pub fn leads_seed(n: usize) -> Value {
    let leads: Vec<Value> = (0..n)
        .map(|i| json!({"LastName": format!("Lead {i:05}"), "Company": format!("Company {}", i % 97)}))
        .collect();
    json!({ "records": { "Lead": leads } })
}

/// Spawns `sfmcp serve --http 127.0.0.1:0 ARGS` with exactly `env` (plus PATH and the
/// [`capture`]'s verbose log filter) and returns the child and the MCP URL it announces on
/// stderr. Its stdout and stderr go to the capture; warnings and errors are also echoed.
pub async fn spawn_http<K, V>(
    env: impl IntoIterator<Item = (K, V)>,
    args: &[&str],
) -> (tokio::process::Child, String)
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    use tokio::io::{AsyncBufReadExt, BufReader};
    let env: Vec<(K, V)> = env.into_iter().collect();
    capture::secrets_in_env(env.iter().map(|(k, v)| (k, v)));
    let process = capture::process_name("serve-http");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(capture::env())
        .envs(env)
        .args(["serve", "--http", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(capture::stdio(&process, "stdout"))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sfmcp spawns");
    let stderr = capture::Tee::new(child.stderr.take().expect("stderr"), &process, "stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("sfmcp: serving MCP on ") {
                return rest.split_whitespace().next().map(str::to_string);
            }
            echo_if_notable(&line);
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the server prints its address");
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            echo_if_notable(&line);
        }
    });
    (child, url)
}

/// Shows a server's warnings and errors in the test's output (shown when it fails); the
/// trace is in the capture.
fn echo_if_notable(line: &str) {
    if ![" TRACE ", " DEBUG ", " INFO "]
        .iter()
        .any(|level| line.contains(level))
    {
        eprintln!("sfmcp: {line}");
    }
}

/// A Debian package's program the suite drives (`tools/system-packages.txt`), wherever PATH or
/// the system directories have it; a clear failure, never a skip, when it is missing.
pub fn system_binary(name: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/bin"].map(std::path::PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed: run tools/setup-system-deps (as root, or with sudo) to install the Debian packages in tools/system-packages.txt"
            )
        })
}
