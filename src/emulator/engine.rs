//! SOQL through `crate::soql`: parse, validate against what the caller's profile sees,
//! evaluate over the caller's view of a snapshot, and render Salesforce's record JSON.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Map, Value as Json, json};

use super::errors::ApiError;
use super::json::{attributes, field_json, value_to_json};
use super::org::{RowRef, View};
use super::query::Evaluated;
use super::state::{AppState, Ctx, Cursor};
use crate::soql::data::Value;
use crate::soql::eval::{Cell, EvalContext, QueryResult, Record, RecordKind, evaluate};
use crate::soql::schema::FieldType;
use crate::soql::validate::{ValidateError, validate};
use crate::soql::{SoqlError, parse};

fn soql_error(error: &SoqlError, soql: &str) -> Vec<ApiError> {
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
        Ok(_) => {}
        Err(ValidateError::Invalid(e)) => return Err(soql_error(&e, soql)),
        // Every object of the org is loaded; an object the profile cannot see is Unknown.
        Err(ValidateError::NeedsDescribe(object)) => {
            return Err(vec![ApiError::bad_request(
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
            )]);
        }
    }
    let view = View {
        org: &ctx.org,
        tables: &ctx.tables,
        access: &ctx.access,
        all_rows,
    };
    let eval_ctx = EvalContext::new(Utc::now(), time_zone(ctx));
    let result = evaluate(&query, &view, &eval_ctx).map_err(|e| soql_error(&e, soql))?;
    let renderer = Renderer {
        state,
        ctx,
        view: &view,
        batch,
        all_rows,
    };
    Ok(Evaluated {
        total_size: result.total_size,
        records: result.records.iter().map(|r| renderer.record(r)).collect(),
    })
}

struct Renderer<'a> {
    state: &'a AppState,
    ctx: &'a Ctx,
    view: &'a View<'a>,
    batch: usize,
    all_rows: bool,
}

impl Renderer<'_> {
    fn record(&self, record: &Record<RowRef>) -> Json {
        let mut out = Map::with_capacity(record.fields.len() + 1);
        let stored = match &record.kind {
            RecordKind::SObject { object, row } => {
                let stored = self.view.record(*row);
                let id = stored.map_or("", |r| r.id());
                out.insert(
                    "attributes".into(),
                    attributes(object, id, &self.ctx.version),
                );
                stored.map(|r| (self.view.def(*row), r))
            }
            RecordKind::Aggregate => {
                out.insert("attributes".into(), json!({"type": "AggregateResult"}));
                None
            }
        };
        for field in &record.fields {
            let value = match &field.value {
                // Compound addresses are stored as their parts; assemble them here.
                Cell::Value(Value::Null) => match stored {
                    Some((def, stored)) => def
                        .field_index(&field.name)
                        .filter(|&i| def.fields[i].field_type == FieldType::Address)
                        .map_or(Json::Null, |i| field_json(def, stored, i)),
                    None => Json::Null,
                },
                Cell::Value(v) => value_to_json(v),
                Cell::Parent(None) => Json::Null,
                Cell::Parent(Some(parent)) => self.record(parent),
                Cell::Children(children) => self.children(children),
            };
            out.insert(field.name.to_string(), value);
        }
        Json::Object(out)
    }

    /// A child subquery: `null` when empty, a query result otherwise, paged by its own
    /// locator when it holds more than a batch.
    fn children(&self, result: &QueryResult<RowRef>) -> Json {
        if result.records.is_empty() {
            return Json::Null;
        }
        let records: Vec<Json> = result.records.iter().map(|r| self.record(r)).collect();
        if records.len() <= self.batch {
            return json!({"totalSize": result.total_size, "done": true, "records": records});
        }
        let first: Vec<Json> = records[..self.batch].to_vec();
        let id = self.state.next_locator(&self.ctx.org);
        let cursor = Arc::new(Cursor {
            org: self.ctx.org.index,
            user_id: self.ctx.access.user_id.clone(),
            records,
            total_size: result.total_size,
            batch_size: self.batch,
            all_rows: self.all_rows,
        });
        self.state
            .cursors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), cursor);
        let resource = if self.all_rows { "queryAll" } else { "query" };
        json!({
            "totalSize": result.total_size,
            "done": false,
            "nextRecordsUrl": format!("/services/data/v{}/{resource}/{id}-{}", self.ctx.version, self.batch),
            "records": first,
        })
    }
}
