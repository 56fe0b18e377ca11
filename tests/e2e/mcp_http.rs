//! The many-tenant path: rmcp's Streamable HTTP client → `sfmcp serve --http` (the real
//! binary) → the emulator's Paragon proxy mount → two orgs whose account names tell them
//! apart, so any cross-tenant leak shows.

// Test helpers outside #[test] functions panic on broken fixtures by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::http_common;

use std::collections::HashMap;
use std::time::Duration;

use http_common::*;
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;
use sfmcp_emulator::{Emulator, EmulatorConfig};

/// The shared many-tenant Paragon server, accepting two caller tokens (only the second is
/// the clients'), so a list of tokens is exercised too.
async fn start_server(
    emulator: &sfmcp_emulator::EmulatorHandle,
    extra_env: &[(&str, String)],
    args: &[&str],
) -> Server {
    let mut env = vec![(
        "SFMCP_HTTP_TOKENS",
        format!("another-token-abcdefghijkl,{CALLER_TOKEN}"),
    )];
    env.extend(extra_env.iter().cloned());
    http_common::start_server(emulator, &env, args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tenants_interleave_and_each_sees_only_its_own_org() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &[]).await;
    let mut tasks = Vec::new();
    // Two sessions per tenant, 60 calls each: 240 interleaved calls.
    for session in 0..4 {
        let index = session % 2;
        let client = connect(&server, tenant(&emulator, index)).await;
        let (mine, theirs) = if index == 0 {
            ("Alpha", "Bravo")
        } else {
            ("Bravo", "Alpha")
        };
        tasks.push(tokio::spawn(async move {
            for i in 0..60 {
                let offset = (i * 7 + session) % 25;
                let result = call(
                    &client,
                    "soql_query",
                    json!({"query": format!("SELECT Name FROM Account ORDER BY Name LIMIT 3 OFFSET {offset}")}),
                )
                .await;
                assert!(!is_error(&result), "{}", text(&result));
                let shown = names(&result);
                assert_eq!(
                    shown,
                    (offset..offset + 3).map(|n| format!("{mine} {n:03}")).collect::<Vec<_>>(),
                    "session {session} call {i}"
                );
                assert!(!text(&result).contains(theirs), "{}", text(&result));
                if i % 20 == 0 {
                    let describe = call(&client, "describe_object", json!({"object": "Account"})).await;
                    assert!(!is_error(&describe), "{}", text(&describe));
                }
            }
            let _ = client.cancel().await;
        }));
    }
    for task in tasks {
        task.await.expect("session task");
    }
}

#[tokio::test]
async fn a_cursor_of_one_tenant_is_refused_to_another_and_continues_for_its_own() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &[]).await;
    let alpha = connect(&server, tenant(&emulator, 0)).await;
    let bravo = connect(&server, tenant(&emulator, 1)).await;
    let first = call(
        &alpha,
        "soql_query",
        json!({"query": "SELECT Name FROM Account ORDER BY Name", "max_rows": 4}),
    )
    .await;
    let log = common::requests(&emulator).await;
    eprintln!(
        "{} requests; first: {:?}",
        log.len(),
        log.iter().take(5).collect::<Vec<_>>()
    );
    assert_eq!(names(&first)[0], "Alpha 000", "{}", text(&first));
    let cursor = structured(&first)["cursor"]
        .as_str()
        .expect("a cursor")
        .to_string();

    let stolen = call(&bravo, "query_more", json!({"cursor": cursor})).await;
    assert!(is_error(&stolen), "{}", text(&stolen));
    assert!(!text(&stolen).contains("Alpha"), "{}", text(&stolen));

    let next = call(&alpha, "query_more", json!({"cursor": cursor})).await;
    assert!(!is_error(&next), "{}", text(&next));
    assert_eq!(names(&next)[0], "Alpha 004");
    let _ = alpha.cancel().await;
    let _ = bravo.cancel().await;
}

