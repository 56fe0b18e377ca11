//! JumpCloud System Users API v1: `GET /api/systemusers` with `x-api-key`, `limit` (default
//! 10, ≤ 100) and `skip`, answering `{totalCount, results}`. Deleted users are simply gone.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{CREATED, IdpServer, JumpCloudStatus, Person, Vendor, accounts_page, hex_id, respond};

const MAX_LIMIT: usize = 100;
const DEFAULT_LIMIT: usize = 10;

fn user_json(person: &Person, status: JumpCloudStatus) -> Value {
    let id = hex_id(&person.digest(Vendor::JumpCloud), 24);
    let (first, last) = person.names();
    let state = match status {
        JumpCloudStatus::Activated | JumpCloudStatus::Locked => "ACTIVATED",
        JumpCloudStatus::Staged => "STAGED",
        JumpCloudStatus::Suspended => "SUSPENDED",
    };
    let username = person.email.split('@').next().unwrap_or_default();
    json!({
        "_id": id,
        "id": id,
        "username": username,
        "email": person.email,
        "firstname": first,
        "lastname": last,
        "displayname": format!("{first} {last}"),
        "state": state,
        "activated": status != JumpCloudStatus::Staged,
        "suspended": status == JumpCloudStatus::Suspended,
        "account_locked": status == JumpCloudStatus::Locked,
        "password_expired": false,
        // "A secondary email address, such as a non-company email account" (JumpCloud,
        // "Alternate Email for New Users"): null only when the admin left it empty.
        "alternateEmail": person.secondary_slot(),
        "recoveryEmail": person.personal_email.as_ref().map(|a| json!({"address": a, "verified": false})),
        "mfa": {"configured": false, "exclusion": false},
        "created": CREATED,
    })
}

pub(super) async fn list_users(
    State(server): State<Arc<IdpServer>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let throttled = server.admit(Vendor::JumpCloud);
    let key_ok = headers
        .get("x-api-key")
        .and_then(|k| k.to_str().ok())
        .is_some_and(|k| k == server.credentials().jumpcloud_api_key);
    if !key_ok {
        return respond(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Unauthorized"}),
            &[],
        );
    }
    if let Some(retry_after) = throttled {
        return respond(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "Too Many Requests"}),
            &[("retry-after", retry_after.to_string())],
        );
    }
    let bad_request = |message: String| {
        respond(
            StatusCode::BAD_REQUEST,
            json!({ "message": format!("Bad Request: {message}") }),
            &[],
        )
    };
    let parse = |name: &str, default: usize| match params.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| format!("{name} must be a non-negative integer")),
    };
    let limit = match parse("limit", DEFAULT_LIMIT) {
        Ok(l) if (1..=MAX_LIMIT).contains(&l) => l,
        Ok(_) => return bad_request("limit must be between 1 and 100".into()),
        Err(message) => return bad_request(message),
    };
    let skip = match parse("skip", 0) {
        Ok(s) => s,
        Err(message) => return bad_request(message),
    };
    let (users, total) = accounts_page(&server, |p| p.jumpcloud, skip, limit);
    let results: Vec<Value> = users.iter().map(|(p, s)| user_json(p, *s)).collect();
    respond(
        StatusCode::OK,
        json!({"totalCount": total, "results": results}),
        &[],
    )
}
