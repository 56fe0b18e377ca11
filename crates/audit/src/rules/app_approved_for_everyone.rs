//! SF-HYG-007 (extended): a connected app set to "Admin approved users are pre-authorized"
//! whose access is given, through profiles and permission sets (`SetupEntityAccess`), to most
//! of the org's people. Admin approval is meant to limit an app to the people who need it;
//! pre-authorizing nearly everyone keeps the setting's look and drops its point, and unlike
//! self-authorization nobody even sees a consent screen.
//!
//! "All users may self-authorize" apps are SF-HYG-003's when their refresh tokens never
//! expire; with expiring tokens they are Salesforce's default and not reported.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::{Ctx, Outcome, RuleInfo, fields, id15};
use crate::finding::{
    Confidence, Evidence, Finding, FindingKind, RelatedIdentity, RuleId, Severity, Subject,
    SubjectKind,
};
use crate::model::{AppAccess, ConnectedApp, GrantPath};

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::HygAppApprovedForEveryone,
    version: 1,
    title: "Admin-approved connected app pre-authorized for most users",
    severity: Severity::Medium,
    kind: FindingKind::Posture,
    description: "A connected app whose policy is \"Admin approved users are pre-authorized\" \
         (ConnectedApplication.OptionsAllowAdminApprovedUsersOnly = true) and whose access is \
         given (SetupEntityAccess, SetupEntityType = 'ConnectedApplication') through profiles \
         and permission sets to more than half of the active internal human users: admin \
         approval in name only. Holders are a profile's active users or a permission set's \
         active assignees. Self-authorized apps are SF-HYG-003's. Extended rule: off unless \
         selected.",
    inputs: &["users", "connected_apps", "app_access"],
    remediation: "Give the app to the people who use it: replace broad profiles in its \
         access list with a permission set assigned to them, and review who holds tokens.",
    steps: &[
        "Setup > Connected Apps > Manage Connected Apps > the app > Manage Profiles / Manage \
         Permission Sets: remove the profiles that cover whole departments.",
        "Create a permission set for the app and assign it to the users who need it (SBS-OAUTH-001).",
        "Record the app and its owner in the connected app inventory (SBS-OAUTH-002).",
    ],
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_setupentityaccess.htm",
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_connectedapplication.htm",
        "https://help.salesforce.com/s/articleView?id=xcloud.connected_app_manage_oauth.htm",
        "https://docs.securitybenchmark.org/controls-at-a-glance.html",
    ],
    controls: &[("SBS", "SBS-OAUTH-001")],
};

/// Who holds one access row, among the people counted.
fn holders<'a>(
    row: &AppAccess,
    people_by_profile: &HashMap<&str, Vec<&'a str>>,
    people: &HashSet<&'a str>,
) -> Vec<&'a str> {
    match row.profile_id.as_deref() {
        Some(profile) => people_by_profile
            .get(id15(profile))
            .cloned()
            .unwrap_or_default(),
        None => row
            .assignee_ids
            .iter()
            .filter_map(|id| people.get(id15(id)).copied())
            .collect(),
    }
}

/// More than half: "most".
fn covers_most(covered: usize, people: usize) -> bool {
    people > 0 && covered * 2 > people
}

pub(super) fn evaluate(ctx: &Ctx<'_>, out: &mut Outcome) {
    let rule = RuleId::HygAppApprovedForEveryone;
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
    let Some(access) = &ctx.snapshot.app_access else {
        out.skip(
            rule,
            "SetupEntityAccess could not be read (needs View Setup and Configuration)",
        );
        return;
    };
    let mut people: HashSet<&str> = HashSet::new();
    let mut people_by_profile: HashMap<&str, Vec<&str>> = HashMap::new();
    for user in ctx
        .snapshot
        .users
        .iter()
        .filter(|u| u.is_standard_active() && !u.is_non_human())
    {
        people.insert(id15(&user.id));
        if let Some(profile) = user.profile_id.as_deref() {
            people_by_profile
                .entry(id15(profile))
                .or_default()
                .push(id15(&user.id));
        }
    }
    let mut rows_by_app: HashMap<&str, Vec<&AppAccess>> = HashMap::new();
    for row in access {
        rows_by_app.entry(id15(&row.app_id)).or_default().push(row);
    }
    for app in apps.iter().filter(|a| a.admin_approved_users_only) {
        let rows = rows_by_app.remove(id15(&app.id)).unwrap_or_default();
        let mut covered: HashSet<&str> = HashSet::new();
        let mut paths = Vec::new();
        for row in &rows {
            let held = holders(row, &people_by_profile, &people);
            paths.push((*row, held.len()));
            covered.extend(held);
        }
        if covers_most(covered.len(), people.len()) {
            out.findings
                .push(finding(ctx, app, &paths, covered.len(), people.len()));
        }
    }
}

