//! The composite family: `/composite`, `/composite/batch` and sObject Collections
//! (`/composite/sobjects`). Every subrequest is served by the same dispatcher as a single
//! call, as the same user, so validation, sharing and field-level security apply unchanged;
//! the whole call counts as one API request.
//!
//! - `/composite` runs its subrequests in order inside one transaction: later ones see earlier
//!   writes and may reference their results (`@{ref.id}`, `@{ref.records[0].Id}`). With
//!   `allOrNone` the first failure rolls everything back and every other subrequest reports
//!   `PROCESSING_HALTED`; without it, what succeeded is kept.
//! - `/composite/batch` runs independent subrequests, each committed on its own; with
//!   `haltOnError` the ones after a failure answer 412 `BATCH_PROCESSING_HALTED`.
//! - Collections create, update, upsert and delete up to 200 records and answer one
//!   `{id, success, errors}` per record, errors keyed `statusCode`; `allOrNone` rolls back.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value as Json, json};

use super::errors::ApiError;
use super::ids;
use super::json::record_json;
use super::rest::{self, error_response, json_response, query_params};
use super::state::{AppState, Ctx};
use super::store::Tables;
use super::upsert::{self, UpsertError, Upserted};

type Outcome = Result<Response, Vec<ApiError>>;

pub const MAX_SUBREQUESTS: usize = 25;
pub const MAX_COLLECTION_RECORDS: usize = 200;
pub const MAX_RETRIEVE_IDS: usize = 2_000;

/// `GET /composite`: the composite resources of this version that the emulator serves
/// (Salesforce also lists `graph` and `tree`).
pub fn resources(version: &str) -> Json {
    let mut out = Map::new();
    for name in ["batch", "sobjects"] {
        out.insert(
            name.into(),
            Json::String(format!("/services/data/v{version}/composite/{name}")),
        );
    }
    Json::Object(out)
}

/// One answered subrequest.
struct SubResponse {
    status: StatusCode,
    body: Json,
    headers: Map<String, Json>,
}

impl SubResponse {
    fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Json::Array(vec![ApiError::new(status, code, message).to_json()]),
            headers: Map::new(),
        }
    }

    fn failed(&self) -> bool {
        self.status.as_u16() >= 400
    }
}

fn invalid_input(message: impl Into<String>) -> Vec<ApiError> {
    vec![ApiError::bad_request("JSON_PARSER_ERROR", message)]
}

fn parse_object(body: &Bytes) -> Result<Map<String, Json>, Vec<ApiError>> {
    rest::parse_body(body)
}

/// The bytes of a response this emulator built in memory. Its bodies are complete buffers,
/// so the first poll always finishes; anything else reads as an empty body.
fn body_bytes(response: Response) -> Bytes {
    let future = axum::body::to_bytes(response.into_body(), usize::MAX);
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(Ok(bytes)) => bytes,
        _ => Bytes::new(),
    }
}

/// Headers a subresponse reports in `httpHeaders`.
const REPORTED_HEADERS: [HeaderName; 3] = [header::LOCATION, header::LAST_MODIFIED, header::ETAG];

fn settle(response: Response) -> SubResponse {
    let status = response.status();
    let mut headers = Map::new();
    for name in REPORTED_HEADERS {
        if let Some(value) = response.headers().get(&name).and_then(|v| v.to_str().ok()) {
            let canonical = match name.as_str() {
                "location" => "Location",
                "last-modified" => "Last-Modified",
                _ => "ETag",
            };
            headers.insert(canonical.into(), Json::String(value.to_string()));
        }
    }
    let bytes = body_bytes(response);
    let body = if bytes.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Json::Null)
    };
    SubResponse {
        status,
        body,
        headers,
    }
}

/// The data a subrequest works on: what it reads, and where its writes go (the composite's
/// transaction, or `None` for a write committed on its own).
struct Data {
    tables: Arc<Tables>,
    transaction: Option<Arc<Mutex<Tables>>>,
}

