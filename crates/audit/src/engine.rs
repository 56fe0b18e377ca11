//! A run: the rules (`crate::rules`) evaluated over one Salesforce snapshot and one IdP
//! directory, put in report order and summarised. Nothing here does I/O.

use std::collections::BTreeMap;

pub use crate::config::AuditConfig;
pub use crate::report::{
    AdminEntry, AuditReport, FindingFilter, FindingsPage, NonHumanIdentity, NotEvaluated,
    RuleCount, Summary,
};

use crate::finding::{Finding, RuleId, Severity, sort_findings};
use crate::model::{IdpDirectory, SalesforceSnapshot};
use crate::rules::{self, RuleRun, admin_definition};

/// Run every enabled rule. Deterministic: same inputs and config give the same report.
pub fn evaluate(
    snapshot: &SalesforceSnapshot,
    idp: &IdpDirectory,
    config: &AuditConfig,
) -> AuditReport {
    let RuleRun {
        mut findings,
        mut not_evaluated,
        notes,
        mut admins,
        mut non_human,
    } = rules::run(snapshot, idp, config);
    sort_findings(&mut findings);
    admins.sort_by(|a, b| (!a.expected, &a.username).cmp(&(!b.expected, &b.username)));
    non_human.sort_by(|a, b| a.username.cmp(&b.username));
    not_evaluated.sort_by_key(|n| n.rule_id);
    let summary = summarise(&findings, &admins, non_human.len(), &not_evaluated, config);

    AuditReport {
        tool: "sfmcp".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        generated_at: config.now,
        org_id: snapshot.org_id.clone(),
        idp_kind: idp.kind.as_str().to_owned(),
        idp_source: idp.source.clone(),
        idp_users: idp.users.len(),
        salesforce_users: snapshot.users.len(),
        window_days: config.window_days,
        window_start: config.window_start(),
        admin_definition: admin_definition().to_owned(),
        summary,
        findings,
        admins,
        non_human_identities: non_human,
        not_evaluated,
        notes,
        baseline: None,
    }
}

fn summarise(
    findings: &[Finding],
    admins: &[AdminEntry],
    non_human: usize,
    not_evaluated: &[NotEvaluated],
    config: &AuditConfig,
) -> Summary {
    let mut by_severity: BTreeMap<Severity, usize> =
        Severity::ALL.iter().map(|s| (*s, 0)).collect();
    let mut by_rule: BTreeMap<RuleId, usize> = BTreeMap::new();
    for f in findings {
        *by_severity.entry(f.severity).or_default() += 1;
        *by_rule.entry(f.rule_id).or_default() += 1;
    }
    Summary {
        total: findings.len(),
        by_severity,
        // The nine always (an unselected one shows as not evaluated); extended rules when on.
        by_rule: RuleId::ALL
            .iter()
            .filter(|r| !r.is_extended() || config.enabled(**r))
            .map(|r| RuleCount {
                rule_id: *r,
                title: r.info().title.to_owned(),
                severity: r.severity(),
                count: by_rule.get(r).copied().unwrap_or(0),
                evaluated: !not_evaluated.iter().any(|n| n.rule_id == *r),
            })
            .collect(),
        expected_admins: admins.iter().filter(|a| a.expected).count(),
        unexpected_admins: admins.iter().filter(|a| !a.expected).count(),
        non_human_identities: non_human,
    }
}
