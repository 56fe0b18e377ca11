//! SF-HYG-003 (extended): a connected app that any user may authorize ("All users may
//! self-authorize") and whose refresh tokens are valid until revoked, with live grants. One
//! phished consent gives the app's holder a refresh token that outlives password resets and
//! MFA, for as long as nobody revokes it; the Salesloft-Drift campaign used exactly such
//! grants. An app restricted to admin-approved users, or whose tokens expire, is not reported.
//!
//! Scopes are not on the SOQL object (only the Metadata API's `oauthConfig.scopes` has them),
//! so `full` cannot be told from narrower scopes here; every `OauthToken` row is a refresh
//! token, so a grant is by construction one holding `refresh_token`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{Ctx, Outcome, RuleInfo, fields, id15};
use crate::finding::{
    Confidence, Evidence, Finding, FindingKind, RelatedIdentity, RuleId, Severity, Subject,
    SubjectKind,
};
use crate::model::{ConnectedApp, OauthGrant};

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::HygOpenAppLastingTokens,
    version: 1,
    title: "Self-authorized connected app with refresh tokens valid until revoked",
    severity: Severity::High,
    kind: FindingKind::Posture,
    description: "A connected app lets every user authorize it \
         (ConnectedApplication.OptionsAllowAdminApprovedUsersOnly = false) and its refresh \
         tokens never expire (RefreshTokenValidityPeriod empty: \"Refresh token is valid until \
         revoked\"), and active users hold grants for it (OauthToken, joined by AppMenuItemId, \
         else by name). OAuth scopes are not readable through SOQL, so the finding does not \
         say whether the app has the full scope. Extended rule: off unless selected.",
    inputs: &["users", "oauth_grants", "connected_apps"],
    remediation: "Make the app admin-approved (\"Admin approved users are pre-authorized\") \
         and give it a refresh token policy that expires, then revoke the grants nobody needs.",
    steps: &[
        "Setup > Connected Apps > Manage Connected Apps > the app > Edit Policies.",
        "Permitted Users: \"Admin approved users are pre-authorized\"; grant access through \
         the profiles or permission sets of the people who need it.",
        "Refresh Token Policy: expire after a period, or when unused for a period (90 days or \
         less).",
        "Revoke the existing grants of users who should not hold them (Connected Apps OAuth \
         Usage).",
    ],
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_connectedapplication.htm",
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_appmenuitem.htm",
        "https://help.salesforce.com/s/articleView?id=xcloud.connected_app_manage_oauth.htm",
        "https://github.com/hardisgroupcom/sfdx-hardis/blob/main/docs/hardis/org/diagnose/unsecure-connected-apps.md",
        "https://docs.netskope.com/iaas_out/salesforce_rules.html",
    ],
    controls: &[],
};

/// What one open app's live grants add up to.
#[derive(Default)]
struct Usage<'a> {
    tokens: usize,
    holders: HashSet<&'a str>,
    admin_holders: HashSet<&'a str>,
    use_count: u64,
    first_created: Option<DateTime<Utc>>,
    last_used: Option<DateTime<Utc>>,
}

/// The app a grant belongs to: by `AppMenuItemId` when both sides have it, else by name.
struct AppIndex<'a> {
    by_menu_item: HashMap<&'a str, &'a ConnectedApp>,
    by_name: HashMap<String, &'a ConnectedApp>,
}

impl<'a> AppIndex<'a> {
    fn new(apps: &'a [ConnectedApp]) -> Self {
        let mut by_menu_item = HashMap::new();
        let mut by_name = HashMap::new();
        for app in apps {
            for item in &app.app_menu_item_ids {
                by_menu_item.insert(id15(item), app);
            }
            by_name.insert(app.name.trim().to_lowercase(), app);
        }
        AppIndex {
            by_menu_item,
            by_name,
        }
    }

    fn app_of(&self, grant: &OauthGrant) -> Option<&'a ConnectedApp> {
        grant
            .app_menu_item_id
            .as_deref()
            .and_then(|item| self.by_menu_item.get(id15(item)).copied())
            .or_else(|| {
                self.by_name
                    .get(&grant.app_name.trim().to_lowercase())
                    .copied()
            })
    }
}

fn is_open_and_lasting(app: &ConnectedApp) -> bool {
    !app.admin_approved_users_only && app.refresh_tokens_never_expire()
}

