//! Fuzz record rendering: any records Salesforce (or a hostile record value) can hand back
//! render as a table without panicking, and the table keeps its shape: one header line, and
//! one line per record whatever its values hold (line breaks and `|` in values are escaped).
//!
//! Input: a JSON array of records. The first byte, when it is a digit, names how many of the
//! first record's object-valued fields are child relationships.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sfmcp::mcp::render::{columns, table};

fuzz_target!(|data: &[u8]| {
    let (children, json) = match data.split_first() {
        Some((digit @ b'0'..=b'9', rest)) => (usize::from(digit - b'0'), rest),
        _ => (0, data),
    };
    let Ok(Value::Array(records)) = serde_json::from_slice::<Value>(json) else {
        return;
    };
    let child_relationships: Vec<String> = records
        .first()
        .and_then(Value::as_object)
        .map(|first| {
            first
                .iter()
                .filter(|(_, v)| v.is_object())
                .map(|(k, _)| k.clone())
                .take(children)
                .collect()
        })
        .unwrap_or_default();
    let text = table(&records, &child_relationships);
    let columns = columns(&records, &child_relationships);
    if columns.is_empty() {
        assert!(text.is_empty(), "no columns, yet a table: {text:?}");
        return;
    }
    let plain_names = columns.iter().all(|c| !c.contains(['\n', '\r']));
    if plain_names {
        assert_eq!(text.lines().next(), Some(columns.join(" | ").as_str()));
        if child_relationships.is_empty() {
            let rows = records.iter().filter(|r| r.is_object()).count();
            assert_eq!(
                text.lines().count(),
                1 + rows,
                "one line per record: {text:?}"
            );
        }
    }
});
