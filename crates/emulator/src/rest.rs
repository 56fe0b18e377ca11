//! The REST API under `/services/data/`: one handler that parses the version and dispatches
//! on path segments, so every unknown path, version or method gets Salesforce's own error.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json, json};

use super::control::LogInfo;
use super::errors::ApiError;
use super::ids;
use super::json::{format_datetime, record_json};
use super::query;
use super::schema::RecordTypeRow;
use super::state::{AppState, Ctx};
use super::write::parse_datetime;
use sfmcp_soql::data::Value;

pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// A JSON response with Salesforce's content type.
pub fn json_response(status: StatusCode, body: &Json) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    response
}

pub fn error_response(errors: &[ApiError]) -> Response {
    let status = errors.first().map_or(StatusCode::BAD_REQUEST, |e| e.status);
    json_response(
        status,
        &Json::Array(errors.iter().map(ApiError::to_json).collect()),
    )
}

/// Query-string parameters, percent-decoded (`+` as space).
pub fn query_params(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `v62.0` → `62.0`, when it is a version this emulator serves.
pub fn parse_version(segment: &str, max: &str) -> Option<String> {
    let number = segment.strip_prefix('v')?;
    let (major, minor) = number.split_once('.')?;
    let major: u32 = major.parse().ok()?;
    if minor != "0" {
        return None;
    }
    let max_major: u32 = max.split('.').next()?.parse().ok()?;
    (20..=max_major)
        .contains(&major)
        .then(|| format!("{major}.0"))
}

/// Salesforce's release label for a version: v31.0 is Summer '14, v32.0 Winter '15, and so
/// on, three releases a year.
fn release_label(major: u32) -> String {
    let offset = major as i64 - 32;
    let season = ["Winter", "Spring", "Summer"][offset.rem_euclid(3) as usize];
    let year = 15 + offset.div_euclid(3);
    format!("{season} '{year:02}")
}

fn versions(max: &str) -> Json {
    let max_major: u32 = max
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(62);
    Json::Array(
        (20..=max_major)
            .map(|v| {
                json!({
                    "label": release_label(v),
                    "url": format!("/services/data/v{v}.0"),
                    "version": format!("{v}.0"),
                })
            })
            .collect(),
    )
}

/// `GET /services/data/`: no authentication, no usage header.
pub async fn versions_list(State(state): State<Arc<AppState>>) -> Response {
    json_response(StatusCode::OK, &versions(&state.settings.api_version))
}

pub async fn data(
    State(state): State<Arc<AppState>>,
    method: Method,
    Path(rest): Path<String>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let Some((first, tail)) = segments.split_first() else {
        return versions_list(State(state)).await;
    };
    let Some(version) = parse_version(first, &state.settings.api_version) else {
        return error_response(&[ApiError::not_found()]);
    };
    let ctx = match state.authenticate(&headers, &version) {
        Ok(ctx) => ctx,
        Err(error) => return error_response(&[error]),
    };
    serve(
        &state,
        &ctx,
        method,
        tail,
        raw_query.as_deref(),
        &headers,
        &body,
    )
}

/// Serves one authenticated REST request: `path` is what follows `/services/data/vXX.X/`,
/// split on `/`. Counts it against the daily allocation and adds `Sforce-Limit-Info` and the
/// request-log details. The Paragon proxy calls this with the context of the credential's
/// user.
pub fn serve(
    state: &AppState,
    ctx: &Ctx,
    method: Method,
    path: &[&str],
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let limit = state.settings.daily_api_limit;
    let mut response = match state.count_api_call(&ctx.org) {
        Ok(_) => {
            let params = query_params(raw_query);
            // Clients that cannot send PATCH use POST with `_HttpMethod=PATCH`.
            let method = match param(&params, "_HttpMethod") {
                Some(m) if method == Method::POST && m.eq_ignore_ascii_case("PATCH") => {
                    Method::PATCH
                }
                _ => method,
            };
            match dispatch(state, ctx, &method, path, &params, headers, body) {
                Ok(response) => response,
                Err(errors) => error_response(&errors),
            }
        }
        Err(error) => error_response(&[error]),
    };
    let used = ctx.org.api_used.load(Ordering::SeqCst).min(limit);
    if let Ok(value) = HeaderValue::from_str(&format!("api-usage={used}/{limit}")) {
        response.headers_mut().insert("Sforce-Limit-Info", value);
    }
    response.extensions_mut().insert(LogInfo {
        org: ctx.org.id.clone(),
        user: ctx.access.user_id.clone(),
    });
    response
}

type Outcome = Result<Response, Vec<ApiError>>;

pub(super) fn dispatch(
    state: &AppState,
    ctx: &Ctx,
    method: &Method,
    path: &[&str],
    params: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
) -> Outcome {
    let get = *method == Method::GET || *method == Method::HEAD;
    match path {
        [] if get => Ok(json_response(StatusCode::OK, &resources(&ctx.version))),
        ["sobjects"] if get => Ok(json_response(StatusCode::OK, &describe_global(state, ctx))),
        ["sobjects", object] => {
            let index = object_index(ctx, object)?;
            match *method {
                Method::GET | Method::HEAD => {
                    Ok(json_response(StatusCode::OK, &basic_info(ctx, index)))
                }
                Method::POST => create(ctx, index, body),
                _ => Err(vec![ApiError::method_not_allowed(method.as_str())]),
            }
        }
        ["sobjects", object, "describe"] if get => describe(state, ctx, object, headers),
        ["sobjects", object, "updated"] if get => updated(ctx, object, params, false),
        ["sobjects", object, "deleted"] if get => updated(ctx, object, params, true),
        ["sobjects", object, "listviews"] if get => super::listviews::list(ctx, object),
        ["sobjects", object, "listviews", id] if get => super::listviews::one(ctx, object, id),
        ["sobjects", object, "listviews", id, "describe"] if get => {
            super::listviews::describe(ctx, object, id)
        }
        ["sobjects", object, "listviews", id, "results"] if get => {
            let limit = params
                .iter()
                .find(|(k, _)| k == "limit")
                .map(|(_, v)| v.as_str());
            super::listviews::results(state, ctx, object, id, limit)
        }
        ["sobjects", object, id, field]
            if get && super::files::is_blob_field(ctx, object, field) =>
        {
            super::files::blob(ctx, object, id, field)
        }
        ["sobjects", object, field, value] => {
            let index = object_index(ctx, object)?;
            super::upsert::by_external_id(ctx, method, index, field, value, body)
        }
        ["sobjects", object, id] => {
            let index = object_index(ctx, object)?;
            match *method {
                Method::GET | Method::HEAD => get_record(ctx, index, id, params),
                Method::PATCH => update(ctx, index, id, body),
                Method::DELETE => delete(ctx, index, id),
                _ => Err(vec![ApiError::method_not_allowed(method.as_str())]),
            }
        }
        ["analytics", "reports"] if get => super::reports::recent(ctx),
        ["analytics", "reports", id, "describe"] if get => super::reports::describe(ctx, id),
        ["analytics", "reports", id] if get || *method == Method::POST => {
            let details = param(params, "includeDetails").is_some_and(|v| v == "true");
            let body = (*method == Method::POST).then_some(body);
            super::reports::run(state, ctx, id, details, body)
        }
        ["analytics", "reports", id, "instances"] if *method == Method::POST => {
            let details = param(params, "includeDetails").is_some_and(|v| v == "true");
            super::reports::start_instance(state, ctx, id, details, Some(body))
        }
        ["analytics", "reports", id, "instances"] if get => {
            super::reports::instances(state, ctx, id)
        }
        ["analytics", "reports", id, "instances", instance] if get => {
            super::reports::instance(state, ctx, id, instance)
        }
        ["analytics", "dashboards"] if get => super::reports::dashboards(ctx),
        ["analytics", "dashboards", id] if get => super::reports::dashboard(state, ctx, id),
        ["query"] if get => query::first_page(state, ctx, params, headers, false),
        ["queryAll"] if get => query::first_page(state, ctx, params, headers, true),
        ["query", locator] | ["queryAll", locator] if get => query::next_page(state, ctx, locator),
        ["limits"] if get => Ok(json_response(StatusCode::OK, &limits(state, ctx))),
        ["limits", "recordCount"] if get => {
            Ok(json_response(StatusCode::OK, &record_count(ctx, params)))
        }
        ["tooling", "query"] if get => query::tooling(state, ctx, params, headers),
        ["tooling", "query", locator] if get => query::next_tooling_page(state, ctx, locator),
        ["parameterizedSearch"] if get => super::search::parameterized(state, ctx, params),
        ["search"] if get => super::search::sosl(state, ctx, params),
        ["recent"] if get => recent(ctx, params),
        ["composite"] if get => Ok(json_response(
            StatusCode::OK,
            &super::composite::resources(&ctx.version),
        )),
        ["composite"] if *method == Method::POST => super::composite::composite(state, ctx, body),
        ["composite", "batch"] if *method == Method::POST => {
            super::composite::batch(state, ctx, body)
        }
        ["composite", "sobjects", rest @ ..] => {
            super::composite::collections(ctx, method, rest, params, body)
        }
        _ if !get && !path.is_empty() && known_resource(path) => {
            Err(vec![ApiError::method_not_allowed(method.as_str())])
        }
        _ => Err(vec![ApiError::not_found()]),
    }
}

fn known_resource(path: &[&str]) -> bool {
    matches!(
        path.first().copied(),
        Some(
            "sobjects"
                | "analytics"
                | "query"
                | "queryAll"
                | "limits"
                | "tooling"
                | "parameterizedSearch"
                | "search"
                | "composite"
                | "recent"
        )
    )
}

fn resources(version: &str) -> Json {
    let mut map = Map::new();
    for name in [
        "tooling",
        "metadata",
        "eclair",
        "folders",
        "prechatForms",
        "contact-tracing",
        "jsonxform",
        "chatter",
        "tabs",
        "appMenu",
        "quickActions",
        "queryAll",
        "commerce",
        "wave",
        "iot",
        "analytics",
        "search",
        "identity",
        "composite",
        "parameterizedSearch",
        "fingerprint",
        "theme",
        "nouns",
        "event",
        "serviceTemplates",
        "recent",
        "connect",
        "licensing",
        "limits",
        "process",
        "dedupe",
        "async-queries",
        "query",
        "match",
        "emailConnect",
        "compactLayouts",
        "knowledgeManagement",
        "sobjects",
        "actions",
        "support",
    ] {
        let path = if name == "identity" {
            "https://login.salesforce.com/id".to_string()
        } else {
            format!("/services/data/v{version}/{name}")
        };
        map.insert(name.to_string(), Json::String(path));
    }
    Json::Object(map)
}

fn object_index(ctx: &Ctx, name: &str) -> Result<usize, Vec<ApiError>> {
    ctx.org
        .schema
        .index_of(name)
        .ok_or_else(|| vec![ApiError::not_found()])
}

fn describe_global(_state: &AppState, ctx: &Ctx) -> Json {
    let sobjects: Vec<Json> = ctx
        .org
        .schema
        .objects
        .iter()
        .map(|o| o.global_entry(&ctx.version))
        .collect();
    json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects})
}

