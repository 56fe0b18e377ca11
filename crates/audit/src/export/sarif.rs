//! SARIF 2.1.0 for CI. Findings are not in source files, so results carry logical locations
//! (`salesforce://<org>/<kind>/<id>`) and, because GitHub code scanning rejects a result
//! without one, a physical location naming the same thing as a relative path
//! (`salesforce/<org>/<kind>/<id>`, percent-encoded, line 1). `partialFingerprints` carries
//! the stable id so code scanning tracks a finding across runs. `security-severity` follows GitHub's bands
//! (≥ 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, < 4 low).

use std::fmt::Write;

use serde_json::{Value, json};

use crate::baseline::Changes;
use crate::finding::Severity;
use crate::report::AuditReport;
use crate::rules::RuleId;

/// `driver.informationUri`: where the tool is described (an absolute URI, as SARIF asks).
pub const INFORMATION_URI: &str = "https://crates.io/crates/sfmcp";

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// RFC 3986 unreserved characters kept, everything else percent-encoded (a subject id can be
/// `Data Loader|005…`).
fn uri_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The rules the run describes: the nine, and the extended ones it ran (or that a finding
/// carries); `ruleIndex` points into this list.
fn run_rules(report: &AuditReport) -> Vec<RuleId> {
    RuleId::ALL
        .into_iter()
        .filter(|id| {
            !id.is_extended()
                || report.summary.by_rule.iter().any(|r| r.rule_id == *id)
                || report.findings.iter().any(|f| f.rule_id == *id)
        })
        .collect()
}

pub fn to_sarif(report: &AuditReport) -> Value {
    let described = run_rules(report);
    let rule_index = |rule: RuleId| described.iter().position(|r| *r == rule).unwrap_or(0);
    let rules: Vec<Value> = described
        .iter()
        .map(|id| {
            let r = id.info();
            let mut help = r.remediation.to_owned();
            for step in r.steps {
                help.push_str("\n- ");
                help.push_str(step);
            }
            json!({
                "id": r.id.as_str(),
                "name": r.title.replace(|c: char| !c.is_ascii_alphanumeric(), ""),
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.description },
                "help": { "text": help },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "security-severity": security_severity(r.severity),
                    "tags": ["security", "salesforce", "identity"],
                },
            })
        })
        .collect();
    let changes = Changes::of(report);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule_id.as_str(),
                "ruleIndex": rule_index(f.rule_id),
                "level": level(f.severity),
                "message": { "text": f.title },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": format!(
                                "salesforce/{}/{}/{}",
                                uri_segment(&f.org_id),
                                f.subject.kind.as_str(),
                                uri_segment(&f.subject.id)
                            ),
                        },
                        "region": { "startLine": 1 },
                    },
                    "logicalLocations": [{
                        "fullyQualifiedName": format!(
                            "salesforce://{}/{}/{}", f.org_id, f.subject.kind.as_str(), f.subject.id
                        ),
                        "name": f.subject.display,
                        "kind": f.subject.kind.as_str(),
                    }],
                }],
                "partialFingerprints": { "sfmcpFindingId/v1": f.id },
                "properties": {
                    "severity": f.severity.as_str(),
                    "security-severity": security_severity(f.severity),
                    "confidence": f.confidence.as_str(),
                    "matchMethod": f.match_method.map(|m| m.as_str()),
                    "firstSeen": f.first_seen.to_rfc3339(),
                    "lastSeen": f.last_seen.to_rfc3339(),
                },
            });
            // SARIF `baselineState`, after a `--baseline` comparison only.
            if let Some(state) = changes.of_finding(&f.id) {
                result["baselineState"] = json!(state);
            }
            result
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.tool,
                    "version": report.tool_version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                },
            },
            "automationDetails": { "id": format!("sfmcp-audit/{}/", report.org_id) },
            "results": results,
        }],
    })
}

pub fn render_sarif(report: &AuditReport) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(&to_sarif(report))?;
    s.push('\n');
    Ok(s)
}
