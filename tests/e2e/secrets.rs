//! No secret leaves the server: a representative session (every tool, a token refresh,
//! failures) on both credential planes at `RUST_LOG=trace`, with every byte the server wrote
//! on stdout and stderr kept and searched for every secret the emulator issued or was
//! configured with. Panics print where, never what.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Client, call, is_error, org_env, structured, text};
use rmcp::ServiceExt;
use serde_json::{Value, json};
use sfmcp_emulator::EmulatorHandle;
use tokio::io::AsyncReadExt;

/// Memory that a [`common::capture::Tee`] copies into and the test reads afterwards.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A server whose stdout and stderr are both kept in full.
struct Recorded {
    client: Client,
    child: tokio::process::Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: tokio::task::JoinHandle<Vec<u8>>,
}

async fn spawn_recorded(env: &[(&str, String)]) -> Recorded {
    let process = common::capture::process_name("serve-stdio");
    common::capture::secrets_in_env(env.iter().map(|(k, v)| (k, v)));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(common::capture::env())
        .env("RUST_LOG", "trace")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sfmcp spawns");
    let stdin = child.stdin.take().expect("stdin");
    let stdout =
        common::capture::Tee::new(child.stdout.take().expect("stdout"), &process, "stdout");
    let mut stderr =
        common::capture::Tee::new(child.stderr.take().expect("stderr"), &process, "stderr");
    let copy = Shared::default();
    let stderr = tokio::spawn(async move {
        let mut all = Vec::new();
        let _ = stderr.read_to_end(&mut all).await;
        all
    });
    let reader = common::capture::Tee::with_sink(stdout, copy.clone());
    let client = ().serve((reader, stdin)).await.expect("MCP session starts");
    Recorded {
        client,
        child,
        stdout: copy.0,
        stderr,
    }
}

impl Recorded {
    /// Ends the session and returns (stdout, stderr), every byte of each.
    async fn finish(mut self) -> (Vec<u8>, Vec<u8>) {
        let _ = self.client.cancel().await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        let stderr = tokio::time::timeout(Duration::from_secs(10), self.stderr)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let stdout = self.stdout.lock().unwrap().clone();
        (stdout, stderr)
    }
}

