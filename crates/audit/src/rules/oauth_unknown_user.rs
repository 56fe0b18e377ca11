//! SF-IDP-004: a connected app holding OAuth grants of a user the IdP does not know: the app
//! keeps API access no IdP control can revoke.

use std::collections::HashMap;

use serde_json::json;

use super::{
    Ctx, Outcome, People, RuleInfo, fields, id15, match_confidence, match_evidence,
    salesforce_related,
};
use crate::finding::{
    Evidence, Finding, FindingKind, RelatedIdentity, RuleId, Severity, Subject, SubjectKind,
};
use crate::matching::IdpMatch;
use crate::model::{OauthGrant, SfUser};

pub(crate) const INFO: RuleInfo = RuleInfo {
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
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_oauthtoken.htm",
    ],
    controls: &[],
};

/// SF-IDP-004, folding tokens per app and user; also lists the apps each non-human identity
/// uses.
pub(super) fn evaluate(ctx: &Ctx<'_>, people: &mut People<'_>, out: &mut Outcome) {
    let Some(grants) = &ctx.snapshot.oauth_grants else {
        out.skip(
            RuleId::IdpOauthUnknownUser,
            "OauthToken could not be read (needs Customize Application)",
        );
        return;
    };
    let nhi_ids: HashMap<String, usize> = people
        .non_human
        .iter()
        .enumerate()
        .map(|(i, n)| (id15(&n.user_id).to_owned(), i))
        .collect();
    let mut nhi_apps: Vec<Vec<&str>> = vec![Vec::new(); people.non_human.len()];
    let mut folded: HashMap<(&str, &str), Vec<&OauthGrant>> = HashMap::new();
    for g in grants {
        let uid = id15(&g.user_id);
        if let Some(&i) = nhi_ids.get(uid) {
            nhi_apps[i].push(g.app_name.as_str());
        }
        if people.unknown_to_idp.contains_key(uid) {
            folded
                .entry((g.app_name.as_str(), uid))
                .or_default()
                .push(g);
        }
    }
    for (nhi, mut apps) in people.non_human.iter_mut().zip(nhi_apps) {
        apps.sort_unstable();
        apps.dedup();
        nhi.connected_apps = apps.into_iter().map(str::to_owned).collect();
    }
    if ctx.config.enabled(RuleId::IdpOauthUnknownUser) {
        for ((app, uid), tokens) in folded {
            if let Some((user, m)) = people.unknown_to_idp.get(uid) {
                out.findings.push(oauth_finding(ctx, app, user, m, &tokens));
            }
        }
    }
}

fn oauth_finding(
    ctx: &Ctx<'_>,
    app: &str,
    user: &SfUser,
    m: &IdpMatch,
    tokens: &[&OauthGrant],
) -> Finding {
    let use_count: u64 = tokens.iter().map(|t| t.use_count).sum();
    let last_used = tokens.iter().filter_map(|t| t.last_used_date).max();
    let created = tokens.iter().filter_map(|t| t.created_date).min();
    let now = ctx.config.now;
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
        salesforce_related("token_owner", user, false),
    ];
    let evidence = vec![
        Evidence {
            source: "salesforce.OauthToken".into(),
            // OauthToken.Id is always null: the key is app and user.
            record_id: None,
            fields: fields([
                ("AppName", json!(app)),
                ("UserId", json!(user.id)),
                ("tokens", json!(tokens.len())),
                ("UseCount", json!(use_count)),
                ("LastUsedDate", json!(last_used.map(|d| d.to_rfc3339()))),
                ("CreatedDate", json!(created.map(|d| d.to_rfc3339()))),
            ]),
        },
        match_evidence(ctx.idp.kind.as_str(), m, ctx.idp),
    ];
    let mut f = ctx.finding(
        RuleId::IdpOauthUnknownUser,
        format!(
            "{app} holds {} OAuth grant(s) of {}, unknown to {}",
            tokens.len(),
            user.username,
            ctx.idp.kind.display_name()
        ),
        match_confidence(m),
        subject,
        (related, evidence),
        (created.unwrap_or(now), last_used.unwrap_or(now)),
    );
    f.match_method = Some(m.method);
    f.idp_source = Some(ctx.idp.kind.as_str().to_owned());
    f
}
