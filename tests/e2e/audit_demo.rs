//! `sfmcp audit --demo --idp X --format json`, for each of the five IdPs: the built binary
//! collects the demo org and the IdP's directory over loopback HTTP and reports exactly the
//! gaps the emulator's seed documents as planted (`emulator::demo::identity::planted_gaps`),
//! nothing more and nothing less.

use std::process::Command;

use crate::common::capture;

use serde_json::Value;
use sfmcp_emulator::demo::identity::{planted_extended_gaps, planted_gaps};
use sfmcp_emulator::idp::Vendor;

/// (rule, subject, connected app): how the manifest names a gap.
type Gap = (String, String, Option<String>);

fn audit(idp: &str) -> (Value, String) {
    audit_with(idp, &[])
}

fn audit_with(idp: &str, extra: &[&str]) -> (Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .args(["audit", "--demo", "--idp", idp, "--format", "json"])
        .args(extra)
        .env_remove("SFMCP_CONFIG")
        .envs(capture::env())
        .output()
        .unwrap_or_else(|e| panic!("sfmcp audit could not run: {e}"));
    capture::record_output("audit-demo", &output);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "sfmcp audit --demo --idp {idp} failed ({}):\n{stderr}",
        output.status
    );
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not the JSON report ({e}); stderr:\n{stderr}"));
    (report, stderr)
}

fn found(report: &Value) -> Vec<Gap> {
    let findings = report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array in {report}"));
    let mut gaps: Vec<Gap> = findings
        .iter()
        .map(|f| {
            let subject = &f["subject"];
            let name = match subject["kind"].as_str() {
                Some("org_setting") => subject["id"].as_str(),
                Some("connected_app" | "profile") => subject["display"].as_str(),
                _ => subject["username"].as_str(),
            };
            let app = f["related"].as_array().and_then(|related| {
                related
                    .iter()
                    .find(|r| r["role"] == "connected_app")
                    .and_then(|r| r["display"].as_str())
                    .map(str::to_owned)
            });
            (
                f["rule_id"].as_str().unwrap_or_default().to_owned(),
                name.unwrap_or_default().to_owned(),
                app,
            )
        })
        .collect();
    gaps.sort();
    gaps
}

fn planted(vendor: Vendor) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = planted_gaps(vendor)
        .into_iter()
        .map(|g| (g.rule.to_owned(), g.subject, g.app.map(str::to_owned)))
        .collect();
    gaps.sort();
    gaps
}

fn check(vendor: Vendor) {
    let (report, stderr) = audit(vendor.as_str());
    let expected = planted(vendor);
    check_report(&report, &stderr, vendor, &expected, 9, 12);
}

fn check_report(
    report: &Value,
    stderr: &str,
    vendor: Vendor,
    expected: &[Gap],
    rules: usize,
    api_calls: usize,
) {
    assert!(
        !expected.is_empty(),
        "the manifest plants nothing for {vendor:?}"
    );
    let actual = found(report);
    let missing: Vec<&Gap> = expected.iter().filter(|g| !actual.contains(g)).collect();
    let extra: Vec<&Gap> = actual.iter().filter(|g| !expected.contains(g)).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && actual.len() == expected.len(),
        "{}: missing {missing:#?}\nunexpected {extra:#?}\nstderr:\n{stderr}",
        vendor.as_str()
    );
    // Every rule was evaluated: the demo org offers every input the rules read (Event
    // Monitoring aside, which only adds coverage to SF-EXP-*).
    let by_rule = report["summary"]["by_rule"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(by_rule.len(), rules, "{report}");
    for rule in &by_rule {
        assert_eq!(
            rule["evaluated"], true,
            "{} was not evaluated",
            rule["rule_id"]
        );
    }
    // The fewest calls paging allows, counted by hand: the org id (0: introspecting the
    // demo's access token gives its identity URL), describes of User,
    // Profile and PermissionSet (3), one page each of users, admin grants and frozen users
    // (3), OauthToken count and rows (2), the audit trail (1), EventLogFile (1, which the demo
    // org refuses), SecuritySettings (1), LoginIpRange (1); with SF-HYG-003,
    // ConnectedApplication and AppMenuItem (2); with SF-HYG-004, LoginHistory (1); with
    // SF-HYG-005, the MFA permissions' assignments and the password users'
    // TwoFactorMethodsInfo (2); with SF-HYG-006, Profile, the guest profiles'
    // ObjectPermissions and the profiles' users (3); with SF-HYG-007, SetupEntityAccess and
    // its permission sets' assignments (2).
    let notes = report["notes"].as_array().cloned().unwrap_or_default();
    let calls = format!("Salesforce collection used {api_calls} API call(s)");
    assert!(notes.iter().any(|n| *n == calls), "{notes:?}");
    // Progress went to stderr while collecting; stdout held only the report.
    assert!(stderr.contains("admin permission grants"), "{stderr}");
    assert!(stderr.contains("Salesforce API call"), "{stderr}");
}