pub(super) fn evaluate(ctx: &Ctx<'_>, out: &mut Outcome) {
    let rule = RuleId::HygOpenAppLastingTokens;
    if !ctx.config.enabled(rule) {
        return;
    }
    let Some(apps) = &ctx.snapshot.connected_apps else {
        out.skip(
            rule,
            "ConnectedApplication could not be read (needs View Setup and Configuration)",
        );
        return;
    };
    let Some(grants) = &ctx.snapshot.oauth_grants else {
        out.skip(
            rule,
            "OauthToken could not be read (needs Customize Application)",
        );
        return;
    };
    let index = AppIndex::new(apps);
    let mut usage: HashMap<&str, (&ConnectedApp, Usage)> = HashMap::new();
    for grant in grants {
        let Some(app) = index.app_of(grant).filter(|a| is_open_and_lasting(a)) else {
            continue;
        };
        // A deactivated user's tokens stop working, and users the collector did not read
        // (inactive, external) cannot be judged: only active users' grants count.
        let Some(user) = ctx.user(&grant.user_id).filter(|u| u.is_active) else {
            continue;
        };
        let entry = &mut usage
            .entry(app.id.as_str())
            .or_insert_with(|| (app, Usage::default()))
            .1;
        entry.tokens += 1;
        entry.holders.insert(id15(&user.id));
        if ctx.is_admin(user) {
            entry.admin_holders.insert(id15(&user.id));
        }
        entry.use_count += grant.use_count;
        entry.first_created = match (entry.first_created, grant.created_date) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        entry.last_used = entry.last_used.max(grant.last_used_date);
    }
    for (app, used) in usage.into_values() {
        out.findings.push(finding(ctx, app, &used));
    }
}

fn finding(ctx: &Ctx<'_>, app: &ConnectedApp, used: &Usage<'_>) -> Finding {
    let now = ctx.config.now;
    let subject = Subject {
        kind: SubjectKind::ConnectedApp,
        id: app.id.clone(),
        display: app.name.clone(),
        email: None,
        username: None,
    };
    let related = vec![RelatedIdentity {
        role: "connected_app".into(),
        source: "salesforce".into(),
        id: Some(app.id.clone()),
        display: app.name.clone(),
        email: None,
        status: Some("self-authorized".into()),
    }];
    let evidence = vec![
        Evidence {
            source: "salesforce.ConnectedApplication".into(),
            record_id: Some(app.id.clone()),
            fields: fields([
                ("Name", json!(app.name)),
                (
                    "OptionsAllowAdminApprovedUsersOnly",
                    json!(app.admin_approved_users_only),
                ),
                (
                    "RefreshTokenValidityPeriod",
                    json!("empty: valid until revoked"),
                ),
                ("AppMenuItemIds", json!(app.app_menu_item_ids)),
            ]),
        },
        Evidence {
            source: "salesforce.OauthToken".into(),
            // OauthToken.Id is always null: the grants are summed per app.
            record_id: None,
            fields: fields([
                ("tokens", json!(used.tokens)),
                ("holders", json!(used.holders.len())),
                ("admin_holders", json!(used.admin_holders.len())),
                ("UseCount", json!(used.use_count)),
                (
                    "LastUsedDate",
                    json!(used.last_used.map(|d| d.to_rfc3339())),
                ),
            ]),
        },
    ];
    let admins = match used.admin_holders.len() {
        0 => String::new(),
        n => format!(", {n} of them admin(s)"),
    };
    ctx.finding(
        RuleId::HygOpenAppLastingTokens,
        format!(
            "{}: any user may authorize it and its refresh tokens never expire; {} active \
             user(s) hold {} grant(s){admins}",
            app.name,
            used.holders.len(),
            used.tokens
        ),
        Confidence::High,
        subject,
        (related, evidence),
        (
            used.first_created.unwrap_or(now),
            used.last_used.unwrap_or(now),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str, name: &str, admin_only: bool, period: Option<i64>) -> ConnectedApp {
        ConnectedApp {
            id: id.into(),
            name: name.into(),
            admin_approved_users_only: admin_only,
            refresh_token_validity_period: period,
            refresh_token_expires_when_idle: false,
            app_menu_item_ids: vec![format!("0DS{}", &id[3..])],
        }
    }

    #[test]
    fn grants_join_by_menu_item_before_name() {
        let apps = [
            app("0H4000000000001AAA", "Workbench", false, None),
            app("0H4000000000002AAA", "Workbench", true, None),
        ];
        let index = AppIndex::new(&apps);
        let by_item = OauthGrant {
            app_name: "Workbench".into(),
            app_menu_item_id: Some("0DS000000000002AAA".into()),
            ..OauthGrant::default()
        };
        assert_eq!(
            index.app_of(&by_item).map(|a| a.id.as_str()),
            Some("0H4000000000002AAA")
        );
        let by_name = OauthGrant {
            app_name: " workbench ".into(),
            ..OauthGrant::default()
        };
        assert!(index.app_of(&by_name).is_some());
    }

    #[test]
    fn only_open_apps_with_lasting_tokens_qualify() {
        assert!(is_open_and_lasting(&app(
            "0H4000000000001AAA",
            "a",
            false,
            None
        )));
        assert!(!is_open_and_lasting(&app(
            "0H4000000000001AAA",
            "a",
            true,
            None
        )));
        assert!(!is_open_and_lasting(&app(
            "0H4000000000001AAA",
            "a",
            false,
            Some(90)
        )));
        // "Immediately expire refresh token" is a period of zero, not "until revoked".
        assert!(!is_open_and_lasting(&app(
            "0H4000000000001AAA",
            "a",
            false,
            Some(0)
        )));
    }
}
