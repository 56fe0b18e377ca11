//! SF-CFG-001: sessions not locked to the login IP, and profile Login IP Ranges that do not
//! make up for it.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use super::{Ctx, Outcome, RuleInfo, fields, id15};
use crate::finding::{
    Confidence, Evidence, Finding, FindingKind, RuleId, Severity, Subject, SubjectKind,
};
use crate::model::{IpRange, LoginIpRange};
use crate::report::AdminEntry;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::CfgSessionIp,
    // 2: a profile's ranges are judged as their union (version 1 took any narrow range as
    // restricting), so a consumer comparing runs knows the verdicts may differ.
    version: 2,
    title: "Session IP restriction not enforced",
    severity: Severity::Medium,
    kind: FindingKind::Posture,
    description: "Sessions are not locked to the login IP (lockSessionsToIp is off) and \
         profile Login IP Ranges do not make up for it: either some admin profile has no \
         restricting range, or ranges are checked only at login \
         (enforceIpRangesEveryRequest is off), so a stolen session works from anywhere. Org \
         trusted IP ranges only skip device activation and never count as enforcement. A \
         profile's ranges are judged together: ranges that add up to the whole IPv4 or IPv6 \
         space (0.0.0.0-255.255.255.255 beside a narrow range, or two halves) restrict \
         nothing.",
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
    // Ranges combine (a login from any of them is allowed), so a profile is judged on all of
    // its ranges together.
    let mut by_profile: BTreeMap<&str, Vec<&LoginIpRange>> = BTreeMap::new();
    for r in ranges {
        by_profile.entry(id15(&r.profile_id)).or_default().push(r);
    }
    let mut restricting: HashSet<&str> = HashSet::new();
    let mut whole_space: Vec<Value> = Vec::new();
    for (profile, rows) in &by_profile {
        if cover_every_address(rows.iter().map(|r| &r.range)) {
            whole_space.extend(rows.iter().map(|r| {
                json!({
                    "ProfileId": r.profile_id, "StartAddress": r.range.start,
                    "EndAddress": r.range.end
                })
            }));
        } else {
            restricting.insert(profile);
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
                    "ranges_covering_every_address",
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

/// Whether `ranges` together let in every IPv4 or every IPv6 address: an attacker needs only
/// one family. Unparsable or reversed ranges add nothing.
fn cover_every_address<'r>(ranges: impl Iterator<Item = &'r IpRange>) -> bool {
    use std::net::IpAddr;
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for r in ranges {
        match (
            r.start.trim().parse::<IpAddr>(),
            r.end.trim().parse::<IpAddr>(),
        ) {
            (Ok(IpAddr::V4(s)), Ok(IpAddr::V4(e))) if s <= e => {
                v4.push((u128::from(u32::from(s)), u128::from(u32::from(e))));
            }
            (Ok(IpAddr::V6(s)), Ok(IpAddr::V6(e))) if s <= e => {
                v6.push((u128::from(s), u128::from(e)));
            }
            _ => {}
        }
    }
    covers(&mut v4, u128::from(u32::MAX)) || covers(&mut v6, u128::MAX)
}

/// Whether the inclusive intervals cover `0..=max` without a gap.
fn covers(intervals: &mut [(u128, u128)], max: u128) -> bool {
    intervals.sort_unstable();
    // The lowest address not covered so far.
    let mut next = 0u128;
    for &(start, end) in intervals.iter() {
        if start > next {
            return false;
        }
        if end >= max {
            return true;
        }
        next = next.max(end + 1);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: &str, end: &str) -> IpRange {
        IpRange {
            start: start.into(),
            end: end.into(),
            description: None,
        }
    }

    #[test]
    fn coverage_is_the_union_of_the_ranges() {
        let cover = |rs: &[(&str, &str)]| {
            cover_every_address(
                rs.iter()
                    .map(|(s, e)| range(s, e))
                    .collect::<Vec<_>>()
                    .iter(),
            )
        };
        assert!(cover(&[("0.0.0.0", "255.255.255.255")]));
        assert!(cover(&[
            ("128.0.0.0", "255.255.255.255"),
            ("0.0.0.0", "127.255.255.255")
        ]));
        assert!(cover(&[
            ("0.0.0.0", "200.0.0.0"),
            ("10.0.0.0", "20.0.0.0"),
            ("150.0.0.0", "255.255.255.255")
        ]));
        assert!(!cover(&[("0.0.0.1", "255.255.255.255")]));
        assert!(!cover(&[
            ("0.0.0.0", "127.255.255.254"),
            ("128.0.0.0", "255.255.255.255")
        ]));
        // Families do not mix, and reversed or unparsable ranges add nothing.
        assert!(!cover(&[("0.0.0.0", "127.255.255.255"), ("::", "::ffff")]));
        assert!(!cover(&[("255.255.255.255", "0.0.0.0")]));
        assert!(!cover(&[("0.0.0.0", "not an address")]));
        assert!(!cover(&[]));
        assert!(cover(&[("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]));
    }

    #[test]
    fn the_union_judgement_is_a_new_rule_version() {
        // Version 1 passed profiles whose ranges add up to everything; consumers that diff
        // runs must see the change. The other rules are unchanged and stay at 1.
        assert_eq!(RuleId::CfgSessionIp.info().version, 2);
    }
}
