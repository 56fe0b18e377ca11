//! Builders for audit test inputs, shared by the tests/audit_*.rs files.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use sfmcp_audit::model::{
    AuditTrailRow, ExportEvent, ExportEventType, GrantPath, IdpDirectory, IdpKind, IdpStatus,
    IdpUser, IpRange, LoginIpRange, OauthGrant, PermissionGrant, SalesforceSnapshot,
    SessionSettings, SfUser,
};
use sfmcp_audit::{AuditConfig, AuditReport, RuleId, evaluate};

pub const ORG: &str = "00D000000000001AAA";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn days_ago(d: i64) -> DateTime<Utc> {
    now() - Duration::days(d)
}

/// An 18-character user id from a small number.
pub fn uid(n: u32) -> String {
    format!("005{n:012}AAA")
}

pub fn user(n: u32, username: &str, email: &str) -> SfUser {
    SfUser {
        id: uid(n),
        username: username.into(),
        email: email.into(),
        name: None,
        is_active: true,
        user_type: "Standard".into(),
        profile_id: Some("00e000000000001AAA".into()),
        profile_name: Some("Standard User".into()),
        license_name: Some("Salesforce".into()),
        api_only: false,
        last_login_date: Some(days_ago(1)),
        federation_identifier: None,
        is_frozen: None,
        created_date: None,
    }
}

pub fn integration_user(n: u32, username: &str) -> SfUser {
    SfUser {
        license_name: Some("Salesforce Integration".into()),
        profile_name: Some("Minimum Access - API Only Integrations".into()),
        ..user(n, username, &format!("{username}.integration@corp.com"))
    }
}

pub fn grant(n: u32, source: &str, path: GrantPath) -> PermissionGrant {
    PermissionGrant {
        assignment_id: Some(format!("0Pa{n:012}AAA")),
        assignee_id: uid(n),
        permission_set_id: format!("0PS{n:012}AAA"),
        source_name: source.into(),
        path,
        ..Default::default()
    }
}

/// A System Administrator profile grant: every admin flag.
pub fn sysadmin(n: u32) -> PermissionGrant {
    PermissionGrant {
        modify_all_data: true,
        view_all_data: true,
        manage_users: true,
        customize_application: true,
        data_export: true,
        ..grant(n, "System Administrator", GrantPath::Profile)
    }
}

pub fn idp_user(email: &str, status: IdpStatus) -> IdpUser {
    IdpUser::new(email, status)
}

pub fn directory(users: Vec<IdpUser>) -> IdpDirectory {
    IdpDirectory {
        kind: IdpKind::Okta,
        source: "test".into(),
        users,
    }
}

pub fn snapshot(users: Vec<SfUser>, grants: Vec<PermissionGrant>) -> SalesforceSnapshot {
    SalesforceSnapshot {
        org_id: ORG.into(),
        users,
        permission_grants: grants,
        oauth_grants: Some(Vec::new()),
        audit_trail: Some(Vec::new()),
        event_log_exports: Some(Vec::new()),
        session_settings: Some(SessionSettings {
            lock_sessions_to_ip: true,
            enforce_ip_ranges_every_request: false,
            ..Default::default()
        }),
        login_ip_ranges: Some(Vec::new()),
        ..Default::default()
    }
}

pub fn token(app: &str, n: u32, uses: u64) -> OauthGrant {
    OauthGrant {
        app_name: app.into(),
        user_id: uid(n),
        app_menu_item_id: None,
        use_count: uses,
        last_used_date: Some(days_ago(2)),
        created_date: Some(days_ago(100)),
    }
}

pub fn export_row(id: &str, by: u32, when: DateTime<Utc>, delegate: Option<&str>) -> AuditTrailRow {
    AuditTrailRow {
        id: id.into(),
        action: "export".into(),
        section: Some("Data Export".into()),
        display: Some("Requested an export".into()),
        created_date: when,
        created_by_id: uid(by),
        delegate_user: delegate.map(str::to_owned),
    }
}

pub fn export_event(
    event_type: ExportEventType,
    request: &str,
    user_id: &str,
    when: DateTime<Utc>,
    operation: Option<&str>,
) -> ExportEvent {
    ExportEvent {
        event_type,
        log_file_id: "0AT000000000001AAA".into(),
        request_id: request.into(),
        user_id: user_id.into(),
        timestamp: when,
        operation: operation.map(str::to_owned),
        entity: Some("Account".into()),
        rows_processed: Some(1000),
        client_ip: None,
    }
}

pub fn ip_range(profile: &str, start: &str, end: &str) -> LoginIpRange {
    LoginIpRange {
        id: None,
        profile_id: profile.into(),
        range: IpRange {
            start: start.into(),
            end: end.into(),
            description: None,
        },
    }
}

pub fn config() -> AuditConfig {
    AuditConfig::new(now())
}

pub fn run(snapshot: &SalesforceSnapshot, idp: &IdpDirectory) -> AuditReport {
    evaluate(snapshot, idp, &config())
}

/// Subjects (ids) of one rule's findings, sorted.
pub fn subjects(report: &AuditReport, rule: RuleId) -> Vec<String> {
    let mut v: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == rule)
        .map(|f| f.subject.id.clone())
        .collect();
    v.sort();
    v
}

pub fn count(report: &AuditReport, rule: RuleId) -> usize {
    report.findings.iter().filter(|f| f.rule_id == rule).count()
}
