//! SOQL through `sfmcp_soql`: parse, validate against what the caller's profile sees,
//! evaluate over the caller's view of a snapshot, and render Salesforce's record JSON.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Utc;
use serde::ser::{Error as _, SerializeMap};
use serde::{Serialize, Serializer};

use super::errors::ApiError;
use super::ids;
use super::json::{date_bytes, datetime_bytes, field_json, value_to_json};
use super::org::{RowRef, View};
use super::query::Evaluated;
use super::state::{AppState, Ctx, Cursor};
use sfmcp_soql::ast::{self, CompareOp, Condition, Expr, InValues, Literal};
use sfmcp_soql::data::{DataSource, Value};
use sfmcp_soql::eval::{Cell, EvalContext, QueryResult, Record, RecordKind, evaluate};
use sfmcp_soql::schema::{FieldType, Schema};
use sfmcp_soql::validate::{ValidateError, validate};
use sfmcp_soql::{SoqlError, parse};

pub(crate) fn soql_error(error: &SoqlError, soql: &str) -> Vec<ApiError> {
    vec![ApiError::new(
        StatusCode::BAD_REQUEST,
        error.code.as_str(),
        error.salesforce_message(soql),
    )]
}

/// The caller's time zone for date literals (`TODAY` starts at their midnight).
fn time_zone(ctx: &Ctx) -> chrono_tz::Tz {
    let user = ctx.org.schema.index_of("User").and_then(|u| {
        let (row, _) = ctx.tables.table(u).get(&ctx.access.user_id)?;
        ctx.tables
            .value(&ctx.org.schema, u, row, "TimeZoneSidKey")
            .and_then(Value::as_str)
            .and_then(|tz| tz.parse().ok())
    });
    user.unwrap_or(chrono_tz::Tz::UTC)
}

/// Runs one SOQL query for the caller and renders every record.
pub fn run(
    state: &AppState,
    ctx: &Ctx,
    soql: &str,
    all_rows: bool,
    batch: usize,
) -> Result<Evaluated, Vec<ApiError>> {
    let query = parse(soql).map_err(|e| soql_error(&e, soql))?;
    match validate(&query, ctx.access.schema.as_ref()) {
        Ok(_) => super::files::check_link_filter(&query).map_err(|e| vec![e])?,
        Err(ValidateError::Invalid(e)) => return Err(soql_error(&e, soql)),
        // Every object of the org is loaded; an object the profile cannot see is Unknown.
        Err(ValidateError::NeedsDescribe(object)) => {
            return Err(vec![ApiError::bad_request(
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
            )]);
        }
    }
    // RecentlyViewed holds the caller's own rows: built for them when a query reads it.
    let recent = query
        .from
        .object
        .segments
        .last()
        .filter(|o| o.name.eq_ignore_ascii_case(super::recent::OBJECT))
        .map(|_| {
            let seen = ctx.org.recently_seen(&ctx.access.user_id);
            super::recent::with_rows(&ctx.org, &ctx.tables, &ctx.access, &seen)
        });
    let view = View {
        org: &ctx.org,
        tables: recent.as_ref().unwrap_or(&ctx.tables),
        access: &ctx.access,
        all_rows,
    };
    let mut eval_ctx = EvalContext::new(Utc::now(), time_zone(ctx));
    eval_ctx.user_id = Some(ctx.access.user_id.clone());
    let source = Narrowed::new(&view, &query);
    let result = evaluate(&query, &source, &eval_ctx).map_err(|e| soql_error(&e, soql))?;
    // "When the FOR VIEW clause is used with a query ... a record is added to the
    // RecentlyViewed object"; FOR REFERENCE likewise (SOQL and SOSL Reference, "FOR VIEW and
    // FOR REFERENCE"). A plain query or GET marks nothing (REST API Developer Guide, "Mark
    // Records as Recently Viewed").
    if matches!(
        query.for_clause,
        Some(ast::ForClause::View | ast::ForClause::Reference)
    ) {
        let ids: Vec<String> = result
            .records
            .iter()
            .filter_map(|r| match &r.kind {
                RecordKind::SObject { row, .. } => {
                    view.record(*row).map(|record| record.id().to_string())
                }
                RecordKind::Aggregate => None,
            })
            .collect();
        let viewed = matches!(query.for_clause, Some(ast::ForClause::View));
        ctx.org.mark_viewed(&ctx.access.user_id, ids, viewed);
    }
    let renderer = Renderer {
        state,
        ctx,
        view: &view,
        batch,
        all_rows,
    };
    let records = renderer.serialize_all(&result.records).map_err(|e| {
        vec![ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            e.to_string(),
        )]
    })?;
    Ok(Evaluated {
        total_size: result.total_size,
        records,
    })
}

