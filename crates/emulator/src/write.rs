//! Write validation with Salesforce's error codes and wording, and the fields the platform
//! maintains itself (system fields, full names, stage-derived flags, case numbers).
//!
//! Checks run in Salesforce's order and stop at the first failing kind: unknown field
//! (`INVALID_FIELD`), not writable (`INVALID_FIELD_FOR_INSERT_UPDATE`), type errors
//! (`JSON_PARSER_ERROR`), then per-field value checks (`STRING_TOO_LONG`,
//! `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`, `INVALID_EMAIL_ADDRESS`, `MALFORMED_ID`,
//! `FIELD_INTEGRITY_EXCEPTION`, `INVALID_CROSS_REFERENCE_KEY`), then missing required fields
//! (`REQUIRED_FIELD_MISSING`, all of them at once).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{Map, Value as Json};

use super::errors::ApiError;
use super::ids;
use super::objects::{forecast_category, opportunity_stage};
use super::org::{Org, UserAccess};
use super::schema::{FieldDef, ObjectDef};
use super::store::Tables;
use sfmcp_soql::data::Value;
use sfmcp_soql::schema::FieldType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// Validates a create or update body; returns the typed changes by field index.
pub fn check(
    org: &Org,
    tables: &Tables,
    access: &UserAccess,
    def: &ObjectDef,
    body: &Map<String, Json>,
    mode: Mode,
) -> Result<Vec<(usize, Value)>, Vec<ApiError>> {
    let mut resolved = Vec::with_capacity(body.len());
    for (name, value) in body {
        if name == "attributes" {
            continue;
        }
        let index = def
            .field_index(name)
            .filter(|&i| access.schema.is_visible(def, &def.fields[i]));
        match index {
            Some(i) => resolved.push((i, value)),
            None => {
                return Err(vec![ApiError::bad_request(
                    "INVALID_FIELD",
                    format!("No such column '{name}' on sobject of type {}", def.name),
                )]);
            }
        }
    }
    let not_writable: Vec<String> = resolved
        .iter()
        .map(|&(i, _)| &def.fields[i])
        .filter(|f| match mode {
            Mode::Create => !f.createable,
            Mode::Update => !f.updateable,
        })
        // Salesforce tolerates the Id in an update body.
        .filter(|f| !(mode == Mode::Update && f.name == "Id"))
        .map(|f| f.name.clone())
        .collect();
    if !not_writable.is_empty() {
        return Err(vec![
            ApiError::bad_request(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                format!(
                    "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                    not_writable.join(", ")
                ),
            )
            .with_fields(not_writable),
        ]);
    }
    let mut changes = Vec::with_capacity(resolved.len());
    for (i, json) in resolved {
        let field = &def.fields[i];
        if mode == Mode::Update && field.name == "Id" {
            continue;
        }
        let value = canonical_picklist(field, coerce(field, json)?)?;
        if let Some(shown) = outside_valid_range(field, json) {
            return Err(vec![
                ApiError::bad_request(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    format!(
                        "{}: value outside of valid range on numeric field: {shown}",
                        field.label
                    ),
                )
                .with_fields(vec![field.name.clone()]),
            ]);
        }
        check_value(org, tables, field, &value)?;
        // Salesforce answers every id in its 18-character form, whichever was written; the
        // lookup indexes key on it (check_value has refused anything that is not an id).
        let value = match value {
            Value::String(text) if field.field_type == FieldType::Reference => {
                Value::String(ids::normalize(&text).unwrap_or(text))
            }
            other => other,
        };
        changes.push((i, value));
    }
    let missing: Vec<String> = def
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.nillable && !f.defaulted && f.createable)
        .filter(|(i, _)| {
            let given = changes.iter().find(|(c, _)| c == i);
            match mode {
                Mode::Create => given.is_none_or(|(_, v)| v.is_null()),
                Mode::Update => given.is_some_and(|(_, v)| v.is_null()),
            }
        })
        .map(|(_, f)| f.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(vec![
            ApiError::bad_request(
                "REQUIRED_FIELD_MISSING",
                format!("Required fields are missing: [{}]", missing.join(", ")),
            )
            .with_fields(missing),
        ]);
    }
    Ok(changes)
}

