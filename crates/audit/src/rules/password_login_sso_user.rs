//! SF-HYG-004 (extended): a user set up for single sign-on (a Federation ID) who logged in
//! with a Salesforce password. Where SSO is the policy, the IdP's MFA, conditional access and
//! offboarding all sit on the SSO path; a password login walks around every one of them, and
//! keeps working after the IdP account is disabled.

use std::collections::{BTreeSet, HashMap};

use serde_json::json;

use super::{Ctx, Outcome, RuleInfo, fields, id15, user_evidence, user_subject};
use crate::finding::{Confidence, Evidence, Finding, FindingKind, RuleId, Severity};
use crate::model::{LoginEvent, SfUser};

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::HygPasswordLoginSsoUser,
    version: 1,
    title: "Salesforce password login by a user set up for single sign-on",
    severity: Severity::Medium,
    kind: FindingKind::Detection,
    description: "An active internal human user with a Federation ID (set up for SAML single \
         sign-on) logged in successfully with a Salesforce username and password \
         (LoginHistory.LoginType = 'Application', Status 'Success') in the audit window, \
         bypassing the IdP and the MFA and offboarding that rest on it. Failed password \
         attempts and API or OAuth logins are not counted. Extended rule: off unless selected.",
    inputs: &["users", "password_logins"],
    remediation: "Make SSO the only way in for the user: turn off login with Salesforce \
         credentials on the My Domain login page, or remove the user's password login path, \
         and find out why they used it.",
    steps: &[
        "Ask the user (and their manager) why they logged in with a password; treat an \
         unexplained login as a possible account takeover.",
        "My Domain > Authentication Configuration: clear \"Login Form\" so only the IdP button \
         remains, or grant \"Is Single Sign-On Enabled\" for delegated authentication.",
        "Keep a documented break-glass admin as the only password exception.",
    ],
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_loginhistory.htm",
        "https://docs.securitybenchmark.org/controls-at-a-glance.html",
        "https://help.salesforce.com/s/articleView?id=sf.sso_saml.htm",
    ],
    controls: &[("SBS", "SBS-AUTH-002")],
};

/// Whether a LoginHistory row is a successful UI login with a Salesforce password (a direct
/// login, in Salesforce's MFA vocabulary).
pub(super) fn is_password_success(event: &LoginEvent) -> bool {
    event.login_type.trim().eq_ignore_ascii_case("Application")
        && event
            .status
            .as_deref()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("Success"))
}

pub(super) fn is_set_up_for_sso(user: &SfUser) -> bool {
    user.federation_identifier
        .as_deref()
        .is_some_and(|f| !f.trim().is_empty())
}

pub(super) fn evaluate(ctx: &Ctx<'_>, out: &mut Outcome) {
    let rule = RuleId::HygPasswordLoginSsoUser;
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
    let since = ctx.config.window_start();
    let mut by_user: HashMap<&str, (&SfUser, Vec<&LoginEvent>)> = HashMap::new();
    for event in logins {
        if event.login_time < since || !is_password_success(event) {
            continue;
        }
        let Some(user) = ctx
            .user(&event.user_id)
            .filter(|u| u.is_standard_active() && !u.is_non_human() && is_set_up_for_sso(u))
        else {
            continue;
        };
        by_user
            .entry(id15(&user.id))
            .or_insert_with(|| (user, Vec::new()))
            .1
            .push(event);
    }
    for (user, events) in by_user.into_values() {
        out.findings.push(finding(ctx, user, &events));
    }
}

fn finding(ctx: &Ctx<'_>, user: &SfUser, events: &[&LoginEvent]) -> Finding {
    let now = ctx.config.now;
    let first = events.iter().map(|e| e.login_time).min().unwrap_or(now);
    let last = events.iter().map(|e| e.login_time).max().unwrap_or(now);
    let ips: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e.source_ip.as_deref())
        .collect();
    let evidence = vec![
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
    ];
    ctx.finding(
        RuleId::HygPasswordLoginSsoUser,
        format!(
            "{} has a Federation ID (single sign-on) but logged in {} time(s) with a \
             Salesforce password in the last {} days",
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
    use chrono::Utc;

    use super::*;

    fn event(login_type: &str, status: Option<&str>) -> LoginEvent {
        LoginEvent {
            user_id: "005000000000001AAA".into(),
            login_time: Utc::now(),
            login_type: login_type.into(),
            status: status.map(str::to_owned),
            source_ip: None,
        }
    }

    #[test]
    fn only_successful_ui_password_logins_count() {
        assert!(is_password_success(&event("Application", Some("Success"))));
        assert!(!is_password_success(&event(
            "Application",
            Some("Invalid Password")
        )));
        assert!(!is_password_success(&event(
            "SAML Sfdc Initiated SSO",
            Some("Success")
        )));
        assert!(!is_password_success(&event(
            "Remote Access 2.0",
            Some("Success")
        )));
        assert!(!is_password_success(&event("Application", None)));
    }
}
