//! A compact describe: what a model needs to write a query or a record, in a few percent of
//! the bytes of Salesforce's describe. One line per field: API name, label when it says more
//! than the name, type with length, reference targets with the relationship name, active
//! picklist values (capped), and flags for what may be written.

use std::fmt::Write;

use crate::render::inline;
use sfmcp_soql::schema::{FieldSchema, FieldType, ObjectSchema};

/// Picklists longer than this are cut, with a count of what was left out.
const MAX_PICKLIST_VALUES: usize = 50;

/// Renders `object`, keeping only fields whose name or label contains `fields_matching`
/// (case-insensitive) when given.
pub fn render(object: &ObjectSchema, fields_matching: Option<&str>) -> String {
    let mut out = String::new();
    let mut abilities = Vec::new();
    for (yes, word) in [
        (object.queryable, "queryable"),
        (object.createable, "createable"),
        (object.updateable, "updateable"),
        (object.custom, "custom"),
    ] {
        if yes {
            abilities.push(word);
        }
    }
    let _ = write!(out, "{} ({})", object.name, inline(&object.label));
    if let Some(prefix) = &object.key_prefix {
        let _ = write!(out, " key prefix {prefix}");
    }
    let _ = writeln!(out, "; {}", abilities.join(", "));
    out.push_str(
        "fields: name [label] type flags (req: required on create; ro: read-only; \
         create-only: set on create only)\n",
    );
    let needle = fields_matching.map(str::to_ascii_lowercase);
    let mut shown = 0usize;
    for field in &object.fields {
        if let Some(needle) = &needle {
            let hit = field.name.to_ascii_lowercase().contains(needle)
                || field.label.to_ascii_lowercase().contains(needle);
            if !hit {
                continue;
            }
        }
        shown += 1;
        render_field(&mut out, field);
    }
    if shown == 0
        && let Some(needle) = fields_matching
    {
        let _ = writeln!(out, "(no field name or label contains '{needle}')");
    }
    if needle.is_none() {
        let children: Vec<String> = object
            .child_relationships
            .iter()
            .filter_map(|c| {
                c.relationship_name
                    .as_ref()
                    .map(|r| format!("{r} ({}.{})", c.child_s_object, c.field))
            })
            .collect();
        if !children.is_empty() {
            let _ = writeln!(out, "child relationships: {}", children.join(", "));
        }
        let record_types: Vec<String> = object
            .record_type_infos
            .iter()
            .filter(|r| r.active && r.available && !r.master)
            .map(|r| format!("{} ({})", r.name, r.record_type_id))
            .collect();
        if !record_types.is_empty() {
            let _ = writeln!(out, "record types: {}", record_types.join(", "));
        }
    }
    out
}

fn render_field(out: &mut String, field: &FieldSchema) {
    out.push_str(&field.name);
    if label_says_more(field) {
        let _ = write!(out, " [{}]", inline(&field.label));
    }
    out.push(' ');
    out.push_str(&type_text(field));
    if field.required_on_create() && field.field_type != FieldType::Boolean {
        out.push_str(" req");
    }
    match (field.createable, field.updateable) {
        (false, false) => out.push_str(" ro"),
        (true, false) => out.push_str(" create-only"),
        _ => {}
    }
    if field.external_id {
        out.push_str(" external-id");
    }
    if field.unique {
        out.push_str(" unique");
    }
    if field.calculated {
        out.push_str(" formula");
    }
    if !field.picklist_values.is_empty() {
        // Labels and values are the org's text: kept on this line, whatever they hold.
        let active: Vec<std::borrow::Cow<'_, str>> = field
            .picklist_values
            .iter()
            .filter(|p| p.active)
            .map(|p| inline(&p.value))
            .collect();
        let shown = active.len().min(MAX_PICKLIST_VALUES);
        let _ = write!(out, ": {}", active[..shown].join("|"));
        if active.len() > shown {
            let _ = write!(out, "|…(+{} more)", active.len() - shown);
        }
        if field.restricted_picklist {
            out.push_str(" (restricted)");
        }
    }
    out.push('\n');
}

fn type_text(field: &FieldSchema) -> String {
    let name = match &field.field_type {
        FieldType::Other(other) => other.clone(),
        known => serde_json::to_value(known)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
    };
    match &field.field_type {
        FieldType::Reference => {
            let targets = field.reference_to.join("|");
            match &field.relationship_name {
                Some(rel) => format!("ref→{targets} via {rel}"),
                None => format!("ref→{targets}"),
            }
        }
        FieldType::String
        | FieldType::Textarea
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Url
        | FieldType::EncryptedString
            if field.length > 0 =>
        {
            format!("{name}({})", field.length)
        }
        FieldType::Double | FieldType::Currency | FieldType::Percent if field.precision > 0 => {
            format!("{name}({},{})", field.precision, field.scale)
        }
        _ => name,
    }
}

/// A label worth its bytes: one that is not just the API name spaced out.
fn label_says_more(field: &FieldSchema) -> bool {
    let squash = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let name = field.name.trim_end_matches("__c");
    let name = name.strip_suffix("Id").unwrap_or(name);
    let label = squash(&field.label);
    label != squash(name) && label != squash(&field.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(name: &str) -> String {
        let path = format!(
            "{}/../../../shared/fixtures/cumulusci/describe-{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(path).expect("fixture")
    }

    fn describe(text: &str) -> ObjectSchema {
        serde_json::from_str::<ObjectSchema>(text)
            .expect("describe")
            .index()
    }

    #[test]
    fn account_fits_in_fifteen_percent_of_the_raw_describe() {
        let text = raw("account");
        let compact = render(&describe(&text), None);
        let share = compact.len() as f64 / text.len() as f64;
        assert!(share <= 0.15, "{} of {} bytes", compact.len(), text.len());
        // Nothing a query or a write needs is lost.
        let account = describe(&text);
        for field in &account.fields {
            assert!(
                compact
                    .lines()
                    .any(|l| l.starts_with(&format!("{} ", field.name))),
                "{} missing",
                field.name
            );
        }
        assert!(compact.contains("Name [Account Name] string(255) req\n"));
        assert!(compact.contains("ParentId [Parent Account ID] ref→Account via Parent\n"));
        assert!(compact.contains("CreatedDate datetime ro\n"));
        assert!(compact.contains("OwnerId ref→User via Owner\n"));
        assert!(compact.contains("Contacts (Contact.AccountId)"));
        assert!(compact.contains("Industry picklist: Agriculture|Apparel|"));
        assert!(
            compact.contains("|Other (restricted)\n") || compact.contains("Unknown (restricted)\n")
        );
    }

    #[test]
    fn fields_can_be_narrowed_by_name_or_label() {
        let account = describe(&raw("account"));
        let compact = render(&account, Some("billing"));
        let field_lines: Vec<&str> = compact.lines().skip(2).collect();
        assert!(
            field_lines.iter().all(|l| l.starts_with("Billing")),
            "{compact}"
        );
        assert!(!compact.contains("child relationships"));
        let none = render(&account, Some("zzz"));
        assert!(none.contains("no field name or label contains 'zzz'"));
    }
}
