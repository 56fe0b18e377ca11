//! Field history: the `…History` objects Salesforce fills when a tracked field changes.
//!
//! Shapes follow the Object Reference (OpportunityFieldHistory, AccountHistory, CaseHistory,
//! ContactHistory, LeadHistory; e.g.
//! <https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_opportunityfieldhistory.htm>)
//! and the field reference (OpportunityFieldHistory: `CreatedById`, `CreatedDate`, `DataType`
//! picklist, `Field` restricted picklist, `Id`, `IsDeleted`, `NewValue` and `OldValue` anyType,
//! `OpportunityId`): read-only (query, retrieve), no owner and no last-modified fields, the
//! parent lookup named after the parent (`AccountId`, `CaseId`, …) whose child relationship
//! is `Histories` (recorded Opportunity describe). Salesforce: "This object respects field
//! level security on the parent object", and a history row is as visible as its parent.
//!
//! What the emulator decides (an org's admin does, in Setup, up to 20 fields per object):
//! the tracked fields in [`TRACKED`]. A create writes one row whose `Field` is `created` and
//! whose values are empty, as Salesforce does for tracked objects; an update writes one row
//! per tracked field whose value changed, including fields the platform derived (a stage
//! change moves `Probability`).
//!
//! A tracked lookup writes two rows, as Salesforce does: "Two rows are added to this object
//! when foreign key fields change. One row contains the foreign key object names that
//! display in the online application [...]. The other row contains the actual foreign key
//! ID that is only returned to and visible from the API" (Object Reference, EntityHistory,
//! Usage). The id row's `DataType` is `EntityId`, the names row's `Text`; both name the
//! field as history does, without the `Id` of a standard lookup (`Owner`, `Account`; a
//! custom lookup keeps its API name, `Parent__c`): `SELECT … FROM AccountHistory WHERE
//! Field = 'Owner'` is how an owner change is asked for.

use chrono::{DateTime, Utc};

use super::org::UserAccess;
use super::schema::{ObjectDef, any_type, datetime, picklist, reference};
use super::store::{Record, Tables};
use sfmcp_soql::data::Value;
use sfmcp_soql::schema::FieldType;

/// One object whose field history is tracked.
#[derive(Debug, Clone, Copy)]
pub struct Tracked {
    pub object: &'static str,
    pub history: &'static str,
    /// The history object's lookup to the changed record.
    pub parent_field: &'static str,
    pub fields: &'static [&'static str],
}

/// The tracked objects and fields of every emulated org.
pub const TRACKED: [Tracked; 5] = [
    Tracked {
        object: "Account",
        history: "AccountHistory",
        parent_field: "AccountId",
        fields: &[
            "Industry",
            "Type",
            "Phone",
            "AnnualRevenue",
            "Rating",
            "Website",
            "OwnerId",
        ],
    },
    Tracked {
        object: "Contact",
        history: "ContactHistory",
        parent_field: "ContactId",
        fields: &[
            "Email",
            "Phone",
            "MobilePhone",
            "Title",
            "Department",
            "AccountId",
        ],
    },
    Tracked {
        object: "Lead",
        history: "LeadHistory",
        parent_field: "LeadId",
        fields: &[
            "Status",
            "Rating",
            "Company",
            "Email",
            "Phone",
            "LeadSource",
        ],
    },
    Tracked {
        object: "Opportunity",
        history: "OpportunityFieldHistory",
        parent_field: "OpportunityId",
        fields: &[
            "StageName",
            "Amount",
            "CloseDate",
            "Probability",
            "NextStep",
            "ForecastCategoryName",
            "Name",
            "AccountId",
            "OwnerId",
        ],
    },
    Tracked {
        object: "Case",
        history: "CaseHistory",
        parent_field: "CaseId",
        fields: &[
            "Status", "Priority", "Subject", "Type", "Reason", "Origin", "OwnerId",
        ],
    },
];

/// What `Field` holds on the row a create writes.
pub const CREATED: &str = "created";

/// Salesforce's history key prefix, shared by every standard history object.
const PREFIX: &str = "017";

/// `DataType` values (the picklist on OpportunityFieldHistory and the others).
const DATA_TYPES: [&str; 13] = [
    "Boolean", "Currency", "DateOnly", "DateTime", "Double", "Email", "EntityId", "Percent",
    "Phone", "Picklist", "Text", "TextArea", "Url",
];

/// The history objects, for the org's schema.
pub fn objects() -> Vec<ObjectDef> {
    TRACKED.iter().map(history_object).collect()
}

