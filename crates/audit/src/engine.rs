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
use super::matching::{IdpIndex, IdpMatch, MatchConfig, normalise_address, sandbox_free};
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
    /// Every severity, most severe first, zeros included (a JSON object keyed by severity).
    pub by_severity: BTreeMap<Severity, usize>,
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

/// Which findings a caller wants (MCP `audit_findings`, CLI filters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingFilter {
    /// Only findings at least this severe.
    pub min_severity: Option<Severity>,
    pub rule: Option<RuleId>,
}

impl FindingFilter {
    pub fn matches(&self, f: &Finding) -> bool {
        self.min_severity.is_none_or(|s| f.severity.at_least(s))
            && self.rule.is_none_or(|r| f.rule_id == r)
    }
}

/// One page of a report's findings, in report order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingsPage<'a> {
    pub findings: Vec<&'a Finding>,
    /// Findings matching the filter, over all pages.
    pub total_matching: usize,
    /// Offset of the next page, `None` on the last one.
    pub next_offset: Option<usize>,
}

impl AuditReport {
    /// Page through the findings so a large result never reaches a model in one message. The
    /// report is immutable, so a plain offset is a stable cursor.
    pub fn page(&self, filter: FindingFilter, offset: usize, limit: usize) -> FindingsPage<'_> {
        let limit = limit.max(1);
        let mut total_matching = 0;
        let mut findings = Vec::with_capacity(limit.min(self.findings.len()));
        for f in self.findings.iter().filter(|f| filter.matches(f)) {
            if total_matching >= offset && findings.len() < limit {
                findings.push(f);
            }
            total_matching += 1;
        }
        let end = offset.saturating_add(findings.len());
        FindingsPage {
            findings,
            total_matching,
            next_offset: (end < total_matching).then_some(end),
        }
    }
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
    /// Normalised allow-list entries (addresses folded, usernames lower-cased).
    allow: HashSet<String>,
}

impl<'a> Ctx<'a> {
    fn user(&self, id: &str) -> Option<&'a SfUser> {
        self.users_by_id.get(id15(id)).copied()
    }

    fn perms(&self, user: &SfUser) -> Option<&AdminPerms<'a>> {
        self.admin.get(id15(&user.id))
    }

    /// Judged by permissions alone: someone deactivated since an export was still an admin
    /// when they made it, if their grants say so.
    fn is_admin(&self, user: &SfUser) -> bool {
        self.perms(user).is_some_and(AdminPerms::is_admin)
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

/// What the rules produce, accumulated across them.
#[derive(Default)]
struct Outcome {
    findings: Vec<Finding>,
    not_evaluated: Vec<NotEvaluated>,
    notes: Vec<String>,
}

impl Outcome {
    fn skip(&mut self, rule: RuleId, reason: &str) {
        self.not_evaluated.push(NotEvaluated {
            rule_id: rule,
            reason: reason.to_owned(),
        });
    }
}

/// Who the identity pass found, for the rules that follow it.
struct People<'a> {
    /// Active internal humans the IdP does not know, by 15-character id (SF-IDP-004).
    unknown_to_idp: HashMap<&'a str, (&'a SfUser, IdpMatch)>,
    non_human: Vec<NonHumanIdentity>,
    admins: Vec<AdminEntry>,
}

