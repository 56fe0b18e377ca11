//! SF-HYG-006 (extended): a profile whose users need little but which grants much.
//!
//! - A **guest** profile (`UserType = 'Guest'`) is what anyone on the internet gets on a site
//!   or Experience Cloud page, without logging in. Read access to an object lets every record
//!   a guest sharing rule shares (now or later) be read by the public; API Enabled lets the
//!   same public script it. Create alone (a web form) is what guest profiles are for, and
//!   passes. Since Summer '21 Salesforce refuses Edit, Delete, View All and Modify All on
//!   guest profiles; an org that still shows them is reported too.
//! - An **API-only** profile (API Only User, or the Salesforce Integration licence) serves
//!   integrations. Modify All Data, View All Data or Manage Users on the profile make every
//!   integration given it a super-user nobody watches log in.
//!
//! Profiles without active users are not reported: the access reaches nobody today.

use serde_json::json;

use super::{Ctx, Outcome, RuleInfo, fields};
use crate::finding::{
    Confidence, Evidence, Finding, FindingKind, RuleId, Severity, Subject, SubjectKind,
};
use crate::model::{ObjectAccess, ProfileAccess};

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::HygBroadProfileAccess,
    version: 1,
    title: "Guest or API-only profile with access wider than it needs",
    severity: Severity::High,
    kind: FindingKind::Posture,
    description: "A profile with active users that grants more than its kind of user needs: a \
         guest profile (Profile.UserType = 'Guest', unauthenticated site visitors) with API \
         Enabled or with Read, Edit, Delete, View All or Modify All on an object \
         (ObjectPermissions; Create alone, a web form's need, passes), or an API-only profile \
         (PermissionsApiUserOnly, or the Salesforce Integration licence) with Modify All \
         Data, View All Data or Manage Users. One finding per profile, naming what it grants \
         and to whom. Permission sets given to such users are judged by SF-PRV-001/002. \
         Extended rule: off unless selected.",
    inputs: &["exposed_profiles"],
    remediation: "Take away what the profile's users do not need: on a guest profile, object \
         access beyond Create and API Enabled; on an API-only profile, Modify All Data, View \
         All Data and Manage Users (grant object permissions for what the integration \
         touches instead).",
    steps: &[
        "Guest profile: Setup > Sites (or the Experience Builder's Guest User Profile) > \
         Public Access Settings; clear API Enabled and every object permission but Create on \
         the objects the site's forms write.",
        "Share with guests only the records a page must show, with guest sharing rules, and \
         review them with the Guest User Access report.",
        "API-only profile: remove Modify All Data, View All Data and Manage Users; give the \
         integration object and field permissions through a permission set, and document any \
         exception (SBS-ACS-008/009).",
    ],
    references: &[
        "https://docs.securitybenchmark.org/controls-at-a-glance.html",
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_objectpermissions.htm",
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_profile.htm",
        "https://help.salesforce.com/s/articleView?id=sf.networks_secure_guest_user_sharing.htm",
        "https://docs.paloaltonetworks.com/saas-security/saas-security-admin/saas-security-sspm/assess-posture-security/assess-identity-security/view-service-accounts",
    ],
    controls: &[
        ("SBS", "SBS-CPORTAL-002"),
        ("SBS", "SBS-ACS-002"),
        ("SBS", "SBS-ACS-008"),
    ],
};

/// What an object permission gives a guest beyond a web form's Create.
fn guest_excess(o: &ObjectAccess) -> Vec<&'static str> {
    [
        (o.read, "Read"),
        (o.edit, "Edit"),
        (o.delete, "Delete"),
        (o.view_all, "View All"),
        (o.modify_all, "Modify All"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n)
    .collect()
}

/// What the profile grants beyond its users' needs, as phrases; empty when nothing.
fn excess(profile: &ProfileAccess) -> Vec<String> {
    let mut out = Vec::new();
    if profile.is_guest() {
        if profile.api_enabled {
            out.push("API Enabled".to_owned());
        }
        let mut objects: Vec<&ObjectAccess> = profile.object_permissions.iter().collect();
        objects.sort_by(|a, b| a.object.cmp(&b.object));
        for o in objects {
            let perms = guest_excess(o);
            if !perms.is_empty() {
                out.push(format!("{} on {}", perms.join("/"), o.object));
            }
        }
    }
    if profile.is_api_only() {
        for (on, name) in [
            (profile.modify_all_data, "Modify All Data"),
            (profile.view_all_data, "View All Data"),
            (profile.manage_users, "Manage Users"),
        ] {
            if on {
                out.push(name.to_owned());
            }
        }
    }
    out
}