fn history_object(tracked: &Tracked) -> ObjectDef {
    let label = match tracked.history {
        "OpportunityFieldHistory" => "Opportunity Field History".to_string(),
        _ => format!("{} History", tracked.object),
    };
    let mut fields: Vec<&str> = tracked.fields.iter().map(|f| field_name(f)).collect();
    fields.push(CREATED);
    let mut def = ObjectDef::new(tracked.history, PREFIX, &label, &label)
        .read_only()
        .fields([
            reference(tracked.parent_field, &[tracked.object], tracked.object).read_only(),
            datetime("CreatedDate").read_only().defaulted(),
            reference("CreatedById", &["User"], "CreatedBy")
                .read_only()
                .defaulted()
                .label("Created By ID"),
            picklist("Field", &fields)
                .restricted()
                .read_only()
                .label("Changed Field"),
            picklist("DataType", &DATA_TYPES)
                .restricted()
                .read_only()
                .label("Data Type"),
            any_type("OldValue").label("Old Value"),
            any_type("NewValue").label("New Value"),
        ]);
    def.createable = false;
    def.index()
}

/// The tracking of the object named `object`.
pub fn tracking(object: &str) -> Option<&'static Tracked> {
    TRACKED.iter().find(|t| t.object == object)
}

/// The tracking whose history object is `history`.
pub fn of_history(history: &str) -> Option<&'static Tracked> {
    TRACKED.iter().find(|t| t.history == history)
}

/// How a history row names tracked field `field`: a standard lookup without its `Id`
/// (`OwnerId` is `Owner`), everything else by its API name.
pub fn field_name(field: &str) -> &str {
    if field.ends_with("__c") {
        return field;
    }
    field
        .strip_suffix("Id")
        .filter(|stem| !stem.is_empty())
        .unwrap_or(field)
}

/// The field of `def` a history row's `Field` names: `Owner` is `OwnerId`.
pub fn tracked_field<'a>(
    def: &'a ObjectDef,
    history_field: &str,
) -> Option<&'a super::schema::FieldDef> {
    def.field(history_field).or_else(|| {
        def.field(&format!("{history_field}Id"))
            .filter(|f| f.field_type == FieldType::Reference)
    })
}

/// Whether `field` of `object` is a history object's lookup to its parent.
pub fn is_history_parent_field(object: &str, field: &str) -> bool {
    of_history(object).is_some_and(|t| t.parent_field == field)
}

fn data_type(field_type: &FieldType) -> &'static str {
    match field_type {
        FieldType::Boolean => "Boolean",
        FieldType::Currency => "Currency",
        FieldType::Date => "DateOnly",
        FieldType::Datetime => "DateTime",
        FieldType::Double | FieldType::Int | FieldType::Long => "Double",
        FieldType::Email => "Email",
        FieldType::Reference | FieldType::Id => "EntityId",
        FieldType::Percent => "Percent",
        FieldType::Phone => "Phone",
        FieldType::Picklist | FieldType::Multipicklist => "Picklist",
        FieldType::Textarea => "TextArea",
        FieldType::Url => "Url",
        _ => "Text",
    }
}

/// One history row to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: String,
    pub data_type: Option<&'static str>,
    pub old: Value,
    pub new: Value,
}

/// The rows a write of `def` makes: for a create (`before` is `None`) the `created` row, for
/// an update one per tracked field whose value changed, two for a lookup (ids, then the
/// names `name_of` gives for the ids).
pub fn changes(
    def: &ObjectDef,
    before: Option<&[Value]>,
    after: &[Value],
    name_of: impl Fn(&str) -> Option<String>,
) -> Vec<Change> {
    let Some(tracked) = tracking(&def.name) else {
        return Vec::new();
    };
    let Some(before) = before else {
        return vec![Change {
            field: CREATED.into(),
            data_type: None,
            old: Value::Null,
            new: Value::Null,
        }];
    };
    let mut out = Vec::new();
    for name in tracked.fields {
        let Some(i) = def.field_index(name) else {
            continue;
        };
        let old = before.get(i).cloned().unwrap_or(Value::Null);
        let new = after.get(i).cloned().unwrap_or(Value::Null);
        if old == new {
            continue;
        }
        let field_type = &def.fields[i].field_type;
        if *field_type == FieldType::Reference {
            let name_for = |id: &Value| {
                id.as_str()
                    .and_then(&name_of)
                    .map_or(Value::Null, Value::String)
            };
            let (old_name, new_name) = (name_for(&old), name_for(&new));
            out.push(Change {
                field: field_name(name).to_string(),
                data_type: Some("EntityId"),
                old,
                new,
            });
            out.push(Change {
                field: field_name(name).to_string(),
                data_type: Some("Text"),
                old: old_name,
                new: new_name,
            });
            continue;
        }
        out.push(Change {
            field: (*name).to_string(),
            data_type: Some(data_type(field_type)),
            old,
            new,
        });
    }
    out
}

/// Who made a change, and when.
#[derive(Debug, Clone, Copy)]
pub struct Made<'a> {
    pub by: &'a str,
    pub at: DateTime<Utc>,
}

