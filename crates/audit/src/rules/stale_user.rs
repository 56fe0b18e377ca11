//! SF-IDP-003: an active Salesforce user whose IdP account is suspended or deprovisioned: the
//! person was offboarded in the IdP and Salesforce still lets them in.

use super::{Ctx, RuleInfo, identity_finding};
use crate::finding::{Finding, FindingKind, RuleId, Severity};
use crate::matching::IdpMatch;
use crate::model::SfUser;

pub(crate) const INFO: RuleInfo = RuleInfo {
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
    references: &[
        "https://help.salesforce.com/s/articleView?id=platform.deactivating_users.htm",
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_userlogin.htm",
    ],
    controls: &[],
};

pub(super) fn finding(ctx: &Ctx<'_>, user: &SfUser, m: &IdpMatch) -> Finding {
    let mut title = format!(
        "{} is active in Salesforce but {} in {}",
        user.username,
        m.status,
        ctx.idp.kind.display_name()
    );
    // A frozen user cannot log in, but is still reported: freezing contains, it does not clean
    // up.
    if user.is_frozen == Some(true) {
        title.push_str(" (frozen: contained, not cleaned up)");
    }
    identity_finding(ctx, RuleId::IdpStaleUser, user, m, title, Vec::new())
}
