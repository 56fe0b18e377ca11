//! Checks a create or update against describe before anything is sent, so a model learns
//! every problem with its record at once, in Salesforce's own terms, without spending an API
//! call or leaving a half-written record behind.
//!
//! What Salesforce refuses is refused here with its errorCode (the emulator, which refuses
//! the same, is the oracle in the tests):
//! - restricted picklists: `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`; values are matched to
//!   the list without regard to case, as Salesforce does (SOAP API Developer Guide, Field
//!   Types, "Picklist Field Type": the check "is case-insensitive"), and sent in the list's
//!   spelling;
//! - e-mail addresses: `INVALID_EMAIL_ADDRESS` (Salesforce's local part: letters, digits and
//!   ``!#$%&'*+/=?^_`{|}~.-``, no accents; a domain of dotted labels, as the
//!   `salesforce-email` package documents Salesforce's rule, npmjs.com/package/salesforce-email);
//! - numbers: more whole digits than `precision - scale` (or an int's `digits`) get
//!   `NUMBER_OUTSIDE_VALID_RANGE` (Salesforce knowledge article 000212661 says the API
//!   enforces the length, not the decimal places);
//! - text longer than describe's `length`: `STRING_TOO_LONG`;
//! - ids: `MALFORMED_ID`, and an id of an object the field does not point to:
//!   `FIELD_INTEGRITY_EXCEPTION` ("id value of incorrect type").
//!
//! And a little more, with sfmcp's own codes (the message says Salesforce would take it):
//! - a value outside an unrestricted picklist (`UNLISTED_PICKLIST_VALUE`): Salesforce would
//!   store it as an inactive value, which for `StageName` leaves a deal neither closed nor
//!   won. It is sent only with `allow_unlisted` (or when a person confirms the write);
//!   otherwise the closest listed values come back;
//! - a dependent picklist's value not valid for its controlling field's value
//!   (`INVALID_DEPENDENT_PICKLIST_VALUE`; describe's `controllerName` and `validFor`). The
//!   API does not enforce dependencies, the user interface does;
//! - more decimal places than describe's `scale` (`TOO_MANY_DECIMAL_PLACES`): the API stores
//!   them, every page shows them rounded;
//! - phone numbers without digits or with words (`INVALID_PHONE`) and URLs with spaces or a
//!   scheme other than http, https, ftp or mailto (`INVALID_URL`): Salesforce stores any
//!   text in both, and a `javascript:` link in a record is a trap for whoever clicks it.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use sfmcp_salesforce::ids::SalesforceId;
use sfmcp_soql::schema::{FieldSchema, FieldType, ObjectSchema};
use sfmcp_soql::validate::{similar_fields, similar_values};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
}

/// One problem with one field, named with the errorCode Salesforce would answer (or one of
/// sfmcp's own, listed in the module docs, for what Salesforce would take).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteIssue {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// The fields to send, keyed by their canonical API names.
pub type CheckedFields = Map<String, Value>;

/// What the check knows beyond the object's describe.
#[derive(Debug, Default)]
pub struct WriteContext<'a> {
    /// The caller means values outside an unrestricted picklist or a dependency.
    pub allow_unlisted: bool,
    /// The object each record-id key prefix belongs to (`None`: no object this user can
    /// see). Prefixes not in the map are left to Salesforce.
    pub objects_by_prefix: HashMap<String, Option<String>>,
    /// For an update: the record's current values of fields the write leaves alone (the
    /// controlling fields of dependent picklists it sets); a controller missing here is not
    /// checked. `None` for a create, where a field not written is empty.
    pub current: Option<&'a Map<String, Value>>,
}

/// A write ready to send, and what the caller should read about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub fields: CheckedFields,
    /// Values sent other than as given (the list's spelling) or sent on purpose outside
    /// the list: each a line the caller and a confirming person must see.
    pub notes: Vec<String>,
}

/// Checks `fields` for a create or an update of `object`. On success the field names are
/// canonical (`industry` becomes `Industry`) and picklist values spelled as listed; on
/// failure every issue found is listed.
pub fn check(
    object: &ObjectSchema,
    kind: WriteKind,
    fields: &Map<String, Value>,
    context: &WriteContext<'_>,
) -> Result<Checked, Vec<WriteIssue>> {
    let mut issues = Vec::new();
    let mut notes = Vec::new();
    let object_allows = match kind {
        WriteKind::Create => object.createable,
        WriteKind::Update => object.updateable,
    };
    if !object_allows {
        let verb = match kind {
            WriteKind::Create => "create",
            WriteKind::Update => "update",
        };
        issues.push(WriteIssue {
            field: String::new(),
            code: "INSUFFICIENT_ACCESS_OR_READONLY",
            message: format!(
                "{} records cannot be {verb}d by the connected user",
                object.name
            ),
        });
        return Err(issues);
    }
    let mut checked = Map::new();
    for (name, value) in fields {
        let Some(field) = object.field(name) else {
            issues.push(unknown_field(object, name));
            continue;
        };
        let allowed = match kind {
            WriteKind::Create => field.createable,
            WriteKind::Update => field.updateable,
        };
        if !allowed {
            let when = match kind {
                WriteKind::Create => "set on create",
                WriteKind::Update => "updated",
            };
            issues.push(WriteIssue {
                field: field.name.clone(),
                code: "INVALID_FIELD_FOR_INSERT_UPDATE",
                message: format!("{}.{} cannot be {when}", object.name, field.name),
            });
            continue;
        }
        match check_value(object, field, value, context, &mut notes) {
            Ok(value) => {
                checked.insert(field.name.clone(), value);
            }
            Err(issue) => issues.push(issue),
        }
    }
    for field in object.fields.iter() {
        if let Some(value) = checked.get(&field.name) {
            if let Err(issue) = check_dependency(object, field, value, &checked, context) {
                issues.push(issue);
            } else if let Some(note) = dependency_note(object, field, value, &checked, context) {
                notes.push(note);
            }
        }
    }
    if kind == WriteKind::Create {
        let missing: Vec<&str> = object
            .fields
            .iter()
            .filter(|f| f.required_on_create() && f.field_type != FieldType::Boolean)
            .filter(|f| checked.get(&f.name).is_none_or(Value::is_null))
            .map(|f| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            issues.push(WriteIssue {
                field: missing.join(", "),
                code: "REQUIRED_FIELD_MISSING",
                message: format!("Required fields are missing: [{}]", missing.join(", ")),
            });
        }
    }
    if issues.is_empty() {
        Ok(Checked {
            fields: checked,
            notes,
        })
    } else {
        Err(issues)
    }
}