impl<'a> Ctx<'a> {
    fn new(
        snapshot: &'a SalesforceSnapshot,
        idp: &'a IdpDirectory,
        config: &'a AuditConfig,
    ) -> Self {
        let mut users_by_id = HashMap::with_capacity(snapshot.users.len());
        let mut users_by_username = HashMap::with_capacity(snapshot.users.len());
        for u in &snapshot.users {
            users_by_id.insert(id15(&u.id), u);
            users_by_username.insert(u.username.trim().to_lowercase(), u);
        }
        let mut admin: HashMap<&str, AdminPerms> = HashMap::new();
        for g in &snapshot.permission_grants {
            // An expired time-bound assignment no longer grants anything.
            if g.expiration_date.is_some_and(|exp| exp <= config.now) {
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
            .map(|a| normalise_address(a).unwrap_or_else(|| a.trim().to_lowercase()))
            .filter(|a| !a.is_empty())
            .collect();
        Ctx {
            snapshot,
            config,
            idp,
            users_by_id,
            users_by_username,
            admin,
            allow,
        }
    }
}

/// Run every enabled rule. Deterministic: same inputs and config give the same report.
pub fn evaluate(
    snapshot: &SalesforceSnapshot,
    idp: &IdpDirectory,
    config: &AuditConfig,
) -> AuditReport {
    let ctx = Ctx::new(snapshot, idp, config);
    let mut out = Outcome::default();
    let mut people = identity_rules(&ctx, &mut out);
    oauth_rule(&ctx, &mut people, &mut out);
    privilege_rules(&ctx, &people.admins, &mut out);
    session_rule(&ctx, &people.admins, &mut out);
    export_rules(&ctx, &mut out);
    note_unused_allow_list(&ctx, &people.admins, &mut out);
    if let Some(selected) = &config.rules {
        for r in RuleId::ALL {
            if !selected.contains(&r) {
                out.skip(r, "not selected for this run");
            }
        }
    }

    let Outcome {
        mut findings,
        mut not_evaluated,
        notes,
    } = out;
    let People {
        mut non_human,
        mut admins,
        ..
    } = people;
    sort_findings(&mut findings);
    admins.sort_by(|a, b| (!a.expected, &a.username).cmp(&(!b.expected, &b.username)));
    non_human.sort_by(|a, b| a.username.cmp(&b.username));
    not_evaluated.sort_by_key(|n| n.rule_id);
    let summary = summarise(&findings, &admins, non_human.len(), &not_evaluated);

    AuditReport {
        tool: "sfmcp".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        generated_at: config.now,
        org_id: snapshot.org_id.clone(),
        idp_kind: idp.kind.as_str().to_owned(),
        idp_source: idp.source.clone(),
        idp_users: idp.users.len(),
        salesforce_users: snapshot.users.len(),
        window_days: config.window_days,
        window_start: config.window_start(),
        admin_definition: admin_definition().to_owned(),
        summary,
        findings,
        admins,
        non_human_identities: non_human,
        not_evaluated,
        notes,
    }
}

fn summarise(
    findings: &[Finding],
    admins: &[AdminEntry],
    non_human: usize,
    not_evaluated: &[NotEvaluated],
) -> Summary {
    let mut by_severity: BTreeMap<Severity, usize> =
        Severity::ALL.iter().map(|s| (*s, 0)).collect();
    let mut by_rule: BTreeMap<RuleId, usize> = BTreeMap::new();
    for f in findings {
        *by_severity.entry(f.severity).or_default() += 1;
        *by_rule.entry(f.rule_id).or_default() += 1;
    }
    Summary {
        total: findings.len(),
        by_severity,
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
        non_human_identities: non_human,
    }
}

/// SF-IDP-001/002/003 over active internal users, collecting the admin and non-human
/// inventories on the way.
fn identity_rules<'a>(ctx: &Ctx<'a>, out: &mut Outcome) -> People<'a> {
    let (config, idp) = (ctx.config, ctx.idp);
    let now = config.now;
    let idp_kind = idp.kind.as_str();
    let index = IdpIndex::build(idp, &config.matching);
    let mut people = People {
        unknown_to_idp: HashMap::new(),
        non_human: Vec::new(),
        admins: Vec::new(),
    };

