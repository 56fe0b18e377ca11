//! Rule evaluation: in-memory hash joins over one Salesforce snapshot and one IdP directory.
//! Everything is O(n) in the input sizes; nothing here does I/O.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::finding::{
    Confidence, Evidence, Finding, FindingStatus, RelatedIdentity, Remediation, Severity, Subject,
    SubjectKind, fingerprint, sort_findings,
};
use super::matching::{
    IdpIndex, IdpMatch, MatchConfig, MatchMethod, normalise_address, sandbox_free,
};
use super::model::{
    AuditTrailRow, ExportEvent, IdpDirectory, IdpStatus, OauthGrant, PermissionGrant,
    SalesforceSnapshot, SfUser,
};
use super::rules::{RuleId, admin_definition};

/// How a run is judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditConfig {
    /// "Now" for the export window and for posture findings' timestamps; injectable so runs
    /// are reproducible.
    pub now: DateTime<Utc>,
    pub window_days: u32,
    /// Expected admins (e-mail or username); they get no SF-PRV-001/002 finding and are grouped
    /// in the summary instead.
    pub allow_admins: Vec<String>,
    pub matching: MatchConfig,
    /// Evaluate only these rules; `None` means all nine.
    pub rules: Option<Vec<RuleId>>,
}

impl AuditConfig {
    pub fn new(now: DateTime<Utc>) -> Self {
        AuditConfig {
            now,
            window_days: 30,
            allow_admins: Vec::new(),
            matching: MatchConfig::default(),
            rules: None,
        }
    }

    pub fn window_start(&self) -> DateTime<Utc> {
        self.now - Duration::days(i64::from(self.window_days))
    }

    fn enabled(&self, rule: RuleId) -> bool {
        self.rules.as_ref().is_none_or(|r| r.contains(&rule))
    }
}

/// Counts per rule, with whether the rule could run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule_id: RuleId,
    pub title: String,
    pub severity: Severity,
    pub count: usize,
    /// `false` when the rule was skipped (not selected, or an input was unavailable).
    pub evaluated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: usize,
    /// Every severity, most severe first, zeros included.
    pub by_severity: Vec<(Severity, usize)>,
    pub by_rule: Vec<RuleCount>,
    /// Holders of admin permissions on the allow-list (no PRV finding) vs not.
    pub expected_admins: usize,
    pub unexpected_admins: usize,
    pub non_human_identities: usize,
}

impl Summary {
    pub fn count_at_least(&self, threshold: Severity) -> usize {
        self.by_severity
            .iter()
            .filter(|(s, _)| s.at_least(threshold))
            .map(|(_, n)| n)
            .sum()
    }
}

/// One holder of admin permissions, for the summary's grouping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminEntry {
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub permissions: Vec<String>,
    /// e.g. `profile "System Administrator"`, `permission set group "Ops"`.
    pub grant_paths: Vec<String>,
    pub expected: bool,
    pub non_human: bool,
}

/// A service identity: inventoried, never reported as "not in IdP".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonHumanIdentity {
    pub user_id: String,
    pub username: String,
    pub license: Option<String>,
    pub api_only: bool,
    pub admin_permissions: Vec<String>,
    pub connected_apps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluated {
    pub rule_id: RuleId,
    pub reason: String,
}

/// The result of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub tool: String,
    pub tool_version: String,
    #[serde(with = "super::model::sf_datetime")]
    pub generated_at: DateTime<Utc>,
    pub org_id: String,
    pub idp_kind: String,
    pub idp_source: String,
    pub idp_users: usize,
    pub salesforce_users: usize,
    pub window_days: u32,
    #[serde(with = "super::model::sf_datetime")]
    pub window_start: DateTime<Utc>,
    pub admin_definition: String,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub admins: Vec<AdminEntry>,
    pub non_human_identities: Vec<NonHumanIdentity>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// Coverage caveats (e.g. no Event Monitoring), in plain words.
    pub notes: Vec<String>,
}

/// Salesforce ids come as 15 (case-sensitive) or 18 characters; the first 15 identify the
/// record, so joins use them.
fn id15(id: &str) -> &str {
    let id = id.trim();
    id.get(..15).unwrap_or(id)
}

