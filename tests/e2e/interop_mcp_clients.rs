//! MCP clients nobody here wrote drive the real binary in front of the emulator's demo org:
//! the MCP Inspector CLI (tools/list, a tool call) and the official Python SDK's client
//! (initialize, tools/list, soql_query), each over stdio and over Streamable HTTP. The rows
//! they show are checked against the emulator's own REST answer to the same query: over
//! stdio from the text of the default answer form, over HTTP from the structured content too.
//! `make test` installs both (tools/setup-test-env runs tools/setup/mcp-clients.sh).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use sfmcp_emulator::{EmulatorHandle, OrgCredentials};
use tokio::process::Child;

// Not the demo's injection corpus (its names are hostile on purpose; hostile_input.rs).
const QUERY: &str = "SELECT Name FROM Account WHERE Name LIKE 'Acme%' AND (NOT Name LIKE '%<%') ORDER BY Name LIMIT 3";

/// The tools a default (read-write) server offers: the contract every client sees.
const TOOLS: [&str; 21] = [
    "audit_findings",
    "audit_rules",
    "audit_run",
    "create_record",
    "create_records",
    "describe_object",
    "get_record",
    "list_objects",
    "list_reports",
    "list_views",
    "org_limits",
    "query_more",
    "record_url",
    "run_report",
    "soql_query",
    "sosl_search",
    "update_record",
    "update_records",
    "upsert_record",
    "upsert_records",
    "whoami",
];

/// The Python client: connects with the SDK's `Client` (a URL means Streamable HTTP, the
/// stdio parameters spawn the server), negotiating as `mode` says ("legacy" is the
/// initialize handshake; "auto" is the SDK's default, which probes newer protocol versions
/// first), and prints one JSON line of what it saw.
const PYTHON_CLIENT: &str = r#"
import asyncio, json, os, sys
from mcp import Client
from mcp.client.stdio import StdioServerParameters

async def main(transport, target, mode, query):
    if transport == "stdio":
        env = {k: v for k, v in os.environ.items() if k.startswith("SF_")}
        server = StdioServerParameters(command=target, args=["serve"], env=env)
    else:
        server = target
    async with Client(server, mode=mode) as client:
        info = client.server_info
        tools = await client.list_tools()
        result = await client.call_tool("soql_query", {"query": query})
        print(json.dumps({
            "protocol_version": client.protocol_version,
            "server_name": info.name if info else None,
            "tools": sorted(t.name for t in tools.tools),
            "is_error": result.is_error,
            "structured": result.structured_content,
            "text": "\n".join(c.text for c in result.content if c.type == "text"),
        }))

asyncio.run(main(*sys.argv[1:5]))
"#;

fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-env/venv/bin/python");
    assert!(
        python.exists(),
        "the Python MCP SDK is not installed: run `bash tools/setup-test-env` (make test does)"
    );
    python
}

fn inspector_build_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-env/mcp-clients/node_modules/@modelcontextprotocol/inspector-cli/build");
    assert!(
        dir.join("index.js").exists(),
        "the MCP Inspector CLI is not installed: run `bash tools/setup-test-env` (make test does)"
    );
    dir
}

/// `sfmcp serve --http 127.0.0.1:0` against `org`, with the default toolsets as the stdio
/// clients' servers have; the child and the URL it printed.
async fn serve_http(org: &OrgCredentials) -> (Child, String) {
    let default = sfmcp_mcp::toolsets::Toolsets::DEFAULT.names().join(",");
    common::spawn_http(common::org_env(org), &["--toolsets", &default]).await
}

/// The account names the emulator itself returns for [`QUERY`], over its REST API.
async fn expected_names(emulator: &EmulatorHandle) -> Vec<String> {
    let org = &emulator.orgs[0];
    let body: Value = reqwest::Client::new()
        .get(format!(
            "{}/services/data/v{}/query",
            org.instance_url, emulator.api_version
        ))
        .query(&[("q", QUERY)])
        .bearer_auth(&org.access_token)
        .send()
        .await
        .expect("emulator answers")
        .json()
        .await
        .expect("query JSON");
    let names = record_names(&body);
    assert_eq!(names.len(), 3, "the demo org has at least three accounts");
    names
}

/// Names from the fenced table of a query's text: the header row names the columns, the
/// rows follow, each a JSON array.
fn text_names(text: &str) -> Vec<String> {
    let mut rows = text
        .split('\n')
        .skip_while(|line| *line != "<data untrusted>")
        .skip(1)
        .take_while(|line| *line != "</data>")
        .map(|line| serde_json::from_str::<Vec<Value>>(line).expect("a row is a JSON array"));
    let header = rows.next().expect("a header row");
    let at = header
        .iter()
        .position(|c| c == "Name")
        .expect("a Name column");
    rows.filter_map(|row| row[at].as_str().map(str::to_string))
        .collect()
}

