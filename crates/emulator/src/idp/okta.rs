//! Okta Users API: `GET /api/v1/users` with `Authorization: SSWS <token>`, `limit` (≤ 200),
//! cursor `after` taken from `Link: <…>; rel="next"`, and `search` / `filter` on `status`.
//! The plain list leaves DEPROVISIONED users out; only a search or filter returns them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::{
    CREATED, IdpServer, OktaStatus, Person, UPDATED, Vendor, accounts_page, decode_offset,
    encode_offset, hex_id, request_base, respond,
};

const MAX_LIMIT: usize = 200;

fn error(status: StatusCode, code: &str, summary: &str) -> Response {
    respond(
        status,
        json!({
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": "oae-emulator",
            "errorCauses": [],
        }),
        &[],
    )
}

fn token_valid(server: &IdpServer, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("SSWS "))
        .is_some_and(|t| t.trim() == server.credentials().okta_api_token)
}

/// `status eq "X"` terms joined by `or`; the only expressions the emulator's index answers.
fn parse_status_expression(expression: &str) -> Option<Vec<String>> {
    expression
        .split(" or ")
        .map(|term| {
            let term = term.trim().trim_start_matches('(').trim_end_matches(')');
            let mut words = term.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some(field), Some(op), Some(value))
                    if field == "status" && op.eq_ignore_ascii_case("eq") =>
                {
                    let value = value.trim();
                    value
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .map(str::to_owned)
                }
                _ => None,
            }
        })
        .collect()
}

fn user_json(base: &str, person: &Person, status: OktaStatus) -> Value {
    let id = format!("00u{}", hex_id(&person.digest(Vendor::Okta), 17));
    let (first, last) = person.names();
    let activated = match status {
        OktaStatus::Staged | OktaStatus::Provisioned => Value::Null,
        _ => json!(CREATED),
    };
    json!({
        "id": id,
        "status": status.as_str(),
        "created": CREATED,
        "activated": activated,
        "statusChanged": UPDATED,
        "lastLogin": null,
        "lastUpdated": UPDATED,
        "passwordChanged": CREATED,
        "type": {"id": "oty1emulator000000001"},
        "profile": {
            "firstName": first,
            "lastName": last,
            "mobilePhone": null,
            "secondEmail": person.secondary_slot(),
            "login": person.login_name(),
            "email": person.email,
        },
        "credentials": {
            "password": {},
            "provider": {"type": "OKTA", "name": "OKTA"},
        },
        "_links": {"self": {"href": format!("{base}/api/v1/users/{id}")}},
    })
}

pub(super) async fn list_users(
    State(server): State<Arc<IdpServer>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let throttled = server.admit(Vendor::Okta);
    if !token_valid(&server, &headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        );
    }
    if let Some(retry_after) = throttled {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        );
        let reset = chrono::Utc::now().timestamp() + retry_after as i64;
        for (name, value) in [
            ("x-rate-limit-limit", "600".to_string()),
            ("x-rate-limit-remaining", "0".to_string()),
            ("x-rate-limit-reset", reset.to_string()),
            ("retry-after", retry_after.to_string()),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        return response;
    }
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => MAX_LIMIT,
        Some(Ok(l)) if l >= 1 => l.min(MAX_LIMIT),
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "E0000001",
                "Api validation failed: limit",
            );
        }
    };
    let expression = params.get("search").or_else(|| params.get("filter"));
    let wanted = match expression {
        Some(e) => match parse_status_expression(e) {
            Some(statuses) => Some(statuses),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "E0000031",
                    "Invalid search criteria.",
                );
            }
        },
        None => None,
    };
    let base = request_base(&headers);
    // Okta's cursor is opaque to clients; an offset token serves the same contract.
    let start = match params.get("after").map(|a| decode_offset(a)) {
        None => 0,
        Some(Some(offset)) => offset,
        Some(None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "E0000001",
                "Api validation failed: after",
            );
        }
    };
    let (users, total) = accounts_page(
        &server,
        |p| {
            p.okta.filter(|status| match &wanted {
                Some(statuses) => statuses.iter().any(|s| s == status.as_str()),
                None => *status != OktaStatus::Deprovisioned,
            })
        },
        start,
        limit,
    );
    let page: Vec<Value> = users
        .iter()
        .map(|(person, status)| user_json(&base, person, *status))
        .collect();
    let end = start + page.len();
    let more = end < total;

    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("limit", &limit.to_string());
    if let Some(search) = params.get("search") {
        query.append_pair("search", search);
    } else if let Some(filter) = params.get("filter") {
        query.append_pair("filter", filter);
    }
    let query = query.finish();
    let mut links = vec![format!("<{base}/api/v1/users?{query}>; rel=\"self\"")];
    if more && !page.is_empty() {
        let after = encode_offset(end);
        links.push(format!(
            "<{base}/api/v1/users?after={after}&{query}>; rel=\"next\""
        ));
    }
    let mut response = respond(StatusCode::OK, Value::Array(page), &[]);
    for link in links {
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().append(header::LINK, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_searches_parse_and_others_are_refused() {
        assert_eq!(
            parse_status_expression("status eq \"DEPROVISIONED\""),
            Some(vec!["DEPROVISIONED".to_string()])
        );
        assert_eq!(
            parse_status_expression("(status eq \"ACTIVE\") or (status eq \"SUSPENDED\")"),
            Some(vec!["ACTIVE".to_string(), "SUSPENDED".to_string()])
        );
        assert_eq!(parse_status_expression("profile.email sw \"a\""), None);
        assert_eq!(parse_status_expression("status eq ACTIVE"), None);
    }
}
