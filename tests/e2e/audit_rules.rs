//! Each of the nine rules: what must fire and the near misses that must not.

use crate::audit_support;

use audit_support::*;
use sfmcp_audit::finding::{Confidence, SubjectKind};
use sfmcp_audit::model::{
    AppAccess, AuditTrailRow, ConnectedApp, ExportEventType, GrantPath, IdpStatus, IpRange,
    LoginEvent, MfaGrant, MfaMethods, ObjectAccess, ProfileAccess, SessionSettings,
};
use sfmcp_audit::{AuditConfig, MatchMethod, RuleId, Severity, evaluate};

#[test]
fn idp_001_fires_for_admins_missing_from_the_idp_and_only_for_them() {
    let mut carol = grant(3, "Ops Admins", GrantPath::PermissionSetGroup);
    carol.manage_users = true;
    carol.permission_set_group_id = Some("0PG000000000001AAA".into());
    let mut inactive = user(5, "old.admin@corp.com", "old.admin@corp.com");
    inactive.is_active = false;
    let mut partner = user(6, "partner@vendor.com", "partner@vendor.com");
    partner.user_type = "PowerPartner".into();
    let snap = snapshot(
        vec![
            user(1, "alice@corp.com.prod", "alice@corp.com"),
            user(2, "bob@corp.com.prod", "BOB@Corp.com"),
            user(3, "carol@corp.com.prod", "carol@corp.com"),
            integration_user(4, "etl"),
            inactive,
            partner,
        ],
        vec![
            sysadmin(1),
            sysadmin(2),
            carol,
            sysadmin(4),
            sysadmin(5),
            sysadmin(6),
        ],
    );
    let idp = directory(vec![idp_user("bob@corp.com", IdpStatus::Active)]);
    let report = run(&snap, &idp);

    // alice (ModifyAllData via profile) and carol (ManageUsers via a group) are admins; bob
    // matches despite case; etl is non-human; the inactive and portal users are out of scope.
    assert_eq!(
        subjects(&report, RuleId::IdpAdminNotInIdp),
        vec![uid(1), uid(3)]
    );
    assert_eq!(count(&report, RuleId::IdpUserNotInIdp), 0);
    let carol_finding = report
        .findings
        .iter()
        .find(|f| f.rule_id == RuleId::IdpAdminNotInIdp && f.subject.id == uid(3))
        .unwrap();
    assert_eq!(carol_finding.severity, Severity::Critical);
    assert_eq!(carol_finding.match_method, Some(MatchMethod::None));
    assert_eq!(carol_finding.confidence, Confidence::Medium);
    assert!(carol_finding.title.contains("ManageUsers"));
    assert!(carol_finding.evidence.iter().any(|e| {
        e.source == "salesforce.PermissionSetAssignment"
            && e.fields["GrantPath"] == "permission_set_group"
            && e.fields["Source"] == "Ops Admins"
    }));

    assert_eq!(report.non_human_identities.len(), 1);
    assert_eq!(report.non_human_identities[0].user_id, uid(4));
    assert!(
        report.non_human_identities[0]
            .admin_permissions
            .contains(&"ModifyAllData".to_owned())
    );
    assert_eq!(report.summary.non_human_identities, 1);
}

#[test]
fn idp_002_fires_for_users_missing_under_every_corporate_address() {
    let mut erin_acct = idp_user("erin.smith@corp.com", IdpStatus::Active);
    erin_acct.aliases = vec!["erin@corp.com".into()];
    let mut frank_acct = idp_user("frank.jones@corp.com", IdpStatus::Active);
    frank_acct.proxy_addresses = vec![
        "SMTP:frank.jones@corp.com".into(),
        "smtp:frank@corp.io".into(),
        "sip:frank.voice@corp.com".into(),
    ];
    let mut api_only = user(9, "svc@corp.com", "svc@corp.com");
    api_only.api_only = true;
    let snap = snapshot(
        vec![
            user(1, "dave@corp.com.prod", "dave@corp.com"),
            user(2, "erin@corp.com.prod", "Erin@corp.com"),
            user(3, "frank@corp.com.prod", "frank@corp.io"),
            user(4, "frank.voice@corp.com.prod", "frank.voice@corp.com"),
            user(5, "gail@corp.com.sbx", "gail@corp.com.invalid"),
            user(6, "hugo@corp.com.prod", "hugo+sfdc@corp.com"),
            user(7, "ines@other.com.prod", "ines+sfdc@other.com"),
            user(8, "li@corp.co.uk.prod", "li@corp.co.uk"),
            api_only,
        ],
        Vec::new(),
    );
    let idp = directory(vec![
        erin_acct,
        frank_acct,
        idp_user("gail@corp.com", IdpStatus::Active),
        idp_user("hugo@corp.com", IdpStatus::Active),
        idp_user("ines@other.com", IdpStatus::Active),
        idp_user("li@corp.com", IdpStatus::Active),
    ]);
    let mut config = config();
    config.matching.add_subaddress_domain("corp.com");
    config.matching.add_domain_alias("corp.co.uk", "corp.com");
    let report = evaluate(&snap, &idp, &config);

    // dave: nowhere. frank.voice: only a sip: proxy address. ines: +tag on a domain not
    // configured for sub-addressing. Everyone else matches some corporate address.
    assert_eq!(
        subjects(&report, RuleId::IdpUserNotInIdp),
        vec![uid(1), uid(4), uid(7)]
    );
    assert_eq!(count(&report, RuleId::IdpAdminNotInIdp), 0);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule_id != RuleId::IdpUserNotInIdp || f.severity == Severity::High)
    );

    // Without the domain configuration the +tag and the alias domain no longer match.
    let plain = run(&snap, &idp);
    assert_eq!(
        subjects(&plain, RuleId::IdpUserNotInIdp),
        vec![uid(1), uid(4), uid(6), uid(7), uid(8)]
    );
}