#[derive(Default)]
struct AdminPerms<'a> {
    modify_all_data: bool,
    view_all_data: bool,
    manage_users: bool,
    customize_application: bool,
    data_export: bool,
    grants: Vec<&'a PermissionGrant>,
}

impl AdminPerms<'_> {
    fn is_admin(&self) -> bool {
        self.modify_all_data
            || self.view_all_data
            || self.manage_users
            || self.customize_application
    }

    fn names(&self) -> Vec<String> {
        [
            (self.modify_all_data, "ModifyAllData"),
            (self.view_all_data, "ViewAllData"),
            (self.manage_users, "ManageUsers"),
            (self.customize_application, "CustomizeApplication"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| n.to_owned())
        .collect()
    }

    /// Grant paths conferring the permission `pick` selects, e.g. only ModifyAllData ones.
    fn paths(&self, pick: impl Fn(&PermissionGrant) -> bool) -> Vec<String> {
        let mut paths: Vec<String> = self
            .grants
            .iter()
            .filter(|g| pick(g))
            .map(|g| format!("{} \"{}\"", g.path, g.source_name))
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }
}

struct Ctx<'a> {
    snapshot: &'a SalesforceSnapshot,
    config: &'a AuditConfig,
    idp: &'a IdpDirectory,
    users_by_id: HashMap<&'a str, &'a SfUser>,
    users_by_username: HashMap<String, &'a SfUser>,
    admin: HashMap<&'a str, AdminPerms<'a>>,
    allow: HashSet<String>,
}

impl<'a> Ctx<'a> {
    fn user(&self, id: &str) -> Option<&'a SfUser> {
        self.users_by_id.get(id15(id)).copied()
    }

    fn perms(&self, user: &SfUser) -> Option<&AdminPerms<'a>> {
        self.admin.get(id15(&user.id))
    }

    fn is_admin(&self, user: &SfUser) -> bool {
        user.is_standard_active() && self.perms(user).is_some_and(AdminPerms::is_admin)
    }

    fn is_allow_listed(&self, user: &SfUser) -> bool {
        sandbox_free(&user.email).is_some_and(|(k, _)| self.allow.contains(&k))
            || self.allow.contains(&user.username.trim().to_lowercase())
    }

    fn finding(
        &self,
        rule: RuleId,
        title: String,
        confidence: Confidence,
        subject: Subject,
        (related, evidence): (Vec<RelatedIdentity>, Vec<Evidence>),
        seen: (DateTime<Utc>, DateTime<Utc>),
    ) -> Finding {
        let info = rule.info();
        Finding {
            id: fingerprint(rule, &self.snapshot.org_id, &subject),
            rule_id: rule,
            rule_version: info.version,
            kind: info.kind,
            title,
            severity: info.severity,
            status: FindingStatus::Open,
            confidence,
            match_method: None,
            subject,
            related,
            evidence,
            remediation: Remediation {
                summary: info.remediation.to_owned(),
                steps: info.steps.iter().map(|s| (*s).to_owned()).collect(),
                references: info.references.iter().map(|s| (*s).to_owned()).collect(),
            },
            org_id: self.snapshot.org_id.clone(),
            idp_source: None,
            first_seen: seen.0,
            last_seen: seen.1,
        }
    }
}

/// Selects the grants that confer one permission.
type GrantFilter = fn(&PermissionGrant) -> bool;