fn parse_error(field: &FieldDef, json: &Json) -> Vec<ApiError> {
    let (kind, shown) = match json {
        Json::String(s) => ("VALUE_STRING", s.clone()),
        Json::Bool(b) => (if *b { "VALUE_TRUE" } else { "VALUE_FALSE" }, b.to_string()),
        Json::Number(n) => ("VALUE_NUMBER_INT", n.to_string()),
        Json::Array(_) => ("START_ARRAY", "[".into()),
        Json::Object(_) => ("START_OBJECT", "{".into()),
        Json::Null => ("VALUE_NULL", "null".into()),
    };
    let type_name = match field.field_type {
        FieldType::Boolean => "boolean",
        FieldType::Int => "int",
        FieldType::Long => "long",
        FieldType::Double | FieldType::Currency | FieldType::Percent => "double",
        FieldType::Date => "date",
        FieldType::Datetime => "datetime",
        FieldType::Time => "time",
        _ => "string",
    };
    vec![ApiError::bad_request(
        "JSON_PARSER_ERROR",
        format!(
            "Cannot deserialize instance of {type_name} from {kind} value {shown} or request may be missing a required field"
        ),
    )]
}

/// Parses a Salesforce datetime as clients send it: `2024-11-07T07:00:00.000+0000`,
/// `...Z`, `...+00:00`, with or without fractional seconds.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    None
}

/// Converts a JSON value to the field's type, as leniently as Salesforce does (numbers in
/// strings, strings for text fields from numbers).
pub fn coerce(field: &FieldDef, json: &Json) -> Result<Value, Vec<ApiError>> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    let fail = || parse_error(field, json);
    let value = match field.field_type {
        FieldType::Boolean => match json {
            Json::Bool(b) => Value::Boolean(*b),
            Json::String(s) if s.eq_ignore_ascii_case("true") => Value::Boolean(true),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Value::Boolean(false),
            _ => return Err(fail()),
        },
        FieldType::Int | FieldType::Long => match json {
            Json::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Value::Integer)
                .ok_or_else(fail)?,
            Json::String(s) => s.trim().parse().map(Value::Integer).map_err(|_| fail())?,
            _ => return Err(fail()),
        },
        FieldType::Double | FieldType::Currency | FieldType::Percent => match json {
            Json::Number(n) => Value::Double(n.as_f64().ok_or_else(fail)?),
            Json::String(s) => s.trim().parse().map(Value::Double).map_err(|_| fail())?,
            _ => return Err(fail()),
        },
        FieldType::Date => match json {
            Json::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Value::Date)
                .map_err(|_| fail())?,
            _ => return Err(fail()),
        },
        FieldType::Datetime => match json {
            Json::String(s) => parse_datetime(s).map(Value::DateTime).ok_or_else(fail)?,
            _ => return Err(fail()),
        },
        FieldType::Time => match json {
            Json::String(s) => NaiveTime::parse_from_str(s.trim_end_matches('Z'), "%H:%M:%S%.f")
                .map(Value::Time)
                .map_err(|_| fail())?,
            _ => return Err(fail()),
        },
        FieldType::Address | FieldType::Location => return Err(fail()),
        _ => match json {
            Json::String(s) => Value::String(s.clone()),
            Json::Number(n) => Value::String(n.to_string()),
            Json::Bool(b) => Value::String(b.to_string()),
            _ => return Err(fail()),
        },
    };
    Ok(value)
}