#[test]
fn idp_003_fires_for_offboarded_idp_accounts_only() {
    let mut frozen = user(3, "hank@corp.com.prod", "hank@corp.com");
    frozen.is_frozen = Some(true);
    let mut gone = user(7, "quit@corp.com.prod", "quit@corp.com");
    gone.is_active = false;
    // bob's own account is deprovisioned; robert's active one holds bob's address as an alias
    // (a forwarded leaver's address, or a rehire): the alias does not revive bob.
    let mut colleague = idp_user("robert@corp.com", IdpStatus::Active);
    colleague.aliases = vec!["bob@corp.com".into()];
    // A rehire whose new account has the old address as its primary too: the live one wins.
    let mut rehired = idp_user("kim@corp.com", IdpStatus::Active);
    rehired.login = Some("kim.2@corp.com".into());
    let mut gina = idp_user("gina@corp.com", IdpStatus::Suspended);
    gina.vendor_status = Some("SUSPENDED".into());
    let snap = snapshot(
        vec![
            user(1, "gina@corp.com.prod", "gina@corp.com"),
            frozen,
            user(4, "ivan@corp.com.prod", "ivan@corp.com"),
            user(5, "jo@corp.com.prod", "jo@corp.com"),
            user(6, "bob@corp.com.prod", "bob@corp.com"),
            gone,
            user(8, "kim@corp.com.prod", "kim@corp.com"),
        ],
        Vec::new(),
    );
    let idp = directory(vec![
        gina,
        idp_user("hank@corp.com", IdpStatus::Deprovisioned),
        idp_user("ivan@corp.com", IdpStatus::Locked),
        idp_user("jo@corp.com", IdpStatus::Pending),
        idp_user("bob@corp.com", IdpStatus::Deprovisioned),
        colleague,
        idp_user("quit@corp.com", IdpStatus::Deprovisioned),
        idp_user("kim@corp.com", IdpStatus::Deprovisioned),
        rehired,
    ]);
    let report = run(&snap, &idp);

    assert_eq!(
        subjects(&report, RuleId::IdpStaleUser),
        vec![uid(1), uid(3), uid(6)]
    );
    let gina_f = report
        .findings
        .iter()
        .find(|f| f.subject.id == uid(1))
        .unwrap();
    assert_eq!(gina_f.severity, Severity::High);
    assert_eq!(gina_f.match_method, Some(MatchMethod::ExactEmail));
    assert_eq!(gina_f.confidence, Confidence::High);
    assert_eq!(gina_f.related[0].role, "idp_account");
    assert_eq!(gina_f.related[0].status.as_deref(), Some("suspended"));
    assert!(
        gina_f
            .evidence
            .iter()
            .any(|e| e.fields.get("idp_vendor_status") == Some(&serde_json::json!("SUSPENDED")))
    );
    let hank_f = report
        .findings
        .iter()
        .find(|f| f.subject.id == uid(3))
        .unwrap();
    assert!(hank_f.title.contains("frozen"));
    assert_eq!(report.summary.total, 3);
}

#[test]
fn idp_004_fires_per_app_and_user_for_token_owners_unknown_to_the_idp() {
    let mut gone = user(4, "gone@corp.com.prod", "gone@corp.com");
    gone.is_active = false;
    let mut snap = snapshot(
        vec![
            user(1, "dave@corp.com.prod", "dave@corp.com"),
            user(2, "bob@corp.com.prod", "bob@corp.com"),
            integration_user(3, "etl"),
            gone,
        ],
        Vec::new(),
    );
    let mut older = token("Data Loader", 1, 5);
    older.created_date = Some(days_ago(300));
    older.last_used_date = Some(days_ago(50));
    snap.oauth_grants = Some(vec![
        token("Data Loader", 1, 7),
        older,
        token("Slack", 1, 1),
        token("Data Loader", 2, 3),
        token("MuleSoft", 3, 900),
        token("Data Loader", 4, 1),
    ]);
    let idp = directory(vec![idp_user("bob@corp.com", IdpStatus::Active)]);
    let report = run(&snap, &idp);

    let dave = uid(1);
    let want: Vec<String> = vec![
        format!("Data Loader|{}", &dave[..15]),
        format!("Slack|{}", &dave[..15]),
    ];
    assert_eq!(subjects(&report, RuleId::IdpOauthUnknownUser), want);
    let dl = report
        .findings
        .iter()
        .find(|f| f.subject.id == want[0])
        .unwrap();
    assert_eq!(dl.severity, Severity::Medium);
    assert_eq!(dl.subject.kind, SubjectKind::OauthGrant);
    let ev = &dl.evidence[0];
    assert_eq!(ev.source, "salesforce.OauthToken");
    assert_eq!(ev.fields["tokens"], 2);
    assert_eq!(ev.fields["UseCount"], 12);
    assert_eq!(dl.first_seen, days_ago(300));
    assert_eq!(dl.last_seen, days_ago(2));
    // The integration user's app is inventoried, not reported.
    assert_eq!(
        report.non_human_identities[0].connected_apps,
        vec!["MuleSoft"]
    );

    // Without OauthToken access the rule says so instead of passing.
    snap.oauth_grants = None;
    let report = run(&snap, &idp);
    assert_eq!(count(&report, RuleId::IdpOauthUnknownUser), 0);
    assert!(
        report
            .not_evaluated
            .iter()
            .any(|n| n.rule_id == RuleId::IdpOauthUnknownUser)
    );
    let rc = report
        .summary
        .by_rule
        .iter()
        .find(|r| r.rule_id == RuleId::IdpOauthUnknownUser)
        .unwrap();
    assert!(!rc.evaluated);
}

#[test]
fn prv_rules_fire_per_permission_and_respect_the_allow_list() {
    let mut vad_only = grant(3, "Auditors", GrantPath::PermissionSet);
    vad_only.view_all_data = true;
    let mut mu_only = grant(4, "Helpdesk", GrantPath::PermissionSet);
    mu_only.manage_users = true;
    let mut expired = grant(6, "Break Glass", GrantPath::PermissionSet);
    expired.modify_all_data = true;
    expired.expiration_date = Some(days_ago(1));
    let snap = snapshot(
        vec![
            user(1, "alice@corp.com.prod", "alice@corp.com"),
            user(2, "bob@corp.com.prod", "Bob@Corp.com"),
            user(3, "audit@corp.com.prod", "audit@corp.com"),
            user(4, "help@corp.com.prod", "help@corp.com"),
            integration_user(5, "etl"),
            user(6, "temp@corp.com.prod", "temp@corp.com"),
            user(7, "ops@corp.com.prod", "ops@corp.com"),
        ],
        vec![
            sysadmin(1),
            sysadmin(2),
            vad_only,
            mu_only,
            sysadmin(5),
            expired,
            sysadmin(7),
        ],
    );
    let idp = directory(
        [
            "alice@corp.com",
            "bob@corp.com",
            "audit@corp.com",
            "help@corp.com",
            "temp@corp.com",
            "ops@corp.com",
        ]
        .iter()
        .map(|e| idp_user(e, IdpStatus::Active))
        .collect(),
    );
    let mut config = config();
    config.allow_admins = vec![
        "bob@corp.com".into(),
        "OPS@corp.com.prod".into(),
        "help@corp.com".into(),
        "bobby@corp.com".into(),
    ];
    let report = evaluate(&snap, &idp, &config);

    // bob (by e-mail, different case) and ops (by username) are expected; help has neither
    // permission; temp's grant expired; the integration user is still judged here.
    assert_eq!(
        subjects(&report, RuleId::PrvModifyAllData),
        vec![uid(1), uid(5)]
    );
    assert_eq!(
        subjects(&report, RuleId::PrvViewAllData),
        vec![uid(1), uid(3), uid(5)]
    );
    let audit_f = report
        .findings
        .iter()
        .find(|f| f.rule_id == RuleId::PrvViewAllData && f.subject.id == uid(3))
        .unwrap();
    assert!(audit_f.title.contains("permission set \"Auditors\""));
    let etl_f = report
        .findings
        .iter()
        .find(|f| f.rule_id == RuleId::PrvModifyAllData && f.subject.id == uid(5))
        .unwrap();
    assert!(etl_f.title.contains("non-human"));
    assert!(etl_f.title.contains("profile \"System Administrator\""));

    assert_eq!(report.summary.expected_admins, 3);
    // alice, audit, etl hold admin permissions without being allow-listed.
    assert_eq!(report.summary.unexpected_admins, 3);
    // help is allow-listed and an admin (ManageUsers); bobby is a typo and is reported.
    assert_eq!(
        report.notes,
        vec!["Allow-list entries matching no active admin: bobby@corp.com".to_owned()]
    );
    let expected: Vec<&str> = report
        .admins
        .iter()
        .filter(|a| a.expected)
        .map(|a| a.username.as_str())
        .collect();
    assert_eq!(
        expected,
        vec![
            "bob@corp.com.prod",
            "help@corp.com.prod",
            "ops@corp.com.prod"
        ]
    );
}