fn basic_info(ctx: &Ctx, index: usize) -> Json {
    let def = &ctx.org.schema.objects[index];
    let table = ctx.tables.table(index);
    let view_fields: Vec<usize> = ["Id", "Name"]
        .iter()
        .filter_map(|n| def.field_index(n))
        .collect();
    let recent: Vec<Json> = table
        .rows
        .iter()
        .rev()
        .filter(|r| r.deleted_at.is_none() && ctx.org.can_read(&ctx.access, def, r))
        .take(5)
        .map(|r| record_json(def, r, &ctx.version, view_fields.iter().copied()))
        .collect();
    json!({"objectDescribe": def.global_entry(&ctx.version), "recentItems": recent})
}

/// `/recent`: the records the caller viewed or referenced (`FOR VIEW`, `FOR REFERENCE`),
/// most recent first, as `{attributes, Id, Name}` (recorded shape: restforce's
/// `recent_success_response.json`), only those the caller may still read; `limit` caps them
/// (default: all, at most 200).
fn recent(ctx: &Ctx, params: &[(String, String)]) -> Outcome {
    let max = super::org::RECENT_MAX;
    let limit = match param(params, "limit") {
        Some(text) => text.trim().parse::<usize>().map_err(|_| {
            vec![ApiError::bad_request(
                "INVALID_QUERY_PARAMETER_VALUE",
                format!("limit must be a whole number from 1 to {max}, not '{text}'"),
            )]
        })?,
        None => max,
    }
    .clamp(1, max);
    let items: Vec<Json> = ctx
        .org
        .recently_viewed(&ctx.access.user_id)
        .into_iter()
        .filter_map(|id| {
            let (object, _, record) = ctx.tables.find(&ctx.org.schema, &id)?;
            let def = &ctx.org.schema.objects[object];
            let readable = record.deleted_at.is_none()
                && ctx.org.can_read_in(&ctx.tables, &ctx.access, def, record);
            let name = def
                .fields
                .iter()
                .position(|f| f.name_field)
                .or_else(|| def.field_index("Name"))?;
            readable.then(|| record_json(def, record, &ctx.version, [0, name].into_iter()))
        })
        .take(limit)
        .collect();
    Ok(json_response(StatusCode::OK, &Json::Array(items)))
}