fn unknown_field(object: &ObjectSchema, name: &str) -> WriteIssue {
    let shown = quoted(name);
    // A name cut for quoting is longer than any field's: nothing can be similar to it, and
    // comparing megabytes with every field would cost more than it could find.
    let similar = if shown.len() < name.len() {
        Vec::new()
    } else {
        similar_fields(object, name)
    };
    let suggestion = if similar.is_empty() {
        format!(
            "; describe_object {} lists the fields that exist",
            object.name
        )
    } else {
        format!("; did you mean {}?", similar.join(" or "))
    };
    WriteIssue {
        message: format!(
            "No such column '{shown}' on sobject of type {}{suggestion}",
            object.name
        ),
        field: shown,
        code: "INVALID_FIELD",
    }
}

/// Caller input quoted back in a message is cut to this many characters, so a megabyte
/// name or value does not come back as a megabyte error.
pub const MAX_QUOTED_CHARS: usize = 100;

/// `text` as a message quotes it: cut, saying how much was left out.
pub fn quoted(text: &str) -> String {
    crate::render::clip(text, MAX_QUOTED_CHARS)
}

/// The value to send for `field`, or why it cannot be sent.
fn check_value(
    object: &ObjectSchema,
    field: &FieldSchema,
    value: &Value,
    context: &WriteContext<'_>,
    notes: &mut Vec<String>,
) -> Result<Value, WriteIssue> {
    let issue = |code: &'static str, message: String| WriteIssue {
        field: field.name.clone(),
        code,
        message,
    };
    let expected = |what: &str| {
        issue(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            format!("{}: expected {what}, got {}", field.name, json_kind(value)),
        )
    };
    if value.is_null() {
        return if field.nillable || field.field_type == FieldType::Boolean {
            Ok(Value::Null)
        } else {
            Err(issue(
                "REQUIRED_FIELD_MISSING",
                format!("{} cannot be empty", field.name),
            ))
        };
    }
    let text = || value.as_str().ok_or_else(|| expected("text"));
    match &field.field_type {
        FieldType::Boolean => value
            .is_boolean()
            .then(|| value.clone())
            .ok_or_else(|| expected("true or false")),
        FieldType::Int | FieldType::Long => {
            let number = value.as_i64().ok_or_else(|| expected("a whole number"))?;
            let limit = 10_i64.checked_pow(field.digits);
            if field.digits > 0 && limit.is_some_and(|limit| number.unsigned_abs() >= limit as u64)
            {
                return Err(out_of_range(field, &number.to_string()));
            }
            Ok(value.clone())
        }
        FieldType::Double | FieldType::Currency | FieldType::Percent => {
            let Value::Number(number) = value else {
                return Err(expected("a number"));
            };
            check_number(field, number)?;
            Ok(value.clone())
        }
        FieldType::Date => match value.as_str() {
            Some(s) if is_date(s) => Ok(value.clone()),
            _ => Err(expected("a date like 2024-01-31")),
        },
        FieldType::Datetime => match value.as_str() {
            Some(s) if is_datetime(s) => Ok(value.clone()),
            _ => Err(expected("a datetime like 2024-01-31T10:00:00Z")),
        },
        FieldType::Reference | FieldType::Id => {
            let text = value.as_str().ok_or_else(|| expected("a record Id"))?;
            let id = SalesforceId::parse(text).map_err(|e| {
                issue(
                    "MALFORMED_ID",
                    format!(
                        "{}: '{}' is not a valid record Id ({e})",
                        field.name,
                        quoted(text)
                    ),
                )
            })?;
            check_reference_target(field, &id, context)?;
            Ok(value.clone())
        }
        FieldType::Picklist | FieldType::Multipicklist => {
            let text = text()?;
            check_length(field, text)?;
            let listed = listed_spelling(object, field, text, context, notes)?;
            Ok(Value::String(listed))
        }
        FieldType::Email => {
            let text = text()?;
            check_length(field, text)?;
            if !text.is_empty() && !is_email(text) {
                return Err(issue(
                    "INVALID_EMAIL_ADDRESS",
                    format!(
                        "{}: invalid email address: {}; write it as name@example.com (letters, digits and . _ + - before the @, no spaces or accents)",
                        field.name,
                        quoted(text)
                    ),
                ));
            }
            Ok(value.clone())
        }
        FieldType::Phone => {
            let text = text()?;
            check_length(field, text)?;
            if !text.is_empty() && !is_phone(text) {
                return Err(issue(
                    "INVALID_PHONE",
                    format!(
                        "{}: '{}' is not a phone number (Salesforce would store any text; sfmcp does not); write digits with + ( ) - . or spaces, and an extension as 'ext. 12'",
                        field.name,
                        quoted(text)
                    ),
                ));
            }
            Ok(value.clone())
        }
        FieldType::Url => {
            let text = text()?;
            check_length(field, text)?;
            if let Some(problem) = url_problem(text) {
                return Err(issue(
                    "INVALID_URL",
                    format!(
                        "{}: '{}' {problem} (Salesforce would store it; sfmcp does not); send a web address like https://example.com",
                        field.name,
                        quoted(text)
                    ),
                ));
            }
            Ok(value.clone())
        }
        t if t.is_text() => {
            check_length(field, text()?)?;
            Ok(value.clone())
        }
        _ => Ok(value.clone()),
    }
}

