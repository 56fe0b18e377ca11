//! The nine rules. This module holds what they share: the catalogue (ids, severities and
//! meaning are fixed by the product; it is what `audit_rules` shows and what the exports
//! describe), the evaluation context with its hash-joined indexes, the evidence builders, and
//! the passes that feed several rules at once (one walk over the users for SF-IDP-001/002/003,
//! one over export events for SF-EXP-001/002). Each rule's own judgement and wording live in
//! its file, named after what it checks.
//!
//! Rules depend on findings, never the reverse: [`RuleId`] is defined with the finding
//! vocabulary (`crate::finding`) and re-exported here, while its catalogue lookups
//! ([`RuleId::info`]) are implemented here.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

pub use crate::finding::RuleId;

use crate::config::AuditConfig;
use crate::finding::{
    Confidence, Evidence, Finding, FindingKind, FindingStatus, RelatedIdentity, Remediation,
    Severity, Subject, SubjectKind, fingerprint,
};
use crate::matching::{IdpIndex, IdpMatch, MatchMethod, normalise_address, sandbox_free};
use crate::model::{
    AuditTrailRow, ExportEvent, ExportEventType, IdpDirectory, IdpStatus, IdpUser, PermissionGrant,
    SalesforceSnapshot, SfUser,
};
use crate::report::{AdminEntry, NonHumanIdentity, NotEvaluated};

mod admin_not_in_idp;
mod app_approved_for_everyone;
mod broad_profile_access;
mod bulk_export;
mod dormant_user;
mod mfa_not_enforced;
mod modify_all_data;
mod non_admin_export;
mod oauth_unknown_user;
mod open_app_lasting_tokens;
mod password_login_sso_user;
mod session_ip;
mod stale_user;
mod unused_integration_tokens;
mod user_not_in_idp;
mod view_all_data;

/// A rule's fixed description.
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    pub id: RuleId,
    pub version: u16,
    pub title: &'static str,
    pub severity: Severity,
    pub kind: FindingKind,
    pub description: &'static str,
    /// Snapshot inputs the rule reads; when one is unavailable the rule is not evaluated.
    pub inputs: &'static [&'static str],
    pub remediation: &'static str,
    pub steps: &'static [&'static str],
    pub references: &'static [&'static str],
    /// Control ids in published standards (OCSF `compliance.control` / `standards`).
    pub controls: &'static [(&'static str, &'static str)],
}

const ADMIN_DEFINITION: &str = "\"Admin\" means holding ModifyAllData, ViewAllData, ManageUsers or \
     CustomizeApplication through any grant path (profile, permission set, permission set \
     group), never a profile name.";

/// The catalogue, in [`RuleId::ALL`] order.
pub static CATALOGUE: [RuleInfo; 16] = [
    admin_not_in_idp::INFO,
    user_not_in_idp::INFO,
    stale_user::INFO,
    oauth_unknown_user::INFO,
    modify_all_data::INFO,
    view_all_data::INFO,
    session_ip::INFO,
    bulk_export::INFO,
    non_admin_export::INFO,
    dormant_user::INFO,
    unused_integration_tokens::INFO,
    open_app_lasting_tokens::INFO,
    password_login_sso_user::INFO,
    mfa_not_enforced::INFO,
    broad_profile_access::INFO,
    app_approved_for_everyone::INFO,
];

impl RuleId {
    pub fn info(self) -> &'static RuleInfo {
        let index = RuleId::ALL.iter().position(|r| *r == self).unwrap_or(0);
        &CATALOGUE[index]
    }

    pub fn severity(self) -> Severity {
        self.info().severity
    }
}

/// The admin definition, for reports.
pub fn admin_definition() -> &'static str {
    ADMIN_DEFINITION
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
    /// Allow-listed addresses that more than one active admin account carries, with those
    /// accounts' usernames: an address names a person, not an account, so it allow-lists
    /// none of them (a second admin account made with the expected admin's address must not
    /// hide behind the first).
    shared_allow_addresses: BTreeMap<String, Vec<String>>,
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
        sandbox_free(&user.email).is_some_and(|(k, _)| {
            self.allow.contains(&k) && !self.shared_allow_addresses.contains_key(&k)
        }) || self.allow.contains(&user.username.trim().to_lowercase())
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

