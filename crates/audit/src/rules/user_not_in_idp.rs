//! SF-IDP-002: an active internal Salesforce user the IdP does not know, so IdP offboarding
//! does not reach it.

use super::{Ctx, RuleInfo, identity_finding};
use crate::finding::{Finding, FindingKind, RuleId, Severity};
use crate::matching::IdpMatch;
use crate::model::SfUser;

pub(crate) const INFO: RuleInfo = RuleInfo {
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
    references: &[
        "https://help.salesforce.com/s/articleView?id=platform.deactivating_users.htm",
        "https://docs.securitybenchmark.org/controls-at-a-glance.html",
    ],
    controls: &[],
};

pub(super) fn finding(ctx: &Ctx<'_>, user: &SfUser, m: &IdpMatch) -> Finding {
    let title = format!(
        "{} has no account in {}",
        user.username,
        ctx.idp.kind.display_name()
    );
    identity_finding(ctx, RuleId::IdpUserNotInIdp, user, m, title, Vec::new())
}
