//! `POST /token`: an authorization code, or a refresh token, becomes a short-lived sfmcp
//! access token and a new refresh token.
//!
//! - Codes: single use; the client, redirect URI and PKCE verifier (S256) must be the ones
//!   of the authorization request, and `resource`, when sent, sfmcp's own. A code presented
//!   twice revokes what its first use issued (RFC 6749 §4.1.2).
//! - Refresh tokens rotate: each use returns a new one, and an old one coming back means a
//!   copy is loose, so the whole family is revoked (OAuth 2.1 §4.3.1). Every refresh also
//!   asks Salesforce whether the person's grant still stands, so a sign-in revoked there
//!   ends here within one access token's lifetime.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sfmcp_salesforce::login::Pkce;
use sfmcp_salesforce::{Secret, SfError};

use super::sealed::{AccessToken, RefreshToken, SalesforceGrant};
use super::store::Rotation;
use super::{
    ACCESS_TOKEN_TTL_SECS, OAuthPlane, REFRESH_TOKEN_TTL_SECS, no_store, now, oauth_error,
    store_unavailable,
};

fn bad(error: &str, description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

/// The form's fields; a field sent twice is refused (RFC 6749 §3.2) with an answer to send.
pub(crate) fn form(body: &Bytes) -> Result<HashMap<String, String>, Box<Response>> {
    let mut fields = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        if fields.insert(name.to_string(), value.to_string()).is_some() {
            return Err(Box::new(bad(
                "invalid_request",
                &format!("{name} was sent more than once"),
            )));
        }
    }
    Ok(fields)
}

pub async fn token(State(plane): State<Arc<OAuthPlane>>, body: Bytes) -> Response {
    let fields = match form(&body) {
        Ok(fields) => fields,
        Err(response) => return *response,
    };
    let field = |name: &str| {
        fields
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    if let Some(resource) = field("resource")
        && resource != plane.resource
    {
        return bad(
            "invalid_target",
            &format!("this server is the resource {}", plane.resource),
        );
    }
    match field("grant_type") {
        Some("authorization_code") => authorization_code(&plane, &field).await,
        Some("refresh_token") => refresh(&plane, &field).await,
        Some(_) => bad(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        ),
        None => bad("invalid_request", "grant_type is missing"),
    }
}

async fn authorization_code<'a>(
    plane: &OAuthPlane,
    field: &impl Fn(&str) -> Option<&'a str>,
) -> Response {
    let Some(code) = field("code").and_then(|c| plane.keys.open_code(c)) else {
        return bad(
            "invalid_grant",
            "the authorization code is not one this server issued",
        );
    };
    let now = now();
    if now >= code.expires_at {
        return bad(
            "invalid_grant",
            "the authorization code expired; sign in again",
        );
    }
    let request = &code.request;
    if field("client_id") != Some(request.client_id.as_str()) {
        return bad(
            "invalid_grant",
            "the authorization code was issued to another client",
        );
    }
    if field("redirect_uri") != Some(request.redirect_uri.as_str()) {
        return bad(
            "invalid_grant",
            "redirect_uri differs from the authorization request's",
        );
    }
    let Some(verifier) = field("code_verifier") else {
        return bad(
            "invalid_grant",
            "code_verifier is missing (PKCE is required)",
        );
    };
    let challenge = Pkce::challenge_for(verifier);
    if !sfmcp_salesforce::crypto::constant_time_eq(
        challenge.as_bytes(),
        request.code_challenge.as_bytes(),
    ) {
        return bad(
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        );
    }
    // The code's id is also the family of what it issues, so a replay can revoke that.
    let redeemed = match plane
        .store
        .redeem_code(&code.id, code.expires_at, now)
        .await
    {
        Ok(redeemed) => redeemed,
        Err(unavailable) => return store_unavailable(&unavailable),
    };
    if !redeemed {
        if let Err(unavailable) = plane
            .store
            .revoke_family(&code.id, now + REFRESH_TOKEN_TTL_SECS, now)
            .await
        {
            return store_unavailable(&unavailable);
        }
        return bad(
            "invalid_grant",
            "the authorization code was already used; the tokens it gave are revoked",
        );
    }
    issue(
        plane,
        &code.id,
        1,
        &request.client_id,
        &request.scope,
        code.grant.clone(),
        now,
    )
}