/// What a client showed of a query: the structured content's rows from a server in the
/// `both` answer form (the suite's HTTP servers, [`common::capture::env`]); over stdio the
/// client spawns the server with the default, text-only form, so there is no structured
/// content and the text alone carries the rows.
fn shown_names(transport: &str, structured: &Value, text: &str, context: &str) -> Vec<String> {
    if transport == "stdio" {
        assert!(structured.is_null(), "{context}: {structured}");
        text_names(text)
    } else {
        record_names(structured)
    }
}

/// Names from a REST body's records, or from a query's columnar structured content.
fn record_names(result: &Value) -> Vec<String> {
    if let Some(columns) = result["columns"].as_array() {
        let at = columns.iter().position(|c| c == "Name");
        return result["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|row| at.and_then(|i| row[i].as_str()).map(str::to_string))
            .collect();
    }
    result["records"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r["Name"].as_str().map(str::to_string))
        .collect()
}

fn tool_names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["tools"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// Runs the Inspector CLI with `args`; its JSON output. It runs from its own build
/// directory: it finds its package.json relative to the working directory.
async fn inspector(org: &OrgCredentials, args: &[&str]) -> Value {
    let dir = inspector_build_dir();
    let node = dir.join("../../../.bin/node");
    let output = tokio::process::Command::new(node)
        .arg("index.js")
        .args(args)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(common::org_env(org))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs");
    // What it printed is the tool results (and, over stdio, the server's stderr).
    common::capture::record_output("inspector-client", &output);
    assert!(
        output.status.success(),
        "inspector {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "inspector {args:?} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspector_cli_lists_tools_and_runs_a_query_over_stdio_and_http() {
    let emulator = common::demo_emulator().await;
    let org = &emulator.orgs[0];
    let expected = expected_names(&emulator).await;
    let (mut server, url) = serve_http(org).await;
    let binary = env!("CARGO_BIN_EXE_sfmcp");
    let query_arg = format!("query={QUERY}");
    let targets: [(&str, Vec<&str>); 2] = [
        ("stdio", vec![binary, "serve", "--transport", "stdio"]),
        ("http", vec![url.as_str(), "--transport", "http"]),
    ];
    for (transport, target) in &targets {
        let mut list = target.clone();
        list.extend(["--method", "tools/list"]);
        let listed = inspector(org, &list).await;
        assert_eq!(tool_names(&listed), TOOLS, "{transport}");
        assert!(
            listed["tools"]
                .as_array()
                .expect("tools")
                .iter()
                .all(|t| t["inputSchema"]["type"] == "object"),
            "{transport}: every tool has an object input schema"
        );

        let mut call = target.clone();
        call.extend([
            "--method",
            "tools/call",
            "--tool-name",
            "soql_query",
            "--tool-arg",
            &query_arg,
        ]);
        let result = inspector(org, &call).await;
        assert_eq!(result["isError"], false, "{transport}: {result}");
        let text = result["content"][0]["text"].as_str().expect("text content");
        assert_eq!(
            shown_names(transport, &result["structuredContent"], text, transport),
            expected,
            "{transport}"
        );
        for name in &expected {
            assert!(text.contains(name.as_str()), "{transport}: {text}");
        }
    }
    let _ = server.start_kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_initializes_lists_and_queries_over_stdio_and_http() {
    let python = python();
    let emulator = common::demo_emulator().await;
    let org = &emulator.orgs[0];
    let expected = expected_names(&emulator).await;
    let (mut server, url) = serve_http(org).await;
    let binary = env!("CARGO_BIN_EXE_sfmcp");
    for (transport, target) in [("stdio", binary), ("http", url.as_str())] {
        for mode in ["legacy", "auto"] {
            let output = tokio::process::Command::new(&python)
                .args(["-c", PYTHON_CLIENT, transport, target, mode, QUERY])
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .envs(common::org_env(org))
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output()
                .await
                .expect("python runs");
            common::capture::record_output("python-sdk-client", &output);
            let context = format!("{transport}, mode {mode}");
            assert!(
                output.status.success(),
                "{context}: the Python client failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let seen: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
                panic!(
                    "{context}: no JSON line ({e}): {}",
                    String::from_utf8_lossy(&output.stdout)
                )
            });
            assert_eq!(seen["server_name"], "sfmcp", "{context}");
            if mode == "legacy" {
                assert_eq!(
                    seen["protocol_version"], "2025-11-25",
                    "{context}: the initialize handshake agrees on the newest handshake version"
                );
            }
            let tools: Vec<&str> = seen["tools"]
                .as_array()
                .expect("tools")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(tools, TOOLS, "{context}");
            assert_eq!(seen["is_error"], false, "{context}: {seen}");
            let text = seen["text"].as_str().expect("text content");
            assert_eq!(
                shown_names(transport, &seen["structured"], text, &context),
                expected,
                "{context}"
            );
            assert_eq!(
                text_names(text),
                expected,
                "{context}: the text carries the rows"
            );
            if transport != "stdio" {
                assert_eq!(seen["structured"]["returned"], 3, "{context}");
            }
        }
    }
    let _ = server.start_kill();
}
