//! The Paragon proxy plane: request shape, minted user tokens, paging, Paragon's errors.
// Test helpers outside #[test] functions panic on broken fixtures by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::salesforce_support;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sfmcp_salesforce::{
    AuthFlow, Connection, ParagonAuth, ParagonClaims, ParagonUser, PlaneKind, QueryOptions,
    RecordLinks, SalesforceClient, Secret, SfError, SigningKey,
};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use salesforce_support::*;

const PROJECT: &str = "9a1b2c3d-project";
const CREDENTIAL: &str = "a5e995c2-7709-43fd-9cdf-f759faa52497";
const BASE: &str = "/projects/9a1b2c3d-project/sdk/proxy/salesforce";

fn paragon(server: &MockServer, user: ParagonUser) -> SalesforceClient {
    let connection = Connection::paragon(ParagonAuth {
        proxy_url: url(&server.uri()),
        project_id: PROJECT.into(),
        user,
        credential_id: Some(CREDENTIAL.into()),
        instance_url: Some(url("https://acme.my.salesforce.com")),
    });
    client(connection, fast_options())
}

fn signing_user() -> ParagonUser {
    ParagonUser::Signing {
        key: SigningKey::from_pem(&private_key_pem()).expect("key"),
        user_id: "customer-42".into(),
    }
}

fn bearer(request: &wiremock::Request) -> String {
    request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .expect("bearer token")
        .to_string()
}

#[tokio::test]
async fn requests_go_through_the_proxy_with_a_minted_user_token() {
    let server = MockServer::start().await;
    forbid_delete(&server).await;
    let mut first = fixture("restforce/query-paginated-first.json");
    first["nextRecordsUrl"] = json!("/services/data/v62.0/query/01gD0000002HU6KIAW-2000");
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/query")))
        .and(query_param("q", "SELECT Id FROM Account"))
        .and(header("x-paragon-credential", CREDENTIAL))
        .and(header("x-paragon-use-raw-response", "true"))
        .respond_with(sf_json(200, first))
        .expect(1)
        .mount(&server)
        .await;
    // nextRecordsUrl rewritten: the /services/data/vXX.X prefix becomes the proxy base.
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/query/01gD0000002HU6KIAW-2000")))
        .and(header("x-paragon-credential", CREDENTIAL))
        .respond_with(sf_json(200, fixture("restforce/query-paginated-last.json")))
        .expect(1)
        .mount(&server)
        .await;
    let client = paragon(&server, signing_user());
    assert_eq!(client.plane(), PlaneKind::Paragon);
    let info = client
        .connect()
        .await
        .expect("connects without a network call");
    assert!(info.tenant.as_str().contains("customer-42"));
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );

    let page = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect("first page");
    let next = page.next_records_url.expect("more");
    let last = client
        .query_more::<Value>(&next, None)
        .await
        .expect("last page");
    assert!(last.done);

    let requests = server.received_requests().await.unwrap_or_default();
    let token = bearer(&requests[0]);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    let claims = jsonwebtoken::decode::<ParagonClaims>(
        &token,
        &DecodingKey::from_rsa_pem(&public_key_pem()).expect("public key"),
        &validation,
    )
    .expect("the user token verifies with the project's public key")
    .claims;
    assert_eq!(claims.sub, "customer-42");
    assert_eq!(claims.exp - claims.iat, 600, "short-lived");
    // The token is reused, not minted per request.
    assert_eq!(bearer(&requests[1]), token);
    assert_eq!(client.token_renewals(), 1);

    // Record links still point at the tenant's Lightning host.
    assert_eq!(
        client.record_links().await.expect("links"),
        RecordLinks::Lightning {
            origin: "https://acme.lightning.force.com".into()
        }
    );
}

