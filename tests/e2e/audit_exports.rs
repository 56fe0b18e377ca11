//! The renderings of one report: JSON, OCSF (array and JSON lines), SARIF, CSV, HTML and the
//! table.

use crate::audit_support;

use audit_support::*;
use serde_json::Value;
use sfmcp_audit::AuditReport;
use sfmcp_audit::export::{Format, render, to_ocsf, to_sarif};
use sfmcp_audit::model::IdpStatus;

/// One finding of most rules: 1 critical IDP-001, 1 high IDP-002, 1 high IDP-003, 1 medium
/// IDP-004, PRV-001 + PRV-002 for alice, 1 medium CFG-001, EXP-001 ×2 and EXP-002 ×1.
fn sample() -> AuditReport {
    let mut snap = snapshot(
        vec![
            user(1, "alice@corp.com.prod", "alice@corp.com"),
            user(2, "<script>dave</script>@corp.com", "dave@corp.com"),
            user(3, "gina@corp.com.prod", "gina@corp.com"),
            user(4, "root@corp.com.prod", "root@corp.com"),
        ],
        vec![sysadmin(1), sysadmin(4)],
    );
    snap.oauth_grants = Some(vec![token("Data Loader", 2, 3)]);
    snap.audit_trail = Some(vec![
        export_row("0Ym000000000001AAA", 4, days_ago(3), None),
        export_row("0Ym000000000002AAA", 2, days_ago(2), None),
    ]);
    snap.session_settings = Some(sfmcp_audit::model::SessionSettings {
        lock_sessions_to_ip: false,
        enforce_ip_ranges_every_request: false,
        ..Default::default()
    });
    let idp = directory(vec![
        idp_user("gina@corp.com", IdpStatus::Deprovisioned),
        idp_user("root@corp.com", IdpStatus::Active),
    ]);
    let mut config = config();
    config.allow_admins = vec!["root@corp.com".into()];
    sfmcp_audit::evaluate(&snap, &idp, &config)
}

fn count_of(report: &AuditReport, sev: &str) -> usize {
    report
        .summary
        .by_severity
        .iter()
        .find(|(s, _)| s.as_str() == sev)
        .map_or(usize::MAX, |(_, n)| *n)
}

#[test]
fn the_sample_has_the_hand_counted_findings() {
    let r = sample();
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(
        rules,
        vec![
            "SF-IDP-001",
            "SF-EXP-002",
            "SF-IDP-002",
            "SF-IDP-003",
            "SF-PRV-001",
            "SF-PRV-002",
            "SF-EXP-001",
            "SF-EXP-001",
            "SF-IDP-004",
            "SF-CFG-001",
        ]
    );
    assert_eq!(count_of(&r, "critical"), 2);
    assert_eq!(count_of(&r, "high"), 6);
    assert_eq!(count_of(&r, "medium"), 2);
}

#[test]
fn json_is_valid_and_round_trips() {
    let r = sample();
    let text = render(&r, Format::Json).unwrap();
    let back: AuditReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["summary"]["total"], 10);
    assert_eq!(v["findings"][0]["rule_id"], "SF-IDP-001");
    assert_eq!(v["findings"][0]["severity"], "critical");
}

#[test]
fn ocsf_uses_compliance_finding_for_posture_and_detection_finding_for_events() {
    let r = sample();
    let events = to_ocsf(&r);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), r.findings.len());
    for (e, f) in events.iter().zip(&r.findings) {
        let detection = matches!(
            f.rule_id.as_str(),
            "SF-IDP-004" | "SF-EXP-001" | "SF-EXP-002"
        );
        let class = if detection { 2004 } else { 2003 };
        assert_eq!(e["class_uid"], class, "{}", f.rule_id);
        assert_eq!(e["category_uid"], 2);
        assert_eq!(e["activity_id"], 1);
        assert_eq!(e["type_uid"], class * 100 + 1);
        assert_eq!(e["severity_id"], f.severity.ocsf_id());
        assert_eq!(e["finding_info"]["uid"], f.id.as_str());
        assert_eq!(e["finding_info"]["analytic"]["uid"], f.rule_id.as_str());
        assert!(e["time"].as_i64().unwrap() > 1_700_000_000_000, "epoch ms");
        assert_eq!(e["metadata"]["product"]["name"], "sfmcp");
        assert!(e["metadata"]["version"].as_str().unwrap().starts_with("1."));
        assert!(e["resources"][0]["uid"].is_string());
        if detection {
            assert_eq!(e["is_alert"], true);
            assert!(e.get("compliance").is_none());
            for ev in e["evidences"].as_array().unwrap() {
                assert!(ev["data"].is_object());
            }
        } else {
            assert_eq!(e["compliance"]["status_id"], 3);
            assert!(!e["compliance"]["standards"].as_array().unwrap().is_empty());
            assert!(e["compliance"]["control"].is_string());
        }
    }
    let critical = events.iter().filter(|e| e["severity_id"] == 5).count();
    assert_eq!(critical, 2);
}

