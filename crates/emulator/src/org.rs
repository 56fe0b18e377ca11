//! One org: its schema, its records, its connected app, and the rules that decide what each
//! user sees and may change.
//!
//! # Sharing model (simplified, honest)
//! - Every object has an org-wide default ([`Sharing`]). Objects without `OwnerId` (contact
//!   roles, permission set assignments, setup objects) are readable by every user with API
//!   access.
//! - A record of a `Private` object is visible to its owner, to users whose role is *above* the
//!   owner's role in the hierarchy (peers in the same role do not see each other's records),
//!   and to users with "View All Data" or "Modify All Data". `Read` and `ReadWrite` objects are
//!   visible to everyone.
//! - A record is editable by its owner, by users above the owner, by "Modify All Data", and by
//!   everyone when the object is `ReadWrite`. Setup objects (users, profiles, roles,
//!   permission sets and assignments, IP ranges, record types) need "Modify All Data" or
//!   "Manage Users" to write.
//! - Not modelled: sharing rules, manual shares, teams, territories, "controlled by parent",
//!   implicit parent/child access.
//!
//! Permissions come from the user's profile (`Profile.Permissions*`) OR-ed with every
//! assigned permission set (directly or through a permission set group) whose assignment has
//! not expired. Field-level security comes from the org config (hidden `Object.Field` per
//! profile): a hidden field does not exist for that user, in describe, queries and writes.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::errors::ApiError;
use super::files;
use super::history;
use super::ids;
use super::schema::{ObjectDef, OrgSchema, ProfileSchema, Sharing};
use super::store::{Record, SECURITY_OBJECTS, Table, Tables};
use super::write;
use sfmcp_soql::data::{DataSource, Value};
use sfmcp_soql::schema::Schema;

/// The connected app a client authenticates with.
#[derive(Debug, Clone)]
pub struct ConnectedApp {
    /// What the approval page calls it.
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    /// DER public key (PKCS#1 `RSAPublicKey` or SPKI) that JWT bearer assertions must be
    /// signed with; `None` disables the JWT bearer flow.
    pub jwt_public_key: Option<Vec<u8>>,
    /// Permitted Users: `None` for "All users may self-authorize"; otherwise "Admin approved
    /// users are pre-authorized" and the ids of the profiles approved.
    pub admin_approved_profiles: Option<HashSet<String>>,
    /// Callback URLs a `redirect_uri` must equal; empty accepts any.
    pub callback_urls: Vec<String>,
}

/// Effective rights of one user, computed from a snapshot and cached until a security object
/// changes.
#[derive(Debug)]
pub struct UserAccess {
    pub user_id: String,
    pub username: String,
    pub profile_id: String,
    pub active: bool,
    pub api_enabled: bool,
    pub view_all: bool,
    pub modify_all: bool,
    pub manage_users: bool,
    pub view_setup: bool,
    /// The user and every user in a role below theirs: whose private records they see.
    visible_owners: HashSet<String>,
    pub schema: Arc<ProfileSchema>,
}

const SETUP_OBJECTS: [&str; 9] = [
    "User",
    "Profile",
    "UserRole",
    "PermissionSet",
    "PermissionSetAssignment",
    "PermissionSetGroup",
    "LoginIpRange",
    "UserLogin",
    "RecordType",
];

pub struct Org {
    pub index: usize,
    pub id: String,
    pub name: String,
    pub schema: Arc<OrgSchema>,
    data: RwLock<Arc<Tables>>,
    initial: RwLock<Arc<Tables>>,
    next_id: AtomicU64,
    initial_next_id: AtomicU64,
    full_schema: Arc<ProfileSchema>,
    profile_schemas: HashMap<String, Arc<ProfileSchema>>,
    access_cache: Mutex<HashMap<String, (u64, Arc<UserAccess>)>>,
    /// Serializes writers: a write (or a composite transaction) works on a private copy of
    /// the current tables and publishes it whole, so readers never wait for it.
    writer: Mutex<()>,
    pub api_used: AtomicU64,
    pub session_settings: Json,
    /// `SecuritySettings.networkAccess` (org trusted IP ranges), `null` when none.
    pub network_access: Json,
    /// When the metadata last changed: describe's `Last-Modified`.
    pub schema_modified: DateTime<Utc>,
    pub app: ConnectedApp,
    pub default_user: String,
    /// Whether the Tooling API serves the demo's validation rules, flows and Apex.
    pub demo_metadata: bool,
    /// Per user, the records they viewed or referenced (`FOR VIEW`, `FOR REFERENCE`), oldest
    /// first, at most [`RECENT_MAX`]: what `/recent` and RecentlyViewed answer.
    recent: Mutex<HashMap<String, Vec<super::recent::Seen>>>,
}

