//! The rule catalogue: the nine rules' ids, severities and meaning are fixed by the product.
//! Evaluation lives in `engine`; this file is what `audit_rules` shows and what the exports
//! describe.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::finding::{FindingKind, Severity};

/// The nine rules, in catalogue order (which is also the report's tie-break order).
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
}

impl RuleId {
    pub const ALL: [RuleId; 9] = [
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
        }
    }

    pub fn info(self) -> &'static RuleInfo {
        let index = RuleId::ALL.iter().position(|r| *r == self).unwrap_or(0);
        &CATALOGUE[index]
    }

    pub fn severity(self) -> Severity {
        self.info().severity
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
                format!("unknown rule `{wanted}`: use one of {}", ids.join(", "))
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

/// A rule's fixed description.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    pub id: RuleId,
    pub version: u16,
    pub title: &'static str,
    pub severity: Severity,
    pub kind: FindingKind,
    pub description: &'static str,
    /// Snapshot inputs the rule reads; when one is unavailable the rule is not evaluated.
    pub inputs: &'static [&'static str],
    pub remediation: &'static str,
    pub steps: &'static [&'static str],
    pub references: &'static [&'static str],
    /// Control ids in published standards (OCSF `compliance.control` / `standards`).
    pub controls: &'static [(&'static str, &'static str)],
}

const ADMIN_DEFINITION: &str = "\"Admin\" means holding ModifyAllData, ViewAllData, ManageUsers or \
     CustomizeApplication through any grant path (profile, permission set, permission set \
     group), never a profile name.";

