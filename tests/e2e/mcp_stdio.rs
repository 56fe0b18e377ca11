//! The real path: rmcp's client → `sfmcp serve` over stdio → our HTTP client → the emulator
//! on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::HashSet;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn tools_answer_from_the_org_and_link_back_to_it() {
    let emulator = demo_emulator().await;
    let org = emulator.orgs[0].clone();
    let (client, stderr) = spawn_server(&org_env(&org), &[]).await;

    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id, Name, StageName, Account.Name FROM Opportunity WHERE IsClosed = false ORDER BY Amount DESC LIMIT 5"}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    let shown = text(&result);
    assert!(shown.starts_with("Opportunity: rows 1-5 of 5\n"), "{shown}");
    assert!(
        shown.contains("<data untrusted>\n[\"Id\",\"Name\",\"StageName\",\"Account.Name\"]\n"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("record URL: {}/lightning/r/", org.instance_url)),
        "{shown}"
    );
    let records = structured(&result)["records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(records.len(), 5);
    let first = &records[0];
    let id = first["Id"].as_str().expect("Id").to_string();
    assert_eq!(
        first["url"],
        json!(format!(
            "{}/lightning/r/Opportunity/{id}/view",
            org.instance_url
        ))
    );
    assert!(first["Account"]["Name"].is_string());

    let record = call(&client, "get_record", json!({"id": id})).await;
    assert!(!is_error(&record), "{}", text(&record));
    assert!(
        text(&record).contains(&format!("Opportunity {id}: ")),
        "{}",
        text(&record)
    );

    let urls = call(&client, "record_url", json!({"ids": [id]})).await;
    assert!(text(&urls).contains(&format!("/lightning/r/Opportunity/{id}/view")));

    let describe = call(&client, "describe_object", json!({"object": "opportunity"})).await;
    assert!(
        text(&describe).contains("StageName [Stage] picklist req: Prospecting|"),
        "{}",
        text(&describe)
    );

    let objects = call(&client, "list_objects", json!({"match": "contact"})).await;
    assert!(
        text(&objects).contains("Contact [Contact] q c u"),
        "{}",
        text(&objects)
    );

    let aggregate = call(
        &client,
        "soql_query",
        json!({"query": "SELECT StageName, COUNT(Id) n FROM Opportunity GROUP BY StageName ORDER BY StageName"}),
    )
    .await;
    assert!(
        text(&aggregate).contains("[\"StageName\",\"n\"]\n"),
        "{}",
        text(&aggregate)
    );

    let limits = call(&client, "org_limits", json!({})).await;
    assert!(
        text(&limits).contains("DailyApiRequests: "),
        "{}",
        text(&limits)
    );

    stop(client, stderr).await;
}