/// Serializes evaluated records straight to Salesforce's JSON, with no intermediate tree.
struct Renderer<'a> {
    state: &'a AppState,
    ctx: &'a Ctx,
    view: &'a View<'a>,
    batch: usize,
    all_rows: bool,
}

impl Renderer<'_> {
    fn serialize_all(&self, records: &[Record<'_, RowRef>]) -> serde_json::Result<Vec<Box<[u8]>>> {
        // Rows of one query are alike in size: each buffer starts at the last row's size, so
        // it is rarely grown and copied.
        let mut size_hint = 256;
        records
            .iter()
            .map(|record| {
                let mut bytes = Vec::with_capacity(size_hint);
                serde_json::to_writer(
                    &mut bytes,
                    &RecordJson {
                        renderer: self,
                        record,
                    },
                )?;
                size_hint = bytes.len() + 16;
                Ok(bytes.into_boxed_slice())
            })
            .collect()
    }
}

struct RecordJson<'a> {
    renderer: &'a Renderer<'a>,
    record: &'a Record<'a, RowRef>,
}

/// `{"type": ..., "url": ...}`, or `{"type": "AggregateResult"}` without a url.
struct AttributesJson<'a> {
    object: &'a str,
    url: Option<RecordPath<'a>>,
}

/// `/services/data/vXX.X/sobjects/{object}/{id}`, written straight into the output.
struct RecordPath<'a> {
    version: &'a str,
    object: &'a str,
    id: &'a str,
}

impl std::fmt::Display for RecordPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for part in [
            "/services/data/v",
            self.version,
            "/sobjects/",
            self.object,
            "/",
            self.id,
        ] {
            f.write_str(part)?;
        }
        Ok(())
    }
}

impl Serialize for RecordPath<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for AttributesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", self.object)?;
        if let Some(url) = &self.url {
            map.serialize_entry("url", url)?;
        }
        map.end()
    }
}

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let renderer = self.renderer;
        let mut map = serializer.serialize_map(Some(self.record.fields.len() + 1))?;
        let stored = match &self.record.kind {
            RecordKind::SObject { object, row } => {
                let stored = renderer.view.record(*row);
                let id = stored.map_or("", |r| r.id());
                map.serialize_entry(
                    "attributes",
                    &AttributesJson {
                        object,
                        url: Some(RecordPath {
                            version: &renderer.ctx.version,
                            object,
                            id,
                        }),
                    },
                )?;
                stored.map(|r| (renderer.view.def(*row), r))
            }
            RecordKind::Aggregate => {
                map.serialize_entry(
                    "attributes",
                    &AttributesJson {
                        object: "AggregateResult",
                        url: None,
                    },
                )?;
                None
            }
        };
        for field in &self.record.fields {
            let key: &str = &field.name;
            match &field.value {
                // Compound addresses are stored as their parts; assemble them here.
                Cell::Value(value) if matches!(**value, Value::Null) => {
                    let address = stored.and_then(|(def, stored)| {
                        def.field_index(key)
                            .filter(|&i| def.fields[i].field_type == FieldType::Address)
                            .map(|i| field_json(def, stored, i))
                    });
                    map.serialize_entry(key, &address)?;
                }
                // A blob field holds the URL its bytes are served at, not the bytes.
                Cell::Value(value)
                    if !matches!(**value, Value::Null)
                        && let Some((def, stored)) = stored
                        && def
                            .field(key)
                            .is_some_and(|f| f.field_type == FieldType::Base64) =>
                {
                    let url = super::files::blob_url(
                        &renderer.ctx.version,
                        &def.name,
                        stored.id(),
                        &def.fields[def.field_index(key).unwrap_or(0)].name,
                    );
                    map.serialize_entry(key, &url)?
                }
                Cell::Value(value) => map.serialize_entry(key, &ValueJson(value.as_ref()))?,
                Cell::Parent(None) => map.serialize_entry(key, &())?,
                Cell::Parent(Some(parent)) => map.serialize_entry(
                    key,
                    &RecordJson {
                        renderer,
                        record: parent,
                    },
                )?,
                Cell::Children(children) => map.serialize_entry(
                    key,
                    &ChildrenJson {
                        renderer,
                        result: children,
                    },
                )?,
            }
        }
        map.end()
    }
}

