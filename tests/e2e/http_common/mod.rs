//! Plumbing for the HTTP end-to-end tests: an emulator with two orgs behind its Paragon
//! mount, `sfmcp serve --http 127.0.0.1:0` (the real binary) as a many-tenant server, and
//! rmcp's Streamable HTTP client.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue};
use rmcp::RoleClient;
use rmcp::ServiceExt;
use rmcp::model::CallToolResult;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use sfmcp_emulator::{Emulator, EmulatorConfig, EmulatorHandle, OrgSource, SeedFileText};
use tokio::process::Child;

// The stdio harness, for its `sfmcp serve --http` spawner (one place that reads the address).
pub(crate) use crate::common;

pub type Client = RunningService<RoleClient, ()>;

pub const CALLER_TOKEN: &str = "caller-token-for-tests-0123456789";
/// 32 zero bytes, base64: a cursor key replicas share.
pub const SHARED_CURSOR_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

pub fn org_seed(prefix: &str, accounts: usize) -> OrgSource {
    let rows: Vec<Value> = (0..accounts)
        .map(|i| json!({"Name": format!("{prefix} {i:03}"), "Industry": "Banking"}))
        .collect();
    let seed = json!({"org": {"name": prefix}, "records": {"Account": rows}});
    OrgSource::Seed(Arc::new(SeedFileText {
        path: format!("{prefix} seed"),
        text: seed.to_string(),
    }))
}

/// Org 0 holds "Alpha nnn" accounts, org 1 "Bravo nnn".
pub async fn two_orgs() -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        orgs: vec![org_seed("Alpha", 250), org_seed("Bravo", 250)],
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// The Paragon settings the emulator announced for org `index`.
pub fn paragon(emulator: &EmulatorHandle, index: usize) -> Value {
    emulator.orgs[index]
        .paragon
        .clone()
        .expect("the emulator serves the Paragon proxy")
}

pub fn field(value: &Value, name: &str) -> String {
    value[name].as_str().expect(name).to_string()
}

pub struct Server {
    pub url: String,
    pub child: Child,
    _files: tempfile::TempDir,
}

impl Server {
    pub fn base(&self) -> String {
        self.url.trim_end_matches("/mcp").to_string()
    }

    pub fn port(&self) -> u16 {
        url::Url::parse(&self.url)
            .expect("url")
            .port()
            .expect("port")
    }

    /// `/metrics`, as the caller sees it.
    pub async fn metrics(&self) -> String {
        reqwest::Client::new()
            .get(format!("{}/metrics", self.base()))
            .bearer_auth(CALLER_TOKEN)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }
}

/// A sample's value in a Prometheus exposition (0 when absent).
pub fn sample(metrics: &str, name_and_labels: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The environment of a many-tenant Paragon server for the emulator's project (the
/// signing and public keys are written into `files`).
pub fn paragon_env(emulator: &EmulatorHandle, files: &std::path::Path) -> Vec<(String, String)> {
    let project = paragon(emulator, 0);
    let signing = files.join("signing.pem");
    std::fs::write(&signing, field(&project, "signing_key_pem")).expect("key file");
    let public = files.join("public.pem");
    std::fs::write(&public, field(&project, "public_key_pem")).expect("key file");
    vec![
        ("PARAGON_PROXY_URL".into(), field(&project, "proxy_url")),
        ("PARAGON_PROJECT_ID".into(), field(&project, "project_id")),
        (
            "PARAGON_SIGNING_KEY_FILE".into(),
            signing.display().to_string(),
        ),
        (
            "PARAGON_PUBLIC_KEY_FILE".into(),
            public.display().to_string(),
        ),
    ]
}

/// Starts `sfmcp serve --http 127.0.0.1:0` as a many-tenant Paragon server in front of the
/// emulator, with `extra_env` on top (an empty value removes a variable).
pub async fn start_server(
    emulator: &EmulatorHandle,
    extra_env: &[(&str, String)],
    args: &[&str],
) -> Server {
    let files = tempfile::tempdir().expect("temp dir");
    let mut env: Vec<(String, String)> = paragon_env(emulator, files.path());
    env.push(("SFMCP_HTTP_TOKENS".into(), CALLER_TOKEN.into()));
    for (k, v) in extra_env {
        env.retain(|(name, _)| name != k);
        if !v.is_empty() {
            env.push((k.to_string(), v.clone()));
        }
    }
    spawn(env, args, files).await
}

/// Spawns `sfmcp serve --http 127.0.0.1:0` with exactly `env` (plus PATH) and waits for the
/// address it prints.
pub async fn spawn(env: Vec<(String, String)>, args: &[&str], files: tempfile::TempDir) -> Server {
    let (child, url) = common::spawn_http(env, args).await;
    Server {
        url,
        child,
        _files: files,
    }
}

pub fn headers(pairs: &[(&'static str, String)]) -> HashMap<HeaderName, HeaderValue> {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_static(name),
                HeaderValue::from_str(value).expect("header value"),
            )
        })
        .collect()
}

/// The headers of the host acting for org `index`'s Paragon user: sfmcp mints the token.
pub fn tenant(emulator: &EmulatorHandle, index: usize) -> HashMap<HeaderName, HeaderValue> {
    let p = paragon(emulator, index);
    headers(&[
        ("x-paragon-user", field(&p, "user_id")),
        ("x-paragon-credential", field(&p, "credential_id")),
    ])
}

/// The tenant key sfmcp gives org `index`'s Paragon user when it mints the tokens.
pub fn minted_tenant_key(emulator: &EmulatorHandle, index: usize) -> String {
    let p = paragon(emulator, index);
    format!(
        "paragon:{}:user={}:{}",
        field(&p, "project_id"),
        field(&p, "user_id"),
        field(&p, "credential_id")
    )
}

/// An RS256 Paragon user token for `sub`, living `ttl` seconds (negative: expired).
pub fn sign(pem: &str, sub: &str, ttl: i64) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("signing key");
    let now = chrono::Utc::now().timestamp();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &json!({"sub": sub, "iat": now, "exp": now + ttl}),
        &key,
    )
    .expect("token")
}

pub async fn connect_to(url: &str, tenant: HashMap<HeaderName, HeaderValue>) -> Client {
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_string())
        .auth_header(CALLER_TOKEN)
        .custom_headers(tenant);
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("MCP session over HTTP starts")
}

pub async fn connect(server: &Server, tenant: HashMap<HeaderName, HeaderValue>) -> Client {
    connect_to(&server.url, tenant).await
}

pub use common::{call, is_error, structured, text};

/// Account names a result shows.
pub fn names(result: &CallToolResult) -> Vec<String> {
    structured(result)["records"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r["Name"].as_str().map(str::to_string))
        .collect()
}