fn out_of_range(field: &FieldSchema, shown: &str) -> WriteIssue {
    let whole = if field.digits > 0 {
        field.digits
    } else {
        field.precision.saturating_sub(field.scale)
    };
    WriteIssue {
        field: field.name.clone(),
        code: "NUMBER_OUTSIDE_VALID_RANGE",
        message: format!(
            "{}: value outside of valid range on numeric field: {}; it holds at most {whole} digits before the decimal point",
            field.name,
            quoted(shown)
        ),
    }
}

/// Whole digits against `precision - scale` (Salesforce refuses more) and decimal places
/// against `scale` (Salesforce stores more but every page rounds them away).
fn check_number(field: &FieldSchema, number: &serde_json::Number) -> Result<(), WriteIssue> {
    if field.precision == 0 {
        return Ok(());
    }
    let (whole, decimals) = digits_of(number);
    if whole > field.precision.saturating_sub(field.scale) as usize {
        return Err(out_of_range(field, &number.to_string()));
    }
    if decimals > field.scale as usize {
        return Err(WriteIssue {
            field: field.name.clone(),
            code: "TOO_MANY_DECIMAL_PLACES",
            message: format!(
                "{}: {} has {decimals} decimal places and the field keeps {}; Salesforce would store it but show it rounded, so round it first",
                field.name,
                quoted(&number.to_string()),
                field.scale
            ),
        });
    }
    Ok(())
}

/// Significant whole digits and decimal places of a JSON number, as written in decimal.
pub fn digits_of(number: &serde_json::Number) -> (usize, usize) {
    let written = match (number.as_i64(), number.as_u64(), number.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (_, Some(u), _) => u.to_string(),
        // Display of an f64 never uses an exponent: 1e20 is written out.
        (_, _, Some(f)) => format!("{f}"),
        _ => number.to_string(),
    };
    let unsigned = written.trim_start_matches('-');
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let whole = whole.trim_start_matches('0').len();
    let decimals = fraction.trim_end_matches('0').len();
    (whole, decimals)
}

fn check_reference_target(
    field: &FieldSchema,
    id: &SalesforceId,
    context: &WriteContext<'_>,
) -> Result<(), WriteIssue> {
    let Some(owner) = context.objects_by_prefix.get(id.key_prefix()) else {
        return Ok(());
    };
    let fits = owner.as_deref().is_some_and(|owner| {
        field
            .reference_to
            .iter()
            .any(|target| target.eq_ignore_ascii_case(owner))
    });
    if fits || field.field_type == FieldType::Id {
        return Ok(());
    }
    let what = match owner {
        Some(owner) => format!("a {owner} Id"),
        None => format!(
            "an Id of no object this user can see (prefix {})",
            id.key_prefix()
        ),
    };
    Err(WriteIssue {
        field: field.name.clone(),
        code: "FIELD_INTEGRITY_EXCEPTION",
        message: format!(
            "{}: id value of incorrect type: {id} is {what}; {} takes the Id of a {} record",
            field.name,
            field.name,
            field.reference_to.join(" or ")
        ),
    })
}