#[test]
fn sarif_has_the_2_1_0_shape() {
    let r = sample();
    let s = to_sarif(&r);
    assert_eq!(s["version"], "2.1.0");
    assert!(s["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &s["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 9);
    assert_eq!(run["tool"]["driver"]["name"], "sfmcp");
    // SARIF asks for an absolute URI; GitHub shows it as the tool's home.
    let home = url::Url::parse(run["tool"]["driver"]["informationUri"].as_str().unwrap()).unwrap();
    assert_eq!(home.scheme(), "https");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len());
    for (res, f) in results.iter().zip(&r.findings) {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert_eq!(res["ruleId"], f.rule_id.as_str());
        let level = res["level"].as_str().unwrap();
        assert!(["error", "warning", "note", "none"].contains(&level));
        assert!(res["message"]["text"].is_string());
        let loc = &res["locations"][0]["logicalLocations"][0]["fullyQualifiedName"];
        assert!(loc.as_str().unwrap().starts_with("salesforce://00D"));
        assert_eq!(
            res["partialFingerprints"]["sfmcpFindingId/v1"],
            f.id.as_str()
        );
        let sev: f64 = res["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let band_ok = match f.severity.as_str() {
            "critical" => sev >= 9.0,
            "high" => (7.0..9.0).contains(&sev),
            "medium" => (4.0..7.0).contains(&sev),
            _ => sev < 4.0,
        };
        assert!(band_ok, "{} {sev}", f.severity);
    }
    for rule in rules {
        assert!(rule["shortDescription"]["text"].is_string());
        assert!(rule["properties"]["security-severity"].is_string());
    }
}

#[test]
fn html_is_self_contained_escaped_and_shows_the_counts() {
    let r = sample();
    let html = render(&r, Format::Html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for banned in ["<script", "<link", "<img", "src=", "url(", "@import"] {
        assert!(!html.contains(banned), "found {banned}");
    }
    assert!(html.contains("&lt;script&gt;dave&lt;/script&gt;"));
    assert_eq!(html.matches("<svg").count(), 2);

    for (sev, n) in [
        ("critical", 2),
        ("high", 6),
        ("medium", 2),
        ("low", 0),
        ("info", 0),
    ] {
        let bar = format!(r#"<g class="bar" data-label="{sev}" data-count="{n}">"#);
        assert!(html.contains(&bar), "missing {bar}");
    }
    for rc in &r.summary.by_rule {
        let bar = format!(
            r#"<g class="bar" data-label="{}" data-count="{}">"#,
            rc.rule_id, rc.count
        );
        assert!(html.contains(&bar), "missing {bar}");
    }
    // The count is visible text next to each bar.
    assert!(html.contains(r#"class="count" data-count="6">6</text>"#));
    assert!(html.contains(r#"id="total" data-count="10""#));
    assert_eq!(html.matches("<tr id=\"f-").count(), 10);
}

#[test]
fn table_lists_findings_and_the_summary() {
    let r = sample();
    let t = render(&r, Format::Table).unwrap();
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("SEVERITY")));
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("critical ")).count(),
        2
    );
    assert!(t.contains("Total 10: critical 2, high 6, medium 2, low 0, info 0"));
    assert!(t.contains("Admins: 1 expected (allow-listed), 1 not on the allow-list"));
}

#[test]
fn token_secrets_in_a_snapshot_never_reach_a_report() {
    let json = format!(
        r#"{{"org_id":"{ORG}","users":[{{"id":"{}","username":"d@corp.com","email":"d@corp.com",
        "is_active":true,"user_type":"Standard"}}],
        "oauth_grants":[{{"app_name":"X","user_id":"{}","use_count":1,
        "access_token":"SECRET-REFRESH-TOKEN","delete_token":"SECRET-DELETE"}}]}}"#,
        uid(1),
        uid(1)
    );
    let snap: sfmcp_audit::SalesforceSnapshot = serde_json::from_str(&json).unwrap();
    let report = sfmcp_audit::evaluate(&snap, &directory(vec![]), &config());
    assert_eq!(report.summary.total, 2); // IDP-002 and IDP-004
    for format in [
        Format::Json,
        Format::Ocsf,
        Format::Sarif,
        Format::Html,
        Format::Table,
    ] {
        let out = render(&report, format).unwrap();
        assert!(!out.contains("SECRET"), "{format}");
    }
}

