//! Protocol behaviour of `sfmcp serve` over stdio: the lifecycle with 2026-07-28 and
//! 2025-11-25 clients, progress from long calls, field-level security as the connected user
//! sees it, and the text budget of wide results.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::{Arc, Mutex};

use common::*;
use rmcp::model::{ClientConfig, ProgressNotificationParam, ProtocolVersion};
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, ClientLifecycleMode, RoleClient};
use serde_json::{Value, json};
use sfmcp_emulator::EmulatorHandle;

/// A client that records the progress notifications it receives.
#[derive(Clone, Default)]
struct Watcher {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Watcher {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

#[tokio::test]
async fn both_protocol_generations_negotiate_and_meet_sfmcp() {
    let emulator = demo_emulator().await;
    let env = org_env(&emulator.orgs[0]);
    for (lifecycle, version) in [
        (
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
            "2026-07-28",
        ),
        (ClientLifecycleMode::Initialize, "2025-11-25"),
    ] {
        let (client, stderr) = spawn_server_as(&env, &[], Watcher::default(), lifecycle).await;
        let info = client.peer_info().expect("server info");
        assert_eq!(info.protocol_version.to_string(), version);
        let server = info.server_info.clone().expect("server identity");
        assert_eq!(server.name, "sfmcp");
        assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
        let tools = client.list_all_tools().await.expect("tools/list");
        assert_eq!(
            tools.len(),
            sfmcp_mcp::toolsets::TOOLSET_OF.len(),
            "{version}"
        );
        let result = call(
            &client,
            "soql_query",
            json!({"query": "SELECT COUNT() FROM Account"}),
        )
        .await;
        assert!(!is_error(&result), "{version}: {}", text(&result));
        stop(client, stderr).await;
    }
}

#[tokio::test]
async fn long_queries_report_progress_to_clients_that_ask() {
    let contacts: Vec<Value> = (0..650)
        .map(|i| json!({"LastName": format!("C{i:03}"), "AccountId": "@big"}))
        .collect();
    let seed = json!({"records": {
        "Account": [{"_ref": "big", "Name": "Big Co"}],
        "Contact": contacts,
    }});
    let emulator = seeded_emulator(seed).await;
    let watcher = Watcher::default();
    let (client, stderr) = spawn_server_as(
        &org_env(&emulator.orgs[0]),
        &[],
        watcher.clone(),
        ClientLifecycleMode::Initialize,
    )
    .await;
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name, (SELECT LastName FROM Contacts) FROM Account", "max_rows": 10}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    // Child pages of 200: two more pages after the first (200 + 200 + 200 + 50).
    let seen: Vec<(f64, Option<String>)> = watcher
        .progress
        .lock()
        .unwrap()
        .iter()
        .map(|p| (p.progress, p.message.clone()))
        .collect();
    assert_eq!(
        seen.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        [200.0, 400.0, 600.0],
        "{seen:?}"
    );
    assert_eq!(
        seen[0].1.as_deref(),
        Some("200 rows fetched; fetching more child rows")
    );

    // A single-page answer sends none.
    watcher.progress.lock().unwrap().clear();
    let small = call(
        &client,
        "soql_query",
        json!({"query": "SELECT LastName FROM Contact LIMIT 5"}),
    )
    .await;
    assert!(!is_error(&small));
    assert!(watcher.progress.lock().unwrap().is_empty());
    stop(client, stderr).await;
}

/// An org where the Support profile cannot see `Account.AnnualRevenue`.
fn fls_seed() -> Value {
    json!({
        "profiles": [
            {"name": "Support", "permissions": ["ApiEnabled"], "hidden_fields": ["Account.AnnualRevenue"]},
        ],
        "users": [
            {"username": "admin@acme.test", "profile": "System Administrator", "default": true},
            {"username": "support@acme.test", "profile": "Support"},
        ],
        "records": {
            "Account": [{"Name": "Acme", "AnnualRevenue": 5000000, "Industry": "Media"}],
        }
    })
}

/// An access token for `username`, and the environment `sfmcp serve` needs to use it.
async fn env_for(emulator: &EmulatorHandle, username: &str) -> Vec<(&'static str, String)> {
    let org = &emulator.orgs[0];
    let url = format!(
        "{}/services/data/v62.0/query?q=SELECT+Id+FROM+User+WHERE+Username+%3D+%27{}%27",
        org.instance_url,
        username.replace('@', "%40")
    );
    let body: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(&org.access_token)
        .send()
        .await
        .expect("user query")
        .json()
        .await
        .expect("JSON");
    let user_id = body["records"][0]["Id"].as_str().expect("user id");
    let state = emulator.state();
    let client_id = state.orgs[0].app.client_id.clone();
    let scopes = vec!["api".to_string()];
    let token = state.issue_access_token(0, user_id, &client_id, &scopes).0;
    vec![
        ("SF_INSTANCE_URL", org.instance_url.clone()),
        ("SF_ACCESS_TOKEN", token),
    ]
}

#[tokio::test]
async fn fields_hidden_by_field_level_security_stay_hidden_and_are_explained() {
    let emulator = seeded_emulator(fls_seed()).await;
    let env = env_for(&emulator, "support@acme.test").await;
    let (client, stderr) = spawn_server(&env, &[]).await;

    let query = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name, AnnualRevenue FROM Account"}),
    )
    .await;
    assert!(is_error(&query));
    let shown = text(&query);
    assert!(
        shown.starts_with("INVALID_FIELD: No such column 'AnnualRevenue' on entity 'Account'."),
        "{shown}"
    );
    assert!(shown.contains("field-level security"), "{shown}");

