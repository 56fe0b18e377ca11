//! Checks a create or update against describe before anything is sent, so a model learns
//! every problem with its record at once, in Salesforce's own terms, without spending an API
//! call or leaving a half-written record behind.

use serde::Serialize;
use serde_json::{Map, Value};

use sfmcp_salesforce::ids::SalesforceId;
use sfmcp_soql::schema::{FieldSchema, FieldType, ObjectSchema};
use sfmcp_soql::validate::similar_fields;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
}

/// One problem with one field, named with the errorCode Salesforce would answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteIssue {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// The fields to send, keyed by their canonical API names.
pub type CheckedFields = Map<String, Value>;

/// Checks `fields` for a create or an update of `object`. On success the field names are
/// canonical (`industry` becomes `Industry`); on failure every issue found is listed.
pub fn check(
    object: &ObjectSchema,
    kind: WriteKind,
    fields: &Map<String, Value>,
) -> Result<CheckedFields, Vec<WriteIssue>> {
    let mut issues = Vec::new();
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
        match check_value(field, value) {
            Ok(()) => {
                checked.insert(field.name.clone(), value.clone());
            }
            Err(issue) => issues.push(issue),
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
        Ok(checked)
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

fn check_value(field: &FieldSchema, value: &Value) -> Result<(), WriteIssue> {
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
            Ok(())
        } else {
            Err(issue(
                "REQUIRED_FIELD_MISSING",
                format!("{} cannot be empty", field.name),
            ))
        };
    }
    match &field.field_type {
        FieldType::Boolean => value
            .is_boolean()
            .then_some(())
            .ok_or_else(|| expected("true or false")),
        FieldType::Int | FieldType::Long => value
            .as_i64()
            .map(|_| ())
            .ok_or_else(|| expected("a whole number")),
        FieldType::Double | FieldType::Currency | FieldType::Percent => value
            .as_f64()
            .map(|_| ())
            .ok_or_else(|| expected("a number")),
        FieldType::Date => match value.as_str() {
            Some(s) if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => Ok(()),
            _ => Err(expected("a date like 2024-01-31")),
        },
        FieldType::Datetime => match value.as_str() {
            Some(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => Ok(()),
            _ => Err(expected("a datetime like 2024-01-31T10:00:00Z")),
        },
        FieldType::Reference | FieldType::Id => {
            let text = value.as_str().ok_or_else(|| expected("a record Id"))?;
            SalesforceId::parse(text).map(|_| ()).map_err(|e| {
                issue(
                    "MALFORMED_ID",
                    format!(
                        "{}: '{}' is not a valid record Id ({e})",
                        field.name,
                        quoted(text)
                    ),
                )
            })
        }
        FieldType::Picklist | FieldType::Multipicklist => {
            let text = value.as_str().ok_or_else(|| expected("text"))?;
            check_length(field, text)?;
            if !field.restricted_picklist {
                return Ok(());
            }
            let values: Vec<&str> = if field.field_type == FieldType::Multipicklist {
                text.split(';').map(str::trim).collect()
            } else {
                vec![text]
            };
            for v in values {
                let active = field
                    .picklist_values
                    .iter()
                    .filter(|p| p.active)
                    .any(|p| p.value == v);
                if !active {
                    let allowed: Vec<&str> = field
                        .picklist_values
                        .iter()
                        .filter(|p| p.active)
                        .map(|p| p.value.as_str())
                        .collect();
                    return Err(issue(
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        format!(
                            "{}: bad value for restricted picklist field: {}; allowed: {}",
                            field.name,
                            quoted(v),
                            allowed.join(", ")
                        ),
                    ));
                }
            }
            Ok(())
        }
        t if t.is_text() => {
            let text = value.as_str().ok_or_else(|| expected("text"))?;
            check_length(field, text)
        }
        _ => Ok(()),
    }
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

    fn describe(name: &str) -> ObjectSchema {
        let path = format!(
            "{}/../../../shared/fixtures/cumulusci/describe-{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).expect("fixture");
        serde_json::from_str::<ObjectSchema>(&text)
            .expect("describe")
            .index()
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
        )
        .expect("valid");
        let names: Vec<&String> = checked.keys().collect();
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
                &fields(json!({"Industry": "Media"}))
            )
            .is_ok()
        );
        let issues = check(
            &account,
            WriteKind::Update,
            &fields(json!({"Id": "001000000000000AAA"})),
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
            &fields(json!({"Industry": "Moon mining"})),
        )
        .expect_err("not in the list");
        assert_eq!(issues[0].code, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
        assert!(
            issues[0].message.contains("allowed: Agriculture"),
            "{}",
            issues[0].message
        );
    }
}