/// The value as the picklist spells it, or why it is not sent.
fn listed_spelling(
    object: &ObjectSchema,
    field: &FieldSchema,
    text: &str,
    context: &WriteContext<'_>,
    notes: &mut Vec<String>,
) -> Result<String, WriteIssue> {
    let active = || field.picklist_values.iter().filter(|p| p.active);
    let parts: Vec<&str> = if field.field_type == FieldType::Multipicklist {
        text.split(';').map(str::trim).collect()
    } else {
        vec![text]
    };
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        if let Some(listed) = active().find(|p| p.value == part) {
            out.push(listed.value.clone());
            continue;
        }
        // Salesforce matches without regard to case and stores the list's spelling.
        if let Some(listed) = active().find(|p| p.value.to_lowercase() == part.to_lowercase()) {
            notes.push(format!(
                "{}: '{}' is sent as '{}', as the picklist spells it",
                field.name,
                quoted(part),
                listed.value
            ));
            out.push(listed.value.clone());
            continue;
        }
        let shown = quoted(part);
        let similar = if shown.len() < part.len() {
            Vec::new()
        } else {
            similar_values(
                part,
                active().map(|p| (p.value.as_str(), p.label.as_deref())),
            )
        };
        let hint = if similar.is_empty() {
            format!(
                "describe_object {} lists the values of {}",
                object.name, field.name
            )
        } else {
            format!("did you mean {}?", quoted_list(&similar))
        };
        if field.restricted_picklist {
            return Err(WriteIssue {
                field: field.name.clone(),
                code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                message: format!(
                    "{}: bad value for restricted picklist field: {shown}; {hint}",
                    field.name
                ),
            });
        }
        if !context.allow_unlisted {
            let stage = if is_stage(object, field) {
                " An unlisted stage leaves the opportunity neither closed nor won."
            } else {
                ""
            };
            return Err(WriteIssue {
                field: field.name.clone(),
                code: "UNLISTED_PICKLIST_VALUE",
                message: format!(
                    "{}: '{shown}' is not one of the picklist's values; {hint} Salesforce would store it as an inactive value.{stage} Send a listed value, or, if this new value is meant, send it again with allow_unlisted: true",
                    field.name
                ),
            });
        }
        let stage = if is_stage(object, field) {
            ": the opportunity will be neither closed nor won"
        } else {
            ""
        };
        notes.push(format!(
            "{}: '{shown}' is NOT one of the picklist's values; it is sent as asked (allow_unlisted){stage}",
            field.name
        ));
        out.push(part.to_string());
    }
    Ok(out.join(";"))
}

fn is_stage(object: &ObjectSchema, field: &FieldSchema) -> bool {
    object.name.eq_ignore_ascii_case("Opportunity") && field.name.eq_ignore_ascii_case("StageName")
}

fn quoted_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The controlling value a dependent picklist's value is checked against, and the values
/// valid for it: `None` when `field` is not dependent or its value list says nothing.
fn dependency<'f>(
    object: &'f ObjectSchema,
    field: &'f FieldSchema,
    written: &Map<String, Value>,
    context: &WriteContext<'_>,
) -> Option<(&'f FieldSchema, Value, Option<usize>)> {
    let controller_name = field.controller_name.as_deref()?;
    if field.picklist_values.iter().all(|p| p.valid_for.is_none()) {
        return None;
    }
    let controller = object.field(controller_name)?;
    let value = match (written.get(&controller.name), context.current) {
        (Some(value), _) => value.clone(),
        // An update whose controlling value was not read (this server may not read it):
        // Salesforce decides.
        (None, Some(current)) => current.get(&controller.name)?.clone(),
        (None, None) => Value::Null,
    };
    let index = match (&controller.field_type, &value) {
        (FieldType::Boolean, Value::Bool(b)) => Some(usize::from(*b)),
        (_, Value::String(s)) => controller
            .picklist_values
            .iter()
            .position(|p| &p.value == s),
        _ => None,
    };
    Some((controller, value, index))
}

/// Whether bit `index` (most significant bit of the first byte first) is set in base64
/// `valid_for`.
pub fn valid_for_allows(valid_for: &str, index: usize) -> bool {
    use base64::Engine;
    let Ok(bits) = base64::engine::general_purpose::STANDARD.decode(valid_for) else {
        return false;
    };
    bits.get(index / 8)
        .is_some_and(|byte| byte & (0x80 >> (index % 8)) != 0)
}

/// Dependent-picklist values not valid for the controlling value, unless the caller says
/// it means them.
fn invalid_dependent_parts(
    object: &ObjectSchema,
    field: &FieldSchema,
    value: &Value,
    written: &Map<String, Value>,
    context: &WriteContext<'_>,
) -> Option<(String, Value, Vec<String>, Vec<String>)> {
    let text = value.as_str()?;
    let (controller, controlling, index) = dependency(object, field, written, context)?;
    let valid = |entry: &sfmcp_soql::schema::PicklistValue| {
        index.is_some_and(|i| {
            entry
                .valid_for
                .as_deref()
                .is_some_and(|v| valid_for_allows(v, i))
        })
    };
    let bad: Vec<String> = text
        .split(';')
        .filter(|part| {
            field
                .picklist_values
                .iter()
                .find(|p| p.value == *part)
                .is_some_and(|p| !valid(p))
        })
        .map(str::to_string)
        .collect();
    if bad.is_empty() {
        return None;
    }
    let allowed: Vec<String> = field
        .picklist_values
        .iter()
        .filter(|p| p.active && valid(p))
        .map(|p| p.value.clone())
        .collect();
    Some((controller.name.clone(), controlling, bad, allowed))
}