/// Whole days from `then` to `now`, to the nearest day: a run's "now" is taken moments before
/// the data is read, and 200 days less a second should read as 200.
fn days_since(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    ((now - then).num_hours() + 12).div_euclid(24)
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
        // An exporter deactivated since is still who made the export; say so.
        display: if user.is_active {
            user.username.clone()
        } else {
            format!("{} (deactivated)", user.username)
        },
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
            .collect::<HashSet<String>>();
        let mut shared_allow_addresses: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for user in snapshot.users.iter().filter(|u| u.is_standard_active()) {
            let is_admin = admin.get(id15(&user.id)).is_some_and(AdminPerms::is_admin);
            if let Some((key, _)) = sandbox_free(&user.email).filter(|_| is_admin)
                && allow.contains(&key)
            {
                shared_allow_addresses
                    .entry(key)
                    .or_default()
                    .push(user.username.clone());
            }
        }
        shared_allow_addresses.retain(|_, usernames| usernames.len() > 1);
        Ctx {
            snapshot,
            config,
            idp,
            users_by_id,
            users_by_username,
            admin,
            allow,
            shared_allow_addresses,
        }
    }
}

/// How much a finding built on an IdP match can be trusted: exact evidence is high
/// confidence; rewritten addresses are medium; "absent" is medium when the user had a usable
/// corporate address and low when there was nothing to match on.
fn match_confidence(m: &IdpMatch) -> Confidence {
    match m.method {
        MatchMethod::FederationId | MatchMethod::ExactEmail => Confidence::High,
        MatchMethod::Alias | MatchMethod::DomainAlias | MatchMethod::SubaddressStripped => {
            Confidence::Medium
        }
        MatchMethod::None if m.key.is_some() => Confidence::Medium,
        MatchMethod::None => Confidence::Low,
    }
}

/// The finding of an identity rule (SF-IDP-001/002/003): the user, how they were matched, and
/// what the rule adds to the evidence.
fn identity_finding(
    ctx: &Ctx<'_>,
    rule: RuleId,
    user: &SfUser,
    m: &IdpMatch,
    title: String,
    more_evidence: Vec<Evidence>,
) -> Finding {
    let idp_kind = ctx.idp.kind.as_str();
    let mut evidence = vec![user_evidence(user), match_evidence(idp_kind, m, ctx.idp)];
    evidence.extend(more_evidence);
    let now = ctx.config.now;
    let mut f = ctx.finding(
        rule,
        title,
        match_confidence(m),
        user_subject(user),
        (idp_related(idp_kind, m, ctx.idp), evidence),
        (now, now),
    );
    f.match_method = Some(m.method);
    f.idp_source = Some(idp_kind.to_owned());
    f
}

