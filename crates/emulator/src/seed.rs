//! Building orgs: from a JSON seed file (`--seed FILE`), or the deterministic demo org
//! (`--demo`, see [`super::demo`]).
//!
//! # Seed file format
//! ```json
//! {
//!   "org": {"name": "Acme", "sharing": {"Opportunity": "Private"},
//!           "session_settings": {"lockSessionsToIp": false, "sessionTimeout": "TwoHours"},
//!           "trusted_ip_ranges": [{"start": "203.0.113.0", "end": "203.0.113.255"}]},
//!   "connected_app": {"name": "sfmcp", "client_id": "optional", "client_secret": "optional",
//!                     "jwt_certificate_pem": "-----BEGIN CERTIFICATE-----...",
//!                     "admin_approved_profiles": ["System Administrator"],
//!                     "callback_urls": ["http://127.0.0.1:1717/oauth/callback"]},
//!   "objects": [{"name": "Invoice__c", "label": "Invoice", "label_plural": "Invoices",
//!                "sharing": "Private", "fields": [
//!       {"name": "Amount__c", "type": "currency", "precision": 18, "scale": 2},
//!       {"name": "Status__c", "type": "picklist", "values": ["Draft", "Sent"], "restricted": true},
//!       {"name": "Reason__c", "type": "picklist", "values": ["Typo", "Late"],
//!        "controlling_field": "Status__c", "valid_for": {"Typo": ["Draft"], "Late": ["Sent"]}},
//!       {"name": "Account__c", "type": "reference", "reference_to": ["Account"],
//!        "relationship_name": "Account__r", "required": true}]}],
//!   "standard_fields": {"Account": [{"name": "ERP_Id__c", "type": "string", "length": 20,
//!                                    "external_id": true, "unique": true}]},
//!   "profiles": [{"name": "Sales", "permissions": ["ApiEnabled"],
//!                 "hidden_fields": ["Account.AnnualRevenue"],
//!                 "login_ip_ranges": [{"start": "10.0.0.0", "end": "10.255.255.255"}]},
//!                {"name": "API Only", "permissions": ["ApiEnabled", "ApiUserOnly"],
//!                 "license": "Salesforce Integration"}],
//!   "roles": [{"name": "CEO"}, {"name": "VP Sales", "parent": "CEO"}],
//!   "permission_sets": [{"name": "Export", "label": "Data Export",
//!                        "permissions": ["ExportReport", "DataExport"]}],
//!   "permission_set_groups": [{"name": "Ops", "label": "Ops Admin",
//!                              "permission_sets": ["Export"]}],
//!   "users": [{"username": "ada@acme.test", "first_name": "Ada", "last_name": "Lovelace",
//!              "profile": "System Administrator", "role": "CEO", "default": true,
//!              "permission_sets": ["Export"], "permission_set_groups": ["Ops"],
//!              "active": true, "frozen": false}],
//!   "records": {
//!     "Account": [{"_ref": "acme", "Name": "Acme", "OwnerId": "@ada@acme.test"}],
//!     "Contact": [{"LastName": "Doe", "AccountId": "@acme"}],
//!     "OauthToken": [{"AppName": "Data Loader", "UserId": "@ada@acme.test", "UseCount": 3}],
//!     "SetupAuditTrail": [{"Action": "export", "Section": "Data Export",
//!                          "Display": "Requested an export", "CreatedById": "@ada@acme.test",
//!                          "CreatedDate": "2026-11-15T10:00:00.000+0000"}]
//!   },
//!   "idp_people": [{"email": "ada@acme.test", "aliases": ["ada.lovelace@acme.test"],
//!                   "okta": "ACTIVE", "entra": "enabled", "google": "active",
//!                   "jumpcloud": "activated", "onelogin": {"status": 1, "state": 1}}]
//! }
//! ```
//! `examples/seed-identity.json` is a complete identity example (admins on every grant path,
//! an integration user, exports, IdP people in every state).
//! - Every key is optional. Profiles "System Administrator" (every permission) and "Standard
//!   User" (API access) always exist; a seed's profile of the same name replaces them. An
//!   org without users gets an administrator `admin@{org}.emulator`.
//! - `permissions` are `Permissions*` names without the prefix: `ApiEnabled`, `ApiUserOnly`,
//!   `ViewAllData`, `ModifyAllData`, `ManageUsers`, `ViewSetup`, `CustomizeApplication`,
//!   `AuthorApex`, `ExportReport`, `ResetPasswords`, `ManageInternalUsers`, `DataExport`
//!   ("Weekly Data Export"), `ForceTwoFactor` ("Multi-Factor Authentication for User
//!   Interface Logins"), `BypassMFAForUiLogins` ("Waive Multi-Factor Authentication for Exempt
//!   Users"). "System Administrator" has all of them but `ApiUserOnly` and the two MFA ones.
//! - A profile's `user_type` is `Standard` unless set (`Guest` for a site's public access
//!   profile, with `"license": "Guest User License"`); a guest site user states
//!   `"UserType": "Guest"` in its `fields`.
//! - Identity data: every profile gets its owned permission set (`IsOwnedByProfile`, `Type =
//!   'Profile'`) and every user an assignment to it and a `UserLogin` row (`frozen` sets
//!   `IsFrozen`); a permission set group gets its aggregate set (`Type = 'Group'`) with the
//!   union of its components' permissions, which `permission_set_groups` on a user assigns.
//!   Licences `Salesforce` (default), `Salesforce Platform` and `Salesforce Integration`
//!   always exist (`Profile.UserLicense.Name`). `session_settings` override the Tooling
//!   `SecuritySettings.Metadata.sessionSettings` defaults (`lockSessionsToIp`,
//!   `enforceIpRangesEveryRequest`, ...); `trusted_ip_ranges` become its
//!   `networkAccess.ipRanges`. `OauthToken`, `SetupAuditTrail`, `LoginHistory`,
//!   `TwoFactorMethodsInfo` rows go in `records` like any other (system fields such as
//!   `CreatedDate`, `CreatedById` may be set); `ObjectPermissions` and `SetupEntityAccess`
//!   (read-only through the API) need a permission set id as `ParentId`, so only code seeds
//!   them (the demo does).
//! - `idp_people` fill the emulated IdP directories (one set per process, shared by every org
//!   it serves): `email` (primary address), optional `login` (Okta `profile.login`, Entra
//!   `userPrincipalName`, OneLogin `userprincipalname` and `username`), `first_name`, `last_name`, `aliases` (Google aliases, Entra `smtp:`
//!   proxyAddresses), `personal_email` (Okta `secondEmail`, Entra `otherMails`, JumpCloud
//!   `recoveryEmail` and `alternateEmail`: never matched), `secondary_email` (Okta
//!   `secondEmail`, JumpCloud `alternateEmail`, Entra `otherMails` holding a corporate
//!   address, e.g. a renamed person's old one), `username` (OneLogin `username` apart from
//!   `userprincipalname`, which is `login`), and one key per IdP where the person has an account:
//!   `okta` (`STAGED`, `PROVISIONED`, `ACTIVE`, `RECOVERY`, `PASSWORD_EXPIRED`, `LOCKED_OUT`,
//!   `SUSPENDED`, `DEPROVISIONED`), `entra` (`enabled`, `disabled`, `deleted`), `google`
//!   (`active`, `suspended`, `archived`, `deleted`), `jumpcloud` (`activated`, `staged`,
//!   `suspended`, `locked`), `onelogin` (`{"status": n, "state": m}`, OneLogin's codes; state
//!   defaults to 1). A missing key means no account there, which is also how JumpCloud and
//!   OneLogin show a deleted user.
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
//!   and a `Name` field unless they declare one. `standard_fields` adds custom fields (same
//!   format, names ending in `__c`) to standard objects, as an org's admin does; an
//!   `external_id` field is an upsert key (`PATCH /sobjects/{O}/{Field}/{value}`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::idp::{IdpServer, Person};
use super::ids;
use super::objects::standard_objects;
use super::org::{ConnectedApp, Org, OrgParts};
use super::schema::{self, FieldDef, ObjectDef, OrgSchema, Sharing};
use super::store::{Record, Tables};
use super::write;
use sfmcp_soql::data::Value;
use sfmcp_soql::schema::FieldType;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub org: OrgSeed,
    #[serde(default)]
    pub connected_app: AppSeed,
    #[serde(default)]
    pub objects: Vec<CustomObjectSeed>,
    /// Custom fields on standard objects, by object.
    #[serde(default)]
    pub standard_fields: BTreeMap<String, Vec<CustomFieldSeed>>,
    #[serde(default)]
    pub profiles: Vec<ProfileSeed>,
    #[serde(default)]
    pub roles: Vec<RoleSeed>,
    #[serde(default)]
    pub permission_sets: Vec<PermissionSetSeed>,
    #[serde(default)]
    pub permission_set_groups: Vec<PermissionSetGroupSeed>,
    #[serde(default)]
    pub users: Vec<UserSeed>,
    #[serde(default)]
    pub records: Map<String, Json>,
    /// The people in the emulated IdP directories (Okta, Entra, Google, JumpCloud, OneLogin).
    #[serde(default)]
    pub idp_people: Vec<Person>,
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
    /// Org trusted IP ranges (`SecuritySettings.networkAccess.ipRanges`).
    #[serde(default)]
    pub trusted_ip_ranges: Vec<IpRangeSeed>,
    /// A sandbox (`Organization.IsSandbox`); production unless set.
    #[serde(default)]
    pub sandbox: bool,
    /// `Organization.OrganizationType`, e.g. "Enterprise Edition"; "Developer Edition"
    /// unless set.
    #[serde(default)]
    pub edition: Option<String>,
    /// The demo's validation rules, flows and Apex on the Tooling API (`tooling.rs`); not
    /// part of the seed file format.
    #[serde(skip)]
    pub demo_metadata: bool,
}

