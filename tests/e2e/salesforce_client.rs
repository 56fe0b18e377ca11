//! The REST client against a fake Salesforce (wiremock) built from recorded bodies.
// Test helpers outside #[test] functions panic on broken fixtures by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::salesforce_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use sfmcp_salesforce::{
    ClientOptions, CreateResult, NetworkFailure, ParameterizedSearch, QueryOptions, RecordWrite,
    SalesforceId, SearchObject, SfError, UsageLevel, UsagePolicy,
};
use sfmcp_soql::schema::{Lookup, Schema};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use salesforce_support::*;

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("test fields must be an object"),
    }
}

#[tokio::test]
async fn query_pages_through_next_records_url_with_batch_size() {
    let server = MockServer::start().await;
    forbid_delete(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(query_param("q", "SELECT Text_Label FROM Whizbang"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("sforce-query-options", "batchSize=200"))
        .respond_with(sf_json(
            200,
            fixture("restforce/query-paginated-first.json"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    // The locator path Salesforce handed back, followed as is (its version included).
    Mock::given(method("GET"))
        .and(path("/services/data/v26.0/query/01gD"))
        .respond_with(sf_json(200, fixture("restforce/query-paginated-last.json")))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(token_connection(&server, TOKEN), fast_options());

    let options = QueryOptions {
        batch_size: Some(100), // below Salesforce's minimum: clamped to 200
        ..QueryOptions::default()
    };
    let first = client
        .query::<Value>("SELECT Text_Label FROM Whizbang", options)
        .await
        .expect("first page");
    assert_eq!(first.total_size, 2);
    assert!(!first.done);
    assert_eq!(first.records[0]["Text_Label"], "First Page");
    let next = first.next_records_url.expect("more pages");
    let last = client
        .query_more::<Value>(&next, Some(200))
        .await
        .expect("last page");
    assert!(last.done);
    assert_eq!(last.next_records_url, None);
    assert_eq!(last.records[0]["Text_Label"], "Last Page");
}

#[tokio::test]
async fn query_more_refuses_urls_that_are_not_salesforce_locator_paths() {
    let server = MockServer::start().await;
    let client = client(token_connection(&server, TOKEN), fast_options());
    for bad in [
        "https://attacker.example/services/data/v62.0/query/01g-2000",
        "//attacker.example/services/data/v62.0/query/01g",
        "/services/data/v62.0/../../secret",
        "/other/path",
    ] {
        let err = client.query_more::<Value>(bad, None).await.expect_err(bad);
        assert!(
            matches!(err, SfError::InvalidRequest { .. }),
            "{bad}: {err:?}"
        );
    }
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn query_all_and_tooling_query_use_their_resources() {
    let server = MockServer::start().await;
    mount_get(&server, "/queryAll", fixture("restforce/query-empty.json")).await;
    mount_get(
        &server,
        "/tooling/query",
        fixture("cumulusci/tooling-query-nested-children.json"),
    )
    .await;
    let client = client(token_connection(&server, TOKEN), fast_options());
    let all = client
        .query::<Value>(
            "SELECT Id FROM Account WHERE IsDeleted = true",
            QueryOptions {
                include_deleted: true,
                ..QueryOptions::default()
            },
        )
        .await
        .expect("queryAll");
    assert_eq!(all.total_size, 0);
    assert!(all.done);
    let tooling = client
        .tooling_query::<Value>("SELECT Id FROM SecuritySettings")
        .await
        .expect("tooling");
    assert!(tooling.done);
    assert!(!tooling.records.is_empty());
}

#[tokio::test]
async fn default_api_version_is_the_newest_the_org_offers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/data/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("restforce/versions.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v100/limits"))
        .respond_with(sf_json(200, fixture("simple-salesforce/limits.json")))
        .mount(&server)
        .await;
    let mut connection = token_connection(&server, TOKEN);
    connection.api_version = None;
    let client = client(connection, fast_options());
    let info = client.connect().await.expect("connects");
    assert_eq!(info.api_version.as_deref(), Some("100"));
    let limits = client.limits().await.expect("limits");
    let daily = limits.get("DailyApiRequests").expect("DailyApiRequests");
    assert_eq!(daily.max, 15000);
    // The versions list does not carry the token.
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(requests[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_configured_version_the_org_lacks_is_named_with_the_versions_it_offers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/services/data/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("restforce/versions.json")))
        .mount(&server)
        .await;
    // What Salesforce answers for a version it does not serve.
    Mock::given(method("GET"))
        .and(path("/services/data/v99.0/limits"))
        .respond_with(sf_json(
            404,
            json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]),
        ))
        .mount(&server)
        .await;
    let mut connection = token_connection(&server, TOKEN);
    connection.api_version = Some("99.0".into());
    let client = client(connection, fast_options());
    let err = client.limits().await.expect_err("99.0 is not offered");
    let message = err.to_string();
    assert!(message.contains("SF_API_VERSION 99.0"), "{message}");
    assert!(message.contains("20.0, 100"), "{message}");
    assert!(
        !err.next_step().contains("does not exist"),
        "{}",
        err.next_step()
    );
    assert!(
        err.next_step().contains("the newest is 100"),
        "{}",
        err.next_step()
    );
}

#[tokio::test]
async fn records_are_read_created_and_updated() {
    let server = MockServer::start().await;
    forbid_delete(&server).await;
    let id = SalesforceId::parse("0015500001QdQWfAAN").expect("id");
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/sobjects/Account/{id}")))
        .and(query_param("fields", "External_Field__c,Id"))
        .respond_with(sf_json(200, fixture("restforce/sobject-get-fields.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{VERSION}/sobjects/Account")))
        .and(body_json(json!({"Name": "Acme"})))
        .and(header("content-type", "application/json"))
        .respond_with(sf_json(201, fixture("cumulusci/create-account-201.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{VERSION}/sobjects/Account/{id}")))
        .and(body_json(json!({"AnnualRevenue": 1000})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(token_connection(&server, TOKEN), fast_options());

    let record = client
        .get_record(
            "Account",
            &id,
            Some(&["External_Field__c".to_string(), "Id".to_string()]),
        )
        .await
        .expect("record");
    assert_eq!(record["External_Field__c"], "1234");
    let created = client
        .create("Account", &fields(json!({"Name": "Acme"})))
        .await
        .expect("created");
    assert_eq!(
        created,
        CreateResult {
            id: "0015500001QdQWfAAN".into(),
            success: true,
            errors: vec![]
        }
    );
    client
        .update("Account", &id, &fields(json!({"AnnualRevenue": 1000})))
        .await
        .expect("updated");
    // Path injection through names is refused before any call.
    let err = client
        .get_record("Account/../../x", &id, None)
        .await
        .expect_err("bad object name");
    assert!(matches!(err, SfError::InvalidRequest { .. }));
}

#[tokio::test]
async fn searches_read_both_body_shapes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/search")))
        .and(query_param("q", "FIND {Acme} IN NAME FIELDS"))
        .respond_with(sf_json(200, fixture("restforce/search-legacy-array.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/parameterizedSearch")))
        .and(query_param("q", "Acme"))
        .and(query_param("sobject", "Account"))
        .and(query_param("Account.fields", "Id,Name"))
        .and(query_param("Account.limit", "10"))
        .respond_with(sf_json(
            200,
            json!({"searchRecords": [{"attributes": {"type": "Account", "url": "/x"}, "Id": "001", "Name": "Acme"}]}),
        ))
        .mount(&server)
        .await;
    let client = client(token_connection(&server, TOKEN), fast_options());
    let legacy = client
        .search("FIND {Acme} IN NAME FIELDS")
        .await
        .expect("search");
    assert!(!legacy.search_records.is_empty());
    let found = client
        .parameterized_search(&ParameterizedSearch {
            text: "Acme".into(),
            objects: vec![SearchObject {
                name: "Account".into(),
                fields: vec!["Id".into(), "Name".into()],
                limit: Some(10),
            }],
            overall_limit: None,
        })
        .await
        .expect("parameterized search");
    assert_eq!(
        found.search_records[0].get("Name").and_then(|n| n.as_str()),
        Some("Acme")
    );
}

#[tokio::test]
async fn salesforce_errors_become_sf_errors_with_next_steps() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(query_param("q", "SELECT Foo FROM Account"))
        .respond_with(sf_json(
            400,
            fixture("restforce/query-error-invalid-field.json"),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/sobjects/Whizbang/describe")))
        .respond_with(sf_json(
            404,
            fixture("restforce/error-not-found-describe.json"),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(query_param("q", "SELECT Id FROM Lead"))
        .respond_with(sf_json(
            403,
            json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(query_param("q", "SELECT Id FROM Case"))
        .respond_with(sf_json(
            403,
            json!([{"message": "The REST API is not enabled for this Organization.", "errorCode": "API_DISABLED_FOR_ORG"}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{VERSION}/sobjects/Contact")))
        .respond_with(sf_json(
            400,
            json!([{"message": "Required fields are missing: [LastName]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["LastName"]}]),
        ))
        .mount(&server)
        .await;
    let client = client(token_connection(&server, TOKEN), fast_options());

    let invalid = client
        .query::<Value>("SELECT Foo FROM Account", QueryOptions::default())
        .await
        .expect_err("invalid field");
    assert_eq!(invalid.error_code(), Some("INVALID_FIELD"));
    assert_eq!(invalid.http_status(), Some(400));

    let missing = client
        .describe_object("Whizbang", None)
        .await
        .expect_err("unknown object");
    assert_eq!(missing.error_code(), Some("NOT_FOUND"));
    assert!(missing.next_step().contains("does not exist"));

    let limit = client
        .query::<Value>("SELECT Id FROM Lead", QueryOptions::default())
        .await
        .expect_err("limit");
    assert_eq!(limit.limit_name(), Some("TotalRequests"));
    assert!(limit.next_step().contains("TotalRequests"));

    let disabled = client
        .query::<Value>("SELECT Id FROM Case", QueryOptions::default())
        .await
        .expect_err("api disabled");
    assert!(disabled.next_step().contains("edition lacks API access"));

    let required = client
        .create("Contact", &fields(json!({"FirstName": "Ada"})))
        .await
        .expect_err("required field");
    assert_eq!(required.fields(), ["LastName".to_string()]);
    assert!(required.next_step().contains("LastName"));
}

#[tokio::test]
async fn usage_is_read_from_every_response_and_the_ceiling_stops_normal_calls() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "Sforce-Limit-Info",
                    "api-usage=14000/15000; api-bursts=1/750",
                )
                .set_body_json(fixture("restforce/query-empty.json")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Sforce-Limit-Info", "api-usage=14900/15000")
                .set_body_json(fixture("restforce/query-empty.json")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_get(&server, "/limits", fixture("simple-salesforce/limits.json")).await;
    let options = ClientOptions {
        usage: UsagePolicy {
            warn_share: 0.90,
            ceiling_share: 0.99,
            ..UsagePolicy::default()
        },
        ..fast_options()
    };
    let client = client(token_connection(&server, TOKEN), options);
    assert_eq!(client.usage(), UsageLevel::Unknown);

    client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect("first");
    match client.usage() {
        UsageLevel::Warning(u) => assert_eq!((u.used, u.max), (14000, 15000)),
        other => panic!("expected a warning, got {other:?}"),
    }
    assert!(client.usage().warning().is_some_and(|w| w.contains("93%")));

    client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect("second");
    assert!(matches!(client.usage(), UsageLevel::Ceiling(_)));
    let refused = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("above the ceiling");
    assert!(matches!(
        refused,
        SfError::UsageCeiling {
            used: 14900,
            max: 15000,
            ceiling_percent: 99
        }
    ));
    // Essential calls still go.
    client.limits().await.expect("limits are essential");
    let queries = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/query"))
        .count();
    assert_eq!(queries, 2, "the refused query never left");
}

#[tokio::test]
async fn reads_are_retried_on_5xx_but_writes_are_not() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>Maintenance</html>"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .respond_with(sf_json(200, fixture("restforce/query-empty.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{VERSION}/sobjects/Account")))
        .respond_with(ResponseTemplate::new(503).set_body_string("unavailable"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(token_connection(&server, TOKEN), fast_options());
    let page = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect("third attempt succeeds");
    assert!(page.done);
    let err = client
        .create("Account", &fields(json!({"Name": "Acme"})))
        .await
        .expect_err("503 on create");
    // Not Salesforce's error body: a proxy in between failed, and whether the create reached
    // Salesforce is unknown, so the advice is to look before trying again.
    assert!(
        matches!(
            err,
            SfError::WriteOutcomeUnknown {
                failure: NetworkFailure::Gateway(503),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.next_step().contains("Do not simply retry"));
}

#[tokio::test]
async fn a_write_refused_by_salesforce_itself_is_a_known_failure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{VERSION}/sobjects/Account")))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!([{
            "message": "Server is unavailable", "errorCode": "SERVER_UNAVAILABLE"
        }])))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(token_connection(&server, TOKEN), fast_options());
    let err = client
        .create("Account", &fields(json!({"Name": "Acme"})))
        .await
        .expect_err("503 on create");
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(err.error_code(), Some("SERVER_UNAVAILABLE"));
}

#[tokio::test]
async fn reads_give_up_after_bounded_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!([{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}]),
        ))
        .expect(3)
        .mount(&server)
        .await;
    let client = client(token_connection(&server, TOKEN), fast_options());
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("always 500");
    assert_eq!(err.error_code(), Some("UNKNOWN_EXCEPTION"));
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_create_without_an_answer_reports_an_unknown_outcome_and_is_not_resent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{VERSION}/sobjects/Account")))
        .respond_with(
            sf_json(201, fixture("cumulusci/create-account-201.json"))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let options = ClientOptions {
        request_timeout: Duration::from_millis(300),
        ..fast_options()
    };
    let client = client(token_connection(&server, TOKEN), options);
    let err = client
        .create("Account", &fields(json!({"Name": "Acme"})))
        .await
        .expect_err("times out");
    match &err {
        SfError::WriteOutcomeUnknown {
            kind: RecordWrite::Create,
            object,
            failure: NetworkFailure::Timeout,
            ..
        } => assert_eq!(object, "Account"),
        other => panic!("expected an unknown outcome, got {other:?}"),
    }
    assert!(err.to_string().contains("may or may not"));
    assert!(err.next_step().contains("Do not simply retry"));
}

#[tokio::test]
async fn nothing_listening_fails_fast_and_names_sf_instance_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut connection = sfmcp_salesforce::Connection::direct(
        Some(url(&base)),
        sfmcp_salesforce::DirectCredential::AccessToken {
            access_token: sfmcp_salesforce::Secret::new(TOKEN),
            login_url: url(&base),
            client: None,
        },
    );
    connection.api_version = Some("62.0".into());
    // Default options: the production backoff must be fast for a dead port too.
    let client = client(connection, ClientOptions::default());
    let started = Instant::now();
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("nothing listens");
    // A sanity bound on the retry budget, not a speed measurement.
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            err,
            SfError::Unreachable {
                failure: NetworkFailure::Refused,
                setting: "SF_INSTANCE_URL",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.next_step().contains("SF_INSTANCE_URL"));
    assert!(!err.to_string().contains(TOKEN));
    // A create that could not even connect was provably not sent: no "unknown outcome".
    let create = client
        .create("Account", &fields(json!({"Name": "Acme"})))
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(
            create,
            SfError::Unreachable {
                failure: NetworkFailure::Refused,
                ..
            }
        ),
        "{create:?}"
    );
}

#[tokio::test]
async fn describe_is_cached_per_tenant_and_revalidated_with_if_modified_since() {
    let server = MockServer::start().await;
    let last_modified = "Wed, 03 Jul 2013 19:43:31 GMT";
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/sobjects/Account/describe")))
        // wiremock's `header` matcher splits on commas, which HTTP dates contain.
        .and(move |request: &wiremock::Request| {
            request
                .headers
                .get("if-modified-since")
                .is_some_and(|v| v.as_bytes() == last_modified.as_bytes())
        })
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/sobjects/Account/describe")))
        .respond_with(
            sf_json(200, fixture("cumulusci/describe-account.json"))
                .insert_header("Last-Modified", last_modified),
        )
        .expect(1)
        .mount(&server)
        .await;
    let options = ClientOptions {
        describe_ttl: Duration::ZERO,
        ..fast_options()
    };
    let client = client(token_connection(&server, TOKEN), options);
    let first = client.describe("Account").await.expect("describe");
    assert!(first.field("Name").is_some());
    // Stale at once (TTL zero): revalidated, the 304 keeps the same entry.
    let second = client.describe("account").await.expect("revalidated");
    assert!(Arc::ptr_eq(&first, &second));
}

#[tokio::test]
async fn tenant_schema_answers_found_not_loaded_and_unknown() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        "/sobjects/Account/describe",
        fixture("cumulusci/describe-account.json"),
    )
    .await;
    mount_get(
        &server,
        "/sobjects",
        fixture("cumulusci/describe-global.json"),
    )
    .await;
    let context = sfmcp_salesforce::ClientContext::new(fast_options()).expect("context");
    let tenant_a =
        sfmcp_salesforce::SalesforceClient::new(context.clone(), token_connection(&server, TOKEN))
            .expect("client a");
    let tenant_b = sfmcp_salesforce::SalesforceClient::new(
        context,
        token_connection(&server, "00Dx!another-tenant-token"),
    )
    .expect("client b");
    assert_ne!(tenant_a.tenant(), tenant_b.tenant());

    let schema = tenant_a.schema();
    assert!(matches!(schema.object("Account"), Lookup::NotLoaded));
    tenant_a.describe("Account").await.expect("describe");
    assert!(matches!(schema.object("ACCOUNT"), Lookup::Found(s) if s.name == "Account"));
    // Nothing of tenant A's cache is visible to tenant B.
    assert!(matches!(
        tenant_b.schema().object("Account"),
        Lookup::NotLoaded
    ));

    // Before describe global, an unknown name may still exist.
    assert!(matches!(schema.object("Nope__c"), Lookup::NotLoaded));
    let objects = tenant_a.objects().await.expect("describe global");
    assert!(objects.sobjects.len() > 100);
    assert!(matches!(schema.object("Nope__c"), Lookup::Unknown));
    assert!(matches!(schema.object("Contact"), Lookup::NotLoaded));
    assert!(schema.object_names().iter().any(|n| n == "Opportunity"));
    assert_eq!(
        schema.object_for_key_prefix("006").as_deref(),
        Some("Opportunity")
    );
}

#[tokio::test]
async fn one_tenant_has_at_most_its_concurrency_cap_in_flight() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .respond_with(
            sf_json(200, fixture("restforce/query-empty.json"))
                .set_delay(Duration::from_millis(100)),
        )
        .expect(6)
        .mount(&server)
        .await;
    let options = ClientOptions {
        max_concurrent_per_tenant: 2,
        ..fast_options()
    };
    let client = client(token_connection(&server, TOKEN), options);
    let started = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("query");
    }
    // Six 100 ms calls, two at a time, cannot finish in less than three rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn client_for_reuses_a_tenants_client_and_separates_credentials() {
    let server = MockServer::start().await;
    let context = sfmcp_salesforce::ClientContext::new(fast_options()).expect("context");
    let a1 = context
        .client_for(token_connection(&server, TOKEN))
        .expect("a1");
    let a2 = context
        .client_for(token_connection(&server, TOKEN))
        .expect("a2");
    let b = context
        .client_for(token_connection(&server, "00Dx!someone-else"))
        .expect("b");
    assert_eq!(a1.tenant(), a2.tenant());
    assert_ne!(a1.tenant(), b.tenant());
    assert!(!a1.tenant().as_str().contains(TOKEN));
}

#[tokio::test]
async fn ids_name_their_object_from_standard_prefixes_or_describe_global() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        "/sobjects",
        fixture("cumulusci/describe-global.json"),
    )
    .await;
    let client = client(token_connection(&server, TOKEN), fast_options());
    let contact = SalesforceId::parse("003RO0000035WQgYAM").expect("id");
    assert_eq!(
        client
            .object_for_id(&contact)
            .await
            .expect("lookup")
            .as_deref(),
        Some("Contact")
    );
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "standard prefixes need no call"
    );
    let global = fixture("cumulusci/describe-global.json");
    // An object the built-in table does not know, as a custom object would be.
    let custom = global["sobjects"]
        .as_array()
        .expect("sobjects")
        .iter()
        .find(|o| {
            o["keyPrefix"]
                .as_str()
                .is_some_and(|p| sfmcp_salesforce::standard_object_for_prefix(p).is_none())
        })
        .expect("an object whose prefix is not in the standard table");
    let prefix = custom["keyPrefix"].as_str().expect("prefix");
    let id = SalesforceId::parse(&format!("{prefix}000000000001")).expect("custom id");
    assert_eq!(
        client.object_for_id(&id).await.expect("lookup"),
        custom["name"].as_str().map(str::to_string)
    );
}

#[tokio::test]
async fn a_read_that_times_out_names_the_setting_and_is_not_asked_again() {
    let server = MockServer::start().await;
    // Once: a retry after a timeout would multiply the wait past an MCP client's patience.
    Mock::given(method("GET"))
        .respond_with(
            sf_json(200, fixture("restforce/query-empty.json")).set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let options = ClientOptions {
        request_timeout: Duration::from_millis(100),
        ..fast_options()
    };
    let client = client(token_connection(&server, TOKEN), options);
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("times out");
    assert!(
        matches!(
            err,
            SfError::Unreachable {
                failure: NetworkFailure::Timeout,
                setting: "SF_INSTANCE_URL",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.next_step().contains("did not answer in time"));
}

#[tokio::test]
async fn a_timeout_names_the_request_timeout_setting_not_the_address() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            sf_json(200, fixture("restforce/query-empty.json")).set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let options = ClientOptions {
        request_timeout: Duration::from_millis(100),
        ..fast_options()
    };
    let client = client(token_connection(&server, TOKEN), options);
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("times out");
    // The server was reached and answered slowly: "could not reach" would send people to
    // SF_INSTANCE_URL, which is right.
    let message = err.to_string();
    assert!(!message.contains("could not reach"), "{message}");
    assert!(message.contains("SFMCP_REQUEST_TIMEOUT_SECS"), "{message}");
    assert!(
        err.next_step().contains("Raise SFMCP_REQUEST_TIMEOUT_SECS"),
        "{}",
        err.next_step()
    );
}

#[tokio::test]
async fn a_tls_failure_is_named_as_such() {
    // https to a plain-http listener on loopback: the handshake cannot succeed.
    let server = MockServer::start().await;
    let https = server.uri().replacen("http://", "https://", 1);
    let mut connection = sfmcp_salesforce::Connection::direct(
        Some(url(&https)),
        sfmcp_salesforce::DirectCredential::AccessToken {
            access_token: sfmcp_salesforce::Secret::new(TOKEN),
            login_url: url(&https),
            client: None,
        },
    );
    connection.api_version = Some("62.0".into());
    let client = client(connection, fast_options());
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("no TLS there");
    assert!(
        matches!(
            err,
            SfError::Unreachable {
                failure: NetworkFailure::Tls,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.next_step().contains("secure connection"));
}

#[tokio::test]
async fn trace_level_logs_hold_no_token() {
    use std::sync::Mutex;
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(header("authorization", "Bearer 00Dx!old-token"))
        .respond_with(sf_json(
            401,
            fixture("restforce/error-expired-session.json"),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "00Dx!renewed-token",
            "instance_url": server.uri(),
            "scope": "api"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .respond_with(sf_json(200, fixture("restforce/query-empty.json")))
        .mount(&server)
        .await;
    let client = client(
        refresh_connection(&server, "00Dx!old-token"),
        fast_options(),
    );
    client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect("query after refresh");
    drop(_guard);
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("lock")).to_string();
    assert!(logs.contains("Salesforce request"), "logging was captured");
    for secret in [
        "old-token",
        "renewed-token",
        "5Aep-refresh-token-value",
        "client-secret-value",
    ] {
        assert!(!logs.contains(secret), "{secret} in logs");
    }
}

#[tokio::test]
async fn the_concurrent_limit_is_retried_for_reads_but_the_daily_limit_is_not() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(query_param("q", "SELECT Id FROM Account"))
        .respond_with(sf_json(
            403,
            json!([{"message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(query_param("q", "SELECT Id FROM Account"))
        .respond_with(sf_json(200, fixture("restforce/query-empty.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(query_param("q", "SELECT Id FROM Lead"))
        .respond_with(sf_json(
            403,
            json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(token_connection(&server, TOKEN), fast_options());
    client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect("retried after the concurrent limit");
    let err = client
        .query::<Value>("SELECT Id FROM Lead", QueryOptions::default())
        .await
        .expect_err("daily limit");
    assert_eq!(err.limit_name(), Some("TotalRequests"));
}

#[tokio::test]
async fn concurrent_describes_of_one_object_share_one_fetch() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/sobjects/Contact/describe")))
        .respond_with(
            sf_json(200, fixture("cumulusci/describe-contact.json"))
                .set_delay(Duration::from_millis(100)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(token_connection(&server, TOKEN), fast_options());
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.describe("Contact").await })
        })
        .collect();
    let mut schemas = Vec::new();
    for call in calls {
        schemas.push(call.await.expect("task").expect("describe"));
    }
    assert!(schemas.iter().all(|s| Arc::ptr_eq(s, &schemas[0])));
}

#[tokio::test]
async fn forgetting_a_tenant_drops_its_describes_and_usage() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        "/sobjects/Account/describe",
        fixture("cumulusci/describe-account.json"),
    )
    .await;
    let context = sfmcp_salesforce::ClientContext::new(fast_options()).expect("context");
    let client = context
        .client_for(token_connection(&server, TOKEN))
        .expect("client");
    client.describe("Account").await.expect("describe");
    assert!(matches!(
        client.schema().object("Account"),
        Lookup::Found(_)
    ));
    assert_eq!(
        context.usage().snapshot()[0].1.map(|u| u.used),
        Some(18),
        "usage learnt from the response"
    );
    context.forget_tenant(client.tenant());
    assert!(matches!(
        client.schema().object("Account"),
        Lookup::NotLoaded
    ));
    assert!(context.usage().snapshot().is_empty());
}
