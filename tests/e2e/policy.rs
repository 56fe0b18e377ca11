//! The operator's guardrails hold for everything a query can touch (issue 15): with
//! `--allow-objects Account,Contact --deny-fields Account.AnnualRevenue,Email`, every query
//! that would read a disallowed object's rows or a denied field's values, through a child
//! subquery, a parent path, a semi-join, an aggregate or a filter, is refused naming what and
//! why, and no query request reaches Salesforce. The allowed variants still answer.

use serde_json::{Value, json};

use crate::common::{
    self, call, is_error, org_env, requests, spawn_server, stop, structured, text,
};

/// Queries that leaked before, each with a word its refusal must name.
const REFUSED: [(&str, &str); 9] = [
    (
        "SELECT Name, (SELECT Name, Amount FROM Opportunities) FROM Account LIMIT 5",
        "Opportunity",
    ),
    ("SELECT Name, Owner.Username FROM Account LIMIT 5", "User"),
    (
        "SELECT LastName, Account.AnnualRevenue FROM Contact LIMIT 5",
        "AnnualRevenue",
    ),
    (
        "SELECT Name, (SELECT Email FROM Contacts) FROM Account LIMIT 5",
        "Email",
    ),
    ("SELECT MAX(AnnualRevenue) FROM Account", "AnnualRevenue"),
    ("SELECT SUM(AnnualRevenue) FROM Account", "AnnualRevenue"),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue > 1000000 LIMIT 5",
        "AnnualRevenue",
    ),
    (
        "SELECT Name FROM Account ORDER BY AnnualRevenue DESC LIMIT 5",
        "AnnualRevenue",
    ),
    (
        "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity) LIMIT 5",
        "Opportunity",
    ),
];

const ALLOWED: [&str; 3] = [
    "SELECT Name, (SELECT LastName FROM Contacts) FROM Account LIMIT 5",
    "SELECT LastName, Account.Name FROM Contact LIMIT 5",
    "SELECT COUNT() FROM Account",
];

fn query_requests(log: &[Value]) -> usize {
    log.iter()
        .filter(|entry| {
            entry["path"]
                .as_str()
                .is_some_and(|path| path.ends_with("/query") || path.contains("/query/"))
        })
        .count()
}

#[tokio::test]
async fn allow_and_deny_lists_hold_through_relationships_subqueries_and_aggregates() {
    let emulator = common::demo_emulator().await;
    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_ALLOW_OBJECTS", "Account,Contact".into()));
    env.push(("SFMCP_DENY_FIELDS", "Account.AnnualRevenue,Email".into()));
    let (client, stderr) = spawn_server(&env, &[]).await;

    for (query, named) in REFUSED {
        let result = call(&client, "soql_query", json!({ "query": query })).await;
        assert!(is_error(&result), "{query} was answered: {}", text(&result));
        let message = text(&result);
        assert!(message.contains(named), "{query}: {message}");
        assert!(
            message.contains("--allow-objects") || message.contains("--deny-fields"),
            "{query}: the refusal says which setting decides: {message}"
        );
    }
    assert_eq!(
        query_requests(&requests(&emulator).await),
        0,
        "no refused query reached Salesforce"
    );

    for query in ALLOWED {
        let result = call(&client, "soql_query", json!({ "query": query })).await;
        assert!(!is_error(&result), "{query}: {}", text(&result));
        assert!(structured(&result).is_object());
    }
    stop(client, stderr).await;
}

/// Requests that reached the org's data API (token and identity requests left out).
fn data_requests(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter_map(|entry| entry["path"].as_str())
        .filter(|path| path.starts_with("/services/data/"))
        .map(str::to_string)
        .collect()
}

/// Whether a record in a tool's structured content is of `object` (its link says).
fn is_a(record: &Value, object: &str) -> bool {
    record["url"]
        .as_str()
        .is_some_and(|url| url.contains(&format!("/lightning/r/{object}/")))
}

fn first_id(result: &rmcp::model::CallToolResult) -> String {
    structured(result)["records"][0]["Id"]
        .as_str()
        .expect("a record id")
        .to_string()
}