#[tokio::test]
async fn host_minted_tokens_are_verified_and_a_bad_one_leaves_other_tenants_working() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &[]).await;
    let project = paragon(&emulator, 1);
    let bravo_user = field(&project, "user_id");
    let good = sign(&field(&project, "signing_key_pem"), &bravo_user, 600);
    let host_minted = connect(
        &server,
        headers(&[
            ("x-paragon-user-token", good),
            ("x-paragon-credential", field(&project, "credential_id")),
        ]),
    )
    .await;
    let alpha = connect(&server, tenant(&emulator, 0)).await;

    let ok = call(
        &host_minted,
        "soql_query",
        json!({"query": "SELECT Name FROM Account ORDER BY Name LIMIT 2"}),
    )
    .await;
    assert_eq!(names(&ok), ["Bravo 000", "Bravo 001"], "{}", text(&ok));

    // A token signed with another key, and an expired one: refused before anything goes
    // upstream, with what to do.
    let other_key = emulator_signing_key_of_another_project().await;
    for (token, why) in [
        (
            sign(&other_key, &bravo_user, 600),
            "not signed with the project's signing key",
        ),
        (
            sign(&field(&project, "signing_key_pem"), &bravo_user, -120),
            "expired",
        ),
    ] {
        let forged = connect(
            &server,
            headers(&[
                ("x-paragon-user-token", token),
                ("x-paragon-credential", field(&project, "credential_id")),
            ]),
        )
        .await;
        let refused = call(
            &forged,
            "soql_query",
            json!({"query": "SELECT Name FROM Account"}),
        )
        .await;
        assert!(is_error(&refused));
        assert!(text(&refused).contains(why), "{}", text(&refused));
        assert!(!text(&refused).contains("Bravo 0"), "{}", text(&refused));
        let still = call(
            &alpha,
            "soql_query",
            json!({"query": "SELECT Name FROM Account ORDER BY Name LIMIT 1"}),
        )
        .await;
        assert_eq!(names(&still), ["Alpha 000"]);
        let _ = forged.cancel().await;
    }

    // A user asking for another user's credential gets Paragon's refusal, not its data.
    let alpha_project = paragon(&emulator, 0);
    let crossed = connect(
        &server,
        headers(&[
            ("x-paragon-user", field(&alpha_project, "user_id")),
            ("x-paragon-credential", field(&project, "credential_id")),
        ]),
    )
    .await;
    let refused = call(
        &crossed,
        "soql_query",
        json!({"query": "SELECT Name FROM Account"}),
    )
    .await;
    assert!(is_error(&refused));
    assert!(
        text(&refused).contains("Integration not enabled for user."),
        "{}",
        text(&refused)
    );
    assert!(!text(&refused).contains("Bravo 0"));

    // No tenant named at all: the server says which headers to send.
    let nobody = connect(&server, HashMap::new()).await;
    let refused = call(
        &nobody,
        "soql_query",
        json!({"query": "SELECT Name FROM Account"}),
    )
    .await;
    assert!(is_error(&refused));
    assert!(
        text(&refused).contains("X-Paragon-User"),
        "{}",
        text(&refused)
    );
    for client in [host_minted, alpha, crossed, nobody] {
        let _ = client.cancel().await;
    }
}