    let describe = call(&client, "describe_object", json!({"object": "Account"})).await;
    assert!(!is_error(&describe), "{}", text(&describe));
    assert!(text(&describe).contains("Industry"), "{}", text(&describe));
    assert!(
        !text(&describe).contains("AnnualRevenue"),
        "{}",
        text(&describe)
    );

    let visible = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id, Name FROM Account"}),
    )
    .await;
    let id = structured(&visible)["records"][0]["Id"]
        .as_str()
        .expect("id")
        .to_string();
    let record = call(&client, "get_record", json!({"id": id})).await;
    assert!(!is_error(&record), "{}", text(&record));
    assert!(
        text(&record).contains("\"Name\":\"Acme"),
        "{}",
        text(&record)
    );
    assert!(
        !text(&record).contains("AnnualRevenue"),
        "{}",
        text(&record)
    );
    assert!(structured(&record).get("AnnualRevenue").is_none());
    stop(client, stderr).await;

    // The administrator sees it: the field exists, it is the profile that hides it.
    let (admin, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let query = call(
        &admin,
        "soql_query",
        json!({"query": "SELECT Name, AnnualRevenue FROM Account"}),
    )
    .await;
    assert!(!is_error(&query), "{}", text(&query));
    stop(admin, stderr).await;
}

#[tokio::test]
async fn wide_rows_stay_within_the_text_budget_and_continue_by_cursor() {
    // About 700 bytes of text a row: 200 rows (the default budget) are over 64 KB.
    let description = "Long text. ".repeat(3_000);
    let street = "1 Very Long Street Name, Building ".repeat(6);
    let accounts: Vec<Value> = (0..300)
        .map(|i| {
            json!({"Name": format!("Account {i:03}"), "Description": description,
                   "BillingStreet": street, "ShippingStreet": street})
        })
        .collect();
    let emulator = seeded_emulator(json!({"records": {"Account": accounts}})).await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let mut names = Vec::new();
    let mut result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name, Description, BillingStreet, ShippingStreet FROM Account ORDER BY Name"}),
    )
    .await;
    let mut answers = 0;
    loop {
        assert!(!is_error(&result), "{}", text(&result));
        answers += 1;
        let shown = text(&result);
        assert!(shown.len() <= 66 * 1024, "{} bytes", shown.len());
        let body = structured(&result);
        let records = body["records"].as_array().cloned().unwrap_or_default();
        // Every returned row is in the text, cut at 160 characters a cell.
        for record in &records {
            let name = record["Name"].as_str().unwrap_or_default();
            assert!(shown.contains(name), "{name} missing from the text");
            assert_eq!(
                record["Description"].as_str().map(str::len),
                Some(description.len()),
                "structured content keeps whole values"
            );
            names.push(name.to_string());
        }
        assert!(shown.contains("…[+"), "long cells say what was cut");
        let Some(cursor) = body["cursor"].as_str().map(str::to_string) else {
            break;
        };
        result = call(&client, "query_more", json!({ "cursor": cursor })).await;
    }
    assert!(answers > 1, "300 wide rows do not fit one answer's text");
    let expected: Vec<String> = (0..300).map(|i| format!("Account {i:03}")).collect();
    assert_eq!(names, expected, "every row once, in order");
    stop(client, stderr).await;
}