/// SF-PRV-001 / SF-PRV-002: one finding per admin off the allow-list who holds the
/// permission `pick` selects, naming the grant paths that confer it.
fn privilege_findings(
    ctx: &Ctx<'_>,
    admins: &[AdminEntry],
    rule: RuleId,
    label: &str,
    pick: GrantFilter,
    out: &mut Outcome,
) {
    if !ctx.config.enabled(rule) {
        return;
    }
    let now = ctx.config.now;
    for entry in admins.iter().filter(|a| !a.expected) {
        let Some(user) = ctx.user(&entry.user_id) else {
            continue;
        };
        let Some(perms) = ctx.perms(user) else {
            continue;
        };
        if !perms.grants.iter().any(|g| pick(g)) {
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

/// What the rules found, for the engine to order and summarise.
pub(crate) struct RuleRun {
    pub findings: Vec<Finding>,
    pub not_evaluated: Vec<NotEvaluated>,
    pub notes: Vec<String>,
    pub admins: Vec<AdminEntry>,
    pub non_human: Vec<NonHumanIdentity>,
}

/// Run every enabled rule, unordered.
pub(crate) fn run(
    snapshot: &SalesforceSnapshot,
    idp: &IdpDirectory,
    config: &AuditConfig,
) -> RuleRun {
    let ctx = Ctx::new(snapshot, idp, config);
    let mut out = Outcome::default();
    let mut people = identity_pass(&ctx, &mut out);
    oauth_unknown_user::evaluate(&ctx, &mut people, &mut out);
    modify_all_data::evaluate(&ctx, &people.admins, &mut out);
    view_all_data::evaluate(&ctx, &people.admins, &mut out);
    session_ip::evaluate(&ctx, &people.admins, &mut out);
    export_rules(&ctx, &mut out);
    dormant_user::evaluate(&ctx, &mut out);
    unused_integration_tokens::evaluate(&ctx, &mut out);
    open_app_lasting_tokens::evaluate(&ctx, &mut out);
    password_login_sso_user::evaluate(&ctx, &mut out);
    mfa_not_enforced::evaluate(&ctx, &mut out);
    broad_profile_access::evaluate(&ctx, &mut out);
    app_approved_for_everyone::evaluate(&ctx, &mut out);
    note_unused_allow_list(&ctx, &people.admins, &mut out);
    note_unknown_statuses(&ctx, &mut out);
    if let Some(selected) = &config.rules {
        // Extended rules are off unless selected: only an unselected core rule is news.
        for r in RuleId::CORE {
            if !selected.contains(&r) {
                out.skip(r, "not selected for this run");
            }
        }
    }
    RuleRun {
        findings: out.findings,
        not_evaluated: out.not_evaluated,
        notes: out.notes,
        admins: people.admins,
        non_human: people.non_human,
    }
}

/// SF-IDP-001/002/003 over active internal users, collecting the admin and non-human
/// inventories on the way.
fn identity_pass<'a>(ctx: &Ctx<'a>, out: &mut Outcome) -> People<'a> {
    let (config, idp) = (ctx.config, ctx.idp);
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
        let finding = match identity_rule.filter(|r| config.enabled(*r)) {
            Some(RuleId::IdpAdminNotInIdp) => Some(admin_not_in_idp::finding(ctx, user, &m, perms)),
            Some(RuleId::IdpUserNotInIdp) => Some(user_not_in_idp::finding(ctx, user, &m)),
            Some(RuleId::IdpStaleUser) => Some(stale_user::finding(ctx, user, &m)),
            _ => None,
        };
        out.findings.extend(finding);
        if m.status == IdpStatus::Absent {
            people.unknown_to_idp.insert(id15(&user.id), (user, m));
        }
    }
    people
}

/// IdP accounts whose vendor status has no mapping were matched (they are not "not in IdP")
/// but not judged; say which, in plain words, instead of stopping the audit.
fn note_unknown_statuses(ctx: &Ctx<'_>, out: &mut Outcome) {
    const SHOWN: usize = 5;
    let unknown: Vec<&IdpUser> = ctx
        .idp
        .users
        .iter()
        .filter(|u| u.status == IdpStatus::Unknown)
        .collect();
    if unknown.is_empty() {
        return;
    }
    let idp = ctx.idp.kind.display_name();
    let mut listed: Vec<String> = unknown
        .iter()
        .take(SHOWN)
        .map(|u| {
            let vendor = u
                .vendor_status
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .unwrap_or("none given");
            format!("{} (vendor status `{vendor}`)", u.email)
        })
        .collect();
    if unknown.len() > SHOWN {
        listed.push(format!("and {} more", unknown.len() - SHOWN));
    }
    out.notes.push(format!(
        "{} {idp} account(s) have a status this version of sfmcp does not recognise: {}. \
         They count as known to {idp}, but whether they were offboarded was not judged; \
         check them in {idp}, and please report the status so it can be mapped.",
        unknown.len(),
        listed.join(", ")
    ));
}

