//! The control plane under `/__emulator/`: fault injection, the request log, reset, and
//! token expiry on demand. Not part of Salesforce; never logged, never faulted.
//!
//! `POST /__emulator/faults` takes one [`FaultSpec`] and answers `{"id": n}`:
//! ```json
//! {"path_prefix": "/services/data", "path_regex": "/query", "method": "GET",
//!  "probability": 0.5, "count": 3, "latency_ms": 200,
//!  "status": 503, "body": [{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}],
//!  "reset": false, "reset_after": false, "truncate": false}
//! ```
//! Every key is optional. `status` answers without running the handler; `reset` closes the
//! connection without an answer and without running the handler; `reset_after` runs the
//! handler (a create is committed) and then closes without an answer, as when a connection
//! drops on the way back; `truncate` sends the handler's headers and half of its body, then
//! closes. `count` limits how many requests the fault hits (unlimited when absent).
//! `GET /__emulator/faults` lists them, `POST /__emulator/faults/clear` removes them all.
//!
//! `GET /__emulator/requests` lists `{seq, method, path, org, user, status, millis}` for each
//! request (path without query string: no secrets). `POST /__emulator/reset` restores every
//! org's seeded records, API usage, cursors, faults and the log. `POST
//! /__emulator/expire-tokens` expires every access token (refresh tokens still work). `POST
//! /__emulator/revoke-app-access` with `{"username": "...", "client_id": "..."}` does what a
//! person's Revoke under Settings > Connected Apps does: every refresh and access token that
//! user holds for that app (every OAuth app when `client_id` is absent) stops at once, and the
//! next sign-in asks for approval again; it answers `{"revoked": n}` (tokens ended).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json as AxumJson;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::state::AppState;

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    pub path_prefix: Option<String>,
    #[serde(default)]
    pub path_regex: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub probability: Option<f64>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub latency_ms: Option<u64>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub body: Option<Json>,
    #[serde(default)]
    pub reset: bool,
    #[serde(default)]
    pub reset_after: bool,
    #[serde(default)]
    pub truncate: bool,
}

#[derive(Debug)]
struct Fault {
    id: u64,
    spec: FaultSpec,
    regex: Option<regex::Regex>,
    remaining: Option<u64>,
}

/// Who a request ran as, attached by handlers to their response for the log.
#[derive(Debug, Clone)]
pub struct LogInfo {
    pub org: String,
    pub user: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub org: Option<String>,
    pub user: Option<String>,
    pub status: u16,
    pub millis: f64,
}

#[derive(Debug, Default)]
pub struct Control {
    faults: Mutex<Vec<Fault>>,
    next_fault: AtomicU64,
    log: Mutex<Vec<LogEntry>>,
    seq: AtomicU64,
}

/// Log entries kept; the oldest go first.
const MAX_LOG: usize = 100_000;

impl Control {
    pub fn add_fault(&self, spec: FaultSpec) -> Result<u64, String> {
        let regex = match &spec.path_regex {
            Some(pattern) => Some(
                regex::Regex::new(pattern)
                    .map_err(|e| format!("path_regex does not compile: {e}"))?,
            ),
            None => None,
        };
        if let Some(p) = spec.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err("probability must be between 0 and 1".into());
        }
        if let Some(status) = spec.status
            && StatusCode::from_u16(status).is_err()
        {
            return Err(format!("status {status} is not an HTTP status"));
        }
        let id = self.next_fault.fetch_add(1, Ordering::SeqCst) + 1;
        let remaining = spec.count;
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Fault {
                id,
                spec,
                regex,
                remaining,
            });
        Ok(id)
    }

    pub fn clear_faults(&self) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    pub fn list_faults(&self) -> Json {
        let faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        Json::Array(
            faults
                .iter()
                .map(|f| json!({"id": f.id, "spec": f.spec, "remaining": f.remaining}))
                .collect(),
        )
    }

    /// The first fault matching this request that fires (its probability drawn, its count
    /// spent).
    fn pick(&self, method: &str, path: &str) -> Option<FaultSpec> {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        for fault in faults.iter_mut() {
            if fault.remaining == Some(0) {
                continue;
            }
            let spec = &fault.spec;
            if spec
                .method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
                || spec
                    .path_prefix
                    .as_deref()
                    .is_some_and(|p| !path.starts_with(p))
                || fault.regex.as_ref().is_some_and(|r| !r.is_match(path))
            {
                continue;
            }
            if let Some(p) = spec.probability
                && super::state::random_unit() >= p
            {
                continue;
            }
            if let Some(n) = fault.remaining.as_mut() {
                *n -= 1;
            }
            return Some(fault.spec.clone());
        }
        None
    }

    fn record(&self, mut entry: LogEntry) {
        entry.seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() >= MAX_LOG {
            log.drain(..MAX_LOG / 10);
        }
        log.push(entry);
    }

    pub fn requests(&self) -> Vec<LogEntry> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn reset(&self) {
        self.clear_faults();
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// A body that yields `bytes` and then fails, which makes hyper drop the connection: with
/// nothing to send it fails at once, before the headers leave, so the client sees the
/// connection close without an answer; with part of a `Content-Length` body, a truncation.
/// The pause lets the partial body reach the socket before the connection drops.
fn failing_body(bytes: Vec<u8>) -> Body {
    let sent_some = !bytes.is_empty();
    let stream = futures_util::stream::unfold(Some(bytes), move |pending| async move {
        match pending {
            Some(bytes) if !bytes.is_empty() => Some((Ok(bytes), None)),
            Some(_) | None => {
                if sent_some {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let error = std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "fault injected by the emulator control plane",
                );
                Some((Err::<Vec<u8>, _>(error), None))
            }
        }
    });
    Body::from_stream(stream)
}

/// Applies faults and records the request log around every non-control request.
pub async fn middleware(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/__emulator") {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let started = Instant::now();
    let fault = state.control.pick(&method, &path);
    let mut response = match &fault {
        Some(spec) => {
            if let Some(ms) = spec.latency_ms {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if spec.reset {
                no_answer()
            } else if spec.reset_after {
                no_answer_after(next.run(request).await)
            } else if let Some(status) = spec.status {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let body = spec.body.clone().unwrap_or(Json::Null);
                let mut response = match body {
                    Json::String(text) => (status, text).into_response(),
                    Json::Null => status.into_response(),
                    other => (status, AxumJson(other)).into_response(),
                };
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json;charset=UTF-8"),
                );
                response
            } else {
                next.run(request).await
            }
        }
        None => next.run(request).await,
    };
    if fault
        .as_ref()
        .is_some_and(|f| f.truncate && !f.reset && !f.reset_after && f.status.is_none())
    {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        if bytes.is_empty() {
            // Nothing to cut (a 204): the nearest fault is losing the whole answer.
            response = no_answer_after(Response::from_parts(parts, Body::empty()));
        } else {
            let half = bytes[..bytes.len() / 2].to_vec();
            let mut truncated = Response::from_parts(parts, failing_body(half));
            if let Ok(length) = HeaderValue::from_str(&bytes.len().to_string()) {
                truncated
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, length);
            }
            response = truncated;
        }
    }
    let info = response.extensions_mut().remove::<LogInfo>();
    let status = response
        .extensions_mut()
        .remove::<HandledStatus>()
        .map_or(response.status(), |h| h.0);
    state.control.record(LogEntry {
        seq: 0,
        method,
        path,
        org: info.as_ref().map(|i| i.org.clone()),
        user: info.map(|i| i.user),
        status: status.as_u16(),
        millis: started.elapsed().as_secs_f64() * 1000.0,
    });
    response
}

