//! Google Admin SDK Directory API: the service-account JWT-bearer token endpoint
//! (`/oauth2/v4/token`, RS256 assertion with `iss`, `sub`, `scope`, `aud`, `iat`, `exp`) and
//! `GET /admin/directory/v1/users?customer=…` with `maxResults` (≤ 500), `pageToken` /
//! `nextPageToken`, and deleted users only under `showDeleted=true`.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::signature;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::{
    CREATED, GoogleStatus, IdpServer, Person, UPDATED, Vendor, accounts_page, decode_offset,
    encode_offset, respond,
};

const MAX_RESULTS: usize = 500;
const DEFAULT_RESULTS: usize = 100;
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const READ_SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.user",
];

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    respond(
        status,
        json!({"error": error, "error_description": description}),
        &[],
    )
}

/// Checks the assertion; `Err` is the response Google gives for it.
fn verify_assertion(server: &IdpServer, assertion: &str) -> Result<(), Box<Response>> {
    let invalid = |d: &str| Box::new(token_error(StatusCode::BAD_REQUEST, "invalid_grant", d));
    let mut parts = assertion.split('.');
    let (Some(head), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("Invalid JWT."));
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok();
    let header: Value = decode(head)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("Invalid JWT."))?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(invalid("Invalid JWT Signature."));
    }
    let claims: Value = decode(payload)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("Invalid JWT."))?;
    let c = server.credentials();
    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    let Some(key) = c.google_key().filter(|_| issuer == c.google_client_email) else {
        return Err(invalid("Invalid grant: account not found"));
    };
    let signature_bytes = decode(sig).ok_or_else(|| invalid("Invalid JWT Signature."))?;
    signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &key.public_key_der)
        .verify(format!("{head}.{payload}").as_bytes(), &signature_bytes)
        .map_err(|_| invalid("Invalid JWT Signature."))?;
    let now = chrono::Utc::now().timestamp();
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now || exp - iat > 3600 || iat > now + 300 {
        return Err(invalid(
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable \
             timeframe. Check your iat and exp values in the JWT claim.",
        ));
    }
    if !claims
        .get("aud")
        .and_then(Value::as_str)
        .is_some_and(|a| a.ends_with("/token"))
    {
        return Err(invalid("Invalid JWT: Failed audience check."));
    }
    let subject = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    if subject != c.google_admin_subject {
        return Err(invalid("Invalid email or User ID"));
    }
    let scopes = claims.get("scope").and_then(Value::as_str).unwrap_or("");
    if !scopes.split(' ').any(|s| READ_SCOPES.contains(&s)) {
        return Err(Box::new(token_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not \
             authorized for any of the scopes requested.",
        )));
    }
    Ok(())
}

pub(super) async fn token(
    State(server): State<Arc<IdpServer>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type: ",
        );
    }
    let assertion = form.get("assertion").map(String::as_str).unwrap_or("");
    if let Err(response) = verify_assertion(&server, assertion) {
        return *response;
    }
    let access_token = server.issue_token(Vendor::Google);
    respond(
        StatusCode::OK,
        json!({"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"}),
        &[],
    )
}

fn api_error(status: StatusCode, message: &str, reason: &str, code_status: &str) -> Response {
    respond(
        status,
        json!({"error": {
            "code": status.as_u16(),
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": code_status,
        }}),
        &[],
    )
}

