//! Discovery: where clients learn how to sign in.
//!
//! - RFC 9728 protected-resource metadata, at the root well-known location and at the one
//!   with the resource's path (`/mcp`) appended; clients try either.
//! - RFC 8414 authorization-server metadata (also under OpenID Connect's discovery name,
//!   which some clients probe first).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::OAuthPlane;

pub async fn protected_resource(State(plane): State<Arc<OAuthPlane>>) -> Response {
    axum::Json(json!({
        "resource": plane.resource,
        "authorization_servers": [plane.issuer],
        "scopes_supported": plane.scopes_supported(),
        "bearer_methods_supported": ["header"],
        "resource_name": "sfmcp: Salesforce for AI assistants",
    }))
    .into_response()
}

pub async fn authorization_server(State(plane): State<Arc<OAuthPlane>>) -> Response {
    axum::Json(json!({
        "issuer": plane.issuer,
        "authorization_endpoint": plane.endpoint("/authorize"),
        "token_endpoint": plane.endpoint("/token"),
        "registration_endpoint": plane.endpoint("/register"),
        "revocation_endpoint": plane.endpoint("/revoke"),
        "scopes_supported": plane.scopes_supported(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "client_id_metadata_document_supported": true,
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}