#[test]
fn findings_page_in_report_order_with_filters() {
    use sfmcp_audit::{FindingFilter, RuleId, Severity};
    let r = sample();
    let all = FindingFilter::default();
    let first = r.page(all, 0, 4);
    assert_eq!(first.total_matching, 10);
    assert_eq!(first.next_offset, Some(4));
    let ids: Vec<&str> = first.findings.iter().map(|f| f.id.as_str()).collect();
    let want: Vec<&str> = r.findings[..4].iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, want);
    let last = r.page(all, 8, 4);
    assert_eq!(last.findings.len(), 2);
    assert_eq!(last.next_offset, None);
    assert!(r.page(all, 50, 4).findings.is_empty());

    let high_up = FindingFilter {
        min_severity: Some(Severity::High),
        rule: None,
    };
    assert_eq!(r.page(high_up, 0, 100).total_matching, 8);
    let exp = FindingFilter {
        min_severity: None,
        rule: Some(RuleId::ExpBulkExport),
    };
    let page = r.page(exp, 1, 1);
    assert_eq!(page.total_matching, 2);
    assert_eq!(page.findings.len(), 1);
    assert_eq!(page.next_offset, None);
}

/// A connected app whose name (chosen by whoever registered it) carries terminal escapes: a
/// screen clear, an OSC 8 hyperlink and an OSC 52 clipboard write, then a long tail so the
/// table's subject column has to cut it.
fn hostile_app_report() -> AuditReport {
    let app = "\u{1b}[2J\u{1b}]8;;https://evil.example/\u{7}Data\u{1b}]8;;\u{7} \
               \u{9b}31mLoader\u{1b}]52;c;ZXZpbA==\u{7}\r\u{1b}[1A forged line\u{1b}]0;ti";
    let mut snap = snapshot(vec![user(2, "dave@corp.com.prod", "dave@corp.com")], vec![]);
    snap.oauth_grants = Some(vec![token(app, 2, 3)]);
    sfmcp_audit::evaluate(&snap, &directory(vec![]), &config())
}

fn assert_no_controls(format: Format, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(bad.is_empty(), "{format}: controls {bad:?} in\n{text}");
}

#[test]
fn table_and_html_print_no_terminal_escapes_from_third_party_names() {
    let report = hostile_app_report();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule_id.as_str() == "SF-IDP-004")
    );
    let table = render(&report, Format::Table).unwrap();
    assert_no_controls(Format::Table, &table);
    // The name's text is still there to read, and the clipped subject cell still is too.
    assert!(table.contains("Data Loader forged line"), "{table}");
    assert!(table.contains("Data Loader"), "{table}");
    let html = render(&report, Format::Html).unwrap();
    assert_no_controls(Format::Html, &html);
    assert!(html.contains("Data Loader forged line"));
}

