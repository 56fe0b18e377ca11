//! Microsoft Graph users: the v2.0 client-credentials token endpoint
//! (`/{tenant}/oauth2/v2.0/token`), `GET /v1.0/users` with `$select`, `$top` (≤ 999) and
//! `@odata.nextLink`, and soft-deleted users under `directory/deletedItems`. Without
//! `$select` Graph returns its default property set, which has neither `accountEnabled` nor
//! `proxyAddresses`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{
    EntraStatus, IdpServer, Person, Vendor, accounts_page, decode_offset, encode_offset, guid,
    request_base, respond,
};

const MAX_TOP: usize = 999;
const DEFAULT_TOP: usize = 100;

const DEFAULT_SELECT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

fn token_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    respond(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
            "timestamp": chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string(),
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
        }),
        &[],
    )
}

pub(super) async fn token(
    State(server): State<Arc<IdpServer>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let c = server.credentials();
    if tenant != c.azure_tenant_id {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    if client_id != c.azure_client_id {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory."),
        );
    }
    if form.get("client_secret").map(String::as_str) != Some(c.azure_client_secret.as_str()) {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        );
    }
    let scope = form.get("scope").map(String::as_str).unwrap_or("");
    if !scope.ends_with("/.default") {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
        );
    }
    let access_token = server.issue_token(Vendor::Entra);
    respond(
        StatusCode::OK,
        json!({
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": access_token,
        }),
        &[],
    )
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    respond(
        status,
        json!({"error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": "00000000-0000-0000-0000-000000000000",
                "client-request-id": "00000000-0000-0000-0000-000000000000",
            },
        }}),
        &[],
    )
}

fn user_json(person: &Person, status: EntraStatus) -> Map<String, Value> {
    let (first, last) = person.names();
    // Without a mailbox Exchange holds no addresses for the account.
    let mut proxy = Vec::new();
    if !person.no_mailbox {
        proxy.push(format!("SMTP:{}", person.email));
        proxy.extend(person.aliases.iter().map(|a| format!("smtp:{a}")));
    }
    let mail = if person.no_mailbox {
        Value::Null
    } else {
        json!(person.email)
    };
    let other_mails: Vec<&String> = person
        .personal_email
        .iter()
        .chain(&person.secondary_email)
        .collect();
    let mut user = Map::new();
    for (key, value) in [
        ("id", json!(guid(&person.digest(Vendor::Entra)))),
        ("businessPhones", json!([])),
        ("displayName", json!(format!("{first} {last}"))),
        ("givenName", json!(first)),
        ("surname", json!(last)),
        ("jobTitle", Value::Null),
        ("mail", mail),
        ("mobilePhone", Value::Null),
        ("officeLocation", Value::Null),
        ("preferredLanguage", json!("en-US")),
        // The sign-in name, which differs from `mail` after a rename or in a tenant whose
        // UPN suffix is not the mail domain (`onmicrosoft.com`).
        ("userPrincipalName", json!(person.login_name())),
        ("accountEnabled", json!(status == EntraStatus::Enabled)),
        ("userType", json!("Member")),
        ("otherMails", json!(other_mails)),
        ("proxyAddresses", json!(proxy)),
        ("employeeId", Value::Null),
        ("onPremisesImmutableId", Value::Null),
        ("createdDateTime", json!("2024-03-04T09:15:00Z")),
    ] {
        user.insert(key.to_owned(), value);
    }
    if status == EntraStatus::Deleted {
        user.insert("deletedDateTime".into(), json!("2025-10-01T12:00:00Z"));
    }
    user
}

pub(super) async fn list_users(
    state: State<Arc<IdpServer>>,
    headers: HeaderMap,
    query: Query<HashMap<String, String>>,
) -> Response {
    list(state, headers, query, false).await
}

pub(super) async fn list_deleted(
    state: State<Arc<IdpServer>>,
    headers: HeaderMap,
    query: Query<HashMap<String, String>>,
) -> Response {
    list(state, headers, query, true).await
}

async fn list(
    State(server): State<Arc<IdpServer>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    deleted: bool,
) -> Response {
    let throttled = server.admit(Vendor::Entra);
    if !server.bearer_valid(&headers, Vendor::Entra) {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
        );
    }
    if let Some(retry_after) = throttled {
        let mut response = graph_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests.",
        );
        if let Ok(value) = retry_after.to_string().parse() {
            response.headers_mut().insert("retry-after", value);
        }
        return response;
    }
    let top = match params.get("$top").map(|t| t.parse::<usize>()) {
        None => DEFAULT_TOP,
        Some(Ok(t)) if (1..=MAX_TOP).contains(&t) => t,
        Some(_) => {
            let given = params.get("$top").map(String::as_str).unwrap_or("");
            return graph_error(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                &format!(
                    "Invalid page size specified: '{given}'. Must be between 1 and 999 inclusive."
                ),
            );
        }
    };
    let start = match params.get("$skiptoken").map(|t| decode_offset(t)) {
        None => 0,
        Some(Some(offset)) => offset,
        Some(None) => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "Directory_ExpiredPageToken",
                "The specified page token value has expired and can no longer be included in your request.",
            );
        }
    };
    let selected: Vec<String> = match params.get("$select") {
        Some(list) => list.split(',').map(|s| s.trim().to_owned()).collect(),
        None => DEFAULT_SELECT.iter().map(|s| (*s).to_owned()).collect(),
    };
    let known = user_json(&Person::new("x@example.com"), EntraStatus::Deleted);
    if let Some(unknown) = selected.iter().find(|s| !known.contains_key(s.as_str())) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!(
                "Parsing OData Select and Expand failed: Could not find a property named '{unknown}' on type 'microsoft.graph.user'."
            ),
        );
    }
    let (users, total) = accounts_page(
        &server,
        |p| p.entra.filter(|s| (*s == EntraStatus::Deleted) == deleted),
        start,
        top,
    );
    let page: Vec<Value> = users
        .iter()
        .map(|(person, status)| {
            let full = user_json(person, *status);
            let mut picked: Map<String, Value> = selected
                .iter()
                .filter_map(|k| full.get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            // Graph always returns the id.
            if let Some(id) = full.get("id") {
                picked.entry("id").or_insert_with(|| id.clone());
            }
            Value::Object(picked)
        })
        .collect();
    let base = request_base(&headers);
    let path = if deleted {
        "/v1.0/directory/deletedItems/microsoft.graph.user"
    } else {
        "/v1.0/users"
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "https://graph.microsoft.com/v1.0/$metadata#{}",
            if deleted {
                "directory/deletedItems/microsoft.graph.user"
            } else {
                "users"
            }
        )),
    );
    let end = start + page.len();
    if end < total {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(select) = params.get("$select") {
            query.append_pair("$select", select);
        }
        query.append_pair("$top", &top.to_string());
        query.append_pair("$skiptoken", &encode_offset(end));
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{base}{path}?{}", query.finish())),
        );
    }
    body.insert("value".into(), Value::Array(page));
    respond(StatusCode::OK, Value::Object(body), &[])
}