fn user_json(person: &Person, status: GoogleStatus, customer: &str) -> Value {
    let digest = person.digest(Vendor::Google);
    let id: String = std::iter::once('1')
        .chain(digest.iter().take(20).map(|b| char::from(b'0' + b % 10)))
        .collect();
    let (first, last) = person.names();
    let mut emails = vec![json!({"address": person.email, "primary": true})];
    emails.extend(person.aliases.iter().map(|a| json!({"address": a})));
    let mut user = Map::new();
    for (key, value) in [
        ("kind", json!("admin#directory#user")),
        ("id", json!(id)),
        ("etag", json!(format!("\"{}\"", &id[..12]))),
        ("primaryEmail", json!(person.email)),
        (
            "name",
            json!({"givenName": first, "familyName": last, "fullName": format!("{first} {last}")}),
        ),
        ("isAdmin", json!(false)),
        ("isDelegatedAdmin", json!(false)),
        ("lastLoginTime", json!(UPDATED)),
        ("creationTime", json!(CREATED)),
        ("agreedToTerms", json!(true)),
        ("suspended", json!(status == GoogleStatus::Suspended)),
        ("archived", json!(status == GoogleStatus::Archived)),
        ("changePasswordAtNextLogin", json!(false)),
        ("ipWhitelisted", json!(false)),
        ("emails", json!(emails)),
        ("customerId", json!(customer)),
        ("orgUnitPath", json!("/")),
        ("isMailboxSetup", json!(true)),
        ("isEnrolledIn2Sv", json!(true)),
        ("isEnforcedIn2Sv", json!(false)),
        ("includeInGlobalAddressList", json!(true)),
    ] {
        user.insert(key.to_owned(), value);
    }
    if status == GoogleStatus::Suspended {
        user.insert("suspensionReason".into(), json!("ADMIN"));
    }
    // Google leaves `aliases` out entirely when a user has none.
    if !person.aliases.is_empty() {
        user.insert("aliases".into(), json!(person.aliases));
    }
    if status == GoogleStatus::Deleted {
        user.insert("deletionTime".into(), json!(UPDATED));
    }
    Value::Object(user)
}

pub(super) async fn list_users(
    State(server): State<Arc<IdpServer>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let throttled = server.admit(Vendor::Google);
    if !server.bearer_valid(&headers, Vendor::Google) {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, \
             login cookie or other valid authentication credential.",
            "authError",
            "UNAUTHENTICATED",
        );
    }
    if let Some(retry_after) = throttled {
        let mut response = api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' \
             of service 'admin.googleapis.com'.",
            "rateLimitExceeded",
            "RESOURCE_EXHAUSTED",
        );
        if let Ok(value) = retry_after.to_string().parse() {
            response.headers_mut().insert("retry-after", value);
        }
        return response;
    }
    let c = server.credentials();
    match params.get("customer").map(String::as_str) {
        Some("my_customer") => {}
        Some(customer) if customer == c.google_customer => {}
        Some(_) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "badRequest",
                "INVALID_ARGUMENT",
            );
        }
        None if params.contains_key("domain") => {}
        None => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "badRequest",
                "INVALID_ARGUMENT",
            );
        }
    }
    let max_results = match params.get("maxResults").map(|m| m.parse::<usize>()) {
        None => DEFAULT_RESULTS,
        Some(Ok(m)) if (1..=MAX_RESULTS).contains(&m) => m,
        Some(_) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "Invalid Input: maxResults",
                "invalid",
                "INVALID_ARGUMENT",
            );
        }
    };
    let start = match params.get("pageToken").map(|t| decode_offset(t)) {
        None => 0,
        Some(Some(offset)) => offset,
        Some(None) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "Invalid Input: pageToken",
                "invalid",
                "INVALID_ARGUMENT",
            );
        }
    };
    let show_deleted = params.get("showDeleted").is_some_and(|v| v == "true");
    let (users, total) = accounts_page(
        &server,
        |p| {
            p.google
                .filter(|s| (*s == GoogleStatus::Deleted) == show_deleted)
        },
        start,
        max_results,
    );
    let page: Vec<Value> = users
        .iter()
        .map(|(p, s)| user_json(p, *s, &c.google_customer))
        .collect();
    let end = start + page.len();
    let mut body = Map::new();
    body.insert("kind".into(), json!("admin#directory#users"));
    body.insert("etag".into(), json!("\"emulator\""));
    // An empty result has no `users` key at all.
    if !page.is_empty() {
        body.insert("users".into(), Value::Array(page));
    }
    if end < total {
        body.insert("nextPageToken".into(), json!(encode_offset(end)));
    }
    respond(StatusCode::OK, Value::Object(body), &[])
}
