//! SF-HYG-001 (extended): an active internal user who has not logged in for the dormant
//! period. Nobody notices when a dormant account is used again, its password or tokens may
//! have leaked since, and it usually belongs to someone who changed role or left without the
//! IdP being told (a gap SF-IDP-003 cannot see when the IdP account is still active).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Ctx, Outcome, RuleInfo, days_since, user_evidence, user_subject};
use crate::finding::{Confidence, Finding, FindingKind, RuleId, Severity};
use crate::model::SfUser;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::HygDormantUser,
    version: 1,
    title: "Dormant active user: no login in the dormant period",
    severity: Severity::Medium,
    kind: FindingKind::Posture,
    description: "An active internal human Salesforce user whose User.LastLoginDate is \
         older than the dormant period (default 90 days, --dormant-days), or who never logged \
         in and was created before it. Integration users are judged by their OAuth tokens \
         instead (SF-HYG-002). Extended rule: off unless selected.",
    inputs: &["users"],
    remediation: "Deactivate the user, or confirm with their manager that the account is \
         still needed.",
    steps: &[
        "Ask the user's manager whether the account is still needed.",
        "Deactivate it if not (freeze first if it holds admin permissions), and reassign the \
         records it owns.",
        "Schedule this check; Salesforce does not deactivate unused accounts by itself.",
    ],
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_user.htm",
        "https://docs.paloaltonetworks.com/saas-security/saas-security-admin/saas-security-sspm/assess-posture-security/assess-identity-security/view-service-accounts",
        "https://github.com/hardisgroupcom/sfdx-hardis/blob/main/docs/hardis/org/diagnose/unusedusers.md",
    ],
    controls: &[],
};

/// `Some(last login)` when the user is dormant (`Some(None)`: never logged in); `None` when
/// not dormant or not judgeable.
fn dormancy(user: &SfUser, since: DateTime<Utc>) -> Option<Option<DateTime<Utc>>> {
    match (user.last_login_date, user.created_date) {
        (Some(login), _) if login < since => Some(Some(login)),
        (None, Some(created)) if created < since => Some(None),
        _ => None,
    }
}

pub(super) fn evaluate(ctx: &Ctx<'_>, out: &mut Outcome) {
    if !ctx.config.enabled(RuleId::HygDormantUser) {
        return;
    }
    let (now, since) = (ctx.config.now, ctx.config.dormant_since());
    let mut unjudged = 0usize;
    for user in ctx
        .snapshot
        .users
        .iter()
        .filter(|u| u.is_standard_active() && !u.is_non_human())
    {
        if user.last_login_date.is_none() && user.created_date.is_none() {
            unjudged += 1;
            continue;
        }
        let Some(last_login) = dormancy(user, since) else {
            continue;
        };
        let mut title = match last_login {
            Some(login) => format!(
                "{} has not logged in for {} days",
                user.username,
                days_since(login, now)
            ),
            None => format!(
                "{} has never logged in ({} days since the account was created)",
                user.username,
                user.created_date.map_or(0, |c| days_since(c, now))
            ),
        };
        if let Some(perms) = ctx.perms(user).filter(|p| p.is_admin()) {
            title.push_str(&format!(" and holds {}", perms.names().join(", ")));
        }
        if user.is_frozen == Some(true) {
            title.push_str(" (frozen)");
        }
        out.findings.push(finding(ctx, user, title));
    }
    if unjudged > 0 {
        out.notes.push(format!(
            "SF-HYG-001: {unjudged} active user(s) have neither LastLoginDate nor CreatedDate \
             in the snapshot, so whether they are dormant was not judged."
        ));
    }
}

fn finding(ctx: &Ctx<'_>, user: &SfUser, title: String) -> Finding {
    let mut evidence = user_evidence(user);
    if let Some(created) = user.created_date {
        evidence
            .fields
            .insert("CreatedDate".into(), json!(created.to_rfc3339()));
    }
    evidence
        .fields
        .insert("dormant_days".into(), json!(ctx.config.dormant_days));
    let now = ctx.config.now;
    ctx.finding(
        RuleId::HygDormantUser,
        title,
        Confidence::High,
        user_subject(user),
        (Vec::new(), vec![evidence]),
        (now, now),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(days_ago: i64) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap() - Duration::days(days_ago))
    }

    #[test]
    fn dormant_means_an_old_login_or_an_old_account_never_used() {
        let since = at(90).unwrap();
        let user = |login, created| SfUser {
            last_login_date: login,
            created_date: created,
            ..SfUser::default()
        };
        assert_eq!(dormancy(&user(at(91), at(400)), since), Some(at(91)));
        assert_eq!(dormancy(&user(at(89), at(400)), since), None);
        assert_eq!(dormancy(&user(None, at(91)), since), Some(None));
        // A new account nobody used yet is not dormant.
        assert_eq!(dormancy(&user(None, at(10)), since), None);
        assert_eq!(dormancy(&user(None, None), since), None);
        // The login decides even when the account is old.
        assert_eq!(dormancy(&user(at(5), at(900)), since), None);
    }
}
