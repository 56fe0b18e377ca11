//! `--toolsets` / `SFMCP_TOOLSETS` through the real binary: a server offers the groups chosen
//! and core, a call to a tool it does not offer says why and what to set, and a wrong group
//! name stops the server before it starts, with the closest name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use crate::common::{demo_emulator, org_env, spawn_server, stop};
use rmcp::model::CallToolRequestParams;

#[tokio::test]
async fn a_server_offers_only_the_chosen_toolsets_and_says_why_a_tool_is_missing() {
    let emulator = demo_emulator().await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &["--toolsets", "core"]).await;
    let names: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools")
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(names.contains(&"soql_query".to_string()), "{names:?}");
    assert!(!names.contains(&"audit_run".to_string()), "{names:?}");
    assert!(!names.contains(&"create_record".to_string()), "{names:?}");

    let refused = |tool: &'static str| {
        let request = CallToolRequestParams::new(tool).with_arguments(
            json!({"object": "Account", "fields": {"Name": "x"}})
                .as_object()
                .cloned()
                .unwrap(),
        );
        let client = &client;
        async move {
            client
                .call_tool(request)
                .await
                .expect_err("a tool the server does not offer is a protocol error")
                .to_string()
        }
    };
    let audit = refused("audit_run").await;
    assert!(
        audit.contains("`audit` toolset") && audit.contains("--toolsets audit (SFMCP_TOOLSETS)"),
        "{audit}"
    );
    let write = refused("create_record").await;
    assert!(write.contains("--toolsets writes"), "{write}");
    let typo = refused("soql_qery").await;
    assert!(typo.contains("did you mean `soql_query`?"), "{typo}");

    // What the server still offers works as before.
    let answer = crate::common::call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id FROM Account LIMIT 1"}),
    )
    .await;
    assert!(!crate::common::is_error(&answer), "{answer:?}");
    stop(client, stderr).await;
}

#[tokio::test]
async fn read_only_says_so_when_a_write_tool_is_called() {
    let emulator = demo_emulator().await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &["--read-only"]).await;
    let error = client
        .call_tool(
            CallToolRequestParams::new("update_record").with_arguments(
                json!({"id": "001000000000001AAA", "fields": {"Name": "x"}})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        )
        .await
        .expect_err("no write tool on a read-only server")
        .to_string();
    assert!(
        error.contains("read-only (--read-only, SFMCP_READ_ONLY)"),
        "{error}"
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn a_wrong_toolset_name_stops_the_server_with_the_closest_name() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .env_clear()
        .env("SFMCP_TOOLSETS", "writes,report")
        .arg("tools")
        .output()
        .await
        .expect("sfmcp runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("there is no toolset `report`; did you mean `reports`?"),
        "{stderr}"
    );
}

#[tokio::test]
async fn sfmcp_tools_lists_what_the_chosen_toolsets_offer() {
    let list = |sets: &'static str| async move {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
            .env_clear()
            .args(["tools", "--toolsets", sets])
            .output()
            .await
            .expect("sfmcp runs");
        assert!(output.status.success(), "{output:?}");
        let tools: Vec<serde_json::Value> =
            serde_json::from_slice(&output.stdout).expect("a JSON list");
        tools
            .iter()
            .map(|t| t["name"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    let all = list("all").await;
    let core = list("core").await;
    assert_eq!(all.len(), sfmcp_mcp::toolsets::TOOLSET_OF.len());
    assert!(core.len() < all.len());
    assert!(all.contains(&"audit_run".to_string()));
    assert!(!core.contains(&"audit_run".to_string()));
}
