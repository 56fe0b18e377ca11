//! Query results as a model reads them best: a compact table whose columns are field paths
//! (`Account.Name`), child rows nested under their parent, and one record-URL template
//! instead of a URL per row. Every byte here is paid in the model's context.

use serde_json::{Map, Value};
use sfmcp_salesforce::{RecordLinks, SalesforceId};

/// A JSON object of values already built. `json!` would copy every interpolated value
/// (it serialises each one again): for a page of records, every record once more.
pub fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// A cell longer than this is cut in the text (the structured content keeps it whole).
const MAX_CELL_CHARS: usize = 160;

/// The text of one answer stays under this many bytes (about 16k tokens), whatever the rows
/// hold: wide rows and many children end the table early instead of flooding the context.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// A rendered table and how many of the records it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub text: String,
    /// Records shown, from the first; the rest did not fit the byte budget.
    pub rows_shown: usize,
}

/// Renders records (Salesforce's query JSON, `attributes` included) as a table of at most
/// `budget` bytes: whole rows (with their children) while they fit, and always at least the
/// header and, cut to fit, the first row.
///
/// `child_relationships` names the child subqueries of the query (`Contacts`): their values
/// are nested query results, or `null` when a record has no children.
pub fn table(records: &[Value], child_relationships: &[String], budget: usize) -> Table {
    let columns = columns(records, child_relationships);
    let mut out = String::new();
    if columns.is_empty() {
        return Table {
            text: out,
            rows_shown: records.len(),
        };
    }
    out.push_str(&columns.join(" | "));
    out.push('\n');
    let mut rows_shown = 0;
    for record in records {
        let Some(fields) = record.as_object() else {
            rows_shown += 1;
            continue;
        };
        let mut row = String::new();
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                row.push_str(" | ");
            }
            push_cell(&mut row, fields, column);
        }
        row.truncate(row.trim_end().len());
        row.push('\n');
        for relationship in child_relationships {
            if let Some(children) = child_result(fields, relationship) {
                render_children(&mut row, relationship, children, budget / 2);
            }
        }
        if out.len() + row.len() > budget {
            if rows_shown == 0 {
                let room = budget.saturating_sub(out.len());
                out.push_str(cut_to(&row, room));
                out.push_str("…[row cut]\n");
                rows_shown = 1;
            }
            break;
        }
        out.push_str(&row);
        rows_shown += 1;
    }
    Table {
        text: out,
        rows_shown,
    }
}

/// A field value for one-record views (`get_record`): at most `max_chars` characters, with a
/// note of how many more there are.
pub fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…[+{} chars]", &text[..end], text[end..].chars().count()),
    }
}

/// The longest prefix of `text` within `bytes`, on a character boundary.
fn cut_to(text: &str, bytes: usize) -> &str {
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn render_children(
    out: &mut String,
    relationship: &str,
    result: &Map<String, Value>,
    budget: usize,
) {
    let records = result
        .get("records")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let total = result
        .get("totalSize")
        .and_then(Value::as_u64)
        .unwrap_or(records.len() as u64);
    let nested = table(records, &[], budget);
    let mut lines = nested.text.lines();
    let header = lines.next().unwrap_or_default();
    let count = if total == records.len() as u64 {
        format!("{total}")
    } else {
        format!("{} of {total}", records.len())
    };
    out.push_str(&format!("  {relationship} ({count}): {header}\n"));
    for line in lines {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
    }
    if nested.rows_shown < records.len() {
        out.push_str(&format!(
            "    …{} more {relationship} rows not shown as text\n",
            records.len() - nested.rows_shown
        ));
    }
}

fn child_result<'a>(
    fields: &'a Map<String, Value>,
    relationship: &str,
) -> Option<&'a Map<String, Value>> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(relationship))
        .and_then(|(_, v)| v.as_object())
}

/// Column paths in first-seen order across all records: parents flattened into dotted
/// paths, `attributes` and child subqueries left out.
pub fn columns(records: &[Value], child_relationships: &[String]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for record in records {
        if let Some(fields) = record.as_object() {
            collect_columns(fields, "", child_relationships, &mut columns);
        }
    }
    columns
}

fn collect_columns(
    fields: &Map<String, Value>,
    prefix: &str,
    child_relationships: &[String],
    columns: &mut Vec<String>,
) {
    for (key, value) in fields {
        if key == "attributes" {
            continue;
        }
        if prefix.is_empty()
            && child_relationships
                .iter()
                .any(|c| c.eq_ignore_ascii_case(key))
        {
            continue;
        }
        // Rows share their columns: a scalar whose column is known needs no path built.
        if !value.is_object() && columns.iter().any(|c| is_path(c, prefix, key)) {
            continue;
        }
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(parent) if parent.contains_key("attributes") => {
                collect_columns(parent, &path, &[], columns);
            }
            // A null parent names no sub-columns; another row may name them. The bare path
            // stays out when any of its sub-columns is known.
            Value::Null if columns.iter().any(|c| is_under(c, &path)) => {}
            _ => add_column(columns, path, prefix),
        }
    }
}

