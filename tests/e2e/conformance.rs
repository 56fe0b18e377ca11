//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
//! tools/setup/mcp-clients.sh) against the real binary: `sfmcp serve --http` in front of the
//! emulator's demo org. Every scenario that applies to this server must pass; the ones that
//! test the SDK's "everything" fixture (tools named `test_*`, `test://` resources) are listed
//! in docs/conformance.md with the reason, and this test fails when the suite grows a scenario
//! that is in neither list, so the decision is made rather than missed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use tokio::process::Child;

/// Scenarios about this server's own behaviour.
const APPLICABLE: [&str; 8] = [
    "server-initialize",
    "ping",
    "tools-list",
    "prompts-list",
    "resources-list",
    "completion-complete",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
];

/// Scenarios that call fixture tools, prompts or resources this server does not have, or
/// features it does not advertise; docs/conformance.md says why for each.
const NOT_APPLICABLE: [&str; 24] = [
    "logging-set-level",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-with-logging",
    "tools-call-error",
    "tools-call-with-progress",
    "tools-call-sampling",
    "tools-call-elicitation",
    "json-schema-2020-12",
    "elicitation-sep1034-defaults",
    "server-sse-polling",
    "elicitation-sep1330-enums",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "resources-subscribe",
    "resources-unsubscribe",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
];

/// The pinned Node 22 and the suite's entry point, or a message naming the setup command.
pub fn mcp_clients_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-env/mcp-clients");
    assert!(
        dir.join("node_modules/.bin/node").exists()
            && dir
                .join("node_modules/@modelcontextprotocol/conformance/dist/index.js")
                .exists(),
        "the MCP conformance suite is not installed: run `bash tools/setup-test-env` (make test does)"
    );
    dir
}

async fn conformance(args: &[&str]) -> std::process::Output {
    let dir = mcp_clients_dir();
    tokio::process::Command::new(dir.join("node_modules/.bin/node"))
        .arg(dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js"))
        .args(args)
        .current_dir(&dir)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs")
}

/// `sfmcp serve --http 127.0.0.1:0` against `org`; returns the child and the URL it printed.
async fn serve_http(org: &sfmcp_emulator::OrgCredentials) -> (Child, String) {
    common::spawn_http(common::org_env(org), &[]).await
}

/// Every check of every result file under `dir`: (scenario directory, check).
fn checks(dir: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(checks(&path));
        } else if path.file_name().is_some_and(|n| n == "checks.json") {
            let text = std::fs::read_to_string(&path).expect("checks.json");
            let parsed: Value = serde_json::from_str(&text).expect("checks.json is JSON");
            let scenario = path
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for check in parsed.as_array().cloned().unwrap_or_default() {
                out.push((scenario.clone(), check));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_applicable_conformance_scenario_passes() {
    let listed = conformance(&["list", "--server"]).await;
    assert!(listed.status.success(), "conformance list failed");
    let listed = String::from_utf8_lossy(&listed.stdout);
    let scenarios: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let unclassified: Vec<&&str> = scenarios
        .iter()
        .filter(|s| !APPLICABLE.contains(s) && !NOT_APPLICABLE.contains(s))
        .collect();
    assert!(
        unclassified.is_empty(),
        "the suite has scenarios this test does not classify (add them here and to docs/conformance.md): {unclassified:?}"
    );
    for scenario in APPLICABLE {
        assert!(
            scenarios.contains(&scenario),
            "{scenario} is no longer in the suite"
        );
    }

    let emulator = common::demo_emulator().await;
    let (mut server, url) = serve_http(&emulator.orgs[0]).await;
    let results = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let mut passed = 0;
    for scenario in APPLICABLE {
        let out_dir = results.path().join(scenario);
        let output = conformance(&[
            "server",
            "--url",
            &url,
            "--scenario",
            scenario,
            "-o",
            out_dir.to_str().expect("UTF-8 path"),
        ])
        .await;
        let found = checks(&out_dir);
        let failed: Vec<String> = found
            .iter()
            .filter(|(_, c)| c["status"] == "FAILURE")
            .map(|(_, c)| format!("{}: {}", c["id"], c["errorMessage"]))
            .collect();
        if !output.status.success() || found.is_empty() || !failed.is_empty() {
            failures.push(format!(
                "{scenario} (exit {:?}, {} checks): {failed:?}\n{}",
                output.status.code(),
                found.len(),
                String::from_utf8_lossy(&output.stdout)
            ));
        } else {
            passed += found
                .iter()
                .filter(|(_, c)| c["status"] == "SUCCESS")
                .count();
        }
    }
    let _ = server.start_kill();
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
    assert!(
        passed >= APPLICABLE.len(),
        "each scenario should pass at least one check"
    );
}