/// A signing key no project of `two_orgs` knows: another emulator's.
async fn emulator_signing_key_of_another_project() -> String {
    let other = Emulator::start(EmulatorConfig {
        orgs: vec![org_seed("Other", 1)],
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    field(&paragon(&other, 0), "signing_key_pem")
}

#[tokio::test]
async fn callers_without_the_token_get_401_and_foreign_origins_403() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &[]).await;
    let http = reqwest::Client::new();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"}}});
    let post = |auth: Option<&str>, origin: Option<&str>| {
        let mut request = http
            .post(&server.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .json(&initialize);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let none = post(None, None).await.expect("answer");
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
    let wrong = post(Some("Bearer caller-token-for-tests-012345678X"), None)
        .await
        .expect("answer");
    assert_eq!(wrong.status(), 401);
    let right = post(Some(&format!("Bearer {CALLER_TOKEN}")), None)
        .await
        .expect("answer");
    assert_eq!(right.status(), 200);
    let local_page = post(
        Some(&format!("Bearer {CALLER_TOKEN}")),
        Some("http://localhost:3000"),
    )
    .await
    .expect("answer");
    assert_eq!(local_page.status(), 200);
    let foreign = post(
        Some(&format!("Bearer {CALLER_TOKEN}")),
        Some("https://evil.example"),
    )
    .await
    .expect("answer");
    assert_eq!(foreign.status(), 403);

    let metrics = http
        .get(format!("{}/metrics", server.base()))
        .send()
        .await
        .expect("answer");
    assert_eq!(metrics.status(), 401);
    let health = http
        .get(format!("{}/healthz", server.base()))
        .send()
        .await
        .expect("answer");
    assert_eq!(health.status(), 200);

    // rmcp's own client cannot even start a session without the token.
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.clone())
        .custom_headers(tenant(&emulator, 0));
    assert!(
        ().serve(StreamableHttpClientTransport::from_config(config))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn metrics_count_tool_calls_and_usage_per_tenant_without_secrets() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &[]).await;
    let alpha = connect(&server, tenant(&emulator, 0)).await;
    for _ in 0..3 {
        let ok = call(
            &alpha,
            "soql_query",
            json!({"query": "SELECT Name FROM Account LIMIT 1"}),
        )
        .await;
        assert!(!is_error(&ok), "{}", text(&ok));
    }
    let bad = call(&alpha, "soql_query", json!({"query": "SELECT Name FROM"})).await;
    assert!(is_error(&bad));
    let body = reqwest::Client::new()
        .get(format!("{}/metrics", server.base()))
        .bearer_auth(CALLER_TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        body.contains("sfmcp_tool_calls_total{tool=\"soql_query\"} 4\n"),
        "{body}"
    );
    assert!(
        body.contains("sfmcp_tool_errors_total{tool=\"soql_query\",kind=\"tool\"} 1\n"),
        "{body}"
    );
    assert!(
        body.contains("sfmcp_tool_call_duration_seconds_count{tool=\"soql_query\"} 4\n"),
        "{body}"
    );
    let alpha_user = field(&paragon(&emulator, 0), "user_id");
    let usage_line = body
        .lines()
        .find(|l| l.starts_with("sfmcp_upstream_api_used{") && l.contains(&alpha_user))
        .unwrap_or_else(|| panic!("usage of {alpha_user}: {body}"));
    // The describe global and Account's describe (validation; cached after) and three
    // queries. The malformed query was refused locally.
    assert!(usage_line.ends_with(" 5"), "{usage_line}");
    assert!(
        !body.contains(&field(&paragon(&emulator, 1), "user_id")),
        "bravo made no call: {body}"
    );
    assert!(!body.contains(CALLER_TOKEN));
    assert!(!body.contains("BEGIN"));
    let _ = alpha.cancel().await;
}

#[tokio::test]
async fn stateless_replicas_sharing_the_cursor_key_continue_each_others_queries() {
    let emulator = two_orgs().await;
    let env = [("SFMCP_CURSOR_KEY", SHARED_CURSOR_KEY.to_string())];
    let one = start_server(&emulator, &env, &["--stateless"]).await;
    let two = start_server(&emulator, &env, &["--stateless"]).await;
    let alone = start_server(&emulator, &[], &["--stateless"]).await;
    let on_one = connect(&one, tenant(&emulator, 0)).await;
    let on_two = connect(&two, tenant(&emulator, 0)).await;
    let on_alone = connect(&alone, tenant(&emulator, 0)).await;
    let first = call(
        &on_one,
        "soql_query",
        json!({"query": "SELECT Name FROM Account ORDER BY Name", "max_rows": 5}),
    )
    .await;
    let cursor = structured(&first)["cursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    let next = call(&on_two, "query_more", json!({"cursor": cursor})).await;
    assert!(!is_error(&next), "{}", text(&next));
    assert_eq!(names(&next)[0], "Alpha 005");
    // A replica with another key cannot open it.
    let foreign = call(&on_alone, "query_more", json!({"cursor": cursor})).await;
    assert!(is_error(&foreign), "{}", text(&foreign));
    for client in [on_one, on_two, on_alone] {
        let _ = client.cancel().await;
    }
    drop((one, two, alone));
}

#[tokio::test]
async fn the_server_shuts_down_gracefully_on_sigterm() {
    let emulator = two_orgs().await;
    let mut server = start_server(&emulator, &[], &[]).await;
    let pid = server.child.id().expect("pid");
    let status = tokio::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .await
        .expect("kill runs");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(10), server.child.wait())
        .await
        .expect("exits within 10 s")
        .expect("exit status");
    assert!(exit.success(), "{exit:?}");
}

/// A client that trickles a request's headers (slowloris) is cut off after
/// SFMCP_HEADER_TIMEOUT_SECS instead of holding a connection forever; others are served on.
/// A server that gives clients one second for a request, and a raw connection to it.
async fn slow_client() -> (
    sfmcp_emulator::EmulatorHandle,
    Server,
    String,
    tokio::net::TcpStream,
) {
    let emulator = two_orgs().await;
    let server = start_server(
        &emulator,
        &[("SFMCP_HEADER_TIMEOUT_SECS", "1".to_string())],
        &[],
    )
    .await;
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_string();
    let slow = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connects");
    (emulator, server, address, slow)
}

#[tokio::test]
async fn a_client_too_slow_with_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (emulator, server, address, mut slow) = slow_client().await;
    slow.write_all(format!("POST /mcp HTTP/1.1\r\nHost: {address}\r\n").as_bytes())
        .await
        .expect("writes part of the headers");
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut answer))
        .await
        .expect("the server ends the connection within 10 s");
    assert!(
        read.is_err() || answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "closed after {:?}, before the timeout",
        started.elapsed()
    );
    // A client that sends its headers in time is served as before.
    let client = connect(&server, tenant(&emulator, 0)).await;
    let listed = client.list_all_tools().await.expect("tools/list");
    assert!(!listed.is_empty());
    let _ = client.cancel().await;
}

