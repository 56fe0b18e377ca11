//! The model-facing contract, snapshotted: every tool's description and schemas as
//! `tools/list` sends them (by default, read-only, and with an object allow-list),
//! `prompts/list`, `resources/list`, the resource templates, and the server's instructions.
//! A change to any of them shows up as a snapshot diff in review (`cargo insta review`).
//!
//! The server is driven with bare JSON-RPC lines over an in-memory pipe, so what is snapshotted
//! is exactly what a client receives, not a client library's reading of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rmcp::ServiceExt;
use serde_json::{Value, json};
use sfmcp_mcp::{Policy, SfServer};

use crate::common::offline_state;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A bare JSON-RPC session: one request per line, one answer per line.
struct Session {
    writer: tokio::io::WriteHalf<tokio::io::DuplexStream>,
    reader: BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>,
    next_id: u64,
}

impl Session {
    async fn start(policy: Policy) -> (Session, Value) {
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let server = SfServer::new(offline_state(policy));
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let (reader, writer) = tokio::io::split(client_io);
        let mut session = Session {
            writer,
            reader: BufReader::new(reader),
            next_id: 0,
        };
        let initialized = session
            .request(
                "initialize",
                json!({
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "contract-test", "version": "1"}
                }),
            )
            .await;
        session
            .send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        (session, initialized)
    }

    async fn send(&mut self, message: Value) {
        let mut line = serde_json::to_vec(&message).expect("json");
        line.push(b'\n');
        self.writer.write_all(&line).await.expect("write");
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let mut line = String::new();
            let read = self.reader.read_line(&mut line).await.expect("read");
            assert!(
                read > 0,
                "the server closed the pipe before answering {method}"
            );
            let message: Value = serde_json::from_str(&line).expect("a JSON-RPC line");
            if message["id"] == json!(id) {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
        }
    }
}

async fn tools(policy: Policy) -> Value {
    let (mut session, _) = Session::start(policy).await;
    session.request("tools/list", json!({})).await
}

#[tokio::test]
async fn tools_list() {
    insta::assert_json_snapshot!("tools_list", tools(Policy::default()).await);
}

#[tokio::test]
async fn tools_list_read_only() {
    let policy = Policy {
        read_only: true,
        ..Policy::default()
    };
    insta::assert_json_snapshot!("tools_list_read_only", tools(policy).await);
}

/// Every toolset chosen: the contract of the tools a default server does not list.
#[tokio::test]
async fn tools_list_every_toolset() {
    let policy = Policy {
        toolsets: sfmcp_mcp::toolsets::Toolsets::all(),
        ..Policy::default()
    };
    insta::assert_json_snapshot!("tools_list_every_toolset", tools(policy).await);
}

#[tokio::test]
async fn tools_list_with_an_object_allow_list() {
    let policy = Policy {
        allow_objects: vec!["Account".into(), "Contact".into()],
        ..Policy::default()
    };
    insta::assert_json_snapshot!("tools_list_allow_objects", tools(policy).await);
}

#[tokio::test]
async fn prompts_resources_and_instructions() {
    let (mut session, mut initialized) = Session::start(Policy::default()).await;
    // The version moves with every release; the rest of the identity is contract.
    initialized["serverInfo"]["version"] = json!("[version]");
    insta::assert_json_snapshot!("initialize", initialized);
    let prompts = session.request("prompts/list", json!({})).await;
    insta::assert_json_snapshot!("prompts_list", prompts);
    let resources = session.request("resources/list", json!({})).await;
    insta::assert_json_snapshot!("resources_list", resources);
    let templates = session.request("resources/templates/list", json!({})).await;
    insta::assert_json_snapshot!("resource_templates_list", templates);
}
