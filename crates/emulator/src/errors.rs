//! Salesforce's REST error bodies: a JSON array of `{message, errorCode, fields?}` with the
//! real HTTP status, and OAuth's `{error, error_description}`.

use axum::http::StatusCode;
use serde_json::{Value as Json, json};

/// One REST error. Several travel together as one response body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `fields` is present only for the codes Salesforce sends it with.
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn with_fields(mut self, fields: Vec<String>) -> Self {
        self.fields = Some(fields);
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    pub fn invalid_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }

    pub fn insufficient_access() -> Self {
        Self::bad_request(
            "INSUFFICIENT_ACCESS_OR_READONLY",
            "insufficient access rights on object id",
        )
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are GET,HEAD,PATCH,POST"),
        )
    }

    pub fn to_json(&self) -> Json {
        match &self.fields {
            Some(fields) => {
                json!({"message": self.message, "errorCode": self.code, "fields": fields})
            }
            None => json!({"message": self.message, "errorCode": self.code}),
        }
    }

    /// The error inside an sObject Collections result, keyed `statusCode` (not `errorCode`).
    pub fn to_collection_json(&self) -> Json {
        json!({
            "statusCode": self.code,
            "message": self.message,
            "fields": self.fields.clone().unwrap_or_default(),
        })
    }
}

/// An OAuth endpoint error: `{"error", "error_description"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
        }
    }

    pub fn to_json(&self) -> Json {
        json!({"error": self.error, "error_description": self.description})
    }
}