fn check_dependency(
    object: &ObjectSchema,
    field: &FieldSchema,
    value: &Value,
    written: &Map<String, Value>,
    context: &WriteContext<'_>,
) -> Result<(), WriteIssue> {
    if context.allow_unlisted {
        return Ok(());
    }
    let Some((controller, controlling, bad, allowed)) =
        invalid_dependent_parts(object, field, value, written, context)
    else {
        return Ok(());
    };
    let controlling = match &controlling {
        Value::Null => "empty".to_string(),
        Value::String(s) => format!("'{}'", quoted(s)),
        other => other.to_string(),
    };
    let choices = if allowed.is_empty() {
        format!("no value of {} is valid for it", field.name)
    } else {
        format!("valid values are {}", quoted_list(&allowed))
    };
    Err(WriteIssue {
        field: field.name.clone(),
        code: "INVALID_DEPENDENT_PICKLIST_VALUE",
        message: format!(
            "{}: {} is not valid when {controller} is {controlling}; {choices}. Change {controller} in the same write, pick a valid value, or send allow_unlisted: true if this combination is meant (the API does not enforce dependencies; Salesforce's pages do)",
            field.name,
            quoted_list(&bad.iter().map(|b| quoted(b)).collect::<Vec<_>>()),
        ),
    })
}

fn dependency_note(
    object: &ObjectSchema,
    field: &FieldSchema,
    value: &Value,
    written: &Map<String, Value>,
    context: &WriteContext<'_>,
) -> Option<String> {
    if !context.allow_unlisted {
        return None;
    }
    let (controller, _, bad, _) = invalid_dependent_parts(object, field, value, written, context)?;
    Some(format!(
        "{}: {} is NOT valid for the value of {controller}; it is sent as asked (allow_unlisted)",
        field.name,
        quoted_list(&bad.iter().map(|b| quoted(b)).collect::<Vec<_>>())
    ))
}

/// The controlling fields an update must read first: those of dependent picklists it sets
/// without setting their controller.
pub fn controllers_to_read(object: &ObjectSchema, fields: &Map<String, Value>) -> Vec<String> {
    let mut names = Vec::new();
    for (name, _) in fields {
        let Some(field) = object.field(name) else {
            continue;
        };
        let Some(controller) = field
            .controller_name
            .as_deref()
            .and_then(|c| object.field(c))
        else {
            continue;
        };
        let written = fields
            .keys()
            .any(|k| k.eq_ignore_ascii_case(&controller.name));
        if !written && !names.contains(&controller.name) {
            names.push(controller.name.clone());
        }
    }
    names
}

fn check_length(field: &FieldSchema, text: &str) -> Result<(), WriteIssue> {
    let length = text.chars().count();
    if field.length > 0 && length > field.length as usize {
        return Err(WriteIssue {
            field: field.name.clone(),
            code: "STRING_TOO_LONG",
            message: format!(
                "{}: data value too large: {length} characters, max length={}",
                field.name, field.length
            ),
        });
    }
    Ok(())
}

/// `YYYY-MM-DD`, as Salesforce takes dates.
pub fn is_date(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// ISO 8601 with an offset, as Salesforce takes and answers datetimes:
/// `2024-01-31T10:00:00Z`, `…+01:00`, `…T10:00:00.000+0000`.
pub fn is_datetime(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"]
            .iter()
            .any(|format| chrono::DateTime::parse_from_str(text, format).is_ok())
}

/// An address Salesforce's e-mail fields take (see the module docs).
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    const LOCAL_PUNCTUATION: &str = "!#$%&'*+/=?^_`{|}~.-";
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || LOCAL_PUNCTUATION.contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    local_ok && domain_ok
}

/// Digits with the usual separators, and words only as an extension marker.
pub fn is_phone(text: &str) -> bool {
    if !text.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let symbols_ok = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " +-().,/#*".contains(c));
    let words_ok = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|word| !word.is_empty())
        .all(|word| {
            matches!(
                word.to_ascii_lowercase().as_str(),
                "x" | "ext" | "extension" | "tel"
            )
        });
    symbols_ok && words_ok
}

