//! What a run produces: the report, its summary and inventories, and paging through its
//! findings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, RuleId, Severity};

/// Counts per rule, with whether the rule could run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule_id: RuleId,
    pub title: String,
    pub severity: Severity,
    pub count: usize,
    /// `false` when the rule was skipped (not selected, or an input was unavailable).
    pub evaluated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: usize,
    /// Every severity, most severe first, zeros included (a JSON object keyed by severity).
    pub by_severity: BTreeMap<Severity, usize>,
    pub by_rule: Vec<RuleCount>,
    /// Holders of admin permissions on the allow-list (no PRV finding) vs not.
    pub expected_admins: usize,
    pub unexpected_admins: usize,
    pub non_human_identities: usize,
}

impl Summary {
    pub fn count_at_least(&self, threshold: Severity) -> usize {
        self.by_severity
            .iter()
            .filter(|(s, _)| s.at_least(threshold))
            .map(|(_, n)| n)
            .sum()
    }
}

/// One holder of admin permissions, for the summary's grouping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminEntry {
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub permissions: Vec<String>,
    /// e.g. `profile "System Administrator"`, `permission set group "Ops"`.
    pub grant_paths: Vec<String>,
    pub expected: bool,
    pub non_human: bool,
}

/// A service identity: inventoried, never reported as "not in IdP".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonHumanIdentity {
    pub user_id: String,
    pub username: String,
    pub license: Option<String>,
    pub api_only: bool,
    pub admin_permissions: Vec<String>,
    pub connected_apps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluated {
    pub rule_id: RuleId,
    pub reason: String,
}

/// The result of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub tool: String,
    pub tool_version: String,
    #[serde(with = "crate::model::sf_datetime")]
    pub generated_at: DateTime<Utc>,
    pub org_id: String,
    pub idp_kind: String,
    pub idp_source: String,
    pub idp_users: usize,
    pub salesforce_users: usize,
    pub window_days: u32,
    #[serde(with = "crate::model::sf_datetime")]
    pub window_start: DateTime<Utc>,
    pub admin_definition: String,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub admins: Vec<AdminEntry>,
    pub non_human_identities: Vec<NonHumanIdentity>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// Coverage caveats (e.g. no Event Monitoring), in plain words.
    pub notes: Vec<String>,
    /// What changed since a previous run, when one was given (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::BaselineDiff>,
}

/// Which findings a caller wants (MCP `audit_findings`, CLI filters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingFilter {
    /// Only findings at least this severe.
    pub min_severity: Option<Severity>,
    pub rule: Option<RuleId>,
}

impl FindingFilter {
    pub fn matches(&self, f: &Finding) -> bool {
        self.min_severity.is_none_or(|s| f.severity.at_least(s))
            && self.rule.is_none_or(|r| f.rule_id == r)
    }
}

/// One page of a report's findings, in report order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingsPage<'a> {
    pub findings: Vec<&'a Finding>,
    /// Findings matching the filter, over all pages.
    pub total_matching: usize,
    /// Offset of the next page, `None` on the last one.
    pub next_offset: Option<usize>,
}

impl AuditReport {
    /// Page through the findings so a large result never reaches a model in one message. The
    /// report is immutable, so a plain offset is a stable cursor.
    pub fn page(&self, filter: FindingFilter, offset: usize, limit: usize) -> FindingsPage<'_> {
        let limit = limit.max(1);
        let mut total_matching = 0;
        let mut findings = Vec::with_capacity(limit.min(self.findings.len()));
        for f in self.findings.iter().filter(|f| filter.matches(f)) {
            if total_matching >= offset && findings.len() < limit {
                findings.push(f);
            }
            total_matching += 1;
        }
        let end = offset.saturating_add(findings.len());
        FindingsPage {
            findings,
            total_matching,
            next_offset: (end < total_matching).then_some(end),
        }
    }
}