fn finding(
    ctx: &Ctx<'_>,
    app: &ConnectedApp,
    paths: &[(&AppAccess, usize)],
    covered: usize,
    people: usize,
) -> Finding {
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
        status: Some("admin-approved".into()),
    }];
    let mut evidence = vec![Evidence {
        source: "salesforce.ConnectedApplication".into(),
        record_id: Some(app.id.clone()),
        fields: fields([
            ("Name", json!(app.name)),
            ("OptionsAllowAdminApprovedUsersOnly", json!(true)),
            ("pre_authorized_users", json!(covered)),
            ("active_internal_users", json!(people)),
        ]),
    }];
    evidence.extend(paths.iter().map(|(row, held)| Evidence {
        source: "salesforce.SetupEntityAccess".into(),
        record_id: None,
        fields: fields([
            ("ParentId", json!(row.permission_set_id)),
            ("SetupEntityId", json!(row.app_id)),
            ("GrantPath", json!(row.path)),
            ("Source", json!(row.source_name)),
            ("holders", json!(held)),
        ]),
    }));
    let mut sources: Vec<(usize, String)> = paths
        .iter()
        .filter(|(_, held)| *held > 0)
        .map(|(row, held)| {
            let kind = match row.path {
                GrantPath::Profile => "profile",
                _ => "permission set",
            };
            (*held, format!("{kind} \"{}\"", row.source_name))
        })
        .collect();
    // The widest grants first: they are what to narrow.
    sources.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let through: Vec<String> = sources.into_iter().map(|(_, s)| s).collect();
    ctx.finding(
        RuleId::HygAppApprovedForEveryone,
        format!(
            "{}: admin-approved, yet pre-authorized for {covered} of {people} active users \
             ({}%) through {}",
            app.name,
            covered * 100 / people.max(1),
            through.join(", ")
        ),
        Confidence::High,
        subject,
        (related, evidence),
        (now, now),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_means_more_than_half() {
        assert!(!covers_most(0, 0));
        assert!(!covers_most(5, 10));
        assert!(covers_most(6, 10));
        assert!(covers_most(1, 1));
    }

    #[test]
    fn a_profile_row_is_held_by_its_people_and_a_set_row_by_its_assignees() {
        let people: HashSet<&str> = ["005000000000001", "005000000000002"].into();
        let by_profile: HashMap<&str, Vec<&str>> =
            HashMap::from([("00e000000000001", vec!["005000000000001"])]);
        let profile_row = AppAccess {
            app_id: "0H4000000000001AAA".into(),
            permission_set_id: "0PS000000000001AAA".into(),
            source_name: "Sales User".into(),
            path: GrantPath::Profile,
            profile_id: Some("00e000000000001AAA".into()),
            assignee_ids: Vec::new(),
        };
        assert_eq!(
            holders(&profile_row, &by_profile, &people),
            ["005000000000001"]
        );
        // Assignees outside the people counted (integrations, inactive) are not holders.
        let set_row = AppAccess {
            path: GrantPath::PermissionSet,
            profile_id: None,
            assignee_ids: vec!["005000000000002AAA".into(), "005000000000009AAA".into()],
            ..profile_row
        };
        assert_eq!(holders(&set_row, &by_profile, &people), ["005000000000002"]);
    }
}