/// Salesforce truncates RecentlyViewed to 200 records per user (SOQL and SOSL Reference,
/// "FOR VIEW": "RecentlyViewed data is periodically truncated down to 200 records per object").
pub const RECENT_MAX: usize = 200;

impl std::fmt::Debug for Org {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Org")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What an org is built from; see [`super::seed`].
pub struct OrgParts {
    pub index: usize,
    pub id: String,
    pub name: String,
    pub schema: Arc<OrgSchema>,
    pub tables: Tables,
    pub next_id: u64,
    /// Profile id → lower-cased `object.field` names its field-level security hides.
    pub hidden_fields: HashMap<String, HashSet<String>>,
    pub session_settings: Json,
    pub network_access: Json,
    pub app: ConnectedApp,
    pub default_user: String,
    pub demo_metadata: bool,
}

impl Org {
    pub fn new(parts: OrgParts) -> Self {
        let full_schema = Arc::new(parts.schema.profile_schema(HashSet::new()));
        let profile_schemas = parts
            .hidden_fields
            .into_iter()
            .map(|(profile, hidden)| (profile, Arc::new(parts.schema.profile_schema(hidden))))
            .collect();
        let tables = Arc::new(parts.tables);
        Self {
            index: parts.index,
            id: parts.id,
            name: parts.name,
            schema: parts.schema,
            data: RwLock::new(Arc::clone(&tables)),
            initial: RwLock::new(tables),
            next_id: AtomicU64::new(parts.next_id),
            initial_next_id: AtomicU64::new(parts.next_id),
            full_schema,
            profile_schemas,
            access_cache: Mutex::new(HashMap::new()),
            writer: Mutex::new(()),
            api_used: AtomicU64::new(0),
            session_settings: parts.session_settings,
            network_access: parts.network_access,
            schema_modified: Utc::now(),
            app: parts.app,
            default_user: parts.default_user,
            demo_metadata: parts.demo_metadata,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// The current records. Cheap: clones an `Arc` under a brief read lock.
    pub fn snapshot(&self) -> Arc<Tables> {
        match self.data.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Back to the seeded records; API usage restarts at zero.
    pub fn reset(&self) {
        let initial = match self.initial.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        };
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut data = self.data.write().unwrap_or_else(|p| p.into_inner());
        *data = initial;
        self.next_id.store(
            self.initial_next_id.load(Ordering::SeqCst),
            Ordering::SeqCst,
        );
        self.api_used.store(0, Ordering::SeqCst);
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.access_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Notes that `user` viewed (`viewed`) or referenced these records now, the last one
    /// most recently. Viewing a record references it too; referencing keeps the last view.
    pub fn mark_viewed(&self, user: &str, ids: impl IntoIterator<Item = String>, viewed: bool) {
        let now = Utc::now();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let list = recent.entry(user.to_string()).or_default();
        for id in ids {
            let before = list
                .iter()
                .position(|seen| seen.id == id)
                .map(|i| list.remove(i));
            list.push(super::recent::Seen {
                viewed: if viewed {
                    Some(now)
                } else {
                    before.and_then(|b| b.viewed)
                },
                id,
                referenced: now,
            });
        }
        let excess = list.len().saturating_sub(RECENT_MAX);
        list.drain(..excess);
    }

    /// The records `user` viewed or referenced, most recent first.
    pub fn recently_viewed(&self, user: &str) -> Vec<String> {
        self.recently_seen(user).into_iter().map(|s| s.id).collect()
    }

    /// [`Org::recently_viewed`] with when each was last viewed and referenced.
    pub fn recently_seen(&self, user: &str) -> Vec<super::recent::Seen> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent
            .get(user)
            .map(|list| list.iter().rev().cloned().collect())
            .unwrap_or_default()
    }

    pub fn mint_id(&self, def: &ObjectDef) -> String {
        ids::mint(&def.key_prefix, self.next_id.fetch_add(1, Ordering::SeqCst))
    }

    /// A user's rights as of `tables`, or `None` when the user does not exist.
    pub fn access(&self, tables: &Tables, user_id: &str) -> Option<Arc<UserAccess>> {
        let generation = tables.security_generation;
        if let Some((g, access)) = self
            .access_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user_id)
            && *g == generation
        {
            return Some(Arc::clone(access));
        }
        let access = Arc::new(self.compute_access(tables, user_id)?);
        self.access_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user_id.to_string(), (generation, Arc::clone(&access)));
        Some(access)
    }