/// Digits and punctuation from the formatters above: always ASCII.
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("")
}

/// A stored value as Salesforce writes it (see [`super::json::value_to_json`]).
struct ValueJson<'a>(&'a Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => serializer.serialize_unit(),
            Value::Boolean(b) => serializer.serialize_bool(*b),
            Value::Integer(i) => serializer.serialize_i64(*i),
            Value::Double(d) if d.is_finite() => serializer.serialize_f64(*d),
            Value::Double(_) => serializer.serialize_unit(),
            Value::String(text) => serializer.serialize_str(text),
            Value::Date(d) => serializer.serialize_str(ascii(&date_bytes(d))),
            Value::DateTime(dt) => serializer.serialize_str(ascii(&datetime_bytes(dt))),
            Value::Time(t) => serializer.collect_str(&t.format("%H:%M:%S%.3fZ")),
            Value::Location { .. } => value_to_json(self.0).serialize(serializer),
        }
    }
}

/// A child subquery: `null` when empty, a query result otherwise, paged by its own locator
/// when it holds more than a batch.
struct ChildrenJson<'a> {
    renderer: &'a Renderer<'a>,
    result: &'a QueryResult<'a, RowRef>,
}

impl Serialize for ChildrenJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let renderer = self.renderer;
        let records = &self.result.records;
        if records.is_empty() {
            return serializer.serialize_unit();
        }
        let shown = records.len().min(renderer.batch);
        let next_records_url = if records.len() > renderer.batch {
            let all = renderer.serialize_all(records).map_err(S::Error::custom)?;
            let id = renderer.state.next_locator();
            let cursor = Arc::new(Cursor {
                org: renderer.ctx.org.index,
                user_id: renderer.ctx.access.user_id.clone(),
                records: all,
                total_size: self.result.total_size,
                batch_size: renderer.batch,
                all_rows: renderer.all_rows,
                tooling: None,
            });
            renderer
                .state
                .cursors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone(), cursor);
            let resource = if renderer.all_rows {
                "queryAll"
            } else {
                "query"
            };
            Some(format!(
                "/services/data/v{}/{resource}/{id}-{}",
                renderer.ctx.version, renderer.batch
            ))
        } else {
            None
        };
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("totalSize", &self.result.total_size)?;
        map.serialize_entry("done", &next_records_url.is_none())?;
        if let Some(url) = &next_records_url {
            map.serialize_entry("nextRecordsUrl", url)?;
        }
        let page: Vec<RecordJson<'_>> = records[..shown]
            .iter()
            .map(|record| RecordJson { renderer, record })
            .collect();
        map.serialize_entry("records", &page)?;
        map.end()
    }
}

/// A view whose scan of the queried object yields only the rows its indexes say can match a
/// top-level `Field IN ('id', ...)` or `Field = 'id'` on `Id` or a lookup (the audit reads
/// `OauthToken WHERE UserId IN (200 ids)` once per partition of users). The evaluator still
/// applies the whole WHERE to them, so the answer is the full scan's; only the work is
/// proportional to the result instead of to the table.
pub struct Narrowed<'v, 'a> {
    view: &'v View<'a>,
    /// The queried object and its candidate rows in table order (the scan's order).
    only: Option<(usize, Vec<u32>)>,
}

impl<'v, 'a> Narrowed<'v, 'a> {
    pub fn new(view: &'v View<'a>, query: &ast::Query) -> Self {
        Self {
            view,
            only: candidate_rows(view, query),
        }
    }

    /// The number of rows the queried object's scan will visit, `None` for all of them.
    pub fn candidates(&self) -> Option<usize> {
        self.only.as_ref().map(|(_, rows)| rows.len())
    }
}

