//! `tools/list` is the contract with the model, and it is paid in every conversation: names,
//! annotations, the server's identity, and the byte budget per tool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rmcp::ServiceExt;
use rmcp::model::Tool;
use sfmcp_mcp::{Policy, SfServer};

use crate::common::offline_state;

/// Every byte of tools/list is paid in every conversation.
const MAX_BYTES_PER_TOOL: usize = 400;

async fn list(policy: Policy) -> (Vec<Tool>, rmcp::model::Implementation) {
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = SfServer::new(offline_state(policy));
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.expect("client connects");
    let tools = client.list_all_tools().await.expect("tools/list");
    let info = client
        .peer_info()
        .and_then(|p| p.server_info.clone())
        .expect("server info");
    let _ = client.cancel().await;
    (tools, info)
}

#[tokio::test]
async fn every_tool_is_listed_within_its_byte_budget() {
    let (tools, info) = list(Policy::default()).await;
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "audit_findings",
            "audit_rules",
            "audit_run",
            "create_record",
            "describe_object",
            "get_record",
            "list_objects",
            "list_views",
            "org_limits",
            "query_more",
            "recent_items",
            "record_history",
            "record_url",
            "soql_query",
            "sosl_search",
            "update_record",
            "whoami",
        ]
    );
    assert_eq!(info.name, "sfmcp");
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let mut total = 0;
    let mut over = Vec::new();
    for tool in &tools {
        let text = serde_json::to_string(tool).expect("serializes");
        total += text.len();
        if text.len() > MAX_BYTES_PER_TOOL {
            over.push(format!("{} bytes: {text}", text.len()));
        }
        let annotations = tool.annotations.as_ref().expect("annotations");
        assert!(
            tool.output_schema.is_some(),
            "{} has no output schema",
            tool.name
        );
        assert!(
            !serde_json::to_string(&tool.input_schema)
                .unwrap_or_default()
                .contains("$schema"),
            "{} keeps generator noise",
            tool.name
        );
        let writes = ["create_record", "update_record"].contains(&tool.name.as_ref());
        if writes {
            assert_ne!(annotations.read_only_hint, Some(true), "{}", tool.name);
            assert_eq!(annotations.destructive_hint, Some(false), "{}", tool.name);
        } else {
            assert_eq!(annotations.read_only_hint, Some(true), "{}", tool.name);
        }
    }
    assert!(
        over.is_empty(),
        "over {MAX_BYTES_PER_TOOL} bytes:\n{}",
        over.join("\n")
    );
    eprintln!("tools/list: {} tools, {total} bytes", tools.len());
}

#[tokio::test]
async fn read_only_servers_offer_no_write_tools() {
    let (tools, _) = list(Policy {
        read_only: true,
        ..Policy::default()
    })
    .await;
    assert_eq!(tools.len(), 15);
    assert!(
        tools
            .iter()
            .all(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true))
    );
}