fn cfg_snapshot(
    lock: bool,
    enforce: bool,
    ranges: Vec<sfmcp_audit::model::LoginIpRange>,
) -> sfmcp_audit::SalesforceSnapshot {
    let mut admin = user(1, "alice@corp.com.prod", "alice@corp.com");
    admin.profile_id = Some("00e000000000009AAA".into());
    admin.profile_name = Some("System Administrator".into());
    let mut snap = snapshot(
        vec![admin, user(2, "bob@corp.com.prod", "bob@corp.com")],
        vec![sysadmin(1)],
    );
    snap.session_settings = Some(SessionSettings {
        lock_sessions_to_ip: lock,
        enforce_ip_ranges_every_request: enforce,
        ..Default::default()
    });
    snap.login_ip_ranges = Some(ranges);
    snap.trusted_ip_ranges = vec![IpRange {
        start: "203.0.113.0".into(),
        end: "203.0.113.255".into(),
        description: Some("office".into()),
    }];
    snap
}

#[test]
fn cfg_001_judges_session_locking_and_profile_ranges_not_trusted_ranges() {
    let idp = directory(vec![
        idp_user("alice@corp.com", IdpStatus::Active),
        idp_user("bob@corp.com", IdpStatus::Active),
    ]);
    let office = || ip_range("00e000000000009AAA", "10.0.0.0", "10.0.255.255");
    let cases = [
        // (lock, enforce, ranges, fires, reason fragment)
        (true, false, vec![], false, ""),
        (false, true, vec![office()], false, ""),
        (false, false, vec![office()], true, "checked only at login"),
        (false, true, vec![], true, "no profile has a restricting"),
        (
            false,
            true,
            vec![ip_range("00e000000000009AAA", "0.0.0.0", "255.255.255.255")],
            true,
            "no profile has a restricting",
        ),
        (
            false,
            true,
            vec![ip_range("00e000000000008AAA", "10.0.0.0", "10.0.0.255")],
            true,
            "System Administrator",
        ),
    ];
    for (lock, enforce, ranges, fires, reason) in cases {
        let report = run(&cfg_snapshot(lock, enforce, ranges), &idp);
        let found: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule_id == RuleId::CfgSessionIp)
            .collect();
        assert_eq!(
            found.len(),
            usize::from(fires),
            "lock={lock} enforce={enforce}"
        );
        if let Some(f) = found.first() {
            assert_eq!(f.severity, Severity::Medium);
            assert!(f.title.contains(reason), "{}", f.title);
            assert_eq!(f.subject.kind, SubjectKind::OrgSetting);
            let settings = &f.evidence[0].fields;
            assert!(
                settings["networkAccess.ipRanges"]
                    .as_str()
                    .unwrap()
                    .contains("1 trusted range(s), not counted")
            );
        }
    }

    let mut snap = cfg_snapshot(false, false, vec![]);
    snap.session_settings = None;
    let report = run(&snap, &idp);
    assert_eq!(count(&report, RuleId::CfgSessionIp), 0);
    assert!(
        report
            .not_evaluated
            .iter()
            .any(|n| n.rule_id == RuleId::CfgSessionIp)
    );
}

/// Ranges combine: a login from any of them is allowed, so a profile restricts nothing when
/// its ranges together cover the whole address space, however they are cut.
#[test]
fn cfg_001_judges_a_profiles_ranges_together() {
    let idp = directory(vec![
        idp_user("alice@corp.com", IdpStatus::Active),
        idp_user("bob@corp.com", IdpStatus::Active),
    ]);
    let admin = "00e000000000009AAA";
    let cases = [
        // The whole space beside a narrow range.
        vec![
            ip_range(admin, "10.0.0.0", "10.0.0.255"),
            ip_range(admin, "0.0.0.0", "255.255.255.255"),
        ],
        // Two halves.
        vec![
            ip_range(admin, "0.0.0.0", "127.255.255.255"),
            ip_range(admin, "128.0.0.0", "255.255.255.255"),
        ],
        // Overlapping pieces, out of order.
        vec![
            ip_range(admin, "100.0.0.0", "255.255.255.255"),
            ip_range(admin, "0.0.0.0", "10.255.255.255"),
            ip_range(admin, "10.0.0.0", "100.0.0.0"),
        ],
        // The whole IPv6 space beside a narrow IPv4 range: any IPv6 address gets in.
        vec![
            ip_range(admin, "10.0.0.0", "10.0.0.255"),
            ip_range(admin, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ],
    ];
    for ranges in cases {
        let report = run(&cfg_snapshot(false, true, ranges.clone()), &idp);
        let found: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule_id == RuleId::CfgSessionIp)
            .collect();
        assert_eq!(found.len(), 1, "{ranges:?}");
        assert!(
            found[0].title.contains("no profile has a restricting"),
            "{}",
            found[0].title
        );
    }
    // A gap of one address still restricts.
    let ranges = vec![
        ip_range(admin, "0.0.0.0", "127.255.255.254"),
        ip_range(admin, "128.0.0.0", "255.255.255.255"),
    ];
    let report = run(&cfg_snapshot(false, true, ranges), &idp);
    assert_eq!(count(&report, RuleId::CfgSessionIp), 0);
}

