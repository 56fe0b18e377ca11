//! `RecentlyViewed`: the records the user viewed or referenced, as a SOQL object.
//!
//! Object Reference, RecentlyViewed: "Represents records or list views that the current user
//! has recently viewed or referenced"; supported calls `describeSObjects()`, `query()`,
//! `update()`; only objects with `LastViewedDate` and `LastReferencedDate` appear. Its `Id`
//! is the viewed record's, `Type` its object, `Name` its name, and the person fields
//! (`FirstName`, `LastName`, `Email`, `Phone`, `Title`, `Alias`, `IsActive`, ...) come from the
//! record when it has them (field reference, RecentlyViewed). The SOQL reference's example
//! is `SELECT Id, Name FROM RecentlyViewed WHERE Type IN ('Account', 'Contact') ORDER BY
//! LastViewedDate DESC`. A user sees only their own rows, and only rows about records they
//! may still read: the rows are built for the caller when a query reads the object, from
//! the same list `/recent` answers from.
//!
//! What the emulator leaves out: list views (`Type` `ListView`), `update()` (marking), and
//! `Language`, `NetworkId`, `NameOrAlias`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::org::{Org, UserAccess};
use super::schema::{ObjectDef, boolean, datetime, email, phone, picklist, reference, text};
use super::store::{Record, Table, Tables};
use sfmcp_soql::data::Value;

pub const OBJECT: &str = "RecentlyViewed";

/// One record a user viewed or referenced.
#[derive(Debug, Clone)]
pub struct Seen {
    pub id: String,
    pub viewed: Option<DateTime<Utc>>,
    pub referenced: DateTime<Utc>,
}

/// Fields copied from the viewed record, when it has them and the user may read them.
const COPIED: [&str; 10] = [
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "Title",
    "Alias",
    "IsActive",
    "ProfileId",
    "UserRoleId",
    "RecordTypeId",
];

/// The object's describe, its `Type` listing the objects that keep recent views.
pub fn object(objects: &[ObjectDef]) -> ObjectDef {
    let types: Vec<&str> = objects
        .iter()
        .filter(|o| o.field("LastViewedDate").is_some())
        .map(|o| o.name.as_str())
        .collect();
    let mut def = ObjectDef::new(OBJECT, "", "Recently Viewed", "Recently Viewed")
        .read_only()
        .fields([
            text("Name", 255).read_only().name_field(),
            picklist("Type", &types).read_only(),
            datetime("LastViewedDate").read_only(),
            datetime("LastReferencedDate").read_only(),
            text("FirstName", 40).read_only(),
            text("LastName", 80).read_only(),
            email("Email").read_only(),
            phone("Phone").read_only(),
            text("Title", 80).read_only(),
            text("Alias", 8).read_only(),
            boolean("IsActive").read_only(),
            reference("ProfileId", &["Profile"], "Profile").read_only(),
            reference("UserRoleId", &["UserRole"], "UserRole").read_only(),
            reference("RecordTypeId", &["RecordType"], "RecordType").read_only(),
        ]);
    // RecentlyViewed has no IsDeleted (field reference): rows of deleted records are gone.
    def.fields.retain(|f| f.name != "IsDeleted");
    def.createable = false;
    def.index()
}

/// `tables` with the RecentlyViewed table holding `access`'s rows, most recent first:
/// records that still exist and that the user may read, person fields as field-level
/// security lets them see.
pub fn with_rows(org: &Org, tables: &Tables, access: &UserAccess, seen: &[Seen]) -> Tables {
    let Some(index) = org.schema.index_of(OBJECT) else {
        return tables.clone();
    };
    let def = Arc::clone(&org.schema.objects[index]);
    let mut table = Table::default();
    for item in seen {
        let Some((object, _, record)) = tables.find(&org.schema, &item.id) else {
            continue;
        };
        let source = &org.schema.objects[object];
        if record.deleted_at.is_some()
            || source.field("LastViewedDate").is_none()
            || !org.can_read_in(tables, access, source, record)
        {
            continue;
        }
        let visible = |name: &str| {
            source
                .field_index(name)
                .filter(|&i| access.schema.is_visible(source, &source.fields[i]))
                .and_then(|i| record.values.get(i).cloned())
        };
        let name = org.record_name(tables, &item.id);
        let mut values = vec![Value::Null; def.fields.len()];
        let mut set = |field: &str, value: Value| {
            if let Some(i) = def.field_index(field) {
                values[i] = value;
            }
        };
        set("Id", Value::String(item.id.clone()));
        set("Name", name.map_or(Value::Null, Value::String));
        set("Type", Value::String(source.name.clone()));
        set(
            "LastViewedDate",
            item.viewed.map_or(Value::Null, Value::DateTime),
        );
        set("LastReferencedDate", Value::DateTime(item.referenced));
        for field in COPIED {
            if let Some(value) = visible(field) {
                set(field, value);
            }
        }
        table.insert(
            &def,
            Record {
                values,
                deleted_at: None,
            },
        );
    }
    let mut out = tables.clone();
    out.tables[index] = Arc::new(table);
    out
}