/// A SIEM deduplicates on the event id: each run's events need ids of their own, while the
/// finding id stays the same so the finding is tracked across runs.
#[test]
fn ocsf_event_ids_are_new_each_run_and_finding_ids_stable() {
    let first = sample();
    let mut second = sample();
    second.generated_at += chrono::Duration::hours(24);
    let (a, b) = (to_ocsf(&first), to_ocsf(&second));
    let (a, b) = (a.as_array().unwrap(), b.as_array().unwrap());
    let mut seen = std::collections::HashSet::new();
    for (ea, eb) in a.iter().zip(b) {
        assert_eq!(ea["finding_info"]["uid"], eb["finding_info"]["uid"]);
        assert_ne!(ea["metadata"]["uid"], ea["finding_info"]["uid"]);
        assert_ne!(ea["metadata"]["uid"], eb["metadata"]["uid"]);
        assert!(seen.insert(ea["metadata"]["uid"].as_str().unwrap().to_owned()));
        assert!(seen.insert(eb["metadata"]["uid"].as_str().unwrap().to_owned()));
    }
    // Rendering one report twice gives the same events.
    assert_eq!(to_ocsf(&first), to_ocsf(&first));
}

#[test]
fn ocsf_evidences_never_carry_a_null_uid() {
    let r = sample();
    let events = to_ocsf(&r);
    let mut checked = 0;
    for e in events.as_array().unwrap() {
        for ev in e["evidences"].as_array().into_iter().flatten() {
            assert!(
                ev.get("uid").is_none_or(Value::is_string),
                "{}: {ev}",
                e["finding_info"]["analytic"]["uid"]
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

/// GitHub code scanning rejects a result without a physical location, and shows the tool's
/// `informationUri`.
#[test]
fn sarif_results_have_a_physical_location() {
    let r = sample();
    let s = to_sarif(&r);
    for res in s["runs"][0]["results"].as_array().unwrap() {
        let physical = &res["locations"][0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
        assert!(!uri.is_empty() && !uri.contains(' '), "{uri}");
        assert!(physical["region"]["startLine"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn ocsf_lines_are_one_event_each_with_tenant_and_log_name() {
    let r = sample();
    let lines = render(&r, Format::OcsfLines).unwrap();
    assert!(lines.ends_with('\n'));
    let events: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(events.len(), r.findings.len());
    let array = to_ocsf(&r);
    assert_eq!(
        Value::Array(events.clone()),
        array,
        "same events as the array form"
    );
    for e in &events {
        assert_eq!(e["metadata"]["tenant_uid"], r.org_id.as_str());
        assert_eq!(e["metadata"]["log_name"], "sfmcp-audit");
    }
    let uids: std::collections::HashSet<&str> = events
        .iter()
        .map(|e| e["metadata"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), events.len());
}

#[test]
fn csv_has_one_row_per_finding_and_neutralises_formulas() {
    let mut snap = snapshot(
        vec![
            user(1, "alice@corp.com.prod", "alice@corp.com"),
            user(
                2,
                "=HYPERLINK(\"https://evil.example\",\"x\")@corp.com",
                "eve@corp.com",
            ),
            user(3, "@SUM(1+1)\u{1b}[31m@corp.com", "mallory@corp.com"),
        ],
        vec![sysadmin(1)],
    );
    snap.session_settings = None;
    let idp = directory(vec![idp_user("alice@corp.com", IdpStatus::Active)]);
    let report = sfmcp_audit::evaluate(&snap, &idp, &config());
    let text = render(&report, Format::Csv).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, sfmcp_audit::export::CSV_COLUMNS.to_vec());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), report.findings.len());
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, f) in rows.iter().zip(&report.findings) {
        assert_eq!(&row[column("finding_id")], f.id.as_str());
        assert_eq!(&row[column("rule_id")], f.rule_id.as_str());
        assert!(!row[column("remediation")].is_empty());
        for cell in row.iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell:?}");
            assert!(!cell.chars().any(char::is_control), "{cell:?}");
        }
    }
    let usernames: Vec<&str> = rows
        .iter()
        .map(|r| &r[column("subject_username")])
        .collect();
    assert!(
        usernames.contains(&"'=HYPERLINK(\"https://evil.example\",\"x\")@corp.com"),
        "{usernames:?}"
    );
    assert!(usernames.contains(&"'@SUM(1+1)@corp.com"), "{usernames:?}");
}
