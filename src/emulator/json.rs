//! Values and records as Salesforce writes them: datetimes `2024-11-07T07:00:00.000+0000`,
//! dates `2024-11-07`, times `07:00:00.000Z`, compound addresses as objects, every field
//! present (`null` when empty), `attributes` first.

use serde_json::{Map, Value as Json, json};

use super::schema::{ADDRESS_PARTS, FieldDef, ObjectDef};
use super::store::Record;
use crate::soql::data::Value;
use crate::soql::schema::FieldType;

pub fn format_datetime(dt: &chrono::DateTime<chrono::Utc>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

pub fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => json!(i),
        Value::Double(d) => serde_json::Number::from_f64(*d).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.clone()),
        Value::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
        Value::DateTime(dt) => Json::String(format_datetime(dt)),
        Value::Time(t) => Json::String(t.format("%H:%M:%S%.3fZ").to_string()),
        Value::Location {
            latitude,
            longitude,
        } => json!({"latitude": latitude, "longitude": longitude}),
    }
}

/// `{"type", "url"}` for a record, the url carrying the request's API version.
pub fn attributes(object: &str, id: &str, version: &str) -> Json {
    json!({
        "type": object,
        "url": format!("/services/data/v{version}/sobjects/{object}/{id}"),
    })
}

/// A field's JSON value in a record: compound address fields are assembled from their
/// component fields; `null` when all are empty.
pub fn field_json(def: &ObjectDef, record: &Record, index: usize) -> Json {
    let field: &FieldDef = &def.fields[index];
    if field.field_type == FieldType::Address {
        let prefix = field.name.strip_suffix("Address").unwrap_or("");
        let mut out = Map::new();
        let mut any = false;
        for (key, suffix) in ADDRESS_PARTS {
            let value = def
                .field_index(&format!("{prefix}{suffix}"))
                .and_then(|i| record.values.get(i))
                .map_or(Json::Null, value_to_json);
            any |= !value.is_null();
            out.insert(key.to_string(), value);
        }
        return if any { Json::Object(out) } else { Json::Null };
    }
    record.values.get(index).map_or(Json::Null, value_to_json)
}

/// A whole record (or the `only` fields of it), as `GET /sobjects/{O}/{id}` answers.
pub fn record_json(
    def: &ObjectDef,
    record: &Record,
    version: &str,
    fields: impl Iterator<Item = usize>,
) -> Json {
    let mut out = Map::new();
    out.insert(
        "attributes".into(),
        attributes(&def.name, record.id(), version),
    );
    for i in fields {
        out.insert(def.fields[i].name.clone(), field_json(def, record, i));
    }
    Json::Object(out)
}