/// What is wrong with `text` as a record's web address, if anything.
pub fn url_problem(text: &str) -> Option<&'static str> {
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("holds spaces or control characters");
    }
    // A scheme is letters before a colon not followed by a port number (`localhost:8080`).
    let scheme = text.split_once(':').and_then(|(scheme, rest)| {
        let is_scheme = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
            && !scheme.contains('.')
            && !rest.starts_with(|c: char| c.is_ascii_digit());
        is_scheme.then(|| scheme.to_ascii_lowercase())
    });
    match scheme.as_deref() {
        None | Some("http" | "https" | "ftp" | "mailto") => None,
        Some(_) => Some("has a scheme other than http, https, ftp or mailto"),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A recorded describe from `../shared/fixtures` (or `$SFMCP_SHARED_FIXTURES`, for a
    /// worktree with no `../shared` beside it).
    fn recorded(path: &str) -> ObjectSchema {
        let root = std::env::var("SFMCP_SHARED_FIXTURES")
            .unwrap_or_else(|_| format!("{}/../../../shared/fixtures", env!("CARGO_MANIFEST_DIR")));
        let text = std::fs::read_to_string(format!("{root}/{path}")).expect("fixture");
        serde_json::from_str::<ObjectSchema>(&text)
            .expect("describe")
            .index()
    }

    fn describe(name: &str) -> ObjectSchema {
        recorded(&format!("cumulusci/describe-{name}.json"))
    }

    fn fields(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn a_good_create_comes_back_with_canonical_names() {
        let account = describe("account");
        let checked = check(
            &account,
            WriteKind::Create,
            &fields(json!({"name": "Acme", "numberofemployees": 12, "Website": "acme.test"})),
            &WriteContext::default(),
        )
        .expect("valid");
        let names: Vec<&String> = checked.fields.keys().collect();
        assert_eq!(names, ["Name", "NumberOfEmployees", "Website"]);
    }

    #[test]
    fn every_issue_is_reported_at_once() {
        let account = describe("account");
        let issues = check(
            &account,
            WriteKind::Create,
            &fields(json!({
                "Nmae": "x",
                "CreatedDate": "2024-01-01T00:00:00Z",
                "NumberOfEmployees": "twelve",
                "ParentId": "001notanid",
                "Phone": "1".repeat(41),
            })),
            &WriteContext::default(),
        )
        .expect_err("invalid");
        let codes: Vec<(&str, &str)> = issues.iter().map(|i| (i.field.as_str(), i.code)).collect();
        assert!(
            issues[0].message.contains("did you mean Name?"),
            "{}",
            issues[0].message
        );
        assert_eq!(
            codes,
            [
                ("Nmae", "INVALID_FIELD"),
                ("CreatedDate", "INVALID_FIELD_FOR_INSERT_UPDATE"),
                ("NumberOfEmployees", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
                ("ParentId", "MALFORMED_ID"),
                ("Phone", "STRING_TOO_LONG"),
                ("Name", "REQUIRED_FIELD_MISSING"),
            ]
        );
    }

    #[test]
    fn updates_need_no_required_fields_but_respect_updateability() {
        let account = describe("account");
        assert!(
            check(
                &account,
                WriteKind::Update,
                &fields(json!({"Industry": "Media"})),
                &WriteContext {
                    allow_unlisted: true,
                    ..WriteContext::default()
                }
            )
            .is_ok()
        );
        let issues = check(
            &account,
            WriteKind::Update,
            &fields(json!({"Id": "001000000000000AAA"})),
            &WriteContext::default(),
        )
        .expect_err("Id is not updateable");
        assert_eq!(issues[0].code, "INVALID_FIELD_FOR_INSERT_UPDATE");
    }

    #[test]
    fn restricted_picklists_list_the_allowed_values() {
        let mut account = describe("account");
        for field in &mut account.fields {
            if field.name == "Industry" {
                field.restricted_picklist = true;
            }
        }
        let issues = check(
            &account,
            WriteKind::Update,
            &fields(json!({"Industry": "bankng"})),
            &WriteContext {
                allow_unlisted: true,
                ..WriteContext::default()
            },
        )
        .expect_err("not in the list, and allow_unlisted does not open a restricted list");
        assert_eq!(issues[0].code, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
        assert!(
            issues[0].message.contains("did you mean 'Banking'?"),
            "{}",
            issues[0].message
        );
    }

    fn one_issue(object: &ObjectSchema, kind: WriteKind, value: Value) -> WriteIssue {
        match check(object, kind, &fields(value), &WriteContext::default()) {
            Ok(checked) => panic!("accepted: {:?}", checked.fields),
            Err(mut issues) => {
                assert_eq!(issues.len(), 1, "{issues:?}");
                issues.remove(0)
            }
        }
    }

    fn accepted(object: &ObjectSchema, context: &WriteContext<'_>, value: Value) -> Checked {
        check(object, WriteKind::Update, &fields(value), context)
            .unwrap_or_else(|issues| panic!("refused: {issues:?}"))
    }

    /// Issue 15: `Closed-Won` and `closed won` were stored with no warning, leaving the deal
    /// neither closed nor won; Lead Status `Working` too.
    #[test]
    fn unlisted_picklist_values_come_back_with_the_closest_ones() {
        let opportunity = describe("opportunity");
        assert!(
            !opportunity
                .field("StageName")
                .expect("stage")
                .restricted_picklist
        );
        let issue = one_issue(
            &opportunity,
            WriteKind::Update,
            json!({"StageName": "Closed-Won"}),
        );
        assert_eq!(issue.code, "UNLISTED_PICKLIST_VALUE");
        assert!(
            issue.message.contains("did you mean 'Closed Won'")
                && issue.message.contains("neither closed nor won")
                && issue.message.contains("allow_unlisted: true"),
            "{}",
            issue.message
        );
        let lead = describe("lead");
        let issue = one_issue(&lead, WriteKind::Update, json!({"Status": "Working"}));
        assert_eq!(issue.code, "UNLISTED_PICKLIST_VALUE");
        assert!(
            issue.message.contains("'Working - Contacted'"),
            "{}",
            issue.message
        );
        let far = one_issue(&lead, WriteKind::Update, json!({"Status": "Zzzzqqq"}));
        assert!(
            far.message
                .contains("describe_object Lead lists the values of Status"),
            "{}",
            far.message
        );
    }

    #[test]
    fn a_value_differing_only_in_case_is_sent_as_listed_with_a_note() {
        let opportunity = describe("opportunity");
        let checked = accepted(
            &opportunity,
            &WriteContext::default(),
            json!({"stagename": "closed won"}),
        );
        assert_eq!(checked.fields.get("StageName"), Some(&json!("Closed Won")));
        assert_eq!(checked.notes.len(), 1, "{:?}", checked.notes);
        assert!(checked.notes[0].contains("sent as 'Closed Won'"));
    }

    #[test]
    fn allow_unlisted_sends_the_value_as_given_and_says_so() {
        let opportunity = describe("opportunity");
        let context = WriteContext {
            allow_unlisted: true,
            ..WriteContext::default()
        };
        let checked = accepted(&opportunity, &context, json!({"StageName": "Verbal"}));
        assert_eq!(checked.fields.get("StageName"), Some(&json!("Verbal")));
        assert!(
            checked.notes[0].contains("NOT one of the picklist's values")
                && checked.notes[0].contains("neither closed nor won"),
            "{:?}",
            checked.notes
        );
    }

    #[test]
    fn multi_select_parts_are_matched_one_by_one() {
        let mut whizbang = recorded("restforce/describe-custom-object-legacy.json");
        let checked = accepted(
            &whizbang,
            &WriteContext::default(),
            json!({"Picklist_Multiselect_Field": "FOUR; six"}),
        );
        assert_eq!(
            checked.fields.get("Picklist_Multiselect_Field"),
            Some(&json!("four;six"))
        );
        for field in &mut whizbang.fields {
            field.restricted_picklist = true;
        }
        let issue = one_issue(
            &whizbang,
            WriteKind::Update,
            json!({"Picklist_Multiselect_Field": "four;sixx"}),
        );
        assert_eq!(issue.code, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
        assert!(issue.message.contains("'six'"), "{}", issue.message);
    }

    /// The one recorded dependent picklist: `Dependent_Picklist_Field` under
    /// `Picklist_Field`, `seven` and `eight` valid for `one` (`gAAA`), `nine` for `two`
    /// (`QAAA`), `ten` for `control_ten` (`AEAA`, bit 9).
    #[test]
    fn dependent_picklists_follow_the_recorded_valid_for_bits() {
        let whizbang = recorded("restforce/describe-custom-object-legacy.json");
        assert!(valid_for_allows("gAAA", 0) && !valid_for_allows("gAAA", 1));
        assert!(valid_for_allows("QAAA", 1));
        assert!(valid_for_allows("AEAA", 9) && !valid_for_allows("AEAA", 8));
        assert!(!valid_for_allows("not base64!", 0));
        let create = |value: Value| {
            check(
                &whizbang,
                WriteKind::Create,
                &fields(value),
                &WriteContext::default(),
            )
        };
        let good = create(json!({"Picklist_Field": "one", "Dependent_Picklist_Field": "eight"}));
        assert!(good.is_ok(), "{good:?}");
        let good =
            create(json!({"Picklist_Field": "control_ten", "Dependent_Picklist_Field": "ten"}));
        assert!(good.is_ok(), "{good:?}");
        let bad = create(json!({"Picklist_Field": "two", "Dependent_Picklist_Field": "seven"}))
            .expect_err("seven is not valid for two");
        assert_eq!(bad[0].code, "INVALID_DEPENDENT_PICKLIST_VALUE");
        assert!(
            bad[0].message.contains("when Picklist_Field is 'two'")
                && bad[0].message.contains("valid values are 'nine'"),
            "{}",
            bad[0].message
        );
        let alone =
            create(json!({"Dependent_Picklist_Field": "seven"})).expect_err("no controlling value");
        assert!(
            alone[0].message.contains("is empty"),
            "{}",
            alone[0].message
        );

        // An update that leaves the controller alone is checked against its stored value.
        let names = controllers_to_read(
            &whizbang,
            &fields(json!({"Dependent_Picklist_Field": "nine"})),
        );
        assert_eq!(names, ["Picklist_Field"]);
        let stored = fields(json!({"Picklist_Field": "two"}));
        let context = WriteContext {
            current: Some(&stored),
            ..WriteContext::default()
        };
        accepted(
            &whizbang,
            &context,
            json!({"Dependent_Picklist_Field": "nine"}),
        );
        let stored = fields(json!({"Picklist_Field": "one"}));
        let context = WriteContext {
            current: Some(&stored),
            ..WriteContext::default()
        };
        let refused = check(
            &whizbang,
            WriteKind::Update,
            &fields(json!({"Dependent_Picklist_Field": "nine"})),
            &context,
        );
        assert!(refused.is_err());
        let meant = WriteContext {
            allow_unlisted: true,
            current: Some(&stored),
            ..WriteContext::default()
        };
        // A controlling value this server did not read (a denied field) is Salesforce's call.
        let unread = Map::new();
        let unread_context = WriteContext {
            current: Some(&unread),
            ..WriteContext::default()
        };
        accepted(
            &whizbang,
            &unread_context,
            json!({"Dependent_Picklist_Field": "seven"}),
        );
        let sent = accepted(
            &whizbang,
            &meant,
            json!({"Dependent_Picklist_Field": "nine"}),
        );
        assert!(sent.notes[0].contains("NOT valid"), "{:?}", sent.notes);
    }

    #[test]
    fn emails_as_salesforce_takes_them() {
        for good in [
            "a@b.co",
            "first.last+tag@mail.example.com",
            "o'neil@x-y.org",
            "A_B@C.IO",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "plainaddress",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@exa mple.com",
            ".a@example.com",
            "a..b@example.com",
            "jos\u{e9}@example.com",
            "a@-example.com",
            "a@example..com",
            "a@example.com.",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        let lead = describe("lead");
        let issue = one_issue(&lead, WriteKind::Update, json!({"Email": "ada(at)example"}));
        assert_eq!(issue.code, "INVALID_EMAIL_ADDRESS");
    }

    #[test]
    fn phones_and_urls_get_a_little_more_than_salesforce_checks() {
        for good in [
            "+1 (415) 555-0100",
            "555.0100 ext. 12",
            "+44 20 7946 0958 x3",
            "0800/123 456",
        ] {
            assert!(is_phone(good), "{good}");
        }
        for bad in ["call me", "n/a", "555-CALL-NOW", "+1 415 <script>"] {
            assert!(!is_phone(bad), "{bad}");
        }
        for good in [
            "acme.test",
            "https://acme.test/a?b=c",
            "http://localhost:8080",
            "localhost:8080/x",
            "mailto:a@b.co",
        ] {
            assert_eq!(url_problem(good), None, "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "https://acme.test/a b",
            "vbscript:x",
        ] {
            assert!(url_problem(bad).is_some(), "{bad}");
        }
        let account = describe("account");
        assert_eq!(
            one_issue(&account, WriteKind::Update, json!({"Phone": "call me"})).code,
            "INVALID_PHONE"
        );
        assert_eq!(
            one_issue(
                &account,
                WriteKind::Update,
                json!({"Website": "javascript:alert(1)"})
            )
            .code,
            "INVALID_URL"
        );
    }

    #[test]
    fn numbers_fit_precision_and_scale() {
        let opportunity = describe("opportunity");
        // Amount: currency(18, 2); Probability: percent(3, 0); recorded.
        accepted(
            &opportunity,
            &WriteContext::default(),
            json!({"Amount": 9_999_999_999_999_999_u64, "Probability": 100}),
        );
        let issue = one_issue(
            &opportunity,
            WriteKind::Update,
            json!({"Probability": 1000}),
        );
        assert_eq!(issue.code, "NUMBER_OUTSIDE_VALID_RANGE");
        let issue = one_issue(&opportunity, WriteKind::Update, json!({"Amount": 1e17}));
        assert_eq!(issue.code, "NUMBER_OUTSIDE_VALID_RANGE");
        let issue = one_issue(&opportunity, WriteKind::Update, json!({"Amount": 12.345}));
        assert_eq!(issue.code, "TOO_MANY_DECIMAL_PLACES");
        let account = describe("account");
        // NumberOfEmployees: int, 8 digits.
        let issue = one_issue(
            &account,
            WriteKind::Update,
            json!({"NumberOfEmployees": 100_000_000}),
        );
        assert_eq!(issue.code, "NUMBER_OUTSIDE_VALID_RANGE");
        accepted(
            &account,
            &WriteContext::default(),
            json!({"NumberOfEmployees": 99_999_999}),
        );
        let n = |v: Value| match v {
            Value::Number(n) => digits_of(&n),
            _ => panic!("not a number"),
        };
        assert_eq!(n(json!(0.5)), (0, 1));
        assert_eq!(n(json!(-120.250)), (3, 2));
        assert_eq!(n(json!(1e20)), (21, 0));
        assert_eq!(n(json!(0)), (0, 0));
    }

    #[test]
    fn dates_datetimes_and_booleans_as_salesforce_writes_them() {
        assert!(is_date("2024-02-29") && !is_date("2023-02-29") && !is_date("2024-2-1"));
        for good in [
            "2024-01-31T10:00:00Z",
            "2024-01-31T10:00:00.000+0000",
            "2024-01-31T10:00:00+01:00",
        ] {
            assert!(is_datetime(good), "{good}");
        }
        assert!(!is_datetime("2024-01-31 10:00") && !is_datetime("yesterday"));
        let opportunity = describe("opportunity");
        assert_eq!(
            one_issue(&opportunity, WriteKind::Update, json!({"IsPrivate": "yes"})).code,
            "INVALID_TYPE_ON_FIELD_IN_RECORD"
        );
    }

    #[test]
    fn lookups_take_ids_of_the_objects_they_point_to() {
        let contact = describe("contact");
        let context = WriteContext {
            objects_by_prefix: HashMap::from([
                ("001".to_string(), Some("Account".to_string())),
                ("006".to_string(), Some("Opportunity".to_string())),
                ("a0X".to_string(), None),
            ]),
            ..WriteContext::default()
        };
        accepted(
            &contact,
            &context,
            json!({"AccountId": "001000000000001AAA"}),
        );
        let wrong = check(
            &contact,
            WriteKind::Update,
            &fields(json!({"AccountId": "006000000000001AAA"})),
            &context,
        )
        .expect_err("an Opportunity id in AccountId");
        assert_eq!(wrong[0].code, "FIELD_INTEGRITY_EXCEPTION");
        assert!(
            wrong[0].message.contains("a Opportunity Id")
                || wrong[0].message.contains("Opportunity Id")
        );
        let unknown = check(
            &contact,
            WriteKind::Update,
            &fields(json!({"AccountId": "a0X000000000001"})),
            &context,
        )
        .expect_err("no such object");
        assert!(unknown[0].message.contains("no object this user can see"));
    }

    #[test]
    fn echoes_of_values_are_bounded() {
        let lead = describe("lead");
        let huge = "W".repeat(1_000_000);
        let issue = one_issue(&lead, WriteKind::Update, json!({"Status": huge}));
        assert!(issue.message.len() < 1_000, "{} bytes", issue.message.len());
        let issue = one_issue(
            &lead,
            WriteKind::Update,
            json!({"Email": format!("{huge}@")}),
        );
        assert!(issue.message.len() < 1_000, "{} bytes", issue.message.len());
    }
}