#[test]
fn exp_rules_judge_exports_in_the_window_and_both_login_as_identities() {
    let users = vec![
        user(1, "alice@corp.com.prod", "alice@corp.com"),
        user(2, "dave@corp.com.prod", "dave@corp.com"),
        user(3, "root@corp.com.prod", "root@corp.com"),
    ];
    let mut dave_export = grant(2, "Weekly Export", GrantPath::PermissionSet);
    dave_export.data_export = true;
    let mut snap = snapshot(users, vec![sysadmin(1), sysadmin(3), dave_export]);
    let queue = AuditTrailRow {
        action: "queueMembership".into(),
        section: Some("Data Management".into()),
        ..export_row("0Ym000000000009AAA", 2, days_ago(1), None)
    };
    snap.audit_trail = Some(vec![
        export_row("0Ym000000000001AAA", 1, days_ago(5), None),
        export_row("0Ym000000000002AAA", 1, days_ago(40), None),
        export_row("0Ym000000000003AAA", 2, days_ago(3), None),
        // root (admin) logged in as dave and exported: dave's identity is a non-admin.
        export_row(
            "0Ym000000000004AAA",
            2,
            days_ago(2),
            Some("root@corp.com.prod"),
        ),
        // root acting as alice: two admins, no SF-EXP-002.
        export_row(
            "0Ym000000000005AAA",
            1,
            days_ago(2),
            Some("ROOT@corp.com.prod"),
        ),
        // alice's session used by someone who is not an admin (or not in the org at all).
        export_row(
            "0Ym000000000006AAA",
            1,
            days_ago(2),
            Some("contractor@corp.com"),
        ),
        queue,
    ]);
    let dave15 = &uid(2)[..15];
    snap.event_log_exports = Some(vec![
        export_event(
            ExportEventType::BulkApi2,
            "bq1",
            dave15,
            days_ago(4),
            Some("query"),
        ),
        export_event(
            ExportEventType::BulkApi,
            "bi1",
            dave15,
            days_ago(4),
            Some("insert"),
        ),
        export_event(
            ExportEventType::ReportExport,
            "re1",
            &uid(1),
            days_ago(6),
            None,
        ),
        export_event(
            ExportEventType::ReportExport,
            "re2",
            &uid(1),
            days_ago(60),
            None,
        ),
    ]);
    let idp = directory(
        ["alice@corp.com", "dave@corp.com", "root@corp.com"]
            .iter()
            .map(|e| idp_user(e, IdpStatus::Active))
            .collect(),
    );
    let report = run(&snap, &idp);

    let log = "0AT000000000001AAA";
    assert_eq!(
        subjects(&report, RuleId::ExpBulkExport),
        vec![
            format!("{log}/bq1"),
            format!("{log}/re1"),
            "0Ym000000000001AAA".into(),
            "0Ym000000000003AAA".into(),
            "0Ym000000000004AAA".into(),
            "0Ym000000000005AAA".into(),
            "0Ym000000000006AAA".into(),
        ]
    );
    assert_eq!(
        subjects(&report, RuleId::ExpNonAdminExport),
        vec![
            format!("{log}/bq1"),
            "0Ym000000000003AAA".into(),
            "0Ym000000000004AAA".into(),
            "0Ym000000000006AAA".into(),
        ]
    );
    let delegated = report
        .findings
        .iter()
        .find(|f| f.rule_id == RuleId::ExpNonAdminExport && f.subject.id == "0Ym000000000004AAA")
        .unwrap();
    assert_eq!(delegated.severity, Severity::Critical);
    assert!(
        delegated
            .title
            .contains("root@corp.com.prod logged in as dave@corp.com.prod")
    );
    let roles: Vec<(&str, Option<&str>)> = delegated
        .related
        .iter()
        .map(|r| (r.role.as_str(), r.status.as_deref()))
        .collect();
    assert_eq!(
        roles,
        vec![("actor", Some("non-admin")), ("delegate", Some("admin"))]
    );
    // dave's Weekly Data Export grant is part of the evidence.
    assert!(
        delegated
            .evidence
            .iter()
            .any(|e| e.fields.get("Source") == Some(&serde_json::json!("Weekly Export")))
    );
    let unknown_delegate = report
        .findings
        .iter()
        .find(|f| f.rule_id == RuleId::ExpNonAdminExport && f.subject.id == "0Ym000000000006AAA")
        .unwrap();
    assert!(
        unknown_delegate
            .title
            .contains("delegate contractor@corp.com is not an admin")
    );
    assert_eq!(unknown_delegate.confidence, Confidence::Medium);
    assert!(report.notes.is_empty());

    // Without Event Monitoring the report says which exports it cannot see.
    snap.event_log_exports = None;
    let report = run(&snap, &idp);
    assert_eq!(count(&report, RuleId::ExpBulkExport), 5);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("Data Loader, Bulk API and report exports"))
    );
}

#[test]
fn the_window_follows_window_days() {
    let mut snap = snapshot(
        vec![user(1, "alice@corp.com.prod", "alice@corp.com")],
        vec![sysadmin(1)],
    );
    snap.audit_trail = Some(vec![export_row("0Ym1", 1, days_ago(40), None)]);
    let idp = directory(vec![idp_user("alice@corp.com", IdpStatus::Active)]);
    let mut config = AuditConfig::new(now());
    config.allow_admins = vec!["alice@corp.com".into()];
    assert_eq!(evaluate(&snap, &idp, &config).summary.total, 0);
    config.window_days = 45;
    let report = evaluate(&snap, &idp, &config);
    assert_eq!(subjects(&report, RuleId::ExpBulkExport), vec!["0Ym1"]);
}

#[test]
fn selecting_rules_skips_the_others_and_says_so() {
    let snap = snapshot(
        vec![user(1, "alice@corp.com.prod", "alice@corp.com")],
        vec![sysadmin(1)],
    );
    let idp = directory(vec![idp_user("someone@corp.com", IdpStatus::Active)]);
    let mut config = config();
    config.rules = Some(vec![RuleId::PrvModifyAllData]);
    let report = evaluate(&snap, &idp, &config);
    let rules: Vec<RuleId> = report.findings.iter().map(|f| f.rule_id).collect();
    assert_eq!(rules, vec![RuleId::PrvModifyAllData]);
    assert_eq!(report.not_evaluated.len(), 8);
}

