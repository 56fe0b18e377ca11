//! Token flows, single-flight refresh, scopes, and secrets kept out of every output.
// Test helpers outside #[test] functions panic on broken fixtures by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::salesforce_support;

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sfmcp_salesforce::{
    AuthFlow, Connection, DirectCredential, JwtBearerClaims, OAuthClient, QueryOptions, ScopeInfo,
    Secret, SfError, SigningKey,
};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use salesforce_support::*;

const OLD: &str = "00Dx!old-access-token";
const NEW: &str = "00Dx!new-access-token";

fn form_value(body: &[u8], key: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn mount_refresh(server: &MockServer, delay: Duration, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({
                    "access_token": NEW,
                    "instance_url": server.uri(),
                    "id": "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
                    "token_type": "Bearer",
                    "issued_at": "1278448832702",
                    "signature": "sig=",
                    "scope": "api refresh_token"
                }))
                .set_delay(delay),
        )
        .expect(expect)
        .mount(server)
        .await;
}

async fn mount_query_by_token(server: &MockServer, old_delay: Duration) {
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(header("authorization", format!("Bearer {OLD}").as_str()))
        .respond_with(
            sf_json(401, fixture("restforce/error-expired-session.json")).set_delay(old_delay),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .and(header("authorization", format!("Bearer {NEW}").as_str()))
        .respond_with(sf_json(200, fixture("restforce/query-empty.json")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn an_expired_session_is_refreshed_once_and_the_call_retried_once() {
    let server = MockServer::start().await;
    forbid_delete(&server).await;
    mount_refresh(&server, Duration::ZERO, 1).await;
    mount_query_by_token(&server, Duration::ZERO).await;
    let client = client(refresh_connection(&server, OLD), fast_options());
    let page = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect("retried with the new token");
    assert!(page.done);
    assert_eq!(client.token_renewals(), 1);
    let requests = server.received_requests().await.unwrap_or_default();
    let token_request = requests
        .iter()
        .find(|r| r.url.path() == "/services/oauth2/token")
        .expect("token request");
    assert_eq!(
        form_value(&token_request.body, "refresh_token").as_deref(),
        Some("5Aep-refresh-token-value")
    );
    assert_eq!(
        form_value(&token_request.body, "client_id").as_deref(),
        Some("3MVG9-test-client")
    );
    // The scopes of the refreshed grant are known now.
    match client.scopes().await.expect("scopes") {
        ScopeInfo::Granted(scopes) => assert!(scopes.allows_api()),
        other => panic!("expected scopes, got {other:?}"),
    }
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let server = MockServer::start().await;
    // Slow 401s and a slow token endpoint keep every caller in flight together.
    mount_refresh(&server, Duration::from_millis(150), 1).await;
    mount_query_by_token(&server, Duration::from_millis(100)).await;
    let client = client(refresh_connection(&server, OLD), fast_options());
    let calls = (0..8).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
                .await
        })
    });
    for call in futures_join(calls).await {
        call.expect("task")
            .expect("query succeeds after the shared refresh");
    }
    assert_eq!(client.token_renewals(), 1, "one refresh for eight callers");
    let requests = server.received_requests().await.unwrap_or_default();
    let refreshes = requests
        .iter()
        .filter(|r| r.url.path() == "/services/oauth2/token")
        .count();
    assert_eq!(refreshes, 1);
}

async fn futures_join<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut results = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        results.push(handle.await);
    }
    results
}

