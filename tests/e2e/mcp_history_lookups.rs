//! Issue 17 item 5, lookups and recent items as SOQL, end to end: rmcp's client -> `sfmcp
//! serve` (stdio) -> our client -> the emulator.
//!
//! - A lookup change is two history rows in Salesforce (ids, and the names the UI shows);
//!   `record_history` shows it as one readable change with the ids beside it, as the
//!   emulator's own history rows hold it, and withholds the names when the lookup points
//!   at an object outside the allow-list.
//! - `SELECT … FROM RecentlyViewed` answers as the emulator's REST query does, and under an
//!   allow-list only rows about allowed objects leave the org (counts included).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{call, is_error, org_env, spawn_server, stop, structured, text};
use crate::emulator_common::{Client, start_demo};

async fn rows(rest: &Client, soql: &str) -> Vec<Value> {
    let reply = rest.query(soql).await;
    assert_eq!(reply.status, StatusCode::OK, "{soql}: {}", reply.body);
    reply.body["records"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_lookup_change_reads_as_names_with_the_ids_the_org_recorded() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    let opportunity = rows(
        &rest,
        "SELECT Id, AccountId, Account.Name FROM Opportunity WHERE AccountId != null ORDER BY Name LIMIT 1",
    )
    .await
    .remove(0);
    let id = opportunity["Id"].as_str().expect("id").to_string();
    // An account whose name reads plainly (the demo also holds hostile names, cut and
    // escaped in answers).
    let other = rows(
        &rest,
        &format!(
            "SELECT Id, Name FROM Account WHERE Id != '{}' ORDER BY Name LIMIT 50",
            opportunity["AccountId"].as_str().expect("account")
        ),
    )
    .await
    .into_iter()
    .find(|a| {
        a["Name"]
            .as_str()
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == ' '))
    })
    .expect("a plainly named account");

    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let moved = call(
        &client,
        "update_record",
        json!({"id": id, "fields": {"AccountId": other["Id"]}}),
    )
    .await;
    assert!(!is_error(&moved), "{}", text(&moved));

    // The org's own rows: two, one with the ids and one with the names.
    let recorded = rows(
        &rest,
        &format!(
            "SELECT DataType, OldValue, NewValue FROM OpportunityFieldHistory WHERE OpportunityId = '{id}' AND Field = 'Account' ORDER BY DataType"
        ),
    )
    .await;
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert_eq!(recorded[0]["DataType"], json!("EntityId"));
    assert_eq!(recorded[0]["OldValue"], opportunity["AccountId"]);
    assert_eq!(recorded[0]["NewValue"], other["Id"]);
    assert_eq!(recorded[1]["DataType"], json!("Text"));
    assert_eq!(recorded[1]["OldValue"], opportunity["Account"]["Name"]);
    assert_eq!(recorded[1]["NewValue"], other["Name"]);

    let answer = call(&client, "record_history", json!({"id": id})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let changes = structured(&answer)["changes"]
        .as_array()
        .cloned()
        .expect("changes");
    let lookup: Vec<&Value> = changes
        .iter()
        .filter(|c| c["field"] == json!("Account"))
        .collect();
    assert_eq!(lookup.len(), 1, "one change, not two rows: {changes:?}");
    assert_eq!(lookup[0]["old"], recorded[1]["OldValue"]);
    assert_eq!(lookup[0]["new"], recorded[1]["NewValue"]);
    assert_eq!(lookup[0]["oldId"], recorded[0]["OldValue"]);
    assert_eq!(lookup[0]["newId"], recorded[0]["NewValue"]);
    assert_eq!(lookup[0]["label"], json!("Account"));
    let words = text(&answer);
    let new_name = other["Name"].as_str().expect("name");
    assert!(words.contains(new_name), "{words}");
    stop(client, stderr).await;

    // Accounts are outside the allow-list: their names stay in the org; the ids (which the
    // opportunity's own AccountId shows anyway) stand for the change.
    let mut env = org_env(&emulator.orgs[0]);
    env.push((
        "SFMCP_ALLOW_OBJECTS",
        "Opportunity,OpportunityFieldHistory,User".into(),
    ));
    let (client, stderr) = spawn_server(&env, &[]).await;
    let answer = call(&client, "record_history", json!({"id": id})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let changes = structured(&answer)["changes"]
        .as_array()
        .cloned()
        .expect("changes");
    let lookup: Vec<&Value> = changes
        .iter()
        .filter(|c| c["field"] == json!("Account"))
        .collect();
    assert_eq!(lookup.len(), 1, "{changes:?}");
    assert_eq!(lookup[0]["old"], recorded[0]["OldValue"]);
    assert_eq!(lookup[0]["new"], recorded[0]["NewValue"]);
    let words = text(&answer);
    assert!(!words.contains(new_name), "{words}");
    assert!(
        !serde_json::to_string(&changes)
            .unwrap_or_default()
            .contains(new_name),
        "{changes:?}"
    );
    stop(client, stderr).await;

    // Over Streamable HTTP: the same one change.
    {
        use rmcp::ServiceExt;
        use rmcp::transport::StreamableHttpClientTransport;
        let (mut child, url) = crate::common::spawn_http(org_env(&emulator.orgs[0]), &[]).await;
        let http =
            ().serve(StreamableHttpClientTransport::from_uri(url))
                .await
                .expect("MCP session over HTTP");
        let answer = call(&http, "record_history", json!({"id": id})).await;
        assert!(!is_error(&answer), "{}", text(&answer));
        let changes = structured(&answer)["changes"].clone();
        let lookup: Vec<&Value> = changes
            .as_array()
            .expect("changes")
            .iter()
            .filter(|c| c["field"] == json!("Account"))
            .collect();
        assert_eq!(lookup.len(), 1, "{changes}");
        assert_eq!(lookup[0]["new"], recorded[1]["NewValue"]);
        assert_eq!(lookup[0]["newId"], recorded[0]["NewValue"]);
        let _ = http.cancel().await;
        let _ = child.kill().await;
    }

    // A denied lookup's rows stay in the org under either of its names.
    let (client, stderr) = spawn_server(
        &org_env(&emulator.orgs[0]),
        &["--deny-fields", "Opportunity.AccountId"],
    )
    .await;
    let answer = call(&client, "record_history", json!({"id": id})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let shown = structured(&answer)["changes"].clone();
    assert!(
        shown
            .as_array()
            .expect("changes")
            .iter()
            .all(|c| c["field"] != json!("Account")),
        "{shown}"
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn recently_viewed_answers_as_the_org_and_only_about_allowed_objects() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    for soql in [
        "SELECT Id FROM Account ORDER BY Name LIMIT 2 FOR VIEW",
        "SELECT Id FROM Contact ORDER BY Name LIMIT 2 FOR VIEW",
        "SELECT Id FROM Opportunity ORDER BY Name LIMIT 1 FOR REFERENCE",
    ] {
        let reply = rest.query(soql).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // The object holds what /recent lists, with its type and dates.
    let recent = rest.get("/recent").await.body;
    let soql = "SELECT Id, Name, Type, LastViewedDate, LastReferencedDate FROM RecentlyViewed ORDER BY LastReferencedDate DESC, Id";
    let own = rows(&rest, soql).await;
    assert_eq!(own.len(), 5, "{own:?}");
    let mut listed: Vec<&Value> = recent
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| &r["Id"])
        .collect();
    let mut queried: Vec<&Value> = own.iter().map(|r| &r["Id"]).collect();
    listed.sort_by_key(|v| v.to_string());
    queried.sort_by_key(|v| v.to_string());
    assert_eq!(listed, queried);
    let referenced = own
        .iter()
        .find(|r| r["Type"] == json!("Opportunity"))
        .expect("the referenced opportunity");
    assert_eq!(
        referenced["LastViewedDate"],
        Value::Null,
        "referenced, not viewed"
    );
    assert!(referenced["LastReferencedDate"].is_string());
    assert!(
        own.iter()
            .filter(|r| r["Type"] != json!("Opportunity"))
            .all(|r| r["LastViewedDate"].is_string())
    );

    // Through soql_query, unrestricted: the same rows.
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let answer = call(&client, "soql_query", json!({"query": soql})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let got: Vec<Value> = structured(&answer)["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["Id"].clone())
        .collect();
    let expected: Vec<Value> = own.iter().map(|r| r["Id"].clone()).collect();
    assert_eq!(got, expected);
    stop(client, stderr).await;

    // Under an allow-list: only the allowed objects' rows, counts included, and the
    // person fields of an object whose field is denied are refused.
    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_ALLOW_OBJECTS", "Account,RecentlyViewed".into()));
    env.push(("SFMCP_DENY_FIELDS", "Contact.Email".into()));
    let (client, stderr) = spawn_server(&env, &[]).await;
    let answer = call(&client, "soql_query", json!({"query": soql})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let records = structured(&answer)["records"].clone();
    let accounts: Vec<Value> = own
        .iter()
        .filter(|r| r["Type"] == json!("Account"))
        .map(|r| r["Id"].clone())
        .collect();
    let got: Vec<Value> = records
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["Id"].clone())
        .collect();
    assert_eq!(got, accounts, "{records}");
    let contact_name = own
        .iter()
        .find(|r| r["Type"] == json!("Contact"))
        .and_then(|r| r["Name"].as_str())
        .expect("a viewed contact");
    assert!(!text(&answer).contains(contact_name), "{}", text(&answer));
    let counted = call(
        &client,
        "soql_query",
        json!({"query": "SELECT COUNT() FROM RecentlyViewed WHERE Type != 'Account' OR Name != null"}),
    )
    .await;
    assert!(!is_error(&counted), "{}", text(&counted));
    assert_eq!(
        structured(&counted)["totalSize"],
        json!(2),
        "{}",
        text(&counted)
    );
    let refused = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name, Email FROM RecentlyViewed"}),
    )
    .await;
    // Over Streamable HTTP, the same confinement.
    {
        use rmcp::ServiceExt;
        use rmcp::transport::StreamableHttpClientTransport;
        let mut http_env = org_env(&emulator.orgs[0]);
        http_env.push(("SFMCP_ALLOW_OBJECTS", "Account,RecentlyViewed".into()));
        let (mut child, url) = crate::common::spawn_http(http_env, &[]).await;
        let http =
            ().serve(StreamableHttpClientTransport::from_uri(url))
                .await
                .expect("MCP session over HTTP");
        let answer = call(&http, "soql_query", json!({"query": soql})).await;
        assert!(!is_error(&answer), "{}", text(&answer));
        let got: Vec<Value> = structured(&answer)["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["Id"].clone())
            .collect();
        assert_eq!(got, accounts);
        let _ = http.cancel().await;
        let _ = child.kill().await;
    }
    assert!(is_error(&refused), "{}", text(&refused));
    assert!(
        text(&refused).contains("RecentlyViewed.Email"),
        "{}",
        text(&refused)
    );
    stop(client, stderr).await;
}