/// Whether `column` is `prefix.key` (or `key` without a prefix).
fn is_path(column: &str, prefix: &str, key: &str) -> bool {
    if prefix.is_empty() {
        return column == key;
    }
    column.len() == prefix.len() + 1 + key.len()
        && column.starts_with(prefix)
        && column.ends_with(key)
        && column.as_bytes()[prefix.len()] == b'.'
}

/// Adds a column next to its siblings, so a parent's columns stay together where the parent
/// first appeared (a bare path from a null parent is replaced by its first known sub-column).
fn add_column(columns: &mut Vec<String>, path: String, prefix: &str) {
    if columns.contains(&path) {
        return;
    }
    let mut ancestor = Some(prefix).filter(|p| !p.is_empty());
    while let Some(parent) = ancestor {
        if let Some(bare) = columns.iter().position(|c| c == parent) {
            columns[bare] = path;
            return;
        }
        if let Some(last) = columns.iter().rposition(|c| is_under(c, parent)) {
            columns.insert(last + 1, path);
            return;
        }
        ancestor = parent.rsplit_once('.').map(|(p, _)| p);
    }
    columns.push(path);
}

fn is_under(column: &str, path: &str) -> bool {
    column.len() > path.len() && column.starts_with(path) && column.as_bytes()[path.len()] == b'.'
}

/// Appends the text of one cell: the value at a dotted path, nothing for null or a null
/// parent.
fn push_cell(out: &mut String, fields: &Map<String, Value>, path: &str) {
    let mut current = fields;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        let Some(value) = current.get(segment) else {
            return;
        };
        if segments.peek().is_none() {
            return push_scalar(out, value);
        }
        match value.as_object() {
            Some(parent) => current = parent,
            None => return,
        }
    }
}

fn push_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(s) => push_escaped(out, s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        other => push_escaped(out, &other.to_string()),
    }
}

/// Keeps a cell on one line and inside the table: `|` and line breaks are escaped, and a
/// long value is cut with a note of how much was left out.
fn push_escaped(out: &mut String, text: &str) {
    // Most cells are short and plain: copied whole.
    if text.len() <= MAX_CELL_CHARS && !text.contains(['|', '\n', '\r']) {
        out.push_str(text);
        return;
    }
    for (chars, c) in text.chars().enumerate() {
        if chars == MAX_CELL_CHARS {
            let more = text.chars().skip(chars).count();
            out.push_str(&format!("…[+{more} chars]"));
            return;
        }
        match c {
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(c),
        }
    }
}

pub(crate) fn record_type(record: &Value) -> Option<&str> {
    record
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
}

/// The record without Salesforce's `attributes`, with its Lightning URL as `url` (children
/// and parents too, so every record links back to the CRM).
pub fn with_url(mut record: Value, links: &RecordLinks) -> Value {
    add_urls(&mut record, links);
    record
}

