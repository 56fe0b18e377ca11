//! The live Salesforce collector: read-only queries through [`SalesforceClient`] that fill a
//! [`SalesforceSnapshot`].
//!
//! | input | source | when unreadable |
//! |---|---|---|
//! | users | `User` (active, `UserType = 'Standard'`) | the run fails |
//! | admin grants | one `PermissionSetAssignment` query over the four admin permissions (profiles' owned sets, permission sets, groups) | the run fails |
//! | frozen users | `UserLogin WHERE IsFrozen = true` | left unknown |
//! | OAuth grants | `OauthToken`, partitioned by user to stay under its 2,500-row cap | SF-IDP-004 not evaluated |
//! | connected apps (only when SF-HYG-003 or SF-HYG-007 runs) | `ConnectedApplication` and its `AppMenuItem` entries | SF-HYG-003/007 not evaluated |
//! | password logins (only when SF-HYG-004 or SF-HYG-005 runs) | `LoginHistory WHERE LoginType = 'Application'` in the window | SF-HYG-004/005 not evaluated |
//! | MFA grants (only when SF-HYG-005 runs) | `PermissionSetAssignment` of sets with `PermissionsForceTwoFactor` or `PermissionsBypassMFAForUiLogins` | SF-HYG-005 not evaluated |
//! | MFA methods (only when SF-HYG-005 runs) | `TwoFactorMethodsInfo` of the users who logged in with a password | the findings say the methods are unknown |
//! | guest and API-only profiles (only when SF-HYG-006 runs) | `Profile`, guest profiles' `ObjectPermissions`, the profiles' active `User`s | SF-HYG-006 not evaluated |
//! | connected app access (only when SF-HYG-007 runs) | `SetupEntityAccess` of connected apps, and the permission sets' active assignees | SF-HYG-007 not evaluated |
//! | exports | `SetupAuditTrail WHERE Action = 'export'` in the window | SF-EXP-* not evaluated |
//! | Event Monitoring | `EventLogFile` `BulkApi`, `BulkApi2`, `ReportExport` CSVs in the window | noted: exports by Bulk API, Data Loader and reports unseen |
//! | exporters left out above | `User` and `PermissionSetAssignment` by id (and Login-As delegates by username), whatever `IsActive`: a deactivated admin's export is still an admin's | the run fails |
//! | session settings | Tooling `SELECT Id, Metadata FROM SecuritySettings` | SF-CFG-001 not evaluated |
//! | profile IP ranges | `LoginIpRange` | SF-CFG-001 not evaluated |
//!
//! Optional fields (`Profile.UserLicense`, `PermissionsApiUserOnly`, `PermissionsDataExport`,
//! `FederationIdentifier`) are selected only when the org's describe has them, so older API
//! versions and trimmed orgs still work. Every REST call is counted in [`CollectStats`]:
//! with the default page sizes the count is the minimum paging allows (plus three describes).
//!
//! `OauthToken.AccessToken`, `DeleteToken` and `RequestToken` are live credentials and are
//! never selected; a test checks every statement this module can send.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{
    AppAccess, AuditTrailRow, ConnectedApp, ExportEvent, ExportEventType, GrantPath, IpRange,
    LoginEvent, LoginIpRange, MfaGrant, MfaMethods, OauthGrant, ObjectAccess, PermissionGrant,
    ProfileAccess, SalesforceSnapshot, SessionSettings, SfUser, sf_datetime,
};
use sfmcp_salesforce::{QueryOptions, QueryPage, SalesforceClient, SalesforceId, SfError};

/// `OauthToken` answers at most this many rows per query, whatever the paging.
const OAUTH_TOKEN_CAP: u64 = 2_500;
/// Leave head-room under the cap when sizing partitions from an average.
const OAUTH_PARTITION_TARGET: u64 = 2_000;
/// User ids per `IN (...)` list: about 4 KB of URL, well under Salesforce's 16 KB limit.
const MAX_IDS_PER_PARTITION: usize = 200;
/// The largest page Salesforce serves for REST queries.
const BATCH_SIZE: u16 = 2_000;

/// The stages of one collection, in order, for progress reporting.
pub const STAGES: [&str; 9] = [
    "connecting",
    "describing User, Profile, PermissionSet",
    "users",
    "admin permission grants",
    "frozen users",
    "OAuth tokens",
    "setup audit trail",
    "event monitoring logs",
    "session settings and login IP ranges",
];

/// Progress of a collection: stage `stage` (index into [`STAGES`]) has read `records` so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: usize,
    pub records: usize,
    pub api_calls: u64,
}

impl Progress {
    pub fn label(&self) -> &'static str {
        STAGES.get(self.stage).copied().unwrap_or("collecting")
    }
}

/// What the collection cost and what it could not read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectStats {
    /// REST calls sent by the collector (queries, query pages, describes, log downloads),
    /// connecting excluded.
    pub api_calls: u64,
    /// Inputs the org did not give, and why; the report carries them.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("reading {what} from Salesforce failed: {source}. {}", source.next_step())]
pub struct CollectError {
    pub what: &'static str,
    #[source]
    pub source: SfError,
}

/// How to collect.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Audit-trail and event-log rows from this instant on.
    pub window_start: DateTime<Utc>,
    /// Rows per query page (200..=2000), a hint Salesforce may lower.
    pub batch_size: u16,
    /// Read `ConnectedApplication` and `AppMenuItem` (two more calls): only a rule that
    /// judges connected apps' policies needs them.
    pub connected_apps: bool,
    /// Read the window's UI password logins from `LoginHistory` (one more query, bounded by
    /// the window and the login type).
    pub password_logins: bool,
    /// Read who holds the MFA permissions, and the registered verification methods of the
    /// users who logged in with a password (SF-HYG-005; implies `password_logins`).
    pub mfa: bool,
    /// Read guest and API-only profiles with their object access and users (SF-HYG-006).
    pub exposed_profiles: bool,
    /// Read which profiles and permission sets give access to connected apps, and their
    /// holders (SF-HYG-007; implies `connected_apps`).
    pub app_access: bool,
}

impl CollectOptions {
    pub fn new(window_start: DateTime<Utc>) -> Self {
        CollectOptions {
            window_start,
            batch_size: BATCH_SIZE,
            connected_apps: false,
            password_logins: false,
            mfa: false,
            exposed_profiles: false,
            app_access: false,
        }
    }
}

/// Collects the snapshot. `progress` is called at each stage and page; it must be cheap.
pub async fn collect(
    client: &SalesforceClient,
    options: &CollectOptions,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(SalesforceSnapshot, CollectStats), CollectError> {
    let mut collector = Collector {
        client,
        options,
        progress,
        calls: AtomicU64::new(0),
        stage: 0,
        notes: Vec::new(),
    };
    let snapshot = collector.run().await?;
    let stats = CollectStats {
        api_calls: collector.calls.load(Ordering::Relaxed),
        notes: collector.notes,
    };
    Ok((snapshot, stats))
}

struct Collector<'a> {
    client: &'a SalesforceClient,
    options: &'a CollectOptions,
    progress: &'a (dyn Fn(Progress) + Send + Sync),
    calls: AtomicU64,
    stage: usize,
    notes: Vec<String>,
}

/// The optional fields the org's describe offers.
#[derive(Debug, Default, Clone, Copy)]
struct Capabilities {
    user_license: bool,
    federation_identifier: bool,
    profile_api_only: bool,
    set_api_only: bool,
    set_data_export: bool,
    set_type: bool,
    set_group: bool,
    set_force_mfa: bool,
    set_waive_mfa: bool,
}

