//! Findings, shaped after OCSF's Findings category so the OCSF export is a mapping, not a
//! translation: stable fingerprint, rule id and version, severity, subject, related identities,
//! evidence, remediation, confidence, first and last seen.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::matching::MatchMethod;

/// The nine core rules, then the extended ones, in catalogue order (which is also the report's
/// tie-break order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    /// SF-IDP-001
    IdpAdminNotInIdp,
    /// SF-IDP-002
    IdpUserNotInIdp,
    /// SF-IDP-003
    IdpStaleUser,
    /// SF-IDP-004
    IdpOauthUnknownUser,
    /// SF-PRV-001
    PrvModifyAllData,
    /// SF-PRV-002
    PrvViewAllData,
    /// SF-CFG-001
    CfgSessionIp,
    /// SF-EXP-001
    ExpBulkExport,
    /// SF-EXP-002
    ExpNonAdminExport,
    /// SF-HYG-001 (extended)
    HygDormantUser,
    /// SF-HYG-002 (extended)
    HygUnusedIntegrationTokens,
    /// SF-HYG-003 (extended)
    HygOpenAppLastingTokens,
    /// SF-HYG-004 (extended)
    HygPasswordLoginSsoUser,
    /// SF-HYG-005 (extended)
    HygMfaNotEnforced,
    /// SF-HYG-006 (extended)
    HygBroadProfileAccess,
    /// SF-HYG-007 (extended)
    HygAppApprovedForEveryone,
}

impl RuleId {
    /// Every rule, core then extended.
    pub const ALL: [RuleId; 16] = [
        RuleId::IdpAdminNotInIdp,
        RuleId::IdpUserNotInIdp,
        RuleId::IdpStaleUser,
        RuleId::IdpOauthUnknownUser,
        RuleId::PrvModifyAllData,
        RuleId::PrvViewAllData,
        RuleId::CfgSessionIp,
        RuleId::ExpBulkExport,
        RuleId::ExpNonAdminExport,
        RuleId::HygDormantUser,
        RuleId::HygUnusedIntegrationTokens,
        RuleId::HygOpenAppLastingTokens,
        RuleId::HygPasswordLoginSsoUser,
        RuleId::HygMfaNotEnforced,
        RuleId::HygBroadProfileAccess,
        RuleId::HygAppApprovedForEveryone,
    ];

    /// The nine rules a run evaluates unless told otherwise (Thalian's set: ids and severities
    /// are fixed).
    pub const CORE: [RuleId; 9] = [
        RuleId::IdpAdminNotInIdp,
        RuleId::IdpUserNotInIdp,
        RuleId::IdpStaleUser,
        RuleId::IdpOauthUnknownUser,
        RuleId::PrvModifyAllData,
        RuleId::PrvViewAllData,
        RuleId::CfgSessionIp,
        RuleId::ExpBulkExport,
        RuleId::ExpNonAdminExport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::IdpAdminNotInIdp => "SF-IDP-001",
            RuleId::IdpUserNotInIdp => "SF-IDP-002",
            RuleId::IdpStaleUser => "SF-IDP-003",
            RuleId::IdpOauthUnknownUser => "SF-IDP-004",
            RuleId::PrvModifyAllData => "SF-PRV-001",
            RuleId::PrvViewAllData => "SF-PRV-002",
            RuleId::CfgSessionIp => "SF-CFG-001",
            RuleId::ExpBulkExport => "SF-EXP-001",
            RuleId::ExpNonAdminExport => "SF-EXP-002",
            RuleId::HygDormantUser => "SF-HYG-001",
            RuleId::HygUnusedIntegrationTokens => "SF-HYG-002",
            RuleId::HygOpenAppLastingTokens => "SF-HYG-003",
            RuleId::HygPasswordLoginSsoUser => "SF-HYG-004",
            RuleId::HygMfaNotEnforced => "SF-HYG-005",
            RuleId::HygBroadProfileAccess => "SF-HYG-006",
            RuleId::HygAppApprovedForEveryone => "SF-HYG-007",
        }
    }

    /// Extended rules run only when selected (`--rule`, `--extended`, `audit_run`'s `rules`),
    /// so a default run keeps the nine rules' results.
    pub fn is_extended(self) -> bool {
        !RuleId::CORE.contains(&self)
    }

    /// Parses a rule selection: rule ids, `core` (the nine) and `extended` (every extended
    /// rule), in any mix; duplicates collapse.
    pub fn parse_selection<S: AsRef<str>>(items: &[S]) -> Result<Vec<RuleId>, String> {
        let mut selected = Vec::new();
        for item in items {
            let item = item.as_ref().trim();
            let rules: Vec<RuleId> = if item.eq_ignore_ascii_case("core") {
                RuleId::CORE.to_vec()
            } else if item.eq_ignore_ascii_case("extended") {
                RuleId::ALL
                    .into_iter()
                    .filter(|r| r.is_extended())
                    .collect()
            } else {
                vec![item.parse()?]
            };
            for r in rules {
                if !selected.contains(&r) {
                    selected.push(r);
                }
            }
        }
        Ok(selected)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        RuleId::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                let ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "unknown rule `{wanted}`: use one of {}, `core` or `extended`",
                    ids.join(", ")
                )
            })
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Most severe first, so the derived order is the report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// OCSF `severity_id`.
    pub fn ocsf_id(self) -> u8 {
        match self {
            Severity::Critical => 5,
            Severity::High => 4,
            Severity::Medium => 3,
            Severity::Low => 2,
            Severity::Info => 1,
        }
    }

    /// OCSF `severity` caption.
    pub fn ocsf_caption(self) -> &'static str {
        match self {
            Severity::Critical => "Critical",
            Severity::High => "High",
            Severity::Medium => "Medium",
            Severity::Low => "Low",
            Severity::Info => "Informational",
        }
    }

    /// Whether `self` is as severe as `threshold` or more.
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" => Ok(Severity::High),
            "medium" => Ok(Severity::Medium),
            "low" => Ok(Severity::Low),
            "info" | "informational" => Ok(Severity::Info),
            other => Err(format!(
                "unknown severity `{other}`: use critical, high, medium, low or info"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }

    /// OCSF `confidence_id` (1 Low, 2 Medium, 3 High).
    pub fn ocsf_id(self) -> u8 {
        match self {
            Confidence::Low => 1,
            Confidence::Medium => 2,
            Confidence::High => 3,
        }
    }
}