/// Serves one subrequest URL (`/services/data/vXX.X/...`, or `vXX.X/...` in a batch) as
/// the caller.
fn run_subrequest(
    state: &AppState,
    ctx: &Ctx,
    method: &str,
    url: &str,
    body: Option<&Json>,
    headers: &HeaderMap,
    data: Data,
) -> SubResponse {
    let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
        return SubResponse::error(
            StatusCode::BAD_REQUEST,
            "INVALID_API_INPUT",
            format!("Invalid HTTP method: {method}"),
        );
    };
    let relative = url
        .strip_prefix("/services/data/")
        .unwrap_or_else(|| url.trim_start_matches('/'));
    let (path, raw_query) = match relative.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (relative, None),
    };
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some((first, tail)) = segments.split_first() else {
        return settle(error_response(&[ApiError::not_found()]));
    };
    let Some(version) = rest::parse_version(first, &state.settings.api_version) else {
        return settle(error_response(&[ApiError::not_found()]));
    };
    if matches!(tail, ["composite"] | ["composite", "batch" | "tree", ..]) {
        return SubResponse::error(
            StatusCode::BAD_REQUEST,
            "INVALID_API_INPUT",
            format!("The {path} resource cannot be used in a composite subrequest"),
        );
    }
    let sub = Ctx {
        org: Arc::clone(&ctx.org),
        tables: data.tables,
        access: Arc::clone(&ctx.access),
        version,
        transaction: data.transaction,
    };
    let params = query_params(raw_query);
    let body = body
        .filter(|b| !b.is_null())
        .map(|b| Bytes::from(serde_json::to_vec(b).unwrap_or_default()))
        .unwrap_or_default();
    let response = match rest::dispatch(state, &sub, &method, tail, &params, headers, &body) {
        Ok(response) => response,
        Err(errors) => error_response(&errors),
    };
    settle(response)
}

/// Request headers a subrequest asked for in `httpHeaders`.
fn sub_headers(value: Option<&Json>) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in value.and_then(Json::as_object).into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(HeaderValue::from_str),
        ) {
            out.insert(name, value);
        }
    }
    out
}

/// The value at `path` (`id`, `records[0].Id`, `Account.Name`) inside a result body.
fn lookup<'a>(body: &'a Json, path: &str) -> Option<&'a Json> {
    let mut current = body;
    for part in path.split('.') {
        let (name, indexes) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let n: usize = index.strip_suffix(']')?.parse().ok()?;
            current = current.get(n)?;
        }
    }
    Some(current)
}

