//! OneLogin API v2: `POST /auth/oauth2/v2/token` (client credentials in
//! `Authorization: client_id:…, client_secret:…` or Basic) and `GET /api/2/users` with
//! `limit` (≤ 100) and `cursor` (`after_cursor` also accepted), answering a JSON array with
//! `After-Cursor`, `Total-Count` and `Link` headers. Deleted users are simply gone.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{
    CREATED, IdpServer, OneLoginStatus, Person, UPDATED, Vendor, accounts_page, decode_offset,
    encode_offset, request_base, respond,
};

const MAX_LIMIT: usize = 100;
const DEFAULT_LIMIT: usize = 50;

/// (client id, client secret) from either header form OneLogin accepts.
fn client_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(basic) = value.strip_prefix("Basic ") {
        let decoded = String::from_utf8(STANDARD.decode(basic.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        return Some((id.to_owned(), secret.to_owned()));
    }
    let mut id = None;
    let mut secret = None;
    for part in value.split(',') {
        let (key, val) = part.trim().split_once(':')?;
        match key.trim() {
            "client_id" => id = Some(val.trim().to_owned()),
            "client_secret" => secret = Some(val.trim().to_owned()),
            _ => {}
        }
    }
    Some((id?, secret?))
}

fn status_error(status: StatusCode, kind: &str, message: &str) -> Response {
    respond(
        status,
        json!({"status": {"error": true, "code": status.as_u16(), "type": kind, "message": message}}),
        &[],
    )
}

pub(super) async fn token(
    State(server): State<Arc<IdpServer>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let c = server.credentials();
    let grant_ok = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| {
            b.get("grant_type")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .is_some_and(|g| g == "client_credentials");
    if !grant_ok {
        return status_error(
            StatusCode::BAD_REQUEST,
            "bad request",
            "grant_type must be client_credentials",
        );
    }
    match client_credentials(&headers) {
        Some((id, secret)) if id == c.onelogin_client_id && secret == c.onelogin_client_secret => {}
        _ => {
            return status_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "Authentication Failure",
            );
        }
    }
    let access_token = server.issue_token(Vendor::OneLogin);
    respond(
        StatusCode::OK,
        json!({
            "access_token": access_token,
            "created_at": chrono::Utc::now().to_rfc3339(),
            "expires_in": 36000,
            "refresh_token": "",
            "token_type": "bearer",
            "account_id": 100000,
        }),
        &[],
    )
}

fn user_json(person: &Person, status: OneLoginStatus) -> Value {
    let digest = person.digest(Vendor::OneLogin);
    let id = 10_000_000 + u64::from(u32::from_be_bytes([digest[0], digest[1], digest[2], 0]) >> 8);
    let (first, last) = person.names();
    json!({
        "id": id,
        "email": person.email,
        "username": person.username.as_deref().unwrap_or(person.login_name()),
        "firstname": first,
        "lastname": last,
        "userprincipalname": person.login_name(),
        "external_id": null,
        "status": status.status,
        "state": status.state,
        "created_at": CREATED,
        "updated_at": UPDATED,
        "activated_at": CREATED,
        "last_login": null,
        "directory_id": null,
        "role_ids": [],
    })
}

pub(super) async fn list_users(
    State(server): State<Arc<IdpServer>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let throttled = server.admit(Vendor::OneLogin);
    if !server.bearer_valid(&headers, Vendor::OneLogin) {
        return respond(
            StatusCode::UNAUTHORIZED,
            json!({"statusCode": 401, "name": "Unauthorized", "message": "Authentication Failure"}),
            &[],
        );
    }
    if let Some(retry_after) = throttled {
        return respond(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"statusCode": 429, "name": "TooManyRequests", "message": "Too Many Requests"}),
            &[
                ("retry-after", retry_after.to_string()),
                ("x-ratelimit-limit", "5000".to_string()),
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-reset", retry_after.to_string()),
            ],
        );
    }
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(l)) if l >= 1 => l.min(MAX_LIMIT),
        Some(_) => {
            return respond(
                StatusCode::BAD_REQUEST,
                json!({"statusCode": 400, "name": "BadRequest", "message": "limit must be a positive integer"}),
                &[],
            );
        }
    };
    let cursor = params.get("cursor").or_else(|| params.get("after_cursor"));
    let start = match cursor.map(|c| decode_offset(c)) {
        None => 0,
        Some(Some(offset)) => offset,
        Some(None) => {
            return respond(
                StatusCode::BAD_REQUEST,
                json!({"statusCode": 400, "name": "BadRequest", "message": "Invalid cursor"}),
                &[],
            );
        }
    };
    let (users, total) = accounts_page(&server, |p| p.onelogin, start, limit);
    let page: Vec<Value> = users.iter().map(|(p, s)| user_json(p, *s)).collect();
    let end = start + page.len();
    let base = request_base(&headers);
    let mut extra = vec![
        ("total-count", total.to_string()),
        ("page-items", limit.to_string()),
        ("current-page", (start / limit + 1).to_string()),
        (
            "total-pages",
            users.len().div_ceil(limit).max(1).to_string(),
        ),
    ];
    if start > 0 {
        extra.push(("before-cursor", encode_offset(start.saturating_sub(limit))));
    }
    if end < total {
        let next = encode_offset(end);
        extra.push((
            "link",
            format!("<{base}/api/2/users?limit={limit}&cursor={next}>; rel=\"next\""),
        ));
        extra.push(("after-cursor", next));
    }
    respond(StatusCode::OK, Value::Array(page), &extra)
}