pub static CATALOGUE: [RuleInfo; 9] = [
    RuleInfo {
        id: RuleId::IdpAdminNotInIdp,
        version: 1,
        title: "Salesforce admin not in IdP",
        severity: Severity::Critical,
        kind: FindingKind::Posture,
        description: "An active internal (Standard) Salesforce user with admin permissions has no \
             account in the identity provider under any corporate address, so offboarding in the \
             IdP can never remove this access. \"Admin\" means holding ModifyAllData, \
             ViewAllData, ManageUsers or CustomizeApplication through any grant path. \
             Integration-licence and API-only users are inventoried as non-human identities \
             instead.",
        inputs: &["users", "permission_grants", "idp"],
        remediation: "Tie the admin to an IdP identity, or deactivate the Salesforce user.",
        steps: &[
            "Confirm who owns the account; if nobody does, freeze it now (Setup > Users > Freeze).",
            "If the person is current staff, correct the Salesforce e-mail or Federation ID so it \
             matches their IdP account, and enforce SSO for admins.",
            "If not, deactivate the user and revoke their OAuth tokens.",
        ],
        references: &[
            "https://help.salesforce.com/s/articleView?id=platform.deactivating_users.htm",
        ],
        controls: &[("SBS", "SBS-ACS-004")],
    },
    RuleInfo {
        id: RuleId::IdpUserNotInIdp,
        version: 1,
        title: "Salesforce user not in IdP",
        severity: Severity::High,
        kind: FindingKind::Posture,
        description: "An active internal (Standard) Salesforce user has no account in the identity \
             provider under any corporate address (exact, alias, proxy address, configured domain \
             alias or sub-address), so IdP offboarding does not reach it. Portal, community and \
             guest users, inactive users and non-human identities are out of scope.",
        inputs: &["users", "idp"],
        remediation: "Link the user to an IdP identity or deactivate it.",
        steps: &[
            "Check whether the user's e-mail differs from the IdP address (typo, old domain); fix \
             it or add the domain as an alias in the audit configuration.",
            "If the person has left, deactivate the Salesforce user.",
        ],
        references: &[],
        controls: &[],
    },
    RuleInfo {
        id: RuleId::IdpStaleUser,
        version: 1,
        title: "Stale active Salesforce user: IdP account suspended or deprovisioned",
        severity: Severity::High,
        kind: FindingKind::Posture,
        description: "An active internal Salesforce user matches an IdP account that is \
             suspended or deprovisioned: the person was offboarded in the IdP but Salesforce \
             still lets them in (password, API or existing OAuth tokens). A frozen user is still \
             reported, as contained but not cleaned up.",
        inputs: &["users", "idp"],
        remediation: "Deactivate the Salesforce user to match the IdP.",
        steps: &[
            "Freeze the user immediately if the IdP account was deprovisioned for cause.",
            "Deactivate the Salesforce user and reassign the records they own.",
            "Automate deprovisioning (SCIM or the IdP's Salesforce connector).",
        ],
        references: &[],
        controls: &[],
    },
    RuleInfo {
        id: RuleId::IdpOauthUnknownUser,
        version: 1,
        title: "Connected app used by a user unknown to the IdP",
        severity: Severity::Medium,
        kind: FindingKind::Detection,
        description: "A connected app holds OAuth grants (OauthToken rows, folded per app and \
             user) of an active internal Salesforce user the identity provider does not know: \
             the app keeps API access that no IdP control can revoke.",
        inputs: &["users", "oauth_grants", "idp"],
        remediation: "Revoke the user's tokens for the app and resolve the identity gap.",
        steps: &[
            "Revoke the tokens (Setup > Connected Apps OAuth Usage, or the user's OAuth \
             Connected Apps list).",
            "Resolve the user's SF-IDP-001/002 finding.",
            "Set the app to \"Admin approved users are pre-authorized\".",
        ],
        references: &[],
        controls: &[],
    },
    RuleInfo {
        id: RuleId::PrvModifyAllData,
        version: 1,
        title: "Admin with ModifyAllData",
        severity: Severity::High,
        kind: FindingKind::Posture,
        description: "An active internal user holds Modify All Data and is not on the \
             expected-admins allow-list. Each finding names the grant path (profile, \
             permission set or permission set group) that confers it.",
        inputs: &["users", "permission_grants"],
        remediation: "Remove Modify All Data or add the user to the expected-admins list.",
        steps: &[
            "Confirm the user needs full write access to all data.",
            "If not, remove the permission from the named grant path (or unassign it).",
            "If so, add the user to the allow-list (--allow-admin) with a recorded justification.",
        ],
        references: &[],
        controls: &[("SBS", "SBS-ACS-004")],
    },
    RuleInfo {
        id: RuleId::PrvViewAllData,
        version: 1,
        title: "Admin with ViewAllData",
        severity: Severity::High,
        kind: FindingKind::Posture,
        description: "An active internal user holds View All Data and is not on the \
             expected-admins allow-list. Each finding names the grant path (profile, \
             permission set or permission set group) that confers it.",
        inputs: &["users", "permission_grants"],
        remediation: "Remove View All Data or add the user to the expected-admins list.",
        steps: &[
            "Confirm the user needs to read every record in the org.",
            "If not, remove the permission from the named grant path (or unassign it).",
            "If so, add the user to the allow-list (--allow-admin) with a recorded justification.",
        ],
        references: &[],
        controls: &[("SBS", "SBS-ACS-004")],
    },
    RuleInfo {
        id: RuleId::CfgSessionIp,
        version: 1,
        title: "Session IP restriction not enforced",
        severity: Severity::Medium,
        kind: FindingKind::Posture,
        description: "Sessions are not locked to the login IP (lockSessionsToIp is off) and \
             profile Login IP Ranges do not make up for it: either some admin profile has no \
             restricting range, or ranges are checked only at login \
             (enforceIpRangesEveryRequest is off), so a stolen session works from anywhere. Org \
             trusted IP ranges only skip device activation and never count as enforcement; a \
             0.0.0.0-255.255.255.255 range restricts nothing.",
        inputs: &["session_settings", "login_ip_ranges", "permission_grants"],
        remediation: "Lock sessions to the login IP, or enforce profile IP ranges on every request.",
        steps: &[
            "Setup > Session Settings: enable \"Lock sessions to the IP address from which they \
             originated\".",
            "Or add Login IP Ranges to every admin profile and enable \"Enforce login IP ranges \
             on every request\".",
        ],
        references: &[
            "https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_securitysettings.htm",
        ],
        controls: &[("NIST SP 800-53", "AC-10"), ("SBS", "SBS-AUTH-003")],
    },
    RuleInfo {
        id: RuleId::ExpBulkExport,
        version: 1,
        title: "Bulk data export in the window",
        severity: Severity::High,
        kind: FindingKind::Detection,
        description: "A bulk data export happened in the audit window: a Setup > Data Export \
             request (SetupAuditTrail Action = 'export'), or, where the org has Event Monitoring, \
             a Bulk API / Bulk API 2.0 query job or a report export (EventLogFile types BulkApi, \
             BulkApi2, ReportExport). Data Loader, Bulk API and report exports are visible only \
             in Event Monitoring logs: without them only the Data Export service is seen.",
        inputs: &["audit_trail", "event_log_exports"],
        remediation: "Confirm the export was expected and where the file went.",
        steps: &[
            "Ask the requester (and the Login-As delegate, if any) for the business reason.",
            "Check where the export file was downloaded and stored.",
            "Restrict \"Weekly Data Export\" and API bulk access to named people.",
        ],
        references: &[
            "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile_supportedeventtypes.htm",
        ],
        controls: &[],
    },
    RuleInfo {
        id: RuleId::ExpNonAdminExport,
        version: 1,
        title: "Data export by a non-admin",
        severity: Severity::Critical,
        kind: FindingKind::Detection,
        description: "A bulk data export in the window was made by, or through the session of, \
             a user without admin permissions. When SetupAuditTrail.DelegateUser is set an \
             admin acted as another user through Login-As, and both identities are judged. \
             Data Loader, Bulk API and report exports are visible only in Event Monitoring logs.",
        inputs: &[
            "audit_trail",
            "event_log_exports",
            "users",
            "permission_grants",
        ],
        remediation: "Investigate the export and remove export permissions from non-admins.",
        steps: &[
            "Treat it as a potential exfiltration: contact the user and their manager.",
            "Remove \"Weekly Data Export\" / API access granted outside the admin group.",
            "If a Login-As delegate was involved, review why they exported as another user.",
        ],
        references: &[],
        controls: &[],
    },
];

