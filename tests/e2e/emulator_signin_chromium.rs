//! The browser sign-in, once, in a real browser: `sfmcp login` against the emulator's login
//! page; headless Chromium (Debian's `chromium`, installed by tools/setup-system-deps) types
//! the rep's username and password, clicks Allow, and lands on `sfmcp login`'s callback. The
//! saved credentials are the rep's: they see only the rep's rows.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common::Client;
use crate::emulator_signin::{PASSWORD, start_login_page, token_request, two_people_seed, user_id};

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value as Json;
use tokio::io::{AsyncBufReadExt, BufReader};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn python() -> std::path::PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-env/venv/bin/python");
    assert!(
        python.exists(),
        "the test Python is not installed: run `bash tools/setup-test-env` (make test does)"
    );
    python
}

#[tokio::test]
async fn chromium_completes_the_sign_in_of_sfmcp_login() {
    let handle = start_login_page(two_people_seed()).await;
    let org = handle.orgs[0].clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let credentials = dir.path().join("credentials.toml");
    let port = free_port();
    let mut login = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SF_CLIENT_ID", &org.client_id)
        .env("SF_CLIENT_SECRET", &org.client_secret)
        .args(["login", "--no-browser", "--login-url", &org.login_url])
        .args(["--port", &port.to_string(), "--credentials-file"])
        .arg(&credentials)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sfmcp login spawns");
    let mut lines = BufReader::new(login.stderr.take().expect("stderr")).lines();
    let authorize = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("stderr line") {
            if line.trim().starts_with("http") {
                return line.trim().to_string();
            }
        }
        panic!("sfmcp login printed no URL");
    })
    .await
    .expect("sfmcp login prints the authorize URL");

    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/chromium_signin.py");
    let browser = tokio::process::Command::new(python())
        .arg(&driver)
        .args([authorize.as_str(), "rep@acme.test", PASSWORD])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), browser)
        .await
        .expect("Chromium finishes within 3 minutes")
        .expect("the Chromium driver runs");
    assert!(
        output.status.success(),
        "the Chromium driver failed (is chromium installed? tools/setup-system-deps): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pages: Json = serde_json::from_slice(&output.stdout).expect("driver JSON");
    let pages = pages["pages"].as_array().expect("pages");
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_eq!(pages[0]["title"], "Login | Salesforce");
    assert_eq!(pages[1]["title"], "Allow Access? | Salesforce");
    let approval = pages[1]["text"].as_str().unwrap_or_default();
    assert!(
        approval.contains("Rita Rep") && approval.contains("Manage user data via APIs (api)"),
        "{approval}"
    );
    let landed = pages[2]["url"].as_str().unwrap_or_default();
    assert!(
        landed.starts_with(&format!("http://127.0.0.1:{port}/oauth/callback?code=")),
        "{landed}"
    );
    assert!(
        pages[2]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("sfmcp is connected to Salesforce"),
        "{pages:?}"
    );

    let status = tokio::time::timeout(Duration::from_secs(30), login.wait())
        .await
        .expect("sfmcp login ends")
        .expect("sfmcp login status");
    assert!(status.success());
    let saved = sfmcp_salesforce::login::load_credentials(&credentials)
        .expect("readable")
        .expect("saved");
    let rep = user_id(&handle, "rep@acme.test").await;
    assert!(
        saved
            .identity_url
            .as_deref()
            .is_some_and(|id| id.ends_with(&format!("/{rep}"))),
        "the saved connection is the rep's"
    );
    let (status, renewed) = token_request(
        &handle,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", saved.refresh_token.expose()),
            ("client_id", &org.client_id),
            ("client_secret", &org.client_secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let rep_client = Client::new(&handle, renewed["access_token"].as_str().expect("token"));
    let deals = rep_client.query("SELECT Name FROM Opportunity").await;
    assert_eq!(deals.body["totalSize"], 1, "{}", deals.body);
    assert_eq!(deals.body["records"][0]["Name"], "Rep deal");
}