#[tokio::test]
async fn a_client_too_slow_with_its_body_is_answered_and_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Both kept alive to the end of the test: dropping them stops the server and the org.
    let (_emulator, _server, address, mut slow) = slow_client().await;
    // Authenticated, headers complete, a megabyte announced: then a byte now and then.
    slow.write_all(
        format!(
            "POST /mcp HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {CALLER_TOKEN}\r\n\
             Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
             Content-Length: 1000000\r\n\r\n{{"
        )
        .as_bytes(),
    )
    .await
    .expect("writes the headers");
    let started = std::time::Instant::now();
    let dribble = async {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if slow.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(2_500), dribble).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut answer))
        .await
        .expect("the server ends the connection within 10 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive in time"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(12));
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_a_json_rpc_parse_error() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &[]).await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for body in [
        b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"ping\", \"params\": {\"x\": NaN}}"
            .to_vec(),
        b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"p\xffing\"}".to_vec(),
        deep.into_bytes(),
        b"{\"jsonrpc\": \"2.0\", ".to_vec(),
    ] {
        let response = reqwest::Client::new()
            .post(&server.url)
            .bearer_auth(CALLER_TOKEN)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 400);
        let answer: serde_json::Value = response.json().await.expect("a JSON-RPC answer");
        assert_eq!(answer["error"]["code"], json!(-32700), "{answer}");
        assert_eq!(answer["id"], serde_json::Value::Null);
    }
    // Well-formed requests are served as before.
    let client = connect(&server, tenant(&emulator, 0)).await;
    assert!(
        !client
            .list_all_tools()
            .await
            .expect("tools/list")
            .is_empty()
    );
    let _ = client.cancel().await;
}