#[test]
fn findings_are_ordered_by_severity_rule_subject_and_independent_of_input_order() {
    let users: Vec<_> = (1..=6)
        .map(|n| user(n, &format!("u{n}@corp.com.prod"), &format!("u{n}@corp.com")))
        .collect();
    let mut snap = snapshot(users, vec![sysadmin(2), sysadmin(5)]);
    snap.audit_trail = Some(vec![
        export_row("0Ym2", 3, days_ago(2), None),
        export_row("0Ym1", 2, days_ago(1), None),
    ]);
    snap.oauth_grants = Some(vec![token("B", 4, 1), token("A", 4, 1), token("A", 1, 1)]);
    let idp = directory(vec![
        idp_user("u3@corp.com", IdpStatus::Active),
        idp_user("u6@corp.com", IdpStatus::Deprovisioned),
    ]);
    let a = run(&snap, &idp);

    let mut shuffled = snap.clone();
    shuffled.users.reverse();
    shuffled.permission_grants.reverse();
    if let Some(t) = shuffled.oauth_grants.as_mut() {
        t.reverse();
    }
    if let Some(t) = shuffled.audit_trail.as_mut() {
        t.reverse();
    }
    let mut idp_rev = idp.clone();
    idp_rev.users.reverse();
    let b = run(&shuffled, &idp_rev);
    assert_eq!(a.findings, b.findings);

    let keys: Vec<(Severity, RuleId, String)> = a
        .findings
        .iter()
        .map(|f| (f.severity, f.rule_id, f.subject.id.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.first().map(|k| k.0), Some(Severity::Critical));
    assert_eq!(keys.last().map(|k| k.0), Some(Severity::Medium));
    // Fingerprints are unique.
    let mut ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), a.findings.len());
    // The summary adds up.
    let by_sev: usize = a.summary.by_severity.values().sum();
    let by_rule: usize = a.summary.by_rule.iter().map(|r| r.count).sum();
    assert_eq!(by_sev, a.findings.len());
    assert_eq!(by_rule, a.findings.len());
}

/// An IdP account whose vendor status has no mapping is known to the IdP (no SF-IDP-002), not
/// judged offboarded (no SF-IDP-003), and named in a note in plain words.
#[test]
fn an_unknown_idp_status_is_noted_and_the_audit_goes_on() {
    let snap = snapshot(
        vec![
            user(1, "odd@corp.com.prod", "odd@corp.com"),
            user(2, "gone@corp.com.prod", "gone@corp.com"),
        ],
        vec![],
    );
    let mut odd = idp_user("odd@corp.com", IdpStatus::Unknown);
    odd.vendor_status = Some("status=6,state=1".into());
    let idp = directory(vec![odd, idp_user("gone@corp.com", IdpStatus::Suspended)]);
    let report = run(&snap, &idp);
    assert_eq!(count(&report, RuleId::IdpUserNotInIdp), 0);
    // The other user is still judged.
    assert_eq!(count(&report, RuleId::IdpStaleUser), 1);
    let note = report
        .notes
        .iter()
        .find(|n| n.contains("does not recognise"))
        .expect("a note names the account");
    assert!(
        note.contains("odd@corp.com (vendor status `status=6,state=1`)"),
        "{note}"
    );
    assert!(!note.contains("Some("), "{note}");
}

/// The same address typed on two systems can arrive in different Unicode forms: `é` as one
/// code point (NFC) or as `e` plus a combining accent (NFD, as macOS file names and some HR
/// exports write it). They are one address.
#[test]
fn addresses_in_nfd_and_nfc_match_exactly() {
    let nfd = "me\u{301}lanie@corp.com";
    let nfc = "m\u{e9}lanie@corp.com";
    let snap = snapshot(
        vec![
            user(1, "melanie@corp.com.prod", nfd),
            user(2, "rene@corp.com.prod", "REN\u{c9}@corp.com"),
        ],
        vec![],
    );
    let idp = directory(vec![
        idp_user(nfc, IdpStatus::Active),
        idp_user("rene\u{301}@corp.com", IdpStatus::Active),
    ]);
    let report = run(&snap, &idp);
    assert_eq!(
        count(&report, RuleId::IdpUserNotInIdp),
        0,
        "{:?}",
        report.findings
    );
}

/// SF-HYG-001 (extended): off by default; when on, only active internal humans past the
/// dormant period, admins named in the title.
#[test]
fn hyg_001_fires_for_dormant_humans_only_when_selected() {
    let mut dormant = user(1, "dormant@corp.com", "dormant@corp.com");
    dormant.last_login_date = Some(days_ago(120));
    let mut admin = user(2, "admin@corp.com", "admin@corp.com");
    admin.last_login_date = None;
    admin.created_date = Some(days_ago(300));
    admin.is_frozen = Some(true);
    let mut recent = user(3, "recent@corp.com", "recent@corp.com");
    recent.last_login_date = Some(days_ago(89));
    let mut new_hire = user(4, "new@corp.com", "new@corp.com");
    new_hire.last_login_date = None;
    new_hire.created_date = Some(days_ago(5));
    let mut etl = integration_user(5, "etl");
    etl.last_login_date = Some(days_ago(400));
    let mut gone = user(6, "gone@corp.com", "gone@corp.com");
    gone.is_active = false;
    gone.last_login_date = Some(days_ago(400));
    let mut unknown = user(7, "unknown@corp.com", "unknown@corp.com");
    unknown.last_login_date = None;
    let mut mad = grant(2, "System Administrator", GrantPath::Profile);
    mad.modify_all_data = true;
    let snap = snapshot(
        vec![dormant, admin, recent, new_hire, etl, gone, unknown],
        vec![mad],
    );
    let idp = directory(
        (1..=7)
            .map(|n| {
                let name = [
                    "dormant", "admin", "recent", "new", "etl", "gone", "unknown",
                ];
                idp_user(&format!("{}@corp.com", name[n - 1]), IdpStatus::Active)
            })
            .collect(),
    );
    assert_eq!(count(&run(&snap, &idp), RuleId::HygDormantUser), 0);

    let mut config = config();
    config.rules = Some(vec![RuleId::HygDormantUser]);
    let report = evaluate(&snap, &idp, &config);
    assert_eq!(subjects(&report, RuleId::HygDormantUser), [uid(1), uid(2)]);
    let admin = report
        .findings
        .iter()
        .find(|f| f.subject.id == uid(2))
        .unwrap();
    assert!(admin.title.contains("never logged in"), "{}", admin.title);
    assert!(admin.title.contains("ModifyAllData"), "{}", admin.title);
    assert!(admin.title.contains("(frozen)"), "{}", admin.title);
    assert_eq!(admin.severity, Severity::Medium);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("SF-HYG-001: 1 active user"))
    );

    // A shorter period reaches the user who logged in 89 days ago.
    config.dormant_days = 60;
    let report = evaluate(&snap, &idp, &config);
    assert_eq!(count(&report, RuleId::HygDormantUser), 3);
}

