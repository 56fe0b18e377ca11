//! Issue 17, items 3 and 7, end to end: rmcp's client -> `sfmcp serve` (stdio) -> our client
//! -> the emulator. `soql_query` with `include_deleted` reads deleted rows through
//! `queryAll` and pages them with `query_more`, whether Salesforce gave a locator or the
//! cursor runs the query again; `list_views` lists an object's views and runs one through
//! soql_query's checked path, so the operator's policy covers what the view's query touches.
//! Each answer is compared with the emulator's own REST answer.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{call, is_error, org_env, requests, spawn_server, stop, structured, text};
use crate::emulator_common::{Client, start_seed};

fn ids(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .filter_map(|r| r["Id"].as_str().map(str::to_string))
        .collect()
}

/// Deletes through the emulator's REST API (sfmcp never can), returning the ids deleted.
async fn delete_where(rest: &Client, soql: &str) -> Vec<String> {
    let found = rest.query(soql).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let mut deleted = Vec::new();
    for record in found.body["records"].as_array().expect("records") {
        let id = record["Id"].as_str().expect("Id").to_string();
        let object = record["attributes"]["type"].as_str().expect("type");
        let reply = rest
            .send(
                rest.http
                    .delete(rest.data_url(&format!("/sobjects/{object}/{id}"))),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
        deleted.push(id);
    }
    deleted
}

/// Every row of a query_more chain, from a first answer.
async fn follow<H: rmcp::ClientHandler>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, H>,
    first: &Value,
) -> Vec<Value> {
    let mut rows: Vec<Value> = first["records"].as_array().cloned().unwrap_or_default();
    let mut cursor = first["cursor"].as_str().map(str::to_string);
    let mut pages = 0;
    while let Some(c) = cursor.take() {
        pages += 1;
        assert!(pages < 50, "query_more never ended");
        let next = call(client, "query_more", json!({"cursor": c})).await;
        assert!(!is_error(&next), "{}", text(&next));
        let next = structured(&next);
        rows.extend(next["records"].as_array().cloned().unwrap_or_default());
        cursor = next["cursor"].as_str().map(str::to_string);
    }
    rows
}

#[tokio::test]
async fn include_deleted_reads_the_recycle_bin_and_pages_it_both_ways() {
    let leads: Vec<Value> = (0..450)
        .map(|i| json!({"LastName": format!("Lead {i:03}"), "Company": "Acme"}))
        .collect();
    let accounts: Vec<Value> = (0..5)
        .map(|i| json!({"Name": format!("Acct {i}")}))
        .collect();
    let emulator = start_seed(json!({"records": {"Lead": leads, "Account": accounts}})).await;
    let rest = Client::for_org(&emulator, 0);
    let deleted_accounts = delete_where(
        &rest,
        "SELECT Id FROM Account WHERE Name IN ('Acct 1', 'Acct 3')",
    )
    .await;
    let deleted_leads = delete_where(
        &rest,
        "SELECT Id FROM Lead WHERE LastName IN ('Lead 010', 'Lead 250', 'Lead 449')",
    )
    .await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;

    // Without include_deleted, the recycle bin stays out.
    let live = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id, Name, IsDeleted FROM Account"}),
    )
    .await;
    assert!(!is_error(&live), "{}", text(&live));
    assert_eq!(structured(&live)["totalSize"], json!(3));

    // With it, a small answer served two rows at a time: the cursor has no Salesforce
    // locator, so query_more runs the query again, through queryAll again.
    let first = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id, Name, IsDeleted FROM Account ORDER BY Name",
               "include_deleted": true, "max_rows": 2}),
    )
    .await;
    assert!(!is_error(&first), "{}", text(&first));
    assert!(
        text(&first).contains("deleted and archived rows included"),
        "{}",
        text(&first)
    );
    let first = structured(&first);
    assert_eq!(first["totalSize"], json!(5));
    let rows = follow(&client, &first).await;
    let expected = rest
        .send(
            rest.http
                .get(rest.data_url("/queryAll"))
                .query(&[("q", "SELECT Id, Name, IsDeleted FROM Account ORDER BY Name")]),
        )
        .await;
    assert_eq!(expected.status, StatusCode::OK, "{}", expected.body);
    let expected_rows = expected.body["records"].as_array().expect("records");
    assert_eq!(rows.len(), 5);
    for (got, want) in rows.iter().zip(expected_rows) {
        assert_eq!(got["Id"], want["Id"]);
        assert_eq!(got["IsDeleted"], want["IsDeleted"]);
    }
    let flagged: Vec<String> = rows
        .iter()
        .filter(|r| r["IsDeleted"] == json!(true))
        .filter_map(|r| r["Id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        flagged.iter().collect::<BTreeSet<_>>(),
        deleted_accounts.iter().collect::<BTreeSet<_>>()
    );

    // A large answer pages on queryAll's own locators: every row once, deleted ones included.
    let first = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id, LastName FROM Lead", "include_deleted": true, "max_rows": 200}),
    )
    .await;
    assert!(!is_error(&first), "{}", text(&first));
    let first = structured(&first);
    assert_eq!(first["totalSize"], json!(450));
    let rows = follow(&client, &first).await;
    assert_eq!(rows.len(), 450);
    let seen = ids(&rows);
    assert_eq!(seen.len(), 450, "a row came twice");
    for id in &deleted_leads {
        assert!(seen.contains(id), "deleted lead {id} missing");
    }
    let log = requests(&emulator).await;
    let paths: Vec<String> = log
        .iter()
        .filter_map(|r| r["path"].as_str().map(str::to_string))
        .collect();
    assert!(
        paths.iter().any(|p| p.contains("/queryAll/")),
        "no queryAll locator was followed: {paths:?}"
    );
    assert!(
        !paths.iter().any(|p| p.contains("/query/")),
        "a queryAll answer continued on /query/: {paths:?}"
    );
    stop(client, stderr).await;
}

