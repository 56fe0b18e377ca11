//! `/parameterizedSearch`: text search across objects, answered through the SOQL engine so
//! sharing and field-level security apply exactly as they do to queries. The emulator
//! matches the search text as a case-insensitive substring of each object's name field; real
//! SOSL tokenizes and ranks, which no test here relies on.

use axum::http::StatusCode;
use serde_json::{Value as Json, json};

use super::errors::ApiError;
use super::rest::json_response;
use super::state::{AppState, Ctx};
use crate::soql::like_literal;

type Outcome = Result<axum::response::Response, Vec<ApiError>>;

/// Searched when the request names no `sobject`.
const DEFAULT_OBJECTS: [&str; 5] = ["Account", "Contact", "Lead", "Opportunity", "Case"];
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 2_000;

pub fn parameterized(state: &AppState, ctx: &Ctx, params: &[(String, String)]) -> Outcome {
    let text = params
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim())
        .unwrap_or("");
    // Salesforce refuses search terms shorter than two characters.
    if text.chars().count() < 2 {
        return Err(vec![ApiError::bad_request(
            "INVALID_SEARCH",
            "search term must be longer than one character",
        )]);
    }
    let named: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "sobject")
        .map(|(_, v)| v.as_str())
        .collect();
    let objects: Vec<&str> = if named.is_empty() {
        DEFAULT_OBJECTS.to_vec()
    } else {
        named
    };
    let limit = params
        .iter()
        .find(|(k, _)| k == "overallLimit")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let mut found = Vec::new();
    for object in objects {
        let Some(index) = ctx.org.schema.index_of(object) else {
            return Err(vec![ApiError::bad_request(
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
            )]);
        };
        let def = &ctx.org.schema.objects[index];
        let name_field = if def.field_index("Name").is_some() {
            "Name"
        } else if def.field_index("Subject").is_some() {
            "Subject"
        } else {
            continue;
        };
        let soql = format!(
            "SELECT Id, {name_field} FROM {} WHERE {name_field} LIKE '%{}%' ORDER BY {name_field} LIMIT {}",
            def.name,
            like_literal(text),
            limit - found.len().min(limit - 1)
        );
        let evaluated = super::engine::run(state, ctx, &soql, false, MAX_LIMIT)?;
        for record in evaluated.records {
            if found.len() == limit {
                break;
            }
            if let Ok(value) = serde_json::from_slice::<Json>(&record) {
                found.push(value);
            }
        }
        if found.len() == limit {
            break;
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({ "searchRecords": found }),
    ))
}
