//! Arbitrary input never panics the engine or an export, and matching is invariant under the
//! normalisations it promises (case, surrounding whitespace, sandbox suffix).

use crate::audit_support;

use audit_support::*;
use proptest::prelude::*;
use sfmcp_audit::export::{Format, render};
use sfmcp_audit::matching::IdpIndex;
use sfmcp_audit::model::{
    AuditTrailRow, GrantPath, IdpStatus, OauthGrant, PermissionGrant, SessionSettings,
};
use sfmcp_audit::{MatchConfig, MatchMethod, evaluate};

fn any_status() -> impl Strategy<Value = IdpStatus> {
    prop_oneof![
        Just(IdpStatus::Active),
        Just(IdpStatus::Locked),
        Just(IdpStatus::Pending),
        Just(IdpStatus::Suspended),
        Just(IdpStatus::Deprovisioned),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_strings_never_panic(
        emails in prop::collection::vec("\\PC{0,24}", 1..8),
        ids in prop::collection::vec("\\PC{0,20}", 1..8),
        idp_emails in prop::collection::vec(("\\PC{0,24}", any_status()), 0..8),
        actions in prop::collection::vec("\\PC{0,10}", 0..4),
        flags in any::<(bool, bool, bool)>(),
    ) {
        let users: Vec<_> = emails
            .iter()
            .zip(ids.iter().cycle())
            .map(|(e, id)| {
                let mut u = user(1, e, e);
                u.id = id.clone();
                u.federation_identifier = Some(e.to_uppercase());
                u
            })
            .collect();
        let grants: Vec<_> = ids
            .iter()
            .map(|id| PermissionGrant {
                assignee_id: id.clone(),
                modify_all_data: flags.0,
                view_all_data: flags.1,
                ..grant(1, id, GrantPath::PermissionSetGroup)
            })
            .collect();
        let mut snap = snapshot(users, grants);
        snap.oauth_grants = Some(
            ids.iter()
                .map(|id| OauthGrant { user_id: id.clone(), ..token(id, 1, 1) })
                .collect(),
        );
        snap.audit_trail = Some(
            actions
                .iter()
                .zip(ids.iter().cycle())
                .map(|(a, id)| AuditTrailRow {
                    action: a.clone(),
                    created_by_id: id.clone(),
                    delegate_user: Some(a.clone()),
                    ..export_row(id, 1, days_ago(1), None)
                })
                .collect(),
        );
        snap.session_settings = Some(SessionSettings {
            lock_sessions_to_ip: false,
            enforce_ip_ranges_every_request: flags.2,
            ..Default::default()
        });
        snap.login_ip_ranges = Some(
            ids.iter().map(|id| ip_range(id, id, "255.255.255.255")).collect(),
        );
        let idp = directory(
            idp_emails
                .iter()
                .map(|(e, s)| {
                    let mut u = idp_user(e, *s);
                    u.aliases = vec![e.chars().rev().collect()];
                    u.proxy_addresses = vec![format!("smtp:{e}"), e.clone()];
                    u
                })
                .collect(),
        );
        let mut config = config();
        config.matching.add_subaddress_domain("corp.com");
        config.matching.add_domain_alias("x.y", "corp.com");
        let report = evaluate(&snap, &idp, &config);
        for format in [Format::Table, Format::Json, Format::Ocsf, Format::Sarif, Format::Html] {
            let out = render(&report, format).unwrap();
            if matches!(format, Format::Json | Format::Ocsf | Format::Sarif) {
                prop_assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
            }
        }
    }

    #[test]
    fn case_whitespace_and_sandbox_suffix_do_not_change_the_match(
        local in "[a-z0-9][a-z0-9._-]{0,15}",
        domain in "[a-z]{1,10}\\.(com|org|io)",
        upper in any::<bool>(),
        pad in any::<bool>(),
        sandbox in any::<bool>(),
        status in any_status(),
    ) {
        let canonical = format!("{local}@{domain}");
        let dir = directory(vec![idp_user(&canonical, status)]);
        let cfg = MatchConfig::default();
        let index = IdpIndex::build(&dir, &cfg);
        let mut email = if upper { canonical.to_uppercase() } else { canonical.clone() };
        if sandbox {
            email.push_str(".invalid");
        }
        if pad {
            email = format!("  {email}\t");
        }
        let m = index.lookup(&user(1, "u", &email));
        prop_assert_eq!(m.method, MatchMethod::ExactEmail);
        prop_assert_eq!(m.status, status);
        prop_assert_eq!(m.sandbox_suffix_removed, sandbox);
    }
}
