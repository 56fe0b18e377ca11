//! Keeps `tools/list` small. Every byte of it is paid in every conversation, so the schemas
//! schemars generates are trimmed to what a model needs to call a tool correctly: types,
//! required keys and the few descriptions that carry meaning.

use serde_json::{Map, Value};

/// Rewrites a generated JSON schema in place: drops `$schema`, titles, number formats,
/// `minimum: 0` on unsigned integers and `default: null`, and turns `Option<T>`'s
/// `["T", "null"]` into `T` (optional keys are already absent from `required`).
pub fn compact(schema: &mut Map<String, Value>) {
    schema.remove("$schema");
    schema.remove("title");
    compact_node(schema);
}

fn compact_node(node: &mut Map<String, Value>) {
    node.remove("format");
    if node.get("default").is_some_and(Value::is_null) {
        node.remove("default");
    }
    if node.get("minimum").and_then(Value::as_f64) == Some(0.0) {
        node.remove("minimum");
    }
    // JSON Schema's default: saying it costs bytes and adds nothing.
    if node.get("additionalProperties") == Some(&Value::Bool(true)) {
        node.remove("additionalProperties");
    }
    if let Some(Value::Array(types)) = node.get("type") {
        let non_null: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if non_null.len() == 1 {
            node.insert("type".into(), non_null[0].clone());
        }
    }
    // `Option<Struct>` comes out as anyOf [ {$ref or object}, {type: null} ].
    if let Some(Value::Array(any_of)) = node.get("anyOf") {
        let non_null: Vec<Value> = any_of
            .iter()
            .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
            .cloned()
            .collect();
        if let [Value::Object(inner)] = non_null.as_slice() {
            node.remove("anyOf");
            for (k, v) in inner {
                node.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    for key in ["properties", "$defs", "definitions"] {
        if let Some(Value::Object(children)) = node.get_mut(key) {
            for child in children.values_mut() {
                if let Value::Object(child) = child {
                    compact_node(child);
                }
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(Value::Object(child)) = node.get_mut(key) {
            compact_node(child);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn generated_noise_is_removed_and_meaning_kept() {
        let mut schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Args",
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "A SOQL SELECT"},
                "max_rows": {"type": ["integer", "null"], "format": "uint32", "minimum": 0, "default": null},
                "level": {"type": "integer", "minimum": 1},
                "ids": {"type": "array", "items": {"type": "string", "format": "x"}},
                "fields": {"type": "object", "additionalProperties": true}
            },
            "required": ["query"]
        })
        .as_object()
        .cloned()
        .expect("object");
        compact(&mut schema);
        assert_eq!(
            Value::Object(schema),
            json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "A SOQL SELECT"},
                    "max_rows": {"type": "integer"},
                    "level": {"type": "integer", "minimum": 1},
                    "ids": {"type": "array", "items": {"type": "string"}},
                    "fields": {"type": "object"}
                },
                "required": ["query"]
            })
        );
    }
}