/// Issue 15, item 8: a five-object search under the default limit returns each object's
/// matches up to the per-object limit (Leads included), says which objects had more than it
/// shows, and counts what it shows. Each object's truth comes from soql_query.
#[tokio::test]
async fn sosl_search_is_complete_or_names_what_it_left_out() {
    let emulator = common::demo_emulator().await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let objects = [
        ("Account", "Name"),
        ("Contact", "Name"),
        ("Opportunity", "Name"),
        ("Lead", "Name"),
        ("Case", "Subject"),
    ];
    let mut truth = Vec::new();
    for (object, field) in objects {
        let count = call(
            &client,
            "soql_query",
            json!({ "query": format!("SELECT COUNT() FROM {object} WHERE {field} LIKE '%Acme%'") }),
        )
        .await;
        truth.push(structured(&count)["totalSize"].as_u64().expect("count"));
    }
    assert!(
        truth.iter().filter(|&&n| n > 0).count() >= 2 && truth.iter().any(|&n| n > 20),
        "the demo org has Acme records in several objects, more than 20 in one: {truth:?}"
    );
    assert!(
        truth.iter().sum::<u64>() > 20,
        "more than one limit's worth: {truth:?}"
    );

    let result = call(
        &client,
        "sosl_search",
        json!({"text": "Acme", "objects": objects.map(|(o, _)| o)}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    let answer = structured(&result);
    let records = answer["records"].as_array().cloned().unwrap_or_default();
    let message = text(&result);
    assert!(
        message.starts_with(&format!(
            "{} records found (up to 20 per object)",
            records.len()
        )),
        "{message}"
    );
    let mut incomplete = Vec::new();
    for (i, (object, _)) in objects.iter().enumerate() {
        let summary = &answer["objects"][i];
        assert_eq!(summary["object"], *object);
        let returned = summary["returned"].as_u64().expect("returned");
        assert_eq!(returned, truth[i].min(20), "{object}: {message}");
        assert_eq!(summary["more"], truth[i] > 20, "{object}: {message}");
        let rows = records.iter().filter(|r| is_a(r, object)).count();
        assert_eq!(rows as u64, returned, "{object}");
        if truth[i] > 20 {
            incomplete.push(*object);
        }
    }
    assert_eq!(answer["complete"], incomplete.is_empty());
    if !incomplete.is_empty() {
        assert!(message.contains("Not complete: "), "{message}");
        for object in &incomplete {
            assert!(message.contains(object), "{object}: {message}");
        }
        assert!(message.contains("higher limit"), "{message}");
    }
    stop(client, stderr).await;
}

/// With an allow-list, a search names only allowed objects: one naming another is refused
/// before any request, one naming none searches the allowed objects only, and the count it
/// states is the count it shows.
#[tokio::test]
async fn sosl_search_never_searches_or_shows_refused_objects() {
    let emulator = common::demo_emulator().await;
    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_ALLOW_OBJECTS", "Account".into()));
    env.push(("SFMCP_DENY_FIELDS", "Account.Name".into()));
    let (client, stderr) = spawn_server(&env, &[]).await;

    let before = data_requests(&requests(&emulator).await).len();
    let refused = call(
        &client,
        "sosl_search",
        json!({"text": "Acme", "objects": ["Account", "Contact", "Opportunity", "Lead", "Case"]}),
    )
    .await;
    assert!(is_error(&refused), "{}", text(&refused));
    assert!(text(&refused).contains("Contact"), "{}", text(&refused));
    assert!(
        text(&refused).contains("--allow-objects"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        data_requests(&requests(&emulator).await).len(),
        before,
        "a refused search sends nothing"
    );

    let result = call(&client, "sosl_search", json!({"text": "Acme"})).await;
    assert!(!is_error(&result), "{}", text(&result));
    let records = structured(&result)["records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!records.is_empty(), "{}", text(&result));
    for record in &records {
        assert!(is_a(record, "Account"), "{record}");
        assert!(record.get("Name").is_none(), "denied field shown: {record}");
    }
    let searched: Vec<Value> = structured(&result)["objects"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(searched.len(), 1, "{searched:?}");
    assert!(
        text(&result).starts_with(&format!("{} records found", records.len())),
        "{}",
        text(&result)
    );
    stop(client, stderr).await;
}

/// Issue 15, item 6: once the connection has the describe global (and an object's describe),
/// a misspelled object or field, in any tool, is answered with the right name and costs no
/// request at all.
#[tokio::test]
async fn misspelled_objects_and_fields_cost_no_request_and_get_a_suggestion() {
    let emulator = common::demo_emulator().await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    // Warm-up: the describe global and Account's describe, as any session's first calls do.
    let account = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id FROM Account ORDER BY Id LIMIT 1"}),
    )
    .await;
    let account_id = first_id(&account);
    call(&client, "list_objects", json!({})).await;
    let before = data_requests(&requests(&emulator).await);

    let cases = [
        (
            "soql_query",
            json!({"query": "SELECT Id FROM Opportunty"}),
            "Opportunity",
        ),
        (
            "describe_object",
            json!({"object": "Opportunty"}),
            "Opportunity",
        ),
        (
            "sosl_search",
            json!({"text": "Acme", "objects": ["Acount"]}),
            "Account",
        ),
        (
            "get_record",
            json!({"id": account_id, "fields": ["Nme"]}),
            "Name",
        ),
        (
            "get_record",
            json!({"id": account_id, "object": "Acount"}),
            "Account",
        ),
    ];
    for (tool, args, suggested) in cases {
        let result = call(&client, tool, args.clone()).await;
        assert!(is_error(&result), "{tool} {args}: {}", text(&result));
        assert!(
            text(&result).contains(suggested),
            "{tool} {args}: no suggestion in {}",
            text(&result)
        );
    }
    let after = data_requests(&requests(&emulator).await);
    assert_eq!(after, before, "misspellings reached Salesforce");
    stop(client, stderr).await;
}

/// get_record, record_url, describe_object and prompts under the policy: denied fields are
/// refused before any request and never in the default field set; records and links of
/// refused objects are refused; prompts that would read refused things are not offered.
#[tokio::test]
async fn records_links_describes_and_prompts_follow_the_policy() {
    let emulator = common::demo_emulator().await;
    let (open, open_stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let contact = call(
        &open,
        "soql_query",
        json!({"query": "SELECT Id FROM Contact ORDER BY Id LIMIT 1"}),
    )
    .await;
    let contact_id = first_id(&contact);
    stop(open, open_stderr).await;

    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_ALLOW_OBJECTS", "Account,Contact".into()));
    env.push(("SFMCP_DENY_FIELDS", "Account.AnnualRevenue,Email".into()));
    let (client, stderr) = spawn_server(&env, &[]).await;
    let account = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id FROM Account ORDER BY Id LIMIT 1"}),
    )
    .await;
    let account_id = first_id(&account);

    let before = data_requests(&requests(&emulator).await).len();
    for (tool, args, named) in [
        (
            "get_record",
            json!({"id": account_id, "fields": ["Name", "AnnualRevenue"]}),
            "AnnualRevenue",
        ),
        (
            "get_record",
            json!({"id": contact_id, "fields": ["email"]}),
            "email",
        ),
        (
            "get_record",
            json!({"id": account_id, "object": "Opportunity"}),
            "Opportunity",
        ),
        ("describe_object", json!({"object": "Lead"}), "Lead"),
        (
            "record_url",
            json!({"ids": [account_id], "object": "Opportunity"}),
            "Opportunity",
        ),
    ] {
        let result = call(&client, tool, args.clone()).await;
        assert!(is_error(&result), "{tool} {args}: {}", text(&result));
        assert!(text(&result).contains(named), "{tool}: {}", text(&result));
        assert!(
            text(&result).contains("--"),
            "says which setting: {}",
            text(&result)
        );
    }
    assert_eq!(
        data_requests(&requests(&emulator).await).len(),
        before,
        "refusals sent nothing"
    );

    let whole = call(&client, "get_record", json!({"id": account_id})).await;
    assert!(!is_error(&whole), "{}", text(&whole));
    assert!(structured(&whole).get("AnnualRevenue").is_none());
    assert!(structured(&whole).get("Name").is_some());
    let described = call(&client, "describe_object", json!({"object": "contact"})).await;
    assert!(!is_error(&described), "{}", text(&described));
    let fields = structured(&described)["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(fields.iter().any(|f| f["name"] == "LastName"));
    assert!(
        !fields.iter().any(|f| f["name"] == "Email"),
        "{}",
        text(&described)
    );

    // A misspelled field is not corrected into a denied one.
    let typo = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Emial FROM Contact"}),
    )
    .await;
    assert!(is_error(&typo), "{}", text(&typo));
    assert!(text(&typo).contains("Emial"), "{}", text(&typo));
    assert!(!text(&typo).contains("Email"), "{}", text(&typo));

    let prompts = client.list_prompts(None).await.expect("prompts");
    assert!(
        prompts.prompts.is_empty(),
        "every prompt reads an object outside Account, Contact: {:?}",
        prompts.prompts
    );
    stop(client, stderr).await;
}