#[tokio::test]
async fn a_wrong_field_costs_no_api_call_and_says_what_was_meant() {
    let emulator = demo_emulator().await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name, Industy FROM Account"}),
    )
    .await;
    assert!(is_error(&result));
    let shown = text(&result);
    assert!(
        shown.starts_with("INVALID_FIELD: No such column 'Industy' on entity 'Account'."),
        "{shown}"
    );
    assert!(shown.contains("did you mean: Industry"), "{shown}");
    assert!(
        shown.contains("             ^"),
        "a caret under the field: {shown}"
    );
    let queries = requests(&emulator)
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/query")))
        .count();
    assert_eq!(queries, 0, "the query must not reach Salesforce");

    let bad_id = call(&client, "get_record", json!({"id": "001notvalid"})).await;
    assert!(is_error(&bad_id));
    assert!(text(&bad_id).contains("15 or 18"), "{}", text(&bad_id));

    let malformed = call(&client, "soql_query", json!({"query": "SELECT Name FROM"})).await;
    assert!(
        text(&malformed).starts_with("MALFORMED_QUERY: "),
        "{}",
        text(&malformed)
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn five_thousand_rows_page_through_cursors_without_loss() {
    let emulator = seeded_emulator(leads_seed(5_200)).await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let mut ids = HashSet::new();
    let mut result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id, LastName FROM Lead ORDER BY LastName", "max_rows": 2000}),
    )
    .await;
    let mut pages = 0;
    loop {
        assert!(!is_error(&result), "{}", text(&result));
        pages += 1;
        let body = structured(&result);
        assert_eq!(body["totalSize"], json!(5_200));
        for record in body["records"].as_array().cloned().unwrap_or_default() {
            assert!(ids.insert(record["Id"].as_str().unwrap_or_default().to_string()));
        }
        let Some(cursor) = body["cursor"].as_str().map(str::to_string) else {
            break;
        };
        assert!(text(&result).contains("call query_more with cursor"));
        result = call(&client, "query_more", json!({ "cursor": cursor })).await;
    }
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 5_200, "every row exactly once");

    // A budget smaller than Salesforce's smallest page still continues at the next row.
    let small = call(
        &client,
        "soql_query",
        json!({"query": "SELECT LastName FROM Lead ORDER BY LastName", "max_rows": 3}),
    )
    .await;
    let cursor = structured(&small)["cursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    let next = call(&client, "query_more", json!({ "cursor": cursor })).await;
    let first_of_next = structured(&next)["records"][0]["LastName"].clone();
    assert_eq!(first_of_next, json!("Lead 00003"));

    let forged = call(
        &client,
        "query_more",
        json!({"cursor": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
    )
    .await;
    assert!(is_error(&forged));
    assert!(
        text(&forged).contains("not one this server issued"),
        "{}",
        text(&forged)
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn child_rows_are_fetched_across_their_pages() {
    let contacts: Vec<Value> = (0..450)
        .map(|i| json!({"LastName": format!("C{i:03}"), "AccountId": "@big"}))
        .collect();
    let seed = json!({"records": {
        "Account": [{"_ref": "big", "Name": "Big Co"}, {"Name": "Empty Co"}],
        "Contact": contacts,
    }});
    let emulator = seeded_emulator(seed).await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name, (SELECT LastName FROM Contacts) FROM Account ORDER BY Name", "max_rows": 10}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    let body = structured(&result);
    let children = body["records"][0]["Contacts"]["records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(children.len(), 450, "every child, not just the first page");
    assert_eq!(body["records"][1]["Contacts"], Value::Null);
    assert!(
        text(&result).contains("  Contacts (450):\n  [\"LastName\"]\n"),
        "{}",
        text(&result)
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn an_expired_token_is_refreshed_mid_session() {
    let emulator = demo_emulator().await;
    let org = emulator.orgs[0].clone();
    let (client, stderr) = spawn_server(&org_env(&org), &[]).await;
    let query = json!({"query": "SELECT COUNT() FROM Account"});
    let before = call(&client, "soql_query", query.clone()).await;
    assert!(!is_error(&before), "{}", text(&before));
    assert!(emulator.expire_access_tokens() > 0);
    let after = call(&client, "soql_query", query).await;
    assert!(!is_error(&after), "{}", text(&after));
    assert_eq!(
        structured(&before)["totalSize"],
        structured(&after)["totalSize"]
    );
    let log = requests(&emulator).await;
    let refreshed = log
        .iter()
        .any(|r| r["path"] == json!("/services/oauth2/token") && r["status"] == json!(200));
    assert!(refreshed, "a refresh-token grant was used");
    let unauthorized = log.iter().filter(|r| r["status"] == json!(401)).count();
    assert_eq!(unauthorized, 1, "one 401, then the refreshed token");

    let trace = stop(client, stderr).await;
    for secret in [&org.access_token, &org.refresh_token, &org.client_secret] {
        assert!(!trace.contains(secret.as_str()), "a secret reached stderr");
    }
}

#[tokio::test]
async fn writes_are_checked_previewed_and_reported_and_nothing_deletes() {
    let emulator = demo_emulator().await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;

    let bad = call(
        &client,
        "create_record",
        json!({"object": "Lead", "fields": {"Company": "Acme", "Statsu": "x"}}),
    )
    .await;
    assert!(is_error(&bad));
    let shown = text(&bad);
    assert!(
        shown.contains("INVALID_FIELD: No such column 'Statsu'"),
        "{shown}"
    );
    assert!(
        shown.contains("REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]"),
        "{shown}"
    );

    let preview = call(
        &client,
        "create_record",
        json!({"object": "lead", "fields": {"lastname": "Ng", "Company": "Acme"}, "dry_run": true}),
    )
    .await;
    assert!(
        text(&preview).contains("POST /sobjects/Lead"),
        "{}",
        text(&preview)
    );
    let posts_before = count(&emulator, "POST", "/sobjects/").await;
    assert_eq!(posts_before, 0, "a dry run sends nothing");

    let created = call(
        &client,
        "create_record",
        json!({"object": "Lead", "fields": {"LastName": "Ng", "Company": "Acme"}}),
    )
    .await;
    assert!(!is_error(&created), "{}", text(&created));
    let id = structured(&created)["id"].as_str().expect("id").to_string();
    assert!(
        structured(&created)["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/Lead/{id}/view")))
    );

    let updated = call(
        &client,
        "update_record",
        json!({"object": "Lead", "id": id, "fields": {"Company": "Acme Corp"}}),
    )
    .await;
    assert!(!is_error(&updated), "{}", text(&updated));
    assert!(
        text(&updated).contains("Company: \"Acme\" → \"Acme Corp\""),
        "{}",
        text(&updated)
    );

    // Adversarial: nothing any tool does sends a DELETE.
    for args in [
        json!({"query": "DELETE FROM Lead"}),
        json!({"query": format!("SELECT Id FROM Lead WHERE Id = '{id}'; DELETE")}),
    ] {
        assert!(is_error(&call(&client, "soql_query", args).await));
    }
    let tools = client.list_all_tools().await.expect("tools");
    assert!(tools.iter().all(|t| !t.name.contains("delete")));
    let deletes = requests(&emulator)
        .await
        .into_iter()
        .filter(|r| r["method"] == json!("DELETE"))
        .count();
    assert_eq!(deletes, 0);
    assert_eq!(
        count(&emulator, "POST", "/sobjects/").await,
        1,
        "exactly one create"
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn read_only_servers_refuse_writes_and_hide_the_tools() {
    let emulator = demo_emulator().await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &["--read-only"]).await;
    let tools = client.list_all_tools().await.expect("tools");
    assert!(
        tools
            .iter()
            .all(|t| t.name != "create_record" && t.name != "update_record")
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn unreachable_salesforce_says_which_setting_to_fix() {
    let env = vec![
        ("SF_INSTANCE_URL", "http://127.0.0.1:9".to_string()),
        ("SF_ACCESS_TOKEN", "00Dxx!nothing-listens".to_string()),
    ];
    let (client, stderr) = spawn_server(&env, &[]).await;
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id FROM Account"}),
    )
    .await;
    assert!(is_error(&result));
    assert!(
        text(&result).contains("Check SF_INSTANCE_URL"),
        "{}",
        text(&result)
    );
    stop(client, stderr).await;
}

async fn count(emulator: &sfmcp_emulator::EmulatorHandle, method: &str, path_part: &str) -> usize {
    requests(emulator)
        .await
        .into_iter()
        .filter(|r| r["method"] == json!(method))
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains(path_part)))
        .count()
}

#[tokio::test]
async fn resources_prompts_and_completions_serve_the_schema() {
    use rmcp::model::{
        ArgumentInfo, CompleteRequestParams, GetPromptRequestParams, ReadResourceRequestParams,
        Reference,
    };
    let emulator = demo_emulator().await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let templates = client
        .list_all_resource_templates()
        .await
        .expect("templates");
    assert_eq!(templates[0].uri_template, "salesforce://objects/{name}");
    let read = client
        .read_resource(ReadResourceRequestParams::new(
            "salesforce://objects/Account",
        ))
        .await
        .expect("read");
    let body = serde_json::to_string(&read).expect("json");
    assert!(
        body.contains("Name [Account Name] string(255) req"),
        "{body}"
    );
    let missing = client
        .read_resource(ReadResourceRequestParams::new("salesforce://nothing"))
        .await;
    assert!(missing.is_err(), "an unknown resource is a protocol error");

    let completion = client
        .complete(CompleteRequestParams::new(
            Reference::for_resource("salesforce://objects/{name}"),
            ArgumentInfo::new("name", "Opp"),
        ))
        .await
        .expect("complete");
    let values = &completion.completion.values;
    assert!(values.iter().any(|v| v == "Opportunity"), "{values:?}");
    assert!(values.iter().all(|v| v.starts_with("Opp")), "{values:?}");

    let prompts = client.list_all_prompts().await.expect("prompts");
    let mut names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["access_review", "account_brief", "pipeline_review"]);
    let arguments = json!({"account": "O'Brien"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let brief = client
        .get_prompt(GetPromptRequestParams::new("account_brief").with_arguments(arguments))
        .await
        .expect("prompt");
    let brief = serde_json::to_string(&brief).expect("json");
    assert!(brief.contains(r"LIKE '%O\\'Brien%'"), "{brief}");
    stop(client, stderr).await;
}

#[tokio::test]
async fn sosl_search_finds_records_across_objects_as_the_user() {
    let emulator = demo_emulator().await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let result = call(
        &client,
        "sosl_search",
        json!({"text": "aperture", "objects": ["Account", "Opportunity"], "limit": 50}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    let records = structured(&result)["records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!records.is_empty());
    for record in &records {
        let name = record["Name"].as_str().unwrap_or_default().to_lowercase();
        assert!(name.contains("aperture"), "{record}");
        assert!(
            record["url"]
                .as_str()
                .is_some_and(|u| u.contains("/lightning/r/"))
        );
    }
    assert!(text(&result).contains("Account:\n"), "{}", text(&result));
    let quote = call(&client, "sosl_search", json!({"text": "x' OR Name != '"})).await;
    assert!(!is_error(&quote), "{}", text(&quote));
    assert!(
        text(&quote).starts_with("0 records found"),
        "{}",
        text(&quote)
    );
    stop(client, stderr).await;
}

/// Node-based hosts (libuv) hand a server a socket pair, not pipes, as stdin and stdout: the
/// server's non-blocking pipe transport does not apply, and the plain handles must serve.
#[tokio::test]
async fn stdio_on_a_socket_pair_serves_like_pipes() {
    use std::os::fd::OwnedFd;
    use std::process::Stdio;

    use common::capture;
    use tokio::io::AsyncReadExt;

    let emulator = seeded_emulator(leads_seed(250)).await;
    let org = emulator.orgs[0].clone();
    let process = capture::process_name("serve-socket-pair");
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().expect("socket pair");
    let theirs_too = theirs.try_clone().expect("socket clone");
    let mut child = serve_command(&org_env(&org), &[])
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::from(OwnedFd::from(theirs_too)))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sfmcp spawns");
    let mut stderr = capture::Tee::new(child.stderr.take().expect("stderr"), &process, "stderr");
    let stderr = tokio::spawn(async move {
        let mut out = String::new();
        let _ = stderr.read_to_string(&mut out).await;
        out
    });
    ours.set_nonblocking(true).expect("non-blocking socket");
    let socket = tokio::net::UnixStream::from_std(ours).expect("tokio socket");
    let (read, write) = socket.into_split();
    let read = capture::Tee::new(read, &process, "stdout");
    let client = rmcp::ServiceExt::serve((), (read, write))
        .await
        .expect("MCP session over a socket pair");

    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.iter().any(|t| t.name == "soql_query"));
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id, LastName FROM Lead ORDER BY LastName", "max_rows": 200}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    assert_eq!(structured(&result)["returned"], json!(200));
    assert!(
        text(&result).starts_with("Lead: rows 1-200 of 250\n"),
        "{}",
        text(&result)
    );

    client.cancel().await.expect("session ends");
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("the server exits when the client goes")
        .expect("exit status");
    let stderr = stderr.await.unwrap_or_default();
    assert!(status.success(), "{status}: {stderr}");
}

#[tokio::test]
async fn every_result_warns_once_the_orgs_api_usage_is_past_the_warning_share() {
    let emulator = sfmcp_emulator::Emulator::start(sfmcp_emulator::EmulatorConfig {
        daily_api_limit: 100,
        ..sfmcp_emulator::EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_USAGE_WARN_PERCENT", "1".into()));
    let (client, _stderr) = spawn_server(&env, &[]).await;
    let warning = "warning: Salesforce API usage is at";
    let query = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id FROM Account LIMIT 1"}),
    )
    .await;
    assert!(!is_error(&query), "{}", text(&query));
    assert!(text(&query).contains(warning), "{}", text(&query));
    let describe = call(&client, "describe_object", json!({"object": "Account"})).await;
    assert!(text(&describe).contains(warning), "{}", text(&describe));
    let refused = call(&client, "get_record", json!({"id": "nope"})).await;
    assert!(is_error(&refused));
    assert!(text(&refused).contains(warning), "{}", text(&refused));
    // org_limits said it already: once is enough.
    let limits = call(&client, "org_limits", json!({})).await;
    assert_eq!(
        text(&limits).matches(warning).count(),
        1,
        "{}",
        text(&limits)
    );
}

#[tokio::test]
async fn the_row_budget_caps_an_answer_that_fits_one_salesforce_page() {
    let emulator = demo_emulator().await;
    let (client, _stderr) = spawn_server(&org_env(&emulator.orgs[0]), &["--max-rows", "5"]).await;
    let mut result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id FROM Contact ORDER BY Id LIMIT 150", "max_rows": 3}),
    )
    .await;
    let mut ids = Vec::new();
    loop {
        assert!(!is_error(&result), "{}", text(&result));
        let body = structured(&result);
        let rows = body["records"].as_array().expect("records");
        assert!(rows.len() <= 3, "{} rows: {}", rows.len(), text(&result));
        ids.extend(
            rows.iter()
                .map(|r| r["Id"].as_str().expect("Id").to_string()),
        );
        let Some(cursor) = body["cursor"].as_str() else {
            break;
        };
        result = call(&client, "query_more", json!({ "cursor": cursor })).await;
    }
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 150);
    assert_eq!(unique.len(), 150);
}