fn fields(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn user_subject(user: &SfUser) -> Subject {
    Subject {
        kind: SubjectKind::User,
        id: user.id.clone(),
        display: user.username.clone(),
        email: Some(user.email.clone()).filter(|e| !e.is_empty()),
        username: Some(user.username.clone()),
    }
}

fn user_evidence(user: &SfUser) -> Evidence {
    Evidence {
        source: "salesforce.User".into(),
        record_id: Some(user.id.clone()),
        fields: fields([
            ("Username", json!(user.username)),
            ("Email", json!(user.email)),
            ("IsActive", json!(user.is_active)),
            ("UserType", json!(user.user_type)),
            ("Profile", json!(user.profile_name)),
            ("License", json!(user.license_name)),
            ("FederationIdentifier", json!(user.federation_identifier)),
            (
                "LastLoginDate",
                json!(user.last_login_date.map(|d| d.to_rfc3339())),
            ),
            ("IsFrozen", json!(user.is_frozen)),
        ]),
    }
}

fn grant_evidence(grant: &PermissionGrant) -> Evidence {
    Evidence {
        source: "salesforce.PermissionSetAssignment".into(),
        record_id: grant.assignment_id.clone(),
        fields: fields([
            ("PermissionSetId", json!(grant.permission_set_id)),
            ("GrantPath", json!(grant.path)),
            ("Source", json!(grant.source_name)),
            ("PermissionSetGroupId", json!(grant.permission_set_group_id)),
            ("PermissionsModifyAllData", json!(grant.modify_all_data)),
            ("PermissionsViewAllData", json!(grant.view_all_data)),
            ("PermissionsManageUsers", json!(grant.manage_users)),
            (
                "PermissionsCustomizeApplication",
                json!(grant.customize_application),
            ),
            ("PermissionsDataExport", json!(grant.data_export)),
            (
                "ExpirationDate",
                json!(grant.expiration_date.map(|d| d.to_rfc3339())),
            ),
        ]),
    }
}

fn match_evidence(kind: &str, m: &IdpMatch, idp: &IdpDirectory) -> Evidence {
    let account = m.idp_user.and_then(|i| idp.users.get(i));
    Evidence {
        source: format!("{kind}.user"),
        record_id: account.and_then(|a| a.id.clone()),
        fields: fields([
            ("match_method", json!(m.method.as_str())),
            ("lookup_key", json!(m.key)),
            (
                "sandbox_suffix_removed",
                if m.sandbox_suffix_removed {
                    json!(true)
                } else {
                    Value::Null
                },
            ),
            ("idp_email", json!(account.map(|a| a.email.as_str()))),
            ("idp_status", json!(m.status.as_str())),
            (
                "idp_vendor_status",
                json!(account.and_then(|a| a.vendor_status.as_deref())),
            ),
        ]),
    }
}

fn idp_related(kind: &str, m: &IdpMatch, idp: &IdpDirectory) -> Vec<RelatedIdentity> {
    m.idp_user
        .and_then(|i| idp.users.get(i))
        .map(|a| RelatedIdentity {
            role: "idp_account".into(),
            source: kind.to_owned(),
            id: a.id.clone(),
            display: a.email.clone(),
            email: Some(a.email.clone()),
            status: Some(a.status.as_str().to_owned()),
        })
        .into_iter()
        .collect()
}

fn salesforce_related(role: &str, user: &SfUser, is_admin: bool) -> RelatedIdentity {
    RelatedIdentity {
        role: role.to_owned(),
        source: "salesforce".into(),
        id: Some(user.id.clone()),
        display: user.username.clone(),
        email: Some(user.email.clone()).filter(|e| !e.is_empty()),
        status: Some(if is_admin { "admin" } else { "non-admin" }.to_owned()),
    }
}

/// Run every enabled rule. Deterministic: same inputs and config give the same report.
pub fn evaluate(
    snapshot: &SalesforceSnapshot,
    idp: &IdpDirectory,
    config: &AuditConfig,
) -> AuditReport {
    let now = config.now;
    let mut users_by_id = HashMap::with_capacity(snapshot.users.len());
    let mut users_by_username = HashMap::with_capacity(snapshot.users.len());
    for u in &snapshot.users {
        users_by_id.insert(id15(&u.id), u);
        users_by_username.insert(u.username.trim().to_lowercase(), u);
    }
    let mut admin: HashMap<&str, AdminPerms> = HashMap::new();
    for g in &snapshot.permission_grants {
        // An expired time-bound assignment no longer grants anything.
        if g.expiration_date.is_some_and(|exp| exp <= now) {
            continue;
        }
        let p = admin.entry(id15(&g.assignee_id)).or_default();
        p.modify_all_data |= g.modify_all_data;
        p.view_all_data |= g.view_all_data;
        p.manage_users |= g.manage_users;
        p.customize_application |= g.customize_application;
        p.data_export |= g.data_export;
        p.grants.push(g);
    }
    let allow = config
        .allow_admins
        .iter()
        .filter_map(|a| normalise_address(a).or_else(|| Some(a.trim().to_lowercase())))
        .filter(|a| !a.is_empty())
        .collect();
    let ctx = Ctx {
        snapshot,
        config,
        idp,
        users_by_id,
        users_by_username,
        admin,
        allow,
    };

    let mut findings = Vec::new();
    let mut not_evaluated = Vec::new();
    let mut notes = Vec::new();
    let mut skip = |rule: RuleId, reason: &str| {
        not_evaluated.push(NotEvaluated {
            rule_id: rule,
            reason: reason.to_owned(),
        })
    };

    let idp_kind = idp.kind.as_str();
    let index = IdpIndex::build(idp, &config.matching);
    // Active internal humans unknown to the IdP, for SF-IDP-004.
    let mut unknown_to_idp: HashMap<&str, (&SfUser, IdpMatch)> = HashMap::new();
    let mut nhis: Vec<NonHumanIdentity> = Vec::new();
    let mut admins: Vec<AdminEntry> = Vec::new();

    for user in snapshot.users.iter().filter(|u| u.is_standard_active()) {
        let perms = ctx.perms(user);
        let is_admin = perms.is_some_and(AdminPerms::is_admin);
        let non_human = user.is_non_human();
        if let Some(p) = perms.filter(|p| p.is_admin()) {
            admins.push(AdminEntry {
                user_id: user.id.clone(),
                username: user.username.clone(),
                email: user.email.clone(),
                permissions: p.names(),
                grant_paths: p.paths(|g| {
                    g.modify_all_data
                        || g.view_all_data
                        || g.manage_users
                        || g.customize_application
                }),
                expected: ctx.is_allow_listed(user),
                non_human,
            });
        }
        if non_human {
            nhis.push(NonHumanIdentity {
                user_id: user.id.clone(),
                username: user.username.clone(),
                license: user.license_name.clone(),
                api_only: user.api_only,
                admin_permissions: perms.map(AdminPerms::names).unwrap_or_default(),
                connected_apps: Vec::new(),
            });
            continue;
        }
        let m = index.lookup(user);
        let identity_rule = match m.status {
            IdpStatus::Absent if is_admin => Some(RuleId::IdpAdminNotInIdp),
            IdpStatus::Absent => Some(RuleId::IdpUserNotInIdp),
            s if s.is_offboarded() => Some(RuleId::IdpStaleUser),
            _ => None,
        };
        if let Some(rule) = identity_rule.filter(|r| config.enabled(*r)) {
            let mut evidence = vec![user_evidence(user), match_evidence(idp_kind, &m, idp)];
            let mut title = match rule {
                RuleId::IdpStaleUser => format!(
                    "{} is active in Salesforce but {} in {}",
                    user.username, m.status, idp_kind
                ),
                RuleId::IdpAdminNotInIdp => format!(
                    "Admin {} ({}) has no {} account",
                    user.username,
                    perms.map(AdminPerms::names).unwrap_or_default().join(", "),
                    idp_kind
                ),
                _ => format!("{} has no {} account", user.username, idp_kind),
            };
            if rule == RuleId::IdpAdminNotInIdp
                && let Some(p) = perms
            {
                evidence.extend(p.grants.iter().map(|g| grant_evidence(g)));
            }
            if rule == RuleId::IdpStaleUser && user.is_frozen == Some(true) {
                title.push_str(" (frozen: contained, not cleaned up)");
            }
            let mut f = ctx.finding(
                rule,
                title,
                m.confidence(),
                user_subject(user),
                (idp_related(idp_kind, &m, idp), evidence),
                (now, now),
            );
            f.match_method = Some(m.method);
            f.idp_source = Some(idp_kind.to_owned());
            findings.push(f);
        }
        if m.method == MatchMethod::None {
            unknown_to_idp.insert(id15(&user.id), (user, m));
        }
    }

    // SF-IDP-004
    match &snapshot.oauth_grants {
        None => skip(
            RuleId::IdpOauthUnknownUser,
            "OauthToken could not be read (needs Customize Application)",
        ),
        Some(grants) => {
            let nhi_ids: HashMap<&str, usize> = nhis
                .iter()
                .enumerate()
                .map(|(i, n)| (id15(&n.user_id), i))
                .collect();
            let mut nhi_apps: Vec<Vec<&str>> = vec![Vec::new(); nhis.len()];
            let mut folded: HashMap<(&str, &str), Vec<&OauthGrant>> = HashMap::new();
            for g in grants {
                let uid = id15(&g.user_id);
                if let Some(&i) = nhi_ids.get(uid) {
                    nhi_apps[i].push(g.app_name.as_str());
                }
                if unknown_to_idp.contains_key(uid) {
                    folded
                        .entry((g.app_name.as_str(), uid))
                        .or_default()
                        .push(g);
                }
            }
            for (nhi, mut apps) in nhis.iter_mut().zip(nhi_apps) {
                apps.sort_unstable();
                apps.dedup();
                nhi.connected_apps = apps.into_iter().map(str::to_owned).collect();
            }
            if config.enabled(RuleId::IdpOauthUnknownUser) {
                for ((app, uid), tokens) in folded {
                    let Some((user, m)) = unknown_to_idp.get(uid) else {
                        continue;
                    };
                    findings.push(oauth_finding(&ctx, app, user, m, &tokens));
                }
            }
        }
    }

    // SF-PRV-001 / SF-PRV-002
    for entry in &admins {
        if entry.expected {
            continue;
        }
        let Some(user) = ctx.user(&entry.user_id) else {
            continue;
        };
        let Some(perms) = ctx.perms(user) else {
            continue;
        };
        let checks: [(RuleId, bool, &str, GrantFilter); 2] = [
            (
                RuleId::PrvModifyAllData,
                perms.modify_all_data,
                "Modify All Data",
                |g| g.modify_all_data,
            ),
            (
                RuleId::PrvViewAllData,
                perms.view_all_data,
                "View All Data",
                |g| g.view_all_data,
            ),
        ];
        for (rule, holds, label, pick) in checks {
            if !holds || !config.enabled(rule) {
                continue;
            }
            let paths = perms.paths(pick);
            let mut evidence = vec![user_evidence(user)];
            evidence.extend(
                perms
                    .grants
                    .iter()
                    .filter(|g| pick(g))
                    .map(|g| grant_evidence(g)),
            );
            let who = if entry.non_human {
                " (non-human identity)"
            } else {
                ""
            };
            findings.push(ctx.finding(
                rule,
                format!(
                    "{}{} holds {} via {}",
                    user.username,
                    who,
                    label,
                    paths.join(", ")
                ),
                Confidence::High,
                user_subject(user),
                (Vec::new(), evidence),
                (now, now),
            ));
        }
    }

    // SF-CFG-001
    if config.enabled(RuleId::CfgSessionIp) {
        match (&snapshot.session_settings, &snapshot.login_ip_ranges) {
            (None, _) => skip(
                RuleId::CfgSessionIp,
                "SecuritySettings (Tooling API) could not be read",
            ),
            (_, None) => skip(RuleId::CfgSessionIp, "LoginIpRange could not be read"),
            (Some(_), Some(_)) => {
                if let Some(f) = session_ip_finding(&ctx, &admins) {
                    findings.push(f);
                }
            }
        }
    }

    // SF-EXP-001 / SF-EXP-002
    let exp_rules = [RuleId::ExpBulkExport, RuleId::ExpNonAdminExport];
    if exp_rules.iter().any(|r| config.enabled(*r)) {
        if snapshot.event_log_exports.is_none() {
            notes.push(
                "Event Monitoring log files were not available: Data Loader, Bulk API and \
                 report exports are visible only there, so only Setup > Data Export requests \
                 were checked."
                    .to_owned(),
            );
        }
        if snapshot.audit_trail.is_none() && snapshot.event_log_exports.is_none() {
            for r in exp_rules {
                skip(
                    r,
                    "neither SetupAuditTrail nor EventLogFile could be read \
                     (needs View Setup and Configuration)",
                );
            }
        } else {
            if snapshot.audit_trail.is_none() {
                notes.push(
                    "SetupAuditTrail could not be read: Setup > Data Export requests were not \
                     checked."
                        .to_owned(),
                );
            }
            findings.extend(export_findings(&ctx));
        }
    }

    if let Some(selected) = &config.rules {
        for r in RuleId::ALL {
            if !selected.contains(&r) {
                skip(r, "not selected for this run");
            }
        }
    }

    sort_findings(&mut findings);
    admins.sort_by(|a, b| (!a.expected, &a.username).cmp(&(!b.expected, &b.username)));
    nhis.sort_by(|a, b| a.username.cmp(&b.username));
    not_evaluated.sort_by_key(|n| n.rule_id);

    let mut by_sev: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|s| (*s, 0)).collect();
    let mut by_rule: BTreeMap<RuleId, usize> = BTreeMap::new();
    for f in &findings {
        *by_sev.entry(f.severity).or_default() += 1;
        *by_rule.entry(f.rule_id).or_default() += 1;
    }
    let summary = Summary {
        total: findings.len(),
        by_severity: by_sev.into_iter().collect(),
        by_rule: RuleId::ALL
            .iter()
            .map(|r| RuleCount {
                rule_id: *r,
                title: r.info().title.to_owned(),
                severity: r.severity(),
                count: by_rule.get(r).copied().unwrap_or(0),
                evaluated: !not_evaluated.iter().any(|n| n.rule_id == *r),
            })
            .collect(),
        expected_admins: admins.iter().filter(|a| a.expected).count(),
        unexpected_admins: admins.iter().filter(|a| !a.expected).count(),
        non_human_identities: nhis.len(),
    };

    AuditReport {
        tool: "sfmcp".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        generated_at: now,
        org_id: snapshot.org_id.clone(),
        idp_kind: idp_kind.to_owned(),
        idp_source: idp.source.clone(),
        idp_users: idp.users.len(),
        salesforce_users: snapshot.users.len(),
        window_days: config.window_days,
        window_start: config.window_start(),
        admin_definition: admin_definition().to_owned(),
        summary,
        findings,
        admins,
        non_human_identities: nhis,
        not_evaluated,
        notes,
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
            ctx.idp.kind
        ),
        m.confidence(),
        subject,
        (related, evidence),
        (created.unwrap_or(now), last_used.unwrap_or(now)),
    );
    f.match_method = Some(m.method);
    f.idp_source = Some(ctx.idp.kind.as_str().to_owned());
    f
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

