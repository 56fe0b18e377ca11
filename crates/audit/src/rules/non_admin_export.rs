//! SF-EXP-002: a bulk data export made by, or through the session of, someone without admin
//! permissions.

use super::{Ctx, ExportCase, RuleInfo};
use crate::finding::{Confidence, Finding, FindingKind, RuleId, Severity};

pub(crate) const INFO: RuleInfo = RuleInfo {
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
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_setupaudittrail.htm",
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile_supportedeventtypes.htm",
    ],
    controls: &[],
};

/// `None` when the actor and the Login-As delegate (if any) are both admins.
pub(super) fn finding(ctx: &Ctx<'_>, case: ExportCase<'_>) -> Option<Finding> {
    let mut who = Vec::new();
    if !case.actor_admin {
        who.push(format!("{} is not an admin", case.actor_label));
    }
    if let (Some(false), Some(name)) = (case.delegate_admin, case.delegate) {
        who.push(format!("delegate {name} is not an admin"));
    }
    if who.is_empty() {
        return None;
    }
    Some(ctx.finding(
        RuleId::ExpNonAdminExport,
        format!("{} by {}: {}", case.what, case.by, who.join("; ")),
        // An identity missing from the snapshot is judged a non-admin, with less certainty.
        if case.resolved {
            Confidence::High
        } else {
            Confidence::Medium
        },
        case.subject,
        (case.related, case.evidence),
        (case.when, case.when),
    ))
}