    fn compute_access(&self, tables: &Tables, user_id: &str) -> Option<UserAccess> {
        let schema = &self.schema;
        let user_object = schema.index_of("User")?;
        let (user_row, _) = tables.table(user_object).get(user_id)?;
        let get = |object: usize, row: u32, field: &str| -> Value {
            tables
                .value(schema, object, row, field)
                .cloned()
                .unwrap_or(Value::Null)
        };
        let text = |v: Value| match v {
            Value::String(s) => Some(s),
            _ => None,
        };
        let profile_id = text(get(user_object, user_row, "ProfileId")).unwrap_or_default();
        let role_id = text(get(user_object, user_row, "UserRoleId"));
        let username = text(get(user_object, user_row, "Username")).unwrap_or_default();
        let active = get(user_object, user_row, "IsActive") == Value::Boolean(true);

        let mut perms: HashSet<&'static str> = HashSet::new();
        let mut grant = |object: usize, row: u32| {
            for p in [
                "PermissionsApiEnabled",
                "PermissionsViewAllData",
                "PermissionsModifyAllData",
                "PermissionsManageUsers",
                "PermissionsViewSetup",
            ] {
                if get(object, row, p) == Value::Boolean(true) {
                    perms.insert(p);
                }
            }
        };
        if let Some(profile_object) = schema.index_of("Profile")
            && let Some((row, _)) = tables.table(profile_object).get(&profile_id)
        {
            grant(profile_object, row);
        }
        let now = Utc::now();
        if let (Some(psa), Some(ps)) = (
            schema.index_of("PermissionSetAssignment"),
            schema.index_of("PermissionSet"),
        ) {
            let psa_def = &schema.objects[psa];
            let psa_table = tables.table(psa);
            let ps_table = tables.table(ps);
            let assignee = psa_def.field_index("AssigneeId");
            let group_field = schema.objects[ps].field_index("PermissionSetGroupId");
            for &row in assignee.map_or(&[][..], |f| psa_table.referencing(f, user_id)) {
                let Some(record) = psa_table.rows.get(row as usize) else {
                    continue;
                };
                if record.deleted_at.is_some() {
                    continue;
                }
                if let Value::DateTime(expires) = get(psa, row, "ExpirationDate")
                    && expires < now
                {
                    continue;
                }
                if let Some(set_id) = text(get(psa, row, "PermissionSetId"))
                    && let Some((set_row, _)) = ps_table.get(&set_id)
                {
                    grant(ps, set_row);
                }
                if let Some(group_id) = text(get(psa, row, "PermissionSetGroupId"))
                    && let Some(field) = group_field
                {
                    for &set_row in ps_table.referencing(field, &group_id) {
                        grant(ps, set_row);
                    }
                }
            }
        }

        let mut visible_owners = HashSet::new();
        visible_owners.insert(user_id.to_string());
        if let (Some(role_object), Some(role)) = (schema.index_of("UserRole"), role_id) {
            let role_table = tables.table(role_object);
            let parent_field = schema.objects[role_object].field_index("ParentRoleId");
            let role_field = schema.objects[user_object].field_index("UserRoleId");
            let user_table = tables.table(user_object);
            let mut stack = vec![role];
            let mut seen = HashSet::new();
            while let Some(current) = stack.pop() {
                if !seen.insert(current.clone()) {
                    continue;
                }
                for &child in parent_field.map_or(&[][..], |f| role_table.referencing(f, &current))
                {
                    if let Some(record) = role_table.rows.get(child as usize) {
                        let child_id = record.id().to_string();
                        if let Some(field) = role_field {
                            for &u in user_table.referencing(field, &child_id) {
                                if let Some(user) = user_table.rows.get(u as usize) {
                                    visible_owners.insert(user.id().to_string());
                                }
                            }
                        }
                        stack.push(child_id);
                    }
                }
            }
        }

        let schema_for_profile = self
            .profile_schemas
            .get(&profile_id)
            .cloned()
            .unwrap_or_else(|| Arc::clone(&self.full_schema));
        Some(UserAccess {
            user_id: user_id.to_string(),
            username,
            profile_id,
            active,
            api_enabled: perms.contains("PermissionsApiEnabled"),
            view_all: perms.contains("PermissionsViewAllData")
                || perms.contains("PermissionsModifyAllData"),
            modify_all: perms.contains("PermissionsModifyAllData"),
            manage_users: perms.contains("PermissionsManageUsers"),
            view_setup: perms.contains("PermissionsViewSetup")
                || perms.contains("PermissionsModifyAllData"),
            visible_owners,
            schema: schema_for_profile,
        })
    }