/// The extended rules are off by default (the runs above find no SF-HYG-*); `--extended`
/// adds exactly their planted cases, and `--rule extended` runs them alone.
#[test]
fn extended_rules_find_exactly_their_planted_cases() {
    let vendor = Vendor::Entra;
    let extended: Vec<Gap> = planted_extended_gaps()
        .into_iter()
        .map(|g| (g.rule.to_owned(), g.subject, g.app.map(str::to_owned)))
        .collect();
    assert!(!extended.is_empty());
    let mut expected = planted(vendor);
    expected.extend(extended.iter().cloned());
    expected.sort();
    let (report, stderr) = audit_with(vendor.as_str(), &["--extended"]);
    check_report(&report, &stderr, vendor, &expected, 16, 22);

    // The SARIF export describes the extended rules it ran, and each result points at its rule.
    let output = Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .args([
            "audit",
            "--demo",
            "--idp",
            "entra",
            "--extended",
            "--format",
            "sarif",
        ])
        .env_remove("SFMCP_CONFIG")
        .envs(capture::env())
        .output()
        .unwrap_or_else(|e| panic!("sfmcp audit could not run: {e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 16);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), expected.len());
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "{r}");
    }
    assert!(results.iter().any(|r| r["ruleId"] == "SF-HYG-002"));
    assert!(results.iter().any(|r| r["ruleId"] == "SF-HYG-003"));
    for rule in ["SF-HYG-004", "SF-HYG-005", "SF-HYG-006", "SF-HYG-007"] {
        assert!(results.iter().any(|r| r["ruleId"] == rule), "{rule}");
    }

    let (alone, stderr) = audit_with(vendor.as_str(), &["--rule", "extended"]);
    assert_eq!(found(&alone), extended, "{stderr}");
    // A shorter dormant period reaches the near miss who logged in 75 days ago (and nobody
    // who logged in within the generated people's 60 days).
    let (shorter, stderr) = audit_with(
        vendor.as_str(),
        &["--rule", "SF-HYG-001", "--dormant-days", "70"],
    );
    let dormant: Vec<String> = found(&shorter).into_iter().map(|g| g.1).collect();
    assert!(
        dormant.contains(&"quinn.ellis@demo.emulator".to_owned()) && dormant.len() == 3,
        "{dormant:?}\n{stderr}"
    );
}

#[test]
fn okta_finds_exactly_the_planted_gaps() {
    check(Vendor::Okta);
}

#[test]
fn entra_finds_exactly_the_planted_gaps() {
    check(Vendor::Entra);
}

#[test]
fn google_finds_exactly_the_planted_gaps() {
    check(Vendor::Google);
}

#[test]
fn jumpcloud_finds_exactly_the_planted_gaps() {
    check(Vendor::JumpCloud);
}

#[test]
fn onelogin_finds_exactly_the_planted_gaps() {
    check(Vendor::OneLogin);
}

/// Off a terminal each step gets one line, printed when the step ends, so its counts are the
/// step's totals rather than the zero it started with.
#[test]
fn progress_lines_off_a_terminal_carry_each_steps_totals() {
    let (_, stderr) = audit("okta");
    let steps: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("audit: [") || l.starts_with("audit ["))
        .collect();
    let users = steps
        .iter()
        .find(|l| l.contains(" users: "))
        .unwrap_or_else(|| panic!("no progress line for the users step in:\n{stderr}"));
    assert!(!users.contains(" 0 record"), "{users}\n{stderr}");
    let grants = steps
        .iter()
        .find(|l| l.contains("admin permission grants"))
        .unwrap_or_else(|| panic!("no progress line for the grants step in:\n{stderr}"));
    assert!(!grants.contains(" 0 record"), "{grants}\n{stderr}");
    // One line per step.
    let mut labels: Vec<&str> = steps
        .iter()
        .filter_map(|l| l.split_once(']').map(|(_, rest)| rest))
        .filter_map(|rest| rest.split(':').next())
        .collect();
    let all = labels.len();
    labels.dedup();
    assert_eq!(labels.len(), all, "{stderr}");
}