/// Appends `changes` of record `parent_id` (of `def`) to its history table; `mint` gives each
/// row its id.
pub fn append(
    schema: &super::schema::OrgSchema,
    tables: &mut Tables,
    def: &ObjectDef,
    parent_id: &str,
    changes: Vec<Change>,
    made: Made<'_>,
    mut mint: impl FnMut(&ObjectDef) -> String,
) {
    let Some(tracked) = tracking(&def.name) else {
        return;
    };
    let Some(index) = schema.index_of(tracked.history) else {
        return;
    };
    let history = std::sync::Arc::clone(&schema.objects[index]);
    for change in changes {
        let mut values = vec![Value::Null; history.fields.len()];
        values[0] = Value::String(mint(&history));
        let mut set = |name: &str, value: Value| {
            if let Some(i) = history.field_index(name) {
                values[i] = value;
            }
        };
        set("IsDeleted", Value::Boolean(false));
        set(tracked.parent_field, Value::String(parent_id.to_string()));
        set("CreatedDate", Value::DateTime(made.at));
        set("CreatedById", Value::String(made.by.to_string()));
        set("Field", Value::String(change.field));
        set(
            "DataType",
            change
                .data_type
                .map_or(Value::Null, |t| Value::String(t.into())),
        );
        set("OldValue", change.old);
        set("NewValue", change.new);
        let table = std::sync::Arc::make_mut(&mut tables.tables[index]);
        table.insert(
            &history,
            Record {
                values,
                deleted_at: None,
            },
        );
    }
}

/// For a history row: whether `access` may see it: its parent is visible (`parent_visible`
/// decides, with the org's sharing) and the changed field is not hidden from the user's
/// profile. `None` for rows of other objects.
pub fn row_visible(
    tables: &Tables,
    access: &UserAccess,
    def: &ObjectDef,
    record: &Record,
    parent_visible: impl Fn(&ObjectDef, &Record) -> bool,
) -> Option<bool> {
    let tracked = of_history(&def.name)?;
    let schema = &access.schema.org;
    let get = |name: &str| def.field_index(name).and_then(|i| record.values.get(i));
    let Some(parent_id) = get(tracked.parent_field).and_then(Value::as_str) else {
        return Some(false);
    };
    let Some((object, _, parent)) = tables.find(schema, parent_id) else {
        return Some(false);
    };
    let parent_def = &schema.objects[object];
    if parent_def.name != tracked.object || !parent_visible(parent_def, parent) {
        return Some(false);
    }
    let field_visible = match get("Field").and_then(Value::as_str) {
        Some(CREATED) | None => true,
        Some(field) => {
            tracked_field(parent_def, field).is_none_or(|f| access.schema.is_visible(parent_def, f))
        }
    };
    Some(field_visible)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::standard_objects;

    #[test]
    fn every_tracked_field_exists() {
        let objects = standard_objects();
        for tracked in TRACKED {
            let def = objects
                .iter()
                .find(|o| o.name == tracked.object)
                .expect("tracked object");
            for field in tracked.fields {
                let f = def.field(field).unwrap_or_else(|| panic!("{field}"));
                assert_eq!(
                    tracked_field(def, field_name(field)).map(|t| &t.name),
                    Some(&f.name)
                );
            }
        }
    }

    #[test]
    fn a_create_writes_created_and_an_update_each_changed_tracked_field() {
        let objects = standard_objects();
        let def = objects
            .iter()
            .find(|o| o.name == "Opportunity")
            .expect("Opportunity");
        let mut before = vec![Value::Null; def.fields.len()];
        let stage = def.field_index("StageName").expect("stage");
        let description = def.field_index("Description").expect("description");
        before[stage] = Value::String("Prospecting".into());
        let created = changes(def, None, &before, |_| None);
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].field, CREATED);
        let mut after = before.clone();
        after[stage] = Value::String("Closed Won".into());
        after[description] = Value::String("untracked".into());
        let updated = changes(def, Some(&before), &after, |_| None);
        assert_eq!(
            updated,
            vec![Change {
                field: "StageName".into(),
                data_type: Some("Picklist"),
                old: Value::String("Prospecting".into()),
                new: Value::String("Closed Won".into()),
            }]
        );
    }

    #[test]
    fn a_lookup_change_writes_an_id_row_and_a_names_row() {
        let objects = standard_objects();
        let def = objects
            .iter()
            .find(|o| o.name == "Opportunity")
            .expect("Opportunity");
        let account = def.field_index("AccountId").expect("AccountId");
        let mut before = vec![Value::Null; def.fields.len()];
        before[account] = Value::String("001000000000001AAA".into());
        let mut after = before.clone();
        after[account] = Value::String("001000000000002AAA".into());
        let names = |id: &str| Some(format!("Name of {id}"));
        let updated = changes(def, Some(&before), &after, names);
        assert_eq!(
            updated,
            vec![
                Change {
                    field: "Account".into(),
                    data_type: Some("EntityId"),
                    old: Value::String("001000000000001AAA".into()),
                    new: Value::String("001000000000002AAA".into()),
                },
                Change {
                    field: "Account".into(),
                    data_type: Some("Text"),
                    old: Value::String("Name of 001000000000001AAA".into()),
                    new: Value::String("Name of 001000000000002AAA".into()),
                },
            ]
        );
        assert_eq!(field_name("Parent__c"), "Parent__c");
        assert_eq!(field_name("OwnerId"), "Owner");
    }
}