/// An IPv4 or IPv6 address range.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpRangeSeed {
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSeed {
    /// The name the approval page shows ("sfmcp" when absent).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// PEM certificate or public key JWT bearer assertions are verified with.
    #[serde(default)]
    pub jwt_certificate_pem: Option<String>,
    /// Permitted Users "Admin approved users are pre-authorized", for users of these
    /// profiles (by name). Absent: "All users may self-authorize".
    #[serde(default)]
    pub admin_approved_profiles: Option<Vec<String>>,
    /// The app's Callback URLs: an authorization whose `redirect_uri` is not one of them
    /// fails with `redirect_uri_mismatch`. Empty: any redirect URI (an emulator leniency).
    #[serde(default)]
    pub callback_urls: Vec<String>,
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

#[derive(Debug, Default, Deserialize)]
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
    /// For a dependent picklist: the picklist or checkbox field of the same object that
    /// controls it.
    #[serde(default)]
    pub controlling_field: Option<String>,
    /// For a dependent picklist: each of its values and the controlling values it is valid
    /// for (`"true"`/`"false"` for a checkbox controller); values not listed are valid for
    /// none.
    #[serde(default)]
    pub valid_for: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSeed {
    pub name: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub hidden_fields: Vec<String>,
    /// `Profile.UserLicense.Name`: `Salesforce` (default), `Salesforce Platform`,
    /// `Salesforce Integration`, ...
    #[serde(default)]
    pub license: Option<String>,
    /// The profile's Login IP Ranges (`LoginIpRange` rows).
    #[serde(default)]
    pub login_ip_ranges: Vec<IpRangeSeed>,
    /// `Profile.UserType`: `Standard` (default), or `Guest` for a site's public access
    /// profile (with the `Guest User License`).
    #[serde(default)]
    pub user_type: Option<String>,
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

/// A permission set group: its component sets, and the aggregate permission set
/// (`Type = 'Group'`) Salesforce computes from them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSetGroupSeed {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    /// Names of permission sets of the seed.
    #[serde(default)]
    pub permission_sets: Vec<String>,
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
    #[serde(default)]
    pub permission_set_groups: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
    /// Frozen (`UserLogin.IsFrozen`): cannot log in, yet still active.
    #[serde(default)]
    pub frozen: bool,
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

pub const ALL_PERMISSIONS: [&str; 14] = [
    "ApiEnabled",
    "ApiUserOnly",
    "ViewAllData",
    "ModifyAllData",
    "ManageUsers",
    "ViewSetup",
    "CustomizeApplication",
    "AuthorApex",
    "ExportReport",
    "ResetPasswords",
    "ManageInternalUsers",
    "DataExport",
    "ForceTwoFactor",
    "BypassMFAForUiLogins",
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

/// Makes `seed`'s field a dependent picklist of its `controlling_field`: describe then
/// carries `controllerName`, `dependentPicklist: true` and each value's `validFor`, a base64
/// bit set over the controller's values in describe order, most significant bit first (a
/// checkbox controller: bit 0 false, bit 1 true), padded to whole groups of three bytes, as
/// the recorded `restforce/describe-custom-object-legacy.json` shows (`gAAA` for the first
/// controlling value, `AEAA` for the tenth). Salesforce's API stores values that break the
/// dependency (the user interface enforces it, not the API), so the emulator only describes
/// it.
fn make_dependent(
    object: &str,
    fields: &mut [FieldDef],
    seed: &CustomFieldSeed,
) -> Result<(), String> {
    use base64::Engine;
    let name = &seed.name;
    let controller_name = seed.controlling_field.as_deref().unwrap_or_default();
    let controller = fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(controller_name))
        .ok_or_else(|| {
            format!(
                "{object}.{name}: controlling_field '{controller_name}' is not a field of {object}"
            )
        })?;
    let controlling_values: Vec<String> = match controller.field_type {
        FieldType::Picklist | FieldType::Multipicklist => controller.picklist.clone(),
        FieldType::Boolean => vec!["false".into(), "true".into()],
        _ => {
            return Err(format!(
                "{object}.{name}: controlling_field '{controller_name}' must be a picklist or a checkbox"
            ));
        }
    };
    let controller_name = controller.name.clone();
    let field = fields
        .iter_mut()
        .find(|f| f.name == *name)
        .ok_or_else(|| format!("{object}.{name}: no such field"))?;
    if !matches!(
        field.field_type,
        FieldType::Picklist | FieldType::Multipicklist
    ) {
        return Err(format!("{object}.{name}: only a picklist can be dependent"));
    }
    let bytes = controlling_values.len().div_ceil(8).div_ceil(3).max(1) * 3;
    let mut valid_for = HashMap::new();
    for value in &field.picklist {
        let mut bits = vec![0u8; bytes];
        for controlling in seed.valid_for.get(value).into_iter().flatten() {
            let index = controlling_values
                .iter()
                .position(|v| v == controlling)
                .ok_or_else(|| {
                    format!("{object}.{name}: valid_for names '{controlling}', which is not a value of {controller_name}")
                })?;
            bits[index / 8] |= 0x80 >> (index % 8);
        }
        valid_for.insert(
            value.clone(),
            base64::engine::general_purpose::STANDARD.encode(&bits),
        );
    }
    if let Some(unknown) = seed.valid_for.keys().find(|k| !field.picklist.contains(k)) {
        return Err(format!(
            "{object}.{name}: valid_for names '{unknown}', which is not one of its values"
        ));
    }
    field.controller = Some(controller_name);
    field.valid_for = valid_for;
    Ok(())
}

/// Builds the org's objects: the standard ones, the seed's custom ones, and sharing.
fn build_schema(seed: &SeedFile) -> Result<OrgSchema, String> {
    let mut objects = standard_objects();
    for (object, seeds) in &seed.standard_fields {
        let Some(at) = objects.iter().position(|o| &o.name == object) else {
            return Err(format!(
                "standard_fields: '{object}' is not a standard object (custom objects list their fields under objects)"
            ));
        };
        let mut added = Vec::with_capacity(seeds.len());
        for field in seeds {
            if !field.name.ends_with("__c") || objects[at].field(&field.name).is_some() {
                return Err(format!(
                    "standard_fields: {object}.{} must be a new name ending in __c",
                    field.name
                ));
            }
            added.push(custom_field(object, field)?);
        }
        let def = objects.remove(at);
        objects.insert(at, def.fields(added).index());
    }
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
        let mut fields = custom
            .fields
            .iter()
            .map(|f| custom_field(&custom.name, f))
            .collect::<Result<Vec<_>, _>>()?;
        for seed in custom
            .fields
            .iter()
            .filter(|f| f.controlling_field.is_some())
        {
            make_dependent(&custom.name, &mut fields, seed)?;
        }
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
    /// Profile id → its owned permission set (`IsOwnedByProfile = true`).
    pub profile_sets: HashMap<String, String>,
    /// Users to freeze (`UserLogin.IsFrozen`).
    pub frozen: HashSet<String>,
    /// The people the IdP directories serve.
    pub idp_people: Vec<Person>,
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
            profile_sets: HashMap::new(),
            frozen: HashSet::new(),
            idp_people: Vec::new(),
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
        let mut given = Vec::with_capacity(fields.len());
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
            given.push(i);
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
            if let (Value::String(text), sfmcp_soql::schema::FieldType::Reference) =
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
        self.derive(&def, &mut values, &given);
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

    fn derive(&self, def: &ObjectDef, values: &mut [Value], given: &[usize]) {
        let cases = self
            .schema
            .index_of("Case")
            .map_or(0, |i| self.tables.table(i).rows.len());
        write::derive_fields(def, values, cases, given);
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
        // A seed is written as an admin edits a profile or permission set in Setup, where
        // "Salesforce will automatically enable dependent permissions when needed"; through
        // the API the same state is refused (write::check_permission_dependencies).
        for (needs, dependency) in write::PERMISSION_DEPENDENCIES {
            if name == needs.trim_start_matches("Permissions") {
                map.insert(dependency.to_string(), Json::Bool(true));
            }
        }
    }
    Ok(map)
}

/// A seed parsed and built into an org.
pub fn build_from_seed(
    index: usize,
    text: &SeedFileText,
    base_profiles: bool,
) -> Result<(Org, Vec<Person>), String> {
    let seed: SeedFile = serde_json::from_str(&text.text)
        .map_err(|e| format!("{}: not a valid seed file: {e}", text.path))?;
    build_org(index, seed, base_profiles, |_, _| Ok(())).map_err(|e| format!("{}: {e}", text.path))
}

/// Builds an org from a parsed seed, and the IdP directories' people; `extra` adds generated
/// records (the demo) after the seed's own.
pub fn build_org(
    index: usize,
    mut seed: SeedFile,
    base_profiles: bool,
    extra: impl FnOnce(&mut OrgBuilder, &SeedFile) -> Result<(), String>,
) -> Result<(Org, Vec<Person>), String> {
    let schema = Arc::new(build_schema(&seed)?);
    let now = Utc::now();
    let mut builder = OrgBuilder::new(Arc::clone(&schema), index, now);
    builder.idp_people = std::mem::take(&mut seed.idp_people);
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
    let mut profiles: Vec<ProfileSeed> = Vec::new();
    if base_profiles {
        profiles.push(ProfileSeed {
            name: "System Administrator".into(),
            // An administrator is a person, not an API-only integration; the standard profile
            // neither forces nor waives MFA (the org-wide setting decides).
            permissions: ALL_PERMISSIONS
                .iter()
                .filter(|p| !["ApiUserOnly", "ForceTwoFactor", "BypassMFAForUiLogins"].contains(p))
                .map(|s| s.to_string())
                .collect(),
            hidden_fields: Vec::new(),
            license: None,
            login_ip_ranges: Vec::new(),
            user_type: None,
        });
        profiles.push(ProfileSeed {
            name: "Standard User".into(),
            permissions: vec!["ApiEnabled".into()],
            hidden_fields: Vec::new(),
            license: None,
            login_ip_ranges: Vec::new(),
            user_type: None,
        });
    }
    for p in std::mem::take(&mut seed.profiles) {
        profiles.retain(|existing| existing.name != p.name);
        profiles.push(p);
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

    let licenses = insert_licenses(&mut builder, &profiles)?;
    let mut hidden_fields: HashMap<String, HashSet<String>> = HashMap::new();
    let mut profile_ids = HashMap::new();
    for profile in &profiles {
        let (name, hidden) = (&profile.name, &profile.hidden_fields);
        let mut fields = permission_fields(&profile.permissions)?;
        fields.insert("Name".into(), json!(name));
        let license = profile.license.as_deref().unwrap_or(DEFAULT_LICENSE);
        let license_id = licenses
            .get(license)
            .ok_or_else(|| format!("profile '{name}': unknown license '{license}'"))?;
        fields.insert("UserLicenseId".into(), json!(license_id));
        if let Some(user_type) = &profile.user_type {
            fields.insert("UserType".into(), json!(user_type));
        }
        let id = builder.insert("Profile", &fields, None)?;
        // Every profile owns a hidden permission set carrying its permissions: the one
        // `PermissionSetAssignment` query over admin permissions sees profiles through it.
        fields.remove("UserLicenseId");
        fields.remove("UserType");
        fields.insert("Name".into(), json!(format!("X{}", &id[..15])));
        fields.insert("Label".into(), json!(name));
        fields.insert("IsOwnedByProfile".into(), json!(true));
        fields.insert("ProfileId".into(), json!(id));
        fields.insert("Type".into(), json!("Profile"));
        let owned = builder.insert("PermissionSet", &fields, None)?;
        builder.profile_sets.insert(id.clone(), owned);
        for range in &profile.login_ip_ranges {
            let mut fields = Map::new();
            fields.insert("ProfileId".into(), json!(id));
            fields.insert("StartAddress".into(), json!(range.start));
            fields.insert("EndAddress".into(), json!(range.end));
            if let Some(d) = &range.description {
                fields.insert("Description".into(), json!(d));
            }
            builder
                .insert("LoginIpRange", &fields, None)
                .map_err(|e| format!("profile '{name}' login_ip_ranges: {e}"))?;
        }
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
    let mut group_ids = HashMap::new();
    for group in &seed.permission_set_groups {
        let ids = insert_group(&mut builder, &seed.permission_sets, group)?;
        group_ids.insert(group.name.clone(), ids);
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
            permission_set_groups: Vec::new(),
            active: true,
            frozen: false,
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
            &UserRefs {
                profiles: &profile_ids,
                roles: &role_ids,
                sets: &set_ids,
                groups: &group_ids,
            },
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
        (
            "OrganizationType",
            json!(seed.org.edition.as_deref().unwrap_or("Developer Edition")),
        ),
        // Sandboxes run on CS instances (the recorded sandbox record shows "CS420").
        (
            "InstanceName",
            json!(if seed.org.sandbox { "CS1" } else { "EMU1" }),
        ),
        ("IsSandbox", json!(seed.org.sandbox)),
        ("WebToCaseDefaultOrigin", json!("Web")),
        ("MonthlyPageViewsUsed", json!(0)),
        ("MonthlyPageViewsEntitlement", json!(0)),
        ("IsReadOnly", json!(false)),
    ] {
        org_fields.insert(k.into(), v);
    }
    builder.insert("Organization", &org_fields, Some(org_id.clone()))?;
    super::reports::seed(&mut builder)?;

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
    grant_profiles_and_logins(&mut builder)?;

    let app = ConnectedApp {
        name: seed
            .connected_app
            .name
            .clone()
            .unwrap_or_else(|| "sfmcp".to_string()),
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
        admin_approved_profiles: match &seed.connected_app.admin_approved_profiles {
            Some(names) => Some(
                names
                    .iter()
                    .map(|name| {
                        profile_ids.get(name).cloned().ok_or_else(|| {
                            format!("connected_app.admin_approved_profiles: no profile '{name}'")
                        })
                    })
                    .collect::<Result<HashSet<String>, String>>()?,
            ),
            None => None,
        },
        callback_urls: seed.connected_app.callback_urls.clone(),
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
        network_access: network_access(&seed.org.trusted_ip_ranges),
        app,
        default_user: admin_id,
        demo_metadata: seed.org.demo_metadata,
    });
    org.commit_initial();
    Ok((org, builder.idp_people))
}

/// `Salesforce` unless a profile says otherwise.
pub const DEFAULT_LICENSE: &str = "Salesforce";

/// The licences every org lists, then any other a profile names: name → id.
fn insert_licenses(
    builder: &mut OrgBuilder,
    profiles: &[ProfileSeed],
) -> Result<HashMap<String, String>, String> {
    let mut names: Vec<&str> = vec![
        DEFAULT_LICENSE,
        "Salesforce Platform",
        "Salesforce Integration",
    ];
    for p in profiles {
        if let Some(l) = p.license.as_deref().filter(|l| !names.contains(l)) {
            names.push(l);
        }
    }
    let mut ids = HashMap::new();
    for name in names {
        let key = match name {
            "Salesforce" => "SFDC",
            "Salesforce Platform" => "AUL",
            "Salesforce Integration" => "SFDC_INTEGRATION",
            "Guest User License" => "PID_Guest_User",
            _ => "CUSTOM",
        };
        let mut fields = Map::new();
        for (k, v) in [
            ("Name", json!(name)),
            ("MasterLabel", json!(name)),
            ("LicenseDefinitionKey", json!(key)),
            ("Status", json!("Active")),
            ("TotalLicenses", json!(100_000)),
            ("UsedLicenses", json!(0)),
        ] {
            fields.insert(k.into(), v);
        }
        ids.insert(
            name.to_string(),
            builder.insert("UserLicense", &fields, None)?,
        );
    }
    Ok(ids)
}

/// A permission set group, its component sets (`PermissionSet.PermissionSetGroupId`), and
/// the aggregate set (`Type = 'Group'`) holding their combined permissions. Returns
/// (group id, aggregate set id).
fn insert_group(
    builder: &mut OrgBuilder,
    sets: &[PermissionSetSeed],
    group: &PermissionSetGroupSeed,
) -> Result<(String, String), String> {
    let mut permissions: Vec<String> = Vec::new();
    for name in &group.permission_sets {
        let set = sets.iter().find(|s| &s.name == name).ok_or_else(|| {
            format!(
                "permission set group '{}': unknown permission set '{name}'",
                group.name
            )
        })?;
        permissions.extend(set.permissions.iter().cloned());
    }
    permissions.sort();
    permissions.dedup();
    let label = group.label.clone().unwrap_or_else(|| group.name.clone());
    let mut fields = Map::new();
    fields.insert("DeveloperName".into(), json!(group.name));
    fields.insert("MasterLabel".into(), json!(label));
    let group_id = builder.insert("PermissionSetGroup", &fields, None)?;
    let mut aggregate = permission_fields(&permissions)?;
    aggregate.insert("Name".into(), json!(format!("X{}", &group_id[..15])));
    aggregate.insert("Label".into(), json!(label));
    aggregate.insert("Type".into(), json!("Group"));
    aggregate.insert("PermissionSetGroupId".into(), json!(group_id));
    let aggregate_id = builder.insert("PermissionSet", &aggregate, None)?;
    Ok((group_id, aggregate_id))
}

/// Salesforce keeps a `PermissionSetAssignment` to the profile's owned set and a `UserLogin`
/// row for every user; both are derived here, after every user exists.
fn grant_profiles_and_logins(builder: &mut OrgBuilder) -> Result<(), String> {
    let user_object = builder.schema.index_of("User").ok_or("no User object")?;
    let profile_field = builder.schema.objects[user_object]
        .field_index("ProfileId")
        .ok_or("no User.ProfileId")?;
    let users: Vec<(String, Option<String>)> = builder
        .tables
        .table(user_object)
        .rows
        .iter()
        .map(|r| {
            (
                r.id().to_string(),
                r.values
                    .get(profile_field)
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
            )
        })
        .collect();
    for (user, profile) in users {
        if let Some(set) = profile.and_then(|p| builder.profile_sets.get(&p).cloned()) {
            let mut f = Map::new();
            f.insert("AssigneeId".into(), Json::String(user.clone()));
            f.insert("PermissionSetId".into(), Json::String(set));
            builder.insert("PermissionSetAssignment", &f, None)?;
        }
        let mut f = Map::new();
        let frozen = builder.frozen.contains(&user);
        f.insert("UserId".into(), Json::String(user));
        f.insert("IsFrozen".into(), Json::Bool(frozen));
        f.insert("IsPasswordLocked".into(), Json::Bool(false));
        builder.insert("UserLogin", &f, None)?;
    }
    Ok(())
}

/// `SecuritySettings.networkAccess` for the org's trusted ranges (`null` when none).
fn network_access(ranges: &[IpRangeSeed]) -> Json {
    if ranges.is_empty() {
        return Json::Null;
    }
    let list: Vec<Json> = ranges
        .iter()
        .map(|r| json!({"description": r.description, "end": r.end, "start": r.start}))
        .collect();
    json!({"ipRanges": list, "loginFlows": null})
}

fn access_name(schema: &OrgSchema, object: &str) -> &'static str {
    match schema.object(object).map(|o| o.sharing) {
        Some(Sharing::Private) => "None",
        Some(Sharing::Read) => "Read",
        _ => "Edit",
    }
}

/// Names a seed's users refer to, resolved to ids.
pub struct UserRefs<'a> {
    pub profiles: &'a HashMap<String, String>,
    pub roles: &'a HashMap<String, String>,
    pub sets: &'a HashMap<String, String>,
    /// Group name → (group id, aggregate permission set id).
    pub groups: &'a HashMap<String, (String, String)>,
}

pub fn insert_user(
    builder: &mut OrgBuilder,
    user: &UserSeed,
    refs: &UserRefs<'_>,
    id: Option<String>,
) -> Result<String, String> {
    let (profiles, roles, sets) = (refs.profiles, refs.roles, refs.sets);
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
    for group in &user.permission_set_groups {
        let (group_id, aggregate_id) = refs.groups.get(group).ok_or_else(|| {
            format!(
                "user '{}': unknown permission set group '{group}'",
                user.username
            )
        })?;
        let mut assignment = Map::new();
        assignment.insert("AssigneeId".into(), json!(id));
        assignment.insert("PermissionSetId".into(), json!(aggregate_id));
        assignment.insert("PermissionSetGroupId".into(), json!(group_id));
        builder.insert("PermissionSetAssignment", &assignment, None)?;
    }
    if user.frozen {
        builder.frozen.insert(id.clone());
    }
    Ok(id)
}

/// Builds one org from its source.
///
/// The IdP directories are one per process ([`IdpServer::shared`]) and serve the people of
/// every org: the first org's build replaces them, later ones add theirs, so an emulator
/// started again in the same process starts from its own orgs only.
pub fn build(index: usize, source: &OrgSource) -> Result<Org, String> {
    let (org, people) = match source {
        OrgSource::Demo { scale } => super::demo::build(index, *scale)?,
        OrgSource::Seed(text) => build_from_seed(index, text, true)?,
    };
    let server = IdpServer::shared();
    if index == 0 {
        server.replace_people(people);
    } else if !people.is_empty() {
        server.update_people(|all| all.extend(people));
    }
    Ok(org)
}

/// Today's date, the anchor for relative seed data (close dates around today).
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}