/// Replaces every `@{ref.path}` in `text` with the value from an earlier result; `quoted`
/// escapes it for the inside of a JSON string. Names the unresolved expression on failure.
fn substitute(
    text: &str,
    results: &HashMap<String, Json>,
    quoted: bool,
) -> Result<String, (String, String)> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let expression = &after[..end];
        let (reference, path) = expression.split_once('.').unwrap_or((expression, ""));
        let value = results
            .get(reference)
            .and_then(|body| {
                if path.is_empty() {
                    Some(body)
                } else {
                    lookup(body, path)
                }
            })
            .and_then(|value| match value {
                Json::String(s) => Some(s.clone()),
                Json::Number(n) => Some(n.to_string()),
                Json::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .ok_or_else(|| (expression.to_string(), reference.to_string()))?;
        if quoted {
            let escaped = serde_json::to_string(&value).unwrap_or_default();
            out.push_str(escaped.trim_matches('"'));
        } else {
            out.push_str(&value);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn valid_reference_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Subrequest {
    method: String,
    url: String,
    reference_id: String,
    body: Option<Json>,
    headers: HeaderMap,
}

fn parse_subrequests(body: &Bytes) -> Result<(bool, Vec<Subrequest>), Vec<ApiError>> {
    let map = parse_object(body)?;
    let all_or_none = map
        .get("allOrNone")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let Some(list) = map.get("compositeRequest").and_then(Json::as_array) else {
        return Err(invalid_input(
            "compositeRequest: required, an array of {method, url, referenceId, body} subrequests",
        ));
    };
    if list.is_empty() {
        return Err(invalid_input(
            "compositeRequest: at least one subrequest is required",
        ));
    }
    if list.len() > MAX_SUBREQUESTS {
        return Err(vec![ApiError::bad_request(
            "INVALID_API_INPUT",
            format!(
                "Composite request contains {} subrequests; the limit is {MAX_SUBREQUESTS}. Split it into several calls.",
                list.len()
            ),
        )]);
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (n, item) in list.iter().enumerate() {
        let field = |name: &str| item.get(name).and_then(Json::as_str).map(str::to_string);
        let (Some(method), Some(url), Some(reference_id)) =
            (field("method"), field("url"), field("referenceId"))
        else {
            return Err(invalid_input(format!(
                "compositeRequest[{n}]: method, url and referenceId are required"
            )));
        };
        if !valid_reference_id(&reference_id) {
            return Err(vec![ApiError::bad_request(
                "INVALID_API_INPUT",
                format!(
                    "Provided referenceId ('{reference_id}') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_')."
                ),
            )]);
        }
        if !seen.insert(reference_id.clone()) {
            return Err(vec![ApiError::bad_request(
                "INVALID_API_INPUT",
                format!("Duplicate referenceId provided in the request: {reference_id}"),
            )]);
        }
        out.push(Subrequest {
            method,
            url,
            reference_id,
            body: item.get("body").cloned(),
            headers: sub_headers(item.get("httpHeaders")),
        });
    }
    Ok((all_or_none, out))
}

const ROLLED_BACK: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

/// `POST /composite`.
pub fn composite(state: &AppState, ctx: &Ctx, body: &Bytes) -> Outcome {
    let (all_or_none, subrequests) = parse_subrequests(body)?;
    let run = |tables: &mut Tables| -> Result<Vec<SubResponse>, Vec<SubResponse>> {
        let working = Arc::new(Mutex::new(tables.clone()));
        let mut results: HashMap<String, Json> = HashMap::new();
        let mut answers: Vec<SubResponse> = Vec::with_capacity(subrequests.len());
        let mut failure: Option<usize> = None;
        for sub in &subrequests {
            if all_or_none && failure.is_some() {
                answers.push(SubResponse::error(
                    StatusCode::BAD_REQUEST,
                    "PROCESSING_HALTED",
                    ROLLED_BACK,
                ));
                continue;
            }
            let resolved = substitute(&sub.url, &results, false).and_then(|url| {
                let body = match &sub.body {
                    Some(b) => {
                        let text = substitute(&b.to_string(), &results, true)?;
                        Some(serde_json::from_str::<Json>(&text).unwrap_or(Json::Null))
                    }
                    None => None,
                };
                Ok((url, body))
            });
            let answer = match resolved {
                Ok((url, body)) => {
                    let snapshot =
                        Arc::new(working.lock().unwrap_or_else(|p| p.into_inner()).clone());
                    run_subrequest(
                        state,
                        ctx,
                        &sub.method,
                        &url,
                        body.as_ref(),
                        &sub.headers,
                        Data {
                            tables: snapshot,
                            transaction: Some(Arc::clone(&working)),
                        },
                    )
                }
                Err((expression, reference)) => SubResponse::error(
                    StatusCode::BAD_REQUEST,
                    "PROCESSING_HALTED",
                    format!(
                        "Invalid reference specified. No value for {expression} found in {reference}. Provided referenceId ('{reference}') must refer to an earlier subrequest that succeeded."
                    ),
                ),
            };
            if answer.failed() {
                failure.get_or_insert(answers.len());
            } else {
                results.insert(sub.reference_id.clone(), answer.body.clone());
            }
            answers.push(answer);
        }
        match failure {
            Some(failed) if all_or_none => {
                for (i, answer) in answers.iter_mut().enumerate() {
                    if i != failed {
                        *answer = SubResponse::error(
                            StatusCode::BAD_REQUEST,
                            "PROCESSING_HALTED",
                            ROLLED_BACK,
                        );
                    }
                }
                Err(answers)
            }
            _ => {
                *tables = working.lock().unwrap_or_else(|p| p.into_inner()).clone();
                Ok(answers)
            }
        }
    };
    let answers = ctx.write(run).unwrap_or_else(|rolled_back| rolled_back);
    let composite_response: Vec<Json> = answers
        .into_iter()
        .zip(&subrequests)
        .map(|(answer, sub)| {
            json!({
                "body": answer.body,
                "httpHeaders": answer.headers,
                "httpStatusCode": answer.status.as_u16(),
                "referenceId": sub.reference_id,
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "compositeResponse": composite_response }),
    ))
}

/// `POST /composite/batch`.
pub fn batch(state: &AppState, ctx: &Ctx, body: &Bytes) -> Outcome {
    let map = parse_object(body)?;
    let halt_on_error = map
        .get("haltOnError")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let Some(list) = map.get("batchRequests").and_then(Json::as_array) else {
        return Err(invalid_input(
            "batchRequests: required, an array of {method, url, richInput} subrequests",
        ));
    };
    if list.is_empty() {
        return Err(invalid_input(
            "batchRequests: at least one subrequest is required",
        ));
    }
    if list.len() > MAX_SUBREQUESTS {
        return Err(vec![ApiError::bad_request(
            "INVALID_BATCH_REQUEST",
            format!(
                "A batch can contain at most {MAX_SUBREQUESTS} subrequests; this one has {}. Split it into several calls.",
                list.len()
            ),
        )]);
    }
    let mut has_errors = false;
    let mut halted = false;
    let mut results = Vec::with_capacity(list.len());
    for (n, item) in list.iter().enumerate() {
        if halted {
            results.push(json!({
                "statusCode": 412,
                "result": [{"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}],
            }));
            continue;
        }
        let field = |name: &str| item.get(name).and_then(Json::as_str);
        let (Some(method), Some(url)) = (field("method"), field("url")) else {
            return Err(invalid_input(format!(
                "batchRequests[{n}]: method and url are required"
            )));
        };
        let answer = run_subrequest(
            state,
            ctx,
            method,
            url,
            item.get("richInput"),
            &sub_headers(item.get("httpHeaders")),
            Data {
                tables: ctx.org.snapshot(),
                transaction: None,
            },
        );
        if answer.failed() {
            has_errors = true;
            halted = halt_on_error;
        }
        results.push(json!({"statusCode": answer.status.as_u16(), "result": answer.body}));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"hasErrors": has_errors, "results": results}),
    ))
}

/// A per-record failure in a collection result.
fn record_errors(errors: &[ApiError]) -> Json {
    Json::Array(
        errors
            .iter()
            .map(|e| {
                // A single call's 404 is SOAP's cross-reference error in a collection.
                if e.code == "NOT_FOUND" {
                    ApiError::bad_request(
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                    )
                    .to_collection_json()
                } else {
                    e.to_collection_json()
                }
            })
            .collect(),
    )
}

fn rolled_back_error() -> Json {
    json!([{
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
        "fields": [],
    }])
}

/// One record's outcome in a collection call.
struct Entry {
    id: Option<String>,
    /// `Ok(Some(created))` for an upsert.
    result: Result<Option<bool>, Json>,
    /// A record that was only being created has no id once rolled back.
    new_record: bool,
}

impl Entry {
    fn to_json(&self, rolled_back: bool) -> Json {
        let mut out = Map::new();
        if let Some(id) = &self.id
            && !(rolled_back && self.new_record)
        {
            out.insert("id".into(), Json::String(id.clone()));
        }
        match &self.result {
            Ok(_) if rolled_back => {
                out.insert("success".into(), Json::Bool(false));
                out.insert("errors".into(), rolled_back_error());
            }
            Ok(created) => {
                out.insert("success".into(), Json::Bool(true));
                out.insert("errors".into(), json!([]));
                if let Some(created) = created {
                    out.insert("created".into(), Json::Bool(*created));
                }
            }
            Err(errors) => {
                out.insert("success".into(), Json::Bool(false));
                out.insert("errors".into(), errors.clone());
            }
        }
        Json::Object(out)
    }
}

/// Runs one write per record inside one transaction; with `all_or_none`, a failure rolls
/// every record back.
fn write_each(
    ctx: &Ctx,
    count: usize,
    all_or_none: bool,
    mut each: impl FnMut(&mut Tables, usize) -> Entry,
) -> Response {
    let outcome = ctx.write(|tables| {
        let entries: Vec<Entry> = (0..count).map(|i| each(tables, i)).collect();
        if all_or_none && entries.iter().any(|e| e.result.is_err()) {
            Err(entries)
        } else {
            Ok(entries)
        }
    });
    let (entries, rolled_back) = match outcome {
        Ok(entries) => (entries, false),
        Err(entries) => (entries, true),
    };
    let body: Vec<Json> = entries.iter().map(|e| e.to_json(rolled_back)).collect();
    json_response(StatusCode::OK, &Json::Array(body))
}

fn collection_records(body: &Bytes) -> Result<(bool, Vec<Json>), Vec<ApiError>> {
    let map = parse_object(body)?;
    let all_or_none = map
        .get("allOrNone")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let Some(records) = map.get("records").and_then(Json::as_array) else {
        return Err(invalid_input("records: required, an array of sObjects"));
    };
    check_count(records.len(), MAX_COLLECTION_RECORDS)?;
    Ok((all_or_none, records.clone()))
}

/// Chunks one create or update processes at most: "If the request body includes objects of
/// more than one type, they are processed as chunks [...] A single request can process up to
/// 10 chunks" (REST API Developer Guide, "Create Records Using sObject Collections"). The
/// message is the platform's ("Cannot have more than 10 chunks in a single operation").
pub const MAX_CHUNKS: usize = 10;

/// Runs of records of one type, in order: `{account1, account2, contact1, account3}` is three.
fn check_chunks(records: &[Json]) -> Result<(), Vec<ApiError>> {
    let types = records.iter().map(|r| {
        r.get("attributes")
            .and_then(|a| a.get("type"))
            .and_then(Json::as_str)
            .map(str::to_ascii_lowercase)
    });
    let mut chunks = 0;
    let mut last: Option<Option<String>> = None;
    for kind in types {
        if last.as_ref() != Some(&kind) {
            chunks += 1;
            last = Some(kind);
        }
    }
    if chunks > MAX_CHUNKS {
        return Err(vec![ApiError::bad_request(
            "EXCEEDED_MAX_TYPES_LIMIT",
            format!(
                "Cannot have more than {MAX_CHUNKS} chunks in a single operation. Please rearrange the data to reduce chunking."
            ),
        )]);
    }
    Ok(())
}

fn check_count(count: usize, max: usize) -> Result<(), Vec<ApiError>> {
    if count > max {
        return Err(vec![ApiError::bad_request(
            "EXCEEDED_ID_LIMIT",
            format!("record limit reached. cannot submit more than {max} records into this call"),
        )]);
    }
    Ok(())
}

/// A collection record's object (from `attributes.type`) and its fields.
fn typed_record(ctx: &Ctx, record: &Json) -> Result<(usize, Map<String, Json>), Json> {
    let Some(fields) = record.as_object() else {
        return Err(record_errors(&[ApiError::bad_request(
            "JSON_PARSER_ERROR",
            "Each record must be a JSON object",
        )]));
    };
    let Some(object) = fields
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Json::as_str)
    else {
        return Err(record_errors(&[ApiError::bad_request(
            "INVALID_TYPE",
            "No SObject Type defined in record: give each record \"attributes\": {\"type\": \"Account\"}",
        )]));
    };
    let Some(index) = ctx.org.schema.index_of(object) else {
        return Err(record_errors(&[ApiError::bad_request(
            "INVALID_TYPE",
            format!("sObject type '{object}' is not supported."),
        )]));
    };
    let mut fields = fields.clone();
    fields.remove("attributes");
    Ok((index, fields))
}

fn create_all(ctx: &Ctx, body: &Bytes) -> Outcome {
    let (all_or_none, records) = collection_records(body)?;
    check_chunks(&records)?;
    Ok(write_each(ctx, records.len(), all_or_none, |tables, i| {
        let result = typed_record(ctx, &records[i]).and_then(|(object, fields)| {
            ctx.org
                .create_in(tables, &ctx.access, object, &fields)
                .map_err(|e| record_errors(&e))
        });
        match result {
            Ok(id) => Entry {
                id: Some(id),
                result: Ok(None),
                new_record: true,
            },
            Err(errors) => Entry {
                id: None,
                result: Err(errors),
                new_record: true,
            },
        }
    }))
}

fn update_all(ctx: &Ctx, body: &Bytes) -> Outcome {
    let (all_or_none, records) = collection_records(body)?;
    check_chunks(&records)?;
    Ok(write_each(ctx, records.len(), all_or_none, |tables, i| {
        let given = records[i]
            .get("Id")
            .and_then(Json::as_str)
            .map(str::to_string);
        let result = typed_record(ctx, &records[i]).and_then(|(object, fields)| {
            let Some(id) = given.as_deref() else {
                return Err(record_errors(&[ApiError::bad_request(
                    "MISSING_ARGUMENT",
                    "Id not specified in an update call",
                )]));
            };
            let Some(id) = ids::normalize(id) else {
                return Err(record_errors(&[ApiError::bad_request(
                    "MALFORMED_ID",
                    format!("malformed id {id}"),
                )]));
            };
            ctx.org
                .update_in(tables, &ctx.access, object, &id, &fields)
                .map(|()| id)
                .map_err(|e| record_errors(&e))
        });
        match result {
            Ok(id) => Entry {
                id: Some(id),
                result: Ok(None),
                new_record: false,
            },
            Err(errors) => Entry {
                id: given,
                result: Err(errors),
                new_record: false,
            },
        }
    }))
}

fn upsert_all(ctx: &Ctx, object: &str, field: &str, body: &Bytes) -> Outcome {
    let index = ctx
        .org
        .schema
        .index_of(object)
        .ok_or_else(|| vec![ApiError::not_found()])?;
    let key = upsert::key_field(ctx, index, field)?;
    // "Only external ids are supported. Don't use record ids." (REST API Developer Guide,
    // "Upsert Records Using sObject Collections"); the single-record upsert takes Id.
    if key == 0 {
        return Err(vec![ApiError::bad_request(
            "INVALID_FIELD",
            format!(
                "Id is not an external id field: upsert {object} records by one of its external id fields, or update them by Id"
            ),
        )]);
    }
    let key_name = ctx.org.schema.objects[index].fields[key].name.clone();
    let key_label = ctx.org.schema.objects[index].fields[key].label.clone();
    let (all_or_none, records) = collection_records(body)?;
    Ok(write_each(ctx, records.len(), all_or_none, |tables, i| {
        let result = typed_record(ctx, &records[i]).and_then(|(record_object, fields)| {
            if record_object != index {
                return Err(record_errors(&[ApiError::bad_request(
                    "INVALID_TYPE",
                    format!("Every record must be a {object} to upsert on {object}.{field}"),
                )]));
            }
            let given = fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&key_name))
                .map(|(_, v)| v);
            let value = match given {
                Some(Json::String(s)) => s.clone(),
                Some(Json::Number(n)) => n.to_string(),
                _ => {
                    return Err(record_errors(&[ApiError::bad_request(
                        "MISSING_ARGUMENT",
                        format!("{key_name} not specified"),
                    )
                    .with_fields(vec![key_name.clone()])]));
                }
            };
            upsert::upsert_in(ctx, tables, index, key, &value, &fields).map_err(|e| match e {
                UpsertError::Api(errors) => record_errors(&errors),
                UpsertError::Multiple(ids) => record_errors(&[ApiError::bad_request(
                    "DUPLICATE_EXTERNAL_ID",
                    // Salesforce names the field by its label here, not its API name.
                    format!(
                        "{key_label}: more than one record found for external id field: [{}]",
                        ids.join(", ")
                    ),
                )
                .with_fields(vec![key_name.clone()])]),
            })
        });
        match result {
            Ok(done) => Entry {
                id: Some(done.id().to_string()),
                new_record: matches!(done, Upserted::Created(_)),
                result: Ok(Some(matches!(done, Upserted::Created(_)))),
            },
            Err(errors) => Entry {
                id: None,
                result: Err(errors),
                new_record: true,
            },
        }
    }))
}

