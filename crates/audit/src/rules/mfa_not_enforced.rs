//! SF-HYG-005 (extended): a person who logs in directly (username and password on
//! Salesforce's own login page) without Salesforce requiring multi-factor authentication.
//! A phished or reused password is then the whole account. Salesforce requires MFA for direct
//! UI logins either org-wide (`enableMFADirectUILoginOptIn`, which the "Waive Multi-Factor
//! Authentication for Exempt Users" permission overrides) or per user through the
//! "Multi-Factor Authentication for User Interface Logins" permission.
//!
//! Single sign-on logins are not judged: their MFA is the IdP's, and the audit does not read
//! IdP MFA policies. A user set up for SSO (a Federation ID) whose IdP account can sign in is
//! the IdP's to protect; their password logins are SF-HYG-004's finding, so they are left to
//! it.

use std::collections::{BTreeSet, HashMap};

use serde_json::json;

use super::password_login_sso_user::{is_password_success, is_set_up_for_sso};
use super::{Ctx, Outcome, RuleInfo, fields, id15, user_evidence, user_subject};
use crate::finding::{Confidence, Evidence, Finding, FindingKind, RuleId, Severity};
use crate::matching::IdpIndex;
use crate::model::{IdpStatus, LoginEvent, MfaGrant, MfaMethods, SfUser};

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::HygMfaNotEnforced,
    version: 1,
    title: "Direct logins without multi-factor authentication required",
    severity: Severity::High,
    kind: FindingKind::Posture,
    description: "An active internal human user logged in successfully with a Salesforce \
         username and password (LoginHistory.LoginType = 'Application', Status 'Success') in \
         the audit window, and Salesforce does not require MFA for them: the org does not \
         require it for direct UI logins (SecuritySettings sessionSettings \
         enableMFADirectUILoginOptIn) or the user holds \"Waive Multi-Factor Authentication \
         for Exempt Users\" (PermissionsBypassMFAForUiLogins), and no profile or permission \
         set gives them \"Multi-Factor Authentication for User Interface Logins\" \
         (PermissionsForceTwoFactor). The evidence lists the verification methods the user \
         registered (TwoFactorMethodsInfo). Single sign-on logins are the IdP's to protect and \
         are not judged; users with a Federation ID whose IdP account can sign in are left to \
         SF-HYG-004. \
         A profile requiring a High Assurance session at login (Metadata API only) is not \
         seen. Extended rule: off unless selected.",
    inputs: &["users", "password_logins", "session_settings", "mfa_grants"],
    remediation: "Require MFA for the user's direct logins: turn on \"Require multi-factor \
         authentication (MFA) for all direct UI logins\" and remove the waiver, or grant \
         \"Multi-Factor Authentication for User Interface Logins\"; better, move the user to \
         single sign-on through an IdP that enforces MFA.",
    steps: &[
        "Setup > Session Settings: turn on \"Require multi-factor authentication (MFA) for \
         all direct UI logins to your Salesforce org\".",
        "Remove \"Waive Multi-Factor Authentication for Exempt Users\" from the user's profile \
         and permission sets unless the user is a documented exception (a test or \
         automation account that never logs in to the UI).",
        "Have the user register a strong verification method (Salesforce Authenticator, an \
         authenticator app, a security key or a built-in authenticator).",
    ],
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_securitysettings.htm",
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_twofactormethodsinfo.htm",
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_loginhistory.htm",
        "https://help.salesforce.com/s/articleView?id=sf.security_require_two-factor_authentication.htm",
        "https://github.com/hardisgroupcom/sfdx-hardis/blob/main/docs/hardis/org/diagnose/mfa.md",
    ],
    controls: &[("NIST 800-53", "IA-2(1)"), ("NIST 800-53", "IA-2(2)")],
};

/// What a user's grants say about MFA at UI login.
#[derive(Default)]
struct MfaPerms<'a> {
    force: Vec<&'a MfaGrant>,
    waive: Vec<&'a MfaGrant>,
}

