//! `GET /oauth/callback`: Salesforce sends the person back here. Their Salesforce code is
//! exchanged (with sfmcp's PKCE verifier) for their Salesforce refresh token, which goes
//! into sfmcp's own authorization code, sealed; the client gets that code at its redirect
//! URI, with its `state` and sfmcp's `iss`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use sfmcp_salesforce::Secret;
use url::Url;

use super::authorize::{error_page, error_redirect, login_cookie_name};
use super::sealed::{AuthorizationCode, SalesforceGrant};
use super::{CODE_TTL_SECS, OAuthPlane, now, random_id, redirect, user_of};

pub async fn callback(
    State(plane): State<Arc<OAuthPlane>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(pending) = params.get("state").and_then(|s| plane.keys.open_login(s)) else {
        return error_page(
            "This sign-in link is not one this server started, or it was altered. Start the connection again from your MCP client.",
        );
    };
    let request = &pending.request;
    let refuse = |error: &str, description: &str| {
        error_redirect(
            &plane,
            &request.redirect_uri,
            error,
            description,
            request.state.as_deref(),
        )
    };
    if now() >= pending.expires_at {
        return refuse("access_denied", "the sign-in took too long; start again");
    }
    let cookie_name = login_cookie_name(&pending.browser_nonce);
    let same_browser = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| {
            name == cookie_name
                && sfmcp_salesforce::crypto::constant_time_eq(
                    value.as_bytes(),
                    pending.browser_nonce.as_bytes(),
                )
        });
    if !same_browser {
        return error_page(
            "This sign-in was started in another browser (or its cookie was blocked). Start the connection again from your MCP client, in this browser.",
        );
    }
    if let Some(error) = params.get("error") {
        // Salesforce's own words are third-party text: only its error code is passed on.
        let error = if error == "access_denied" {
            "access_denied"
        } else {
            "server_error"
        };
        return refuse(error, "Salesforce did not complete the sign-in");
    }
    let Some(code) = params.get("code").filter(|c| !c.is_empty()) else {
        return refuse("server_error", "Salesforce sent no authorization code");
    };
    let verifier = Secret::new(pending.salesforce_verifier.clone());
    let credentials = match plane
        .salesforce
        .exchange_code(plane.http(), code, &verifier)
        .await
    {
        Ok(credentials) => credentials,
        Err(error) => {
            tracing::warn!(error = %error, "exchanging a Salesforce authorization code failed");
            return refuse(
                "server_error",
                "Salesforce did not accept the sign-in; try again, or ask the operator to check the connected app (its callback URL, and that it issues refresh tokens)",
            );
        }
    };
    let grant = SalesforceGrant {
        user: user_of(
            credentials.identity_url.as_deref(),
            credentials.refresh_token.expose(),
        ),
        refresh_token: credentials.refresh_token.expose().to_string(),
        instance_url: credentials.instance_url,
        scope: credentials.scope,
    };
    let code = plane.keys.seal_code(&AuthorizationCode {
        id: random_id(),
        request: request.clone(),
        grant,
        expires_at: now() + CODE_TTL_SECS,
    });
    let Ok(mut location) = Url::parse(&request.redirect_uri) else {
        return error_page("The client's redirect URI cannot be used.");
    };
    {
        let mut pairs = location.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(state) = &request.state {
            pairs.append_pair("state", state);
        }
        pairs.append_pair("iss", &plane.issuer);
    }
    let mut response = redirect(location.as_str());
    // The login is over: its cookie goes.
    if let Ok(value) = axum::http::HeaderValue::from_str(&format!(
        "{cookie_name}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax",
        sfmcp_salesforce::login::CALLBACK_PATH
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
