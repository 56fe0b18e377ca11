//! SF-PRV-001: Modify All Data held outside the expected-admins allow-list.

use super::{Ctx, Outcome, RuleInfo, privilege_findings};
use crate::finding::{FindingKind, RuleId, Severity};
use crate::report::AdminEntry;

pub(crate) const INFO: RuleInfo = RuleInfo {
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
        RuleId::PrvModifyAllData,
        "Modify All Data",
        |g| g.modify_all_data,
        out,
    );
}