/// The listed value a written picklist value matches, ignoring case, or the value as sent
/// when none matches and the picklist is not restricted.
///
/// Salesforce, SOAP API Developer Guide, Field Types, "Picklist Field Type"
/// (<https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm>): "When
/// inserting an unrestricted picklist field that does not have a PicklistEntry, the system
/// creates an 'inactive' picklist value" and "the API checks to see if there is a match. This
/// check is case-insensitive." Knowledge article 000386557 ("Picklist fields are not case
/// sensitive and cannot contain duplicate inactive types",
/// <https://help.salesforce.com/s/articleView?id=000386557&type=1>): a value differing only in
/// case "will take the value of the first entry". So `closed won` is stored as `Closed Won`,
/// and `Closed-Won` is stored as sent (an inactive value) on an unrestricted picklist.
/// Restricted picklists refuse it: Metadata API, Picklist, `restrictedPicklist`: "users can't
/// load or remove values through the API"
/// (<https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_picklist.htm>),
/// with `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`, "{label}: bad value for restricted picklist
/// field: {value}".
///
/// Dependent picklists (`controllerName`, `validFor`) are not checked: no emulated field has
/// a controlling field (describe says `dependentPicklist: false`, `validFor: null`, as the
/// recorded describes do for every standard field).
pub fn canonical_picklist(field: &FieldDef, value: Value) -> Result<Value, Vec<ApiError>> {
    let multi = match field.field_type {
        FieldType::Picklist => false,
        FieldType::Multipicklist => true,
        _ => return Ok(value),
    };
    let Value::String(text) = value else {
        return Ok(value);
    };
    let listed = |part: &str| {
        field
            .picklist
            .iter()
            .find(|p| p.to_lowercase() == part.to_lowercase())
    };
    let refuse = |bad: &str| {
        vec![
            ApiError::bad_request(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                format!(
                    "{}: bad value for restricted picklist field: {bad}",
                    field.label
                ),
            )
            .with_fields(vec![field.name.clone()]),
        ]
    };
    let parts: Vec<&str> = if multi {
        text.split(';').collect()
    } else {
        vec![text.as_str()]
    };
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        match listed(part) {
            Some(canonical) => out.push(canonical.clone()),
            None if field.restricted => return Err(refuse(part)),
            None => out.push(part.to_string()),
        }
    }
    Ok(Value::String(out.join(";")))
}

fn check_value(
    org: &Org,
    tables: &Tables,
    field: &FieldDef,
    value: &Value,
) -> Result<(), Vec<ApiError>> {
    let one = |code: &'static str, message: String| {
        Err(vec![
            ApiError::bad_request(code, message).with_fields(vec![field.name.clone()]),
        ])
    };
    let Value::String(text) = value else {
        return Ok(());
    };
    match field.field_type {
        FieldType::Reference => {
            let Some(id) = ids::normalize(text) else {
                return one(
                    "MALFORMED_ID",
                    format!("{}: id value of incorrect type: {text}", field.label),
                );
            };
            let target = org.schema.index_of_id(&id);
            let allowed = target.is_some_and(|t| {
                field
                    .reference_to
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(&org.schema.objects[t].name))
            });
            if !allowed {
                return one(
                    "FIELD_INTEGRITY_EXCEPTION",
                    format!("{}: id value of incorrect type: {text}", field.label),
                );
            }
            let exists = tables
                .find(&org.schema, &id)
                .is_some_and(|(_, _, r)| r.deleted_at.is_none());
            if !exists {
                return one(
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id".to_string(),
                );
            }
        }
        FieldType::Email if !is_email_address(text) && !text.is_empty() => {
            return one(
                "INVALID_EMAIL_ADDRESS",
                format!("{}: invalid email address: {text}", field.label),
            );
        }
        _ => {}
    }
    if field.length > 0
        && field.field_type != FieldType::Reference
        && text.chars().count() > field.length as usize
    {
        let shown: String = text.chars().take(30).collect();
        let shown = if text.chars().count() > 30 {
            format!("{shown}...")
        } else {
            shown
        };
        return one(
            "STRING_TOO_LONG",
            format!(
                "{}: data value too large: {shown} (max length={})",
                field.label, field.length
            ),
        );
    }
    Ok(())
}

/// Digits an `int` field holds, as the emulator's describe gives them.
pub const INT_DIGITS: u32 = 9;

