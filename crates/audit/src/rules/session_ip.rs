//! SF-CFG-001: sessions not locked to the login IP, and profile Login IP Ranges that do not
//! make up for it.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use super::{Ctx, Outcome, RuleInfo, fields, id15};
use crate::finding::{
    Confidence, Evidence, Finding, FindingKind, RuleId, Severity, Subject, SubjectKind,
};
use crate::report::AdminEntry;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::CfgSessionIp,
    version: 1,
    title: "Session IP restriction not enforced",
    severity: Severity::Medium,
    kind: FindingKind::Posture,
    description: "Sessions are not locked to the login IP (lockSessionsToIp is off) and \
         profile Login IP Ranges do not make up for it: either some admin profile has no \
         restricting range, or ranges are checked only at login \
         (enforceIpRangesEveryRequest is off), so a stolen session works from anywhere. Org \
         trusted IP ranges only skip device activation and never count as enforcement; a \
         0.0.0.0-255.255.255.255 range restricts nothing.",
    inputs: &["session_settings", "login_ip_ranges", "permission_grants"],
    remediation: "Lock sessions to the login IP, or enforce profile IP ranges on every request.",
    steps: &[
        "Setup > Session Settings: enable \"Lock sessions to the IP address from which they \
         originated\".",
        "Or add Login IP Ranges to every admin profile and enable \"Enforce login IP ranges \
         on every request\".",
    ],
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_securitysettings.htm",
    ],
    controls: &[("NIST SP 800-53", "AC-10"), ("SBS", "SBS-AUTH-003")],
};

/// SF-CFG-001, when both the session settings and the profile ranges could be read.
pub(super) fn evaluate(ctx: &Ctx<'_>, admins: &[AdminEntry], out: &mut Outcome) {
    if !ctx.config.enabled(RuleId::CfgSessionIp) {
        return;
    }
    match (
        &ctx.snapshot.session_settings,
        &ctx.snapshot.login_ip_ranges,
    ) {
        (None, _) => out.skip(
            RuleId::CfgSessionIp,
            "SecuritySettings (Tooling API) could not be read",
        ),
        (_, None) => out.skip(RuleId::CfgSessionIp, "LoginIpRange could not be read"),
        (Some(_), Some(_)) => out.findings.extend(session_ip_finding(ctx, admins)),
    }
}

fn session_ip_finding(ctx: &Ctx<'_>, admins: &[AdminEntry]) -> Option<Finding> {
    let settings = ctx.snapshot.session_settings.as_ref()?;
    let ranges = ctx.snapshot.login_ip_ranges.as_ref()?;
    if settings.lock_sessions_to_ip {
        return None;
    }
    let mut restricting: HashSet<&str> = HashSet::new();
    let mut whole_space: Vec<Value> = Vec::new();
    for r in ranges {
        if r.range.is_whole_address_space() {
            whole_space.push(json!({
                "ProfileId": r.profile_id, "StartAddress": r.range.start, "EndAddress": r.range.end
            }));
        } else {
            restricting.insert(id15(&r.profile_id));
        }
    }
    let mut admin_profiles: BTreeMap<&str, &str> = BTreeMap::new();
    for a in admins {
        if let Some(u) = ctx.user(&a.user_id)
            && let Some(pid) = u.profile_id.as_deref()
        {
            admin_profiles.insert(id15(pid), u.profile_name.as_deref().unwrap_or(pid));
        }
    }
    let unrestricted: Vec<&str> = admin_profiles
        .iter()
        .filter(|(pid, _)| !restricting.contains(*pid))
        .map(|(_, name)| *name)
        .collect();
    let ranges_cover_admins = !restricting.is_empty() && unrestricted.is_empty();
    if settings.enforce_ip_ranges_every_request && ranges_cover_admins {
        return None;
    }
    let reason = if ranges_cover_admins {
        "profile IP ranges are checked only at login".to_owned()
    } else if restricting.is_empty() {
        "no profile has a restricting Login IP Range".to_owned()
    } else {
        format!(
            "admin profile(s) without a Login IP Range: {}",
            unrestricted.join(", ")
        )
    };
    let subject = Subject {
        kind: SubjectKind::OrgSetting,
        id: "SecuritySettings.sessionSettings".into(),
        display: format!("Session settings of org {}", ctx.snapshot.org_id),
        email: None,
        username: None,
    };
    let mut restricting_ids: Vec<&str> = restricting.into_iter().collect();
    restricting_ids.sort_unstable();
    let evidence = vec![
        Evidence {
            source: "salesforce.tooling.SecuritySettings".into(),
            record_id: None,
            fields: fields([
                ("sessionSettings.lockSessionsToIp", json!(false)),
                (
                    "sessionSettings.enforceIpRangesEveryRequest",
                    json!(settings.enforce_ip_ranges_every_request),
                ),
                (
                    "networkAccess.ipRanges",
                    json!(format!(
                        "{} trusted range(s), not counted: they only skip device activation",
                        ctx.snapshot.trusted_ip_ranges.len()
                    )),
                ),
            ]),
        },
        Evidence {
            source: "salesforce.LoginIpRange".into(),
            record_id: None,
            fields: fields([
                ("profiles_with_restricting_ranges", json!(restricting_ids)),
                ("admin_profiles_without_ranges", json!(unrestricted)),
                (
                    "whole_address_space_ranges",
                    if whole_space.is_empty() {
                        Value::Null
                    } else {
                        Value::Array(whole_space)
                    },
                ),
            ]),
        },
    ];
    let now = ctx.config.now;
    Some(ctx.finding(
        RuleId::CfgSessionIp,
        format!("Sessions are not locked to the login IP and {reason}"),
        Confidence::High,
        subject,
        (Vec::new(), evidence),
        (now, now),
    ))
}