    fn owner_of<'a>(&self, def: &ObjectDef, record: &'a Record) -> Option<&'a str> {
        def.owner_field
            .and_then(|i| record.values.get(i))
            .and_then(Value::as_str)
    }

    /// Whether `access` may read `record` of object `def` (deleted records aside).
    pub fn can_read(&self, access: &UserAccess, def: &ObjectDef, record: &Record) -> bool {
        if access.view_all || def.sharing != Sharing::Private {
            return true;
        }
        match self.owner_of(def, record) {
            Some(owner) => access.visible_owners.contains(owner),
            None => true,
        }
    }

    /// [`Org::can_read`], and for a field history row, its parent's visibility and the
    /// changed field's (field-level security), and for files, links and notes what they hang
    /// on (`files::row_visible`), which only `tables` can tell.
    pub fn can_read_in(
        &self,
        tables: &Tables,
        access: &UserAccess,
        def: &ObjectDef,
        record: &Record,
    ) -> bool {
        self.can_read(access, def, record)
            && history::row_visible(tables, access, def, record, |d, r| {
                r.deleted_at.is_none() && self.can_read(access, d, r)
            })
            .unwrap_or(true)
            && files::row_visible(tables, access, def, record, |d, r| {
                r.deleted_at.is_none() && self.can_read(access, d, r)
            })
            .unwrap_or(true)
    }

    /// The name of record `id` as the UI shows it (its name field), for a lookup's history.
    pub fn record_name(&self, tables: &Tables, id: &str) -> Option<String> {
        let (object, _, record) = tables.find(&self.schema, id)?;
        let def = &self.schema.objects[object];
        let name = def
            .fields
            .iter()
            .position(|f| f.name_field)
            .or_else(|| def.field_index("Name"))?;
        record.values.get(name)?.as_str().map(str::to_string)
    }

    /// Whether `access` may edit (or delete) `record`.
    pub fn can_edit(&self, access: &UserAccess, def: &ObjectDef, record: &Record) -> bool {
        if access.modify_all {
            return true;
        }
        if SETUP_OBJECTS.contains(&def.name.as_str()) {
            return access.manage_users;
        }
        if !def.updateable {
            return false;
        }
        match self.owner_of(def, record) {
            Some(owner) => {
                def.sharing == Sharing::ReadWrite || access.visible_owners.contains(owner)
            }
            None => true,
        }
    }

    /// Whether `access` may create records of `def`.
    pub fn can_create(&self, access: &UserAccess, def: &ObjectDef) -> bool {
        if !def.createable {
            return false;
        }
        if SETUP_OBJECTS.contains(&def.name.as_str()) {
            return access.modify_all || access.manage_users;
        }
        true
    }

    /// Runs `work` as one transaction: it gets a private copy of the current tables, and the
    /// copy replaces them only when `work` succeeds, so a failure leaves nothing half-written.
    /// Writers queue behind each other; readers keep their snapshots and never wait.
    pub fn transaction<R, E>(
        &self,
        work: impl FnOnce(&mut Tables) -> Result<R, E>,
    ) -> Result<R, E> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut working = Tables::clone(&self.snapshot());
        let out = work(&mut working)?;
        *self.data.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(working);
        Ok(out)
    }

    /// Creates a record as `access`; returns the new id.
    pub fn create(
        &self,
        access: &UserAccess,
        object: usize,
        body: &Map<String, Json>,
    ) -> Result<String, Vec<ApiError>> {
        self.transaction(|tables| self.create_in(tables, access, object, body))
    }

    /// Updates a record as `access`.
    pub fn update(
        &self,
        access: &UserAccess,
        object: usize,
        id: &str,
        body: &Map<String, Json>,
    ) -> Result<(), Vec<ApiError>> {
        self.transaction(|tables| self.update_in(tables, access, object, id, body))
    }

    /// Deletes a record as `access` (it moves to the recycle bin: queryAll and `/deleted`).
    pub fn delete(
        &self,
        access: &UserAccess,
        object: usize,
        id: &str,
    ) -> Result<(), Vec<ApiError>> {
        self.transaction(|tables| self.delete_in(tables, access, object, id))
    }

    /// [`Org::create`] inside a transaction. Validates before changing anything.
    pub fn create_in(
        &self,
        tables: &mut Tables,
        access: &UserAccess,
        object: usize,
        body: &Map<String, Json>,
    ) -> Result<String, Vec<ApiError>> {
        let def = Arc::clone(&self.schema.objects[object]);
        if !def.createable {
            return Err(vec![ApiError::bad_request(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type {} does not support insert", def.name),
            )]);
        }
        if !self.can_create(access, &def) {
            return Err(vec![ApiError::insufficient_access()]);
        }
        let changes = write::check(self, tables, access, &def, body, write::Mode::Create)?;
        let id = self.mint_id(&def);
        let now = Utc::now();
        let mut values = vec![Value::Null; def.fields.len()];
        values[0] = Value::String(id.clone());
        for (i, field) in def.fields.iter().enumerate() {
            if let Some(default) = field.default_on_create() {
                values[i] = default;
            }
        }
        let given: Vec<usize> = changes.iter().map(|(i, _)| *i).collect();
        for (i, value) in changes {
            values[i] = value;
        }
        write::check_permission_dependencies(&def, &values)?;
        write::stamp_system_fields(&def, &mut values, &access.user_id, now, true);
        let cases = self
            .schema
            .index_of("Case")
            .map_or(0, |i| tables.table(i).rows.len());
        write::derive_fields(&def, &mut values, cases, &given);
        let history = history::changes(&def, None, &values, |_| None);
        history::append(
            &self.schema,
            tables,
            &def,
            &id,
            history,
            history::Made {
                by: &access.user_id,
                at: now,
            },
            |d| self.mint_id(d),
        );
        let table = Arc::make_mut(&mut tables.tables[object]);
        table.insert(
            &def,
            Record {
                values,
                deleted_at: None,
            },
        );
        if SECURITY_OBJECTS.contains(&def.name.as_str()) {
            tables.security_generation += 1;
        }
        Ok(id)
    }

    /// [`Org::update`] inside a transaction. Validates before changing anything.
    pub fn update_in(
        &self,
        tables: &mut Tables,
        access: &UserAccess,
        object: usize,
        id: &str,
        body: &Map<String, Json>,
    ) -> Result<(), Vec<ApiError>> {
        let def = Arc::clone(&self.schema.objects[object]);
        let (row, record) = match tables.table(object).get(id) {
            Some((row, record)) if record.deleted_at.is_none() => (row, record.clone()),
            Some(_) => {
                return Err(vec![ApiError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    "ENTITY_IS_DELETED",
                    "entity is deleted",
                )]);
            }
            None => return Err(vec![ApiError::not_found()]),
        };
        if !self.can_read(access, &def, &record) {
            return Err(vec![ApiError::not_found()]);
        }
        if !def.updateable || !self.can_edit(access, &def, &record) {
            return Err(vec![ApiError::insufficient_access()]);
        }
        let changes = write::check(self, tables, access, &def, body, write::Mode::Update)?;
        let mut values = record.values.clone();
        let given: Vec<usize> = changes.iter().map(|(i, _)| *i).collect();
        for (i, value) in changes {
            values[i] = value;
        }
        write::check_permission_dependencies(&def, &values)?;
        let now = Utc::now();
        write::stamp_system_fields(&def, &mut values, &access.user_id, now, false);
        let cases = self
            .schema
            .index_of("Case")
            .map_or(0, |i| tables.table(i).rows.len());
        write::derive_fields(&def, &mut values, cases, &given);
        let history = history::changes(&def, Some(&record.values), &values, |id| {
            self.record_name(tables, id)
        });
        history::append(
            &self.schema,
            tables,
            &def,
            id,
            history,
            history::Made {
                by: &access.user_id,
                at: now,
            },
            |d| self.mint_id(d),
        );
        let changed: Vec<(usize, Value)> = values
            .into_iter()
            .enumerate()
            .filter(|(i, v)| record.values.get(*i) != Some(v))
            .collect();
        let table = Arc::make_mut(&mut tables.tables[object]);
        table.update(&def, row, changed);
        if SECURITY_OBJECTS.contains(&def.name.as_str()) {
            tables.security_generation += 1;
        }
        Ok(())
    }

    /// [`Org::delete`] inside a transaction.
    pub fn delete_in(
        &self,
        tables: &mut Tables,
        access: &UserAccess,
        object: usize,
        id: &str,
    ) -> Result<(), Vec<ApiError>> {
        let def = Arc::clone(&self.schema.objects[object]);
        let (row, record) = match tables.table(object).get(id) {
            Some((row, record)) if record.deleted_at.is_none() => (row, record.clone()),
            Some(_) => {
                return Err(vec![ApiError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    "ENTITY_IS_DELETED",
                    "entity is deleted",
                )]);
            }
            None => return Err(vec![ApiError::not_found()]),
        };
        if !self.can_read(access, &def, &record) {
            return Err(vec![ApiError::not_found()]);
        }
        if !def.deletable || !self.can_edit(access, &def, &record) {
            return Err(vec![ApiError::insufficient_access()]);
        }
        let table = Arc::make_mut(&mut tables.tables[object]);
        table.mark_deleted(&def, row, Utc::now());
        if SECURITY_OBJECTS.contains(&def.name.as_str()) {
            tables.security_generation += 1;
        }
        Ok(())
    }

    /// Replaces the data the org resets to with the current data (after seeding).
    pub fn commit_initial(&self) {
        let current = self.snapshot();
        *self.initial.write().unwrap_or_else(|p| p.into_inner()) = current;
        self.initial_next_id
            .store(self.next_id.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

/// A handle to one visible record in a [`View`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRef {
    pub object: u32,
    pub row: u32,
}

/// One user's view of a snapshot: what the evaluator reads. Serves only the rows the user
/// may see (and deleted ones only for queryAll).
pub struct View<'a> {
    pub org: &'a Org,
    pub tables: &'a Tables,
    pub access: &'a UserAccess,
    pub all_rows: bool,
}

