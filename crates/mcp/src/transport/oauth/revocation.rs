//! `POST /revoke` (RFC 7009): an access or refresh token ends its whole sign-in (every
//! token of its family), and the Salesforce grant behind it is revoked at Salesforce too.
//! The answer is 200 whatever the token was, so the endpoint tells nobody which tokens exist.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sfmcp_salesforce::Secret;

use super::{OAuthPlane, REFRESH_TOKEN_TTL_SECS, no_store, now, oauth_error, store_unavailable};

pub async fn revoke(State(plane): State<Arc<OAuthPlane>>, body: Bytes) -> Response {
    let fields = match super::token::form(&body) {
        Ok(fields) => fields,
        Err(response) => return *response,
    };
    let Some(presented) = fields.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is missing",
        );
    };
    let found = plane
        .keys
        .open_refresh(presented)
        .map(|t| (t.family, t.client_id, t.grant))
        .or_else(|| {
            plane
                .keys
                .open_access(presented)
                .map(|t| (t.family, t.client_id, t.grant))
        });
    if let Some((family, client_id, grant)) = found {
        // A client may revoke only its own tokens (RFC 7009 §2.1).
        let same_client = fields.get("client_id").is_none_or(|id| *id == client_id);
        if same_client {
            let now = now();
            // With the shared store down, the Salesforce grant is still revoked (which ends
            // every use of these tokens at their next call) and the client is told to retry.
            let already = plane.store.is_revoked(&family).await.unwrap_or(false);
            let recorded = plane
                .store
                .revoke_family(&family, now + REFRESH_TOKEN_TTL_SECS, now)
                .await;
            if !already
                && let Err(error) = plane
                    .salesforce
                    .revoke(plane.http(), &Secret::new(grant.refresh_token))
                    .await
            {
                tracing::warn!(error = %error, "revoking a Salesforce grant failed; the sfmcp tokens are revoked");
            }
            if let Err(unavailable) = recorded {
                return store_unavailable(&unavailable);
            }
        }
    }
    no_store(StatusCode::OK.into_response())
}