/// A typo in the allow-list silently keeps PRV findings coming; say which entries matched no
/// active admin.
fn note_unused_allow_list(ctx: &Ctx<'_>, admins: &[AdminEntry], out: &mut Outcome) {
    let mut unused: Vec<&str> = ctx
        .allow
        .iter()
        .filter(|entry| !ctx.shared_allow_addresses.contains_key(*entry))
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
    for (address, usernames) in &ctx.shared_allow_addresses {
        out.notes.push(format!(
            "Allow-list entry {address} is the address of {} active admin accounts ({}), so it \
             allow-lists none of them: list the expected account by username instead",
            usernames.len(),
            usernames.join(", ")
        ));
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
            ExportEventType::ReportExport => "Report exported",
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
    let case = ExportCase {
        subject,
        related,
        evidence,
        when,
        what,
        by,
        actor_label,
        actor_admin,
        delegate: delegate.map(|(_, name)| name),
        delegate_admin,
        resolved: actor_user.is_some() && delegate.is_none_or(|(u, _)| u.is_some()),
    };
    let mut out = Vec::new();
    if ctx.config.enabled(RuleId::ExpBulkExport) {
        out.push(bulk_export::finding(ctx, &case));
    }
    if ctx.config.enabled(RuleId::ExpNonAdminExport) {
        out.extend(non_admin_export::finding(ctx, case));
    }
    out
}

/// One export, as both export rules judge it.
struct ExportCase<'c> {
    subject: Subject,
    related: Vec<RelatedIdentity>,
    evidence: Vec<Evidence>,
    when: DateTime<Utc>,
    /// What happened, e.g. "Report exported".
    what: &'c str,
    /// Who did it, naming the Login-As delegate when there was one.
    by: String,
    actor_label: &'c str,
    actor_admin: bool,
    /// The Login-As delegate's username.
    delegate: Option<&'c str>,
    /// `Some(false)` also when the delegate is not among the snapshot's users: nobody can show
    /// they are an admin.
    delegate_admin: Option<bool>,
    /// Both identities were found among the org's users.
    resolved: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_matches_the_fixed_table() {
        let table = [
            ("SF-IDP-001", Severity::Critical),
            ("SF-IDP-002", Severity::High),
            ("SF-IDP-003", Severity::High),
            ("SF-IDP-004", Severity::Medium),
            ("SF-PRV-001", Severity::High),
            ("SF-PRV-002", Severity::High),
            ("SF-CFG-001", Severity::Medium),
            ("SF-EXP-001", Severity::High),
            ("SF-EXP-002", Severity::Critical),
        ];
        for ((id, sev), info) in table.iter().zip(CATALOGUE.iter()) {
            assert_eq!(info.id.as_str(), *id);
            assert_eq!(info.severity, *sev);
            assert_eq!(info.id.info().id, info.id);
            assert_eq!(id.parse::<RuleId>(), Ok(info.id));
            assert!(!info.id.is_extended());
        }
        assert_eq!(RuleId::CORE.len(), table.len());
        // Extended rules follow the nine, each with its own id, remediation and sources.
        for info in &CATALOGUE[table.len()..] {
            assert!(info.id.is_extended(), "{}", info.id);
            assert!(!info.remediation.is_empty() && !info.references.is_empty());
            assert!(
                info.description
                    .contains("Extended rule: off unless selected")
            );
        }
    }

    #[test]
    fn extended_rules_are_off_unless_selected() {
        let config = AuditConfig::new(Utc::now());
        assert!(RuleId::CORE.iter().all(|r| config.enabled(*r)));
        assert!(!config.enabled(RuleId::HygDormantUser));
        let all = RuleId::parse_selection(&["core", "Extended", "SF-HYG-001"]).unwrap();
        assert_eq!(all, RuleId::ALL.to_vec());
        assert_eq!(
            RuleId::parse_selection(&["extended"]).unwrap(),
            [
                RuleId::HygDormantUser,
                RuleId::HygUnusedIntegrationTokens,
                RuleId::HygOpenAppLastingTokens,
                RuleId::HygPasswordLoginSsoUser,
                RuleId::HygMfaNotEnforced,
                RuleId::HygBroadProfileAccess,
                RuleId::HygAppApprovedForEveryone,
            ]
        );
        let err = RuleId::parse_selection(&["SF-HYG-999"]).unwrap_err();
        assert!(err.contains("`core` or `extended`"), "{err}");
    }

    #[test]
    fn export_rules_say_what_only_event_monitoring_sees() {
        for rule in [RuleId::ExpBulkExport, RuleId::ExpNonAdminExport] {
            let d = rule.info().description;
            assert!(d.contains("Data Loader, Bulk API and report exports are visible only"));
            assert!(d.contains("Event Monitoring"));
        }
    }

    #[test]
    fn the_catalogue_serialises_for_the_audit_rules_tool() {
        let v = serde_json::to_value(&CATALOGUE).unwrap();
        let rules = v.as_array().unwrap();
        assert_eq!(rules.len(), RuleId::ALL.len());
        assert_eq!(rules[0]["id"], "SF-IDP-001");
        assert_eq!(rules[0]["severity"], "critical");
        assert_eq!(rules[0]["kind"], "posture");
        assert_eq!(rules[7]["kind"], "detection");
        assert_eq!(rules[6]["controls"][0][1], "AC-10");
    }
    #[test]
    fn match_methods_set_the_findings_confidence() {
        let m = |method, key: Option<&str>| IdpMatch {
            method,
            idp_user: None,
            status: IdpStatus::Absent,
            key: key.map(str::to_owned),
            sandbox_suffix_removed: false,
        };
        assert_eq!(
            match_confidence(&m(MatchMethod::ExactEmail, Some("a@b.c"))),
            Confidence::High
        );
        assert_eq!(
            match_confidence(&m(MatchMethod::FederationId, None)),
            Confidence::High
        );
        assert_eq!(
            match_confidence(&m(MatchMethod::Alias, Some("a@b.c"))),
            Confidence::Medium
        );
        // Absent with an address to look up is a medium-confidence gap; with none, low.
        assert_eq!(
            match_confidence(&m(MatchMethod::None, Some("a@b.c"))),
            Confidence::Medium
        );
        assert_eq!(
            match_confidence(&m(MatchMethod::None, None)),
            Confidence::Low
        );
    }

    /// Two active admin accounts carrying the allow-listed address: the address names a
    /// person, so neither account is allow-listed by it, both are reported, and a note says
    /// to list the expected account by username.
    #[test]
    fn an_allow_listed_address_shared_by_two_admin_accounts_allow_lists_neither() {
        let grant = |user: &str| {
            serde_json::json!({
                "assignee_id": user, "permission_set_id": "0PS000000000001",
                "source_name": "System Administrator", "path": "profile",
                "modify_all_data": true,
            })
        };
        let user = |id: &str, username: &str| {
            serde_json::json!({
                "id": id, "username": username, "email": "dana@corp.example",
                "is_active": true, "user_type": "Standard",
            })
        };
        let snapshot: SalesforceSnapshot = serde_json::from_value(serde_json::json!({
            "org_id": "00D000000000001AAA",
            "users": [user("005000000000001", "dana@corp.example.prod"),
                      user("005000000000002", "dana.backdoor@corp.example")],
            "permission_grants": [grant("005000000000001"), grant("005000000000002")],
        }))
        .unwrap();
        let idp = IdpDirectory {
            kind: crate::model::IdpKind::File,
            source: "test".into(),
            users: Vec::new(),
        };
        let run = |allow: &str| {
            let mut config = AuditConfig::new(chrono::Utc::now());
            config.allow_admins = vec![allow.to_owned()];
            config.rules = Some(vec![RuleId::PrvModifyAllData]);
            crate::evaluate(&snapshot, &idp, &config)
        };
        let by_address = run("Dana@Corp.example");
        let reported: Vec<&str> = by_address
            .findings
            .iter()
            .filter(|f| f.rule_id == RuleId::PrvModifyAllData)
            .filter_map(|f| f.subject.username.as_deref())
            .collect();
        assert_eq!(reported.len(), 2, "{reported:?}");
        let note = by_address
            .notes
            .iter()
            .find(|n| n.contains("2 active admin accounts"))
            .unwrap_or_else(|| panic!("{:?}", by_address.notes));
        assert!(note.contains("dana.backdoor@corp.example"), "{note}");
        assert!(
            !by_address
                .notes
                .iter()
                .any(|n| n.contains("matching no active admin"))
        );
        // Naming the account by username allow-lists that one only (a username that equals
        // the shared address also names one account: usernames are unique).
        let by_login = run("DANA@corp.example.prod");
        let left: Vec<&str> = by_login
            .findings
            .iter()
            .filter_map(|f| f.subject.username.as_deref())
            .collect();
        assert_eq!(left, vec!["dana.backdoor@corp.example"]);
    }
}
