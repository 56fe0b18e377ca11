//! `tools/list` is the contract with the model, and it is paid in every conversation: names,
//! annotations, the server's identity, and the byte budget per tool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rmcp::ServiceExt;
use rmcp::model::Tool;
use sfmcp_mcp::toolsets::{TOOLSET_OF, Toolset, Toolsets};
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

fn every_toolset() -> Policy {
    Policy {
        toolsets: Toolsets::all(),
        ..Policy::default()
    }
}

async fn names(policy: Policy) -> Vec<String> {
    let (tools, _) = list(policy).await;
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort_unstable();
    names
}

#[tokio::test]
async fn the_default_toolsets_are_core_writes_reports_and_audit() {
    assert_eq!(
        names(Policy::default()).await,
        [
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
        ]
    );
}

/// Each group's tools are listed exactly when it is chosen, core always; and what each group
/// costs in every conversation is printed for the README's toolsets table.
#[tokio::test]
async fn each_toolset_lists_its_tools_only_when_chosen() {
    let core = names(Policy {
        toolsets: Toolsets::CORE,
        ..Policy::default()
    })
    .await;
    let core_only: Vec<&str> = TOOLSET_OF
        .iter()
        .filter(|(_, set)| *set == Toolset::Core)
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(core.len(), core_only.len(), "{core:?}");
    assert!(core.iter().all(|name| core_only.contains(&name.as_str())));
    for set in Toolset::ALL {
        let policy = Policy {
            toolsets: Toolsets::CORE.with(set),
            ..Policy::default()
        };
        let (tools, _) = list(policy).await;
        let mut bytes = 0;
        for tool in &tools {
            let group = sfmcp_mcp::toolsets::toolset_of(&tool.name);
            assert!(
                group == Toolset::Core || group == set,
                "{} ({group:?}) listed with only {set:?} chosen",
                tool.name
            );
            if group == set {
                bytes += serde_json::to_string(tool).expect("serializes").len();
            }
        }
        let members = TOOLSET_OF.iter().filter(|(_, s)| *s == set).count();
        assert_eq!(
            tools.len(),
            if set == Toolset::Core {
                members
            } else {
                core.len() + members
            },
            "{set:?}"
        );
        eprintln!("toolset {}: {members} tools, {bytes} bytes", set.name());
    }
}

#[tokio::test]
async fn every_tool_is_listed_within_its_byte_budget() {
    let (tools, info) = list(every_toolset()).await;
    assert_eq!(tools.len(), TOOLSET_OF.len());
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
        // The default answer form is the text alone: no tool declares an output schema.
        assert!(
            tool.output_schema.is_none(),
            "{} declares an output schema",
            tool.name
        );
        assert!(
            !serde_json::to_string(&tool.input_schema)
                .unwrap_or_default()
                .contains("$schema"),
            "{} keeps generator noise",
            tool.name
        );
        let writes = sfmcp_mcp::WRITE_TOOLS.contains(&tool.name.as_ref());
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
async fn with_both_answer_forms_every_tool_declares_its_output_schema_within_budget() {
    let (tools, _) = list(Policy {
        answer_form: sfmcp_mcp::render::AnswerForm::Both,
        ..every_toolset()
    })
    .await;
    assert_eq!(tools.len(), TOOLSET_OF.len());
    for tool in &tools {
        let schema = tool.output_schema.as_ref().expect("an output schema");
        assert_eq!(schema["type"], "object", "{}", tool.name);
        if ["soql_query", "query_more"].contains(&tool.name.as_ref()) {
            assert_eq!(schema["required"], serde_json::json!(["columns", "rows"]));
        }
        let bytes = serde_json::to_string(tool).expect("serializes").len();
        assert!(bytes <= MAX_BYTES_PER_TOOL, "{}: {bytes} bytes", tool.name);
    }
}

#[tokio::test]
async fn read_only_servers_offer_no_write_tools() {
    let (tools, _) = list(Policy {
        read_only: true,
        ..every_toolset()
    })
    .await;
    assert_eq!(
        tools.len(),
        TOOLSET_OF.len() - sfmcp_mcp::server::WRITE_TOOLS.len()
    );
    assert!(
        tools
            .iter()
            .all(|t| !sfmcp_mcp::WRITE_TOOLS.contains(&t.name.as_ref()))
    );
    assert!(
        tools
            .iter()
            .all(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true))
    );
}