fn http_date(dt: &DateTime<Utc>) -> String {
    dt.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn describe(state: &AppState, ctx: &Ctx, object: &str, headers: &HeaderMap) -> Outcome {
    let index = object_index(ctx, object)?;
    let modified = ctx.org.schema_modified;
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v.trim()).ok());
    let last_modified = HeaderValue::from_str(&http_date(&modified)).ok();
    // HTTP dates have whole seconds: compare at that precision.
    if let Some(since) = since
        && modified.timestamp() <= since.timestamp()
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Some(value) = last_modified {
            response.headers_mut().insert(header::LAST_MODIFIED, value);
        }
        return Ok(response);
    }
    let def = &ctx.org.schema.objects[index];
    let record_types = record_types_of(ctx, &def.name);
    let body = def.describe(
        &ctx.version,
        state.base_url(),
        &ctx.org.schema.children[index],
        &record_types,
        |f| ctx.access.schema.is_visible(def, f),
    );
    let mut response = json_response(StatusCode::OK, &body);
    if let Some(value) = last_modified {
        response.headers_mut().insert(header::LAST_MODIFIED, value);
    }
    Ok(response)
}

/// The org's record types of one object.
fn record_types_of(ctx: &Ctx, object: &str) -> Vec<RecordTypeRow> {
    let Some(rt) = ctx.org.schema.index_of("RecordType") else {
        return Vec::new();
    };
    let def = &ctx.org.schema.objects[rt];
    let field = |name: &str| def.field_index(name);
    let (Some(sobject), Some(name), Some(developer), Some(active)) = (
        field("SobjectType"),
        field("Name"),
        field("DeveloperName"),
        field("IsActive"),
    ) else {
        return Vec::new();
    };
    let text = |r: &super::store::Record, i: usize| {
        r.values
            .get(i)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    ctx.tables
        .table(rt)
        .rows
        .iter()
        .filter(|r| r.deleted_at.is_none())
        .filter(|r| r.values.get(sobject).and_then(Value::as_str) == Some(object))
        .map(|r| RecordTypeRow {
            id: r.id().to_string(),
            name: text(r, name),
            developer_name: text(r, developer),
            active: r.values.get(active) == Some(&Value::Boolean(true)),
        })
        .collect()
}

pub(super) fn parse_body(body: &Bytes) -> Result<Map<String, Json>, Vec<ApiError>> {
    match serde_json::from_slice::<Json>(body) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(vec![ApiError::bad_request(
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of sObject from non-object value",
        )]),
        Err(e) => Err(vec![ApiError::bad_request(
            "JSON_PARSER_ERROR",
            format!(
                "Unexpected character at [line:{}, column:{}]",
                e.line(),
                e.column()
            ),
        )]),
    }
}