/// Changed in place, keeping the fields in the order Salesforce sent them (the SELECT order):
/// a rebuilt map would rehash every field of every row.
fn add_urls(record: &mut Value, links: &RecordLinks) {
    let url = record_type(record).and_then(|object| {
        let id = record.get("Id").and_then(Value::as_str)?;
        let id = SalesforceId::parse(id).ok()?;
        links.url(object, &id)
    });
    let Value::Object(fields) = record else {
        return;
    };
    fields.shift_remove("attributes");
    for value in fields.values_mut() {
        let Value::Object(inner) = value else {
            continue;
        };
        if inner.contains_key("attributes") {
            add_urls(value, links);
        } else if let Some(Value::Array(rows)) = inner.get_mut("records") {
            for row in rows {
                add_urls(row, links);
            }
        }
    }
    if let Some(url) = url {
        fields.shift_insert(0, "url".into(), Value::String(url));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(object: &str, fields: Value) -> Value {
        let mut map = Map::new();
        map.insert("attributes".into(), json!({"type": object, "url": "/x"}));
        if let Value::Object(f) = fields {
            map.extend(f);
        }
        Value::Object(map)
    }

    #[test]
    fn parents_become_dotted_columns_and_null_parents_empty_cells() {
        let records = vec![
            record(
                "Contact",
                json!({"Id": "003A", "Account": null, "LastName": "Smith"}),
            ),
            record(
                "Contact",
                json!({"Id": "003B", "Account": record("Account", json!({"Name": "Acme", "Owner": record("User", json!({"Name": "Jo"}))})), "LastName": "Jones"}),
            ),
        ];
        let text = table(&records, &[], MAX_TEXT_BYTES).text;
        assert_eq!(
            text,
            "Id | Account.Name | Account.Owner.Name | LastName\n003A |  |  | Smith\n003B | Acme | Jo | Jones\n"
        );
    }

    #[test]
    fn child_rows_nest_under_their_parent_and_empty_children_are_omitted() {
        let records = vec![
            record(
                "Account",
                json!({"Name": "Acme", "Contacts": {"totalSize": 3, "done": false, "records": [
                    record("Contact", json!({"LastName": "Smith"})),
                    record("Contact", json!({"LastName": "Jones"})),
                ]}}),
            ),
            record("Account", json!({"Name": "Beta", "Contacts": null})),
        ];
        let text = table(&records, &["Contacts".to_string()], MAX_TEXT_BYTES).text;
        assert_eq!(
            text,
            "Name\nAcme\n  Contacts (2 of 3): LastName\n    Smith\n    Jones\nBeta\n"
        );
    }

    #[test]
    fn cells_stay_on_one_line_and_long_values_say_what_was_cut() {
        let long = "x".repeat(MAX_CELL_CHARS + 40);
        let records = vec![record(
            "Case",
            json!({"Subject": "a|b\nc", "Description": long, "IsClosed": false, "Amount": 12.5}),
        )];
        let text = table(&records, &[], MAX_TEXT_BYTES).text;
        let row = text.lines().nth(1).expect("one row");
        assert!(row.starts_with("a\\|b\\nc | "), "{row}");
        assert!(row.contains("…[+40 chars] | false | 12.5"), "{row}");
    }

    #[test]
    fn aggregate_rows_show_their_aliases() {
        let records = vec![
            json!({"attributes": {"type": "AggregateResult"}, "StageName": "Won", "total": 3, "expr1": 1200.0}),
        ];
        assert_eq!(
            table(&records, &[], MAX_TEXT_BYTES).text,
            "StageName | total | expr1\nWon | 3 | 1200.0\n"
        );
    }

    #[test]
    fn wide_rows_end_the_table_within_the_byte_budget() {
        // 40 columns of 160+ characters: about 6.5 KB a row.
        let wide: Map<String, Value> = (0..40)
            .map(|i| (format!("Field{i:02}__c"), json!("é".repeat(300))))
            .collect();
        let records: Vec<Value> = (0..50)
            .map(|_| record("Case", Value::Object(wide.clone())))
            .collect();
        let rendered = table(&records, &[], 20_000);
        assert!(rendered.text.len() <= 20_000, "{}", rendered.text.len());
        let row_bytes = rendered.text.lines().nth(1).map_or(0, |l| l.len() + 1);
        let header_bytes = rendered.text.lines().next().map_or(0, |l| l.len() + 1);
        assert_eq!(rendered.rows_shown, (20_000 - header_bytes) / row_bytes);
        assert_eq!(rendered.text.lines().count(), rendered.rows_shown + 1);

        // A single row wider than the budget is cut, marked, and counted as shown.
        let one = table(&records[..1], &[], 1_000);
        assert!(
            one.text.len() <= 1_000 + "…[row cut]\n".len(),
            "{}",
            one.text.len()
        );
        assert!(one.text.ends_with("…[row cut]\n"));
        assert_eq!(one.rows_shown, 1);
    }

    #[test]
    fn children_beyond_the_budget_are_counted_not_dropped_silently() {
        let children: Vec<Value> = (0..400)
            .map(|i| {
                record(
                    "Contact",
                    json!({"LastName": format!("Contact number {i:04}")}),
                )
            })
            .collect();
        let records = vec![record(
            "Account",
            json!({"Name": "Big", "Contacts": {"totalSize": 400, "done": true, "records": children}}),
        )];
        let rendered = table(&records, &["Contacts".to_string()], 4_000);
        assert!(
            rendered
                .text
                .contains("more Contacts rows not shown as text"),
            "{}",
            rendered.text
        );
        assert_eq!(rendered.rows_shown, 1);
        assert!(rendered.text.len() < 4_200, "{}", rendered.text.len());
    }

    #[test]
    fn record_urls_lead_and_fields_keep_their_order() {
        let links = RecordLinks::Lightning {
            origin: "https://acme.lightning.force.com".into(),
        };
        let id = |base: &str| format!("{base}{}", sfmcp_salesforce::ids::checksum(base));
        let (contact, account, case_id) = (
            id("0035g00000ABCDE"),
            id("0015g00000ABCDE"),
            id("5005g00000ABCDE"),
        );
        let record = json!({
            "attributes": {"type": "Contact", "url": "/services/data/v62.0/sobjects/Contact/x"},
            "Id": contact,
            "LastName": "Smith",
            "Account": {"attributes": {"type": "Account"}, "Id": account, "Name": "Acme"},
            "Cases": {"totalSize": 1, "done": true, "records": [
                {"attributes": {"type": "Case"}, "Id": case_id, "Subject": "Broken"}
            ]},
            "Email": "s@example.com"
        });
        let with = with_url(record, &links);
        let keys: Vec<&str> = with
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["url", "Id", "LastName", "Account", "Cases", "Email"]);
        let url = |id: &str, object: &str| {
            format!("https://acme.lightning.force.com/lightning/r/{object}/{id}/view")
        };
        assert_eq!(with["url"], url(&contact, "Contact"));
        assert_eq!(with["Account"]["url"], url(&account, "Account"));
        let account_keys: Vec<&str> = with["Account"]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(account_keys, ["url", "Id", "Name"]);
        let case = &with["Cases"]["records"][0];
        assert_eq!(case["url"], url(&case_id, "Case"));
        assert!(case.get("attributes").is_none());
    }
}
