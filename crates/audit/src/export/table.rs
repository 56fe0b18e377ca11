//! The default, human-readable rendering, for a terminal. Every string that did not come from
//! sfmcp itself (names, titles built from them, reasons and notes) goes through
//! `printable_line` first: an escape sequence in a connected app's name must not reach the
//! terminal, and a cell is clipped only after that, so a cut can never leave half of one.

use std::fmt::Write;

use crate::report::AuditReport;
use crate::sanitize::{printable_clipped, printable_line};

pub fn render_table(report: &AuditReport) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "Identity-gap audit of org {} against {} ({} IdP accounts, {} Salesforce users), \
         exports since {}",
        printable_line(&report.org_id),
        printable_line(&report.idp_kind),
        report.idp_users,
        report.salesforce_users,
        report.window_start.format("%Y-%m-%d"),
    );
    let _ = writeln!(out);
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
    } else {
        let _ = writeln!(
            out,
            "{:<9} {:<11} {:<40} {:<7} TITLE",
            "SEVERITY", "RULE", "SUBJECT", "CONF"
        );
        for f in &report.findings {
            let _ = writeln!(
                out,
                "{:<9} {:<11} {:<40} {:<7} {}",
                f.severity.as_str(),
                f.rule_id.as_str(),
                printable_clipped(&f.subject.display, 40),
                f.confidence.as_str(),
                printable_line(&f.title)
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Findings by rule:");
    for r in &s.by_rule {
        let state = if r.evaluated { "" } else { "  (not evaluated)" };
        let _ = writeln!(
            out,
            "  {:<11} {:<9} {:>6}  {}{}",
            r.rule_id.as_str(),
            r.severity.as_str(),
            r.count,
            r.title,
            state
        );
    }
    let by_sev: Vec<String> = s
        .by_severity
        .iter()
        .map(|(sev, n)| format!("{sev} {n}"))
        .collect();
    let _ = writeln!(out, "Total {}: {}", s.total, by_sev.join(", "));
    let _ = writeln!(
        out,
        "Admins: {} expected (allow-listed), {} not on the allow-list; {} non-human identities \
         inventoried (not judged against the IdP)",
        s.expected_admins, s.unexpected_admins, s.non_human_identities
    );
    for n in &report.not_evaluated {
        let _ = writeln!(
            out,
            "Not evaluated: {}: {}",
            n.rule_id,
            printable_line(&n.reason)
        );
    }
    for note in &report.notes {
        let _ = writeln!(out, "Note: {}", printable_line(note));
    }
    if let Some(baseline) = &report.baseline {
        let _ = writeln!(out, "{}", baseline.summary_line());
        for f in &baseline.resolved {
            let _ = writeln!(
                out,
                "  resolved: {} {}",
                f.rule_id.as_str(),
                printable_clipped(&f.subject.display, 60)
            );
        }
    }
    out
}