impl Collector<'_> {
    fn report(&self, records: usize) {
        (self.progress)(Progress {
            stage: self.stage,
            records,
            api_calls: self.calls.load(Ordering::Relaxed),
        });
    }

    fn enter(&mut self, stage: usize) {
        self.stage = stage;
        self.report(0);
    }

    fn count_call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    async fn run(&mut self) -> Result<SalesforceSnapshot, CollectError> {
        self.enter(0);
        let info = self.client.connect().await.map_err(|source| CollectError {
            what: "the connection",
            source,
        })?;
        let org_id = match info.identity_url.as_deref().and_then(org_id_from_identity) {
            Some(id) => id,
            None => self.org_id().await?,
        };

        self.enter(1);
        let caps = self.capabilities().await?;

        self.enter(2);
        let mut users = self
            .users(&users_soql(
                &caps,
                "IsActive = true AND UserType = 'Standard'",
            ))
            .await?;

        self.enter(3);
        let (mut permission_grants, api_only_users) = self
            .grants(&grants_soql(&caps, "Assignee.IsActive = true"))
            .await?;
        for user in &mut users {
            if api_only_users.contains(&user.id) {
                user.api_only = true;
            }
        }

        let mfa_grants = if self.options.mfa {
            self.mfa_grants(&caps).await?
        } else {
            None
        };
        let exposed_profiles = if self.options.exposed_profiles {
            self.exposed_profiles(&caps).await?
        } else {
            None
        };

        self.enter(4);
        self.frozen(&mut users).await?;

        self.enter(5);
        let user_ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
        let oauth_grants = self.oauth_grants(&user_ids).await?;
        let connected_apps = if self.options.connected_apps || self.options.app_access {
            self.connected_apps().await?
        } else {
            None
        };
        let app_access = match &connected_apps {
            Some(apps) if self.options.app_access && !apps.is_empty() => self.app_access().await?,
            Some(_) if self.options.app_access => Some(Vec::new()),
            _ => None,
        };

        self.enter(6);
        let audit_trail = self.audit_trail().await?;
        let password_logins = if self.options.password_logins || self.options.mfa {
            self.password_logins().await?
        } else {
            None
        };
        let mfa_methods = match &password_logins {
            Some(logins) if self.options.mfa => self.mfa_methods(logins).await?,
            _ => None,
        };

        self.enter(7);
        let event_log_exports = self.event_logs().await?;
        let missing =
            export_actors_missing(&users, audit_trail.as_deref(), event_log_exports.as_deref());
        if !missing.is_empty() {
            let (more_users, more_grants) = self.export_actors(&caps, &missing).await?;
            users.extend(more_users);
            permission_grants.extend(more_grants);
        }

        self.enter(8);
        let (session_settings, trusted_ip_ranges) = self.security_settings().await?;
        let login_ip_ranges = self.login_ip_ranges().await?;

        Ok(SalesforceSnapshot {
            org_id,
            instance_url: info.instance_url.map(|u| u.to_string()),
            users,
            permission_grants,
            oauth_grants,
            connected_apps,
            password_logins,
            mfa_grants,
            mfa_methods,
            exposed_profiles,
            app_access,
            audit_trail,
            event_log_exports,
            session_settings,
            login_ip_ranges,
            trusted_ip_ranges,
        })
    }

    /// Every page of a query, following `nextRecordsUrl`.
    async fn query_all(&self, soql: &str, tooling: bool) -> Result<Vec<Value>, SfError> {
        let mut records = Vec::new();
        self.query_pages(soql, tooling, |mut page| records.append(&mut page))
            .await?;
        Ok(records)
    }

    /// Every page of a query, handed to `each` as it arrives, so only one page of JSON is
    /// held at a time: a 50,000-user org's users and assignments held whole as JSON are most
    /// of a live audit's peak memory.
    async fn query_pages(
        &self,
        soql: &str,
        tooling: bool,
        mut each: impl FnMut(Vec<Value>) + Send,
    ) -> Result<(), SfError> {
        let batch = Some(self.options.batch_size);
        self.count_call();
        let mut page: QueryPage = if tooling {
            self.client.tooling_query(soql).await?
        } else {
            self.client
                .query(
                    soql,
                    QueryOptions {
                        include_deleted: false,
                        batch_size: batch,
                    },
                )
                .await?
        };
        let mut seen = page.records.len();
        each(std::mem::take(&mut page.records));
        self.report(seen);
        while let (false, Some(next)) = (page.done, page.next_records_url.take()) {
            self.count_call();
            page = self.client.query_more(&next, batch).await?;
            seen += page.records.len();
            each(std::mem::take(&mut page.records));
            self.report(seen);
        }
        Ok(())
    }

    /// A query whose object or fields the org may not offer: `Ok(None)` (with a note) when
    /// Salesforce says it is missing or not permitted.
    async fn optional_query(
        &mut self,
        soql: &str,
        tooling: bool,
        what: &'static str,
        consequence: &str,
    ) -> Result<Option<Vec<Value>>, CollectError> {
        match self.query_all(soql, tooling).await {
            Ok(records) => Ok(Some(records)),
            Err(e) if is_unavailable(&e) => {
                self.notes.push(format!(
                    "{what} could not be read ({}): {consequence}",
                    e.error_code().unwrap_or("not available")
                ));
                Ok(None)
            }
            Err(source) => Err(CollectError { what, source }),
        }
    }

    async fn org_id(&self) -> Result<String, CollectError> {
        let records = self
            .query_all("SELECT Id FROM Organization LIMIT 1", false)
            .await
            .map_err(|source| CollectError {
                what: "the organization id",
                source,
            })?;
        records
            .first()
            .and_then(|r| text(r, "Id"))
            .ok_or(CollectError {
                what: "the organization id",
                source: SfError::UnexpectedResponse {
                    what: "the Organization query".into(),
                    status: 200,
                    detail: "no Organization row".into(),
                    setting: self.client.url_setting(),
                },
            })
    }

    async fn capabilities(&self) -> Result<Capabilities, CollectError> {
        let describe = |object: &'static str| async move {
            self.count_call();
            self.client
                .describe(object)
                .await
                .map_err(|source| CollectError {
                    what: "the describe of User, Profile and PermissionSet",
                    source,
                })
        };
        let user = describe("User").await?;
        let profile = describe("Profile").await?;
        let set = describe("PermissionSet").await?;
        Ok(Capabilities {
            user_license: profile.field("UserLicenseId").is_some(),
            federation_identifier: user.field("FederationIdentifier").is_some(),
            profile_api_only: profile.field("PermissionsApiUserOnly").is_some(),
            set_api_only: set.field("PermissionsApiUserOnly").is_some(),
            set_data_export: set.field("PermissionsDataExport").is_some(),
            set_type: set.field("Type").is_some(),
            set_group: set.field("PermissionSetGroupId").is_some(),
            set_force_mfa: set.field("PermissionsForceTwoFactor").is_some(),
            set_waive_mfa: set.field("PermissionsBypassMFAForUiLogins").is_some(),
        })
    }

    async fn users(&mut self, soql: &str) -> Result<Vec<SfUser>, CollectError> {
        let mut users = Vec::new();
        self.query_pages(soql, false, |page| {
            users.extend(page.iter().filter_map(to_sf_user));
        })
        .await
        .map_err(|source| CollectError {
            what: "the users",
            source,
        })?;
        Ok(users)
    }

    /// The privileged assignments, and the users an API-only permission set makes non-human.
    async fn grants(
        &mut self,
        soql: &str,
    ) -> Result<(Vec<PermissionGrant>, HashSet<String>), CollectError> {
        let mut grants = Vec::new();
        let mut api_only = HashSet::new();
        let mut take = |r: &Value| {
            let (Some(assignee_id), Some(permission_set_id)) =
                (text(r, "AssigneeId"), text(r, "PermissionSetId"))
            else {
                return;
            };
            if flag(r, "PermissionSet.PermissionsApiUserOnly") {
                api_only.insert(assignee_id.clone());
            }
            let grant = PermissionGrant {
                assignment_id: text(r, "Id"),
                path: grant_path(r),
                source_name: source_name(r),
                assignee_id,
                permission_set_id,
                permission_set_group_id: text(r, "PermissionSetGroupId")
                    .or_else(|| text(r, "PermissionSet.PermissionSetGroupId")),
                modify_all_data: flag(r, "PermissionSet.PermissionsModifyAllData"),
                view_all_data: flag(r, "PermissionSet.PermissionsViewAllData"),
                manage_users: flag(r, "PermissionSet.PermissionsManageUsers"),
                customize_application: flag(r, "PermissionSet.PermissionsCustomizeApplication"),
                data_export: flag(r, "PermissionSet.PermissionsDataExport"),
                expiration_date: datetime(r, "ExpirationDate"),
            };
            // Rows selected only for the API-only marker grant nothing the rules judge.
            if grant.modify_all_data
                || grant.view_all_data
                || grant.manage_users
                || grant.customize_application
            {
                grants.push(grant);
            }
        };
        self.query_pages(soql, false, |page| page.iter().for_each(&mut take))
            .await
            .map_err(|source| CollectError {
                what: "the admin permission grants (PermissionSetAssignment)",
                source,
            })?;
        Ok((grants, api_only))
    }

    /// The users and admin grants of exporters the active-user queries left out (deactivated
    /// since, or not `Standard`): an export is judged on who made it, and "not among the org's
    /// users" would be wrong about them. Exports are few, so this is one or two queries.
    async fn export_actors(
        &mut self,
        caps: &Capabilities,
        missing: &ExportActors,
    ) -> Result<(Vec<SfUser>, Vec<PermissionGrant>), CollectError> {
        let mut users = Vec::new();
        let ids: Vec<&str> = missing.ids.iter().map(String::as_str).collect();
        for chunk in ids.chunks(MAX_IDS_PER_PARTITION) {
            let list = soql_list(chunk.iter().copied().filter(|id| is_id(id)));
            if !list.is_empty() {
                users.extend(
                    self.users(&users_soql(caps, &format!("Id IN ({list})")))
                        .await?,
                );
            }
        }
        let names: Vec<&str> = missing.usernames.iter().map(String::as_str).collect();
        for chunk in names.chunks(MAX_IDS_PER_PARTITION) {
            let list = soql_list(chunk.iter().copied().filter(|n| is_plain_username(n)));
            if !list.is_empty() {
                users.extend(
                    self.users(&users_soql(caps, &format!("Username IN ({list})")))
                        .await?,
                );
            }
        }
        let found: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
        let mut grants = Vec::new();
        for chunk in found.chunks(MAX_IDS_PER_PARTITION) {
            let list = soql_list(chunk.iter().copied().filter(|id| is_id(id)));
            if !list.is_empty() {
                let soql = grants_soql(caps, &format!("AssigneeId IN ({list})"));
                grants.extend(self.grants(&soql).await?.0);
            }
        }
        Ok((users, grants))
    }

    async fn frozen(&mut self, users: &mut [SfUser]) -> Result<(), CollectError> {
        let Some(records) = self
            .optional_query(
                "SELECT UserId FROM UserLogin WHERE IsFrozen = true",
                false,
                "UserLogin (frozen users)",
                "frozen users are reported like active ones (needs Manage Users)",
            )
            .await?
        else {
            return Ok(());
        };
        let frozen: HashSet<String> = records.iter().filter_map(|r| text(r, "UserId")).collect();
        for user in users {
            user.is_frozen = Some(frozen.contains(&user.id));
        }
        Ok(())
    }

    /// `OauthToken` in partitions of users sized from the total count so each stays under the
    /// 2,500-row cap; a partition that reaches the cap anyway is split and read again.
    async fn oauth_grants(
        &mut self,
        user_ids: &[&str],
    ) -> Result<Option<Vec<OauthGrant>>, CollectError> {
        const WHAT: &str = "OauthToken (connected app grants)";
        const CONSEQUENCE: &str = "SF-IDP-004 is not evaluated (needs Customize Application)";
        let Some(count) = self
            .optional_count("SELECT COUNT() FROM OauthToken", WHAT, CONSEQUENCE)
            .await?
        else {
            return Ok(None);
        };
        if count == 0 {
            return Ok(Some(Vec::new()));
        }
        if count < OAUTH_TOKEN_CAP {
            let Some(records) = self
                .optional_query(&oauth_soql(None), false, WHAT, CONSEQUENCE)
                .await?
            else {
                return Ok(None);
            };
            return Ok(Some(records.iter().filter_map(oauth_grant).collect()));
        }
        // Tokens of inactive users no longer work, and external users are not in scope, so
        // partitioning over the collected users loses nothing the rules judge.
        let per_user = count.div_ceil(user_ids.len().max(1) as u64).max(1);
        let size = ((OAUTH_PARTITION_TARGET / per_user) as usize).clamp(1, MAX_IDS_PER_PARTITION);
        let mut pending: Vec<&[&str]> = user_ids.chunks(size).rev().collect();
        let mut grants = Vec::new();
        while let Some(ids) = pending.pop() {
            let soql = oauth_soql(Some(ids));
            let Some(records) = self.optional_query(&soql, false, WHAT, CONSEQUENCE).await? else {
                return Ok(None);
            };
            if records.len() as u64 >= OAUTH_TOKEN_CAP && ids.len() > 1 {
                let (a, b) = ids.split_at(ids.len() / 2);
                pending.push(b);
                pending.push(a);
                continue;
            }
            if records.len() as u64 >= OAUTH_TOKEN_CAP {
                self.notes.push(format!(
                    "user {} holds {OAUTH_TOKEN_CAP} or more OAuth tokens; OauthToken returns \
                     no more than that, so some of their connected apps may be missing",
                    ids.first().copied().unwrap_or_default()
                ));
            }
            grants.extend(records.iter().filter_map(oauth_grant));
        }
        Ok(Some(grants))
    }

    /// The org's connected apps with the ids of their App Launcher entries, which
    /// `OauthToken.AppMenuItemId` points at.
    async fn connected_apps(&mut self) -> Result<Option<Vec<ConnectedApp>>, CollectError> {
        const CONSEQUENCE: &str =
            "SF-HYG-003 and SF-HYG-007 are not evaluated (needs View Setup and Configuration)";
        let Some(records) = self
            .optional_query(
                CONNECTED_APPS_SOQL,
                false,
                "ConnectedApplication",
                CONSEQUENCE,
            )
            .await?
        else {
            return Ok(None);
        };
        let mut apps: Vec<ConnectedApp> = records
            .iter()
            .filter_map(|r| {
                Some(ConnectedApp {
                    id: text(r, "Id")?,
                    name: text(r, "Name")?,
                    admin_approved_users_only: flag(r, "OptionsAllowAdminApprovedUsersOnly"),
                    refresh_token_validity_period: field(r, "RefreshTokenValidityPeriod")
                        .and_then(Value::as_f64)
                        .map(|p| p as i64),
                    refresh_token_expires_when_idle: flag(r, "OptionsRefreshTokenValidityMetric"),
                    app_menu_item_ids: Vec::new(),
                })
            })
            .collect();
        // Without the menu entries grants still join by name; the note says so.
        if let Some(items) = self
            .optional_query(
                APP_MENU_ITEMS_SOQL,
                false,
                "AppMenuItem",
                "OAuth grants are joined to connected apps by name only",
            )
            .await?
        {
            let mut by_app: HashMap<String, Vec<String>> = HashMap::new();
            for item in &items {
                if let (Some(id), Some(app)) = (text(item, "Id"), text(item, "ApplicationId")) {
                    by_app.entry(id15(&app).to_owned()).or_default().push(id);
                }
            }
            for app in &mut apps {
                app.app_menu_item_ids = by_app.remove(id15(&app.id)).unwrap_or_default();
            }
        }
        Ok(Some(apps))
    }

    async fn password_logins(&mut self) -> Result<Option<Vec<LoginEvent>>, CollectError> {
        let soql = password_logins_soql(self.options.window_start);
        let records = self
            .optional_query(
                &soql,
                false,
                "LoginHistory",
                "SF-HYG-004 and SF-HYG-005 are not evaluated (needs Manage Users or Monitor Login \
                 History)",
            )
            .await?;
        Ok(records.map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    Some(LoginEvent {
                        user_id: text(r, "UserId")?,
                        login_time: datetime(r, "LoginTime")?,
                        login_type: text(r, "LoginType")?,
                        status: text(r, "Status"),
                        source_ip: text(r, "SourceIp"),
                    })
                })
                .collect()
        }))
    }

    /// Who holds "Multi-Factor Authentication for User Interface Logins" or its waiver,
    /// through any grant path (profiles' owned sets included).
    async fn mfa_grants(
        &mut self,
        caps: &Capabilities,
    ) -> Result<Option<Vec<MfaGrant>>, CollectError> {
        const WHAT: &str = "PermissionSetAssignment (MFA permissions)";
        const CONSEQUENCE: &str = "SF-HYG-005 is not evaluated";
        let Some(soql) = mfa_grants_soql(caps) else {
            self.notes.push(format!(
                "{WHAT} could not be read (this org's PermissionSet has neither \
                 PermissionsForceTwoFactor nor PermissionsBypassMFAForUiLogins): {CONSEQUENCE}"
            ));
            return Ok(None);
        };
        let Some(records) = self.optional_query(&soql, false, WHAT, CONSEQUENCE).await? else {
            return Ok(None);
        };
        Ok(Some(
            records
                .iter()
                .filter_map(|r| {
                    Some(MfaGrant {
                        assignee_id: text(r, "AssigneeId")?,
                        permission_set_id: text(r, "PermissionSetId")?,
                        source_name: source_name(r),
                        path: grant_path(r),
                        force_mfa: flag(r, "PermissionSet.PermissionsForceTwoFactor"),
                        waive_mfa: flag(r, "PermissionSet.PermissionsBypassMFAForUiLogins"),
                    })
                })
                .collect(),
        ))
    }

    /// The verification methods of the users who logged in with a password: they are the
    /// ones SF-HYG-005 may report, and asking for them alone keeps the query small.
    async fn mfa_methods(
        &mut self,
        logins: &[LoginEvent],
    ) -> Result<Option<Vec<MfaMethods>>, CollectError> {
        let ids: BTreeSet<&str> = logins
            .iter()
            .map(|l| l.user_id.as_str())
            .filter(|id| is_id(id))
            .collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        let mut out = Vec::new();
        for chunk in ids.chunks(MAX_IDS_PER_PARTITION) {
            let soql = mfa_methods_soql(chunk);
            let Some(records) = self
                .optional_query(
                    &soql,
                    false,
                    "TwoFactorMethodsInfo",
                    "SF-HYG-005 findings cannot say which verification methods users \
                     registered (needs Manage Multi-Factor Authentication in API)",
                )
                .await?
            else {
                return Ok(None);
            };
            out.extend(records.iter().filter_map(|r| {
                Some(MfaMethods {
                    user_id: text(r, "UserId")?,
                    methods: MFA_METHOD_FIELDS
                        .iter()
                        .filter(|f| flag(r, f))
                        .map(|f| (*f).to_owned())
                        .collect(),
                })
            }));
        }
        Ok(Some(out))
    }

    /// Guest and API-only profiles, the guest ones' object permissions, and every such
    /// profile's active users.
    async fn exposed_profiles(
        &mut self,
        caps: &Capabilities,
    ) -> Result<Option<Vec<ProfileAccess>>, CollectError> {
        const CONSEQUENCE: &str =
            "SF-HYG-006 is not evaluated (needs View Setup and Configuration)";
        let Some(records) = self
            .optional_query(&exposed_profiles_soql(caps), false, "Profile", CONSEQUENCE)
            .await?
        else {
            return Ok(None);
        };
        let mut profiles: Vec<ProfileAccess> = records
            .iter()
            .filter_map(|r| {
                Some(ProfileAccess {
                    id: text(r, "Id")?,
                    name: text(r, "Name")?,
                    user_type: text(r, "UserType").unwrap_or_else(|| "Standard".into()),
                    license_name: text(r, "UserLicense.Name"),
                    api_enabled: flag(r, "PermissionsApiEnabled"),
                    api_only: flag(r, "PermissionsApiUserOnly"),
                    modify_all_data: flag(r, "PermissionsModifyAllData"),
                    view_all_data: flag(r, "PermissionsViewAllData"),
                    manage_users: flag(r, "PermissionsManageUsers"),
                    object_permissions: Vec::new(),
                    active_users: Vec::new(),
                })
            })
            .collect();
        let guest_ids: Vec<&str> = profiles
            .iter()
            .filter(|p| p.is_guest())
            .map(|p| p.id.as_str())
            .filter(|id| is_id(id))
            .collect();
        let all_ids: Vec<&str> = profiles
            .iter()
            .map(|p| p.id.as_str())
            .filter(|id| is_id(id))
            .collect();
        let mut objects: HashMap<String, Vec<ObjectAccess>> = HashMap::new();
        for chunk in guest_ids.chunks(MAX_IDS_PER_PARTITION) {
            let Some(rows) = self
                .optional_query(
                    &object_permissions_soql(chunk),
                    false,
                    "ObjectPermissions",
                    CONSEQUENCE,
                )
                .await?
            else {
                return Ok(None);
            };
            for r in &rows {
                let (Some(profile), Some(object)) =
                    (text(r, "Parent.ProfileId"), text(r, "SobjectType"))
                else {
                    continue;
                };
                objects
                    .entry(id15(&profile).to_owned())
                    .or_default()
                    .push(ObjectAccess {
                        object,
                        create: flag(r, "PermissionsCreate"),
                        read: flag(r, "PermissionsRead"),
                        edit: flag(r, "PermissionsEdit"),
                        delete: flag(r, "PermissionsDelete"),
                        view_all: flag(r, "PermissionsViewAllRecords"),
                        modify_all: flag(r, "PermissionsModifyAllRecords"),
                    });
            }
        }
        let mut users: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in all_ids.chunks(MAX_IDS_PER_PARTITION) {
            let soql = format!(
                "SELECT Id, Username, ProfileId FROM User WHERE IsActive = true AND ProfileId \
                 IN ({}) ORDER BY Username",
                soql_list(chunk.iter().copied())
            );
            let records = self
                .query_all(&soql, false)
                .await
                .map_err(|source| CollectError {
                    what: "the users of guest and API-only profiles",
                    source,
                })?;
            for r in &records {
                if let (Some(profile), Some(username)) = (text(r, "ProfileId"), text(r, "Username"))
                {
                    users
                        .entry(id15(&profile).to_owned())
                        .or_default()
                        .push(username);
                }
            }
        }
        for p in &mut profiles {
            p.object_permissions = objects.remove(id15(&p.id)).unwrap_or_default();
            p.active_users = users.remove(id15(&p.id)).unwrap_or_default();
        }
        Ok(Some(profiles))
    }

    /// The profiles and permission sets that give access to connected apps, with the
    /// permission sets' active assignees (a profile's holders are its users, already read).
    async fn app_access(&mut self) -> Result<Option<Vec<AppAccess>>, CollectError> {
        const CONSEQUENCE: &str =
            "SF-HYG-007 is not evaluated (needs View Setup and Configuration)";
        let Some(records) = self
            .optional_query(APP_ACCESS_SOQL, false, "SetupEntityAccess", CONSEQUENCE)
            .await?
        else {
            return Ok(None);
        };
        let mut rows: Vec<AppAccess> = records
            .iter()
            .filter_map(|r| {
                let owned = flag(r, "Parent.IsOwnedByProfile");
                Some(AppAccess {
                    app_id: text(r, "SetupEntityId")?,
                    permission_set_id: text(r, "ParentId")?,
                    source_name: if owned {
                        text(r, "Parent.Profile.Name")
                    } else {
                        text(r, "Parent.Label")
                    }
                    .or_else(|| text(r, "ParentId"))?,
                    path: if owned {
                        GrantPath::Profile
                    } else {
                        GrantPath::PermissionSet
                    },
                    profile_id: text(r, "Parent.ProfileId").filter(|_| owned),
                    assignee_ids: Vec::new(),
                })
            })
            .collect();
        let sets: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.profile_id.is_none())
            .map(|r| r.permission_set_id.as_str())
            .filter(|id| is_id(id))
            .collect();
        let sets: Vec<&str> = sets.into_iter().collect();
        let mut assignees: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in sets.chunks(MAX_IDS_PER_PARTITION) {
            let soql = format!(
                "SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE \
                 Assignee.IsActive = true AND PermissionSetId IN ({}) ORDER BY Id",
                soql_list(chunk.iter().copied())
            );
            let records = self
                .query_all(&soql, false)
                .await
                .map_err(|source| CollectError {
                    what: "the holders of connected apps' permission sets",
                    source,
                })?;
            for r in &records {
                if let (Some(set), Some(user)) = (text(r, "PermissionSetId"), text(r, "AssigneeId"))
                {
                    assignees
                        .entry(id15(&set).to_owned())
                        .or_default()
                        .push(user);
                }
            }
        }
        for row in &mut rows {
            if row.profile_id.is_none() {
                row.assignee_ids = assignees
                    .get(id15(&row.permission_set_id))
                    .cloned()
                    .unwrap_or_default();
            }
        }
        Ok(Some(rows))
    }

    async fn optional_count(
        &mut self,
        soql: &str,
        what: &'static str,
        consequence: &str,
    ) -> Result<Option<u64>, CollectError> {
        self.count_call();
        match self
            .client
            .query::<Value>(soql, QueryOptions::default())
            .await
        {
            Ok(result) => Ok(Some(result.total_size)),
            Err(e) if is_unavailable(&e) => {
                self.notes.push(format!(
                    "{what} could not be read ({}): {consequence}",
                    e.error_code().unwrap_or("not available")
                ));
                Ok(None)
            }
            Err(source) => Err(CollectError { what, source }),
        }
    }

    async fn audit_trail(&mut self) -> Result<Option<Vec<AuditTrailRow>>, CollectError> {
        let soql = audit_trail_soql(self.options.window_start);
        let records = self
            .optional_query(
                &soql,
                false,
                "SetupAuditTrail",
                "SF-EXP-001 and SF-EXP-002 are not evaluated (needs View Setup and Configuration)",
            )
            .await?;
        Ok(records.map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    Some(AuditTrailRow {
                        id: text(r, "Id")?,
                        action: text(r, "Action")?,
                        section: text(r, "Section"),
                        display: text(r, "Display"),
                        created_date: datetime(r, "CreatedDate")?,
                        created_by_id: text(r, "CreatedById")?,
                        delegate_user: text(r, "DelegateUser"),
                    })
                })
                .collect()
        }))
    }

    /// Bulk API and report exports, from Event Monitoring's daily CSVs where the org has them.
    async fn event_logs(&mut self) -> Result<Option<Vec<ExportEvent>>, CollectError> {
        let soql = event_log_soql(self.options.window_start);
        let Some(files) = self
            .optional_query(
                &soql,
                false,
                "EventLogFile",
                "Data Loader, Bulk API and report exports are visible only in Event Monitoring \
                 logs, which this org or user cannot read",
            )
            .await?
        else {
            return Ok(None);
        };
        let mut events = Vec::new();
        for (done, file) in files.iter().enumerate() {
            let (Some(id), Some(kind)) = (
                text(file, "Id"),
                text(file, "EventType").and_then(|t| export_event_type(&t)),
            ) else {
                continue;
            };
            let Ok(parsed) = SalesforceId::parse(&id) else {
                continue;
            };
            self.count_call();
            let bytes = self
                .client
                .event_log_file(&parsed)
                .await
                .map_err(|source| CollectError {
                    what: "an EventLogFile log",
                    source,
                })?;
            let before = events.len();
            parse_event_log(&bytes, kind, &id, &mut events);
            if events.len() == before && !bytes.is_empty() {
                self.notes
                    .push(format!("EventLogFile {id} ({kind}) had no readable rows"));
            }
            self.report(done + 1);
        }
        Ok(Some(events))
    }

    async fn security_settings(
        &mut self,
    ) -> Result<(Option<SessionSettings>, Vec<IpRange>), CollectError> {
        let records = self
            .optional_query(
                "SELECT Id, Metadata FROM SecuritySettings LIMIT 1",
                true,
                "SecuritySettings (Tooling API)",
                "SF-CFG-001 is not evaluated (needs View Setup and Configuration)",
            )
            .await?;
        let Some(metadata) = records
            .as_ref()
            .and_then(|r| r.first())
            .and_then(|r| r.get("Metadata"))
        else {
            return Ok((None, Vec::new()));
        };
        let session = metadata.get("sessionSettings");
        let settings = session.map(|s| SessionSettings {
            lock_sessions_to_ip: s
                .get("lockSessionsToIp")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            enforce_ip_ranges_every_request: s
                .get("enforceIpRangesEveryRequest")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            mfa_for_direct_ui_logins: s
                .get("enableMFADirectUILoginOptIn")
                .and_then(Value::as_bool),
        });
        let trusted = metadata
            .pointer("/networkAccess/ipRanges")
            .and_then(Value::as_array)
            .map(|ranges| {
                ranges
                    .iter()
                    .filter_map(|r| {
                        Some(IpRange {
                            start: r.get("start")?.as_str()?.to_owned(),
                            end: r.get("end")?.as_str()?.to_owned(),
                            description: r
                                .get("description")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok((settings, trusted))
    }

    async fn login_ip_ranges(&mut self) -> Result<Option<Vec<LoginIpRange>>, CollectError> {
        let records = self
            .optional_query(
                "SELECT Id, ProfileId, StartAddress, EndAddress, Description FROM LoginIpRange",
                false,
                "LoginIpRange",
                "SF-CFG-001 is not evaluated",
            )
            .await?;
        Ok(records.map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    Some(LoginIpRange {
                        id: text(r, "Id"),
                        profile_id: text(r, "ProfileId")?,
                        range: IpRange {
                            start: text(r, "StartAddress")?,
                            end: text(r, "EndAddress")?,
                            description: text(r, "Description"),
                        },
                    })
                })
                .collect()
        }))
    }
}

/// Missing object or field, or not permitted: the input is reported as unavailable.
fn is_unavailable(e: &SfError) -> bool {
    matches!(
        e.error_code(),
        Some(
            "INVALID_TYPE"
                | "INVALID_FIELD"
                | "INSUFFICIENT_ACCESS"
                | "INSUFFICIENT_ACCESS_OR_READONLY"
                | "FUNCTIONALITY_NOT_ENABLED"
                | "API_DISABLED_FOR_ORG"
                | "NOT_FOUND"
        )
    ) || matches!(e.http_status(), Some(403 | 404))
}

/// `https://login.salesforce.com/id/00Dxx/005xx` → `00Dxx`.
fn org_id_from_identity(url: &str) -> Option<String> {
    let mut parts = url.rsplit('/');
    let _user = parts.next()?;
    let org = parts.next()?;
    (parts.next()? == "id" && org.starts_with("00D")).then(|| org.to_owned())
}

/// `condition` is built here from fixed text and checked ids or usernames only.
fn users_soql(caps: &Capabilities, condition: &str) -> String {
    let mut fields = vec![
        "Id",
        "Username",
        "Email",
        "Name",
        "IsActive",
        "UserType",
        "ProfileId",
        "Profile.Name",
        "LastLoginDate",
        "CreatedDate",
    ];
    if caps.user_license {
        fields.push("Profile.UserLicense.Name");
    }
    if caps.profile_api_only {
        fields.push("Profile.PermissionsApiUserOnly");
    }
    if caps.federation_identifier {
        fields.push("FederationIdentifier");
    }
    format!(
        "SELECT {} FROM User WHERE {condition} ORDER BY Id",
        fields.join(", ")
    )
}

/// `condition` selects the assignees; built here from fixed text and checked ids only.
fn grants_soql(caps: &Capabilities, condition: &str) -> String {
    let mut fields = vec![
        "Id",
        "AssigneeId",
        "PermissionSetId",
        "PermissionSetGroupId",
        "ExpirationDate",
        "PermissionSet.Name",
        "PermissionSet.Label",
        "PermissionSet.IsOwnedByProfile",
        "PermissionSet.ProfileId",
        "PermissionSet.Profile.Name",
        "PermissionSet.PermissionsModifyAllData",
        "PermissionSet.PermissionsViewAllData",
        "PermissionSet.PermissionsManageUsers",
        "PermissionSet.PermissionsCustomizeApplication",
    ];
    if caps.set_type {
        fields.push("PermissionSet.Type");
    }
    if caps.set_group {
        fields.push("PermissionSet.PermissionSetGroupId");
    }
    if caps.set_data_export {
        fields.push("PermissionSet.PermissionsDataExport");
    }
    let mut conditions = vec![
        "PermissionSet.PermissionsModifyAllData = true",
        "PermissionSet.PermissionsViewAllData = true",
        "PermissionSet.PermissionsManageUsers = true",
        "PermissionSet.PermissionsCustomizeApplication = true",
    ];
    if caps.set_api_only {
        fields.push("PermissionSet.PermissionsApiUserOnly");
        conditions.push("PermissionSet.PermissionsApiUserOnly = true");
    }
    format!(
        "SELECT {} FROM PermissionSetAssignment WHERE {condition} AND ({}) ORDER BY Id",
        fields.join(", "),
        conditions.join(" OR ")
    )
}

const CONNECTED_APPS_SOQL: &str = "SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly, \
     OptionsRefreshTokenValidityMetric, RefreshTokenValidityPeriod FROM ConnectedApplication \
     ORDER BY Name";

const APP_MENU_ITEMS_SOQL: &str =
    "SELECT Id, ApplicationId FROM AppMenuItem WHERE Type = 'ConnectedApplication'";

/// The `TwoFactorMethodsInfo` flags read, by field name (API 53.0+ for the built-in
/// authenticator; `HasSecurityKey` covers WebAuthn keys registered since Summer '22).
const MFA_METHOD_FIELDS: [&str; 9] = [
    "HasSalesforceAuthenticator",
    "HasTotp",
    "HasSecurityKey",
    "HasU2F",
    "HasBuiltInAuthenticator",
    "HasTempCode",
    "HasUserVerifiedMobileNumber",
    "HasUserVerifiedEmailAddress",
    "HasVerifiedMobileNumber",
];

/// `None` when the org's PermissionSet has neither MFA permission field.
fn mfa_grants_soql(caps: &Capabilities) -> Option<String> {
    let mut fields = vec![
        "AssigneeId",
        "PermissionSetId",
        "PermissionSetGroupId",
        "PermissionSet.Name",
        "PermissionSet.Label",
        "PermissionSet.IsOwnedByProfile",
        "PermissionSet.Profile.Name",
    ];
    if caps.set_type {
        fields.push("PermissionSet.Type");
    }
    let mut conditions = Vec::new();
    if caps.set_force_mfa {
        fields.push("PermissionSet.PermissionsForceTwoFactor");
        conditions.push("PermissionSet.PermissionsForceTwoFactor = true");
    }
    if caps.set_waive_mfa {
        fields.push("PermissionSet.PermissionsBypassMFAForUiLogins");
        conditions.push("PermissionSet.PermissionsBypassMFAForUiLogins = true");
    }
    (!conditions.is_empty()).then(|| {
        format!(
            "SELECT {} FROM PermissionSetAssignment WHERE Assignee.IsActive = true AND ({}) \
             ORDER BY Id",
            fields.join(", "),
            conditions.join(" OR ")
        )
    })
}

/// `ids` must already be checked ids.
fn mfa_methods_soql(ids: &[&str]) -> String {
    format!(
        "SELECT UserId, {} FROM TwoFactorMethodsInfo WHERE UserId IN ({})",
        MFA_METHOD_FIELDS.join(", "),
        soql_list(ids.iter().copied())
    )
}

fn exposed_profiles_soql(caps: &Capabilities) -> String {
    let mut fields = vec![
        "Id",
        "Name",
        "UserType",
        "PermissionsApiEnabled",
        "PermissionsModifyAllData",
        "PermissionsViewAllData",
        "PermissionsManageUsers",
    ];
    let mut conditions = vec!["UserType = 'Guest'"];
    if caps.profile_api_only {
        fields.push("PermissionsApiUserOnly");
        conditions.push("PermissionsApiUserOnly = true");
    }
    if caps.user_license {
        fields.push("UserLicense.Name");
        conditions.push("UserLicense.Name = 'Salesforce Integration'");
    }
    format!(
        "SELECT {} FROM Profile WHERE {} ORDER BY Name",
        fields.join(", "),
        conditions.join(" OR ")
    )
}

/// `profile_ids` must already be checked ids.
fn object_permissions_soql(profile_ids: &[&str]) -> String {
    format!(
        "SELECT ParentId, Parent.ProfileId, SobjectType, PermissionsCreate, PermissionsRead, \
         PermissionsEdit, PermissionsDelete, PermissionsViewAllRecords, \
         PermissionsModifyAllRecords FROM ObjectPermissions WHERE Parent.ProfileId IN ({}) \
         ORDER BY SobjectType",
        soql_list(profile_ids.iter().copied())
    )
}

const APP_ACCESS_SOQL: &str = "SELECT ParentId, SetupEntityId, Parent.IsOwnedByProfile, \
     Parent.ProfileId, Parent.Label, Parent.Profile.Name FROM SetupEntityAccess \
     WHERE SetupEntityType = 'ConnectedApplication' ORDER BY ParentId";

/// Never `AccessToken`, `DeleteToken` or `RequestToken`: they are live credentials.
fn oauth_soql(user_ids: Option<&[&str]>) -> String {
    let base = "SELECT AppName, AppMenuItemId, UserId, UseCount, LastUsedDate, CreatedDate \
                FROM OauthToken";
    match user_ids {
        None => base.to_owned(),
        Some(ids) => {
            let list: Vec<String> = ids
                .iter()
                .filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric()))
                .map(|id| format!("'{id}'"))
                .collect();
            format!("{base} WHERE UserId IN ({})", list.join(", "))
        }
    }
}

