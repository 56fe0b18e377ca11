//! Fuzz record decoding and rendering: any records Salesforce (or a hostile record value) can
//! hand back decode as [`Record`]s that write back to the JSON they came from, and render as
//! a fenced table without panicking. The table keeps its shape: the fence's lines, one
//! header line, one line per record shown whatever its values hold (line breaks in values
//! are escaped), and no more text than the byte budget allows.
//!
//! Input: a JSON array of records, after up to two optional control bytes. A leading digit
//! names how many of the first record's child pages are child relationships; then a
//! lowercase letter picks a small byte budget (`a` = 64 bytes … `z` = 1,664), so cutting rows
//! and children to fit is explored too. Without a letter the budget is the tools' own.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmcp_mcp::render::{CUT_NOTE, DATA_CLOSE, DATA_OPEN, MAX_TEXT_BYTES, columns, table};
use sfmcp_salesforce::{Field, PageRecord, Record};

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
    let Ok(records) = Record::deserialize_page(&mut serde_json::Deserializer::from_slice(json))
    else {
        return;
    };
    for record in &records {
        assert_eq!(
            &Record::from_json(record.to_json()),
            record,
            "a record reads back from the JSON it writes"
        );
    }
    let child_relationships: Vec<String> = records
        .first()
        .map(|first| {
            first
                .fields()
                .filter(|(_, v)| matches!(v, Field::Children(_)))
                .map(|(k, _)| k.to_string())
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
    let table_text = text.strip_suffix(CUT_NOTE).unwrap_or(text);
    let Some(inside) = table_text
        .strip_prefix(DATA_OPEN)
        .and_then(|t| t.strip_suffix(DATA_CLOSE))
    else {
        panic!("a table is fenced: {text:?}");
    };
    assert!(!inside.contains(DATA_CLOSE), "a value closed the fence: {text:?}");
    let header = inside.lines().next().unwrap_or_default();
    let names: Vec<String> = serde_json::from_str(header).unwrap_or_default();
    assert_eq!(names, columns, "the header lists the columns");
    // The header always shows; beyond it, whole rows within the budget, or the first row cut.
    let bound = budget.max(header.len() + 1) + ROW_CUT_MARK.len();
    assert!(
        inside.len() <= bound,
        "{} bytes over a budget of {budget}",
        inside.len()
    );
    if child_relationships.is_empty() {
        assert_eq!(
            inside.lines().count(),
            1 + rendered.rows_shown,
            "one line per record shown: {text:?}"
        );
    }
});