/// Why a user's direct logins need no MFA, or `None` when they do.
fn why_not_required(org_requires: bool, perms: Option<&MfaPerms<'_>>) -> Option<String> {
    let (force, waive) = perms.map_or((false, false), |p| {
        (!p.force.is_empty(), !p.waive.is_empty())
    });
    if force || (org_requires && !waive) {
        return None;
    }
    Some(match perms.filter(|_| waive) {
        Some(p) => {
            let mut sources: Vec<String> = p
                .waive
                .iter()
                .map(|g| format!("{} \"{}\"", g.path, g.source_name))
                .collect();
            sources.sort();
            sources.dedup();
            format!("MFA is waived for them by {}", sources.join(", "))
        }
        None => "the org does not require MFA for direct logins and nothing grants \
                 Multi-Factor Authentication for User Interface Logins"
            .to_owned(),
    })
}

pub(super) fn evaluate(ctx: &Ctx<'_>, out: &mut Outcome) {
    let rule = RuleId::HygMfaNotEnforced;
    if !ctx.config.enabled(rule) {
        return;
    }
    let Some(logins) = &ctx.snapshot.password_logins else {
        out.skip(
            rule,
            "LoginHistory could not be read (needs Manage Users or Monitor Login History)",
        );
        return;
    };
    let Some(org_requires) = ctx
        .snapshot
        .session_settings
        .as_ref()
        .and_then(|s| s.mfa_for_direct_ui_logins)
    else {
        out.skip(
            rule,
            "the org-wide MFA setting (SecuritySettings enableMFADirectUILoginOptIn) could not \
             be read (needs View Setup and Configuration)",
        );
        return;
    };
    let Some(grants) = &ctx.snapshot.mfa_grants else {
        out.skip(
            rule,
            "the MFA permissions of profiles and permission sets could not be read",
        );
        return;
    };
    let mut perms: HashMap<&str, MfaPerms> = HashMap::new();
    for g in grants {
        let p = perms.entry(id15(&g.assignee_id)).or_default();
        if g.force_mfa {
            p.force.push(g);
        }
        if g.waive_mfa {
            p.waive.push(g);
        }
    }
    let methods: Option<HashMap<&str, &MfaMethods>> = ctx
        .snapshot
        .mfa_methods
        .as_ref()
        .map(|rows| rows.iter().map(|m| (id15(&m.user_id), m)).collect());

    let since = ctx.config.window_start();
    let mut by_user: HashMap<&str, (&SfUser, Vec<&LoginEvent>)> = HashMap::new();
    for event in logins {
        if event.login_time < since || event.login_time > ctx.config.now {
            continue;
        }
        if !is_password_success(event) {
            continue;
        }
        let Some(user) = ctx
            .user(&event.user_id)
            .filter(|u| u.is_standard_active() && !u.is_non_human())
        else {
            continue;
        };
        by_user
            .entry(id15(&user.id))
            .or_insert_with(|| (user, Vec::new()))
            .1
            .push(event);
    }
    if by_user.is_empty() {
        return;
    }
    // Built only when someone logged in directly: the IdP decides who is SSO's to protect.
    let index = IdpIndex::build(ctx.idp, &ctx.config.matching);
    for (key, (user, events)) in by_user {
        let Some(why) = why_not_required(org_requires, perms.get(key)) else {
            continue;
        };
        if relies_on_idp(user, &index) {
            continue;
        }
        let registered = methods.as_ref().map(|m| m.get(key).copied());
        out.findings.push(finding(
            ctx,
            user,
            &events,
            &why,
            registered,
            perms.get(key),
        ));
    }
}

/// A user set up for SSO whose IdP account can sign in: MFA is the IdP's, and a password
/// login by them is SF-HYG-004's finding. An account the IdP lacks, has not activated or has
/// offboarded cannot come through SSO, so the password is the only way in and is judged here
/// (an unrecognised vendor status counts as able, as everywhere in the audit).
fn relies_on_idp(user: &SfUser, index: &IdpIndex<'_>) -> bool {
    is_set_up_for_sso(user)
        && matches!(
            index.lookup(user).status,
            IdpStatus::Active | IdpStatus::Locked | IdpStatus::Unknown
        )
}

