//! SF-HYG-002 (extended): an integration (non-human) user's OAuth grants for a connected app,
//! none used in the dormant period. The integration has stopped, but its refresh tokens still
//! work for whoever holds them, and nobody watches an integration that nobody runs.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Ctx, Outcome, RuleInfo, days_since, fields, id15, salesforce_related};
use crate::finding::{
    Confidence, Evidence, Finding, FindingKind, RelatedIdentity, RuleId, Severity, Subject,
    SubjectKind,
};
use crate::model::{OauthGrant, SfUser};

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::HygUnusedIntegrationTokens,
    version: 1,
    title: "Integration user's OAuth grants unused in the dormant period",
    severity: Severity::Medium,
    kind: FindingKind::Posture,
    description: "An active integration user (Salesforce Integration licence or API only) \
         holds OAuth grants for a connected app (OauthToken rows, folded per app and user) \
         none of which was used in the dormant period (default 90 days, --dormant-days): \
         OauthToken.LastUsedDate, or CreatedDate for a grant never used. Extended rule: off \
         unless selected.",
    inputs: &["users", "oauth_grants"],
    remediation: "Revoke the app's tokens for the integration user, and deactivate the user \
         if the integration is retired.",
    steps: &[
        "Confirm with the integration's owner that it no longer runs.",
        "Revoke the tokens (Setup > Connected Apps OAuth Usage, or the user's OAuth Connected \
         Apps list).",
        "Deactivate the integration user if nothing else uses it; otherwise set the app's \
         refresh token policy to expire after inactivity.",
    ],
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_oauthtoken.htm",
        "https://help.salesforce.com/s/articleView?id=sf.connected_app_manage_oauth.htm",
        "https://github.com/hardisgroupcom/sfdx-hardis/blob/main/docs/hardis/org/diagnose/unused-connected-apps.md",
    ],
    controls: &[],
};

/// When a grant was last of use: its last use, or its creation if never used.
fn last_activity(grant: &OauthGrant) -> Option<DateTime<Utc>> {
    grant.last_used_date.or(grant.created_date)
}

/// Every grant idle since before `since`; a grant with no dates at all is not judged idle.
fn all_idle(grants: &[&OauthGrant], since: DateTime<Utc>) -> bool {
    grants
        .iter()
        .all(|g| last_activity(g).is_some_and(|at| at < since))
}

pub(super) fn evaluate(ctx: &Ctx<'_>, out: &mut Outcome) {
    let rule = RuleId::HygUnusedIntegrationTokens;
    if !ctx.config.enabled(rule) {
        return;
    }
    let Some(grants) = &ctx.snapshot.oauth_grants else {
        out.skip(
            rule,
            "OauthToken could not be read (needs Customize Application)",
        );
        return;
    };
    let mut folded: HashMap<(&str, &str), (&SfUser, Vec<&OauthGrant>)> = HashMap::new();
    for g in grants {
        let Some(user) = ctx
            .user(&g.user_id)
            .filter(|u| u.is_standard_active() && u.is_non_human())
        else {
            continue;
        };
        folded
            .entry((g.app_name.as_str(), id15(&user.id)))
            .or_insert_with(|| (user, Vec::new()))
            .1
            .push(g);
    }
    let since = ctx.config.dormant_since();
    for ((app, _), (user, tokens)) in folded {
        if all_idle(&tokens, since) {
            out.findings.push(finding(ctx, app, user, &tokens));
        }
    }
}

fn finding(ctx: &Ctx<'_>, app: &str, user: &SfUser, tokens: &[&OauthGrant]) -> Finding {
    let now = ctx.config.now;
    let use_count: u64 = tokens.iter().map(|t| t.use_count).sum();
    let last_used = tokens.iter().filter_map(|t| t.last_used_date).max();
    let last_activity = tokens.iter().filter_map(|t| last_activity(t)).max();
    let created = tokens.iter().filter_map(|t| t.created_date).min();
    let idle_days = last_activity.map_or(0, |at| days_since(at, now));
    let subject = Subject {
        kind: SubjectKind::OauthGrant,
        id: format!("{app}|{}", id15(&user.id)),
        display: format!("{app} × {}", user.username),
        email: Some(user.email.clone()).filter(|e| !e.is_empty()),
        username: Some(user.username.clone()),
    };
    let related = vec![
        RelatedIdentity {
            role: "connected_app".into(),
            source: "salesforce".into(),
            id: None,
            display: app.to_owned(),
            email: None,
            status: None,
        },
        salesforce_related("token_owner", user, ctx.is_admin(user)),
    ];
    let evidence = vec![Evidence {
        source: "salesforce.OauthToken".into(),
        // OauthToken.Id is always null: the key is app and user.
        record_id: None,
        fields: fields([
            ("AppName", json!(app)),
            ("UserId", json!(user.id)),
            ("License", json!(user.license_name)),
            ("tokens", json!(tokens.len())),
            ("UseCount", json!(use_count)),
            ("LastUsedDate", json!(last_used.map(|d| d.to_rfc3339()))),
            ("CreatedDate", json!(created.map(|d| d.to_rfc3339()))),
            ("dormant_days", json!(ctx.config.dormant_days)),
        ]),
    }];
    ctx.finding(
        RuleId::HygUnusedIntegrationTokens,
        format!(
            "{app} holds {} OAuth grant(s) of integration user {}, unused for {idle_days} days",
            tokens.len(),
            user.username
        ),
        Confidence::High,
        subject,
        (related, evidence),
        (created.unwrap_or(now), last_activity.unwrap_or(now)),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn grant(last_used_days: Option<i64>, created_days: Option<i64>) -> OauthGrant {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        OauthGrant {
            app_name: "MuleSoft Anypoint".into(),
            user_id: "005000000000001AAA".into(),
            app_menu_item_id: None,
            use_count: 1,
            last_used_date: last_used_days.map(|d| now - Duration::days(d)),
            created_date: created_days.map(|d| now - Duration::days(d)),
        }
    }

    #[test]
    fn a_grant_used_recently_keeps_the_app_in_use() {
        let since = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap() - Duration::days(90);
        let (old, recent) = (grant(Some(200), Some(400)), grant(Some(3), Some(400)));
        assert!(all_idle(&[&old], since));
        assert!(!all_idle(&[&old, &recent], since));
        // Never used: idle once it is older than the period, not before.
        assert!(all_idle(&[&grant(None, Some(120))], since));
        assert!(!all_idle(&[&grant(None, Some(30))], since));
        // No dates at all: not judged idle.
        assert!(!all_idle(&[&grant(None, None)], since));
    }
}
