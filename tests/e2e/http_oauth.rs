//! `sfmcp serve --http --oauth`: MCP authorization with Salesforce as the login, end to end
//! against the emulator (whose authorize endpoint approves as the org's user and redirects).
//!
//! The happy path is driven by a client nobody here wrote, the Python MCP SDK's OAuth
//! provider; the hostile cases use plain HTTP so each can be bent one way, and each must be
//! refused with the right OAuth error and nothing issued.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::Stdio;

use base64::Engine;
use reqwest::StatusCode;
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use sfmcp_emulator::EmulatorHandle;
use sfmcp_mcp::transport::oauth::sealed::{AccessToken, SealingKeys};
use url::Url;

use crate::common;

const KEY: &str = "Mz00K3oHAY6xm/pG02qB7kO00ADUpemeTmIfjUeLZcE=";
const OTHER_KEY: &str = "c9gGcV9qD7hijdhdNKlz9NW3PEtgX6bTesFMCto0cDc=";
const QUERY: &str = "SELECT Id, Name FROM Account ORDER BY Name LIMIT 3";
const REDIRECT: &str = "http://127.0.0.1:8765/callback";

struct OAuthServer {
    url: String,
    /// The canonical resource: `url`, unless the server was given another public URL.
    resource: String,
    child: tokio::process::Child,
}

impl OAuthServer {
    fn base(&self) -> String {
        self.url.trim_end_matches("/mcp").to_string()
    }
}

async fn start(emulator: &EmulatorHandle, key: &str, extra: &[&str]) -> OAuthServer {
    let org = &emulator.orgs[0];
    let env = vec![
        ("SF_LOGIN_URL", org.login_url.clone()),
        ("SF_CLIENT_ID", org.client_id.clone()),
        ("SF_CLIENT_SECRET", org.client_secret.clone()),
        ("SFMCP_OAUTH_KEYS", key.to_string()),
    ];
    let mut args = vec!["--oauth"];
    args.extend_from_slice(extra);
    let (child, url) = common::spawn_http(env, &args).await;
    let resource = match args.iter().position(|a| *a == "--public-url") {
        Some(i) => format!("{}/mcp", args[i + 1]),
        None => url.clone(),
    };
    OAuthServer {
        url,
        resource,
        child,
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn location(response: &reqwest::Response) -> Url {
    Url::parse(
        response
            .headers()
            .get("location")
            .expect("a redirect")
            .to_str()
            .expect("ascii"),
    )
    .expect("absolute URL")
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn register(server: &OAuthServer, redirect: &str) -> String {
    let answer: Value = http()
        .post(format!("{}/register", server.base()))
        .json(&json!({"redirect_uris": [redirect], "client_name": "Rust test client"}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    answer["client_id"].as_str().expect("client_id").to_string()
}

struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce() -> Pkce {
    let verifier = format!(
        "verifier-{}-0123456789abcdefghijklmnopqrstuvwxyz",
        rand_suffix()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sfmcp_salesforce::crypto::sha256(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

fn rand_suffix() -> String {
    sfmcp_salesforce::crypto::hex(&sfmcp_salesforce::crypto::random_bytes::<8>())
}

/// `/authorize` with these parameters (overrides replace, `None` removes).
async fn authorize(
    server: &OAuthServer,
    client_id: &str,
    pkce: &Pkce,
    overrides: &[(&str, Option<&str>)],
) -> reqwest::Response {
    let resource = server.resource.clone();
    let mut params: Vec<(&str, Option<String>)> = vec![
        ("response_type", Some("code".into())),
        ("client_id", Some(client_id.into())),
        ("redirect_uri", Some(REDIRECT.into())),
        ("state", Some("client-state".into())),
        ("code_challenge", Some(pkce.challenge.clone())),
        ("code_challenge_method", Some("S256".into())),
        ("resource", Some(resource)),
    ];
    for (name, value) in overrides {
        params.retain(|(n, _)| n != name);
        params.push((name, value.map(String::from)));
    }
    let query: Vec<(&str, String)> = params
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n, v)))
        .collect();
    http()
        .get(format!("{}/authorize", server.base()))
        .query(&query)
        .send()
        .await
        .expect("authorize")
}

/// The whole browser part: consent page, Salesforce, sfmcp's callback. Returns the redirect
/// to the client.
async fn sign_in(server: &OAuthServer, client_id: &str, pkce: &Pkce, scope: Option<&str>) -> Url {
    sign_in_via(server, server, client_id, pkce, scope).await
}

/// [`sign_in`], with Salesforce's redirect back delivered to `via` (another replica).
async fn sign_in_via(
    server: &OAuthServer,
    via: &OAuthServer,
    client_id: &str,
    pkce: &Pkce,
    scope: Option<&str>,
) -> Url {
    let consent = authorize(server, client_id, pkce, &[("scope", scope)]).await;
    assert_eq!(consent.status(), StatusCode::OK);
    let cookie = consent
        .headers()
        .get("set-cookie")
        .expect("the consent page sets the login cookie")
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = consent.text().await.unwrap();
    let link = page
        .split("id=continue href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a continue link")
        .replace("&amp;", "&");
    let salesforce = http().get(&link).send().await.expect("salesforce");
    assert_eq!(salesforce.status(), StatusCode::FOUND);
    let back = location(&salesforce);
    let callback = http()
        .get(format!(
            "{}{}?{}",
            via.base(),
            back.path(),
            back.query().unwrap_or("")
        ))
        .header("cookie", cookie)
        .send()
        .await
        .expect("callback");
    assert_eq!(
        callback.status(),
        StatusCode::FOUND,
        "{:?}",
        callback.text().await
    );
    location(&callback)
}

async fn token(server: &OAuthServer, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = http()
        .post(format!("{}/token", server.base()))
        .form(form)
        .send()
        .await
        .expect("token");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn exchange(
    server: &OAuthServer,
    client_id: &str,
    code: &str,
    pkce: &Pkce,
) -> (StatusCode, Value) {
    token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &pkce.verifier),
            ("resource", &server.resource),
        ],
    )
    .await
}

/// A signed-in token pair for a new client.
async fn tokens(server: &OAuthServer, scope: Option<&str>) -> (String, Value) {
    let client_id = register(server, REDIRECT).await;
    let pkce = pkce();
    let back = sign_in(server, &client_id, &pkce, scope).await;
    let code = param(&back, "code").expect("a code");
    let (status, body) = exchange(server, &client_id, &code, &pkce).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (client_id, body)
}

/// One JSON-RPC message to /mcp with a bearer token: the HTTP status and the
/// WWW-Authenticate header.
async fn mcp_post(
    server: &OAuthServer,
    bearer: Option<&str>,
    message: Value,
) -> (StatusCode, String) {
    let mut request = http()
        .post(&server.url)
        .header("accept", "application/json, text/event-stream")
        .json(&message);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("mcp");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (response.status(), challenge)
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}})
}