/// One JSON-RPC request over raw HTTP, so each request of one session can carry its own
/// tenant headers (rmcp's client sends the same headers all session). Returns the answer's
/// `result` and the session id the server gave.
async fn rpc(
    url: &str,
    session: Option<&str>,
    tenant: &[(&str, String)],
    id: u64,
    method: &str,
    params: serde_json::Value,
) -> (serde_json::Value, Option<String>) {
    let mut request = reqwest::Client::new()
        .post(url)
        .bearer_auth(CALLER_TOKEN)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    for (name, value) in tenant {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("request");
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.text().await.expect("body");
    let answer = body
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .chain(std::iter::once(body.as_str()))
        .filter_map(|data| serde_json::from_str::<serde_json::Value>(data.trim()).ok())
        .find(|message| message["id"] == json!(id))
        .unwrap_or_else(|| panic!("no answer to {method} in {body}"));
    (answer["result"].clone(), session)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_audit_runs_are_shown_only_to_the_tenant_that_ran_them() {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let org = emulator.orgs[0].clone();
    let host = url::Url::parse(&org.instance_url).expect("url");
    let host = format!(
        "{}:{}",
        host.host_str().expect("host"),
        host.port().expect("port")
    );
    let mut env: Vec<(String, String)> = vec![("SFMCP_HTTP_TOKENS".into(), CALLER_TOKEN.into())];
    let okta =
        sfmcp_emulator::idp::IdpServer::shared().announcement(&emulator.base_url)["okta"]["env"]
            .clone();
    for (k, v) in okta.as_object().expect("okta env") {
        env.push((k.clone(), v.as_str().unwrap_or_default().to_owned()));
    }
    let files = tempfile::tempdir().expect("temp dir");
    let server = spawn(
        env,
        &["--allow-direct-tenants", "--direct-tenant-host", &host],
        files,
    )
    .await;
    let alpha = [
        ("x-salesforce-instance-url", org.instance_url.clone()),
        ("x-salesforce-access-token", org.access_token.clone()),
    ];
    let (_, session) = rpc(
        &server.url,
        None,
        &alpha,
        1,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "test", "version": "0"}}),
    )
    .await;
    let session = session.expect("a session id");
    reqwest::Client::new()
        .post(&server.url)
        .bearer_auth(CALLER_TOKEN)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .expect("initialized");
    let call = |id: u64, tenant: Vec<(&'static str, String)>, name: &'static str| {
        let (url, session) = (server.url.clone(), session.clone());
        async move {
            let args = if name == "audit_run" {
                json!({"idp": "okta"})
            } else {
                json!({})
            };
            rpc(
                &url,
                Some(&session),
                &tenant,
                id,
                "tools/call",
                json!({"name": name, "arguments": args}),
            )
            .await
            .0
        }
    };
    let run = call(2, alpha.to_vec(), "audit_run").await;
    assert_ne!(run["isError"], json!(true), "{run}");
    let run_id = run["structuredContent"]["run_id"]
        .as_str()
        .expect("run_id")
        .to_string();
    let own = call(3, alpha.to_vec(), "audit_findings").await;
    assert_ne!(own["isError"], json!(true), "{own}");
    assert_eq!(own["structuredContent"]["run_id"], json!(run_id));

    let bravo = vec![
        ("x-salesforce-instance-url", org.instance_url.clone()),
        ("x-salesforce-access-token", "00Dx!someone-else".to_string()),
    ];
    let bogus = vec![("x-salesforce-instance-url", "not a url".to_string())];
    for (id, tenant) in [(4, bravo), (5, bogus), (6, Vec::new())] {
        let other = call(id, tenant.clone(), "audit_findings").await;
        let shown = other.to_string();
        assert_eq!(other["isError"], json!(true), "{tenant:?}: {shown}");
        assert!(!shown.contains(&run_id), "{tenant:?}: {shown}");
        assert!(!shown.contains("SF-IDP"), "{tenant:?}: {shown}");
    }
}