async fn refresh<'a>(plane: &OAuthPlane, field: &impl Fn(&str) -> Option<&'a str>) -> Response {
    let Some(token) = field("refresh_token").and_then(|t| plane.keys.open_refresh(t)) else {
        return bad(
            "invalid_grant",
            "the refresh token is not one this server issued",
        );
    };
    let now = now();
    if now >= token.expires_at {
        return bad("invalid_grant", "the refresh token expired; sign in again");
    }
    if token.audience != plane.resource {
        return bad("invalid_grant", "the refresh token is for another resource");
    }
    // Public clients name themselves (OAuth 2.1 §3.2.2): a refresh token works only for its
    // own client.
    match field("client_id") {
        None => return bad("invalid_request", "client_id is required"),
        Some(client_id) if client_id != token.client_id => {
            return bad(
                "invalid_grant",
                "the refresh token was issued to another client",
            );
        }
        Some(_) => {}
    }
    let scope = match field("scope") {
        None => token.scope.clone(),
        Some(asked) => {
            let held: Vec<&str> = token.scope.split_whitespace().collect();
            if let Some(extra) = asked.split_whitespace().find(|s| !held.contains(s)) {
                return bad(
                    "invalid_scope",
                    &format!("{extra} was not granted; sign in again to ask for it"),
                );
            }
            asked.split_whitespace().collect::<Vec<_>>().join(" ")
        }
    };
    match plane.store.is_revoked(&token.family).await {
        Ok(false) => {}
        Ok(true) => return bad("invalid_grant", "this sign-in was revoked; sign in again"),
        Err(unavailable) => return store_unavailable(&unavailable),
    }
    let salesforce_token = Secret::new(token.grant.refresh_token.clone());
    let rotated = match plane
        .salesforce
        .check_refresh_token(plane.http(), &salesforce_token)
        .await
    {
        Ok(rotated) => rotated,
        Err(SfError::Auth { error, .. }) if error == "invalid_grant" => {
            if let Err(unavailable) = plane
                .store
                .revoke_family(&token.family, token.expires_at, now)
                .await
            {
                tracing::warn!(error = %unavailable, "recording a sign-in Salesforce revoked failed");
            }
            return bad(
                "invalid_grant",
                "Salesforce no longer honours this sign-in (it was revoked or expired there); sign in again",
            );
        }
        Err(error) => {
            tracing::warn!(error = %error, "checking a Salesforce refresh token failed");
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "Salesforce could not be reached to renew the sign-in; try again shortly",
            );
        }
    };
    match plane
        .store
        .rotate(&token.family, token.generation, token.expires_at, now)
        .await
    {
        Err(unavailable) => return store_unavailable(&unavailable),
        Ok(Rotation::Fresh) => {}
        Ok(Rotation::Revoked) => {
            return bad("invalid_grant", "this sign-in was revoked; sign in again");
        }
        Ok(Rotation::Reused) => {
            tracing::warn!(
                family = %sfmcp_salesforce::crypto::digest_hex(&[&token.family], 6),
                "a refresh token was used twice: its family is revoked"
            );
            // A copy of the token is loose: the Salesforce grant behind it goes too.
            let _ = plane
                .salesforce
                .revoke(plane.http(), &salesforce_token)
                .await;
            return bad(
                "invalid_grant",
                "this refresh token was already used, so every token of this sign-in is now revoked; sign in again",
            );
        }
    }
    let grant = SalesforceGrant {
        refresh_token: rotated.map_or(token.grant.refresh_token.clone(), |t| {
            t.expose().to_string()
        }),
        ..token.grant
    };
    issue(
        plane,
        &token.family,
        token.generation + 1,
        &token.client_id,
        &scope,
        grant,
        now,
    )
}

fn issue(
    plane: &OAuthPlane,
    family: &str,
    generation: u64,
    client_id: &str,
    scope: &str,
    grant: SalesforceGrant,
    now: i64,
) -> Response {
    let access = plane.keys.seal_access(&AccessToken {
        family: family.to_string(),
        client_id: client_id.to_string(),
        scope: scope.to_string(),
        audience: plane.resource.clone(),
        grant: grant.clone(),
        expires_at: now + ACCESS_TOKEN_TTL_SECS,
    });
    let refresh = plane.keys.seal_refresh(&RefreshToken {
        family: family.to_string(),
        generation,
        client_id: client_id.to_string(),
        scope: scope.to_string(),
        audience: plane.resource.clone(),
        grant,
        expires_at: now + REFRESH_TOKEN_TTL_SECS,
    });
    no_store(
        axum::Json(serde_json::json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_TTL_SECS,
            "refresh_token": refresh,
            "scope": scope,
        }))
        .into_response(),
    )
}
