//! What the evaluator reads: typed field values, and a [`DataSource`] that serves the rows one
//! user may see. The emulator's store implements it; the evaluator never knows how records are
//! kept, and sharing rules stay outside SOQL (a source serves only the visible rows).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::schema::Schema;

/// A stored field value, typed as Salesforce types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    /// `int` and `long` fields.
    Integer(i64),
    /// `double`, `currency` and `percent` fields.
    Double(f64),
    /// Every text-like type, ids and references included; multi-select picklists keep their
    /// `;`-separated form.
    String(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Time(NaiveTime),
    Location {
        latitude: f64,
        longitude: f64,
    },
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// The records one user can see, with their relationships.
///
/// Field and object names passed in are the canonical API names from the [`Schema`] (the
/// evaluator resolves the query's spelling first), so a source may match them exactly.
pub trait DataSource {
    /// A cheap handle to one record.
    type Row: Copy;

    /// Describe metadata for every object the source serves.
    fn schema(&self) -> &dyn Schema;

    /// Every visible record of `object`, in a stable order (Salesforce gives no order without
    /// ORDER BY; a stable one keeps paging and tests deterministic).
    fn scan(&self, object: &str) -> Box<dyn Iterator<Item = Self::Row> + '_>;

    /// The API name of the object a row belongs to (`TYPEOF` and `attributes.type` need it).
    fn object_of(&self, row: Self::Row) -> &str;

    /// A field's value; `None` when the record has no such field (the evaluator treats that
    /// as null, validation having already rejected unknown fields).
    fn value(&self, row: Self::Row, field: &str) -> Option<&Value>;

    /// Follows a reference field (`AccountId`, or polymorphic `WhatId`) to the visible parent
    /// record, whatever its object.
    fn parent(&self, row: Self::Row, reference_field: &str) -> Option<Self::Row>;

    /// Visible records of `child_object` whose `field` references `row`.
    fn children(&self, row: Self::Row, child_object: &str, field: &str) -> Vec<Self::Row>;
}