/// SF-HYG-002 (extended): per app, every grant of an active integration user idle.
#[test]
fn hyg_002_fires_for_idle_integration_grants_only() {
    let etl = integration_user(1, "etl");
    let mut retired = integration_user(2, "retired");
    retired.is_active = false;
    let person = user(3, "person@corp.com", "person@corp.com");
    let idle = |app: &str, n: u32, days: i64| {
        let mut t = token(app, n, 5);
        t.last_used_date = Some(days_ago(days));
        t.created_date = Some(days_ago(500));
        t
    };
    let mut snap = snapshot(vec![etl, retired, person], Vec::new());
    snap.oauth_grants = Some(vec![
        idle("Informatica Cloud", 1, 200),
        idle("Informatica Cloud", 1, 150),
        idle("MuleSoft Anypoint", 1, 200),
        idle("MuleSoft Anypoint", 1, 2),
        idle("Informatica Cloud", 2, 300),
        idle("Slack", 3, 300),
    ]);
    let idp = directory(vec![idp_user("person@corp.com", IdpStatus::Active)]);
    let mut config = config();
    config.rules = Some(RuleId::parse_selection(&["core", "extended"]).unwrap());
    let report = evaluate(&snap, &idp, &config);
    assert_eq!(
        subjects(&report, RuleId::HygUnusedIntegrationTokens),
        [format!("Informatica Cloud|{}", &uid(1)[..15])]
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.rule_id == RuleId::HygUnusedIntegrationTokens)
        .unwrap();
    assert!(
        f.title.contains("2 OAuth grant(s)") && f.title.contains("150 days"),
        "{}",
        f.title
    );

    // Without OauthToken the rule says it was not evaluated.
    snap.oauth_grants = None;
    let report = evaluate(&snap, &idp, &config);
    assert!(
        report
            .not_evaluated
            .iter()
            .any(|n| n.rule_id == RuleId::HygUnusedIntegrationTokens)
    );
}

/// SF-HYG-003 (extended): open to every user, refresh tokens until revoked, live grants.
#[test]
fn hyg_003_fires_for_self_authorized_apps_with_lasting_tokens_only() {
    let app = |n: u32, name: &str, admin_only: bool, period: Option<i64>| ConnectedApp {
        id: format!("0H4{n:012}AAA"),
        name: name.into(),
        admin_approved_users_only: admin_only,
        refresh_token_validity_period: period,
        refresh_token_expires_when_idle: false,
        app_menu_item_ids: vec![format!("0DS{n:012}AAA")],
    };
    let mut gone = user(4, "gone@corp.com", "gone@corp.com");
    gone.is_active = false;
    let mut snap = snapshot(
        vec![
            user(1, "ann@corp.com", "ann@corp.com"),
            user(2, "bob@corp.com", "bob@corp.com"),
            user(3, "cat@corp.com", "cat@corp.com"),
            gone,
        ],
        vec![sysadmin(2)],
    );
    snap.connected_apps = Some(vec![
        app(1, "Workbench", false, None),
        app(2, "Slack", true, None),
        app(3, "Data Loader", false, Some(90)),
        app(4, "Unused Open App", false, None),
        app(5, "Only Former Staff", false, None),
        app(6, "Renamed Tool", false, None),
    ]);
    // The token names the app as it was called when granted; its menu item still joins it.
    let mut renamed = token("Old Tool Name", 3, 1);
    renamed.app_menu_item_id = Some(format!("0DS{:012}AAA", 6));
    snap.oauth_grants = Some(vec![
        token("Workbench", 1, 4),
        token("Workbench", 1, 1),
        token("Workbench", 2, 9),
        token("Slack", 1, 3),
        token("Data Loader", 3, 3),
        token("Only Former Staff", 4, 3),
        renamed,
    ]);
    let idp = directory(
        ["ann@corp.com", "bob@corp.com", "cat@corp.com"]
            .into_iter()
            .map(|e| idp_user(e, IdpStatus::Active))
            .collect(),
    );
    let mut config = config();
    let report = evaluate(&snap, &idp, &config);
    assert_eq!(
        count(&report, RuleId::HygOpenAppLastingTokens),
        0,
        "off by default"
    );
    config.rules = Some(RuleId::parse_selection(&["extended"]).unwrap());
    let report = evaluate(&snap, &idp, &config);
    let mut found: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == RuleId::HygOpenAppLastingTokens)
        .map(|f| f.subject.display.as_str())
        .collect();
    found.sort();
    assert_eq!(found, ["Renamed Tool", "Workbench"]);
    let workbench = report
        .findings
        .iter()
        .find(|f| f.subject.display == "Workbench")
        .unwrap();
    assert_eq!(workbench.subject.kind, SubjectKind::ConnectedApp);
    assert_eq!(workbench.severity, Severity::High);
    assert!(
        workbench
            .title
            .contains("2 active user(s) hold 3 grant(s), 1 of them admin(s)"),
        "{}",
        workbench.title
    );
    let tokens = &workbench.evidence[1].fields;
    assert_eq!(tokens["UseCount"], 14);
    assert!(!workbench.remediation.steps.is_empty());

    // Without ConnectedApplication the rule says it was not evaluated.
    snap.connected_apps = None;
    let report = evaluate(&snap, &idp, &config);
    assert!(
        report
            .not_evaluated
            .iter()
            .any(|n| n.rule_id == RuleId::HygOpenAppLastingTokens)
    );
}

/// SF-HYG-004 (extended): successful UI password logins of users with a Federation ID.
#[test]
fn hyg_004_fires_for_password_logins_of_sso_users_only() {
    let federated = |n: u32, name: &str| {
        let mut u = user(n, name, name);
        u.federation_identifier = Some(name.into());
        u
    };
    let mut etl = integration_user(5, "etl");
    etl.federation_identifier = Some("etl@corp.com".into());
    let mut snap = snapshot(
        vec![
            federated(1, "ann@corp.com"),
            federated(2, "bob@corp.com"),
            user(3, "cat@corp.com", "cat@corp.com"),
            federated(4, "dan@corp.com"),
            etl,
        ],
        Vec::new(),
    );
    let login = |n: u32, days: i64, login_type: &str, status: &str| LoginEvent {
        user_id: uid(n),
        login_time: days_ago(days),
        login_type: login_type.into(),
        status: Some(status.into()),
        source_ip: Some("198.51.100.7".into()),
    };
    snap.password_logins = Some(vec![
        login(1, 2, "Application", "Success"),
        login(1, 5, "Application", "Success"),
        // Failed attempt, SSO login, no Federation ID, outside the window, non-human.
        login(2, 2, "Application", "Invalid Password"),
        login(2, 3, "SAML Sfdc Initiated SSO", "Success"),
        login(3, 2, "Application", "Success"),
        login(4, 45, "Application", "Success"),
        login(5, 1, "Application", "Success"),
    ]);
    let idp = directory(
        [
            "ann@corp.com",
            "bob@corp.com",
            "cat@corp.com",
            "dan@corp.com",
        ]
        .into_iter()
        .map(|e| idp_user(e, IdpStatus::Active))
        .collect(),
    );
    let mut config = config();
    config.rules = Some(vec![RuleId::HygPasswordLoginSsoUser]);
    let report = evaluate(&snap, &idp, &config);
    assert_eq!(subjects(&report, RuleId::HygPasswordLoginSsoUser), [uid(1)]);
    let f = &report.findings[0];
    assert!(f.title.contains("logged in 2 time(s)"), "{}", f.title);
    assert_eq!(f.severity, Severity::Medium);

    snap.password_logins = None;
    let report = evaluate(&snap, &idp, &config);
    assert!(
        report
            .not_evaluated
            .iter()
            .any(|n| n.rule_id == RuleId::HygPasswordLoginSsoUser)
    );
}