fn export_findings(ctx: &Ctx<'_>) -> Vec<Finding> {
    let config = ctx.config;
    let start = config.window_start();
    let in_window = |t: DateTime<Utc>| t >= start && t <= config.now;
    let mut out = Vec::new();

    for row in ctx.snapshot.audit_trail.iter().flatten() {
        if !row.action.trim().eq_ignore_ascii_case("export") || !in_window(row.created_date) {
            continue;
        }
        let actor = ctx.user(&row.created_by_id);
        let delegate_name = row
            .delegate_user
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty());
        let delegate =
            delegate_name.and_then(|d| ctx.users_by_username.get(&d.to_lowercase()).copied());
        let subject = Subject {
            kind: SubjectKind::AuditEvent,
            id: row.id.clone(),
            display: format!(
                "{} at {}",
                row.display.as_deref().unwrap_or("export"),
                row.created_date.to_rfc3339()
            ),
            email: actor.map(|a| a.email.clone()).filter(|e| !e.is_empty()),
            username: actor.map(|a| a.username.clone()),
        };
        let actor_label = actor.map_or(row.created_by_id.as_str(), |a| a.username.as_str());
        out.extend(judge_export(
            ctx,
            subject,
            audit_row_evidence(row),
            row.created_date,
            (actor, actor_label),
            delegate_name.map(|name| (delegate, name)),
            "Setup > Data Export requested",
        ));
    }

    for ev in ctx.snapshot.event_log_exports.iter().flatten() {
        if !ev.is_export() || !in_window(ev.timestamp) {
            continue;
        }
        let actor = ctx.user(&ev.user_id);
        let subject = Subject {
            kind: SubjectKind::ExportEvent,
            id: format!("{}/{}", ev.log_file_id, ev.request_id),
            display: format!("{} at {}", ev.event_type, ev.timestamp.to_rfc3339()),
            email: actor.map(|a| a.email.clone()).filter(|e| !e.is_empty()),
            username: actor.map(|a| a.username.clone()),
        };
        let actor_label = actor.map_or(ev.user_id.as_str(), |a| a.username.as_str());
        let what = match ev.event_type {
            super::model::ExportEventType::ReportExport => "Report exported",
            _ => "Bulk API query job",
        };
        out.extend(judge_export(
            ctx,
            subject,
            export_event_evidence(ev),
            ev.timestamp,
            (actor, actor_label),
            None,
            what,
        ));
    }
    out
}

