//! OAuth: expiry and refresh, the authorization-code flow with PKCE, client credentials,
//! JWT bearer, scopes, userinfo and the identity URL, introspection, revocation, and the
//! daily API allocation.
// Test helpers panic on failure by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common;

use std::collections::HashMap;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use emulator_common::{Client, fixture, seed_source, start_seed, start_with};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

async fn token_request(base: &str, form: &[(&str, &str)]) -> (StatusCode, Json) {
    let reply = reqwest::Client::new()
        .post(format!("{base}/services/oauth2/token"))
        .form(form)
        .send()
        .await
        .expect("token endpoint");
    let status = reply.status();
    (status, reply.json().await.expect("json"))
}

fn keys(value: &Json) -> Vec<String> {
    let mut k: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

#[tokio::test]
async fn expired_tokens_get_invalid_session_and_refresh_brings_a_working_one() {
    let handle = start_seed(json!({})).await;
    let org = &handle.orgs[0];
    let client = Client::for_org(&handle, 0);
    assert_eq!(client.get("/limits").await.status, StatusCode::OK);

    let expired = reqwest::Client::new()
        .post(format!("{}/__emulator/expire-tokens", handle.base_url))
        .send()
        .await
        .expect("control plane");
    assert_eq!(expired.status(), StatusCode::OK);
    let reply = client.get("/limits").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, fixture("restforce/error-expired-session.json"));

    let (status, body) = token_request(
        &handle.base_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &org.refresh_token),
            ("client_id", &org.client_id),
            ("client_secret", &org.client_secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The recorded refresh response's keys, plus scope and token_type that current orgs add;
    // no refresh_token and no expires_in.
    let recorded = keys(&fixture("restforce/oauth-refresh-success.json"));
    let ours = keys(&body);
    assert!(
        recorded.iter().all(|k| ours.contains(k)),
        "{ours:?} lacks some of {recorded:?}"
    );
    assert_eq!(
        ours,
        vec![
            "access_token",
            "id",
            "instance_url",
            "issued_at",
            "scope",
            "signature",
            "token_type"
        ]
    );
    assert_eq!(body["instance_url"], json!(handle.base_url));
    let refreshed = Client::new(&handle, body["access_token"].as_str().expect("token"));
    assert_eq!(refreshed.get("/limits").await.status, StatusCode::OK);

    let (status, body) = token_request(
        &handle.base_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "nope"),
            ("client_id", &org.client_id),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, fixture("restforce/oauth-refresh-error.json"));
}

