//! `sfmcp login`: PKCE web-server flow on a loopback redirect, and the owner-only
//! credentials file `serve` falls back to.
// Test helpers outside #[test] functions panic on broken fixtures by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::json;
use sfmcp_salesforce::login::{
    LoginOptions, Pkce, StoredCredentials, load_credentials, save_credentials,
};
use sfmcp_salesforce::{AuthFlow, DirectCredential, Plane, Secret, SfError};
use url::Url;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::login;
use crate::settings::ConnectionSettings;

fn url(s: &str) -> Url {
    Url::parse(s).expect("test url")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn param(url: &Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn options(server: &MockServer, port: u16) -> LoginOptions {
    LoginOptions {
        login_url: url(&server.uri()),
        client_id: "3MVG9-login-app".into(),
        client_secret: None,
        port,
        scopes: "api refresh_token".into(),
    }
}

/// Plays the browser: follows the authorize URL's redirect to the loopback callback.
fn browser(
    callback_query: impl FnOnce(&Url) -> String + Send + 'static,
    port: u16,
) -> impl FnOnce(&Url) {
    move |authorize: &Url| {
        let query = callback_query(authorize);
        tokio::spawn(async move {
            let _ = reqwest::get(format!("http://127.0.0.1:{port}/favicon.ico")).await;
            let _ = reqwest::get(format!("http://127.0.0.1:{port}/oauth/callback?{query}")).await;
        });
    }
}

#[tokio::test]
async fn the_code_is_exchanged_with_the_pkce_verifier() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "00Dx!access",
            "refresh_token": "5Aep-login-refresh",
            "instance_url": "https://acme.my.salesforce.com",
            "id": "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
            "scope": "api refresh_token",
            "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let port = free_port();
    let opts = options(&server, port);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None::<Url>));
    let seen_in_browser = seen.clone();
    let http = reqwest::Client::new();
    let credentials = login(
        &opts,
        &http,
        browser(
            move |authorize| {
                *seen_in_browser.lock().unwrap() = Some(authorize.clone());
                format!("code=the-code&state={}", param(authorize, "state"))
            },
            port,
        ),
    )
    .await
    .expect("login completes");
    assert_eq!(credentials.refresh_token.expose(), "5Aep-login-refresh");
    assert_eq!(credentials.instance_url, "https://acme.my.salesforce.com");

    let authorize = seen.lock().unwrap().clone().expect("authorize URL shown");
    assert_eq!(authorize.path(), "/services/oauth2/authorize");
    assert_eq!(param(&authorize, "response_type"), "code");
    assert_eq!(param(&authorize, "code_challenge_method"), "S256");
    assert_eq!(
        param(&authorize, "redirect_uri"),
        format!("http://127.0.0.1:{port}/oauth/callback")
    );
    let requests = server.received_requests().await.unwrap_or_default();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&requests[0].body)
        .into_owned()
        .collect();
    let verifier = form
        .iter()
        .find(|(k, _)| k == "code_verifier")
        .map(|(_, v)| v.clone())
        .expect("verifier sent");
    assert_eq!(
        Pkce::challenge_for(&verifier),
        param(&authorize, "code_challenge")
    );
}

#[tokio::test]
async fn a_forged_state_or_a_refusal_stops_the_login() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let http = reqwest::Client::new();

    let port = free_port();
    let forged = login(
        &options(&server, port),
        &http,
        browser(|_| "code=stolen&state=not-this-login".to_string(), port),
    )
    .await
    .expect_err("state mismatch");
    assert!(
        matches!(forged, SfError::Auth { flow: AuthFlow::AuthorizationCode, ref error, .. } if error == "state_mismatch")
    );

    let port = free_port();
    let denied = login(
        &options(&server, port),
        &http,
        browser(
            |authorize| {
                format!(
                    "error=access_denied&error_description=end-user+denied+authorization&state={}",
                    param(authorize, "state")
                )
            },
            port,
        ),
    )
    .await
    .expect_err("denied");
    assert_eq!(denied.error_code(), Some("access_denied"));
    assert!(denied.next_step().contains("allow access"));
}

#[test]
fn credentials_are_saved_owner_only_and_serve_falls_back_to_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("nested").join("credentials.toml");
    assert!(load_credentials(&file).expect("absent is fine").is_none());
    let stored = StoredCredentials {
        instance_url: "https://acme.my.salesforce.com".into(),
        login_url: "https://login.salesforce.com/".into(),
        client_id: "3MVG9-login-app".into(),
        refresh_token: Secret::new("5Aep-stored-refresh"),
        client_secret: None,
        identity_url: None,
        scope: None,
    };
    save_credentials(&file, &stored).expect("saved");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!format!("{stored:?}").contains("5Aep-stored-refresh"));
    let loaded = load_credentials(&file).expect("readable").expect("present");
    assert_eq!(loaded.refresh_token.expose(), "5Aep-stored-refresh");

    let settings = ConnectionSettings {
        credentials_file: Some(file.clone()),
        ..ConnectionSettings::default()
    };
    let connection = settings.resolve().expect("falls back to the login");
    let Plane::Direct(direct) = connection.plane else {
        panic!("direct plane expected")
    };
    assert_eq!(
        direct.instance_url.map(|u| u.to_string()).as_deref(),
        Some("https://acme.my.salesforce.com/")
    );
    assert!(matches!(
        direct.credential,
        DirectCredential::RefreshToken { ref refresh_token, .. } if refresh_token.expose() == "5Aep-stored-refresh"
    ));

    std::fs::write(&file, "not = [toml").expect("write");
    let damaged = settings.resolve().expect_err("damaged file");
    assert_eq!(damaged.setting, "SFMCP_CREDENTIALS_FILE");
    assert!(damaged.message.contains("sfmcp login"));
}