/// Runs `tests/e2e/http_oauth_client.py` (the Python SDK's OAuth client) against `server`.
async fn python_client(server: &OAuthServer, mode: &str) -> Value {
    python_client_at(&server.url, mode).await
}

/// [`python_client`] against any URL (a load balancer in front of replicas).
async fn python_client_at(url: &str, mode: &str) -> Value {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-env/venv/bin/python");
    assert!(
        python.exists(),
        "the Python MCP SDK is not installed: run `bash tools/setup-test-env` (make test does)"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/http_oauth_client.py");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .args([url, QUERY, mode])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("python runs");
    common::capture::record_output("python-sdk-oauth-client", &output);
    assert!(
        output.status.success(),
        "the Python OAuth client failed ({mode}):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_steps_up_from_read_to_write_when_a_write_tool_is_refused() {
    let emulator = common::demo_emulator().await;
    let mut server = start(&emulator, KEY, &[]).await;
    let seen = python_client(&server, "stepup").await;
    let tools: Vec<&str> = seen["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tools.contains(&"soql_query") && !tools.contains(&"create_record"),
        "a read token lists no write tool: {tools:?}"
    );
    assert_eq!(seen["scope"], Value::Null, "not read in this mode");
    assert_eq!(seen["created"]["is_error"], false, "{}", seen["created"]);
    assert_eq!(
        seen["sign_ins"], 2,
        "the 403 made the SDK sign in again for more"
    );
    let scope = seen["scope_after"].as_str().unwrap();
    assert!(scope.split(' ').any(|s| s == "sfmcp.write"), "{scope}");
    let _ = server.child.start_kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_discovers_registers_signs_in_refreshes_and_calls_tools() {
    let emulator = common::demo_emulator().await;
    let mut server = start(&emulator, KEY, &[]).await;
    let seen = python_client(&server, "refresh").await;
    let tools: Vec<&str> = seen["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tools.contains(&"soql_query") && tools.contains(&"create_record"),
        "{tools:?}"
    );
    for call in ["first", "second"] {
        assert_eq!(seen[call]["is_error"], false, "{call}: {}", seen[call]);
        assert_eq!(
            seen[call]["structured"]["rows"].as_array().map(Vec::len),
            Some(3),
            "{call}: {}",
            seen[call]
        );
    }
    assert_eq!(seen["scope"], "sfmcp.read sfmcp.write");
    assert_ne!(
        seen["access_before"], seen["access_after"],
        "the SDK refreshed"
    );
    assert_ne!(
        seen["refresh_before"], seen["refresh_after"],
        "refresh tokens rotate"
    );
    let redirect = Url::parse(seen["redirect"].as_str().unwrap()).unwrap();
    assert_eq!(
        param(&redirect, "iss").as_deref(),
        Some(server.base().as_str()),
        "RFC 9207 iss"
    );
    let consent = seen["consent"].as_str().unwrap();
    assert!(
        consent.contains("Python SDK test client") && consent.contains("create and update records"),
        "{consent}"
    );

    // No Salesforce token ever reached the client: sfmcp's tokens are sealed and prefixed.
    let org = &emulator.orgs[0];
    for name in [
        "access_before",
        "access_after",
        "refresh_before",
        "refresh_after",
    ] {
        let token = seen[name].as_str().unwrap();
        assert!(token.starts_with("sfmcp_"), "{name}");
        assert!(!token.contains(&org.refresh_token) && !token.contains(&org.access_token));
    }

    // The rotated-away refresh token comes back: reuse detection revokes the family, so the
    // newest refresh token and access token stop working too.
    let client_id = seen["client_id"].as_str().unwrap();
    let (status, body) =
        refresh_at(&server, seen["refresh_before"].as_str().unwrap(), client_id).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{body}"
    );
    let (status, body) =
        refresh_at(&server, seen["refresh_after"].as_str().unwrap(), client_id).await;
    assert_eq!(body["error"], "invalid_grant", "{status} {body}");
    let (status, challenge) = mcp_post(&server, seen["access_after"].as_str(), initialize()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let _ = server.child.start_kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_challenges_and_metadata_point_clients_to_sign_in() {
    let emulator = common::demo_emulator().await;
    let mut server = start(&emulator, KEY, &[]).await;
    let base = server.base();
    let (status, challenge) = mcp_post(&server, None, initialize()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        challenge.starts_with("Bearer ")
            && challenge.contains(&format!(
                "resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
            ))
            && challenge.contains("scope=\"sfmcp.read sfmcp.write\""),
        "{challenge}"
    );
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let prm: Value = http()
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(prm["resource"], server.url, "{path}");
        assert_eq!(prm["authorization_servers"], json!([base]), "{path}");
    }
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let asm: Value = http()
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(asm["issuer"], base);
        assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(asm["client_id_metadata_document_supported"], true);
        assert_eq!(asm["authorization_response_iss_parameter_supported"], true);
    }
    // Browser-based clients may fetch the token endpoint from their own origin.
    let preflight = http()
        .request(reqwest::Method::OPTIONS, format!("{base}/token"))
        .header("origin", "https://inspector.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    // A Salesforce token is never accepted in place of sfmcp's.
    let (status, challenge) =
        mcp_post(&server, Some(&emulator.orgs[0].access_token), initialize()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let _ = server.child.start_kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_authorization_requests_are_refused_and_nothing_is_issued() {
    let emulator = common::demo_emulator().await;
    let mut server = start(&emulator, KEY, &[]).await;
    let client_id = register(&server, REDIRECT).await;
    let pkce = pkce();

    // Refused back at the client's redirect URI, with state and iss, and never a code.
    for (overrides, error) in [
        (
            vec![("resource", Some("https://evil.example.com/mcp"))],
            "invalid_target",
        ),
        (vec![("code_challenge", None)], "invalid_request"),
        (
            vec![("code_challenge_method", Some("plain"))],
            "invalid_request",
        ),
        (vec![("code_challenge_method", None)], "invalid_request"),
        (vec![("scope", Some("sfmcp.admin"))], "invalid_scope"),
        (
            vec![("response_type", Some("token"))],
            "unsupported_response_type",
        ),
    ] {
        let response = authorize(&server, &client_id, &pkce, &overrides).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{overrides:?}");
        let back = location(&response);
        assert!(back.as_str().starts_with(REDIRECT), "{back}");
        assert_eq!(
            param(&back, "error").as_deref(),
            Some(error),
            "{overrides:?}"
        );
        assert_eq!(param(&back, "state").as_deref(), Some("client-state"));
        assert_eq!(param(&back, "iss").as_deref(), Some(server.base().as_str()));
        assert_eq!(param(&back, "code"), None);
    }
    // A redirect URI the client did not register, or an unknown client: shown, never followed.
    for (client, redirect) in [
        (client_id.as_str(), "https://evil.example.com/callback"),
        (client_id.as_str(), "http://127.0.0.1:8765/other"),
        ("sfmcp_client_forged", REDIRECT),
    ] {
        let response = authorize(&server, client, &pkce, &[("redirect_uri", Some(redirect))]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{redirect}");
        assert!(response.headers().get("location").is_none());
    }
    // A loopback redirect may use another port (RFC 8252).
    let other_port = authorize(
        &server,
        &client_id,
        &pkce,
        &[("redirect_uri", Some("http://127.0.0.1:9999/callback"))],
    )
    .await;
    assert_eq!(other_port.status(), StatusCode::OK);
    // DCR refuses a non-loopback http redirect.
    let refused = http()
        .post(format!("{}/register", server.base()))
        .json(&json!({"redirect_uris": ["http://evil.example.com/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error"],
        "invalid_redirect_uri"
    );

    // A sign-in link completed in another browser (no login cookie) issues no code.
    let consent = authorize(&server, &client_id, &pkce, &[]).await;
    let page = consent.text().await.unwrap();
    let link = page
        .split("id=continue href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let salesforce = http().get(&link).send().await.unwrap();
    let elsewhere = http().get(location(&salesforce)).send().await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    assert!(elsewhere.headers().get("location").is_none());

    // A code: wrong verifier, wrong redirect, wrong resource are refused; a replay is
    // refused and revokes what the first exchange issued.
    let back = sign_in(&server, &client_id, &pkce, None).await;
    let code = param(&back, "code").unwrap();
    let wrong = pkce_with("another-verifier-0123456789abcdefghijklmnopqrstuvwxyz");
    let (_, body) = exchange(&server, &client_id, &code, &wrong).await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let (_, body) = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client_id),
            ("redirect_uri", "http://127.0.0.1:8765/other"),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    let (_, body) = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &pkce.verifier),
            ("resource", "https://evil.example.com/mcp"),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_target", "{body}");
    let (status, first) = exchange(&server, &client_id, &code, &pkce).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let access = first["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        mcp_post(&server, Some(&access), initialize()).await.0,
        StatusCode::OK
    );
    let (_, replay) = exchange(&server, &client_id, &code, &pkce).await;
    assert_eq!(replay["error"], "invalid_grant", "{replay}");
    assert!(replay.get("access_token").is_none());
    assert_eq!(
        mcp_post(&server, Some(&access), initialize()).await.0,
        StatusCode::UNAUTHORIZED,
        "the replay revoked the first exchange's tokens"
    );
    let _ = server.child.start_kill();
}

fn pkce_with(verifier: &str) -> Pkce {
    Pkce {
        verifier: verifier.into(),
        challenge: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_expired_and_revoked_tokens_are_refused_and_read_tokens_cannot_write() {
    let emulator = common::demo_emulator().await;
    let mut server = start(&emulator, KEY, &[]).await;
    let mut other = start(&emulator, OTHER_KEY, &[]).await;

    // Another deployment's token (another key) opens nowhere here.
    let (_, foreign) = tokens(&other, None).await;
    let (status, challenge) =
        mcp_post(&server, foreign["access_token"].as_str(), initialize()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let (_, body) = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", foreign["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");

    // An expired token, sealed with this server's own key, is refused for its expiry.
    let (mine_client, mine) = tokens(&server, None).await;
    let keys = SealingKeys::from_base64_list(&[KEY.into()]).unwrap();
    let mut opened: AccessToken = keys
        .open_access(mine["access_token"].as_str().unwrap())
        .expect("opens with the key");
    opened.expires_at = chrono::Utc::now().timestamp() - 1;
    let expired = keys.seal_access(&opened);
    let (status, challenge) = mcp_post(&server, Some(&expired), initialize()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("expired"), "{challenge}");

    // A read-only token may list and read, but a write call gets the step-up challenge.
    let (_, read_only) = tokens(&server, Some("sfmcp.read")).await;
    assert_eq!(read_only["scope"], "sfmcp.read");
    let read_token = read_only["access_token"].as_str().unwrap();
    let create = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "create_record", "arguments": {"object": "Account", "fields": {"Name": "Nope"}}}});
    let (status, challenge) = mcp_post(&server, Some(read_token), create).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"sfmcp.read sfmcp.write\""),
        "{challenge}"
    );

    let batch = json!([{"jsonrpc": "2.0", "id": 3, "method": "ping"}, {"jsonrpc": "2.0", "id": 4,
        "method": "tools/call", "params": {"name": "update_record", "arguments": {}}}]);
    assert_eq!(
        mcp_post(&server, Some(read_token), batch).await.0,
        StatusCode::FORBIDDEN,
        "a write in a batch"
    );

    // Through a real MCP client, the read-only token lists no write tool and reads.
    let config =
        StreamableHttpClientTransportConfig::with_uri(server.url.clone()).auth_header(read_token);
    let client =
        ().serve(StreamableHttpClientTransport::from_config(config))
            .await
            .expect("MCP session with the token");
    let tools: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(tools.contains(&"soql_query".to_string()), "{tools:?}");
    assert!(
        !tools
            .iter()
            .any(|t| t == "create_record" || t == "update_record"),
        "{tools:?}"
    );
    let result = common::call(&client, "soql_query", json!({"query": QUERY})).await;
    assert!(!common::is_error(&result), "{}", common::text(&result));
    let _ = client.cancel().await;

    // A refresh must name its client (public clients, OAuth 2.1).
    let (_, body) = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", mine["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_request", "{body}");

    // Revocation (RFC 7009) ends the sign-in at once, and the grant at Salesforce too.
    let access = mine["access_token"].as_str().unwrap();
    assert_eq!(
        mcp_post(&server, Some(access), initialize()).await.0,
        StatusCode::OK
    );
    let revoked = http()
        .post(format!("{}/revoke", server.base()))
        .form(&[("token", mine["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        mcp_post(&server, Some(access), initialize()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, body) = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", mine["refresh_token"].as_str().unwrap()),
            ("client_id", &mine_client),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");
    let revokes = common::requests(&emulator)
        .await
        .into_iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/services/oauth2/revoke"))
        })
        .count();
    assert!(revokes >= 1, "the Salesforce grant was revoked too");
    let _ = server.child.start_kill();
    let _ = other.child.start_kill();
}

/// Serves client metadata documents on loopback: `/good`, `/large` (20 KiB), `/slow`
/// (answers after 8 s), `/liar` (names another client_id).
async fn metadata_host() -> String {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let doc = |base: &str, path: &str, client_id: &str| {
        json!({"client_id": client_id.replace("{base}", base), "client_name": "Metadata client",
               "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
               "padding": if path == "large" { "x".repeat(20 * 1024) } else { String::new() }})
    };
    let (b1, b2, b3, b4) = (base.clone(), base.clone(), base.clone(), base.clone());
    let app = axum::Router::new()
        .route(
            "/good",
            get(move || async move { axum::Json(doc(&b1, "good", "{base}/good")) }),
        )
        .route(
            "/large",
            get(move || async move { axum::Json(doc(&b2, "large", "{base}/large")) }),
        )
        .route(
            "/slow",
            get(move || async move {
                tokio::time::sleep(std::time::Duration::from_secs(8)).await;
                axum::Json(doc(&b3, "slow", "{base}/slow"))
            }),
        )
        .route(
            "/liar",
            get(move || async move { axum::Json(doc(&b4, "liar", "{base}/good")) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_metadata_documents_are_fetched_safely_or_refused() {
    let emulator = common::demo_emulator().await;
    let host = metadata_host().await;
    let pkce = pkce();

    // By default: https only, and never a loopback or private address (SSRF).
    let mut strict = start(&emulator, KEY, &[]).await;
    for client_id in [
        format!("{host}/good"),
        "https://127.0.0.1:1/client.json".to_string(),
        "https://10.0.0.1/client.json".to_string(),
    ] {
        let response = authorize(&strict, &client_id, &pkce, &[]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{client_id}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("https") || page.contains("private, loopback"),
            "{client_id}: {page}"
        );
    }
    let _ = strict.child.start_kill();

    // Allowed for local testing: a good document signs in end to end; a large, slow or
    // lying one is refused.
    let mut local = start(&emulator, KEY, &["--allow-local-client-metadata"]).await;
    for (path, why) in [
        ("large", "larger than"),
        ("slow", "did not arrive"),
        ("liar", "not its own URL"),
    ] {
        let response = authorize(&local, &format!("{host}/{path}"), &pkce, &[]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains(why), "{path}: {page}");
    }
    let client_id = format!("{host}/good");
    let back = sign_in(&local, &client_id, &pkce, None).await;
    let code = param(&back, "code").expect("a code");
    let (status, body) = exchange(&local, &client_id, &code, &pkce).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        mcp_post(&local, body["access_token"].as_str(), initialize())
            .await
            .0,
        StatusCode::OK
    );
    let _ = local.child.start_kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_revoked_in_salesforce_ends_access() {
    let emulator = common::demo_emulator().await;
    let mut server = start(&emulator, KEY, &[]).await;
    let (client_id, issued) = tokens(&server, None).await;
    let access = issued["access_token"].as_str().unwrap();
    let config =
        StreamableHttpClientTransportConfig::with_uri(server.url.clone()).auth_header(access);
    let client =
        ().serve(StreamableHttpClientTransport::from_config(config))
            .await
            .expect("MCP session");
    let before = common::call(&client, "soql_query", json!({"query": QUERY})).await;
    assert!(!common::is_error(&before), "{}", common::text(&before));

    // The person (or an admin) revokes the connected app's grant in Salesforce. The test
    // holds the sealing key, so it can find which Salesforce token that is.
    let keys = SealingKeys::from_base64_list(&[KEY.into()]).unwrap();
    let grant = keys.open_access(access).expect("opens").grant;
    let revoked = http()
        .post(format!(
            "{}/services/oauth2/revoke",
            emulator.orgs[0].login_url
        ))
        .form(&[("token", grant.refresh_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);

    // The next call fails at once (Salesforce refuses the session and its renewal) ...
    let after = common::call(&client, "soql_query", json!({"query": QUERY})).await;
    assert!(common::is_error(&after), "{}", common::text(&after));
    let _ = client.cancel().await;
    // ... the request after it is told to sign in again ...
    let (status, challenge) = mcp_post(&server, Some(access), initialize()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("Salesforce revoked"), "{challenge}");
    // ... and no refresh brings it back: no new tokens, the access token is dead.
    let (_, body) = refresh_at(
        &server,
        issued["refresh_token"].as_str().unwrap(),
        &client_id,
    )
    .await;
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert_eq!(
        mcp_post(&server, Some(access), initialize()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let _ = server.child.start_kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_replicas_sharing_keys_serve_a_sign_in_made_through_another() {
    let emulator = common::demo_emulator().await;
    // One public URL for all, as behind a load balancer (the test delivers each step to a
    // chosen replica itself).
    let replica = || {
        start(
            &emulator,
            KEY,
            &["--stateless", "--public-url", "http://localhost:9"],
        )
    };
    let (mut a, mut b, mut c) = (replica().await, replica().await, replica().await);
    let client_id = register(&a, REDIRECT).await;
    let pkce = pkce();
    let back = sign_in_via(&a, &b, &client_id, &pkce, None).await;
    assert_eq!(param(&back, "iss").as_deref(), Some("http://localhost:9"));
    let code = param(&back, "code").unwrap();
    let (status, issued) = exchange(&c, &client_id, &code, &pkce).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    for server in [&a, &b, &c] {
        let config = StreamableHttpClientTransportConfig::with_uri(server.url.clone())
            .auth_header(issued["access_token"].as_str().unwrap());
        let client =
            ().serve(StreamableHttpClientTransport::from_config(config))
                .await
                .expect("MCP session");
        let result = common::call(&client, "soql_query", json!({"query": QUERY})).await;
        assert!(!common::is_error(&result), "{}", common::text(&result));
        let _ = client.cancel().await;
    }
    let (status, refreshed) =
        refresh_at(&b, issued["refresh_token"].as_str().unwrap(), &client_id).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    for server in [&mut a, &mut b, &mut c] {
        let _ = server.child.start_kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_request_whose_body_dribbles_in_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emulator = common::demo_emulator().await;
    let mut server = start(&emulator, KEY, &["--header-timeout-secs", "1"]).await;
    let address = Url::parse(&server.url).unwrap();
    let mut stream =
        tokio::net::TcpStream::connect((address.host_str().unwrap(), address.port().unwrap()))
            .await
            .unwrap();
    let head = "POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the server ended the connection");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let _ = server.child.start_kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_completes_the_browser_sign_in() {
    use axum::routing::get;
    let emulator = common::demo_emulator().await;
    let mut server = start(&emulator, KEY, &[]).await;
    // The client's redirect URI: a page on loopback, as a native client serves.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!("http://{}/callback", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/callback", get(|| async { "signed in" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client_id = register(&server, &redirect).await;
    let pkce = pkce();
    let mut authorize = Url::parse(&format!("{}/authorize", server.base())).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", &redirect)
        .append_pair("state", "browser-state")
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", &server.resource);
    let profile = tempfile::tempdir().unwrap();
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-env/venv/bin/python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/http_oauth_chromium.py");
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(&python)
            .arg(&script)
            .args([
                authorize.as_str(),
                redirect.as_str(),
                &profile.path().display().to_string(),
            ])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium finishes within 120 s")
    .expect("python runs");
    common::capture::record_output("chromium-sign-in", &output);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let landed = Url::parse(String::from_utf8_lossy(&output.stdout).trim()).expect("the final URL");
    assert_eq!(param(&landed, "state").as_deref(), Some("browser-state"));
    assert_eq!(
        param(&landed, "iss").as_deref(),
        Some(server.base().as_str())
    );
    let code = param(&landed, "code").expect("a code");
    let (status, body) = token(
        &server,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client_id),
            ("redirect_uri", &redirect),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        mcp_post(&server, body["access_token"].as_str(), initialize())
            .await
            .0,
        StatusCode::OK
    );
    let _ = server.child.start_kill();
}

/// One person's whole sign-in through sfmcp, playing the browser: sfmcp's consent page,
/// Salesforce's login page as `username`, "Allow Access?", sfmcp's callback; then the token.
async fn person_signs_in(
    server: &OAuthServer,
    emulator: &EmulatorHandle,
    username: &str,
) -> String {
    person_signs_in_granting(server, emulator, username, None).await
}

/// [`person_signs_in`], with Salesforce granting `salesforce_scope` instead of what sfmcp
/// asks for (as a connected app whose Selected OAuth Scopes lack some of them does).
async fn person_signs_in_granting(
    server: &OAuthServer,
    emulator: &EmulatorHandle,
    username: &str,
    salesforce_scope: Option<&str>,
) -> String {
    use crate::emulator_signin::{Browser, PASSWORD, Page};
    let client_id = register(server, REDIRECT).await;
    let pkce = pkce();
    let consent = authorize(server, &client_id, &pkce, &[]).await;
    assert_eq!(consent.status(), StatusCode::OK);
    let sfmcp_cookie = consent
        .headers()
        .get("set-cookie")
        .expect("the consent page sets the login cookie")
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let link = consent
        .text()
        .await
        .unwrap()
        .split("id=continue href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a continue link")
        .replace("&amp;", "&");
    let mut link = Url::parse(&link).expect("the link to Salesforce");
    if let Some(granted) = salesforce_scope {
        let pairs: Vec<(String, String)> = link
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "scope" { granted.into() } else { v };
                (k.into_owned(), v.into_owned())
            })
            .collect();
        link.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let mut browser = Browser::new(emulator);
    let to_salesforce = Page {
        status: StatusCode::FOUND,
        location: Some(link),
        html: String::new(),
    };
    let login = browser.follow(&to_salesforce).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.html);
    let to_approval = browser.log_in(&login, username, PASSWORD).await;
    assert_eq!(
        to_approval.status,
        StatusCode::FOUND,
        "{}",
        to_approval.html
    );
    let approval = browser.follow(&to_approval).await;
    assert_eq!(approval.status, StatusCode::OK, "{}", approval.html);
    let back = browser.decide(&approval, "allow").await;
    let back = back.location.expect("Salesforce redirects back to sfmcp");
    assert!(back.as_str().starts_with(&server.base()), "{back}");
    let callback = http()
        .get(back.as_str())
        .header("cookie", sfmcp_cookie)
        .send()
        .await
        .expect("callback");
    assert_eq!(callback.status(), StatusCode::FOUND);
    let code = param(&location(&callback), "code").expect("a code");
    let (status, body) = exchange(server, &client_id, &code, &pkce).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn mcp_client(server: &OAuthServer, access_token: &str) -> common::Client {
    let config =
        StreamableHttpClientTransportConfig::with_uri(server.url.clone()).auth_header(access_token);
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("MCP session over HTTP starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_of_one_org_each_see_only_what_salesforce_shows_them() {
    use crate::emulator_signin::{start_login_page, two_people_seed};
    let emulator = start_login_page(two_people_seed()).await;
    let admin_view = crate::emulator_common::Client::for_org(&emulator, 0);
    let private_deal = admin_view
        .first_id("SELECT Id FROM Opportunity WHERE Name = 'Admin deal B'")
        .await;
    let account = admin_view
        .first_id("SELECT Id FROM Account WHERE Name = 'Acme'")
        .await;
    let mut server = start(&emulator, KEY, &[]).await;

    let admin_token = person_signs_in(&server, &emulator, "admin@acme.test").await;
    let rep_token = person_signs_in(&server, &emulator, "rep@acme.test").await;
    assert_ne!(admin_token, rep_token);
    let admin = mcp_client(&server, &admin_token).await;
    let rep = mcp_client(&server, &rep_token).await;

    let deals = json!({"query": "SELECT Name FROM Opportunity ORDER BY Name"});
    let admin_deals = common::text(&common::call(&admin, "soql_query", deals.clone()).await);
    for name in ["Admin deal A", "Admin deal B", "Rep deal"] {
        assert!(admin_deals.contains(name), "{admin_deals}");
    }
    let rep_deals = common::call(&rep, "soql_query", deals).await;
    let rep_text = common::text(&rep_deals);
    assert!(!common::is_error(&rep_deals), "{rep_text}");
    assert!(rep_text.contains("Rep deal"), "{rep_text}");
    assert!(!rep_text.contains("Admin deal"), "{rep_text}");

    // Field-level security: the rep's profile hides AnnualRevenue.
    let of_account = json!({"id": account});
    let admin_account = common::call(&admin, "get_record", of_account.clone()).await;
    assert!(
        common::text(&admin_account).contains("AnnualRevenue"),
        "{}",
        common::text(&admin_account)
    );
    let rep_account = common::call(&rep, "get_record", of_account).await;
    let rep_account_text = common::text(&rep_account);
    assert!(!common::is_error(&rep_account), "{rep_account_text}");
    assert!(rep_account_text.contains("Acme"), "{rep_account_text}");
    assert!(
        !rep_account_text.contains("AnnualRevenue") && !rep_account_text.contains("5000000"),
        "{rep_account_text}"
    );

    // The rep's token, with the id of a record only the admin can see: Salesforce's answer
    // for the rep, never the admin's data.
    let probe = json!({"id": private_deal});
    let admin_sees = common::call(&admin, "get_record", probe.clone()).await;
    assert!(
        common::text(&admin_sees).contains("Admin deal B"),
        "{}",
        common::text(&admin_sees)
    );
    let rep_probe = common::call(&rep, "get_record", probe).await;
    let rep_probe_text = common::text(&rep_probe);
    assert!(common::is_error(&rep_probe), "{rep_probe_text}");
    assert!(!rep_probe_text.contains("Admin deal B"), "{rep_probe_text}");
    assert!(rep_probe_text.contains("NOT_FOUND"), "{rep_probe_text}");

    let _ = admin.cancel().await;
    let _ = rep.cancel().await;
    let _ = server.child.start_kill();
}

/// A Redis of its own on a unix socket in a temp dir (Debian's `redis-server`), gone when
/// dropped.
struct Redis {
    url: String,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

async fn start_redis() -> Redis {
    let binary = common::system_binary("redis-server");
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("redis.sock");
    let child = tokio::process::Command::new(binary)
        .args(["--port", "0", "--save", "", "--appendonly", "no"])
        .arg("--unixsocket")
        .arg(&socket)
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server starts");
    for _ in 0..100 {
        if tokio::net::UnixStream::connect(&socket).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Redis {
        url: format!("redis+unix://{}", socket.display()),
        child,
        _dir: dir,
    }
}

async fn refresh_at(
    server: &OAuthServer,
    refresh_token: &str,
    client_id: &str,
) -> (StatusCode, Value) {
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ],
    )
    .await
}

/// Behind a load balancer each step may land on another replica: with one Redis named by
/// SFMCP_OAUTH_STORE, a code replayed to another replica, a refresh token used twice across
/// replicas, and a revocation made on one, are each seen by all. When the store stops
/// answering, nothing is issued or accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_a_redis_store_see_each_others_codes_refreshes_and_revocations() {
    let emulator = common::demo_emulator().await;
    let mut redis = start_redis().await;
    let args = [
        "--stateless",
        "--public-url",
        "http://localhost:9",
        "--oauth-store",
        &redis.url,
    ];
    let (mut a, mut b, mut c) = (
        start(&emulator, KEY, &args).await,
        start(&emulator, KEY, &args).await,
        start(&emulator, KEY, &args).await,
    );

    // A code redeemed through c and replayed to a: refused, and what its first use issued is
    // revoked everywhere.
    let client_id = register(&a, REDIRECT).await;
    let first = pkce();
    let back = sign_in_via(&a, &b, &client_id, &first, None).await;
    let code = param(&back, "code").unwrap();
    let (status, issued) = exchange(&c, &client_id, &code, &first).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let access = issued["access_token"].as_str().unwrap();
    assert_eq!(
        mcp_post(&b, Some(access), initialize()).await.0,
        StatusCode::OK
    );
    let (status, replay) = exchange(&a, &client_id, &code, &first).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{replay}");
    assert_eq!(replay["error"], "invalid_grant");
    assert!(replay.get("access_token").is_none());
    for server in [&a, &b, &c] {
        let (status, challenge) = mcp_post(server, Some(access), initialize()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{challenge}");
        assert!(challenge.contains("revoked"), "{challenge}");
    }

    // A refresh token rotated at b and presented again at c: the whole sign-in is revoked,
    // so the token b gave fails at a.
    let client_id = register(&a, REDIRECT).await;
    let pkce_two = pkce();
    let back = sign_in_via(&a, &a, &client_id, &pkce_two, None).await;
    let (status, issued) =
        exchange(&a, &client_id, &param(&back, "code").unwrap(), &pkce_two).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let first_refresh = issued["refresh_token"].as_str().unwrap();
    let (status, rotated) = refresh_at(&b, first_refresh, &client_id).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (status, reused) = refresh_at(&c, first_refresh, &client_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reused}");
    assert_eq!(reused["error"], "invalid_grant");
    let (status, after) =
        refresh_at(&a, rotated["refresh_token"].as_str().unwrap(), &client_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{after}");
    let (status, _) = mcp_post(
        &a,
        Some(rotated["access_token"].as_str().unwrap()),
        initialize(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A revocation made at a holds at c.
    let (client_id, issued) = tokens(&a, None).await;
    let access = issued["access_token"].as_str().unwrap();
    assert_eq!(
        mcp_post(&c, Some(access), initialize()).await.0,
        StatusCode::OK
    );
    let revoked = http()
        .post(format!("{}/revoke", a.base()))
        .form(&[("token", access), ("client_id", client_id.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        mcp_post(&c, Some(access), initialize()).await.0,
        StatusCode::UNAUTHORIZED
    );

    // The store stops: fail closed, with the setting named and nothing issued.
    let (client_id, issued) = tokens(&b, None).await;
    let access = issued["access_token"].as_str().unwrap().to_string();
    let _ = redis.child.kill().await;
    let (status, refused) =
        refresh_at(&b, issued["refresh_token"].as_str().unwrap(), &client_id).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{refused}");
    assert_eq!(refused["error"], "temporarily_unavailable");
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .contains("SFMCP_OAUTH_STORE"),
        "{refused}"
    );
    assert!(refused.get("access_token").is_none());
    let (status, _) = mcp_post(&a, Some(&access), initialize()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    for server in [&mut a, &mut b, &mut c] {
        let _ = server.child.start_kill();
    }
}

/// A store named but not reachable stops the server at start, naming the setting and never
/// the URL's password.
#[tokio::test]
async fn an_unreachable_oauth_store_stops_the_server_at_start() {
    let emulator = common::demo_emulator().await;
    let org = &emulator.orgs[0];
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
            .env_clear()
            .env("SF_LOGIN_URL", &org.login_url)
            .env("SF_CLIENT_ID", &org.client_id)
            .env("SF_CLIENT_SECRET", &org.client_secret)
            .env("SFMCP_OAUTH_KEYS", KEY)
            .env(
                "SFMCP_OAUTH_STORE",
                "redis://:hunter2-store-password@127.0.0.1:9/0",
            )
            .args(["serve", "--http", "127.0.0.1:0", "--oauth"])
            .output(),
    )
    .await
    .expect("the server gives up within its connect timeout")
    .expect("sfmcp runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SFMCP_OAUTH_STORE redis://127.0.0.1:9/0"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!stderr.contains("serving MCP"), "{stderr}");
}

/// A person whose Salesforce grant lacks `api` (the connected app's scopes leave it out):
/// tools/list shows only what works with that grant, and a tool needing `api` is refused
/// naming the scope, before any request reaches Salesforce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_without_api_lists_only_what_works_and_refuses_before_any_request() {
    use crate::emulator_signin::{start_login_page, two_people_seed};
    let emulator = start_login_page(two_people_seed()).await;
    let mut server = start(&emulator, KEY, &[]).await;
    let token = person_signs_in_granting(
        &server,
        &emulator,
        "admin@acme.test",
        Some("refresh_token id"),
    )
    .await;
    let client = mcp_client(&server, &token).await;
    let mut listed: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|tool| tool.name.to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, ["audit_rules", "whoami"]);

    let rest_calls = || async {
        common::requests(&emulator)
            .await
            .into_iter()
            .filter(|r| {
                r["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/services/"))
            })
            .count()
    };
    let before = rest_calls().await;
    let refused = common::call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name FROM Account"}),
    )
    .await;
    let shown = common::text(&refused);
    assert!(common::is_error(&refused), "{shown}");
    assert!(shown.contains("needs the OAuth scope `api`"), "{shown}");
    assert!(shown.contains("nothing was sent to Salesforce"), "{shown}");
    // A person who signed in through sfmcp gets there by signing in again, not `sfmcp login`.
    assert!(shown.contains("then you sign in again"), "{shown}");
    assert!(!shown.contains("sfmcp login"), "{shown}");
    assert_eq!(
        rest_calls().await,
        before,
        "no request, not even a token refresh"
    );

    // The same server still lists everything for a person whose grant has `api`.
    let full = person_signs_in(&server, &emulator, "rep@acme.test").await;
    let full_client = mcp_client(&server, &full).await;
    let all = full_client.list_all_tools().await.expect("tools/list");
    assert!(all.iter().any(|tool| tool.name == "soql_query"));
    let _ = client.cancel().await;
    let _ = full_client.cancel().await;
    let _ = server.child.start_kill();
}

/// Three stateless replicas behind a real nginx (round-robin), sharing keys and one Redis: the
/// Python SDK discovers, registers, signs in, refreshes and calls tools through the load
/// balancer, each step landing on whichever replica nginx picks; a refresh token it rotated
/// away, replayed through nginx, revokes the sign-in on every replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_signs_in_and_works_through_nginx_over_three_replicas() {
    let emulator = common::demo_emulator().await;
    let redis = start_redis().await;
    let port = crate::http_replicas::free_port();
    let public = format!("http://127.0.0.1:{port}");
    let args = [
        "--stateless",
        "--public-url",
        &public,
        "--oauth-store",
        &redis.url,
    ];
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(start(&emulator, KEY, &args).await);
    }
    let upstreams: Vec<u16> = replicas
        .iter()
        .map(|r| Url::parse(&r.url).unwrap().port().unwrap())
        .collect();
    let nginx = crate::http_replicas::start_nginx_on(port, &upstreams).await;
    let front = OAuthServer {
        url: format!("{}/mcp", nginx.url),
        resource: format!("{public}/mcp"),
        child: nginx.child,
    };

    let seen = python_client_at(&front.url, "refresh").await;
    for call in ["first", "second"] {
        assert_eq!(seen[call]["is_error"], false, "{call}: {}", seen[call]);
    }
    assert_ne!(
        seen["access_before"], seen["access_after"],
        "the SDK refreshed"
    );
    let redirect = Url::parse(seen["redirect"].as_str().unwrap()).unwrap();
    assert_eq!(param(&redirect, "iss").as_deref(), Some(public.as_str()));

    let client_id = seen["client_id"].as_str().unwrap();
    let (status, body) =
        refresh_at(&front, seen["refresh_before"].as_str().unwrap(), client_id).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{body}"
    );
    // Whichever replica each request reaches, the sign-in is over.
    for replica in &replicas {
        let (status, _) = mcp_post(replica, seen["access_after"].as_str(), initialize()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let log = std::fs::read_to_string(nginx.dir.path().join("access.log")).expect("access log");
    for upstream in &upstreams {
        let served = log
            .lines()
            .filter(|line| line.starts_with(&format!("127.0.0.1:{upstream} ")))
            .count();
        assert!(served > 0, "replica {upstream} served nothing:\n{log}");
    }
    for mut replica in replicas {
        let _ = replica.child.start_kill();
    }
}
