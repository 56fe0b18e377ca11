//! SF-PRV-002: View All Data held outside the expected-admins allow-list.

use super::{Ctx, Outcome, RuleInfo, privilege_findings};
use crate::finding::{FindingKind, RuleId, Severity};
use crate::report::AdminEntry;

pub(crate) const INFO: RuleInfo = RuleInfo {
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
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.224.0.sfFieldRef.meta/sfFieldRef/salesforce_field_reference_PermissionSet.htm",
        "https://docs.securitybenchmark.org/controls-at-a-glance.html",
    ],
    controls: &[("SBS", "SBS-ACS-004")],
};

pub(super) fn evaluate(ctx: &Ctx<'_>, admins: &[AdminEntry], out: &mut Outcome) {
    privilege_findings(
        ctx,
        admins,
        RuleId::PrvViewAllData,
        "View All Data",
        |g| g.view_all_data,
        out,
    );
}