/// Who made the exports in the window but is not among the collected users.
#[derive(Debug, Default, PartialEq, Eq)]
struct ExportActors {
    ids: BTreeSet<String>,
    /// Login-As delegates, which SetupAuditTrail names by username.
    usernames: BTreeSet<String>,
}

impl ExportActors {
    fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.usernames.is_empty()
    }
}

fn export_actors_missing(
    users: &[SfUser],
    audit_trail: Option<&[AuditTrailRow]>,
    events: Option<&[ExportEvent]>,
) -> ExportActors {
    let known_ids: HashSet<&str> = users.iter().map(|u| id15(&u.id)).collect();
    let known_names: HashSet<String> = users
        .iter()
        .map(|u| u.username.trim().to_lowercase())
        .collect();
    let mut missing = ExportActors::default();
    let mut want_id = |id: &str| {
        let id = id.trim();
        if !id.is_empty() && !known_ids.contains(id15(id)) {
            missing.ids.insert(id.to_owned());
        }
    };
    for row in audit_trail.into_iter().flatten() {
        if row.action.trim().eq_ignore_ascii_case("export") {
            want_id(&row.created_by_id);
        }
    }
    for ev in events.into_iter().flatten() {
        if ev.is_export() {
            want_id(&ev.user_id);
        }
    }
    for row in audit_trail.into_iter().flatten() {
        if !row.action.trim().eq_ignore_ascii_case("export") {
            continue;
        }
        if let Some(name) = row.delegate_user.as_deref().map(str::trim)
            && !name.is_empty()
            && !known_names.contains(&name.to_lowercase())
        {
            missing.usernames.insert(name.to_owned());
        }
    }
    missing
}

