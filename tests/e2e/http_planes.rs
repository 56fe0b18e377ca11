//! The same tool suite, success and failure paths of every tool, on both credential planes:
//! `sfmcp serve --http` on the direct plane (a refresh-token connection to the org) and on
//! the Paragon plane (a many-tenant server, the tenant named by X-Paragon-User), both in
//! front of the same emulated org. Record links point at the org's own Lightning host on
//! both: on the Paragon plane sfmcp learns it through the proxy.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::http_common;

use http_common::*;
use serde_json::{Value, json};
use sfmcp_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

#[derive(Debug, Clone, Copy)]
enum Plane {
    Direct,
    Paragon,
}

struct Fixture {
    emulator: EmulatorHandle,
    server: Server,
    client: Client,
    /// The origin record links must start with.
    lightning: String,
}

async fn open(plane: Plane) -> Fixture {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let org = emulator.orgs[0].clone();
    let (server, tenant_headers) = match plane {
        Plane::Direct => {
            let env = vec![
                ("SF_INSTANCE_URL".into(), org.instance_url.clone()),
                ("SF_LOGIN_URL".into(), org.login_url.clone()),
                ("SF_ACCESS_TOKEN".into(), org.access_token.clone()),
                ("SF_REFRESH_TOKEN".into(), org.refresh_token.clone()),
                ("SF_CLIENT_ID".into(), org.client_id.clone()),
                ("SF_CLIENT_SECRET".into(), org.client_secret.clone()),
                ("SFMCP_HTTP_TOKENS".into(), CALLER_TOKEN.into()),
            ];
            let files = tempfile::tempdir().expect("temp dir");
            (spawn(env, &[], files).await, Default::default())
        }
        Plane::Paragon => (
            start_server(&emulator, &[], &[]).await,
            tenant(&emulator, 0),
        ),
    };
    let client = connect(&server, tenant_headers).await;
    Fixture {
        lightning: org.instance_url.trim_end_matches('/').to_string(),
        emulator,
        server,
        client,
    }
}