/// The rows of the queried object an id-valued conjunct of the top-level WHERE allows, from
/// the id and lookup indexes. `None` (scan everything) when there is no such conjunct, or a
/// subquery could scan the same object, or a literal is not an id.
fn candidate_rows(view: &View<'_>, query: &ast::Query) -> Option<(usize, Vec<u32>)> {
    let [object] = query.from.object.segments.as_slice() else {
        return None;
    };
    let index = view.org.schema.index_of(&object.name)?;
    let where_clause = query.where_clause.as_ref()?;
    if has_subquery(where_clause) {
        return None;
    }
    let def = &view.org.schema.objects[index];
    let table = &view.tables.tables[index];
    let conjuncts: Vec<&Condition> = match where_clause {
        Condition::And(all) => all.iter().collect(),
        other => vec![other],
    };
    // The first id-valued conjunct is enough: any of them bounds the answer.
    for condition in conjuncts {
        let (left, literals): (&Expr, Vec<&Literal>) = match condition {
            Condition::In {
                left,
                negated: false,
                values: InValues::List(values),
            } => {
                let literals = values
                    .iter()
                    .map(|v| match v {
                        ast::Value::Literal(literal, _) => Some(literal),
                        ast::Value::Bind(_) => None,
                    })
                    .collect::<Option<Vec<_>>>();
                match literals {
                    Some(literals) => (left, literals),
                    None => continue,
                }
            }
            Condition::Compare {
                left,
                op: CompareOp::Eq,
                value: ast::Value::Literal(literal, _),
            } => (left, vec![literal]),
            _ => continue,
        };
        let Expr::Field(path) = left else { continue };
        let [field] = path.segments.as_slice() else {
            continue;
        };
        let Some(field_index) = def.field_index(&field.name) else {
            continue;
        };
        let field_def = &def.fields[field_index];
        if !matches!(field_def.field_type, FieldType::Id | FieldType::Reference) {
            continue;
        }
        // Stored ids are the 18-character form (writes and seeds normalise them).
        let Some(ids) = literals
            .iter()
            .map(|l| match l {
                Literal::String(text) => ids::normalize(text),
                _ => None,
            })
            .collect::<Option<Vec<String>>>()
        else {
            continue;
        };
        let mut rows: Vec<u32> = if field_def.field_type == FieldType::Id {
            ids.iter()
                .filter_map(|id| table.by_id.get(id).copied())
                .collect()
        } else {
            ids.iter()
                .flat_map(|id| table.referencing(field_index, id).iter().copied())
                .collect()
        };
        rows.sort_unstable();
        rows.dedup();
        return Some((index, rows));
    }
    None
}

fn has_subquery(condition: &Condition) -> bool {
    match condition {
        Condition::And(all) | Condition::Or(all) => all.iter().any(has_subquery),
        Condition::Not(inner) => has_subquery(inner),
        Condition::In {
            values: InValues::Subquery(_),
            ..
        } => true,
        _ => false,
    }
}

impl DataSource for Narrowed<'_, '_> {
    type Row = RowRef;

    fn schema(&self) -> &dyn Schema {
        self.view.schema()
    }

    fn scan(&self, object: &str) -> Box<dyn Iterator<Item = RowRef> + '_> {
        match &self.only {
            Some((index, rows)) if self.view.org.schema.index_of(object) == Some(*index) => {
                let def = &self.view.org.schema.objects[*index];
                let table = &self.view.tables.tables[*index];
                let index = *index;
                Box::new(
                    rows.iter()
                        .copied()
                        .filter(move |&row| {
                            table
                                .rows
                                .get(row as usize)
                                .is_some_and(|record| self.view.visible(def, record))
                        })
                        .map(move |row| RowRef {
                            object: index as u32,
                            row,
                        }),
                )
            }
            _ => self.view.scan(object),
        }
    }

    fn object_of(&self, row: RowRef) -> &str {
        self.view.object_of(row)
    }

    fn value(&self, row: RowRef, field: &str) -> Option<&Value> {
        self.view.value(row, field)
    }

    fn parent(&self, row: RowRef, reference_field: &str) -> Option<RowRef> {
        self.view.parent(row, reference_field)
    }

    fn children(&self, row: RowRef, child_object: &str, field: &str) -> Vec<RowRef> {
        self.view.children(row, child_object, field)
    }
}