fn id_list(params: &[(String, String)]) -> Vec<String> {
    params
        .iter()
        .filter(|(k, _)| k == "ids")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn delete_all(ctx: &Ctx, params: &[(String, String)]) -> Outcome {
    let ids = id_list(params);
    if ids.is_empty() {
        return Err(vec![ApiError::bad_request(
            "MISSING_ARGUMENT",
            "ids: give the ids to delete, comma-separated",
        )]);
    }
    check_count(ids.len(), MAX_COLLECTION_RECORDS)?;
    let all_or_none = params
        .iter()
        .any(|(k, v)| k == "allOrNone" && v.eq_ignore_ascii_case("true"));
    Ok(write_each(ctx, ids.len(), all_or_none, |tables, i| {
        let given = &ids[i];
        let result = match ids::normalize(given) {
            None => Err(record_errors(&[ApiError::bad_request(
                "MALFORMED_ID",
                format!("malformed id {given}"),
            )])),
            Some(id) => match ctx.org.schema.index_of_id(&id) {
                None => Err(record_errors(&[ApiError::not_found()])),
                Some(object) => ctx
                    .org
                    .delete_in(tables, &ctx.access, object, &id)
                    .map_err(|e| record_errors(&e)),
            },
        };
        Entry {
            id: Some(ids::normalize(given).unwrap_or_else(|| given.clone())),
            result: result.map(|()| None),
            new_record: false,
        }
    }))
}

/// `GET /composite/sobjects/{O}?ids=&fields=` (or the same as a POST body): the records in
/// the order asked, `null` for each id not found.
fn retrieve(ctx: &Ctx, object: &str, ids: Vec<String>, fields: Vec<String>) -> Outcome {
    let index = ctx
        .org
        .schema
        .index_of(object)
        .ok_or_else(|| vec![ApiError::not_found()])?;
    if ids.is_empty() || fields.is_empty() {
        return Err(vec![ApiError::bad_request(
            "MISSING_ARGUMENT",
            "Both ids and fields are required: ?ids=001...,001...&fields=Id,Name",
        )]);
    }
    check_count(ids.len(), MAX_RETRIEVE_IDS)?;
    let def = &ctx.org.schema.objects[index];
    let mut columns = Vec::with_capacity(fields.len());
    for name in &fields {
        let Some(i) = def
            .field_index(name)
            .filter(|&i| ctx.access.schema.is_visible(def, &def.fields[i]))
        else {
            return Err(vec![ApiError::bad_request(
                "INVALID_FIELD",
                format!(
                    "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                    def.name
                ),
            )]);
        };
        columns.push(i);
    }
    let table = ctx.tables.table(index);
    let records: Vec<Json> = ids
        .iter()
        .map(|given| {
            ids::normalize(given)
                .and_then(|id| table.get(&id))
                .filter(|(_, r)| r.deleted_at.is_none() && ctx.org.can_read(&ctx.access, def, r))
                .map_or(Json::Null, |(_, r)| {
                    record_json(def, r, &ctx.version, columns.iter().copied())
                })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Json::Array(records)))
}

fn string_list(value: Option<&Json>) -> Vec<String> {
    value
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect()
}

/// `/composite/sobjects[/{O}[/{Field}]]`; `path` is what follows `sobjects`.
pub fn collections(
    ctx: &Ctx,
    method: &Method,
    path: &[&str],
    params: &[(String, String)],
    body: &Bytes,
) -> Outcome {
    match (path, method.clone()) {
        ([], Method::POST) => create_all(ctx, body),
        ([], Method::PATCH) => update_all(ctx, body),
        ([], Method::DELETE) => delete_all(ctx, params),
        ([object], Method::GET | Method::HEAD) => {
            let fields: Vec<String> = params
                .iter()
                .filter(|(k, _)| k == "fields")
                .flat_map(|(_, v)| v.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            retrieve(ctx, object, id_list(params), fields)
        }
        ([object], Method::POST) => {
            let map = parse_object(body)?;
            retrieve(
                ctx,
                object,
                string_list(map.get("ids")),
                string_list(map.get("fields")),
            )
        }
        ([object, field], Method::PATCH) => upsert_all(ctx, object, field, body),
        ([] | [_] | [_, _], _) => Err(vec![ApiError::method_not_allowed(method.as_str())]),
        _ => Err(vec![ApiError::not_found()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_ids_and_nested_paths() {
        let mut results = HashMap::new();
        results.insert("acct".to_string(), json!({"id": "001000000000001AAA"}));
        results.insert(
            "q".to_string(),
            json!({"records": [{"Id": "003000000000001AAA", "Account": {"Name": "Ac\"me"}}]}),
        );
        assert_eq!(
            substitute("/sobjects/Account/@{acct.id}", &results, false).unwrap(),
            "/sobjects/Account/001000000000001AAA"
        );
        assert_eq!(
            substitute("x @{q.records[0].Id} y", &results, false).unwrap(),
            "x 003000000000001AAA y"
        );
        assert_eq!(
            substitute("\"@{q.records[0].Account.Name}\"", &results, true).unwrap(),
            "\"Ac\\\"me\""
        );
        assert_eq!(
            substitute("@{nope.id}", &results, false).unwrap_err(),
            ("nope.id".to_string(), "nope".to_string())
        );
        assert_eq!(
            substitute("@{q.records[3].Id}", &results, false)
                .unwrap_err()
                .0,
            "q.records[3].Id"
        );
    }

    #[test]
    fn reference_ids_follow_salesforce_rules() {
        assert!(valid_reference_id("NewAccount_1"));
        assert!(valid_reference_id("1st"));
        assert!(!valid_reference_id("_x"));
        assert!(!valid_reference_id("a-b"));
        assert!(!valid_reference_id(""));
    }
}