fn create(ctx: &Ctx, index: usize, body: &Bytes) -> Outcome {
    let fields = parse_body(body)?;
    let id = ctx.write(|tables| ctx.org.create_in(tables, &ctx.access, index, &fields))?;
    let mut response = json_response(
        StatusCode::CREATED,
        &json!({"id": id, "success": true, "errors": []}),
    );
    let location = format!(
        "/services/data/v{}/sobjects/{}/{id}",
        ctx.version, ctx.org.schema.objects[index].name
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The record behind an id segment: 404 `NOT_FOUND` for a well-formed id that is not there
/// (or not visible), and the external-id wording for a segment that is not an id at all.
fn resolve_id(ctx: &Ctx, index: usize, id: &str) -> Result<(String, u32), Vec<ApiError>> {
    let Some(id) = ids::normalize(id) else {
        return Err(vec![ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {id}"),
        )]);
    };
    let def = &ctx.org.schema.objects[index];
    match ctx.tables.table(index).get(&id) {
        Some((row, record))
            if record.deleted_at.is_none()
                && ctx.org.can_read_in(&ctx.tables, &ctx.access, def, record) =>
        {
            Ok((id, row))
        }
        Some((_, record)) if record.deleted_at.is_some() => Err(vec![ApiError::new(
            StatusCode::NOT_FOUND,
            "ENTITY_IS_DELETED",
            "entity is deleted",
        )]),
        _ => Err(vec![ApiError::not_found()]),
    }
}

fn get_record(ctx: &Ctx, index: usize, id: &str, params: &[(String, String)]) -> Outcome {
    let (_, row) = resolve_id(ctx, index, id)?;
    let def = &ctx.org.schema.objects[index];
    let record = &ctx.tables.table(index).rows[row as usize];
    let fields: Vec<usize> = match param(params, "fields") {
        Some(list) => {
            let mut out = Vec::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                match def
                    .field_index(name)
                    .filter(|&i| ctx.access.schema.is_visible(def, &def.fields[i]))
                {
                    Some(i) => out.push(i),
                    None => {
                        return Err(vec![ApiError::bad_request(
                            "INVALID_FIELD",
                            format!(
                                "\nSELECT {list} FROM {name_obj}\n       ^\nERROR at Row:1:Column:8\nNo such column '{name}' on entity '{name_obj}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                                name_obj = def.name
                            ),
                        )]);
                    }
                }
            }
            out
        }
        None => (0..def.fields.len())
            .filter(|&i| ctx.access.schema.is_visible(def, &def.fields[i]))
            .collect(),
    };
    Ok(json_response(
        StatusCode::OK,
        &record_json(def, record, &ctx.version, fields.into_iter()),
    ))
}