fn finding(
    ctx: &Ctx<'_>,
    user: &SfUser,
    events: &[&LoginEvent],
    why: &str,
    registered: Option<Option<&MfaMethods>>,
    perms: Option<&MfaPerms<'_>>,
) -> Finding {
    let now = ctx.config.now;
    let first = events.iter().map(|e| e.login_time).min().unwrap_or(now);
    let last = events.iter().map(|e| e.login_time).max().unwrap_or(now);
    let ips: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e.source_ip.as_deref())
        .collect();
    let strong: Vec<&str> = registered
        .flatten()
        .map(|m| m.strong().collect())
        .unwrap_or_default();
    let methods_text = match registered {
        None => {
            "registered verification methods unknown (TwoFactorMethodsInfo not readable)".to_owned()
        }
        Some(_) if strong.is_empty() => "no MFA method registered".to_owned(),
        Some(_) => format!("registered but not required: {}", strong.join(", ")),
    };
    let mut evidence = vec![
        user_evidence(user),
        Evidence {
            source: "salesforce.LoginHistory".into(),
            record_id: None,
            fields: fields([
                ("LoginType", json!("Application")),
                ("Status", json!("Success")),
                ("logins", json!(events.len())),
                ("first_login", json!(first.to_rfc3339())),
                ("last_login", json!(last.to_rfc3339())),
                ("SourceIp", json!(ips)),
                ("window_days", json!(ctx.config.window_days)),
            ]),
        },
        Evidence {
            source: "salesforce.SecuritySettings".into(),
            record_id: None,
            fields: fields([(
                "sessionSettings.enableMFADirectUILoginOptIn",
                json!(
                    ctx.snapshot
                        .session_settings
                        .as_ref()
                        .and_then(|s| s.mfa_for_direct_ui_logins)
                ),
            )]),
        },
    ];
    if let Some(p) = perms {
        evidence.extend(p.waive.iter().map(|g| Evidence {
            source: "salesforce.PermissionSetAssignment".into(),
            record_id: None,
            fields: fields([
                ("PermissionSetId", json!(g.permission_set_id)),
                ("GrantPath", json!(g.path)),
                ("Source", json!(g.source_name)),
                ("PermissionsBypassMFAForUiLogins", json!(true)),
            ]),
        }));
    }
    if let Some(registered) = registered {
        evidence.push(Evidence {
            source: "salesforce.TwoFactorMethodsInfo".into(),
            record_id: None,
            fields: fields([(
                "registered",
                json!(registered.map(|m| m.methods.clone()).unwrap_or_default()),
            )]),
        });
    }
    ctx.finding(
        RuleId::HygMfaNotEnforced,
        format!(
            "{} logged in {} time(s) with a password in the last {} days without MFA \
             required: {why}; {methods_text}",
            user.username,
            events.len(),
            ctx.config.window_days
        ),
        Confidence::High,
        user_subject(user),
        (Vec::new(), evidence),
        (first, last),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GrantPath;

    fn grant(force: bool, waive: bool) -> MfaGrant {
        MfaGrant {
            assignee_id: "005000000000001AAA".into(),
            permission_set_id: "0PS000000000001AAA".into(),
            source_name: "MFA Waiver".into(),
            path: GrantPath::PermissionSet,
            force_mfa: force,
            waive_mfa: waive,
        }
    }

    #[test]
    fn mfa_is_required_by_the_org_unless_waived_or_by_the_permission_always() {
        let waiver = grant(false, true);
        let force = grant(true, false);
        let waived = MfaPerms {
            force: Vec::new(),
            waive: vec![&waiver],
        };
        let forced_and_waived = MfaPerms {
            force: vec![&force],
            waive: vec![&waiver],
        };
        // The org requires it and nothing waives it.
        assert_eq!(why_not_required(true, None), None);
        // The waiver overrides the org-wide requirement, and says where it comes from.
        let why = why_not_required(true, Some(&waived)).unwrap();
        assert!(why.contains("permission set \"MFA Waiver\""), "{why}");
        // The per-user permission requires MFA whatever the org and the waiver say.
        assert_eq!(why_not_required(false, Some(&forced_and_waived)), None);
        // Nothing requires it.
        let why = why_not_required(false, None).unwrap();
        assert!(why.contains("does not require MFA"), "{why}");
    }

    #[test]
    fn only_strong_methods_count_as_registered_mfa() {
        let m = MfaMethods {
            user_id: "005000000000001AAA".into(),
            methods: vec![
                "HasUserVerifiedMobileNumber".into(),
                "HasUserVerifiedEmailAddress".into(),
            ],
        };
        assert_eq!(m.strong().count(), 0);
        let m = MfaMethods {
            methods: vec!["HasTotp".into(), "HasVerifiedMobileNumber".into()],
            ..m
        };
        assert_eq!(m.strong().collect::<Vec<_>>(), ["HasTotp"]);
    }
}