/// SF-HYG-005 (extended): successful direct logins whose MFA nothing requires.
#[test]
fn hyg_005_fires_for_direct_logins_without_mfa_required_only() {
    let federated = |n: u32, name: &str| {
        let mut u = user(n, name, name);
        u.federation_identifier = Some(name.into());
        u
    };
    let mut snap = snapshot(
        vec![
            user(1, "ann@corp.com", "ann@corp.com"),
            user(2, "bob@corp.com", "bob@corp.com"),
            user(3, "cat@corp.com", "cat@corp.com"),
            federated(4, "dan@corp.com"),
            federated(5, "eve@corp.com"),
            user(6, "fay@corp.com", "fay@corp.com"),
            integration_user(7, "etl"),
            user(8, "gus@corp.com", "gus@corp.com"),
            federated(9, "hal@corp.com"),
        ],
        Vec::new(),
    );
    let mfa = |n: u32, force: bool, waive: bool| MfaGrant {
        assignee_id: uid(n),
        permission_set_id: format!("0PS{n:012}AAA"),
        source_name: if waive { "MFA Waiver" } else { "MFA Required" }.into(),
        path: GrantPath::PermissionSet,
        force_mfa: force,
        waive_mfa: waive,
    };
    snap.mfa_grants = Some(vec![
        mfa(1, false, true),
        // Waived, but the per-user permission requires MFA anyway.
        mfa(2, false, true),
        mfa(2, true, false),
        mfa(4, false, true),
        mfa(5, false, true),
        mfa(6, false, true),
        mfa(7, false, true),
        mfa(8, false, true),
        mfa(9, false, true),
    ]);
    snap.mfa_methods = Some(vec![MfaMethods {
        user_id: uid(1),
        methods: vec!["HasUserVerifiedMobileNumber".into()],
    }]);
    snap.session_settings = Some(SessionSettings {
        mfa_for_direct_ui_logins: Some(true),
        ..Default::default()
    });
    let login = |n: u32, days: i64, login_type: &str, status: &str| LoginEvent {
        user_id: uid(n),
        login_time: days_ago(days),
        login_type: login_type.into(),
        status: Some(status.into()),
        source_ip: Some("198.51.100.9".into()),
    };
    snap.password_logins = Some(vec![
        login(1, 2, "Application", "Success"),
        login(2, 2, "Application", "Success"),
        // Not waived: the org-wide requirement applies.
        login(3, 2, "Application", "Success"),
        // Federation ID the IdP knows: SF-HYG-004's, not this rule's.
        login(4, 2, "Application", "Success"),
        // Federation ID the IdP does not know: nothing but the password protects eve.
        login(5, 3, "Application", "Success"),
        // SSO only, a failed password, outside the window, non-human.
        login(6, 3, "SAML Sfdc Initiated SSO", "Success"),
        login(6, 4, "Application", "Invalid Password"),
        login(8, 45, "Application", "Success"),
        login(7, 1, "Application", "Success"),
        // Federation ID, but the IdP suspended hal: SSO is closed, the password is open.
        login(9, 1, "Application", "Success"),
    ]);
    let mut people: Vec<_> = ["ann", "bob", "cat", "dan", "fay", "gus"]
        .into_iter()
        .map(|n| idp_user(&format!("{n}@corp.com"), IdpStatus::Active))
        .collect();
    people.push(idp_user("hal@corp.com", IdpStatus::Suspended));
    let idp = directory(people);
    let mut config = config();
    assert_eq!(
        count(&evaluate(&snap, &idp, &config), RuleId::HygMfaNotEnforced),
        0,
        "off by default"
    );
    config.rules = Some(vec![RuleId::HygMfaNotEnforced]);
    let report = evaluate(&snap, &idp, &config);
    assert_eq!(
        subjects(&report, RuleId::HygMfaNotEnforced),
        [uid(1), uid(5), uid(9)]
    );
    let ann = report
        .findings
        .iter()
        .find(|f| f.subject.id == uid(1))
        .unwrap();
    assert_eq!(ann.severity, Severity::High);
    assert!(
        ann.title
            .contains("waived for them by permission set \"MFA Waiver\"")
            && ann.title.contains("no MFA method registered"),
        "{}",
        ann.title
    );
    let eve = report
        .findings
        .iter()
        .find(|f| f.subject.id == uid(5))
        .unwrap();
    // Methods were read and eve registered none.
    assert!(
        eve.title.contains("no MFA method registered"),
        "{}",
        eve.title
    );

    // The org does not require MFA: every direct-login person without the permission fires.
    snap.session_settings = Some(SessionSettings {
        mfa_for_direct_ui_logins: Some(false),
        ..Default::default()
    });
    snap.mfa_grants = Some(vec![mfa(2, true, false)]);
    snap.mfa_methods = None;
    let report = evaluate(&snap, &idp, &config);
    assert_eq!(
        subjects(&report, RuleId::HygMfaNotEnforced),
        [uid(1), uid(3), uid(5), uid(9)]
    );
    assert!(
        report.findings[0]
            .title
            .contains("registered verification methods unknown"),
        "{}",
        report.findings[0].title
    );

    // Without the org-wide setting the rule cannot judge, and says so.
    snap.session_settings = Some(SessionSettings::default());
    let report = evaluate(&snap, &idp, &config);
    assert_eq!(count(&report, RuleId::HygMfaNotEnforced), 0);
    assert!(
        report
            .not_evaluated
            .iter()
            .any(|n| n.rule_id == RuleId::HygMfaNotEnforced)
    );
}

