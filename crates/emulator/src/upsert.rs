//! Records addressed by an external id: `GET` and `PATCH /sobjects/{O}/{Field}/{value}`
//! (upsert), shared with sObject Collections' upsert.
//!
//! Salesforce matches external ids case-insensitively (unless the field is declared
//! case-sensitive, which seeds cannot do), and accepts `Id` as the key field.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json, json};

use super::errors::ApiError;
use super::ids;
use super::json::record_json;
use super::rest::json_response;
use super::state::Ctx;
use super::store::Tables;
use sfmcp_soql::data::Value;

type Outcome = Result<Response, Vec<ApiError>>;

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted {
    Created(String),
    Updated(String),
}

impl Upserted {
    pub fn id(&self) -> &str {
        match self {
            Self::Created(id) | Self::Updated(id) => id,
        }
    }
}

/// Why an upsert did nothing.
#[derive(Debug)]
pub enum UpsertError {
    /// The key matched several records: their ids.
    Multiple(Vec<String>),
    Api(Vec<ApiError>),
}

impl From<Vec<ApiError>> for UpsertError {
    fn from(errors: Vec<ApiError>) -> Self {
        Self::Api(errors)
    }
}

fn not_external(field: &str) -> Vec<ApiError> {
    vec![ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {field}"),
    )]
}

/// The index of `field` on `object` when the caller may use it as an upsert key.
pub fn key_field(ctx: &Ctx, object: usize, field: &str) -> Result<usize, Vec<ApiError>> {
    let def = &ctx.org.schema.objects[object];
    def.field_index(field)
        .filter(|&i| {
            let f = &def.fields[i];
            (f.external_id || f.name == "Id") && ctx.access.schema.is_visible(def, f)
        })
        .ok_or_else(|| not_external(field))
}

fn matches_key(stored: &Value, wanted: &str) -> bool {
    match stored {
        Value::String(s) => s.eq_ignore_ascii_case(wanted),
        Value::Integer(i) => wanted.trim().parse::<i64>().is_ok_and(|w| w == *i),
        Value::Double(d) => wanted.trim().parse::<f64>().is_ok_and(|w| w == *d),
        _ => false,
    }
}

/// Ids of the live records the caller can see whose `field` holds `value`.
pub fn find(ctx: &Ctx, tables: &Tables, object: usize, field: usize, value: &str) -> Vec<String> {
    let def = &ctx.org.schema.objects[object];
    let table = tables.table(object);
    if field == 0 {
        return ids::normalize(value)
            .and_then(|id| table.get(&id))
            .filter(|(_, r)| r.deleted_at.is_none() && ctx.org.can_read(&ctx.access, def, r))
            .map(|(_, r)| vec![r.id().to_string()])
            .unwrap_or_default();
    }
    table
        .rows
        .iter()
        .filter(|r| r.deleted_at.is_none())
        .filter(|r| r.values.get(field).is_some_and(|v| matches_key(v, value)))
        .filter(|r| ctx.org.can_read(&ctx.access, def, r))
        .map(|r| r.id().to_string())
        .collect()
}

/// Creates or updates the one record whose `field` holds `value`, inside `tables`.
pub fn upsert_in(
    ctx: &Ctx,
    tables: &mut Tables,
    object: usize,
    field: usize,
    value: &str,
    body: &Map<String, Json>,
) -> Result<Upserted, UpsertError> {
    let def = &ctx.org.schema.objects[object];
    let key_name = &def.fields[field].name;
    let found = find(ctx, tables, object, field, value);
    match found.as_slice() {
        [] if field == 0 && !value.is_empty() => Err(UpsertError::Api(vec![ApiError::not_found()])),
        [] => {
            let mut body = body.clone();
            if field != 0 && !body.keys().any(|k| k.eq_ignore_ascii_case(key_name)) {
                body.insert(key_name.clone(), Json::String(value.to_string()));
            }
            let id = ctx.org.create_in(tables, &ctx.access, object, &body)?;
            Ok(Upserted::Created(id))
        }
        [id] => {
            ctx.org.update_in(tables, &ctx.access, object, id, body)?;
            Ok(Upserted::Updated(id.clone()))
        }
        _ => Err(UpsertError::Multiple(found)),
    }
}

/// `300 Multiple Choices` with the matching records' URLs.
pub fn multiple_choices(ctx: &Ctx, object: &str, ids: &[String]) -> Response {
    let urls: Vec<Json> = ids
        .iter()
        .map(|id| {
            Json::String(format!(
                "/services/data/v{}/sobjects/{object}/{id}",
                ctx.version
            ))
        })
        .collect();
    json_response(StatusCode::MULTIPLE_CHOICES, &Json::Array(urls))
}

/// Upserts answer with `created` from v46.0; earlier versions answer an update with 204.
fn reports_created(version: &str) -> bool {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m >= 46)
}

/// `/sobjects/{O}/{Field}/{value}`.
pub fn by_external_id(
    ctx: &Ctx,
    method: &Method,
    object: usize,
    field: &str,
    value: &str,
    body: &axum::body::Bytes,
) -> Outcome {
    let key = key_field(ctx, object, field)?;
    let name = ctx.org.schema.objects[object].name.clone();
    match *method {
        Method::GET | Method::HEAD => {
            let found = find(ctx, &ctx.tables, object, key, value);
            match found.as_slice() {
                [] => Err(vec![ApiError::not_found()]),
                [id] => {
                    let def = &ctx.org.schema.objects[object];
                    let Some((_, record)) = ctx.tables.table(object).get(id) else {
                        return Err(vec![ApiError::not_found()]);
                    };
                    let fields = (0..def.fields.len())
                        .filter(|&i| ctx.access.schema.is_visible(def, &def.fields[i]));
                    Ok(json_response(
                        StatusCode::OK,
                        &record_json(def, record, &ctx.version, fields),
                    ))
                }
                _ => Ok(multiple_choices(ctx, &name, &found)),
            }
        }
        Method::PATCH => {
            let fields = super::rest::parse_body(body)?;
            let outcome = ctx.write(|tables| upsert_in(ctx, tables, object, key, value, &fields));
            let created = reports_created(&ctx.version);
            match outcome {
                Ok(Upserted::Created(id)) => {
                    let mut out = json!({"id": id, "success": true, "errors": []});
                    if created {
                        out["created"] = Json::Bool(true);
                    }
                    Ok(json_response(StatusCode::CREATED, &out))
                }
                Ok(Upserted::Updated(id)) if created => Ok(json_response(
                    StatusCode::OK,
                    &json!({"id": id, "success": true, "errors": [], "created": false}),
                )),
                Ok(Upserted::Updated(_)) => Ok(StatusCode::NO_CONTENT.into_response()),
                Err(UpsertError::Multiple(ids)) => Ok(multiple_choices(ctx, &name, &ids)),
                Err(UpsertError::Api(errors)) => Err(errors),
            }
        }
        _ => Err(vec![ApiError::method_not_allowed(method.as_str())]),
    }
}