fn id15(id: &str) -> &str {
    id.get(..15).unwrap_or(id)
}

fn is_id(id: &str) -> bool {
    matches!(id.len(), 15 | 18) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Usernames are e-mail shaped; anything else is left out of a query rather than escaped.
fn is_plain_username(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._+-".contains(c))
}

/// `'a', 'b'`: the values must already be checked to need no escaping.
fn soql_list<'v>(values: impl Iterator<Item = &'v str>) -> String {
    values
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn soql_datetime(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn audit_trail_soql(window_start: DateTime<Utc>) -> String {
    format!(
        "SELECT Id, Action, Section, Display, CreatedDate, CreatedById, DelegateUser \
         FROM SetupAuditTrail WHERE Action = 'export' AND CreatedDate >= {} \
         ORDER BY CreatedDate",
        soql_datetime(window_start)
    )
}

/// `Status` is not filterable on LoginHistory, so failures are dropped by the rule.
fn password_logins_soql(window_start: DateTime<Utc>) -> String {
    format!(
        "SELECT UserId, LoginTime, LoginType, Status, SourceIp FROM LoginHistory \
         WHERE LoginType = 'Application' AND LoginTime >= {} ORDER BY LoginTime",
        soql_datetime(window_start)
    )
}

fn event_log_soql(window_start: DateTime<Utc>) -> String {
    format!(
        "SELECT Id, EventType, LogDate FROM EventLogFile \
         WHERE EventType IN ('BulkApi', 'BulkApi2', 'ReportExport') AND LogDate >= {} \
         ORDER BY LogDate",
        soql_datetime(window_start)
    )
}

fn export_event_type(name: &str) -> Option<ExportEventType> {
    match name {
        "BulkApi" => Some(ExportEventType::BulkApi),
        "BulkApi2" => Some(ExportEventType::BulkApi2),
        "ReportExport" => Some(ExportEventType::ReportExport),
        _ => None,
    }
}

/// Rows of one Event Monitoring CSV. Column names follow Salesforce's log file formats;
/// rows without a user or a timestamp are skipped.
fn parse_event_log(bytes: &[u8], kind: ExportEventType, file_id: &str, out: &mut Vec<ExportEvent>) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let Ok(headers) = reader.headers().cloned() else {
        return;
    };
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let user = column("USER_ID_DERIVED").or_else(|| column("USER_ID"));
    let time = column("TIMESTAMP_DERIVED").or_else(|| column("TIMESTAMP"));
    let request = column("REQUEST_ID").or_else(|| column("JOB_ID"));
    let operation = column("OPERATION_TYPE");
    let entity = column("ENTITY_TYPE").or_else(|| column("REPORT_ID"));
    let rows = column("ROWS_PROCESSED").or_else(|| column("NUMBER_OF_RECORDS"));
    let ip = column("CLIENT_IP");
    for (index, record) in reader.records().enumerate() {
        let Ok(record) = record else { continue };
        let get = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (Some(user_id), Some(timestamp)) =
            (get(user), get(time).and_then(|t| parse_log_timestamp(&t)))
        else {
            continue;
        };
        out.push(ExportEvent {
            event_type: kind,
            log_file_id: file_id.to_owned(),
            request_id: get(request).unwrap_or_else(|| format!("row-{index}")),
            user_id,
            timestamp,
            operation: get(operation),
            entity: get(entity),
            rows_processed: get(rows).and_then(|r| r.parse().ok()),
            client_ip: get(ip),
        });
    }
}

/// `TIMESTAMP_DERIVED` is ISO 8601; the older `TIMESTAMP` is `20240501100000.123`.
fn parse_log_timestamp(text: &str) -> Option<DateTime<Utc>> {
    sf_datetime::parse(text).or_else(|| {
        let digits = text.split('.').next()?;
        chrono::NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S")
            .ok()
            .map(|t| t.and_utc())
    })
}

fn grant_path(r: &Value) -> GrantPath {
    if flag(r, "PermissionSet.IsOwnedByProfile") {
        GrantPath::Profile
    } else if text(r, "PermissionSet.Type").as_deref() == Some("Group")
        || text(r, "PermissionSetGroupId").is_some()
        || text(r, "PermissionSet.PermissionSetGroupId").is_some()
    {
        GrantPath::PermissionSetGroup
    } else {
        GrantPath::PermissionSet
    }
}

fn source_name(r: &Value) -> String {
    let profile = flag(r, "PermissionSet.IsOwnedByProfile")
        .then(|| text(r, "PermissionSet.Profile.Name"))
        .flatten();
    profile
        .or_else(|| text(r, "PermissionSet.Label"))
        .or_else(|| text(r, "PermissionSet.Name"))
        .unwrap_or_else(|| text(r, "PermissionSetId").unwrap_or_default())
}

fn oauth_grant(r: &Value) -> Option<OauthGrant> {
    Some(OauthGrant {
        app_name: text(r, "AppName")?,
        user_id: text(r, "UserId")?,
        app_menu_item_id: text(r, "AppMenuItemId"),
        use_count: r
            .get("UseCount")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            .max(0.0) as u64,
        last_used_date: datetime(r, "LastUsedDate"),
        created_date: datetime(r, "CreatedDate"),
    })
}

/// A dotted relationship path into a record (`Profile.UserLicense.Name`).
fn field<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(record, |value, key| value.get(key))
        .filter(|v| !v.is_null())
}