fn update(ctx: &Ctx, index: usize, id: &str, body: &Bytes) -> Outcome {
    let (id, _) = resolve_id(ctx, index, id)?;
    let fields = parse_body(body)?;
    ctx.write(|tables| ctx.org.update_in(tables, &ctx.access, index, &id, &fields))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn delete(ctx: &Ctx, index: usize, id: &str) -> Outcome {
    let (id, _) = resolve_id(ctx, index, id)?;
    ctx.write(|tables| ctx.org.delete_in(tables, &ctx.access, index, &id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `/updated` and `/deleted`: ids changed (or deleted) between `start` and `end`.
fn updated(ctx: &Ctx, object: &str, params: &[(String, String)], deleted: bool) -> Outcome {
    let index = object_index(ctx, object)?;
    let bound = |name: &str| -> Result<DateTime<Utc>, Vec<ApiError>> {
        let text = param(params, name).ok_or_else(|| {
            vec![ApiError::bad_request(
                "MISSING_ARGUMENT",
                format!("{name} was not specified"),
            )]
        })?;
        parse_datetime(text).ok_or_else(|| {
            vec![ApiError::bad_request(
                "INVALID_DATE_FORMAT",
                format!("{name}: invalid date format: {text}"),
            )]
        })
    };
    let start = bound("start")?;
    let end = bound("end")?;
    if end < start {
        return Err(vec![ApiError::bad_request(
            "INVALID_REPLICATION_DATE",
            "startDate must chronologically precede endDate by more than one minute",
        )]);
    }
    let def = &ctx.org.schema.objects[index];
    let table = ctx.tables.table(index);
    // Salesforce covers whole minutes.
    let latest = end
        .with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:00.000+0000")
        .to_string();
    let modstamp = def.field_index("SystemModstamp");
    if deleted {
        let records: Vec<Json> = table
            .rows
            .iter()
            .filter(|r| r.deleted_at.is_some_and(|at| at >= start && at <= end))
            .filter(|r| ctx.org.can_read(&ctx.access, def, r))
            .map(|r| {
                json!({
                    "id": r.id(),
                    "deletedDate": r.deleted_at.as_ref().map(format_datetime),
                })
            })
            .collect();
        let earliest = ctx.org.schema_modified - chrono::Duration::days(30);
        return Ok(json_response(
            StatusCode::OK,
            &json!({
                "deletedRecords": records,
                "earliestDateAvailable": format_datetime(&earliest),
                "latestDateCovered": latest,
            }),
        ));
    }
    let ids: Vec<Json> = table
        .rows
        .iter()
        .filter(|r| r.deleted_at.is_none() && ctx.org.can_read(&ctx.access, def, r))
        .filter(|r| {
            modstamp
                .and_then(|i| r.values.get(i))
                .is_some_and(|v| matches!(v, Value::DateTime(t) if *t >= start && *t <= end))
        })
        .map(|r| Json::String(r.id().to_string()))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"ids": ids, "latestDateCovered": latest}),
    ))
}

