//! The emulator's Paragon proxy mount on the wire: who may call it, which org answers, and
//! Paragon's own refusals.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;

use serde_json::{Value, json};
use sfmcp_emulator::{Emulator, EmulatorConfig, EmulatorHandle, OrgSource, SeedFileText};

fn org(prefix: &str) -> OrgSource {
    let seed = json!({"records": {"Account": [{"Name": format!("{prefix} Account")}]}});
    OrgSource::Seed(Arc::new(SeedFileText {
        path: prefix.into(),
        text: seed.to_string(),
    }))
}

async fn emulator() -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        orgs: vec![org("Alpha"), org("Bravo")],
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

fn p(e: &EmulatorHandle, index: usize, key: &str) -> String {
    e.orgs[index].paragon.as_ref().expect("paragon")[key]
        .as_str()
        .expect(key)
        .to_string()
}

fn token(pem: &str, sub: &str, ttl: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &json!({"sub": sub, "iat": now, "exp": now + ttl}),
        &jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("key"),
    )
    .expect("token")
}

async fn get(url: &str, bearer: Option<&str>, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn each_credential_reaches_its_own_org_and_paragon_refuses_the_rest() {
    let e = emulator().await;
    let project = p(&e, 0, "project_id");
    let key = p(&e, 0, "signing_key_pem");
    let base = format!("{}/projects/{project}/sdk/proxy/salesforce", e.base_url);
    let query = format!("{base}/query?q=SELECT+Name+FROM+Account");
    let alpha = token(&key, &p(&e, 0, "user_id"), 300);
    let bravo = token(&key, &p(&e, 1, "user_id"), 300);

    let (status, body) = get(
        &query,
        Some(&alpha),
        &[("x-paragon-credential", &p(&e, 0, "credential_id"))],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["records"][0]["Name"], json!("Alpha Account"));
    // Without a credential: the user's (only) account.
    let (status, body) = get(&query, Some(&bravo), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["records"][0]["Name"], json!("Bravo Account"));
    // The path can come in X-Paragon-Proxy-Url instead.
    let (status, body) = get(
        &base,
        Some(&bravo),
        &[("x-paragon-proxy-url", "/query?q=SELECT+Name+FROM+Account")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["records"][0]["Name"], json!("Bravo Account"));

    // Another user's credential, no token, a forged or expired token, another project.
    let (status, body) = get(
        &query,
        Some(&alpha),
        &[("x-paragon-credential", &p(&e, 1, "credential_id"))],
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Integration not enabled for user."))
    );
    let (status, _) = get(&query, None, &[]).await;
    assert_eq!(status, 401);
    let other = Emulator::start(EmulatorConfig {
        orgs: vec![org("Other")],
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    let forged = token(&p(&other, 0, "signing_key_pem"), &p(&e, 0, "user_id"), 300);
    let (status, _) = get(&query, Some(&forged), &[]).await;
    assert_eq!(status, 401);
    let expired = token(&key, &p(&e, 0, "user_id"), -10);
    let (status, body) = get(&query, Some(&expired), &[]).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Token expired."))
    );
    let (status, _) = get(
        &query.replace(&project, "another-project"),
        Some(&alpha),
        &[],
    )
    .await;
    assert_eq!(status, 404);
}
