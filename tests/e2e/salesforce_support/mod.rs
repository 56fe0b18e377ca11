//! Helpers shared by the `salesforce_*` test files: fixtures, a fake org on wiremock, clients.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;
use sfmcp_salesforce::{
    ClientContext, ClientOptions, Connection, DirectCredential, OAuthClient, RetryPolicy,
    SalesforceClient, Secret,
};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const VERSION: &str = "/services/data/v62.0";
pub const TOKEN: &str = "00Dx0000000BV7z!AR8AQ.test-access-token";

pub fn fixture_text(name: &str) -> String {
    let path = format!("{}/../shared/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn key_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn private_key_pem() -> Vec<u8> {
    std::fs::read(key_path("test-only-rsa-key.pem")).expect("test key")
}

pub fn public_key_pem() -> Vec<u8> {
    std::fs::read(key_path("test-only-rsa-key.pub.pem")).expect("test public key")
}

pub fn url(s: &str) -> Url {
    Url::parse(s).expect("test url")
}

/// Options for tests: short timeouts and near-zero backoff.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_retries: 2,
            connect_backoff: Duration::from_millis(1),
            server_error_backoff: Duration::from_millis(1),
        },
        ..ClientOptions::default()
    }
}

/// A connection with a fixed access token, pinned to v62.0 (no version call).
pub fn token_connection(server: &MockServer, token: &str) -> Connection {
    let mut connection = Connection::direct(
        Some(url(&server.uri())),
        DirectCredential::AccessToken {
            access_token: Secret::new(token),
            login_url: url(&server.uri()),
            client: None,
        },
    );
    connection.api_version = Some("62.0".into());
    connection
}

/// A refresh-token connection that starts with `access_token`, pinned to v62.0.
pub fn refresh_connection(server: &MockServer, access_token: &str) -> Connection {
    let mut connection = Connection::direct(
        Some(url(&server.uri())),
        DirectCredential::RefreshToken {
            login_url: url(&server.uri()),
            client: OAuthClient {
                client_id: "3MVG9-test-client".into(),
                client_secret: Some(Secret::new("client-secret-value")),
            },
            refresh_token: Secret::new("5Aep-refresh-token-value"),
            access_token: Some(Secret::new(access_token)),
        },
    );
    connection.api_version = Some("62.0".into());
    connection
}

pub fn client(connection: Connection, options: ClientOptions) -> SalesforceClient {
    SalesforceClient::new(ClientContext::new(options).expect("context"), connection)
        .expect("client")
}

/// Salesforce's JSON with the usage header it sends on every response.
pub fn sf_json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("Sforce-Limit-Info", "api-usage=18/15000")
        .set_body_json(body)
}

/// Fails the test loudly if the client ever sends DELETE to this server.
pub async fn forbid_delete(server: &MockServer) {
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(405))
        .expect(0)
        .named("no DELETE, ever")
        .mount(server)
        .await;
}

/// Mounts `GET {VERSION}{resource}` answering `body`.
pub async fn mount_get(server: &MockServer, resource: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("{VERSION}{resource}")))
        .respond_with(sf_json(200, body))
        .mount(server)
        .await;
}