/// A raw `initialize`: the request that opens a session. Returns the status and the body.
/// A bare `initialize` with no session: the request that opens one.
async fn post_initialize(server: &Server) -> reqwest::Response {
    reqwest::Client::new()
        .post(&server.url)
        .bearer_auth(CALLER_TOKEN)
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "cap-test", "version": "1"}
            }}),
        )
        .send()
        .await
        .expect("answered")
}

async fn open_session(server: &Server) -> (u16, String) {
    let response = post_initialize(server).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn sessions_past_the_cap_are_refused_until_one_closes() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[("SFMCP_MAX_SESSIONS", "2".into())], &[]).await;
    let first = connect(&server, tenant(&emulator, 0)).await;
    let second = connect(&server, tenant(&emulator, 1)).await;

    let (status, body) = open_session(&server).await;
    assert_eq!(status, 503, "{body}");
    let refusal: serde_json::Value = serde_json::from_str(&body).expect("a JSON-RPC error");
    assert_eq!(refusal["error"]["code"], json!(-32000), "{refusal}");
    let message = refusal["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("SFMCP_MAX_SESSIONS") && message.contains("--max-sessions"),
        "the refusal names the setting: {message}"
    );
    // Sessions already open keep working at the cap.
    assert!(!first.list_all_tools().await.expect("tools/list").is_empty());

    // Closing a session (rmcp's client sends DELETE) frees its place.
    let _ = second.cancel().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = open_session(&server).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            std::time::Instant::now() < deadline,
            "the closed session's place was not freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = first.cancel().await;
}

/// Opens a session; its `Mcp-Session-Id`.
async fn open_session_id(server: &Server) -> String {
    let response = post_initialize(server).await;
    assert_eq!(response.status(), 200);
    response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .expect("a session id")
        .to_string()
}

async fn close_session(server: &Server, id: &str) {
    let response = reqwest::Client::new()
        .delete(&server.url)
        .bearer_auth(CALLER_TOKEN)
        .header("mcp-session-id", id)
        .send()
        .await
        .expect("answered");
    assert!(response.status().is_success(), "{}", response.status());
}

/// Sessions' memory is freed when they end, but glibc keeps it (fragmentation): once many
/// have ended the server gives the free pages back, and a few ending is not worth it. RSS
/// figures are in tools/README.md; this checks the release happens, through `/metrics`.
#[tokio::test]
async fn freed_memory_is_given_back_once_many_sessions_have_ended() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &[]).await;
    let releases = || async { sample(&server.metrics().await, "sfmcp_heap_releases_total") };
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(open_session_id(&server).await);
    }
    for id in ids.drain(..8) {
        close_session(&server, &id).await;
    }
    // Two checks at least (one a second) see only 8 ended.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(releases().await, 0.0);
    for id in ids.drain(..) {
        close_session(&server, &id).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while releases().await < 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "40 sessions ended and no memory was given back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A stateless server keeps no session, but each open connection holds hyper's buffers and a
/// task: once many have closed, their memory is given back too.
#[tokio::test]
async fn freed_memory_is_given_back_once_many_connections_have_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &["--stateless"]).await;
    let before = sample(&server.metrics().await, "sfmcp_heap_releases_total");
    let mut connections = Vec::new();
    for _ in 0..40 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port()))
            .await
            .expect("connects");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
            .await
            .expect("writes");
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.expect("an answer");
        assert_eq!(&head, b"HTTP/1.1 200");
        connections.push(stream);
    }
    drop(connections);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sample(&server.metrics().await, "sfmcp_heap_releases_total") <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "40 connections closed and no memory was given back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