#[tokio::test]
async fn tokens_expire_after_the_configured_ttl() {
    let handle = start_with(vec![seed_source(&json!({}))], |c| {
        c.token_ttl = std::time::Duration::from_secs(1)
    })
    .await;
    let client = Client::for_org(&handle, 0);
    assert_eq!(client.get("/limits").await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(client.get("/limits").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn authorization_code_with_pkce() {
    let handle = start_seed(json!({})).await;
    let org = &handle.orgs[0];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = URL_SAFE_NO_PAD.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
    );
    // RFC 7636's worked example.
    assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    let authorize = |state: &'static str| {
        http.get(format!("{}/services/oauth2/authorize", handle.base_url))
            .query(&[
                ("response_type", "code"),
                ("client_id", org.client_id.as_str()),
                ("redirect_uri", "http://127.0.0.1:9/callback"),
                ("state", state),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("scope", "api refresh_token id"),
            ])
    };
    let reply = authorize("xyz").send().await.expect("authorize");
    assert_eq!(reply.status(), StatusCode::FOUND);
    let location =
        url::Url::parse(reply.headers()["location"].to_str().expect("location")).expect("url");
    assert_eq!(location.path(), "/callback");
    let params: HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "xyz");
    let code = params["code"].clone();

    let exchange = |code: String, verifier: &'static str| {
        let base = handle.base_url.clone();
        let client_id = org.client_id.clone();
        async move {
            token_request(
                &base,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", &client_id),
                    ("redirect_uri", "http://127.0.0.1:9/callback"),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    let (status, body) = exchange(code.clone(), "the-wrong-verifier-the-wrong-verifier-xx").await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_grant"))
    );

    // The failed attempt consumed the code, as one-time codes are.
    let (status, _) = exchange(code, verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let reply = authorize("second").send().await.expect("authorize");
    let location =
        url::Url::parse(reply.headers()["location"].to_str().expect("location")).expect("url");
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let (status, body) = exchange(code, verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], json!("api refresh_token id"));
    assert!(body["refresh_token"].is_string());
    assert_eq!(
        body["id"],
        json!(format!(
            "{}/id/{}/{}",
            handle.base_url, org.org_id, org.user_id
        ))
    );
    let client = Client::new(&handle, body["access_token"].as_str().expect("token"));
    assert_eq!(client.get("/sobjects").await.status, StatusCode::OK);
}

#[tokio::test]
async fn client_credentials_need_the_secret_and_give_no_refresh_token() {
    let handle = start_seed(json!({})).await;
    let org = &handle.orgs[0];
    let (status, body) = token_request(
        &handle.base_url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &org.client_id),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_client", "error_description": "invalid client credentials"})
    );
    assert_eq!(
        keys(&body),
        keys(&fixture("restforce/oauth-token-error.json"))
    );

    let (status, body) = token_request(
        &handle.base_url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &org.client_id),
            ("client_secret", &org.client_secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none());
    let recorded = keys(&fixture("restforce/oauth-token-success.json"));
    let ours = keys(&body);
    assert!(
        recorded.iter().all(|k| ours.contains(k)),
        "{ours:?} lacks some of {recorded:?}"
    );

    let (status, body) = token_request(&handle.base_url, &[("grant_type", "password")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], json!("unsupported_grant_type"));
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn jwt(key: &RsaKeyPair, claims: &Json) -> String {
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let message = format!("{head}.{payload}");
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut signature,
    )
    .expect("sign");
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[tokio::test]
async fn jwt_bearer_verifies_the_signature_audience_and_expiry() {
    let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("key");
    let spki = key.public_key().as_der().expect("spki");
    let handle = start_seed(json!({
        "connected_app": {"client_id": "3MVG9jwt", "jwt_certificate_pem": pem("PUBLIC KEY", spki.as_ref())},
        "users": [{"username": "integration@acme.test", "profile": "System Administrator", "default": true}],
    }))
    .await;
    let now = chrono::Utc::now().timestamp();
    let claims = |aud: &str, exp: i64, sub: &str| json!({"iss": "3MVG9jwt", "sub": sub, "aud": aud, "exp": exp});
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    let assertion = jwt(
        &key,
        &claims(
            "https://login.salesforce.com",
            now + 120,
            "integration@acme.test",
        ),
    );
    let (status, body) = token_request(
        &handle.base_url,
        &[("grant_type", grant), ("assertion", &assertion)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none());
    let client = Client::new(&handle, body["access_token"].as_str().expect("token"));
    assert_eq!(client.get("/sobjects").await.status, StatusCode::OK);

    let other = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("key");
    for (assertion, why) in [
        (
            jwt(
                &other,
                &claims(
                    "https://login.salesforce.com",
                    now + 120,
                    "integration@acme.test",
                ),
            ),
            "another key",
        ),
        (
            jwt(
                &key,
                &claims("https://evil.example", now + 120, "integration@acme.test"),
            ),
            "wrong audience",
        ),
        (
            jwt(
                &key,
                &claims(
                    "https://login.salesforce.com",
                    now - 10,
                    "integration@acme.test",
                ),
            ),
            "expired",
        ),
        (
            jwt(
                &key,
                &claims(
                    "https://login.salesforce.com",
                    now + 120,
                    "nobody@acme.test",
                ),
            ),
            "unknown user",
        ),
        (format!("{}x", assertion), "tampered signature"),
    ] {
        let (status, body) = token_request(
            &handle.base_url,
            &[("grant_type", grant), ("assertion", &assertion)],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {body}");
        assert_eq!(body["error"], json!("invalid_grant"), "{why}");
    }
}

#[tokio::test]
async fn a_token_without_the_api_scope_cannot_call_rest_but_reads_userinfo() {
    let handle = start_seed(json!({})).await;
    let org = &handle.orgs[0];
    let state = handle.state();
    let (token, _) = state.issue_access_token(
        0,
        &org.user_id,
        &org.client_id,
        &["id".to_string(), "openid".to_string()],
    );
    let client = Client::new(&handle, &token);
    let reply = client.get("/sobjects").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body[0]["errorCode"], json!("INVALID_SESSION_ID"));
    assert_eq!(
        reply.body[0]["message"],
        json!("This session is not valid for use with the REST API")
    );

    let info = client
        .send(
            client
                .http
                .get(format!("{}/services/oauth2/userinfo", handle.base_url)),
        )
        .await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.body["user_id"], json!(org.user_id));
    assert_eq!(info.body["organization_id"], json!(org.org_id));
    assert_eq!(info.body["preferred_username"], json!(org.username));
    let identity = client
        .send(client.http.get(format!(
            "{}/id/{}/{}",
            handle.base_url, org.org_id, org.user_id
        )))
        .await;
    assert_eq!(identity.status, StatusCode::OK);
    assert_eq!(identity.body["username"], json!(org.username));
    assert_eq!(
        identity.body["urls"]["rest"],
        json!(format!("{}/services/data/v{{version}}/", handle.base_url))
    );
}

#[tokio::test]
async fn introspection_and_revocation() {
    let handle = start_seed(json!({})).await;
    let org = &handle.orgs[0];
    let http = reqwest::Client::new();
    let introspect = |token: String| {
        http.post(format!("{}/services/oauth2/introspect", handle.base_url))
            .form(&[
                ("token", token),
                ("client_id", org.client_id.clone()),
                ("client_secret", org.client_secret.clone()),
            ])
            .send()
    };
    let body: Json = introspect(org.access_token.clone())
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json");
    assert_eq!(body["active"], json!(true));
    assert_eq!(body["token_type"], json!("access_token"));
    assert_eq!(body["username"], json!(org.username));
    assert!(body["exp"].as_i64() > body["iat"].as_i64());

    let revoked = http
        .post(format!("{}/services/oauth2/revoke", handle.base_url))
        .form(&[("token", org.access_token.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    let body: Json = introspect(org.access_token.clone())
        .await
        .expect("introspect")
        .json()
        .await
        .expect("json");
    assert_eq!(body, json!({"active": false}));
    assert_eq!(
        Client::for_org(&handle, 0).get("/limits").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_daily_allocation_runs_out_with_request_limit_exceeded() {
    let handle = start_with(vec![seed_source(&json!({}))], |c| c.daily_api_limit = 3).await;
    let client = Client::for_org(&handle, 0);
    for n in 1..=3 {
        let reply = client.get("/limits").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.headers["sforce-limit-info"],
            format!("api-usage={n}/3").as_str()
        );
        assert_eq!(
            reply.body["DailyApiRequests"],
            json!({"Max": 3, "Remaining": 3 - n})
        );
    }
    let reply = client.get("/sobjects").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.body,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    assert_eq!(reply.headers["sforce-limit-info"], "api-usage=3/3");
    // The versions list is free.
    let versions = reqwest::get(format!("{}/services/data/", handle.base_url))
        .await
        .expect("versions");
    assert_eq!(versions.status(), StatusCode::OK);
}

/// `sfmcp demo` binds first and builds the org behind the listener: a client holding the
/// preset login may call before the org exists, waits in the backlog, then gets a token and
/// the org's data on its first query. Another refresh token gets nothing.
#[tokio::test]
async fn a_preset_login_works_for_a_client_that_called_before_the_org_was_built() {
    use sfmcp_emulator::{Emulator, EmulatorConfig, OrgSource, PresetLogin};

    let pending = Emulator::bind(EmulatorConfig {
        orgs: vec![OrgSource::Demo { scale: 1 }],
        ..EmulatorConfig::default()
    })
    .await
    .expect("bind");
    let base = pending.base_url.clone();
    let login = PresetLogin::generate();
    let form = |refresh_token: &str| {
        [
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", refresh_token.to_string()),
            ("client_id", login.client_id.clone()),
            ("client_secret", login.client_secret.clone()),
        ]
    };
    let early = {
        let url = format!("{base}/services/oauth2/token");
        let form = form(&login.refresh_token);
        tokio::spawn(async move { reqwest::Client::new().post(url).form(&form).send().await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(
        !early.is_finished(),
        "nothing answers before the org is built"
    );

    let emulator = pending
        .finish(std::slice::from_ref(&login))
        .await
        .expect("finish");
    assert_eq!(emulator.orgs[0].refresh_token, login.refresh_token);
    assert_eq!(emulator.orgs[0].client_id, login.client_id);
    assert!(
        emulator.orgs[0].paragon.is_none(),
        "a preset org announces no Paragon account, so its key pair is not made"
    );
    let reply = early
        .await
        .expect("task")
        .expect("the early request is answered");
    assert_eq!(reply.status(), StatusCode::OK);
    let token: Json = reply.json().await.expect("json");
    let access = token["access_token"].as_str().expect("access token");

    let query = reqwest::Client::new()
        .get(format!(
            "{base}/services/data/v{}/query",
            emulator.api_version
        ))
        .query(&[("q", "SELECT Id, Name FROM Account LIMIT 5")])
        .bearer_auth(access)
        .send()
        .await
        .expect("query");
    assert_eq!(query.status(), StatusCode::OK);
    let body: Json = query.json().await.expect("json");
    assert_eq!(body["records"].as_array().map(Vec::len), Some(5), "{body}");

    let other = PresetLogin::generate();
    let form = form(&other.refresh_token);
    let (status, refused) = token_request(
        &base,
        &form
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "invalid_grant");
    emulator.shutdown().await;
}