/// What the handler answered, for the request log, when the client was sent nothing.
#[derive(Debug, Clone, Copy)]
struct HandledStatus(StatusCode);

/// A response that closes the connection before anything is sent. Its status must allow a
/// body (not 204 or 304), or hyper would send the head without polling the failing body.
fn no_answer() -> Response {
    let mut response = Response::new(failing_body(Vec::new()));
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("1024"));
    response
}

/// Drops the handler's answer (its effects stay), keeping its status and caller for the log.
fn no_answer_after(handled: Response) -> Response {
    let mut dropped = no_answer();
    dropped
        .extensions_mut()
        .insert(HandledStatus(handled.status()));
    if let Some(info) = handled.extensions().get::<LogInfo>().cloned() {
        dropped.extensions_mut().insert(info);
    }
    dropped
}

pub async fn post_fault(State(state): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                AxumJson(json!({"error": format!("invalid fault spec: {e}")})),
            )
                .into_response();
        }
    };
    match state.control.add_fault(spec) {
        Ok(id) => (StatusCode::CREATED, AxumJson(json!({"id": id}))).into_response(),
        Err(message) => {
            (StatusCode::BAD_REQUEST, AxumJson(json!({"error": message}))).into_response()
        }
    }
}

pub async fn get_faults(State(state): State<Arc<AppState>>) -> Response {
    AxumJson(state.control.list_faults()).into_response()
}

pub async fn clear_faults(State(state): State<Arc<AppState>>) -> Response {
    state.control.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

pub async fn get_requests(State(state): State<Arc<AppState>>) -> Response {
    AxumJson(json!({"requests": state.control.requests()})).into_response()
}

pub async fn post_reset(State(state): State<Arc<AppState>>) -> Response {
    for org in &state.orgs {
        org.reset();
    }
    state.control.reset();
    {
        let mut cursors = state.cursors.lock().unwrap_or_else(|p| p.into_inner());
        cursors.map.clear();
        cursors.order.clear();
    }
    StatusCode::NO_CONTENT.into_response()
}

pub async fn post_expire_tokens(State(state): State<Arc<AppState>>) -> Response {
    let expired = state.expire_access_tokens();
    AxumJson(json!({"expired": expired})).into_response()
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeAppAccess {
    username: String,
    #[serde(default)]
    client_id: Option<String>,
}

pub async fn post_revoke_app_access(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> Response {
    let bad = |message: String| {
        (StatusCode::BAD_REQUEST, AxumJson(json!({"error": message}))).into_response()
    };
    let request: RevokeAppAccess = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return bad(format!(
                "expected {{\"username\": \"...\", \"client_id\": \"...\"}}: {e}"
            ));
        }
    };
    let Some((org, user_id)) = state.orgs.iter().find_map(|org| {
        super::oauth::find_user_by_username(org, &request.username).map(|u| (org.index, u))
    }) else {
        return bad(format!("no user {} in any org", request.username));
    };
    let revoked = state.revoke_app_access(org, &user_id, request.client_id.as_deref());
    AxumJson(json!({"revoked": revoked})).into_response()
}
