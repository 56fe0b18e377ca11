//! No delete, by construction: no product source can name DELETE, and driving every client
//! method (success and failure paths, both planes) sends only GET, POST and PATCH.
// Test helpers outside #[test] functions panic on broken fixtures by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::salesforce_support;

use std::path::Path;

use serde_json::{Map, Value, json};
use sfmcp_salesforce::{
    Connection, ParagonAuth, ParagonUser, ParameterizedSearch, QueryOptions, SalesforceClient,
    SalesforceId, SearchObject, Secret,
};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use salesforce_support::*;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            // The emulator answers DELETE as Salesforce does; it never sends one.
            if path.file_name().is_some_and(|n| n == "emulator") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_product_source_can_name_delete() {
    // Spelled in pieces so this file does not match its own search.
    let patterns = [
        ["Method::", "DELETE"].concat(),
        [".", "delete("].concat(),
        ["\"", "DELETE", "\""].concat(),
    ];
    let mut files = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("crates"), &mut files);
    assert!(files.len() > 5, "the source tree was found");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for pattern in &patterns {
            assert!(
                !text.contains(pattern.as_str()),
                "{} contains {pattern}",
                file.display()
            );
        }
    }
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Calls every client method, ignoring results: what matters is what goes on the wire.
async fn drive_everything(client: &SalesforceClient) {
    let id = SalesforceId::parse("0015500001QdQWfAAN").expect("id");
    let _ = client.connect().await;
    let _ = client.api_versions().await;
    let _ = client.describe_global().await;
    let _ = client.objects().await;
    let _ = client.describe("Account").await;
    let _ = client
        .describe_object("Account", Some("Wed, 03 Jul 2013 19:43:31 GMT"))
        .await;
    let _ = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await;
    let _ = client
        .query::<Value>(
            "SELECT Id FROM Account",
            QueryOptions {
                include_deleted: true,
                batch_size: Some(500),
            },
        )
        .await;
    let _ = client
        .query_more::<Value>("/services/data/v62.0/query/01gD0000002HU6KIAW-2000", None)
        .await;
    let _ = client
        .tooling_query::<Value>("SELECT Id FROM SecuritySettings")
        .await;
    let _ = client.get_record("Account", &id, None).await;
    let _ = client
        .get_record("Account", &id, Some(&["Name".to_string()]))
        .await;
    let _ = client
        .create("Account", &fields(json!({"Name": "Acme"})))
        .await;
    let _ = client
        .update("Account", &id, &fields(json!({"Name": "Acme 2"})))
        .await;
    // Adversarial inputs: refused before sending, or sent as GET/POST/PATCH all the same.
    let _ = client
        .update("Account", &id, &fields(json!({"_HttpMethod": "DELETE"})))
        .await;
    let _ = client
        .get_record("Account?_HttpMethod=DELETE", &id, None)
        .await;
    let _ = client.create("Account/x", &Map::new()).await;
    let _ = client.search("FIND {Acme}").await;
    let _ = client
        .parameterized_search(&ParameterizedSearch {
            text: "Acme".into(),
            objects: vec![SearchObject {
                name: "Account".into(),
                fields: vec!["Name".into()],
                limit: Some(5),
            }],
            overall_limit: Some(10),
        })
        .await;
    let _ = client.limits().await;
    let _ = client.file_head(&id, 64).await;
    let _ = client.record_links().await;
    // Reports: the describe, synchronous and asynchronous runs, an instance's results.
    let report = "00O5g0000000001EAA";
    let metadata: sfmcp_salesforce::ReportMetadata =
        serde_json::from_value(json!({"id": report, "name": "r"})).expect("metadata");
    let _ = client.report_describe(report).await;
    let _ = client.run_report(report, Some(&metadata), true).await;
    let _ = client
        .start_report_instance(report, Some(&metadata), false)
        .await;
    let _ = client.report_instance(report, "0LG5g0000000001EAA").await;
}

async fn assert_only_get_post_patch(server: &MockServer) {
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(
        requests.len() >= 15,
        "the client was driven: {}",
        requests.len()
    );
    for request in &requests {
        assert!(
            matches!(request.method.as_str(), "GET" | "POST" | "PATCH"),
            "{} {}",
            request.method,
            request.url
        );
        assert!(
            !request.url.as_str().contains("_HttpMethod"),
            "method override smuggled in: {}",
            request.url
        );
    }
}

#[tokio::test]
async fn every_method_on_the_direct_plane_sends_only_get_post_patch() {
    let server = MockServer::start().await;
    forbid_delete(&server).await;
    // Some calls fail (401 then refresh, 500s retried), some succeed: every path is walked.
    Mock::given(method("GET"))
        .and(path_regex("/query$"))
        .respond_with(sf_json(
            401,
            fixture("restforce/error-expired-session.json"),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex("/services/oauth2/token$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "00Dx!renewed",
            "instance_url": server.uri(),
            "scope": "api"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("/limits$"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(sf_json(
            200,
            json!({"id": "0015500001QdQWfAAN", "success": true, "errors": []}),
        ))
        .mount(&server)
        .await;
    let client = client(refresh_connection(&server, "00Dx!first"), fast_options());
    drive_everything(&client).await;
    assert_only_get_post_patch(&server).await;
}

#[tokio::test]
async fn every_method_on_the_paragon_plane_sends_only_get_post_patch() {
    let server = MockServer::start().await;
    forbid_delete(&server).await;
    Mock::given(wiremock::matchers::any())
        .respond_with(sf_json(
            200,
            json!({"id": "0015500001QdQWfAAN", "success": true, "errors": []}),
        ))
        .mount(&server)
        .await;
    let connection = Connection::paragon(ParagonAuth {
        proxy_url: url(&server.uri()),
        project_id: "proj".into(),
        user: ParagonUser::Token(Secret::new("user-token")),
        credential_id: None,
        instance_url: None,
    });
    let client = client(connection, fast_options());
    drive_everything(&client).await;
    assert_only_get_post_patch(&server).await;
}
