//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, installed by
//! tools/setup-system-deps) loads the file, and the DOM it ends with, after any script would
//! have run, shows every count of the charts: findings by severity and by rule.

use crate::audit_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use audit_support::*;
use regex::Regex;
use sfmcp_audit::AuditReport;
use sfmcp_audit::export::{Format, render};
use sfmcp_audit::model::IdpStatus;

/// Hand-counted: critical 2 (IDP-001 root; EXP-002 dave, a non-admin exporting), high 8
/// (IDP-002 dave, IDP-003 gina, PRV-001 and PRV-002 for alice and root, EXP-001 twice),
/// medium 1 (IDP-004 Data Loader used by dave); SF-CFG-001 has no input.
fn sample() -> AuditReport {
    let mut snap = snapshot(
        vec![
            user(1, "alice@corp.com.prod", "alice@corp.com"),
            user(2, "dave@corp.com.prod", "dave@corp.com"),
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
    let idp = directory(vec![
        idp_user("alice@corp.com", IdpStatus::Active),
        idp_user("gina@corp.com", IdpStatus::Deprovisioned),
    ]);
    sfmcp_audit::evaluate(&snap, &idp, &config())
}

/// The DOM Chromium ends with, or a failure naming the setup command.
fn chromium_dom(file: &Path, profile: &Path) -> String {
    let binary = "chromium";
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {binary} ({e}): install it with tools/setup-system-deps (as root)")
        });
    // Bounded: a hung browser fails the test instead of the suite.
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > Duration::from_secs(90) => {
                let _ = child.kill();
                panic!("chromium did not finish within 90 s");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("waiting for chromium failed: {e}"),
        }
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("chromium: {e}"));
    assert!(
        output.status.success(),
        "chromium failed: {}",
        output.status
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// (label, count in `data-count`, count shown as text) for every bar of one chart.
fn bars(dom: &str, chart: &str) -> Vec<(String, usize, usize)> {
    let start = dom
        .find(&format!("<svg id=\"{chart}\""))
        .unwrap_or_else(|| panic!("chart {chart} is not in the rendered DOM"));
    let end = start
        + dom[start..]
            .find("</svg>")
            .unwrap_or_else(|| panic!("unclosed {chart}"));
    let bar = Regex::new(
        r#"<g class="bar" data-label="([^"]*)" data-count="(\d+)">.*?<text[^>]*class="count"[^>]*>(\d+)</text>"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    bar.captures_iter(&dom[start..end])
        .map(|c| {
            let n = |i: usize| c[i].parse::<usize>().unwrap_or(usize::MAX);
            (c[1].to_owned(), n(2), n(3))
        })
        .collect()
}

#[test]
fn chromium_renders_the_report_and_its_charts_show_the_counts() {
    let report = sample();
    let by_severity: Vec<(&str, usize)> = report
        .summary
        .by_severity
        .iter()
        .map(|(s, n)| (s.as_str(), *n))
        .collect();
    assert_eq!(
        by_severity,
        [
            ("critical", 2),
            ("high", 8),
            ("medium", 1),
            ("low", 0),
            ("info", 0)
        ]
    );
    let html = render(&report, Format::Html).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("report.html");
    std::fs::write(&file, html).unwrap_or_else(|e| panic!("{e}"));
    let dom = chromium_dom(&file, &dir.path().join("profile"));

    assert!(dom.contains("Salesforce identity-gap audit"), "{dom}");
    let total = format!("data-count=\"{}\"", report.summary.total);
    assert!(
        dom.contains(&total),
        "total {} not shown",
        report.summary.total
    );

    // One bar per severity, zero counts included, each showing the summary's count.
    let severity = bars(&dom, "chart-severity");
    let expected: Vec<(String, usize)> = report
        .summary
        .by_severity
        .iter()
        .map(|(s, n)| (s.as_str().to_owned(), *n))
        .collect();
    assert_eq!(
        severity.len(),
        expected.len(),
        "{severity:?} vs {expected:?}"
    );
    for (label, count) in &expected {
        let shown = severity
            .iter()
            .find(|(l, _, _)| l.eq_ignore_ascii_case(label))
            .unwrap_or_else(|| panic!("no bar for severity {label}: {severity:?}"));
        assert_eq!((shown.1, shown.2), (*count, *count), "severity {label}");
    }
    assert_eq!(
        severity.iter().map(|b| b.2).sum::<usize>(),
        report.summary.total
    );

    // One bar per rule, zero counts included, each with the summary's count.
    let rules = bars(&dom, "chart-rule");
    assert_eq!(rules.len(), report.summary.by_rule.len());
    for rule in &report.summary.by_rule {
        let shown = rules
            .iter()
            .find(|(l, _, _)| l == rule.rule_id.as_str())
            .unwrap_or_else(|| panic!("no bar for {}: {rules:?}", rule.rule_id));
        assert_eq!(
            (shown.1, shown.2),
            (rule.count, rule.count),
            "{}",
            rule.rule_id
        );
    }
    assert!(
        rules.iter().any(|b| b.2 == 0),
        "a zero bar must still be drawn"
    );
}

/// (finding id, `data-change`) of every row of one table in the rendered DOM.
fn changes(dom: &str, table: &str) -> Vec<(String, String)> {
    let Some(start) = dom.find(&format!("<table id=\"{table}\"")) else {
        return Vec::new();
    };
    let end = start
        + dom[start..]
            .find("</table>")
            .unwrap_or_else(|| panic!("unclosed {table}"));
    let row = Regex::new(r#"<tr id="[fr]-([^"]+)" data-change="([a-z]+)""#)
        .unwrap_or_else(|e| panic!("{e}"));
    row.captures_iter(&dom[start..end])
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect()
}

/// After `--baseline`, the report a browser shows says what changed: the counts, a badge on
/// each finding (new or unchanged), and the baseline's findings that are gone, as resolved.
#[test]
fn chromium_shows_new_unchanged_and_resolved_after_a_baseline() {
    // The earlier run: eve was still in Salesforce without an IdP account, and dave had not
    // used Data Loader yet.
    let mut before_snap = snapshot(
        vec![
            user(1, "alice@corp.com.prod", "alice@corp.com"),
            user(2, "dave@corp.com.prod", "dave@corp.com"),
            user(3, "gina@corp.com.prod", "gina@corp.com"),
            user(4, "root@corp.com.prod", "root@corp.com"),
            user(5, "eve@corp.com.prod", "eve@corp.com"),
        ],
        vec![sysadmin(1), sysadmin(4)],
    );
    before_snap.audit_trail = Some(vec![export_row("0Ym000000000001AAA", 4, days_ago(3), None)]);
    let idp = directory(vec![
        idp_user("alice@corp.com", IdpStatus::Active),
        idp_user("gina@corp.com", IdpStatus::Deprovisioned),
    ]);
    let mut earlier_config = config();
    earlier_config.now -= chrono::Duration::days(1);
    let before = sfmcp_audit::evaluate(&before_snap, &idp, &earlier_config);
    let mut report = sample();
    sfmcp_audit::baseline::apply_baseline(&mut report, &before).unwrap_or_else(|e| panic!("{e}"));
    let diff = report.baseline.clone().unwrap_or_else(|| panic!("no diff"));
    assert!(
        !diff.new.is_empty() && !diff.unchanged.is_empty() && !diff.resolved.is_empty(),
        "the sample must have all three kinds: {diff:?}"
    );

    let html = render(&report, Format::Html).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("report.html");
    std::fs::write(&file, html).unwrap_or_else(|e| panic!("{e}"));
    let dom = chromium_dom(&file, &dir.path().join("profile"));

    let counts = format!(
        "<p id=\"baseline\" data-new=\"{}\" data-resolved=\"{}\" data-unchanged=\"{}\">",
        diff.new.len(),
        diff.resolved.len(),
        diff.unchanged.len()
    );
    assert!(dom.contains(&counts), "{counts} not in the DOM");
    let mut shown = changes(&dom, "findings");
    let mut expected: Vec<(String, String)> = diff
        .new
        .iter()
        .map(|id| (id.clone(), "new".to_owned()))
        .chain(
            diff.unchanged
                .iter()
                .map(|id| (id.clone(), "unchanged".to_owned())),
        )
        .collect();
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected, "each current finding carries its change");
    let mut resolved = changes(&dom, "resolved-findings");
    let mut expected_resolved: Vec<(String, String)> = diff
        .resolved
        .iter()
        .map(|f| (f.id.clone(), "resolved".to_owned()))
        .collect();
    resolved.sort();
    expected_resolved.sort();
    assert_eq!(
        resolved, expected_resolved,
        "the resolved findings are listed"
    );
    // The badges are visible text, not only attributes.
    for word in ["new", "unchanged", "resolved"] {
        assert!(
            dom.contains(&format!(
                "<span class=\"change change-{word}\">{word}</span>"
            )),
            "no {word} badge"
        );
    }

    // Without a baseline nothing of the diff is shown.
    let plain = render(&sample(), Format::Html).unwrap_or_else(|e| panic!("{e}"));
    assert!(!plain.contains("data-change") && !plain.contains("id=\"baseline\""));
}