/// The admin definition, for reports.
pub fn admin_definition() -> &'static str {
    ADMIN_DEFINITION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_matches_the_fixed_table() {
        let table = [
            ("SF-IDP-001", Severity::Critical),
            ("SF-IDP-002", Severity::High),
            ("SF-IDP-003", Severity::High),
            ("SF-IDP-004", Severity::Medium),
            ("SF-PRV-001", Severity::High),
            ("SF-PRV-002", Severity::High),
            ("SF-CFG-001", Severity::Medium),
            ("SF-EXP-001", Severity::High),
            ("SF-EXP-002", Severity::Critical),
        ];
        for ((id, sev), info) in table.iter().zip(CATALOGUE.iter()) {
            assert_eq!(info.id.as_str(), *id);
            assert_eq!(info.severity, *sev);
            assert_eq!(info.id.info().id, info.id);
            assert_eq!(id.parse::<RuleId>(), Ok(info.id));
        }
    }

    #[test]
    fn export_rules_say_what_only_event_monitoring_sees() {
        for rule in [RuleId::ExpBulkExport, RuleId::ExpNonAdminExport] {
            let d = rule.info().description;
            assert!(d.contains("Data Loader, Bulk API and report exports are visible only"));
            assert!(d.contains("Event Monitoring"));
        }
    }

    #[test]
    fn the_catalogue_serialises_for_the_audit_rules_tool() {
        let v = serde_json::to_value(&CATALOGUE).unwrap();
        let rules = v.as_array().unwrap();
        assert_eq!(rules.len(), 9);
        assert_eq!(rules[0]["id"], "SF-IDP-001");
        assert_eq!(rules[0]["severity"], "critical");
        assert_eq!(rules[0]["kind"], "posture");
        assert_eq!(rules[7]["kind"], "detection");
        assert_eq!(rules[6]["controls"][0][1], "AC-10");
    }
}
