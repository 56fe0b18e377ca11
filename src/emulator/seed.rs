//! Building orgs: from a JSON seed file (`--seed FILE`), or the deterministic demo org
//! (`--demo`, see [`demo`]).
//!
//! # Seed file format
//! ```json
//! {
//!   "org": {"name": "Acme", "sharing": {"Opportunity": "Private"},
//!           "session_settings": {"lockSessionsToIp": false, "sessionTimeout": "TwoHours"}},
//!   "connected_app": {"client_id": "optional", "client_secret": "optional",
//!                     "jwt_certificate_pem": "-----BEGIN CERTIFICATE-----..."},
//!   "objects": [{"name": "Invoice__c", "label": "Invoice", "label_plural": "Invoices",
//!                "sharing": "Private", "fields": [
//!       {"name": "Amount__c", "type": "currency", "precision": 18, "scale": 2},
//!       {"name": "Status__c", "type": "picklist", "values": ["Draft", "Sent"], "restricted": true},
//!       {"name": "Account__c", "type": "reference", "reference_to": ["Account"],
//!        "relationship_name": "Account__r", "required": true}]}],
//!   "profiles": [{"name": "Sales", "permissions": ["ApiEnabled"],
//!                 "hidden_fields": ["Account.AnnualRevenue"]}],
//!   "roles": [{"name": "CEO"}, {"name": "VP Sales", "parent": "CEO"}],
//!   "permission_sets": [{"name": "Export", "label": "Data Export",
//!                        "permissions": ["ExportReport"]}],
//!   "users": [{"username": "ada@acme.test", "first_name": "Ada", "last_name": "Lovelace",
//!              "profile": "System Administrator", "role": "CEO", "default": true,
//!              "permission_sets": ["Export"], "active": true}],
//!   "records": {
//!     "Account": [{"_ref": "acme", "Name": "Acme", "OwnerId": "@ada@acme.test"}],
//!     "Contact": [{"LastName": "Doe", "AccountId": "@acme"}]
//!   }
//! }
//! ```
//! - Every key is optional. Profiles "System Administrator" (every permission) and "Standard
//!   User" (API access) always exist; a seed's profile of the same name replaces them. An
//!   org without users gets an administrator `admin@{org}.emulator`.
//! - `permissions` are `Permissions*` names without the prefix: `ApiEnabled`, `ViewAllData`,
//!   `ModifyAllData`, `ManageUsers`, `ViewSetup`, `CustomizeApplication`, `AuthorApex`,
//!   `ExportReport`, `ResetPasswords`, `ManageInternalUsers`.
//! - `hidden_fields` are `Object.Field` names field-level security hides from the profile.
//! - `sharing` values: `Private`, `Read`, `ReadWrite`.
//! - Records are inserted in the order given, as the default user, with the platform's
//!   defaults and derived fields; system fields (`CreatedDate`, `CreatedById`, ...) may be
//!   given to backdate history. `"_ref"` names a record; a string value `"@name"` is replaced
//!   by the id of the record (or user, by username) of that name.
//! - Field types for custom objects: `string` (`length`), `textarea`, `email`, `phone`, `url`,
//!   `picklist` / `multipicklist` (`values`, `restricted`), `boolean`, `int`, `double`,
//!   `currency`, `percent` (`precision`, `scale`), `date`, `datetime`, `reference`
//!   (`reference_to`, `relationship_name`). Custom objects get key prefixes `a00`, `a01`, ...
//!   and a `Name` field unless they declare one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::ids;
use super::objects::standard_objects;
use super::org::{ConnectedApp, Org, OrgParts};
use super::schema::{self, FieldDef, ObjectDef, OrgSchema, Sharing};
use super::store::{Record, Tables};
use super::write;
use crate::soql::data::Value;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub org: OrgSeed,
    #[serde(default)]
    pub connected_app: AppSeed,
    #[serde(default)]
    pub objects: Vec<CustomObjectSeed>,
    #[serde(default)]
    pub profiles: Vec<ProfileSeed>,
    #[serde(default)]
    pub roles: Vec<RoleSeed>,
    #[serde(default)]
    pub permission_sets: Vec<PermissionSetSeed>,
    #[serde(default)]
    pub users: Vec<UserSeed>,
    #[serde(default)]
    pub records: Map<String, Json>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSeed {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub sharing: HashMap<String, Sharing>,
    #[serde(default)]
    pub session_settings: Map<String, Json>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSeed {
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// PEM certificate or public key JWT bearer assertions are verified with.
    #[serde(default)]
    pub jwt_certificate_pem: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomObjectSeed {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub label_plural: Option<String>,
    #[serde(default)]
    pub sharing: Option<Sharing>,
    #[serde(default)]
    pub fields: Vec<CustomFieldSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldSeed {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub precision: Option<u32>,
    #[serde(default)]
    pub scale: Option<u32>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub restricted: bool,
    #[serde(default)]
    pub reference_to: Vec<String>,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub default: Option<Json>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSeed {
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub hidden_fields: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSeed {
    pub name: String,
    #[serde(default)]
    pub parent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetSeed {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSeed {
    pub username: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub permission_sets: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub default: bool,
    /// Any other User fields (`Title`, `FederationIdentifier`, `LastLoginDate`, ...).
    #[serde(default)]
    pub fields: Map<String, Json>,
}

fn yes() -> bool {
    true
}

/// Where an org comes from.
#[derive(Debug, Clone)]
pub enum OrgSource {
    /// The built-in demo org, with people and grants multiplied by `scale`.
    Demo { scale: u32 },
    /// A seed file's contents.
    Seed(Arc<SeedFileText>),
}

/// A seed file's path (for messages) and text.
#[derive(Debug)]
pub struct SeedFileText {
    pub path: String,
    pub text: String,
}

pub const ALL_PERMISSIONS: [&str; 10] = [
    "ApiEnabled",
    "ViewAllData",
    "ModifyAllData",
    "ManageUsers",
    "ViewSetup",
    "CustomizeApplication",
    "AuthorApex",
    "ExportReport",
    "ResetPasswords",
    "ManageInternalUsers",
];

fn custom_field(object: &str, seed: &CustomFieldSeed) -> Result<FieldDef, String> {
    let name = seed.name.as_str();
    let mut field = match seed.field_type.to_ascii_lowercase().as_str() {
        "string" | "text" => schema::text(name, seed.length.unwrap_or(255)),
        "textarea" => schema::textarea(name, seed.length.unwrap_or(32_768)),
        "email" => schema::email(name),
        "phone" => schema::phone(name),
        "url" => schema::url(name),
        "picklist" => {
            let values: Vec<&str> = seed.values.iter().map(String::as_str).collect();
            schema::picklist(name, &values)
        }
        "multipicklist" => {
            let values: Vec<&str> = seed.values.iter().map(String::as_str).collect();
            schema::multipicklist(name, &values)
        }
        "boolean" | "checkbox" => schema::boolean(name),
        "int" | "integer" => schema::int(name),
        "double" | "number" => {
            schema::double(name, seed.precision.unwrap_or(18), seed.scale.unwrap_or(0))
        }
        "currency" => schema::currency(name, seed.precision.unwrap_or(18), seed.scale.unwrap_or(2)),
        "percent" => schema::percent(name, seed.precision.unwrap_or(3), seed.scale.unwrap_or(0)),
        "date" => schema::date(name),
        "datetime" => schema::datetime(name),
        "reference" | "lookup" => {
            if seed.reference_to.is_empty() {
                return Err(format!(
                    "{object}.{name}: a reference field needs \"reference_to\""
                ));
            }
            let to: Vec<&str> = seed.reference_to.iter().map(String::as_str).collect();
            let default_rel = format!("{}__r", name.strip_suffix("__c").unwrap_or(name));
            schema::reference(
                name,
                &to,
                seed.relationship_name.as_deref().unwrap_or(&default_rel),
            )
        }
        other => {
            return Err(format!(
                "{object}.{name}: unknown field type '{other}' (use string, textarea, email, phone, url, picklist, multipicklist, boolean, int, double, currency, percent, date, datetime or reference)"
            ));
        }
    };
    if let Some(label) = &seed.label {
        field = field.label(label);
    }
    if seed.required {
        field = field.required();
    }
    if seed.unique {
        field = field.unique();
    }
    if seed.external_id {
        field = field.external_id();
    }
    if seed.restricted {
        field = field.restricted();
    }
    if let Some(default) = &seed.default {
        field = field.default_value(default.clone());
        field.nillable = true;
    }
    field.custom = true;
    Ok(field)
}

/// Builds the org's objects: the standard ones, the seed's custom ones, and sharing.
fn build_schema(seed: &SeedFile) -> Result<OrgSchema, String> {
    let mut objects = standard_objects();
    for (n, custom) in seed.objects.iter().enumerate() {
        if !custom.name.ends_with("__c") {
            return Err(format!("custom object '{}' must end in __c", custom.name));
        }
        let label = custom
            .label
            .clone()
            .unwrap_or_else(|| custom.name.trim_end_matches("__c").replace('_', " "));
        let plural = custom
            .label_plural
            .clone()
            .unwrap_or_else(|| format!("{label}s"));
        let prefix = format!("a{}", base36_pair(n));
        let mut def = ObjectDef::new(&custom.name, &prefix, &label, &plural);
        if !custom.fields.iter().any(|f| f.name == "Name") {
            def = def.fields([schema::text("Name", 80)
                .label(&format!("{label} Name"))
                .name_field()
                .default_value(Json::Null)]);
            if let Some(name) = def.fields.last_mut() {
                name.defaulted = true;
                name.default_value = None;
            }
        }
        let fields = custom
            .fields
            .iter()
            .map(|f| custom_field(&custom.name, f))
            .collect::<Result<Vec<_>, _>>()?;
        def = def
            .fields(fields)
            .sharing(custom.sharing.unwrap_or(Sharing::ReadWrite))
            .finish(true);
        objects.push(def);
    }
    let names: HashSet<String> = objects.iter().map(|o| o.name.clone()).collect();
    for object in &objects {
        for field in &object.fields {
            if let Some(missing) = field.reference_to.iter().find(|t| !names.contains(*t))
                && object.custom
            {
                return Err(format!(
                    "{}.{} references '{missing}', which is not an object of this org",
                    object.name, field.name
                ));
            }
        }
    }
    for (object, sharing) in &seed.org.sharing {
        let def = objects
            .iter_mut()
            .find(|o| o.name.eq_ignore_ascii_case(object))
            .ok_or_else(|| format!("org.sharing names unknown object '{object}'"))?;
        def.sharing = *sharing;
    }
    Ok(OrgSchema::new(objects))
}

fn base36_pair(n: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let hi = DIGITS[(n / 36) % 36] as char;
    let lo = DIGITS[n % 36] as char;
    format!("{hi}{lo}")
}

/// Inserts records into an org under construction, resolving `@ref`s.
pub struct OrgBuilder {
    pub schema: Arc<OrgSchema>,
    pub tables: Tables,
    pub next_id: u64,
    pub refs: HashMap<String, String>,
    /// Who creates seeded records.
    pub actor: String,
    pub now: DateTime<Utc>,
}

impl OrgBuilder {
    pub fn new(schema: Arc<OrgSchema>, org_index: usize, now: DateTime<Utc>) -> Self {
        let tables = Tables::new(&schema);
        Self {
            schema,
            tables,
            // Distinct id ranges per org keep ids unique across orgs.
            next_id: ((org_index as u64) << 40) + 1,
            refs: HashMap::new(),
            actor: String::new(),
            now,
        }
    }

    pub fn mint(&mut self, object: &str) -> Result<String, String> {
        let index = self
            .schema
            .index_of(object)
            .ok_or_else(|| format!("unknown object '{object}'"))?;
        let id = ids::mint(&self.schema.objects[index].key_prefix, self.next_id);
        self.next_id += 1;
        Ok(id)
    }

    /// Inserts one record in system mode (any field may be set, types and references still
    /// checked); `id` may be pre-minted. Returns the id.
    pub fn insert(
        &mut self,
        object: &str,
        fields: &Map<String, Json>,
        id: Option<String>,
    ) -> Result<String, String> {
        let index = self
            .schema
            .index_of(object)
            .ok_or_else(|| format!("unknown object '{object}' in records"))?;
        let def = Arc::clone(&self.schema.objects[index]);
        let id = match id {
            Some(id) => id,
            None => self.mint(&def.name)?,
        };
        let mut values = vec![Value::Null; def.fields.len()];
        values[0] = Value::String(id.clone());
        for (i, field) in def.fields.iter().enumerate() {
            if let Some(default) = field.default_on_create() {
                values[i] = default;
            }
        }
        let reference = fields
            .get("_ref")
            .and_then(Json::as_str)
            .map(str::to_string);
        for (name, json) in fields {
            if name == "_ref" {
                continue;
            }
            if name == "attributes" || name == "Id" {
                continue;
            }
            let i = def
                .field_index(name)
                .ok_or_else(|| format!("{object}: no field '{name}'"))?;
            let json = match json {
                Json::String(s) if s.starts_with('@') => {
                    let target = &s[1..];
                    // A record may reference itself (a user created by itself).
                    let id = if reference.as_deref() == Some(target) {
                        &id
                    } else {
                        self.refs.get(target).ok_or_else(|| {
                            format!("{object}.{name}: no record or user named '{target}' (define it before use)")
                        })?
                    };
                    Json::String(id.clone())
                }
                other => other.clone(),
            };
            let field = &def.fields[i];
            let value = write::coerce(field, &json).map_err(|errors| {
                let message = errors.first().map_or(String::new(), |e| e.message.clone());
                format!("{object}.{name}: {message}")
            })?;
            if let (Value::String(text), crate::soql::schema::FieldType::Reference) =
                (&value, &field.field_type)
            {
                let normalized = ids::normalize(text)
                    .ok_or_else(|| format!("{object}.{name}: '{text}' is not an id"))?;
                values[i] = Value::String(normalized);
                continue;
            }
            values[i] = value;
        }
        let actor = if self.actor.is_empty() {
            id.clone()
        } else {
            self.actor.clone()
        };
        write::stamp_system_fields(&def, &mut values, &actor, self.now, true);
        self.derive(&def, &mut values);
        let table = Arc::make_mut(&mut self.tables.tables[index]);
        table.insert(
            &def,
            Record {
                values,
                deleted_at: None,
            },
        );
        if let Some(name) = reference {
            self.refs.insert(name, id.clone());
        }
        Ok(id)
    }

    fn derive(&self, def: &ObjectDef, values: &mut [Value]) {
        let cases = self
            .schema
            .index_of("Case")
            .map_or(0, |i| self.tables.table(i).rows.len());
        write::derive_fields(def, values, cases);
    }
}

fn permission_fields(permissions: &[String]) -> Result<Map<String, Json>, String> {
    let mut map = Map::new();
    for permission in permissions {
        let name = permission.strip_prefix("Permissions").unwrap_or(permission);
        if !ALL_PERMISSIONS.contains(&name) {
            return Err(format!(
                "unknown permission '{permission}' (known: {})",
                ALL_PERMISSIONS.join(", ")
            ));
        }
        map.insert(format!("Permissions{name}"), Json::Bool(true));
    }
    Ok(map)
}

/// A seed parsed and built into an org.
pub fn build_from_seed(
    index: usize,
    text: &SeedFileText,
    base_profiles: bool,
) -> Result<Org, String> {
    let seed: SeedFile = serde_json::from_str(&text.text)
        .map_err(|e| format!("{}: not a valid seed file: {e}", text.path))?;
    build_org(index, seed, base_profiles, |_, _| Ok(())).map_err(|e| format!("{}: {e}", text.path))
}

/// Builds an org from a parsed seed; `extra` adds generated records (the demo) after the
/// seed's own.
pub fn build_org(
    index: usize,
    seed: SeedFile,
    base_profiles: bool,
    extra: impl FnOnce(&mut OrgBuilder, &SeedFile) -> Result<(), String>,
) -> Result<Org, String> {
    let schema = Arc::new(build_schema(&seed)?);
    let now = Utc::now();
    let mut builder = OrgBuilder::new(Arc::clone(&schema), index, now);
    let org_id = builder.mint("Organization")?;
    let org_name = seed
        .org
        .name
        .clone()
        .unwrap_or_else(|| format!("Emulator Org {}", index + 1));
    let slug: String = org_name
        .to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();

    // Profiles: the two every org has, then the seed's.
    let mut profiles: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    if base_profiles {
        profiles.push((
            "System Administrator".into(),
            ALL_PERMISSIONS.iter().map(|s| s.to_string()).collect(),
            Vec::new(),
        ));
        profiles.push((
            "Standard User".into(),
            vec!["ApiEnabled".into()],
            Vec::new(),
        ));
    }
    for p in &seed.profiles {
        profiles.retain(|(name, _, _)| name != &p.name);
        profiles.push((
            p.name.clone(),
            p.permissions.clone(),
            p.hidden_fields.clone(),
        ));
    }
    // The first user (the default one when none is marked) creates everything.
    let admin_username = seed
        .users
        .iter()
        .find(|u| u.default)
        .or_else(|| seed.users.first())
        .map_or_else(|| format!("admin@{slug}.emulator"), |u| u.username.clone());
    let admin_id = builder.mint("User")?;
    builder.actor = admin_id.clone();

    let mut hidden_fields: HashMap<String, HashSet<String>> = HashMap::new();
    let mut profile_ids = HashMap::new();
    for (name, permissions, hidden) in &profiles {
        let mut fields = permission_fields(permissions)?;
        fields.insert("Name".into(), json!(name));
        let id = builder.insert("Profile", &fields, None)?;
        let mut set = HashSet::new();
        for h in hidden {
            let (object, field) = h
                .split_once('.')
                .ok_or_else(|| format!("hidden field '{h}' must be Object.Field"))?;
            let def = schema
                .object(object)
                .ok_or_else(|| format!("hidden field '{h}': unknown object"))?;
            let f = def
                .field(field)
                .ok_or_else(|| format!("hidden field '{h}': unknown field"))?;
            if !f.nillable || f.name == "Id" {
                return Err(format!(
                    "hidden field '{h}': required fields cannot be hidden"
                ));
            }
            set.insert(format!(
                "{}.{}",
                def.name.to_ascii_lowercase(),
                f.name.to_ascii_lowercase()
            ));
        }
        if !set.is_empty() {
            hidden_fields.insert(id.clone(), set);
        }
        profile_ids.insert(name.clone(), id);
    }
    let mut role_ids: HashMap<String, String> = HashMap::new();
    for role in &seed.roles {
        let mut fields = Map::new();
        fields.insert("Name".into(), json!(role.name));
        if let Some(parent) = &role.parent {
            let parent_id = role_ids.get(parent).ok_or_else(|| {
                format!(
                    "role '{}': parent '{parent}' must be listed before it",
                    role.name
                )
            })?;
            fields.insert("ParentRoleId".into(), json!(parent_id));
        }
        let id = builder.insert("UserRole", &fields, None)?;
        role_ids.insert(role.name.clone(), id);
    }
    let mut set_ids = HashMap::new();
    for set in &seed.permission_sets {
        let mut fields = permission_fields(&set.permissions)?;
        fields.insert("Name".into(), json!(set.name));
        fields.insert(
            "Label".into(),
            json!(set.label.clone().unwrap_or_else(|| set.name.clone())),
        );
        let id = builder.insert("PermissionSet", &fields, None)?;
        set_ids.insert(set.name.clone(), id);
    }

    let mut users: Vec<&UserSeed> = seed.users.iter().collect();
    let implicit_admin;
    if users.is_empty() {
        implicit_admin = UserSeed {
            username: admin_username.clone(),
            first_name: Some("Emulator".into()),
            last_name: Some("Admin".into()),
            email: None,
            profile: Some("System Administrator".into()),
            role: None,
            permission_sets: Vec::new(),
            active: true,
            default: true,
            fields: Map::new(),
        };
        users.push(&implicit_admin);
    }
    // The admin goes first so it exists before anything references it.
    users.sort_by_key(|u| u.username != admin_username);
    for user in users {
        let id = if user.username == admin_username {
            admin_id.clone()
        } else {
            builder.mint("User")?
        };
        insert_user(
            &mut builder,
            user,
            &profile_ids,
            &role_ids,
            &set_ids,
            Some(id),
        )?;
    }

    let mut org_fields = Map::new();
    org_fields.insert("Name".into(), json!(org_name));
    for (k, v) in [
        ("Country", json!("US")),
        ("PrimaryContact", json!("Emulator Admin")),
        ("DefaultLocaleSidKey", json!("en_US")),
        ("TimeZoneSidKey", json!("America/Los_Angeles")),
        ("LanguageLocaleKey", json!("en_US")),
        ("ReceivesInfoEmails", json!(true)),
        ("ReceivesAdminInfoEmails", json!(true)),
        ("PreferencesConsentManagementEnabled", json!(true)),
        ("PreferencesLightningLoginEnabled", json!(true)),
        ("FiscalYearStartMonth", json!(1)),
        (
            "DefaultAccountAccess",
            json!(access_name(&schema, "Account")),
        ),
        (
            "DefaultContactAccess",
            json!(access_name(&schema, "Contact")),
        ),
        (
            "DefaultOpportunityAccess",
            json!(access_name(&schema, "Opportunity")),
        ),
        ("DefaultLeadAccess", json!(access_name(&schema, "Lead"))),
        ("DefaultCaseAccess", json!(access_name(&schema, "Case"))),
        ("DefaultCalendarAccess", json!("HideDetailsInsert")),
        ("DefaultPricebookAccess", json!("ReadSelect")),
        ("DefaultCampaignAccess", json!("All")),
        ("UiSkin", json!("Theme3")),
        ("SignupCountryIsoCode", json!("US")),
        ("NumKnowledgeService", json!(0)),
        ("OrganizationType", json!("Developer Edition")),
        ("InstanceName", json!("EMU1")),
        ("IsSandbox", json!(false)),
        ("WebToCaseDefaultOrigin", json!("Web")),
        ("MonthlyPageViewsUsed", json!(0)),
        ("MonthlyPageViewsEntitlement", json!(0)),
        ("IsReadOnly", json!(false)),
    ] {
        org_fields.insert(k.into(), v);
    }
    builder.insert("Organization", &org_fields, Some(org_id.clone()))?;

    for (object, records) in &seed.records {
        let list = records
            .as_array()
            .ok_or_else(|| format!("records.{object} must be an array of records"))?;
        for (n, record) in list.iter().enumerate() {
            let fields = record
                .as_object()
                .ok_or_else(|| format!("records.{object}[{n}] must be an object"))?;
            builder
                .insert(object, fields, None)
                .map_err(|e| format!("records.{object}[{n}]: {e}"))?;
        }
    }
    extra(&mut builder, &seed)?;

    let app = ConnectedApp {
        client_id: seed.connected_app.client_id.clone().unwrap_or_else(|| {
            format!(
                "3MVG9emulator{}{}",
                index + 1,
                super::state::random_token(40).replace(['.', '_'], "A")
            )
        }),
        client_secret: seed
            .connected_app
            .client_secret
            .clone()
            .unwrap_or_else(|| super::state::random_token(64).replace(['.', '_'], "0")),
        jwt_public_key: match &seed.connected_app.jwt_certificate_pem {
            Some(pem) => Some(
                super::oauth::public_key_from_pem(pem)
                    .map_err(|e| format!("connected_app.jwt_certificate_pem: {e}"))?,
            ),
            None => None,
        },
    };
    let org = Org::new(OrgParts {
        index,
        id: org_id,
        name: org_name,
        schema,
        next_id: builder.next_id,
        tables: builder.tables,
        hidden_fields,
        session_settings: Json::Object(seed.org.session_settings.clone()),
        app,
        default_user: admin_id,
    });
    org.commit_initial();
    Ok(org)
}

fn access_name(schema: &OrgSchema, object: &str) -> &'static str {
    match schema.object(object).map(|o| o.sharing) {
        Some(Sharing::Private) => "None",
        Some(Sharing::Read) => "Read",
        _ => "Edit",
    }
}

pub fn insert_user(
    builder: &mut OrgBuilder,
    user: &UserSeed,
    profiles: &HashMap<String, String>,
    roles: &HashMap<String, String>,
    sets: &HashMap<String, String>,
    id: Option<String>,
) -> Result<String, String> {
    let profile_name = user.profile.as_deref().unwrap_or("Standard User");
    let profile = profiles
        .get(profile_name)
        .ok_or_else(|| format!("user '{}': unknown profile '{profile_name}'", user.username))?;
    let mut fields = user.fields.clone();
    let local = user.username.split('@').next().unwrap_or("user");
    fields.insert("Username".into(), json!(user.username));
    fields.insert(
        "LastName".into(),
        json!(user.last_name.clone().unwrap_or_else(|| local.to_string())),
    );
    if let Some(first) = &user.first_name {
        fields.insert("FirstName".into(), json!(first));
    }
    fields.insert(
        "Email".into(),
        json!(user.email.clone().unwrap_or_else(|| user.username.clone())),
    );
    fields
        .entry("Alias")
        .or_insert_with(|| json!(local.chars().take(8).collect::<String>()));
    fields
        .entry("TimeZoneSidKey")
        .or_insert(json!("America/Los_Angeles"));
    fields.entry("LocaleSidKey").or_insert(json!("en_US"));
    fields.entry("EmailEncodingKey").or_insert(json!("UTF-8"));
    fields.entry("LanguageLocaleKey").or_insert(json!("en_US"));
    fields.insert("ProfileId".into(), json!(profile));
    fields.insert("IsActive".into(), json!(user.active));
    if let Some(role) = &user.role {
        let role_id = roles
            .get(role)
            .ok_or_else(|| format!("user '{}': unknown role '{role}'", user.username))?;
        fields.insert("UserRoleId".into(), json!(role_id));
    }
    let id = builder.insert("User", &fields, id)?;
    builder.refs.insert(user.username.clone(), id.clone());
    for set in &user.permission_sets {
        let set_id = sets
            .get(set)
            .ok_or_else(|| format!("user '{}': unknown permission set '{set}'", user.username))?;
        let mut assignment = Map::new();
        assignment.insert("AssigneeId".into(), json!(id));
        assignment.insert("PermissionSetId".into(), json!(set_id));
        builder.insert("PermissionSetAssignment", &assignment, None)?;
    }
    Ok(id)
}

/// Builds one org from its source.
pub fn build(index: usize, source: &OrgSource) -> Result<Org, String> {
    match source {
        OrgSource::Demo { scale } => super::demo::build(index, *scale),
        OrgSource::Seed(text) => build_from_seed(index, text, true),
    }
}

/// Today's date, the anchor for relative seed data (close dates around today).
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}