/// `/limits`: the Developer Edition set (`simple-salesforce`'s recorded example), with the
/// daily API allocation live.
fn limits(state: &AppState, ctx: &Ctx) -> Json {
    let max = state.settings.daily_api_limit;
    let used = ctx.org.api_used.load(Ordering::SeqCst).min(max);
    let fixed: [(&str, u64); 22] = [
        ("ConcurrentAsyncGetReportInstances", 200),
        ("ConcurrentSyncReportRuns", 20),
        ("DailyAsyncApexExecutions", 250_000),
        ("DailyBulkApiRequests", 5_000),
        ("DailyDurableGenericStreamingApiEvents", 10_000),
        ("DailyDurableStreamingApiEvents", 10_000),
        ("DailyGenericStreamingApiEvents", 10_000),
        ("DailyStreamingApiEvents", 10_000),
        ("DailyWorkflowEmails", 390),
        ("DataStorageMB", 5),
        ("DurableStreamingApiConcurrentClients", 20),
        ("FileStorageMB", 20),
        ("HourlyAsyncReportRuns", 1_200),
        ("HourlyDashboardRefreshes", 200),
        ("HourlyDashboardResults", 5_000),
        ("HourlyDashboardStatuses", 999_999_999),
        ("HourlyODataCallout", 10_000),
        ("HourlySyncReportRuns", 500),
        ("HourlyTimeBasedWorkflow", 50),
        ("MassEmail", 10),
        ("SingleEmail", 15),
        ("StreamingApiConcurrentClients", 20),
    ];
    let mut map = Map::new();
    for (name, max) in fixed {
        map.insert(name.to_string(), json!({"Max": max, "Remaining": max}));
    }
    map.insert(
        "DailyApiRequests".into(),
        json!({"Max": max, "Remaining": max - used}),
    );
    map.sort_keys();
    Json::Object(map)
}

fn record_count(ctx: &Ctx, params: &[(String, String)]) -> Json {
    let wanted: Option<Vec<String>> = param(params, "sObjects").map(|list| {
        list.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let counts: Vec<Json> = ctx
        .org
        .schema
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            wanted
                .as_ref()
                .is_none_or(|w| w.contains(&o.name.to_ascii_lowercase()))
        })
        .map(|(i, o)| {
            let count = ctx
                .tables
                .table(i)
                .rows
                .iter()
                .filter(|r| r.deleted_at.is_none())
                .count();
            json!({"count": count, "name": o.name})
        })
        .filter(|c| wanted.is_some() || c["count"].as_u64().unwrap_or(0) > 0)
        .collect();
    json!({"sObjects": counts})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_labels_follow_the_recorded_ones() {
        assert_eq!(release_label(31), "Summer '14");
        assert_eq!(release_label(32), "Winter '15");
        assert_eq!(release_label(62), "Winter '25");
        assert_eq!(release_label(20), "Winter '11");
    }

    #[test]
    fn versions_are_bounded_by_the_configured_one() {
        assert_eq!(parse_version("v62.0", "62.0").as_deref(), Some("62.0"));
        assert_eq!(parse_version("v48.0", "62.0").as_deref(), Some("48.0"));
        assert_eq!(parse_version("v63.0", "62.0"), None);
        assert_eq!(parse_version("v19.0", "62.0"), None);
        assert_eq!(parse_version("62.0", "62.0"), None);
        assert_eq!(parse_version("vxx.0", "62.0"), None);
    }
}
