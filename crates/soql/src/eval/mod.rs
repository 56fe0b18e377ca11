//! The SOQL evaluator: runs a parsed [`Query`] over the records of a [`DataSource`] with
//! Salesforce's semantics, for the emulator.
//!
//! A query is first resolved once into a plan (names looked up case-insensitively through
//! [`DataSource::schema`], literals converted, date literals turned into ranges, semi-join
//! subqueries run into sets), then the plan runs over the rows without re-resolving anything
//! per row. Unknown names never panic: validation runs before evaluation, and whatever slips
//! through reads as null.
//!
//! # The result
//!
//! [`evaluate`] returns a [`QueryResult`]: `total_size` and the [`Record`]s after OFFSET and
//! LIMIT. Each record carries what the emulator needs to write Salesforce's JSON without
//! evaluating anything again:
//!
//! - [`RecordKind::SObject`]: the record's object (`attributes.type`) and its row handle
//!   (for `attributes.url`); [`RecordKind::Aggregate`] for `AggregateResult` rows, which
//!   have no url.
//! - `fields`, in SELECT order, each under its canonical API name (the schema's spelling,
//!   whatever case the query used), an alias, or `expr0`, `expr1`... for unaliased
//!   aggregate expressions. A [`Cell`] is one of:
//!   - [`Cell::Value`]: a scalar (`null` included);
//!   - [`Cell::Parent`]: a parent relationship (`Account`, `Owner`, `What`) as a nested
//!     record, or `None` when the lookup is empty. `TYPEOF` is already resolved: the nested
//!     record holds the fields of the branch that matched its type;
//!   - [`Cell::Children`]: a child subquery's own [`QueryResult`]. It is present even when
//!     empty: the emulator decides paging and writes `null` for no children, as Salesforce
//!     does.
//! - `SELECT COUNT() FROM ...` returns no records, only `total_size`.
//!
//! `toLabel()` gives the picklist label from describe; `FORMAT()` and `convertCurrency()`
//! give the stored value unchanged: the emulator is a single-currency org with one locale.
//!
//! # Semantics, and where they come from
//!
//! The SOQL and SOSL Reference is cited where it answers; where it is silent, the source
//! used is named.
//!
//! - Text `=`, `!=`, `IN`, `LIKE` and ORDER BY ignore case ("Comparison Operators",
//!   "ORDER BY"). Grouping does too (`Tech` and `tech` are one group, shown as first seen).
//! - Null is an ordinary value: `= null` / `!= null` test for it, `!= 'x'` and `NOT IN`
//!   keep null rows ("Not equals: true if the value ... does not equal the specified value";
//!   "Use null in WHERE" returns Cases without a Contact for `Contact.LastName = null`),
//!   `<`, `>`, LIKE and INCLUDES never match null. Checkboxes read null as false.
//! - ORDER BY puts nulls first ascending ("By default, null values are sorted first") and,
//!   treating null as the lowest value, last descending (the reference is silent; a
//!   secondary source, soqlskills.com/soql-order-by, says so). Ties keep source order.
//! - `totalSize` is the number of rows the query returns, after LIMIT and OFFSET ("the total
//!   number of records returned by the Query request", REST API Query resource).
//! - Ids compare by their 15-character form: a 15-character id finds its 18-character record.
//! - Multi-select picklists: `=` compares the selection as a set; `INCLUDES ('a;b', 'c')`
//!   needs a and b, or c ("Query Multi-Select Picklists").
//! - Date literals are whole local days in `time_zone` from `now`; `=` is inside the range,
//!   `<` before its start, `>` after its end ("Date Formats and Date Literals in WHERE").
//!   A plain date against a dateTime field is that local day. Date functions read dateTimes
//!   in UTC unless wrapped in `convertTimezone()`.
//! - Aggregates skip nulls except `COUNT()` and `COUNT(Id)`; unaliased aggregate columns are
//!   `expr0`, `expr1`... counting only unaliased ones ("Use Aliases with GROUP BY").
//! - ROLLUP/CUBE subtotal rows follow the rows they sum, the grand total last.
//! - Fiscal literals and functions use a standard fiscal year starting in
//!   `fiscal_year_start_month`, named by its ending year unless told otherwise (Salesforce
//!   Help 000385162 describes both namings; custom fiscal years are not modelled).
//! - `USING SCOPE mine` keeps the records `user_id` owns; other scopes filter nothing.

mod aggregate;
mod compare;
mod dates;
mod plan;
mod run;

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;

use super::ast::Query;
use super::data::{DataSource, Value};
use super::error::SoqlError;

