//! Run-to-run comparison: what a scheduled audit found since the previous run.
//!
//! The previous run is its `--format json` export (the report's own serde shape). Findings
//! are compared by fingerprint, which depends on rule, org and subject only, so a finding that
//! is still there keeps its id and its `first_seen` carries over.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, carry_first_seen, resolved_since};
use crate::report::AuditReport;

/// What changed since a baseline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineDiff {
    /// When the baseline run was made.
    #[serde(with = "crate::model::sf_datetime")]
    pub baseline_generated_at: DateTime<Utc>,
    /// Ids of findings this run has and the baseline had not.
    pub new: Vec<String>,
    /// Ids of findings both runs have.
    pub unchanged: Vec<String>,
    /// The baseline's findings this run no longer produces, marked resolved.
    pub resolved: Vec<Finding>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error(
        "the baseline is not a JSON export of an earlier run ({0}); pass the file an earlier \
         `sfmcp audit --format json` wrote"
    )]
    NotAReport(String),
    #[error("the baseline audited org {baseline}, this run org {current}: compare runs of one org")]
    OtherOrg { baseline: String, current: String },
}

/// The previous run, from its JSON export.
pub fn parse_baseline(text: &str) -> Result<AuditReport, BaselineError> {
    serde_json::from_str(text)
        .map_err(|e| BaselineError::NotAReport(format!("line {}, column {}", e.line(), e.column())))
}

/// Compares `report` with `baseline`, carries `first_seen` over and stores the diff in the
/// report.
pub fn apply_baseline(
    report: &mut AuditReport,
    baseline: &AuditReport,
) -> Result<(), BaselineError> {
    if report.org_id != baseline.org_id {
        return Err(BaselineError::OtherOrg {
            baseline: crate::sanitize::printable_clipped(&baseline.org_id, 40),
            current: report.org_id.clone(),
        });
    }
    // Findings the baseline already listed as resolved are history, not current state.
    let open: Vec<Finding> = baseline
        .findings
        .iter()
        .filter(|f| f.status == crate::finding::FindingStatus::Open)
        .cloned()
        .collect();
    carry_first_seen(&mut report.findings, &open);
    let before: std::collections::HashSet<&str> = open.iter().map(|f| f.id.as_str()).collect();
    let (unchanged, new): (Vec<&Finding>, Vec<&Finding>) = report
        .findings
        .iter()
        .partition(|f| before.contains(f.id.as_str()));
    let diff = BaselineDiff {
        baseline_generated_at: baseline.generated_at,
        new: new.iter().map(|f| f.id.clone()).collect(),
        unchanged: unchanged.iter().map(|f| f.id.clone()).collect(),
        resolved: resolved_since(&open, &report.findings),
    };
    report.baseline = Some(diff);
    Ok(())
}

/// Whether each current finding is new or unchanged since the baseline, answered from a set
/// built once per rendering, so an export of 100,000 findings stays linear.
pub struct Changes<'a> {
    new: Option<std::collections::HashSet<&'a str>>,
}

impl<'a> Changes<'a> {
    pub fn of(report: &'a AuditReport) -> Self {
        Changes {
            new: report
                .baseline
                .as_ref()
                .map(|diff| diff.new.iter().map(String::as_str).collect()),
        }
    }

    /// `new` or `unchanged`; `None` when the run was not compared with a baseline.
    pub fn of_finding(&self, finding_id: &str) -> Option<&'static str> {
        let new = self.new.as_ref()?;
        Some(if new.contains(finding_id) {
            "new"
        } else {
            "unchanged"
        })
    }
}

impl BaselineDiff {
    /// One line for people: "since the baseline of …: 2 new, 1 resolved, 5 unchanged".
    pub fn summary_line(&self) -> String {
        format!(
            "Since the baseline of {}: {} new, {} resolved, {} unchanged",
            self.baseline_generated_at.format("%Y-%m-%d %H:%M UTC"),
            self.new.len(),
            self.resolved.len(),
            self.unchanged.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::FindingStatus;
    use crate::model::{IdpDirectory, IdpKind, SalesforceSnapshot};

    fn report(org: &str, usernames: &[&str], at: i64) -> AuditReport {
        let users: Vec<serde_json::Value> = usernames
            .iter()
            .map(|u| {
                // The id follows the person, so one person is one subject across runs.
                let initial = u.chars().next().unwrap_or('z');
                serde_json::json!({
                    "id": format!("00500000000000{initial}"), "username": u, "email": u,
                    "is_active": true, "user_type": "Standard",
                })
            })
            .collect();
        let snapshot: SalesforceSnapshot =
            serde_json::from_value(serde_json::json!({"org_id": org, "users": users}))
                .unwrap_or_default();
        let idp = IdpDirectory {
            kind: IdpKind::File,
            source: "t".into(),
            users: Vec::new(),
        };
        let now = DateTime::from_timestamp(at, 0).unwrap_or_default();
        crate::evaluate(&snapshot, &idp, &crate::AuditConfig::new(now))
    }

    #[test]
    fn new_resolved_and_unchanged_by_fingerprint_with_first_seen_carried() {
        let before = report("00D1", &["a@x.example", "b@x.example"], 1_000_000);
        let mut after = report("00D1", &["a@x.example", "c@x.example"], 2_000_000);
        apply_baseline(&mut after, &before).unwrap();
        let diff = after.baseline.clone().unwrap();
        assert_eq!(
            (diff.new.len(), diff.unchanged.len(), diff.resolved.len()),
            (1, 1, 1)
        );
        assert_eq!(diff.resolved[0].status, FindingStatus::Resolved);
        let kept = after
            .findings
            .iter()
            .find(|f| f.id == diff.unchanged[0])
            .unwrap();
        assert_eq!(kept.first_seen.timestamp(), 1_000_000);
        // A finding the baseline had already closed is not resolved again.
        let mut next = report("00D1", &["a@x.example", "c@x.example"], 3_000_000);
        let mut closed = before.clone();
        closed
            .findings
            .iter_mut()
            .for_each(|f| f.status = FindingStatus::Resolved);
        apply_baseline(&mut next, &closed).unwrap();
        let diff = next.baseline.unwrap();
        assert_eq!((diff.new.len(), diff.resolved.len()), (2, 0));
    }

    #[test]
    fn another_orgs_run_or_another_file_is_refused_with_what_to_pass() {
        let mut mine = report("00D1", &["a@x.example"], 1_000_000);
        let theirs = report("00D2", &["a@x.example"], 1_000_000);
        let refused = apply_baseline(&mut mine, &theirs).unwrap_err().to_string();
        assert!(
            refused.contains("00D2") && refused.contains("one org"),
            "{refused}"
        );
        let not_json = parse_baseline("[{\"class_uid\": 2003}]")
            .unwrap_err()
            .to_string();
        assert!(not_json.contains("--format json"), "{not_json}");
    }
}
