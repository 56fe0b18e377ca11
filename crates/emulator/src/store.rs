//! Records: per object, typed [`Value`]s in field order, behind copy-on-write snapshots.
//!
//! A reader (a query, a GET) clones the current `Arc<Tables>` under a brief lock and works on
//! that snapshot with no lock held, so evaluation never blocks writers and never sees a
//! half-applied write. A writer takes the write lock, and `Arc::make_mut` copies a table only
//! when a reader still holds the old snapshot.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::schema::{ObjectDef, OrgSchema};
use sfmcp_soql::data::Value;

#[derive(Debug, Clone)]
pub struct Record {
    /// One value per field of the object, in [`ObjectDef::fields`] order; `values[0]` is the
    /// 18-character Id.
    pub values: Vec<Value>,
    /// Set by a delete: the record then shows only in queryAll and `/deleted`.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Record {
    pub fn id(&self) -> &str {
        self.values.first().and_then(Value::as_str).unwrap_or("")
    }
}

/// The records of one object, with an index by id and, per reference field, by parent id.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub rows: Vec<Record>,
    pub by_id: HashMap<String, u32>,
    /// Reference field index → parent id → rows referencing it (children lookups and
    /// subqueries without scanning the child table).
    refs: HashMap<usize, HashMap<String, Vec<u32>>>,
}

impl Table {
    pub fn get(&self, id: &str) -> Option<(u32, &Record)> {
        let &i = self.by_id.get(id)?;
        self.rows.get(i as usize).map(|r| (i, r))
    }

    /// Rows whose reference field `field` holds `parent_id`.
    pub fn referencing(&self, field: usize, parent_id: &str) -> &[u32] {
        self.refs
            .get(&field)
            .and_then(|m| m.get(parent_id))
            .map_or(&[], Vec::as_slice)
    }

    fn index_refs(&mut self, def: &ObjectDef, row: u32) {
        let Some(record) = self.rows.get(row as usize) else {
            return;
        };
        for (i, field) in def.fields.iter().enumerate() {
            if field.reference_to.is_empty() {
                continue;
            }
            if let Some(Value::String(parent)) = record.values.get(i) {
                self.refs
                    .entry(i)
                    .or_default()
                    .entry(parent.clone())
                    .or_default()
                    .push(row);
            }
        }
    }

    fn unindex_refs(&mut self, def: &ObjectDef, row: u32) {
        let Some(record) = self.rows.get(row as usize) else {
            return;
        };
        for (i, field) in def.fields.iter().enumerate() {
            if field.reference_to.is_empty() {
                continue;
            }
            if let Some(Value::String(parent)) = record.values.get(i)
                && let Some(rows) = self.refs.get_mut(&i).and_then(|m| m.get_mut(parent))
            {
                rows.retain(|&r| r != row);
            }
        }
    }

    /// Appends a record whose id is already in `values[0]`.
    pub fn insert(&mut self, def: &ObjectDef, record: Record) -> u32 {
        let row = self.rows.len() as u32;
        self.by_id.insert(record.id().to_string(), row);
        self.rows.push(record);
        self.index_refs(def, row);
        row
    }

    /// Replaces some values of a row, keeping the reference index in step.
    pub fn update(&mut self, def: &ObjectDef, row: u32, changes: Vec<(usize, Value)>) {
        self.unindex_refs(def, row);
        if let Some(record) = self.rows.get_mut(row as usize) {
            for (i, value) in changes {
                if let Some(slot) = record.values.get_mut(i) {
                    *slot = value;
                }
            }
        }
        self.index_refs(def, row);
    }

    pub fn mark_deleted(&mut self, def: &ObjectDef, row: u32, at: DateTime<Utc>) {
        let deleted_index = def.field_index("IsDeleted");
        if let Some(record) = self.rows.get_mut(row as usize) {
            record.deleted_at = Some(at);
            if let Some(i) = deleted_index
                && let Some(slot) = record.values.get_mut(i)
            {
                *slot = Value::Boolean(true);
            }
            for name in ["SystemModstamp"] {
                if let Some(i) = def.field_index(name)
                    && let Some(slot) = record.values.get_mut(i)
                {
                    *slot = Value::DateTime(at);
                }
            }
        }
    }
}

/// Every table of one org, indexed like [`OrgSchema::objects`].
#[derive(Debug, Clone)]
pub struct Tables {
    pub tables: Vec<Arc<Table>>,
    /// Bumped by every write to an object that decides access (users, roles, profiles,
    /// permission sets and their assignments), so cached access is recomputed.
    pub security_generation: u64,
}

/// Objects whose writes change who may see what.
pub const SECURITY_OBJECTS: [&str; 5] = [
    "User",
    "UserRole",
    "Profile",
    "PermissionSet",
    "PermissionSetAssignment",
];

impl Tables {
    pub fn new(schema: &OrgSchema) -> Self {
        Self {
            tables: schema
                .objects
                .iter()
                .map(|_| Arc::new(Table::default()))
                .collect(),
            security_generation: 0,
        }
    }

    pub fn table(&self, object: usize) -> &Table {
        &self.tables[object]
    }

    /// The record with this (18-character) id, whatever its object.
    pub fn find(&self, schema: &OrgSchema, id: &str) -> Option<(usize, u32, &Record)> {
        let object = schema.index_of_id(id)?;
        let (row, record) = self.tables.get(object)?.get(id)?;
        Some((object, row, record))
    }

    /// A value of a record by field name.
    pub fn value<'a>(
        &'a self,
        schema: &OrgSchema,
        object: usize,
        row: u32,
        field: &str,
    ) -> Option<&'a Value> {
        let def = schema.objects.get(object)?;
        let i = def.field_index(field)?;
        self.tables
            .get(object)?
            .rows
            .get(row as usize)?
            .values
            .get(i)
    }
}