/// The number as written when it has more whole digits than the field holds: `precision -
/// scale` for doubles, currencies and percents, [`INT_DIGITS`] for ints. Salesforce refuses
/// those with `NUMBER_OUTSIDE_VALID_RANGE`, "{label}: value outside of valid range on
/// numeric field: {value}" (the wording a Bulk API upsert met, developer forums,
/// <https://dfc-org-production.force.com/forums/ForumsMain?id=9060G000000BfsuQAC>), and
/// takes more decimal places than the scale through the API, storing them as sent
/// (knowledge article 000212661, "Why is the field of data type number storing more
/// numbers in decimal places than defined?": "the length and decimal places are only
/// enforced when editing data via the standard web UI"; the length is enforced by the API
/// too, as the forum answer shows).
///
/// The digits are counted in the number as written (JSON text, or a numeric string), so the
/// check is exact where a double would round (Salesforce keeps numbers as decimals).
fn outside_valid_range(field: &FieldDef, json: &Json) -> Option<String> {
    let whole_digits = match field.field_type {
        FieldType::Int => INT_DIGITS,
        FieldType::Double | FieldType::Currency | FieldType::Percent if field.precision > 0 => {
            field.precision.saturating_sub(field.scale)
        }
        _ => return None,
    };
    let written = match json {
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            // Display of an f64 never uses an exponent.
            (_, _, Some(f)) => format!("{f}"),
            _ => n.to_string(),
        },
        Json::String(s) => s.trim().to_string(),
        _ => return None,
    };
    let whole = written
        .trim_start_matches(['-', '+'])
        .split('.')
        .next()
        .unwrap_or("")
        .trim_start_matches('0')
        .len();
    (whole > whole_digits as usize).then_some(written)
}

/// An address Salesforce's e-mail fields accept: a local part of ASCII letters, digits and
/// ``!#$%&'*+/=?^_`{|}~.-`` (no leading, trailing or doubled dot; no accents) and a domain
/// of at least two dot-separated labels of letters, digits and inner hyphens. Salesforce
/// documents no grammar; this is the rule the `salesforce-email` package
/// (<https://npmjs.com/package/salesforce-email>) gives for Salesforce ("Like Salesforce, it
/// does not respect the RFC 6532 and will reject emails with accents"), without the
/// comments Salesforce also tolerates. The product's preflight keeps its own copy: this one
/// is the oracle its tests compare with.
fn is_email_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    local_ok
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Permissions that need another: `(permission, what it depends on)`. Salesforce enables
/// View All Data with Modify All Data and does not allow the one without the other; an API
/// write that tries is refused with `FIELD_INTEGRITY_EXCEPTION` "Permission Modify All Data
/// depends on permission(s): View All Data" (the format of Salesforce's dependency errors as
/// data loads meet them: "Watch out for permissions dependencies. When updating permission
/// using the Profile edit page ... Salesforce will automatically enable dependent
/// permissions when needed. When data loading permissions, Salesforce will not automatically
/// update user or system permissions ... Instead the update or insert will fail",
/// <https://wiki.sfxd.org/books/best-practices/page/important-notes>). Only the dependency
/// the emulated permissions can express is listed; the audit relies on it (a Modify All Data
/// holder is a View All Data holder).
pub const PERMISSION_DEPENDENCIES: [(&str, &str); 1] =
    [("PermissionsModifyAllData", "PermissionsViewAllData")];

fn permission_label(field: &str) -> String {
    match field {
        "PermissionsModifyAllData" => "Modify All Data".into(),
        "PermissionsViewAllData" => "View All Data".into(),
        other => other.trim_start_matches("Permissions").to_string(),
    }
}