/// Who asks, and the user and org settings that relative dates depend on.
#[derive(Debug, Clone)]
pub struct EvalContext {
    /// The instant the query runs at; `TODAY` and friends are computed from it.
    pub now: DateTime<Utc>,
    /// The querying user's time zone: date literals start at local midnight.
    pub time_zone: Tz,
    /// The locale's first day of the week (`THIS_WEEK`, `LAST_N_WEEKS:n`).
    pub week_start: Weekday,
    /// The month the org's standard fiscal year starts in, 1..=12.
    pub fiscal_year_start_month: u32,
    /// Whether a fiscal year that spans two calendar years is named by the year it ends in
    /// (Salesforce's "Fiscal Year is Based On: The Ending Month") or the year it starts in.
    pub fiscal_year_named_by_end: bool,
    /// The querying user's id, for `USING SCOPE mine`; `None` leaves the scope unfiltered.
    pub user_id: Option<String>,
}

impl EvalContext {
    /// en_US settings: weeks start on Sunday, the fiscal year is the calendar year.
    pub fn new(now: DateTime<Utc>, time_zone: Tz) -> Self {
        Self {
            now,
            time_zone,
            week_start: Weekday::Sun,
            fiscal_year_start_month: 1,
            fiscal_year_named_by_end: true,
            user_id: None,
        }
    }
}

impl Default for EvalContext {
    /// en_US settings in UTC, at the current time.
    fn default() -> Self {
        Self::new(Utc::now(), Tz::UTC)
    }
}

/// The answer to a query: Salesforce's `totalSize` and the records.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult<'v, R> {
    /// Salesforce's `totalSize`: the number of rows the query returns, which LIMIT and
    /// OFFSET reduce (`SELECT Id FROM Account LIMIT 5` answers `totalSize: 5`). For
    /// `SELECT COUNT()` it is the count, and `records` is empty.
    pub total_size: usize,
    /// Rows that matched WHERE (or groups that passed HAVING) before OFFSET and LIMIT.
    pub matched: usize,
    pub records: Vec<Record<'v, R>>,
}

/// One row of a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'v, R> {
    pub kind: RecordKind<R>,
    /// The selected fields in SELECT order.
    pub fields: Vec<Field<'v, R>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecordKind<R> {
    /// A record of `object` (its canonical API name), and its handle in the source.
    SObject { object: Arc<str>, row: R },
    /// An `AggregateResult` row.
    Aggregate,
}

/// A selected field: its output key and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Field<'v, R> {
    /// The JSON key: canonical field or relationship name, alias, or `exprN`.
    pub name: Arc<str>,
    pub value: Cell<'v, R>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'v, R> {
    /// A value: borrowed from the source when read as stored (no copy per cell), owned when
    /// computed (a function, a label, an aggregate).
    Value(Cow<'v, Value>),
    /// A parent relationship: the related record, or `None` when the lookup is empty.
    Parent(Option<Box<Record<'v, R>>>),
    /// A child subquery's rows.
    Children(QueryResult<'v, R>),
}

impl<R> QueryResult<'_, R> {
    /// The result with every value copied out of the source, to outlive it.
    pub fn into_owned(self) -> QueryResult<'static, R> {
        QueryResult {
            total_size: self.total_size,
            matched: self.matched,
            records: self.records.into_iter().map(Record::into_owned).collect(),
        }
    }
}

impl<R> Record<'_, R> {
    /// The record with every value copied out of the source.
    pub fn into_owned(self) -> Record<'static, R> {
        Record {
            kind: self.kind,
            fields: self
                .fields
                .into_iter()
                .map(|field| Field {
                    name: field.name,
                    value: match field.value {
                        Cell::Value(value) => Cell::Value(Cow::Owned(value.into_owned())),
                        Cell::Parent(parent) => {
                            Cell::Parent(parent.map(|p| Box::new(p.into_owned())))
                        }
                        Cell::Children(children) => Cell::Children(children.into_owned()),
                    },
                })
                .collect(),
        }
    }

    /// `attributes.type`: the object name, or `AggregateResult`.
    pub fn object_type(&self) -> &str {
        match &self.kind {
            RecordKind::SObject { object, .. } => object,
            RecordKind::Aggregate => "AggregateResult",
        }
    }

    /// A field by output key, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&Cell<'_, R>> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| &f.value)
    }

    /// A scalar field by output key; follows dots through parents (`Account.Owner.Name`).
    /// `None` when the key is absent or a parent on the way is empty.
    pub fn value(&self, dotted: &str) -> Option<&Value> {
        let (head, rest) = match dotted.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (dotted, None),
        };
        match (self.get(head)?, rest) {
            (Cell::Value(v), None) => Some(&**v),
            (Cell::Parent(Some(parent)), Some(rest)) => parent.value(rest),
            _ => None,
        }
    }
}

/// Runs `query` over `source`.
///
/// Errors are those only evaluation can find, in Salesforce's terms: an object the source
/// does not serve (`INVALID_TYPE`), a child relationship it does not know, an Apex bind.
pub fn evaluate<'s, D: DataSource>(
    query: &Query,
    source: &'s D,
    ctx: &EvalContext,
) -> Result<QueryResult<'s, D::Row>, SoqlError> {
    let plan = plan::Planner::new(source, ctx).plan(query)?;
    Ok(run::Runner::new(source).run(&plan, source.scan(&plan.object)))
}

#[cfg(test)]
mod tests;