fn sales_seed() -> Value {
    json!({"records": {
        "Account": [
            {"_ref": "a", "Name": "Alpha", "Phone": "555-0100", "BillingState": "CA"},
            {"_ref": "b", "Name": "Beta", "Phone": "555-0101", "BillingState": "NY"},
        ],
        "Opportunity": [
            {"Name": "Alpha renewal", "StageName": "Prospecting", "CloseDate": "2026-12-20", "AccountId": "@a", "Amount": 1000},
            {"Name": "Alpha upsell", "StageName": "Closed Won", "CloseDate": "2026-11-02", "AccountId": "@a", "Amount": 500},
            {"Name": "Beta pilot", "StageName": "Negotiation/Review", "CloseDate": "2027-01-15", "AccountId": "@b", "Amount": 2500},
            {"Name": "Beta lost", "StageName": "Closed Lost", "CloseDate": "2026-10-01", "AccountId": "@b", "Amount": 700},
        ],
    }})
}

#[tokio::test]
async fn list_views_are_listed_and_run_as_the_emulator_answers() {
    let emulator = start_seed(sales_seed()).await;
    let rest = Client::for_org(&emulator, 0);
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;

    let listed = call(&client, "list_views", json!({"object": "opportunity"})).await;
    assert!(!is_error(&listed), "{}", text(&listed));
    let expected = rest.get("/sobjects/Opportunity/listviews").await;
    assert_eq!(expected.status, StatusCode::OK, "{}", expected.body);
    let want: Vec<(Value, Value)> = expected.body["listviews"]
        .as_array()
        .expect("listviews")
        .iter()
        .map(|v| (v["id"].clone(), v["label"].clone()))
        .collect();
    let got: Vec<(Value, Value)> = structured(&listed)["views"]
        .as_array()
        .expect("views")
        .iter()
        .map(|v| (v["id"].clone(), v["label"].clone()))
        .collect();
    assert_eq!(got, want);
    assert!(
        text(&listed).contains("My Team's Deals"),
        "{}",
        text(&listed)
    );
    assert!(
        text(&listed).contains("<data untrusted>"),
        "labels are fenced"
    );

    // "Show the 'My Team's Deals' list view", by its label in any case.
    let ran = call(
        &client,
        "list_views",
        json!({"object": "Opportunity", "view": "my team's deals"}),
    )
    .await;
    assert!(!is_error(&ran), "{}", text(&ran));
    let ran = structured(&ran);
    let view_id = ran["listView"]["id"].as_str().expect("view id").to_string();
    let describe = rest
        .get(&format!(
            "/sobjects/Opportunity/listviews/{view_id}/describe"
        ))
        .await;
    assert_eq!(describe.status, StatusCode::OK, "{}", describe.body);
    let query = describe.body["query"].as_str().expect("query");
    assert_eq!(ran["listView"]["query"], json!(query));
    let direct = rest.query(query).await;
    assert_eq!(direct.status, StatusCode::OK, "{}", direct.body);
    let direct_rows = direct.body["records"].as_array().expect("records");
    let got_names: Vec<&Value> = ran["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| &r["Name"])
        .collect();
    let want_names: Vec<&Value> = direct_rows.iter().map(|r| &r["Name"]).collect();
    assert_eq!(got_names, want_names);
    assert_eq!(
        got_names,
        [&json!("Alpha renewal"), &json!("Beta pilot")],
        "open deals by close date"
    );
    // The emulator's own results resource agrees on the rows.
    let results = rest
        .get(&format!(
            "/sobjects/Opportunity/listviews/{view_id}/results"
        ))
        .await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.body);
    assert_eq!(results.body["size"], json!(2));

    // Paged like a query: by id, one row at a time.
    let paged = call(
        &client,
        "list_views",
        json!({"object": "Account", "view": "AllAccounts", "max_rows": 1}),
    )
    .await;
    assert!(!is_error(&paged), "{}", text(&paged));
    let paged = structured(&paged);
    assert_eq!(paged["totalSize"], json!(2));
    let rows = follow(&client, &paged).await;
    let names: Vec<&Value> = rows.iter().map(|r| &r["Name"]).collect();
    assert_eq!(names, [&json!("Alpha"), &json!("Beta")]);

    let unknown = call(
        &client,
        "list_views",
        json!({"object": "Account", "view": "Platinum Accounts"}),
    )
    .await;
    assert!(is_error(&unknown));
    assert!(
        text(&unknown).contains("All Accounts"),
        "{}",
        text(&unknown)
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn a_list_views_query_is_held_to_the_operators_policy() {
    let emulator = start_seed(sales_seed()).await;
    // Account's views show Owner.Alias: with User outside the allow-list, none of them runs.
    let (client, stderr) = spawn_server(
        &org_env(&emulator.orgs[0]),
        &["--allow-objects", "Account,Opportunity"],
    )
    .await;
    let refused = call(
        &client,
        "list_views",
        json!({"object": "Account", "view": "All Accounts"}),
    )
    .await;
    assert!(is_error(&refused), "{}", text(&refused));
    assert!(text(&refused).contains("User"), "{}", text(&refused));
    let outside = call(&client, "list_views", json!({"object": "Contact"})).await;
    assert!(is_error(&outside), "{}", text(&outside));
    stop(client, stderr).await;

    let (client, stderr) = spawn_server(
        &org_env(&emulator.orgs[0]),
        &["--deny-fields", "Account.Phone"],
    )
    .await;
    let denied = call(
        &client,
        "list_views",
        json!({"object": "Account", "view": "My Accounts"}),
    )
    .await;
    assert!(is_error(&denied), "{}", text(&denied));
    assert!(text(&denied).contains("Phone"), "{}", text(&denied));
    let log = requests(&emulator).await;
    assert!(
        !log.iter()
            .any(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/query"))),
        "a refused view's query reached Salesforce: {log:?}"
    );
    stop(client, stderr).await;
}

/// The emulator's list view resources against the REST API Developer Guide's examples
/// ("List Views for an Object", "List View Describe"): the same keys and JSON types, and the
/// documented column values for Account's Name, Site, BillingState, Phone and Type.
#[tokio::test]
async fn the_emulators_list_views_have_the_documented_shapes() {
    let emulator = start_seed(sales_seed()).await;
    let rest = Client::for_org(&emulator, 0);
    let listed = rest.get("/sobjects/Account/listviews").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let base = "/services/data/v62.0/sobjects/Account/listviews/00BD0000005WcBeMAK";
    crate::emulator_common::assert_shape(
        &listed.body,
        &json!({
            "done": true,
            "listviews": [{
                "describeUrl": format!("{base}/describe"),
                "developerName": "NewThisWeek",
                "id": "00BD0000005WcBeMAK",
                "label": "New This Week",
                "resultsUrl": format!("{base}/results"),
                "soqlCompatible": true,
                "url": base,
            }],
            "nextRecordsUrl": null,
            "size": 4,
            "sobjectType": "Account",
        }),
    );
    let all = listed.body["listviews"]
        .as_array()
        .expect("listviews")
        .iter()
        .find(|v| v["developerName"] == json!("AllAccounts"))
        .expect("All Accounts")
        .clone();
    assert!(all["id"].as_str().expect("id").starts_with("00B"));
    let one = rest
        .get(&format!(
            "/sobjects/Account/listviews/{}",
            all["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.body, all);

    let describe = rest
        .get(&format!(
            "/sobjects/Account/listviews/{}/describe",
            all["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(describe.status, StatusCode::OK, "{}", describe.body);
    let documented = |path: &str, label: &str, item: &str, kind: &str, sort: (&str, &str)| {
        json!({"ascendingLabel": sort.0, "descendingLabel": sort.1, "fieldNameOrPath": path,
               "hidden": false, "label": label, "selectListItem": item,
               "sortDirection": null, "sortIndex": null, "sortable": true, "type": kind})
    };
    let columns = describe.body["columns"].as_array().expect("columns");
    let mut name = documented("Name", "Account Name", "Name", "string", ("Z-A", "A-Z"));
    name["sortDirection"] = json!("ascending");
    name["sortIndex"] = json!(0);
    let expected = [
        name,
        documented("Site", "Account Site", "Site", "string", ("Z-A", "A-Z")),
        documented(
            "BillingState",
            "Billing State/Province",
            "BillingState",
            "string",
            ("Z-A", "A-Z"),
        ),
        documented("Phone", "Account Phone", "Phone", "phone", ("9-0", "0-9")),
        documented(
            "Type",
            "Account Type",
            "toLabel(Type)",
            "picklist",
            ("Low to High", "High to Low"),
        ),
    ];
    for (got, want) in columns.iter().zip(&expected) {
        crate::emulator_common::assert_shape(got, want);
        for key in [
            "fieldNameOrPath",
            "selectListItem",
            "type",
            "ascendingLabel",
            "descendingLabel",
            "sortDirection",
            "sortIndex",
        ] {
            assert_eq!(got[key], want[key], "{key} of {}", want["fieldNameOrPath"]);
        }
    }
    assert!(
        columns
            .iter()
            .any(|c| c["fieldNameOrPath"] == json!("Id") && c["hidden"] == json!(true))
    );
    let query = describe.body["query"].as_str().expect("query");
    assert!(
        query.starts_with("SELECT Name, Site, BillingState, Phone, toLabel(Type), Owner.Alias, Id")
            && query.ends_with("FROM Account ORDER BY Name ASC NULLS FIRST, Id ASC NULLS FIRST"),
        "{query}"
    );
    assert_eq!(
        describe.body["orderBy"][0],
        json!({"fieldNameOrPath": "Name", "nullsPosition": "first", "sortDirection": "ascending"})
    );
    assert_eq!(describe.body["sobjectType"], json!("Account"));
    // A view of another object, or no view at all, is not found.
    let elsewhere = rest
        .get(&format!(
            "/sobjects/Contact/listviews/{}/describe",
            all["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert_eq!(elsewhere.body[0]["errorCode"], json!("NOT_FOUND"));
}

/// The same questions over Streamable HTTP: "show My Team's Deals" and "include deleted
/// opportunities", cursors included, answered as the emulator's REST API answers them.
#[tokio::test]
async fn over_http_list_views_and_deleted_rows_answer_the_same() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    let emulator = start_seed(sales_seed()).await;
    let rest = Client::for_org(&emulator, 0);
    let deleted = delete_where(&rest, "SELECT Id FROM Opportunity WHERE Name = 'Beta lost'").await;
    let (mut child, url) = crate::common::spawn_http(org_env(&emulator.orgs[0]), &[]).await;
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("MCP session over HTTP");

    let first = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id, Name, IsDeleted FROM Opportunity ORDER BY Name",
               "include_deleted": true, "max_rows": 1}),
    )
    .await;
    assert!(!is_error(&first), "{}", text(&first));
    let rows = follow(&client, &structured(&first)).await;
    let expected = rest
        .send(rest.http.get(rest.data_url("/queryAll")).query(&[(
            "q",
            "SELECT Id, Name, IsDeleted FROM Opportunity ORDER BY Name",
        )]))
        .await;
    let want: Vec<&Value> = expected.body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| &r["Id"])
        .collect();
    let got: Vec<&Value> = rows.iter().map(|r| &r["Id"]).collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 4);
    assert!(got.contains(&&json!(deleted[0])));

    let ran = call(
        &client,
        "list_views",
        json!({"object": "Opportunity", "view": "My_Team_s_Deals"}),
    )
    .await;
    assert!(!is_error(&ran), "{}", text(&ran));
    let ran = structured(&ran);
    let direct = rest
        .query(ran["listView"]["query"].as_str().expect("query"))
        .await;
    let want: Vec<&Value> = direct.body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| &r["Name"])
        .collect();
    let got: Vec<&Value> = ran["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| &r["Name"])
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 2);
    let _ = client.cancel().await;
    let _ = child.kill().await;
}