#[tokio::test]
async fn a_second_rejection_after_refresh_is_surfaced_not_looped() {
    let server = MockServer::start().await;
    mount_refresh(&server, Duration::ZERO, 1).await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .respond_with(sf_json(
            401,
            fixture("restforce/error-expired-session.json"),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(refresh_connection(&server, OLD), fast_options());
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("still rejected");
    assert_eq!(err.error_code(), Some("INVALID_SESSION_ID"));
    assert!(err.next_step().starts_with("Reauthorize the connection"));
}

#[tokio::test]
async fn an_expired_refresh_token_says_to_reauthorize() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(fixture("restforce/oauth-refresh-error.json")),
        )
        .mount(&server)
        .await;
    mount_query_by_token(&server, Duration::ZERO).await;
    let client = client(refresh_connection(&server, OLD), fast_options());
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("refresh fails");
    match &err {
        SfError::Auth {
            flow: AuthFlow::RefreshToken,
            error,
            status: Some(400),
            ..
        } => assert_eq!(error, "invalid_grant"),
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert!(err.next_step().contains("Reauthorize"));
}

#[tokio::test]
async fn a_fixed_token_that_expires_says_to_reauthorize_without_a_refresh_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .respond_with(sf_json(
            401,
            fixture("restforce/error-expired-session.json"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(token_connection(&server, OLD), fast_options());
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("expired");
    assert_eq!(err.http_status(), Some(401));
    assert!(err.next_step().starts_with("Reauthorize the connection"));
}

#[tokio::test]
async fn client_credentials_learn_instance_url_and_scopes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": NEW,
            "instance_url": server.uri(),
            "id": "https://acme.my.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
            "token_type": "Bearer",
            "issued_at": "1278448832702",
            "scope": "web openid"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut connection = Connection::direct(
        None,
        DirectCredential::ClientCredentials {
            login_url: url(&server.uri()),
            client_id: "3MVG9-cc".into(),
            client_secret: Secret::new("cc-secret"),
        },
    );
    connection.api_version = Some("62.0".into());
    let client = client(connection, fast_options());
    let info = client.connect().await.expect("connects");
    assert_eq!(
        info.instance_url.map(|u| u.origin()),
        Some(url(&server.uri()).origin())
    );
    assert_eq!(
        info.scopes.allows_api(),
        Some(false),
        "no `api` scope granted"
    );
    assert!(
        info.identity_url
            .is_some_and(|id| id.ends_with("/005x00000012Q9P"))
    );
}

#[tokio::test]
async fn jwt_bearer_sends_a_signed_assertion_with_the_right_claims() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(body_string_contains(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": NEW,
            "instance_url": server.uri(),
            "scope": "api",
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let login = url(&server.uri());
    let mut connection = Connection::direct(
        None,
        DirectCredential::JwtBearer {
            login_url: login.clone(),
            client_id: "3MVG9-jwt-app".into(),
            username: "integration@acme.example".into(),
            key: SigningKey::from_pem(&private_key_pem()).expect("key"),
        },
    );
    connection.api_version = Some("62.0".into());
    let client = client(connection, fast_options());
    client.connect().await.expect("connects");

    let requests = server.received_requests().await.unwrap_or_default();
    let assertion = form_value(&requests[0].body, "assertion").expect("assertion");
    let audience = server.uri();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience.as_str()]);
    validation.set_issuer(&["3MVG9-jwt-app"]);
    let decoded = jsonwebtoken::decode::<JwtBearerClaims>(
        &assertion,
        &DecodingKey::from_rsa_pem(&public_key_pem()).expect("public key"),
        &validation,
    )
    .expect("assertion verifies with the app's certificate key");
    assert_eq!(decoded.claims.sub, "integration@acme.example");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    assert!(decoded.claims.exp > now && decoded.claims.exp <= now + 180);
}

#[tokio::test]
async fn a_fixed_token_is_introspected_for_its_scopes_when_the_app_is_known() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/introspect"))
        .and(body_string_contains("token_type_hint=access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "active": true,
            "scope": "id api web refresh_token openid",
            "client_id": "3MVG9-test-client",
            "token_type": "access_token"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let mut connection = Connection::direct(
        Some(url(&server.uri())),
        DirectCredential::AccessToken {
            access_token: Secret::new(OLD),
            login_url: url(&server.uri()),
            client: Some(OAuthClient {
                client_id: "3MVG9-test-client".into(),
                client_secret: Some(Secret::new("client-secret-value")),
            }),
        },
    );
    connection.api_version = Some("62.0".into());
    let client = client(connection, fast_options());
    let info = client.connect().await.expect("connects");
    assert_eq!(info.scopes.allows_api(), Some(true));
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(form_value(&requests[0].body, "token").as_deref(), Some(OLD));
}

#[tokio::test]
async fn no_token_or_secret_appears_in_any_debug_or_display_output() {
    let server = MockServer::start().await;
    mount_refresh(&server, Duration::ZERO, 1).await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/query")))
        .respond_with(sf_json(
            401,
            fixture("restforce/error-expired-session.json"),
        ))
        .mount(&server)
        .await;
    let connection = refresh_connection(&server, OLD);
    let client = client(connection.clone(), fast_options());
    let err = client
        .query::<Value>("SELECT Id FROM Account", QueryOptions::default())
        .await
        .expect_err("rejected twice");
    let info = client.connect().await.expect("token still obtainable");
    let token_response: sfmcp_salesforce::TokenResponse =
        serde_json::from_str(&fixture_text("restforce/oauth-token-success.json")).expect("parses");
    let key = SigningKey::from_pem(&private_key_pem()).expect("key");
    let outputs = [
        format!("{connection:?}"),
        format!("{client:?}"),
        format!("{info:?}"),
        format!("{err:?}"),
        format!("{err}"),
        err.next_step(),
        format!("{token_response:?}"),
        format!("{key:?}"),
        format!("{:?}", connection.tenant_key()),
    ];
    let secrets = [
        OLD,
        NEW,
        "5Aep-refresh-token-value",
        "client-secret-value",
        "AR8AQAxo9UfVkh8AlV0Gomt9Czx9LjHnSSpwBMmbRcgKFmxOtvxjTrKW19ye6PE3Ds1eQz3z8jr3W7_VbWmEu4Q8TVGSTHxs",
        "PRIVATE KEY",
    ];
    for output in &outputs {
        for secret in &secrets {
            assert!(!output.contains(secret), "{secret} leaked in {output}");
        }
    }
}

/// What Salesforce answers a REST call whose token's grant lacks `api`.
fn no_api_scope_answer() -> ResponseTemplate {
    sf_json(
        401,
        json!([{"errorCode": "INVALID_SESSION_ID", "message": "This session is not valid for use with the REST API"}]),
    )
}

#[tokio::test]
async fn a_grant_without_api_is_a_missing_scope_and_spends_no_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "00Dx!fresh-token-without-api",
            "instance_url": server.uri(),
            "scope": "web openid refresh_token",
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/limits")))
        .respond_with(no_api_scope_answer())
        .mount(&server)
        .await;
    let mut connection = Connection::direct(
        Some(url::Url::parse(&server.uri()).expect("url")),
        DirectCredential::RefreshToken {
            login_url: url::Url::parse(&server.uri()).expect("url"),
            client: OAuthClient {
                client_id: "3MVG9-test-client".into(),
                client_secret: Some(Secret::new("client-secret-value")),
            },
            refresh_token: Secret::new("5Aep-refresh-token-value"),
            access_token: None,
        },
    );
    connection.api_version = Some("62.0".into());
    let client = client(connection, fast_options());
    let info = client.connect().await.expect("connects");
    assert_eq!(info.scopes.allows_api(), Some(false));
    // The MCP layer can ask before a call.
    assert_eq!(client.scope_granted("api"), Some(false));
    assert_eq!(client.scope_granted("web"), Some(true));
    let err = client.limits().await.expect_err("no api scope");
    assert!(
        matches!(&err, SfError::MissingScope { scope, .. } if scope == "api"),
        "{err:?}"
    );
    assert!(
        !err.next_step().contains("expired or revoked"),
        "{}",
        err.next_step()
    );
    assert!(
        err.next_step().contains("Selected OAuth Scopes"),
        "{}",
        err.next_step()
    );
    // Only the first grant: no renewal was spent on it.
    assert_eq!(client.token_renewals(), 1);
}

#[tokio::test]
async fn salesforces_no_api_answer_is_a_missing_scope_even_when_scopes_were_unknown() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}/limits")))
        .respond_with(no_api_scope_answer())
        .mount(&server)
        .await;
    // Starts with a given access token: no token response, so the scopes are unknown.
    let client = client(refresh_connection(&server, TOKEN), fast_options());
    assert_eq!(client.scope_granted("api"), None);
    let err = client.limits().await.expect_err("no api scope");
    assert!(
        matches!(&err, SfError::MissingScope { scope, granted: None, .. } if scope == "api"),
        "{err:?}"
    );
    assert_eq!(client.token_renewals(), 0, "no refresh spent");
}