async fn control(emulator: &EmulatorHandle, what: &str, body: Option<Value>) {
    let url = format!("{}/__emulator/{what}", emulator.base_url);
    let mut request = reqwest::Client::new().post(url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("control plane");
    assert!(response.status().is_success(), "{what}");
}

/// Every access and refresh token the emulator has issued so far.
fn issued_tokens(emulator: &EmulatorHandle) -> Vec<String> {
    let sessions = emulator.state().sessions.lock().unwrap();
    sessions
        .access
        .keys()
        .chain(sessions.refresh.keys())
        .cloned()
        .collect()
}

/// Asserts that no secret, nor any long piece of one, appears in `written`.
fn assert_absent(written: &[u8], secrets: &[String], stream: &str) {
    let written = String::from_utf8_lossy(written);
    for secret in secrets {
        assert!(secret.len() >= 16, "a secret worth looking for: {secret:?}");
        // Any 16-character window: a token cut or wrapped still shows.
        let chars: Vec<char> = secret.chars().collect();
        for window in chars.windows(16).step_by(8) {
            let piece: String = window.iter().collect();
            assert!(
                !written.contains(&piece),
                "{stream} holds part of a secret: {piece:?}"
            );
        }
    }
    // Minted Paragon tokens are JWTs; none may show, whoever issued them.
    let looks_like_jwt = written.match_indices("eyJ").any(|(i, _)| {
        let rest = &written[i..];
        let header = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        header > 10 && rest[header..].starts_with(".eyJ")
    });
    assert!(!looks_like_jwt, "{stream} holds something like a JWT");
}

/// Everything on stdout is MCP: one JSON-RPC message per line.
fn assert_only_protocol(stdout: &[u8]) {
    let text = String::from_utf8(stdout.to_vec()).expect("stdout is UTF-8");
    assert!(!text.is_empty());
    for line in text.lines().filter(|l| !l.is_empty()) {
        let message: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        assert_eq!(message["jsonrpc"], json!("2.0"), "{line}");
    }
}

#[tokio::test]
async fn a_direct_session_at_trace_level_writes_no_secret() {
    let emulator = common::demo_emulator().await;
    let org = emulator.orgs[0].clone();
    let session = spawn_recorded(&org_env(&org)).await;
    let client = &session.client;

    let page = call(
        client,
        "soql_query",
        json!({"query": "SELECT Id, Name, Email FROM Contact ORDER BY Id", "max_rows": 5}),
    )
    .await;
    assert!(!is_error(&page), "{}", text(&page));
    let cursor = structured(&page)["cursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    let contact = structured(&page)["records"][0]["Id"]
        .as_str()
        .expect("id")
        .to_string();
    let record_values: Vec<String> = structured(&page)["records"]
        .as_array()
        .expect("records")
        .iter()
        .flat_map(|record| [record["Name"].clone(), record["Email"].clone()])
        .filter_map(|value| value.as_str().map(str::to_string))
        .collect();
    assert!(record_values.len() >= 5, "names and e-mails to look for");
    let more = call(client, "query_more", json!({ "cursor": cursor })).await;
    assert!(!is_error(&more), "{}", text(&more));
    for (tool, args) in [
        ("sosl_search", json!({"text": "aperture"})),
        ("list_objects", json!({})),
        ("describe_object", json!({"object": "Contact"})),
        ("get_record", json!({"id": contact})),
        ("record_url", json!({"ids": [contact]})),
        ("org_limits", json!({})),
        (
            "list_views",
            json!({"object": "Contact", "view": "All Contacts"}),
        ),
    ] {
        let result = call(client, tool, args).await;
        assert!(!is_error(&result), "{tool}: {}", text(&result));
    }
    let created = call(
        client,
        "create_record",
        json!({"object": "Lead", "fields": {"LastName": "Secretless", "Company": "Acme"}}),
    )
    .await;
    assert!(!is_error(&created), "{}", text(&created));
    let lead = structured(&created)["id"].as_str().expect("id").to_string();
    let updated = call(
        client,
        "update_record",
        json!({"object": "Lead", "id": lead, "fields": {"Company": "Acme Corp"}}),
    )
    .await;
    assert!(!is_error(&updated), "{}", text(&updated));
    for (tool, args) in [
        ("record_history", json!({"id": lead})),
        ("recent_items", json!({})),
        ("record_files", json!({"id": lead})),
        (
            "tooling_query",
            json!({"query": "SELECT Name, Body FROM ApexClass", "include_bodies": true}),
        ),
    ] {
        let result = call(client, tool, args).await;
        assert!(!is_error(&result), "{tool}: {}", text(&result));
    }

    // A refresh: the expired token is renewed with the refresh token and client secret.
    assert!(emulator.expire_access_tokens() > 0);
    let refreshed = call(client, "org_limits", json!({})).await;
    assert!(!is_error(&refreshed), "{}", text(&refreshed));

    // Failures: a 500, and an expired token whose refresh is refused.
    control(
        &emulator,
        "faults",
        Some(json!({"path_regex": "/query$", "status": 500, "count": 3,
            "body": [{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}]})),
    )
    .await;
    let failed = call(
        client,
        "soql_query",
        json!({"query": "SELECT Id FROM Lead"}),
    )
    .await;
    assert!(is_error(&failed));
    emulator.expire_access_tokens();
    control(
        &emulator,
        "faults",
        Some(json!({"path_regex": "/oauth2/token$", "status": 400,
            "body": {"error": "invalid_grant", "error_description": "expired access/refresh token"}})),
    )
    .await;
    let refused = call(client, "get_record", json!({"id": contact})).await;
    assert!(is_error(&refused));
    assert!(text(&refused).contains("Reauthorize"), "{}", text(&refused));

    let mut secrets = vec![
        org.access_token.clone(),
        org.refresh_token.clone(),
        org.client_secret.clone(),
    ];
    secrets.extend(issued_tokens(&emulator));
    assert!(secrets.len() >= 5, "the refreshed tokens are among them");
    let (stdout, stderr) = session.finish().await;
    assert!(
        String::from_utf8_lossy(&stderr).contains("TRACE"),
        "the server logged at trace level"
    );
    assert_only_protocol(&stdout);
    assert_absent(&stdout, &secrets, "stdout");
    assert_absent(&stderr, &secrets, "stderr");
    // Record data is personal data: neither what tools returned nor what they were asked to
    // write reaches the log, even at trace level.
    let log = String::from_utf8_lossy(&stderr);
    let written = ["Secretless".to_string(), "Acme Corp".to_string()];
    for value in record_values.iter().chain(&written) {
        assert!(
            !log.contains(value.as_str()),
            "the log holds the record value {value:?}"
        );
    }
}

#[tokio::test]
async fn a_paragon_session_at_trace_level_writes_no_key_or_token() {
    let emulator = common::demo_emulator().await;
    let project = emulator.orgs[0].paragon.clone().expect("Paragon project");
    let field = |name: &str| project[name].as_str().expect(name).to_string();
    let files = tempfile::tempdir().expect("temp dir");
    let key_file = files.path().join("signing.pem");
    std::fs::write(&key_file, field("signing_key_pem")).expect("key file");
    let env = vec![
        ("PARAGON_PROXY_URL", field("proxy_url")),
        ("PARAGON_PROJECT_ID", field("project_id")),
        (
            "PARAGON_SIGNING_KEY_FILE",
            key_file.to_string_lossy().to_string(),
        ),
        ("PARAGON_USER_ID", field("user_id")),
        ("PARAGON_CREDENTIAL_ID", field("credential_id")),
    ];
    let session = spawn_recorded(&env).await;
    let client = &session.client;
    let page = call(
        client,
        "soql_query",
        json!({"query": "SELECT Id, Name FROM Account ORDER BY Name LIMIT 3"}),
    )
    .await;
    assert!(!is_error(&page), "{}", text(&page));
    let id = structured(&page)["records"][0]["Id"]
        .as_str()
        .expect("id")
        .to_string();
    for (tool, args) in [
        ("get_record", json!({"id": id})),
        ("describe_object", json!({"object": "Account"})),
        ("org_limits", json!({})),
    ] {
        let result = call(client, tool, args).await;
        assert!(!is_error(&result), "{tool}: {}", text(&result));
    }
    control(
        &emulator,
        "faults",
        Some(json!({"path_regex": "/limits", "status": 401,
            "body": {"message": "Unauthorized: invalid or expired user token"}})),
    )
    .await;
    let failed = call(client, "org_limits", json!({})).await;
    assert!(is_error(&failed));

    // The key's base64 body, line by line: any line of it showing is a leak.
    let mut secrets: Vec<String> = field("signing_key_pem")
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect();
    assert!(!secrets.is_empty());
    secrets.extend(issued_tokens(&emulator));
    let (stdout, stderr) = session.finish().await;
    assert_only_protocol(&stdout);
    assert_absent(&stdout, &secrets, "stdout");
    assert_absent(&stderr, &secrets, "stderr");
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[tokio::test]
async fn a_jwt_bearer_session_at_trace_level_writes_no_key_or_token() {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
    let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("key");
    let public = key.public_key().as_der().expect("spki");
    let private: Pkcs8V1Der = key.as_der().expect("pkcs8");
    let private_pem = pem("PRIVATE KEY", private.as_ref());
    common::capture::secret("JWT bearer signing key", &private_pem);
    let emulator = common::seeded_emulator(json!({
        "connected_app": {"client_id": "3MVG9jwt", "jwt_certificate_pem": pem("PUBLIC KEY", public.as_ref())},
        "users": [{"username": "integration@acme.test", "profile": "System Administrator", "default": true}],
        "records": {"Account": [{"Name": "Acme"}, {"Name": "Globex"}]},
    }))
    .await;
    let org = emulator.orgs[0].clone();
    let files = tempfile::tempdir().expect("temp dir");
    let key_file = files.path().join("jwt.pem");
    std::fs::write(&key_file, &private_pem).expect("key file");
    let env = vec![
        ("SF_INSTANCE_URL", org.instance_url.clone()),
        ("SF_LOGIN_URL", org.login_url.clone()),
        ("SF_CLIENT_ID", "3MVG9jwt".to_string()),
        ("SF_USERNAME", "integration@acme.test".to_string()),
        ("SF_JWT_KEY_FILE", key_file.to_string_lossy().to_string()),
    ];
    let session = spawn_recorded(&env).await;
    let client = &session.client;
    let query = json!({"query": "SELECT Id, Name FROM Account ORDER BY Name"});
    let first = call(client, "soql_query", query.clone()).await;
    assert!(!is_error(&first), "{}", text(&first));
    assert_eq!(structured(&first)["totalSize"], json!(2));
    // Expired: a fresh assertion is signed and exchanged.
    assert!(emulator.expire_access_tokens() > 0);
    let again = call(client, "soql_query", query).await;
    assert!(!is_error(&again), "{}", text(&again));
    control(
        &emulator,
        "faults",
        Some(json!({"path_regex": "/limits", "status": 500, "body": [{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}]})),
    )
    .await;
    assert!(is_error(&call(client, "org_limits", json!({})).await));

    let mut secrets: Vec<String> = private_pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_string)
        .collect();
    secrets.push(org.access_token.clone());
    secrets.extend(issued_tokens(&emulator));
    let (stdout, stderr) = session.finish().await;
    assert_only_protocol(&stdout);
    assert_absent(&stdout, &secrets, "stdout");
    assert_absent(&stderr, &secrets, "stderr");
}

#[test]
#[should_panic(expected = "holds part of a secret")]
fn the_leak_check_finds_part_of_a_token() {
    assert_absent(
        b"Authorization: Bearer 00Dxx0000000001!AQ8AQ (cut here)",
        &["00Dxx0000000001!AQ8AQsecretpart".to_string()],
        "sample",
    );
}

#[test]
#[should_panic(expected = "something like a JWT")]
fn the_leak_check_finds_a_jwt() {
    assert_absent(
        b"token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        &[],
        "sample",
    );
}