async fn requests_matching(emulator: &EmulatorHandle, method: &str, part: &str) -> usize {
    let body: Value = reqwest::get(format!("{}/__emulator/requests", emulator.base_url))
        .await
        .expect("log")
        .json()
        .await
        .expect("json");
    let entries = match body {
        Value::Array(a) => a,
        Value::Object(mut m) => m
            .remove("requests")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    entries
        .iter()
        .filter(|r| {
            r["method"] == json!(method) && r["path"].as_str().is_some_and(|p| p.contains(part))
        })
        .count()
}

/// Every tool, its success and its failure paths; the body is the same on both planes.
async fn tool_suite(plane: Plane) {
    let f = open(plane).await;
    let c = &f.client;
    let link = |object: &str, id: &str| format!("{}/lightning/r/{object}/{id}/view", f.lightning);

    // soql_query: rows with links to the org's Lightning host; a wrong field is caught
    // locally with a suggestion.
    let query = call(c, "soql_query", json!({"query": "SELECT Id, Name, StageName FROM Opportunity WHERE IsClosed = false ORDER BY Amount DESC LIMIT 3"})).await;
    assert!(!is_error(&query), "{plane:?}: {}", text(&query));
    let records = structured(&query)["records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(records.len(), 3, "{plane:?}");
    let opportunity = records[0]["Id"].as_str().expect("Id").to_string();
    assert_eq!(
        records[0]["url"],
        json!(link("Opportunity", &opportunity)),
        "{plane:?}"
    );
    let wrong = call(
        c,
        "soql_query",
        json!({"query": "SELECT Name, Industy FROM Account"}),
    )
    .await;
    assert!(is_error(&wrong));
    assert!(
        text(&wrong).starts_with("INVALID_FIELD: No such column 'Industy'"),
        "{plane:?}: {}",
        text(&wrong)
    );
    assert!(
        text(&wrong).contains("did you mean: Industry"),
        "{plane:?}: {}",
        text(&wrong)
    );

    // query_more: the cursor continues where the first page stopped; garbage is refused.
    let first = call(
        c,
        "soql_query",
        json!({"query": "SELECT Name FROM Account ORDER BY Name", "max_rows": 2}),
    )
    .await;
    assert!(!is_error(&first), "{plane:?}: {}", text(&first));
    let first_names = names(&first);
    let cursor = structured(&first)["cursor"]
        .as_str()
        .expect("a cursor")
        .to_string();
    let more = call(c, "query_more", json!({"cursor": cursor})).await;
    assert!(!is_error(&more), "{plane:?}: {}", text(&more));
    let everything = call(
        c,
        "soql_query",
        json!({"query": "SELECT Name FROM Account ORDER BY Name LIMIT 4"}),
    )
    .await;
    let mut paged = first_names.clone();
    paged.extend(names(&more).into_iter().take(2));
    assert_eq!(paged, names(&everything), "{plane:?}");
    let bogus = call(c, "query_more", json!({"cursor": "not-a-cursor"})).await;
    assert!(is_error(&bogus));
    assert!(
        text(&bogus).contains("not one this server issued"),
        "{plane:?}: {}",
        text(&bogus)
    );

    // describe_object and list_objects; an object the org lacks.
    let describe = call(c, "describe_object", json!({"object": "opportunity"})).await;
    assert!(
        text(&describe).contains("StageName [Stage] picklist req: Prospecting|"),
        "{plane:?}: {}",
        text(&describe)
    );
    let missing = call(c, "describe_object", json!({"object": "NoSuchThing__c"})).await;
    assert!(is_error(&missing), "{plane:?}: {}", text(&missing));
    assert!(
        text(&missing).starts_with("NOT_FOUND: "),
        "{plane:?}: {}",
        text(&missing)
    );
    assert!(
        text(&missing).contains("Next step: "),
        "{plane:?}: {}",
        text(&missing)
    );
    let objects = call(c, "list_objects", json!({"match": "contact"})).await;
    assert!(
        text(&objects).contains("Contact [Contact] q c u"),
        "{plane:?}: {}",
        text(&objects)
    );

    // get_record and record_url, with a malformed id each.
    let record = call(c, "get_record", json!({"id": opportunity})).await;
    assert!(!is_error(&record), "{plane:?}: {}", text(&record));
    assert!(
        text(&record).contains(&format!("Opportunity {opportunity}: ")),
        "{plane:?}: {}",
        text(&record)
    );
    let bad_id = call(c, "get_record", json!({"id": "006-not-an-id"})).await;
    assert!(is_error(&bad_id), "{plane:?}: {}", text(&bad_id));
    let urls = call(c, "record_url", json!({"ids": [opportunity]})).await;
    assert!(!is_error(&urls), "{plane:?}: {}", text(&urls));
    assert!(
        text(&urls).contains(&link("Opportunity", &opportunity)),
        "{plane:?}: {}",
        text(&urls)
    );
    let bad_url = call(c, "record_url", json!({"ids": ["nope"]})).await;
    assert!(is_error(&bad_url), "{plane:?}: {}", text(&bad_url));
    assert!(
        text(&bad_url).contains("nope"),
        "{plane:?}: {}",
        text(&bad_url)
    );

    // sosl_search: found as the user; a quote cannot break out of the search term.
    let found = call(
        c,
        "sosl_search",
        json!({"text": "aperture", "objects": ["Account"], "limit": 10}),
    )
    .await;
    assert!(!is_error(&found), "{plane:?}: {}", text(&found));
    let hits = structured(&found)["records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!hits.is_empty(), "{plane:?}");
    for hit in &hits {
        assert!(
            hit["url"]
                .as_str()
                .is_some_and(|u| u.starts_with(&f.lightning)),
            "{plane:?}: {hit}"
        );
    }
    let quoted = call(c, "sosl_search", json!({"text": "x' OR Name != '"})).await;
    assert!(
        text(&quoted).starts_with("0 records found"),
        "{plane:?}: {}",
        text(&quoted)
    );

    // create_record and update_record: checked before sending, then done, with links.
    let bad = call(
        c,
        "create_record",
        json!({"object": "Lead", "fields": {"Company": "Acme", "Statsu": "x"}}),
    )
    .await;
    assert!(is_error(&bad));
    assert!(
        text(&bad).contains("INVALID_FIELD: No such column 'Statsu'"),
        "{plane:?}: {}",
        text(&bad)
    );
    assert!(
        text(&bad).contains("REQUIRED_FIELD_MISSING"),
        "{plane:?}: {}",
        text(&bad)
    );
    assert_eq!(
        requests_matching(&f.emulator, "POST", "/sobjects/").await,
        0,
        "{plane:?}"
    );
    let created = call(
        c,
        "create_record",
        json!({"object": "Lead", "fields": {"LastName": "Ng", "Company": "Acme"}}),
    )
    .await;
    assert!(!is_error(&created), "{plane:?}: {}", text(&created));
    let lead = structured(&created)["id"].as_str().expect("id").to_string();
    assert_eq!(
        structured(&created)["url"],
        json!(link("Lead", &lead)),
        "{plane:?}"
    );
    let updated = call(
        c,
        "update_record",
        json!({"object": "Lead", "id": lead, "fields": {"Company": "Acme Corp"}}),
    )
    .await;
    assert!(
        text(&updated).contains("Company: \"Acme\" → \"Acme Corp\""),
        "{plane:?}: {}",
        text(&updated)
    );
    let bad_update = call(
        c,
        "update_record",
        json!({"object": "Lead", "id": lead, "fields": {"Compny": "x"}}),
    )
    .await;
    assert!(is_error(&bad_update));
    assert!(
        text(&bad_update).contains("Compny"),
        "{plane:?}: {}",
        text(&bad_update)
    );

    // org_limits, and what every tool says when Salesforce is down.
    let limits = call(c, "org_limits", json!({})).await;
    assert!(
        text(&limits).contains("DailyApiRequests: "),
        "{plane:?}: {}",
        text(&limits)
    );
    let fault = json!({"path_regex": "/limits", "status": 503,
        "body": [{"message": "down for maintenance", "errorCode": "SERVER_UNAVAILABLE"}]});
    reqwest::Client::new()
        .post(format!("{}/__emulator/faults", f.emulator.base_url))
        .json(&fault)
        .send()
        .await
        .expect("fault");
    let down = call(c, "org_limits", json!({})).await;
    assert!(is_error(&down), "{plane:?}: {}", text(&down));
    assert!(
        text(&down).contains("SERVER_UNAVAILABLE") || text(&down).contains("503"),
        "{plane:?}: {}",
        text(&down)
    );
    assert!(
        text(&down).contains("Next step"),
        "{plane:?}: {}",
        text(&down)
    );

    assert_eq!(requests_matching(&f.emulator, "DELETE", "").await, 0);
    let _ = f.client.cancel().await;
    drop(f.server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_on_the_direct_plane() {
    tool_suite(Plane::Direct).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_on_the_paragon_plane() {
    tool_suite(Plane::Paragon).await;
}

/// On the Paragon plane the proxy picks the org, so record links come from what sfmcp
/// learns through it, or from X-Salesforce-Instance-Url when the host names the org's URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paragon_tenants_link_to_their_own_lightning_host() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &[]).await;
    let learned = connect(&server, tenant(&emulator, 0)).await;
    let p = paragon(&emulator, 1);
    let named = connect(
        &server,
        headers(&[
            ("x-paragon-user", field(&p, "user_id")),
            ("x-paragon-credential", field(&p, "credential_id")),
            (
                "x-salesforce-instance-url",
                "https://bravo.my.salesforce.com".into(),
            ),
        ]),
    )
    .await;
    let query = json!({"query": "SELECT Id, Name FROM Account ORDER BY Name LIMIT 1"});
    let alpha = call(&learned, "soql_query", query.clone()).await;
    let bravo = call(&named, "soql_query", query).await;
    assert_eq!(names(&alpha), ["Alpha 000"]);
    assert_eq!(names(&bravo), ["Bravo 000"]);
    let url = |r: &rmcp::model::CallToolResult| {
        structured(r)["records"][0]["url"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let alpha_id = structured(&alpha)["records"][0]["Id"]
        .as_str()
        .expect("id")
        .to_string();
    let bravo_id = structured(&bravo)["records"][0]["Id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        url(&alpha),
        format!(
            "{}/lightning/r/Account/{alpha_id}/view",
            emulator.orgs[0].instance_url.trim_end_matches('/')
        )
    );
    assert_eq!(
        url(&bravo),
        // Lightning lives on the org's lightning.force.com host.
        format!("https://bravo.lightning.force.com/lightning/r/Account/{bravo_id}/view")
    );
    for client in [learned, named] {
        let _ = client.cancel().await;
    }
}