/// SF-HYG-006 (extended): guest profiles beyond a web form, API-only profiles with admin
/// permissions, with active users.
#[test]
fn hyg_006_fires_for_broad_guest_and_api_only_profiles_with_users_only() {
    let mut snap = snapshot(Vec::new(), Vec::new());
    let profile = |n: u32, name: &str, user_type: &str| ProfileAccess {
        id: format!("00e{n:012}AAA"),
        name: name.into(),
        user_type: user_type.into(),
        active_users: vec![format!("user{n}@corp.com")],
        ..ProfileAccess::default()
    };
    let access = |object: &str, create: bool, read: bool| ObjectAccess {
        object: object.into(),
        create,
        read,
        ..ObjectAccess::default()
    };
    let mut reads = profile(1, "Store Guest", "Guest");
    reads.object_permissions = vec![access("Lead", true, false), access("Contact", false, true)];
    let mut form = profile(2, "Careers Guest", "Guest");
    form.object_permissions = vec![access("Lead", true, false)];
    let mut api_guest = profile(3, "Api Guest", "Guest");
    api_guest.api_enabled = true;
    let mut admin_integration = profile(4, "Provisioning", "Standard");
    admin_integration.api_only = true;
    admin_integration.manage_users = true;
    let mut licence_only = profile(5, "ETL", "Standard");
    licence_only.license_name = Some("Salesforce Integration".into());
    licence_only.view_all_data = true;
    let mut nobody = profile(6, "Retired ETL", "Standard");
    nobody.api_only = true;
    nobody.modify_all_data = true;
    nobody.active_users.clear();
    let mut plain = profile(7, "Integration", "Standard");
    plain.api_only = true;
    plain.api_enabled = true;
    let mut person = profile(8, "Sales Ops", "Standard");
    person.modify_all_data = true;
    snap.exposed_profiles = Some(vec![
        reads,
        form,
        api_guest,
        admin_integration,
        licence_only,
        nobody,
        plain,
        person,
    ]);
    let idp = directory(Vec::new());
    let mut config = config();
    config.rules = Some(vec![RuleId::HygBroadProfileAccess]);
    let report = evaluate(&snap, &idp, &config);
    let mut found: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.subject.display.as_str())
        .collect();
    found.sort();
    assert_eq!(found, ["Api Guest", "ETL", "Provisioning", "Store Guest"]);
    let store = report
        .findings
        .iter()
        .find(|f| f.subject.display == "Store Guest")
        .unwrap();
    assert_eq!(store.subject.kind, SubjectKind::Profile);
    assert_eq!(store.severity, Severity::High);
    assert!(
        store.title.contains("guest profile") && store.title.contains("Read on Contact"),
        "{}",
        store.title
    );
    assert!(!store.title.contains("Lead"), "{}", store.title);

    snap.exposed_profiles = None;
    let report = evaluate(&snap, &idp, &config);
    assert!(
        report
            .not_evaluated
            .iter()
            .any(|n| n.rule_id == RuleId::HygBroadProfileAccess)
    );
}

/// SF-HYG-007 (extended): admin-approved apps whose access reaches more than half of the
/// people.
#[test]
fn hyg_007_fires_for_admin_approved_apps_given_to_most_people_only() {
    let mut people: Vec<_> = (1..=6)
        .map(|n| {
            let mut u = user(n, &format!("p{n}@corp.com"), &format!("p{n}@corp.com"));
            u.profile_id = Some(
                if n <= 3 {
                    "00e000000000001AAA"
                } else {
                    "00e000000000002AAA"
                }
                .into(),
            );
            u
        })
        .collect();
    let mut etl = integration_user(7, "etl");
    etl.profile_id = Some("00e000000000003AAA".into());
    people.push(etl);
    let mut gone = user(8, "gone@corp.com", "gone@corp.com");
    gone.is_active = false;
    people.push(gone);
    let mut snap = snapshot(people, Vec::new());
    let app = |n: u32, name: &str, admin_only: bool| ConnectedApp {
        id: format!("0H4{n:012}AAA"),
        name: name.into(),
        admin_approved_users_only: admin_only,
        ..ConnectedApp::default()
    };
    snap.connected_apps = Some(vec![
        app(1, "Everyone App", true),
        app(2, "Half App", true),
        app(3, "Open App", false),
        app(4, "Set App", true),
    ]);
    let by_profile = |app: u32, profile: u32, name: &str| AppAccess {
        app_id: format!("0H4{app:012}AAA"),
        permission_set_id: format!("0PS{profile:012}AAA"),
        source_name: name.into(),
        path: GrantPath::Profile,
        profile_id: Some(format!("00e{profile:012}AAA")),
        assignee_ids: Vec::new(),
    };
    let by_set = |app: u32, assignees: &[u32]| AppAccess {
        app_id: format!("0H4{app:012}AAA"),
        permission_set_id: "0PS000000000099AAA".into(),
        source_name: "App Users".into(),
        path: GrantPath::PermissionSet,
        profile_id: None,
        assignee_ids: assignees.iter().map(|n| uid(*n)).collect(),
    };
    snap.app_access = Some(vec![
        // Both people profiles: 6 of 6.
        by_profile(1, 1, "Sales"),
        by_profile(1, 2, "Support"),
        // One profile (3 of 6) plus the integration's: exactly half is not most.
        by_profile(2, 1, "Sales"),
        by_profile(2, 3, "Integration"),
        // Self-authorized: SF-HYG-003's.
        by_profile(3, 1, "Sales"),
        by_profile(3, 2, "Support"),
        // A permission set with 3 people, the integration and a deactivated user, plus one
        // two more people through a profile: 5 of 6.
        by_set(4, &[1, 2, 4, 7, 8]),
        by_profile(4, 2, "Support"),
    ]);
    let idp = directory(Vec::new());
    let mut config = config();
    config.rules = Some(vec![RuleId::HygAppApprovedForEveryone]);
    let report = evaluate(&snap, &idp, &config);
    let mut found: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.subject.display.as_str())
        .collect();
    found.sort();
    assert_eq!(found, ["Everyone App", "Set App"]);
    let everyone = report
        .findings
        .iter()
        .find(|f| f.subject.display == "Everyone App")
        .unwrap();
    assert_eq!(everyone.severity, Severity::Medium);
    assert!(
        everyone.title.contains("6 of 6 active users (100%)"),
        "{}",
        everyone.title
    );
    let set_app = report
        .findings
        .iter()
        .find(|f| f.subject.display == "Set App")
        .unwrap();
    assert!(set_app.title.contains("5 of 6"), "{}", set_app.title);

    snap.app_access = None;
    let report = evaluate(&snap, &idp, &config);
    assert!(
        report
            .not_evaluated
            .iter()
            .any(|n| n.rule_id == RuleId::HygAppApprovedForEveryone)
    );
}
