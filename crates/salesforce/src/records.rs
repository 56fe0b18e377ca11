//! Query records, decoded for a hot path: every `soql_query` answer decodes hundreds of them.
//!
//! The result is the JSON Salesforce sent, with two differences nobody downstream can see:
//! each `attributes` object keeps only its `type` (its `url` is a REST path nothing uses, and
//! one string fewer per record), and each object of an array starts with room for as many
//! fields as the object before it (the rows of a query share a shape, so their maps are
//! allocated once instead of grown and rehashed field by field).

use std::fmt;

use serde::Deserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// `deserialize_with` for a page's `records`.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Value>, D::Error> {
    match Json::any(0).deserialize(deserializer)? {
        Value::Array(records) => Ok(records),
        Value::Null => Ok(Vec::new()),
        other => Err(serde::de::Error::invalid_type(
            unexpected(&other),
            &"an array of records",
        )),
    }
}

fn unexpected(value: &Value) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected;
    match value {
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::String(s) => Unexpected::Str(s),
        Value::Object(_) => Unexpected::Map,
        _ => Unexpected::Other("a number"),
    }
}

/// One JSON value. `width`: the fields to make room for if it is an object; `attributes`:
/// it is a record's `attributes`, of which only `type` is kept.
#[derive(Clone, Copy)]
struct Json {
    width: usize,
    attributes: bool,
}

impl Json {
    fn any(width: usize) -> Json {
        Json {
            width,
            attributes: false,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Json {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Json {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Json::any(self.width).deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        let mut width = 0;
        while let Some(item) = seq.next_element_seed(Json::any(width))? {
            if let Value::Object(fields) = &item {
                width = fields.len();
            }
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::with_capacity(self.width);
        while let Some(key) = map.next_key::<String>()? {
            if self.attributes && key != "type" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let seed = Json {
                width: 0,
                attributes: !self.attributes && key == "attributes",
            };
            let value = map.next_value_seed(seed)?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[derive(serde::Deserialize)]
    struct Page {
        #[serde(deserialize_with = "super::deserialize")]
        records: Vec<serde_json::Value>,
    }

    fn decode(body: &serde_json::Value) -> Vec<serde_json::Value> {
        let text = body.to_string();
        serde_json::from_str::<Page>(&text)
            .expect("records decode")
            .records
    }

    #[test]
    fn records_keep_every_field_in_order_and_only_the_type_of_attributes() {
        let body = json!({"records": [
            {"attributes": {"type": "Contact", "url": "/services/data/v62.0/sobjects/Contact/x"},
             "Id": "003x", "Name": "Ann \"A\" Lee", "Amount": 12.5, "Count": -3, "Big": 18446744073709551615u64,
             "Active": true, "Nothing": null, "Tags": ["a", 1, null],
             "Address": {"city": "Paris", "url": "kept: not an attributes object"},
             "Account": {"attributes": {"type": "Account", "url": "/a"}, "Name": "Acme",
                         "Owner": {"attributes": {"url": "/u", "type": "User"}, "Alias": "jdoe"}},
             "Cases": {"totalSize": 1, "done": true, "records": [
                 {"attributes": {"type": "Case", "url": "/c"}, "Subject": "Broken"}]}},
            {"attributes": {"type": "Contact", "url": "/y"}, "Id": "003y", "Name": "Bo",
             "Amount": null, "Account": null, "Cases": null}
        ]});
        let records = decode(&body);
        let mut expected = body["records"].as_array().cloned().unwrap_or_default();
        fn drop_urls(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(fields) => {
                    if let Some(serde_json::Value::Object(attributes)) =
                        fields.get_mut("attributes")
                    {
                        attributes.shift_remove("url");
                    }
                    fields.values_mut().for_each(drop_urls);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(drop_urls),
                _ => {}
            }
        }
        expected.iter_mut().for_each(drop_urls);
        assert_eq!(records, expected);
        let keys: Vec<&String> = records[0]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let expected_keys: Vec<&String> = expected[0]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, expected_keys, "field order is the SELECT order");
        assert_eq!(
            records[0]["Address"]["url"],
            json!("kept: not an attributes object")
        );
        assert_eq!(
            records[0]["Account"]["Owner"]["attributes"],
            json!({"type": "User"})
        );
    }

    #[test]
    fn a_page_without_records_and_wrong_shapes() {
        assert!(decode(&json!({"records": []})).is_empty());
        assert!(decode(&json!({"records": null})).is_empty());
        assert!(serde_json::from_str::<Page>(r#"{"records": {"a": 1}}"#).is_err());
        assert!(serde_json::from_str::<Page>(r#"{"records": "x"}"#).is_err());
        assert!(serde_json::from_str::<Page>(r#"{"records": [{"a": }]}"#).is_err());
    }
}
