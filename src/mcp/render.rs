//! Query results as a model reads them best: a compact table whose columns are field paths
//! (`Account.Name`), child rows nested under their parent, and one record-URL template
//! instead of a URL per row. Every byte here is paid in the model's context.

use serde_json::{Map, Value};

/// A cell longer than this is cut in the text (the structured content keeps it whole).
const MAX_CELL_CHARS: usize = 160;

/// Renders records (Salesforce's query JSON, `attributes` included) as a table.
///
/// `child_relationships` names the child subqueries of the query (`Contacts`): their values
/// are nested query results, or `null` when a record has no children.
pub fn table(records: &[Value], child_relationships: &[String]) -> String {
    let columns = columns(records, child_relationships);
    let mut out = String::new();
    if columns.is_empty() {
        return out;
    }
    out.push_str(&columns.join(" | "));
    out.push('\n');
    for record in records {
        let Some(fields) = record.as_object() else {
            continue;
        };
        let cells: Vec<String> = columns.iter().map(|c| cell(fields, c)).collect();
        out.push_str(cells.join(" | ").trim_end());
        out.push('\n');
        for relationship in child_relationships {
            if let Some(children) = child_result(fields, relationship) {
                render_children(&mut out, relationship, children);
            }
        }
    }
    out
}

fn render_children(out: &mut String, relationship: &str, result: &Map<String, Value>) {
    let records = result
        .get("records")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let total = result
        .get("totalSize")
        .and_then(Value::as_u64)
        .unwrap_or(records.len() as u64);
    let nested = table(records, &[]);
    let mut lines = nested.lines();
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

/// The text of one cell: the value at a dotted path, empty for null or a null parent.
fn cell(fields: &Map<String, Value>, path: &str) -> String {
    let mut current = fields;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        let Some(value) = current.get(segment) else {
            return String::new();
        };
        if segments.peek().is_none() {
            return scalar(value);
        }
        match value.as_object() {
            Some(parent) => current = parent,
            None => return String::new(),
        }
    }
    String::new()
}

fn scalar(value: &Value) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    };
    escape_cell(&text)
}

/// Keeps a cell on one line and inside the table: `|` and line breaks are escaped, and a
/// long value is cut with a note of how much was left out.
fn escape_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CELL_CHARS + 16));
    let mut chars = 0usize;
    let total = text.chars().count();
    for c in text.chars() {
        if chars == MAX_CELL_CHARS {
            out.push_str(&format!("…[+{} chars]", total - chars));
            return out;
        }
        match c {
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(c),
        }
        chars += 1;
    }
    out
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
        let text = table(&records, &[]);
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
        let text = table(&records, &["Contacts".to_string()]);
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
        let text = table(&records, &[]);
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
            table(&records, &[]),
            "StageName | total | expr1\nWon | 3 | 1200.0\n"
        );
    }
}
