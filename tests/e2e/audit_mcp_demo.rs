//! The audit tools where a newcomer and a scaled-out deployment meet them: `audit_run` inside
//! `sfmcp demo` (the real binary on stdio, rmcp's client) against each of the demo's five
//! emulated directories, and stored runs under `sfmcp serve --http --stateless`, where every
//! request gets a new server and the run id is sealed to the tenant that ran it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;

use rmcp::ServiceExt;
use rmcp::model::CallToolResult;
use serde_json::json;
use sfmcp_emulator::demo::identity::planted_gaps;
use sfmcp_emulator::idp::{IdpServer, Vendor};

use crate::common::{call, capture, structured, text};
use crate::http_common::{SHARED_CURSOR_KEY, connect, start_server, tenant, two_orgs};

const DATA_BEGIN: &str = "<data untrusted>";
const DATA_END: &str = "</data>";

/// The lines between the data fence lines of a result's text.
fn fenced_lines(result: &CallToolResult) -> Vec<String> {
    let body = text(result);
    let lines: Vec<&str> = body.lines().collect();
    let begin = lines
        .iter()
        .position(|l| l.starts_with(DATA_BEGIN))
        .unwrap_or_else(|| panic!("no data fence: {body}"));
    let end = lines
        .iter()
        .rposition(|l| *l == DATA_END)
        .unwrap_or_else(|| panic!("no end of data: {body}"));
    assert!(begin < end, "{body}");
    lines[begin + 1..end]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_run_in_sfmcp_demo_works_for_every_idp_with_remediation_and_fenced_data() {
    let process = capture::process_name("demo-stdio");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(capture::env())
        .arg("demo")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(capture::stdio(&process, "stderr"))
        .kill_on_drop(true)
        .spawn()
        .expect("sfmcp demo spawns");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = capture::Tee::new(child.stdout.take().expect("stdout"), &process, "stdout");
    let client = ().serve((stdout, stdin)).await.expect("MCP session starts");

    for vendor in Vendor::ALL {
        let run = call(&client, "audit_run", json!({"idp": vendor.as_str()})).await;
        assert_ne!(run.is_error, Some(true), "{vendor:?}: {}", text(&run));
        let body = structured(&run);
        let planted = planted_gaps(vendor);
        assert_eq!(
            body["summary"]["total"].as_u64(),
            Some(planted.len() as u64),
            "{vendor:?}: {}",
            text(&run)
        );
        // Every finding carries what to do about it, as the CLI's exports do.
        let findings = body["findings"].as_array().expect("findings");
        assert!(!findings.is_empty());
        for f in findings {
            let remediation = &f["remediation"];
            assert!(
                !remediation["summary"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
                "{f}"
            );
            assert!(!remediation["steps"].as_array().expect("steps").is_empty());
            assert!(
                !remediation["references"]
                    .as_array()
                    .expect("refs")
                    .is_empty()
            );
        }
        // The text quotes names between the fence lines, one finding per line, each
        // followed by its fix; nothing inside can pass for a line of sfmcp's own.
        let inside = fenced_lines(&run);
        let finding_lines = inside.iter().filter(|l| l.starts_with("- SF-")).count();
        assert_eq!(finding_lines, findings.len(), "{}", text(&run));
        assert_eq!(
            inside.iter().filter(|l| l.starts_with("  fix: ")).count(),
            findings.len()
        );
        for line in &inside {
            assert!(line.starts_with("- ") || line.starts_with("  "), "{line:?}");
            assert!(!line.chars().any(char::is_control), "{line:?}");
        }
        // And the run pages like any other.
        let run_id = body["run_id"].as_str().expect("run_id");
        let page = call(&client, "audit_findings", json!({"run_id": run_id})).await;
        assert_ne!(page.is_error, Some(true), "{}", text(&page));
        assert_eq!(
            structured(&page)["total_matching"].as_u64(),
            Some(planted.len() as u64)
        );
        assert!(!fenced_lines(&page).is_empty());
    }
    let _ = client.cancel().await;
}

fn okta_env(emulator: &sfmcp_emulator::EmulatorHandle) -> Vec<(&'static str, String)> {
    let okta = &IdpServer::shared().announcement(&emulator.base_url)["okta"]["env"];
    vec![
        (
            "OKTA_ORG_URL",
            okta["OKTA_ORG_URL"].as_str().expect("url").into(),
        ),
        (
            "OKTA_API_TOKEN",
            okta["OKTA_API_TOKEN"].as_str().expect("token").into(),
        ),
        ("SFMCP_CURSOR_KEY", SHARED_CURSOR_KEY.into()),
    ]
}

fn error_text(result: &CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "{}", text(result));
    text(result)
}

#[tokio::test(flavor = "multi_thread")]
async fn stateless_audit_runs_are_sealed_to_their_tenant_and_found_by_later_requests() {
    let emulator = two_orgs().await;
    let env = okta_env(&emulator);
    let server = start_server(&emulator, &env, &["--stateless"]).await;
    let alpha = connect(&server, tenant(&emulator, 0)).await;

    let run = call(&alpha, "audit_run", json!({"idp": "okta"})).await;
    assert_ne!(run.is_error, Some(true), "{}", text(&run));
    let body = structured(&run);
    let run_id = body["run_id"].as_str().expect("run_id").to_owned();
    let total = body["summary"]["total"].as_u64().expect("total");
    assert!(total > 0, "{}", text(&run));
    // Sealed: the id names neither the tenant nor the store's key for the run.
    assert!(!run_id.starts_with("run-") && run_id.len() > 40, "{run_id}");
    assert!(!run_id.contains("paragon"));

    // Later requests (each its own server under --stateless) find the run: this used to
    // answer "no audit has run".
    let page = call(&alpha, "audit_findings", json!({"run_id": run_id})).await;
    assert_ne!(page.is_error, Some(true), "{}", text(&page));
    assert_eq!(structured(&page)["total_matching"].as_u64(), Some(total));
    let again = connect(&server, tenant(&emulator, 0)).await;
    let filtered = call(
        &again,
        "audit_findings",
        json!({"run_id": run_id, "severity": "critical"}),
    )
    .await;
    assert_ne!(filtered.is_error, Some(true), "{}", text(&filtered));

    // Another tenant holding the id gets nothing of it.
    let bravo = connect(&server, tenant(&emulator, 1)).await;
    let foreign = error_text(&call(&bravo, "audit_findings", json!({"run_id": run_id})).await);
    assert!(foreign.contains("another connection"), "{foreign}");
    assert!(!foreign.contains("SF-"), "{foreign}");
    // No session to hold "the latest run": the id is required, and must be ours.
    let latest = error_text(&call(&bravo, "audit_findings", json!({})).await);
    assert!(latest.contains("pass the run_id"), "{latest}");
    let mut altered = run_id.clone();
    let last = altered.pop().expect("non-empty");
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let forged = error_text(&call(&alpha, "audit_findings", json!({"run_id": altered})).await);
    assert!(forged.contains("not one this server issued"), "{forged}");
    let guessed = error_text(&call(&alpha, "audit_findings", json!({"run_id": "run-1"})).await);
    assert!(guessed.contains("not one this server issued"), "{guessed}");

    // A replica with the same key opens the id but never held the run, and says so.
    let other = start_server(&emulator, &env, &["--stateless"]).await;
    let elsewhere = connect(&other, tenant(&emulator, 0)).await;
    let missing = error_text(&call(&elsewhere, "audit_findings", json!({"run_id": run_id})).await);
    assert!(missing.contains("no longer held here"), "{missing}");

    for client in [alpha, again, bravo, elsewhere] {
        let _ = client.cancel().await;
    }
    drop((server, other));
    emulator.shutdown().await;
}
