//! SF-IDP-001: an admin Salesforce user the IdP does not know, so IdP offboarding can never
//! remove the most dangerous access.

use super::{AdminPerms, Ctx, RuleInfo, grant_evidence, identity_finding};
use crate::finding::{Finding, FindingKind, RuleId, Severity};
use crate::matching::IdpMatch;
use crate::model::SfUser;

pub(crate) const INFO: RuleInfo = RuleInfo {
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
    references: &["https://help.salesforce.com/s/articleView?id=platform.deactivating_users.htm"],
    controls: &[("SBS", "SBS-ACS-004")],
};

pub(super) fn finding(
    ctx: &Ctx<'_>,
    user: &SfUser,
    m: &IdpMatch,
    perms: Option<&AdminPerms<'_>>,
) -> Finding {
    let title = format!(
        "Admin {} ({}) has no account in {}",
        user.username,
        perms.map(AdminPerms::names).unwrap_or_default().join(", "),
        ctx.idp.kind.display_name()
    );
    // The grants are the point of this finding: they say what the unknown person can do.
    let grants = perms
        .map(|p| p.grants.iter().map(|g| grant_evidence(g)).collect())
        .unwrap_or_default();
    identity_finding(ctx, RuleId::IdpAdminNotInIdp, user, m, title, grants)
}
