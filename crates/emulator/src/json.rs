//! Values and records as Salesforce writes them: datetimes `2024-11-07T07:00:00.000+0000`,
//! dates `2024-11-07`, times `07:00:00.000Z`, compound addresses as objects, every field
//! present (`null` when empty), `attributes` first.

use serde_json::{Map, Value as Json, json};

use super::schema::{ADDRESS_PARTS, FieldDef, ObjectDef};
use super::store::Record;
use sfmcp_soql::data::Value;
use sfmcp_soql::schema::FieldType;

pub fn format_datetime(dt: &chrono::DateTime<chrono::Utc>) -> String {
    String::from_utf8_lossy(&datetime_bytes(dt)).into_owned()
}

/// `2024-11-07T07:00:00.000+0000` without chrono's format-string interpreter, which
/// dominated rendering a page of records.
pub fn datetime_bytes(dt: &chrono::DateTime<chrono::Utc>) -> [u8; 28] {
    use chrono::{Datelike, Timelike};
    let mut out = *b"0000-00-00T00:00:00.000+0000";
    let year = dt.year().clamp(0, 9999) as u32;
    let millis = dt.timestamp_subsec_millis().min(999);
    let put = |out: &mut [u8; 28], at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(&mut out, 0, 4, year);
    put(&mut out, 5, 2, dt.month());
    put(&mut out, 8, 2, dt.day());
    put(&mut out, 11, 2, dt.hour());
    put(&mut out, 14, 2, dt.minute());
    put(&mut out, 17, 2, dt.second().min(59));
    put(&mut out, 20, 3, millis);
    out
}

/// `2024-11-07`, as [`datetime_bytes`] does it.
pub fn date_bytes(date: &chrono::NaiveDate) -> [u8; 10] {
    use chrono::Datelike;
    let mut out = *b"0000-00-00";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, date.year().clamp(0, 9999) as u32);
    put(5, 2, date.month());
    put(8, 2, date.day());
    out
}

pub fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => json!(i),
        Value::Double(d) => serde_json::Number::from_f64(*d).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.clone()),
        Value::Date(d) => Json::String(String::from_utf8_lossy(&date_bytes(d)).into_owned()),
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
        let field = &def.fields[i];
        let value = match record.values.get(i) {
            // A blob field holds the URL its bytes are served at, not the bytes.
            Some(v) if field.field_type == FieldType::Base64 && !matches!(v, Value::Null) => {
                Json::String(super::files::blob_url(
                    version,
                    &def.name,
                    record.id(),
                    &field.name,
                ))
            }
            _ => field_json(def, record, i),
        };
        out.insert(field.name.clone(), value);
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    #[test]
    fn fast_formats_agree_with_chrono() {
        for (y, mo, d, h, mi, s, ms) in [
            (2024, 11, 7, 7, 0, 0, 0),
            (1999, 1, 31, 23, 59, 59, 999),
            (2026, 12, 1, 0, 5, 9, 42),
            (33, 2, 3, 4, 5, 6, 7),
        ] {
            let dt = Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
                + chrono::Duration::milliseconds(ms);
            assert_eq!(
                format_datetime(&dt),
                dt.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
            );
            let date = NaiveDate::from_ymd_opt(y, mo, d).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&date_bytes(&date)),
                date.format("%Y-%m-%d").to_string()
            );
        }
    }
}