/// Refuses a profile or permission set whose permissions, after this write, miss one they
/// depend on ([`PERMISSION_DEPENDENCIES`]).
pub fn check_permission_dependencies(
    def: &ObjectDef,
    values: &[Value],
) -> Result<(), Vec<ApiError>> {
    if !matches!(def.name.as_str(), "PermissionSet" | "Profile") {
        return Ok(());
    }
    let on = |name: &str| {
        def.field_index(name)
            .and_then(|i| values.get(i))
            .is_some_and(|v| *v == Value::Boolean(true))
    };
    let missing: Vec<String> = PERMISSION_DEPENDENCIES
        .iter()
        .filter(|(needs, dependency)| on(needs) && !on(dependency))
        .map(|(needs, dependency)| {
            format!(
                "Permission {} depends on permission(s): {}",
                permission_label(needs),
                permission_label(dependency)
            )
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(vec![ApiError::bad_request(
        "FIELD_INTEGRITY_EXCEPTION",
        missing.join("; "),
    )])
}

/// Sets Id-independent system fields: created (on create), last modified, modstamp, and the
/// owner when none was given.
pub fn stamp_system_fields(
    def: &ObjectDef,
    values: &mut [Value],
    user_id: &str,
    now: DateTime<Utc>,
    create: bool,
) {
    let mut set = |name: &str, value: Value, only_if_null: bool| {
        if let Some(i) = def.field_index(name)
            && let Some(slot) = values.get_mut(i)
            && (!only_if_null || slot.is_null())
        {
            *slot = value;
        }
    };
    if create {
        set("CreatedDate", Value::DateTime(now), true);
        set("CreatedById", Value::String(user_id.to_string()), true);
        set("OwnerId", Value::String(user_id.to_string()), true);
        set("IsDeleted", Value::Boolean(false), false);
    }
    set("LastModifiedDate", Value::DateTime(now), create);
    set(
        "LastModifiedById",
        Value::String(user_id.to_string()),
        create,
    );
    set("SystemModstamp", Value::DateTime(now), false);
    if create {
        // Seeds may backdate CreatedDate; the modified dates follow it.
        let created = def
            .field_index("CreatedDate")
            .and_then(|i| values.get(i).cloned());
        if let Some(created @ Value::DateTime(_)) = created {
            for name in ["LastModifiedDate", "SystemModstamp"] {
                if let Some(i) = def.field_index(name)
                    && let Some(slot) = values.get_mut(i)
                    && matches!(slot, Value::DateTime(t) if *t == now)
                {
                    *slot = created.clone();
                }
            }
        }
        if let Some(i) = def.field_index("LastModifiedById")
            && values.get(i).is_some_and(Value::is_null)
        {
            values[i] = Value::String(user_id.to_string());
        }
        if let Some(i) = def.field_index("LastModifiedDate")
            && values.get(i).is_some_and(Value::is_null)
        {
            values[i] = Value::DateTime(now);
        }
    }
}

/// Fields Salesforce computes from others. `existing_cases` numbers a new case; `given` are
/// the fields this write set (a create's or seed's body, an update's changes), because some
/// derived fields follow another only when the write did not set them itself.
pub fn derive_fields(
    def: &ObjectDef,
    values: &mut [Value],
    existing_cases: usize,
    given: &[usize],
) {
    let get = |values: &[Value], name: &str| -> Value {
        def.field_index(name)
            .and_then(|i| values.get(i).cloned())
            .unwrap_or(Value::Null)
    };
    let set = |values: &mut [Value], name: &str, value: Value| {
        if let Some(i) = def.field_index(name)
            && let Some(slot) = values.get_mut(i)
        {
            *slot = value;
        }
    };
    match def.name.as_str() {
        "Contact" | "Lead" | "User" => {
            let first = get(values, "FirstName");
            let last = get(values, "LastName");
            let name = match (first.as_str(), last.as_str()) {
                (Some(f), Some(l)) if !f.is_empty() => format!("{f} {l}"),
                (_, Some(l)) => l.to_string(),
                _ => String::new(),
            };
            set(values, "Name", Value::String(name));
            if def.name == "User" {
                if get(values, "UserType").is_null() {
                    set(values, "UserType", Value::String("Standard".into()));
                }
                if get(values, "CommunityNickname").is_null()
                    && let Some(username) = get(values, "Username").as_str()
                {
                    let nick: String = username
                        .split('@')
                        .next()
                        .unwrap_or("")
                        .chars()
                        .take(40)
                        .collect();
                    set(values, "CommunityNickname", Value::String(nick));
                }
            }
        }
        "Opportunity" => derive_opportunity(def, values, given),
        "Case" => {
            if get(values, "CaseNumber").is_null() {
                let n = existing_cases + 1001;
                set(values, "CaseNumber", Value::String(format!("{n:08}")));
            }
            let closed = get(values, "Status").as_str() == Some("Closed");
            set(values, "IsClosed", Value::Boolean(closed));
            if closed && get(values, "ClosedDate").is_null() {
                set(values, "ClosedDate", get(values, "LastModifiedDate"));
            }
        }
        "Task" | "Event" => {
            if def.name == "Task" {
                let closed = get(values, "Status").as_str() == Some("Completed");
                set(values, "IsClosed", Value::Boolean(closed));
            } else if let Value::DateTime(start) = get(values, "ActivityDateTime") {
                set(values, "ActivityDate", Value::Date(start.date_naive()));
                if get(values, "StartDateTime").is_null() {
                    set(values, "StartDateTime", Value::DateTime(start));
                }
                if let Value::Integer(minutes) = get(values, "DurationInMinutes") {
                    let end = start + chrono::Duration::minutes(minutes);
                    set(values, "EndDateTime", Value::DateTime(end));
                    set(values, "EndDate", Value::Date(end.date_naive()));
                }
            }
            let what = get(values, "WhatId");
            let account = what
                .as_str()
                .filter(|id| id.starts_with("001"))
                .map(|id| Value::String(id.to_string()))
                .unwrap_or(Value::Null);
            set(values, "AccountId", account);
        }
        "UserRole" => {
            if get(values, "DeveloperName").is_null()
                && let Some(name) = get(values, "Name").as_str()
            {
                let developer: String = name
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                set(values, "DeveloperName", Value::String(developer));
            }
        }
        "PermissionSet" if get(values, "Type").is_null() => {
            let owned = get(values, "IsOwnedByProfile") == Value::Boolean(true);
            set(
                values,
                "Type",
                Value::String(if owned { "Profile" } else { "Regular" }.into()),
            );
        }
        // Salesforce derives it from the licence and always returns it; a site's guest
        // profile is the one kind the seed states.
        "Profile" if get(values, "UserType").is_null() => {
            set(values, "UserType", Value::String("Standard".into()));
        }
        "PermissionSetGroup" if get(values, "Status").is_null() => {
            set(values, "Status", Value::String("Updated".into()));
        }
        _ => {}
    }
}

/// The Opportunity fields its stage decides, as Salesforce's Object Reference describes them
/// (Opportunity,
/// <https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_opportunity.htm>):
/// `IsClosed` and `IsWon` are "directly controlled by StageName" (read-only here too);
/// `Probability` and `ForecastCategoryName` are implied by the stage but can be overridden,
/// so a write that sets the stage resets them to the stage's defaults unless it sets them
/// too; `ForecastCategory` is the API value of `ForecastCategoryName`.
///
/// A stage that is not in the list (stored as sent, see [`canonical_picklist`]) has no
/// `OpportunityStage` row to be closed or won by, so the opportunity is open and not won,
/// and its probability and forecast category stay what they were. Salesforce does not
/// document this case; it is the emulator's reading of the two statements above.
fn derive_opportunity(def: &ObjectDef, values: &mut [Value], given: &[usize]) {
    let index = |name: &str| def.field_index(name);
    let was_given = |name: &str| index(name).is_some_and(|i| given.contains(&i));
    let stage = index("StageName")
        .and_then(|i| values.get(i))
        .and_then(Value::as_str)
        .and_then(opportunity_stage);
    let mut set = |name: &str, value: Value| {
        if let Some(slot) = index(name).and_then(|i| values.get_mut(i)) {
            *slot = value;
        }
    };
    let stage_written = was_given("StageName");
    match stage {
        Some(stage) => {
            set("IsClosed", Value::Boolean(stage.closed));
            set("IsWon", Value::Boolean(stage.won));
            if stage_written && !was_given("Probability") {
                set("Probability", Value::Double(f64::from(stage.probability)));
            }
            if stage_written && !was_given("ForecastCategoryName") {
                set(
                    "ForecastCategoryName",
                    Value::String(stage.forecast_category_name.into()),
                );
            }
        }
        None => {
            set("IsClosed", Value::Boolean(false));
            set("IsWon", Value::Boolean(false));
        }
    }
    let get = |values: &[Value], name: &str| {
        index(name)
            .and_then(|i| values.get(i).cloned())
            .unwrap_or(Value::Null)
    };
    if let Some(category) = get(values, "ForecastCategoryName")
        .as_str()
        .and_then(forecast_category)
        && let Some(slot) = index("ForecastCategory").and_then(|i| values.get_mut(i))
    {
        *slot = Value::String(category.into());
    }
    if let (Value::Double(amount), Value::Double(probability)) =
        (get(values, "Amount"), get(values, "Probability"))
        && let Some(slot) = index("ExpectedRevenue").and_then(|i| values.get_mut(i))
    {
        *slot = Value::Double(amount * probability / 100.0);
    }
}
