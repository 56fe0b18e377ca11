//! A Salesforce client nobody here wrote, simple-salesforce from PyPI, runs its normal flows
//! against the emulator over HTTPS: query, query_all across pages, describe, create, update,
//! get. `make test` installs it (tools/setup-test-env).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use sfmcp_emulator::{Emulator, EmulatorConfig};

#[tokio::test]
async fn simple_salesforce_runs_its_normal_flows() {
    let python = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/test-env/venv/bin/python"
    );
    assert!(
        std::path::Path::new(python).exists(),
        "simple-salesforce is not installed: run `bash tools/setup-test-env` (make test does)"
    );
    let emulator = Emulator::start(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let ca = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(ca.path(), emulator.tls_cert_pem.as_deref().expect("PEM")).expect("write PEM");
    let org = &emulator.orgs[0];
    assert!(org.instance_url.starts_with("https://127.0.0.1:"));

    let output = tokio::process::Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/simple_salesforce_flows.py"
        ))
        .env("SF_INSTANCE_URL", &org.instance_url)
        .env("SF_ACCESS_TOKEN", &org.access_token)
        .env("SF_API_VERSION", &emulator.api_version)
        .env("REQUESTS_CA_BUNDLE", ca.path())
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .await
        .expect("python runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "simple-salesforce failed:\n{stderr}"
    );
    let results: Value = serde_json::from_slice(&output.stdout).expect("one JSON line");

    assert_eq!(results["query"]["totalSize"], 5);
    let names: Vec<&str> = results["query"]["names"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "ORDER BY Name holds");
    assert_eq!(results["query_all"]["totalSize"], 3000);
    assert_eq!(
        results["query_all"]["rows"], 3000,
        "query_all followed every page"
    );
    assert_eq!(results["describe"]["name"], "Account");
    assert!(results["describe"]["fields"].as_u64().unwrap_or(0) > 20);
    assert_eq!(results["create"]["success"], true);
    assert_eq!(results["update"]["status"], 204);
    assert_eq!(results["get"]["Company"], "Simple Salesforce Inc");
    assert_eq!(results["get"]["type"], "Lead");
    // SOSL through `search()` and `quick_search()` finds the lead just written, by name.
    assert_eq!(
        results["search"]["ids"],
        serde_json::json!([results["create"]["id"]])
    );
    assert_eq!(
        results["search"]["companies"],
        serde_json::json!(["Simple Salesforce Inc"])
    );
    assert_eq!(
        results["quick_search"]["types"],
        serde_json::json!(["Lead"])
    );
}
