//! The audit tools over MCP: the real `sfmcp serve` on stdio, driven by rmcp's client,
//! against the emulator's demo org and its Okta directory. `audit_run` sends progress
//! notifications while collecting and returns a summary, the first page and a run id;
//! `audit_findings` pages and filters that run; runs belong to the connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::{Arc, Mutex};

use common::{call, org_env, structured, text};
use rmcp::model::ProgressNotificationParam;
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, ClientLifecycleMode, RoleClient};
use serde_json::json;
use sfmcp_emulator::demo::identity::{EXPECTED_ADMINS, planted_extended_gaps, planted_gaps};
use sfmcp_emulator::idp::{IdpServer, Vendor};

/// A client that records every progress notification.
#[derive(Clone, Default)]
struct Recorder {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

async fn spawn(env: Vec<(String, String)>) -> (RunningService<RoleClient, Recorder>, Recorder) {
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let recorder = Recorder::default();
    // Its stderr goes to the capture; the session is all this test reads.
    let (client, _stderr) =
        common::spawn_server_as(&env, &[], recorder.clone(), ClientLifecycleMode::Initialize).await;
    (client, recorder)
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_run_reports_the_planted_gaps_with_progress_and_pages_them() {
    let emulator = common::demo_emulator().await;
    let org = emulator.orgs.first().expect("demo org").clone();
    let mut env: Vec<(String, String)> = org_env(&org)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    // The emulator in this process serves the shared directories; the server reads Okta's
    // settings from its environment, as in production.
    let okta = IdpServer::shared().announcement(&emulator.base_url)["okta"]["env"].clone();
    for (k, v) in okta.as_object().expect("okta env") {
        env.push((k.clone(), v.as_str().unwrap_or_default().to_owned()));
    }
    env.push(("SFMCP_AUDIT_ALLOW_ADMINS".into(), EXPECTED_ADMINS.join(",")));
    let (client, recorder) = spawn(env).await;

    let rules = call(&client, "audit_rules", json!({})).await;
    assert_ne!(rules.is_error, Some(true), "{}", text(&rules));
    let catalogue = structured(&rules)["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(catalogue.len(), 16);
    assert_eq!(
        catalogue.iter().filter(|r| r["extended"] == false).count(),
        9
    );
    assert!(
        text(&rules).contains("SF-IDP-001 [critical]"),
        "{}",
        text(&rules)
    );

    // Nothing to page before a run.
    let early = call(&client, "audit_findings", json!({})).await;
    assert_eq!(early.is_error, Some(true));
    assert!(text(&early).contains("audit_run first"), "{}", text(&early));

    let run = call(&client, "audit_run", json!({"idp": "okta"})).await;
    assert_ne!(run.is_error, Some(true), "{}", text(&run));
    let body = structured(&run);
    let run_id = body["run_id"].as_str().expect("run_id").to_owned();
    let planted = planted_gaps(Vendor::Okta);
    assert_eq!(
        body["summary"]["total"].as_u64(),
        Some(planted.len() as u64),
        "{}",
        text(&run)
    );
    for rule in ["SF-IDP-001", "SF-IDP-003", "SF-CFG-001", "SF-EXP-002"] {
        let expected = planted.iter().filter(|g| g.rule == rule).count() as u64;
        let by_rule = body["summary"]["by_rule"].as_array().expect("by_rule");
        let count = by_rule
            .iter()
            .find(|r| r["rule"] == rule)
            .and_then(|r| r["count"].as_u64());
        assert_eq!(count, Some(expected), "{rule}");
    }
    let first_page = body["findings"].as_array().expect("findings").len();
    assert_eq!(first_page, 10.min(planted.len()));
    assert_eq!(body["findings"][0]["severity"], "critical");
    assert!(body["salesforce_api_calls"].as_u64().unwrap_or(0) > 5);

    // Progress: the IdP, then each Salesforce stage. The server sends them in order, but the
    // client handles notifications concurrently, so only the set of steps is checked.
    let progress = recorder.progress.lock().unwrap().clone();
    assert!(progress.len() >= 10, "{} notifications", progress.len());
    let total = progress[0].total.expect("a total");
    assert!(progress.iter().all(|p| p.total == Some(total)));
    let mut steps: Vec<u64> = progress.iter().map(|p| p.progress as u64).collect();
    steps.sort_unstable();
    steps.dedup();
    assert_eq!(steps, (1..=total as u64).collect::<Vec<_>>());
    assert!(
        progress
            .iter()
            .any(|p| p.message.as_deref().unwrap_or("").contains("OAuth tokens"))
    );

    // Paging covers every finding once; filters narrow.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({"run_id": run_id});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = structured(&call(&client, "audit_findings", args).await);
        for f in page["findings"].as_array().expect("findings") {
            seen.push(f["id"].as_str().unwrap_or_default().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), planted.len());
    assert_eq!(unique.len(), seen.len());
    let critical =
        structured(&call(&client, "audit_findings", json!({"severity": "critical"})).await);
    let critical_planted = planted
        .iter()
        .filter(|g| matches!(g.rule, "SF-IDP-001" | "SF-EXP-002"))
        .count();
    assert_eq!(
        critical["total_matching"].as_u64(),
        Some(critical_planted as u64)
    );
    let bad = call(&client, "audit_findings", json!({"rule": "SF-NOPE-1"})).await;
    assert_eq!(bad.is_error, Some(true));
    let unknown = call(&client, "audit_findings", json!({"run_id": "run-99"})).await;
    assert!(text(&unknown).contains(&run_id), "{}", text(&unknown));

    // Extended rules run when named, and find exactly their planted cases besides the nine's.
    let run = call(
        &client,
        "audit_run",
        json!({"idp": "okta", "rules": ["core", "extended"]}),
    )
    .await;
    assert_ne!(run.is_error, Some(true), "{}", text(&run));
    let body = structured(&run);
    let extended = planted_extended_gaps();
    assert_eq!(
        body["summary"]["total"].as_u64(),
        Some((planted.len() + extended.len()) as u64),
        "{}",
        text(&run)
    );
    let page = structured(
        &call(
            &client,
            "audit_findings",
            json!({"run_id": body["run_id"], "rule": "SF-HYG-001"}),
        )
        .await,
    );
    let mut dormant: Vec<String> = page["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            assert!(f["remediation"]["summary"].is_string(), "{f}");
            f["subject"]["username"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    dormant.sort();
    let mut expected: Vec<String> = extended
        .iter()
        .filter(|g| g.rule == "SF-HYG-001")
        .map(|g| g.subject.clone())
        .collect();
    expected.sort();
    assert_eq!(dormant, expected, "{page}");

    let _ = client.cancel().await;

    // A new connection starts with no runs: they live per connection, never on disk.
    let (client, _) = spawn(
        org_env(&org)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
    .await;
    let none = call(&client, "audit_findings", json!({"run_id": run_id})).await;
    assert_eq!(none.is_error, Some(true));
    let missing_idp = call(&client, "audit_run", json!({"idp": "okta"})).await;
    assert_eq!(missing_idp.is_error, Some(true));
    assert!(
        text(&missing_idp).contains("OKTA_ORG_URL"),
        "{}",
        text(&missing_idp)
    );
    let _ = client.cancel().await;
    emulator.shutdown().await;
}