/// SF-EXP-001 for every export; SF-EXP-002 when the acting identity or the Login-As delegate
/// is not an admin (an identity missing from the snapshot cannot be shown to be one).
fn judge_export(
    ctx: &Ctx<'_>,
    subject: Subject,
    row_evidence: Evidence,
    when: DateTime<Utc>,
    actor: (Option<&SfUser>, &str),
    delegate: Option<(Option<&SfUser>, &str)>,
    what: &str,
) -> Vec<Finding> {
    let (actor_user, actor_label) = actor;
    let actor_admin = actor_user.is_some_and(|u| ctx.is_admin(u));
    let delegate_admin = delegate.map(|(u, _)| u.is_some_and(|u| ctx.is_admin(u)));
    let mut related = Vec::new();
    let mut evidence = vec![row_evidence];
    match actor_user {
        Some(u) => {
            related.push(salesforce_related("actor", u, actor_admin));
            if let Some(p) = ctx.perms(u) {
                evidence.extend(
                    p.grants
                        .iter()
                        .filter(|g| g.data_export)
                        .map(|g| grant_evidence(g)),
                );
            }
        }
        None => related.push(RelatedIdentity {
            role: "actor".into(),
            source: "salesforce".into(),
            id: Some(actor_label.to_owned()),
            display: format!("{actor_label} (not among the org's users in this snapshot)"),
            email: None,
            status: Some("unknown".into()),
        }),
    }
    if let Some((u, name)) = delegate {
        related.push(match u {
            Some(u) => salesforce_related("delegate", u, delegate_admin.unwrap_or(false)),
            None => RelatedIdentity {
                role: "delegate".into(),
                source: "salesforce".into(),
                id: None,
                display: format!("{name} (not among the org's users in this snapshot)"),
                email: None,
                status: Some("unknown".into()),
            },
        });
    }
    let by = match delegate {
        Some((_, name)) => format!("{name} logged in as {actor_label}"),
        None => actor_label.to_owned(),
    };
    let mut out = Vec::new();
    if ctx.config.enabled(RuleId::ExpBulkExport) {
        out.push(ctx.finding(
            RuleId::ExpBulkExport,
            format!("{what} by {by}"),
            Confidence::High,
            subject.clone(),
            (related.clone(), evidence.clone()),
            (when, when),
        ));
    }
    let non_admin_involved = !actor_admin || delegate_admin == Some(false);
    if non_admin_involved && ctx.config.enabled(RuleId::ExpNonAdminExport) {
        let mut who = Vec::new();
        if !actor_admin {
            who.push(format!("{actor_label} is not an admin"));
        }
        if let (Some(false), Some((_, name))) = (delegate_admin, delegate) {
            who.push(format!("delegate {name} is not an admin"));
        }
        let resolved = actor_user.is_some() && delegate.is_none_or(|(u, _)| u.is_some());
        out.push(ctx.finding(
            RuleId::ExpNonAdminExport,
            format!("{what} by {by}: {}", who.join("; ")),
            if resolved {
                Confidence::High
            } else {
                Confidence::Medium
            },
            subject,
            (related, evidence),
            (when, when),
        ));
    }
    out
}

fn audit_row_evidence(row: &AuditTrailRow) -> Evidence {
    Evidence {
        source: "salesforce.SetupAuditTrail".into(),
        record_id: Some(row.id.clone()),
        fields: fields([
            ("Action", json!(row.action)),
            ("Section", json!(row.section)),
            ("Display", json!(row.display)),
            ("CreatedDate", json!(row.created_date.to_rfc3339())),
            ("CreatedById", json!(row.created_by_id)),
            ("DelegateUser", json!(row.delegate_user)),
        ]),
    }
}

fn export_event_evidence(ev: &ExportEvent) -> Evidence {
    Evidence {
        source: format!("salesforce.EventLogFile.{}", ev.event_type),
        record_id: Some(ev.log_file_id.clone()),
        fields: fields([
            ("REQUEST_ID", json!(ev.request_id)),
            ("USER_ID", json!(ev.user_id)),
            ("TIMESTAMP", json!(ev.timestamp.to_rfc3339())),
            ("OPERATION_TYPE", json!(ev.operation)),
            ("ENTITY", json!(ev.entity)),
            ("ROWS_PROCESSED", json!(ev.rows_processed)),
            ("CLIENT_IP", json!(ev.client_ip)),
        ]),
    }
}