/// Posture rules judge a state (OCSF Compliance Finding 2003); detection rules judge events
/// (OCSF Detection Finding 2004).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    Posture,
    Detection,
}

impl FindingKind {
    pub fn ocsf_class_uid(self) -> u32 {
        match self {
            FindingKind::Posture => 2003,
            FindingKind::Detection => 2004,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    User,
    OauthGrant,
    OrgSetting,
    AuditEvent,
    ExportEvent,
    ConnectedApp,
    Profile,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::User => "user",
            SubjectKind::OauthGrant => "oauth_grant",
            SubjectKind::OrgSetting => "org_setting",
            SubjectKind::AuditEvent => "audit_event",
            SubjectKind::ExportEvent => "export_event",
            SubjectKind::ConnectedApp => "connected_app",
            SubjectKind::Profile => "profile",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub kind: SubjectKind,
    /// Stable key: Salesforce record id, `app|userId` for OAuth grants, setting name, …
    pub id: String,
    /// Human label (username, app × username, …).
    pub display: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// Another identity involved: the matched IdP account, the acting user of an export, the
/// Login-As delegate, the connected app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedIdentity {
    /// `idp_account`, `actor`, `delegate`, `connected_app`, `token_owner`.
    pub role: String,
    /// `salesforce` or the IdP kind.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub display: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A record the finding rests on. `fields` never holds secrets: the input model has no field
/// for a token, and rules copy named fields only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// e.g. `salesforce.User`, `salesforce.PermissionSetAssignment`, `okta.user`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    pub summary: String,
    pub steps: Vec<String>,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    Open,
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Fingerprint: the same rule on the same subject in the same org always gets the same id.
    pub id: String,
    pub rule_id: RuleId,
    pub rule_version: u16,
    pub kind: FindingKind,
    pub title: String,
    pub severity: Severity,
    pub status: FindingStatus,
    pub confidence: Confidence,
    /// How the subject was matched to the IdP (identity rules only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_method: Option<MatchMethod>,
    pub subject: Subject,
    pub related: Vec<RelatedIdentity>,
    pub evidence: Vec<Evidence>,
    pub remediation: Remediation,
    pub org_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_source: Option<String>,
    #[serde(with = "super::model::sf_datetime")]
    pub first_seen: DateTime<Utc>,
    #[serde(with = "super::model::sf_datetime")]
    pub last_seen: DateTime<Utc>,
}

/// First 24 hex digits of SHA-256 over rule, org and subject: independent of run time and of
/// the order records arrived in.
pub fn fingerprint(rule: RuleId, org_id: &str, subject: &Subject) -> String {
    sfmcp_salesforce::crypto::digest_hex(
        &[
            rule.as_str(),
            org_id,
            subject.kind.as_str(),
            subject.id.as_str(),
        ],
        12,
    )
}

/// Report order: severity (most severe first), rule, subject; the fingerprint breaks ties so
/// the order is total.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.severity, a.rule_id, &a.subject.id, &a.id).cmp(&(
            b.severity,
            b.rule_id,
            &b.subject.id,
            &b.id,
        ))
    });
}

