//! OCSF export: posture rules as Compliance Finding (class 2003), event rules as Detection
//! Finding (class 2004), both in the Findings category (2). Field names follow the OCSF schema
//! (`events/findings/{finding,compliance_finding,detection_finding}.json`,
//! `objects/{finding_info,compliance,remediation,evidences}.json`). Times are epoch
//! milliseconds, as OCSF's `timestamp_t` requires.

use serde_json::{Value, json};

use crate::finding::{Finding, FindingKind, FindingStatus, SubjectKind};
use crate::report::AuditReport;

pub const OCSF_VERSION: &str = "1.6.0";

const ACTIVITY_CREATE: u32 = 1;

/// OCSF `metadata.log_name` of every event.
pub const LOG_NAME: &str = "sfmcp-audit";

fn resource_type(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::User => "Salesforce User",
        SubjectKind::OauthGrant => "Salesforce OAuth Grant",
        SubjectKind::OrgSetting => "Salesforce Org Setting",
        SubjectKind::AuditEvent => "Salesforce SetupAuditTrail Entry",
        SubjectKind::ExportEvent => "Salesforce Event Log Entry",
        SubjectKind::ConnectedApp => "Salesforce Connected App",
        SubjectKind::Profile => "Salesforce Profile",
    }
}

/// The event's own id: one per finding per run (a run is its `generated_at`), so a SIEM that
/// deduplicates on `metadata.uid` keeps every run's events, while `finding_info.uid` (the
/// finding's fingerprint) stays the same across runs. Derived, not random, so rendering one
/// report twice gives the same events.
fn event_uid(report: &AuditReport, f: &Finding) -> String {
    sfmcp_salesforce::crypto::digest_hex(&[&f.id, &report.generated_at.to_rfc3339()], 16)
}

/// One OCSF event for one finding.
pub fn finding_to_ocsf(report: &AuditReport, f: &Finding) -> Value {
    let info = f.rule_id.info();
    let class_uid = f.kind.ocsf_class_uid();
    let class_name = match f.kind {
        FindingKind::Posture => "Compliance Finding",
        FindingKind::Detection => "Detection Finding",
    };
    let (status_id, status) = match f.status {
        FindingStatus::Open => (1, "New"),
        FindingStatus::Resolved => (4, "Resolved"),
    };
    let mut remediation_desc = f.remediation.summary.clone();
    for (i, step) in f.remediation.steps.iter().enumerate() {
        remediation_desc.push_str(&format!(" {}. {}", i + 1, step));
    }
    let mut resource = json!({
        "uid": f.subject.id,
        "name": f.subject.display,
        "type": resource_type(f.subject.kind),
    });
    if let Some(email) = &f.subject.email {
        resource["data"] = json!({ "email": email });
    }
    let mut event = json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": class_uid,
        "class_name": class_name,
        "type_uid": class_uid * 100 + ACTIVITY_CREATE,
        "type_name": format!("{class_name}: Create"),
        "severity_id": f.severity.ocsf_id(),
        "severity": f.severity.ocsf_caption(),
        "status_id": status_id,
        "status": status,
        "confidence_id": f.confidence.ocsf_id(),
        "confidence": match f.confidence.ocsf_id() { 3 => "High", 2 => "Medium", _ => "Low" },
        "time": report.generated_at.timestamp_millis(),
        "start_time": f.first_seen.timestamp_millis(),
        "end_time": f.last_seen.timestamp_millis(),
        "message": f.title,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": report.tool,
                "vendor_name": report.tool,
                "version": report.tool_version,
            },
            "uid": event_uid(report, f),
            // The Salesforce org is the tenant the finding is about; one log per tool, so a
            // SIEM can route these events without reading their content.
            "tenant_uid": f.org_id,
            "log_name": LOG_NAME,
        },
        "finding_info": {
            "uid": f.id,
            "title": f.title,
            "desc": info.description,
            "types": [info.title],
            "first_seen_time": f.first_seen.timestamp_millis(),
            "last_seen_time": f.last_seen.timestamp_millis(),
            "analytic": {
                "uid": f.rule_id.as_str(),
                "name": info.title,
                "type_id": 1,
                "type": "Rule",
                "version": f.rule_version.to_string(),
            },
        },
        "remediation": {
            "desc": remediation_desc,
            "references": f.remediation.references,
        },
        "resources": [resource],
        "unmapped": {
            "org_id": f.org_id,
            "rule_id": f.rule_id.as_str(),
            "rule_version": f.rule_version,
            "match_method": f.match_method.map(|m| m.as_str()),
            "idp_source": f.idp_source,
            "related": f.related,
        },
    });
    match f.kind {
        FindingKind::Posture => {
            let mut standards: Vec<&str> = info.controls.iter().map(|(s, _)| *s).collect();
            standards.dedup();
            if standards.is_empty() {
                standards.push("sfmcp Salesforce identity-gap rules");
            }
            let control = info
                .controls
                .first()
                .map_or(f.rule_id.as_str(), |(_, c)| *c);
            event["compliance"] = json!({
                "control": control,
                "standards": standards,
                "requirements": [f.rule_id.as_str()],
                "status_id": 3,
                "status": "Fail",
            });
            event["unmapped"]["evidence"] = json!(f.evidence);
        }
        FindingKind::Detection => {
            event["is_alert"] = json!(true);
            event["evidences"] = Value::Array(
                f.evidence
                    .iter()
                    .map(|e| {
                        let mut evidence = json!({ "name": e.source, "data": e.fields });
                        // OauthToken rows have no id (the key is app and user, in the
                        // resource): leave `uid` out rather than send null.
                        if let Some(uid) = &e.record_id {
                            evidence["uid"] = json!(uid);
                        }
                        evidence
                    })
                    .collect(),
            );
        }
    }
    event
}

/// The findings an export carries: this run's, then (after a `--baseline` comparison) the
/// baseline's findings that are gone, as Resolved events, so a SIEM closes them.
fn events(report: &AuditReport) -> impl Iterator<Item = &Finding> {
    let resolved = report.baseline.iter().flat_map(|b| b.resolved.iter());
    report.findings.iter().chain(resolved)
}

/// The whole report as a JSON array of OCSF events.
pub fn to_ocsf(report: &AuditReport) -> Value {
    Value::Array(events(report).map(|f| finding_to_ocsf(report, f)).collect())
}

/// One compact event per line (JSON Lines), the shape SIEM pipelines ingest; an empty
/// report is an empty file.
pub fn render_ocsf_lines(report: &AuditReport) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for f in events(report) {
        out.push_str(&serde_json::to_string(&finding_to_ocsf(report, f))?);
        out.push('\n');
    }
    Ok(out)
}

pub fn render_ocsf(report: &AuditReport) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(&to_ocsf(report))?;
    s.push('\n');
    Ok(s)
}