    for user in ctx.snapshot.users.iter().filter(|u| u.is_standard_active()) {
        let perms = ctx.perms(user);
        let is_admin = perms.is_some_and(AdminPerms::is_admin);
        let non_human = user.is_non_human();
        if let Some(p) = perms.filter(|p| p.is_admin()) {
            people.admins.push(AdminEntry {
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
            people.non_human.push(NonHumanIdentity {
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
                    user.username,
                    m.status,
                    idp.kind.display_name()
                ),
                RuleId::IdpAdminNotInIdp => format!(
                    "Admin {} ({}) has no account in {}",
                    user.username,
                    perms.map(AdminPerms::names).unwrap_or_default().join(", "),
                    idp.kind.display_name()
                ),
                _ => format!(
                    "{} has no account in {}",
                    user.username,
                    idp.kind.display_name()
                ),
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
            out.findings.push(f);
        }
        if m.status == IdpStatus::Absent {
            people.unknown_to_idp.insert(id15(&user.id), (user, m));
        }
    }
    people
}

/// SF-IDP-004, folding tokens per app and user; also lists the apps each non-human identity
/// uses.
fn oauth_rule(ctx: &Ctx<'_>, people: &mut People<'_>, out: &mut Outcome) {
    let Some(grants) = &ctx.snapshot.oauth_grants else {
        out.skip(
            RuleId::IdpOauthUnknownUser,
            "OauthToken could not be read (needs Customize Application)",
        );
        return;
    };
    let nhi_ids: HashMap<String, usize> = people
        .non_human
        .iter()
        .enumerate()
        .map(|(i, n)| (id15(&n.user_id).to_owned(), i))
        .collect();
    let mut nhi_apps: Vec<Vec<&str>> = vec![Vec::new(); people.non_human.len()];
    let mut folded: HashMap<(&str, &str), Vec<&OauthGrant>> = HashMap::new();
    for g in grants {
        let uid = id15(&g.user_id);
        if let Some(&i) = nhi_ids.get(uid) {
            nhi_apps[i].push(g.app_name.as_str());
        }
        if people.unknown_to_idp.contains_key(uid) {
            folded
                .entry((g.app_name.as_str(), uid))
                .or_default()
                .push(g);
        }
    }
    for (nhi, mut apps) in people.non_human.iter_mut().zip(nhi_apps) {
        apps.sort_unstable();
        apps.dedup();
        nhi.connected_apps = apps.into_iter().map(str::to_owned).collect();
    }
    if ctx.config.enabled(RuleId::IdpOauthUnknownUser) {
        for ((app, uid), tokens) in folded {
            if let Some((user, m)) = people.unknown_to_idp.get(uid) {
                out.findings.push(oauth_finding(ctx, app, user, m, &tokens));
            }
        }
    }
}

/// SF-PRV-001 / SF-PRV-002 for every admin not on the allow-list.
fn privilege_rules(ctx: &Ctx<'_>, admins: &[AdminEntry], out: &mut Outcome) {
    let now = ctx.config.now;
    for entry in admins.iter().filter(|a| !a.expected) {
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
            if !holds || !ctx.config.enabled(rule) {
                continue;
            }
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
            out.findings.push(ctx.finding(
                rule,
                format!(
                    "{}{who} holds {label} via {}",
                    user.username,
                    perms.paths(pick).join(", ")
                ),
                Confidence::High,
                user_subject(user),
                (Vec::new(), evidence),
                (now, now),
            ));
        }
    }
}

/// SF-CFG-001, when both the session settings and the profile ranges could be read.
fn session_rule(ctx: &Ctx<'_>, admins: &[AdminEntry], out: &mut Outcome) {
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

/// SF-EXP-001 / SF-EXP-002, saying which export channels could not be seen.
fn export_rules(ctx: &Ctx<'_>, out: &mut Outcome) {
    let exp_rules = [RuleId::ExpBulkExport, RuleId::ExpNonAdminExport];
    if !exp_rules.iter().any(|r| ctx.config.enabled(*r)) {
        return;
    }
    let snapshot = ctx.snapshot;
    if snapshot.event_log_exports.is_none() {
        out.notes.push(
            "Event Monitoring log files were not available: Data Loader, Bulk API and report \
             exports are visible only there, so only Setup > Data Export requests were checked."
                .to_owned(),
        );
    }
    if snapshot.audit_trail.is_none() && snapshot.event_log_exports.is_none() {
        for r in exp_rules {
            out.skip(
                r,
                "neither SetupAuditTrail nor EventLogFile could be read \
                 (needs View Setup and Configuration)",
            );
        }
        return;
    }
    if snapshot.audit_trail.is_none() {
        out.notes.push(
            "SetupAuditTrail could not be read: Setup > Data Export requests were not checked."
                .to_owned(),
        );
    }
    out.findings.extend(export_findings(ctx));
}

/// A typo in the allow-list silently keeps PRV findings coming; say which entries matched no
/// active admin.
fn note_unused_allow_list(ctx: &Ctx<'_>, admins: &[AdminEntry], out: &mut Outcome) {
    let mut unused: Vec<&str> = ctx
        .allow
        .iter()
        .filter(|entry| {
            !admins.iter().any(|a| {
                a.expected
                    && (sandbox_free(&a.email).is_some_and(|(k, _)| &k == *entry)
                        || a.username.trim().to_lowercase() == **entry)
            })
        })
        .map(String::as_str)
        .collect();
    if !unused.is_empty() {
        unused.sort_unstable();
        out.notes.push(format!(
            "Allow-list entries matching no active admin: {}",
            unused.join(", ")
        ));
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
            ctx.idp.kind.display_name()
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