fn text(record: &Value, path: &str) -> Option<String> {
    field(record, path)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn flag(record: &Value, path: &str) -> bool {
    field(record, path)
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn datetime(record: &Value, path: &str) -> Option<DateTime<Utc>> {
    field(record, path)
        .and_then(Value::as_str)
        .and_then(sf_datetime::parse)
}

/// One `User` row, `None` without an id or username.
fn to_sf_user(r: &Value) -> Option<SfUser> {
    Some(SfUser {
        id: text(r, "Id")?,
        username: text(r, "Username")?,
        email: text(r, "Email").unwrap_or_default(),
        name: text(r, "Name"),
        is_active: flag(r, "IsActive"),
        user_type: text(r, "UserType").unwrap_or_else(|| "Standard".into()),
        profile_id: text(r, "ProfileId"),
        profile_name: text(r, "Profile.Name"),
        license_name: text(r, "Profile.UserLicense.Name"),
        api_only: flag(r, "Profile.PermissionsApiUserOnly"),
        last_login_date: datetime(r, "LastLoginDate"),
        created_date: datetime(r, "CreatedDate"),
        federation_identifier: text(r, "FederationIdentifier"),
        is_frozen: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all_caps() -> Capabilities {
        Capabilities {
            user_license: true,
            federation_identifier: true,
            profile_api_only: true,
            set_api_only: true,
            set_data_export: true,
            set_type: true,
            set_group: true,
            set_force_mfa: true,
            set_waive_mfa: true,
        }
    }

    #[test]
    fn no_statement_selects_a_token_secret() {
        let start = Utc::now();
        let statements = [
            users_soql(&all_caps(), "IsActive = true AND UserType = 'Standard'"),
            users_soql(&all_caps(), "Id IN ('005000000000001AAA')"),
            users_soql(&all_caps(), "Username IN ('a.b+c@corp.com')"),
            grants_soql(&all_caps(), "Assignee.IsActive = true"),
            grants_soql(&all_caps(), "AssigneeId IN ('005000000000001AAA')"),
            oauth_soql(None),
            oauth_soql(Some(&["005000000000001AAA"])),
            CONNECTED_APPS_SOQL.to_owned(),
            APP_MENU_ITEMS_SOQL.to_owned(),
            audit_trail_soql(start),
            password_logins_soql(start),
            event_log_soql(start),
            mfa_grants_soql(&all_caps()).unwrap_or_default(),
            mfa_methods_soql(&["005000000000001AAA"]),
            exposed_profiles_soql(&all_caps()),
            object_permissions_soql(&["00e000000000001AAA"]),
            APP_ACCESS_SOQL.to_owned(),
        ];
        for soql in statements {
            for secret in ["AccessToken", "DeleteToken", "RequestToken"] {
                assert!(!soql.contains(secret), "{soql} selects {secret}");
            }
            // Every statement the collector sends must parse with the crate's SOQL parser.
            assert!(sfmcp_soql::parse(&soql).is_ok(), "{soql} does not parse");
        }
    }

    #[test]
    fn optional_permission_fields_shape_the_extended_queries() {
        let mut caps = all_caps();
        let soql = mfa_grants_soql(&caps).unwrap();
        assert!(
            soql.contains("PermissionsForceTwoFactor = true OR"),
            "{soql}"
        );
        caps.set_force_mfa = false;
        let soql = mfa_grants_soql(&caps).unwrap();
        assert!(!soql.contains("ForceTwoFactor"), "{soql}");
        assert!(
            soql.contains("PermissionsBypassMFAForUiLogins = true"),
            "{soql}"
        );
        // Neither permission in this org: nothing to ask, and the rule says so.
        caps.set_waive_mfa = false;
        assert_eq!(mfa_grants_soql(&caps), None);
        // Without licences or the API-only permission, guest profiles are still found.
        caps.user_license = false;
        caps.profile_api_only = false;
        let soql = exposed_profiles_soql(&caps);
        assert!(
            soql.ends_with("WHERE UserType = 'Guest' ORDER BY Name"),
            "{soql}"
        );
        assert!(sfmcp_soql::parse(&soql).is_ok());
    }

    #[test]
    fn oauth_partitions_drop_anything_that_is_not_an_id() {
        let soql = oauth_soql(Some(&["005A", "x' OR Id != null OR UserId = '"]));
        assert!(soql.ends_with("WHERE UserId IN ('005A')"), "{soql}");
    }

    #[test]
    fn grant_paths_come_from_the_permission_set() {
        let profile = json!({"PermissionSet": {"IsOwnedByProfile": true, "Type": "Profile",
            "Label": "00ex", "Profile": {"Name": "System Administrator"}}});
        assert_eq!(grant_path(&profile), GrantPath::Profile);
        assert_eq!(source_name(&profile), "System Administrator");
        let group = json!({"PermissionSetGroupId": "0PG1",
            "PermissionSet": {"IsOwnedByProfile": false, "Type": "Group", "Label": "Admins"}});
        assert_eq!(grant_path(&group), GrantPath::PermissionSetGroup);
        assert_eq!(source_name(&group), "Admins");
        let set = json!({"PermissionSet": {"IsOwnedByProfile": false, "Type": "Regular",
            "Label": "User Administration"}});
        assert_eq!(grant_path(&set), GrantPath::PermissionSet);
    }

    #[test]
    fn org_id_comes_from_the_identity_url() {
        assert_eq!(
            org_id_from_identity(
                "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA"
            )
            .as_deref(),
            Some("00D000000000001AAA")
        );
        assert_eq!(
            org_id_from_identity("https://x/services/oauth2/userinfo"),
            None
        );
    }

    #[test]
    fn event_log_rows_are_read_by_column_name() {
        let csv = "\"EVENT_TYPE\",\"TIMESTAMP\",\"REQUEST_ID\",\"USER_ID\",\"OPERATION_TYPE\",\
                   \"ENTITY_TYPE\",\"ROWS_PROCESSED\",\"TIMESTAMP_DERIVED\",\"USER_ID_DERIVED\"\n\
                   \"BulkApi\",\"20260301100000.123\",\"4-abc\",\"005000000000001\",\"query\",\
                   \"Account\",\"5000\",\"2026-03-01T10:00:00.123Z\",\"005000000000001AAA\"\n\
                   \"BulkApi\",\"\",\"4-abd\",\"\",\"insert\",\"Account\",\"1\",\"\",\"\"\n";
        let mut out = Vec::new();
        parse_event_log(csv.as_bytes(), ExportEventType::BulkApi, "0AT1", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].user_id, "005000000000001AAA");
        assert_eq!(out[0].rows_processed, Some(5000));
        assert_eq!(out[0].operation.as_deref(), Some("query"));
        assert_eq!(
            parse_log_timestamp("20260301100000.123").map(|t| t.to_rfc3339()),
            Some("2026-03-01T10:00:00+00:00".into())
        );
    }
}