pub(super) fn evaluate(ctx: &Ctx<'_>, out: &mut Outcome) {
    let rule = RuleId::HygBroadProfileAccess;
    if !ctx.config.enabled(rule) {
        return;
    }
    let Some(profiles) = &ctx.snapshot.exposed_profiles else {
        out.skip(
            rule,
            "Profile and ObjectPermissions could not be read (needs View Setup and Configuration)",
        );
        return;
    };
    for profile in profiles.iter().filter(|p| !p.active_users.is_empty()) {
        let granted = excess(profile);
        if !granted.is_empty() {
            out.findings.push(finding(ctx, profile, &granted));
        }
    }
}

fn finding(ctx: &Ctx<'_>, profile: &ProfileAccess, granted: &[String]) -> Finding {
    let now = ctx.config.now;
    let (kind, who) = if profile.is_guest() {
        ("guest profile", " (unauthenticated site visitors)")
    } else {
        ("API-only profile", "")
    };
    let subject = Subject {
        kind: SubjectKind::Profile,
        id: profile.id.clone(),
        display: profile.name.clone(),
        email: None,
        username: None,
    };
    let mut evidence = vec![Evidence {
        source: "salesforce.Profile".into(),
        record_id: Some(profile.id.clone()),
        fields: fields([
            ("Name", json!(profile.name)),
            ("UserType", json!(profile.user_type)),
            ("UserLicense", json!(profile.license_name)),
            ("PermissionsApiEnabled", json!(profile.api_enabled)),
            ("PermissionsApiUserOnly", json!(profile.api_only)),
            ("PermissionsModifyAllData", json!(profile.modify_all_data)),
            ("PermissionsViewAllData", json!(profile.view_all_data)),
            ("PermissionsManageUsers", json!(profile.manage_users)),
            ("active_users", json!(profile.active_users)),
        ]),
    }];
    if profile.is_guest() {
        evidence.extend(
            profile
                .object_permissions
                .iter()
                .filter(|o| !guest_excess(o).is_empty())
                .map(|o| Evidence {
                    source: "salesforce.ObjectPermissions".into(),
                    record_id: None,
                    fields: fields([
                        ("SobjectType", json!(o.object)),
                        ("PermissionsCreate", json!(o.create)),
                        ("PermissionsRead", json!(o.read)),
                        ("PermissionsEdit", json!(o.edit)),
                        ("PermissionsDelete", json!(o.delete)),
                        ("PermissionsViewAllRecords", json!(o.view_all)),
                        ("PermissionsModifyAllRecords", json!(o.modify_all)),
                    ]),
                }),
        );
    }
    ctx.finding(
        RuleId::HygBroadProfileAccess,
        format!(
            "{kind} \"{}\"{who} grants {} to {} active user(s)",
            profile.name,
            granted.join(", "),
            profile.active_users.len()
        ),
        Confidence::High,
        subject,
        (Vec::new(), evidence),
        (now, now),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest(objects: Vec<ObjectAccess>, api: bool) -> ProfileAccess {
        ProfileAccess {
            id: "00e000000000001AAA".into(),
            name: "Store Profile".into(),
            user_type: "Guest".into(),
            api_enabled: api,
            object_permissions: objects,
            active_users: vec!["site@guest.example".into()],
            ..ProfileAccess::default()
        }
    }

    fn object(name: &str, create: bool, read: bool) -> ObjectAccess {
        ObjectAccess {
            object: name.into(),
            create,
            read,
            ..ObjectAccess::default()
        }
    }

    #[test]
    fn a_guest_web_form_passes_but_reading_or_the_api_does_not() {
        assert!(excess(&guest(vec![object("Lead", true, false)], false)).is_empty());
        assert_eq!(
            excess(&guest(
                vec![object("Lead", true, false), object("Contact", false, true)],
                true
            )),
            ["API Enabled", "Read on Contact"]
        );
        let mut everything = object("Case", true, true);
        everything.view_all = true;
        assert_eq!(
            excess(&guest(vec![everything], false)),
            ["Read/View All on Case"]
        );
    }

    #[test]
    fn api_only_profiles_are_judged_on_admin_permissions_by_flag_or_licence() {
        let mut p = ProfileAccess {
            name: "Integration".into(),
            user_type: "Standard".into(),
            api_enabled: true,
            manage_users: true,
            ..ProfileAccess::default()
        };
        // Neither API-only nor on the Integration licence: a person's profile, not judged here.
        assert!(excess(&p).is_empty());
        p.license_name = Some("Salesforce Integration".into());
        assert_eq!(excess(&p), ["Manage Users"]);
        p.license_name = None;
        p.api_only = true;
        p.modify_all_data = true;
        assert_eq!(excess(&p), ["Modify All Data", "Manage Users"]);
        // API Enabled alone is what an integration needs.
        p.modify_all_data = false;
        p.manage_users = false;
        assert!(excess(&p).is_empty());
    }
}