/// Carry `first_seen` over from an earlier run, so a finding's age survives re-evaluation.
pub fn carry_first_seen(findings: &mut [Finding], previous: &[Finding]) {
    let earlier: std::collections::HashMap<&str, DateTime<Utc>> = previous
        .iter()
        .map(|f| (f.id.as_str(), f.first_seen))
        .collect();
    for f in findings {
        if let Some(&seen) = earlier.get(f.id.as_str()) {
            f.first_seen = f.first_seen.min(seen);
        }
    }
}

/// Findings of an earlier run that the current run no longer produces, marked resolved (for
/// a session that keeps runs and reports what was fixed).
pub fn resolved_since(previous: &[Finding], current: &[Finding]) -> Vec<Finding> {
    let now: std::collections::HashSet<&str> = current.iter().map(|f| f.id.as_str()).collect();
    previous
        .iter()
        .filter(|f| !now.contains(f.id.as_str()))
        .map(|f| Finding {
            status: FindingStatus::Resolved,
            ..f.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(id: &str) -> Subject {
        Subject {
            kind: SubjectKind::User,
            id: id.into(),
            display: id.into(),
            email: None,
            username: None,
        }
    }

    #[test]
    fn fingerprints_are_stable_and_distinguish_rule_org_and_subject() {
        let a = fingerprint(RuleId::IdpUserNotInIdp, "00D1", &subject("0051"));
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            a,
            fingerprint(RuleId::IdpUserNotInIdp, "00D1", &subject("0051"))
        );
        assert_ne!(
            a,
            fingerprint(RuleId::IdpAdminNotInIdp, "00D1", &subject("0051"))
        );
        assert_ne!(
            a,
            fingerprint(RuleId::IdpUserNotInIdp, "00D2", &subject("0051"))
        );
        assert_ne!(
            a,
            fingerprint(RuleId::IdpUserNotInIdp, "00D1", &subject("0052"))
        );
    }

    #[test]
    fn severity_threshold_comparison() {
        assert!(Severity::Critical.at_least(Severity::High));
        assert!(Severity::High.at_least(Severity::High));
        assert!(!Severity::Medium.at_least(Severity::High));
        assert_eq!("Informational".parse::<Severity>(), Ok(Severity::Info));
        assert!("severe".parse::<Severity>().is_err());
    }

    fn finding(subject_id: &str, seen: i64) -> Finding {
        let subject = subject(subject_id);
        let at = DateTime::from_timestamp(seen, 0).unwrap_or_default();
        Finding {
            id: fingerprint(RuleId::IdpUserNotInIdp, "00D1", &subject),
            rule_id: RuleId::IdpUserNotInIdp,
            rule_version: 1,
            kind: FindingKind::Posture,
            title: subject_id.into(),
            severity: Severity::High,
            status: FindingStatus::Open,
            confidence: Confidence::Medium,
            match_method: None,
            subject,
            related: Vec::new(),
            evidence: Vec::new(),
            remediation: Remediation {
                summary: String::new(),
                steps: Vec::new(),
                references: Vec::new(),
            },
            org_id: "00D1".into(),
            idp_source: None,
            first_seen: at,
            last_seen: at,
        }
    }

    #[test]
    fn reruns_keep_first_seen_and_report_what_disappeared() {
        let previous = vec![finding("0051", 1_000), finding("0052", 1_000)];
        let mut current = vec![finding("0051", 5_000), finding("0053", 5_000)];
        carry_first_seen(&mut current, &previous);
        assert_eq!(current[0].first_seen.timestamp(), 1_000);
        assert_eq!(current[0].last_seen.timestamp(), 5_000);
        assert_eq!(current[1].first_seen.timestamp(), 5_000);
        let gone = resolved_since(&previous, &current);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].subject.id, "0052");
        assert_eq!(gone[0].status, FindingStatus::Resolved);
    }
}