impl<'a> View<'a> {
    pub fn record(&self, row: RowRef) -> Option<&'a Record> {
        self.tables
            .tables
            .get(row.object as usize)?
            .rows
            .get(row.row as usize)
    }

    pub fn def(&self, row: RowRef) -> &'a ObjectDef {
        &self.org.schema.objects[row.object as usize]
    }

    pub(crate) fn visible(&self, def: &ObjectDef, record: &Record) -> bool {
        (self.all_rows || record.deleted_at.is_none())
            && self.org.can_read_in(self.tables, self.access, def, record)
    }

    fn table(&self, object: usize) -> &'a Table {
        &self.tables.tables[object]
    }
}

impl DataSource for View<'_> {
    type Row = RowRef;

    fn schema(&self) -> &dyn Schema {
        self.access.schema.as_ref()
    }

    fn scan(&self, object: &str) -> Box<dyn Iterator<Item = RowRef> + '_> {
        let Some(index) = self.org.schema.index_of(object) else {
            return Box::new(std::iter::empty());
        };
        let def = &self.org.schema.objects[index];
        let table = self.table(index);
        Box::new(
            table
                .rows
                .iter()
                .enumerate()
                .filter(move |(_, record)| self.visible(def, record))
                .map(move |(row, _)| RowRef {
                    object: index as u32,
                    row: row as u32,
                }),
        )
    }

    fn object_of(&self, row: RowRef) -> &str {
        &self.def(row).name
    }

    fn value(&self, row: RowRef, field: &str) -> Option<&Value> {
        let def = self.def(row);
        let i = def.field_index(field)?;
        self.record(row)?.values.get(i)
    }

    fn parent(&self, row: RowRef, reference_field: &str) -> Option<RowRef> {
        let id = self.value(row, reference_field)?.as_str()?;
        let (object, parent_row, record) = self.tables.find(&self.org.schema, id)?;
        let def = &self.org.schema.objects[object];
        self.visible(def, record).then_some(RowRef {
            object: object as u32,
            row: parent_row,
        })
    }

    fn children(&self, row: RowRef, child_object: &str, field: &str) -> Vec<RowRef> {
        let Some(parent) = self.record(row) else {
            return Vec::new();
        };
        let Some(index) = self.org.schema.index_of(child_object) else {
            return Vec::new();
        };
        let def = &self.org.schema.objects[index];
        let Some(field_index) = def.field_index(field) else {
            return Vec::new();
        };
        let table = self.table(index);
        table
            .referencing(field_index, parent.id())
            .iter()
            .filter(|&&r| {
                table
                    .rows
                    .get(r as usize)
                    .is_some_and(|record| self.visible(def, record))
            })
            .map(|&r| RowRef {
                object: index as u32,
                row: r,
            })
            .collect()
    }
}