#[tokio::test]
async fn writes_and_describe_use_the_same_relative_paths() {
    let server = MockServer::start().await;
    forbid_delete(&server).await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE}/sobjects/Lead")))
        .respond_with(sf_json(201, fixture("restforce/create-success.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/sobjects/Lead/describe")))
        .respond_with(sf_json(200, fixture("cumulusci/describe-lead.json")))
        .expect(1)
        .mount(&server)
        .await;
    let client = paragon(
        &server,
        ParagonUser::Token(Secret::new("host-minted-token")),
    );
    let fields = match json!({"LastName": "Lovelace", "Company": "Analytical"}) {
        serde_json::Value::Object(map) => map,
        _ => unreachable!(),
    };
    let created = client.create("Lead", &fields).await.expect("created");
    assert!(created.success);
    let lead = client.describe("Lead").await.expect("describe");
    assert_eq!(lead.name, "Lead");
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(requests.iter().all(|r| bearer(r) == "host-minted-token"));
}

#[tokio::test]
async fn paragon_errors_are_told_apart_from_salesforce_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/query")))
        .and(query_param("q", "SELECT Id FROM Account"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "Integration not enabled for user."})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/query")))
        .and(query_param("q", "SELECT Nope FROM Account"))
        .respond_with(sf_json(
            400,
            fixture("restforce/query-error-invalid-field.json"),
        ))
        .mount(&server)
        .await;
    let client = paragon(
        &server,
        ParagonUser::Token(Secret::new("host-minted-token")),
    );
    let not_connected = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("not connected");
    assert!(matches!(
        not_connected,
        SfError::Paragon { status: 400, .. }
    ));
    assert!(
        not_connected
            .next_step()
            .contains("has not connected Salesforce")
    );
    let invalid = client
        .query::<Value>("SELECT Nope FROM Account", QueryOptions::default())
        .await
        .expect_err("salesforce error passes through");
    assert_eq!(invalid.error_code(), Some("INVALID_FIELD"));
}

#[tokio::test]
async fn a_rejected_fixed_user_token_names_its_setting() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/query")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Invalid token"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = paragon(
        &server,
        ParagonUser::Token(Secret::new("expired-user-token")),
    );
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("rejected");
    assert!(matches!(
        err,
        SfError::Auth {
            flow: AuthFlow::ParagonStaticToken { .. },
            ..
        }
    ));
    assert!(err.next_step().contains("PARAGON_USER_TOKEN"));
    assert!(!err.to_string().contains("expired-user-token"));
}

#[tokio::test]
async fn a_rejected_minted_token_is_reminted_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/query")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Token expired"})))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/query")))
        .respond_with(sf_json(200, fixture("restforce/query-empty.json")))
        .expect(1)
        .mount(&server)
        .await;
    let client = paragon(&server, signing_user());
    client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect("second token accepted");
    assert_eq!(client.token_renewals(), 2);
}

#[tokio::test]
async fn tenants_are_keyed_by_user_and_credential() {
    let server = MockServer::start().await;
    let a = paragon(&server, signing_user());
    let b = client(
        Connection::paragon(ParagonAuth {
            proxy_url: url(&server.uri()),
            project_id: PROJECT.into(),
            user: signing_user(),
            credential_id: Some("another-credential".into()),
            instance_url: None,
        }),
        fast_options(),
    );
    assert_ne!(a.tenant(), b.tenant());
    assert_eq!(b.record_links().await.expect("links"), RecordLinks::None);
}

#[tokio::test]
async fn without_an_instance_url_record_links_learn_the_host_from_a_describe() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/sobjects/User/describe")))
        .respond_with(sf_json(200, fixture("cumulusci/describe-account.json")))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(
        Connection::paragon(ParagonAuth {
            proxy_url: url(&server.uri()),
            project_id: PROJECT.into(),
            user: ParagonUser::Token(Secret::new("host-minted-token")),
            credential_id: None,
            instance_url: None,
        }),
        fast_options(),
    );
    // The recorded describe's uiDetailTemplate is on a non-enhanced sandbox host.
    let links = client.record_links().await.expect("links");
    assert_eq!(
        links,
        RecordLinks::Lightning {
            origin: "https://data-platform-9432-dev-ed.lightning.force.com".into()
        }
    );
    // Learnt once: the second call needs no request.
    assert_eq!(client.record_links().await.expect("links"), links);
}
