//! The findings as CSV (RFC 4180, one finding per row, a header row first), for the
//! spreadsheets and ticket imports security teams use.
//!
//! Cells quote third-party text (usernames, connected-app names), and a spreadsheet runs a
//! cell that starts with `=`, `+`, `-`, `@`, tab or carriage return as a formula (CSV
//! injection, CWE-1236): such a cell gets a leading `'`, which spreadsheets show as text.
//! Controls and escape sequences are removed, as for the table.

use crate::baseline::Changes;
use crate::finding::Finding;
use crate::report::AuditReport;
use crate::sanitize::printable_line;

pub const CSV_COLUMNS: [&str; 20] = [
    "finding_id",
    "rule_id",
    "rule_version",
    "severity",
    "confidence",
    "status",
    "change",
    "title",
    "subject_kind",
    "subject_id",
    "subject",
    "subject_email",
    "subject_username",
    "match_method",
    "idp_source",
    "org_id",
    "first_seen",
    "last_seen",
    "remediation",
    "references",
];

/// A cell a spreadsheet shows as the text it is.
fn cell(text: &str) -> String {
    let clean = printable_line(text);
    if clean.starts_with(['=', '+', '-', '@']) {
        format!("'{clean}")
    } else {
        clean.into_owned()
    }
}

/// `change` is `new`, `unchanged` or `resolved` after a `--baseline` comparison, else empty.
fn row(f: &Finding, change: &str) -> [String; 20] {
    let mut remediation = f.remediation.summary.clone();
    for (i, step) in f.remediation.steps.iter().enumerate() {
        remediation.push_str(&format!(" {}. {}", i + 1, step));
    }
    [
        f.id.clone(),
        f.rule_id.as_str().to_owned(),
        f.rule_version.to_string(),
        f.severity.as_str().to_owned(),
        f.confidence.as_str().to_owned(),
        match f.status {
            crate::finding::FindingStatus::Open => "open".into(),
            crate::finding::FindingStatus::Resolved => "resolved".into(),
        },
        change.to_owned(),
        cell(&f.title),
        f.subject.kind.as_str().to_owned(),
        cell(&f.subject.id),
        cell(&f.subject.display),
        cell(f.subject.email.as_deref().unwrap_or_default()),
        cell(f.subject.username.as_deref().unwrap_or_default()),
        f.match_method
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
        cell(f.idp_source.as_deref().unwrap_or_default()),
        cell(&f.org_id),
        f.first_seen.to_rfc3339(),
        f.last_seen.to_rfc3339(),
        cell(&remediation),
        f.remediation.references.join(" "),
    ]
}

pub fn render_csv(report: &AuditReport) -> Result<String, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(CSV_COLUMNS)?;
    let changes = Changes::of(report);
    for f in &report.findings {
        writer.write_record(row(f, changes.of_finding(&f.id).unwrap_or_default()))?;
    }
    for f in report.baseline.iter().flat_map(|b| b.resolved.iter()) {
        writer.write_record(row(f, "resolved"))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))?;
    // Every cell came from a `String`: the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_and_controls_in_third_party_text_are_neutralised() {
        assert_eq!(
            cell("=HYPERLINK(\"https://evil.example\")"),
            "'=HYPERLINK(\"https://evil.example\")"
        );
        assert_eq!(cell("+1 555"), "'+1 555");
        assert_eq!(cell("-2+3"), "'-2+3");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        // A tab or carriage return would hide a formula behind whitespace: it becomes a space
        // or goes, and what is left starts with no formula character.
        assert_eq!(cell("\t=1"), " =1");
        assert_eq!(cell("\r=1"), "'=1");
        assert_eq!(cell("\u{1b}[31mred\u{1b}[0m"), "red");
        assert_eq!(cell("ada@example.com"), "ada@example.com");
    }
}
