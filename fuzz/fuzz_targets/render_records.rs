//! Fuzz record rendering: any records Salesforce (or a hostile record value) can hand back
//! render as a table without panicking, and the table keeps its shape: one header line, one
//! line per record shown whatever its values hold (line breaks and `|` in values are
//! escaped), and no more text than the byte budget allows.
//!
//! Input: a JSON array of records, after up to two optional control bytes. A leading digit
//! names how many of the first record's object-valued fields are child relationships; then a
//! lowercase letter picks a small byte budget (`a` = 64 bytes … `z` = 1,664), so cutting rows
//! and children to fit is explored too. Without a letter the budget is the tools' own.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sfmcp_mcp::render::{MAX_TEXT_BYTES, columns, table};

/// What `table` appends to a first row cut to fit the budget.
const ROW_CUT_MARK: &str = "…[row cut]\n";

fn control_byte(data: &[u8], accepted: std::ops::RangeInclusive<u8>) -> (Option<u8>, &[u8]) {
    match data.split_first() {
        Some((&byte, rest)) if accepted.contains(&byte) => (Some(byte), rest),
        _ => (None, data),
    }
}

fuzz_target!(|data: &[u8]| {
    let (digit, data) = control_byte(data, b'0'..=b'9');
    let (letter, json) = control_byte(data, b'a'..=b'z');
    let children = digit.map_or(0, |d| usize::from(d - b'0'));
    let budget = letter.map_or(MAX_TEXT_BYTES, |l| 64 * usize::from(l - b'a' + 1));
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
    let rendered = table(&records, &child_relationships, budget);
    let text = rendered.text.as_str();
    let columns = columns(&records, &child_relationships);
    assert!(
        rendered.rows_shown <= records.len(),
        "more rows shown than given"
    );
    if columns.is_empty() {
        assert!(text.is_empty(), "no columns, yet a table: {text:?}");
        return;
    }
    let header = columns.join(" | ");
    // The header always shows; beyond it, whole rows within the budget, or the first row cut.
    let bound = budget.max(header.len() + 1) + ROW_CUT_MARK.len();
    assert!(
        text.len() <= bound,
        "{} bytes over a budget of {budget}",
        text.len()
    );
    let plain_names = columns.iter().all(|c| !c.contains(['\n', '\r']));
    if plain_names {
        assert_eq!(text.lines().next(), Some(header.as_str()));
        if child_relationships.is_empty() {
            let rows = records[..rendered.rows_shown]
                .iter()
                .filter(|r| r.is_object())
                .count();
            assert_eq!(
                text.lines().count(),
                1 + rows,
                "one line per record shown: {text:?}"
            );
        }
    }
});
