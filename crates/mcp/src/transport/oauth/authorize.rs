//! `GET /authorize`: checks the client's request, then shows the person what they are about
//! to allow, with a link on to Salesforce's own sign-in.
//!
//! Errors that concern the client itself (unknown client, redirect URI not registered) are
//! shown here and never redirected: sending them to an unchecked URI would make sfmcp an
//! open redirector (RFC 6749 §4.1.2.1). Every other error goes back to the client with
//! `state` and `iss` (RFC 9207).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use sfmcp_salesforce::login::Pkce;
use url::Url;

use super::registration::{ClientInfo, client_info};
use super::sealed::{ClientRequest, PendingLogin};
use super::{LOGIN_TTL_SECS, OAuthPlane, READ_SCOPE, WRITE_SCOPE, now, random_id, redirect};

/// The cookie that ties Salesforce's callback to the browser that consented: a login link
/// forwarded to someone else cannot complete in their browser under the sender's request.
pub(crate) fn login_cookie_name(nonce: &str) -> String {
    format!("sfmcp_login_{}", nonce.get(..8).unwrap_or(nonce))
}

pub async fn authorize(
    State(plane): State<Arc<OAuthPlane>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(client_id) = param("client_id") else {
        return error_page(
            "The request names no client_id. Start the connection again from your MCP client.",
        );
    };
    let client = match client_info(&plane, client_id).await {
        Ok(client) => client,
        Err(why) => return error_page(&format!("This client cannot sign in: {why}.")),
    };
    let redirect_uri = match param("redirect_uri") {
        Some(uri) => uri.to_string(),
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return error_page(
                "The request names no redirect_uri, and the client registered several.",
            );
        }
    };
    if !client.accepts_redirect(&redirect_uri) {
        return error_page(
            "The redirect_uri is not one the client registered. sfmcp sends sign-ins only to registered addresses.",
        );
    }
    let state = param("state").map(String::from);
    let refuse = |error: &str, description: &str| {
        error_redirect(&plane, &redirect_uri, error, description, state.as_deref())
    };
    if param("response_type") != Some("code") {
        return refuse(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let Some(challenge) = param("code_challenge") else {
        return refuse(
            "invalid_request",
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        );
    };
    if param("code_challenge_method") != Some("S256") {
        return refuse(
            "invalid_request",
            "code_challenge_method must be S256 (plain is not accepted)",
        );
    }
    let well_formed = (43..=128).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return refuse(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the verifier",
        );
    }
    if let Some(resource) = param("resource")
        && resource != plane.resource
    {
        return refuse(
            "invalid_target",
            &format!("this server is the resource {}", plane.resource),
        );
    }
    let scope = match plane.granted_scopes(param("scope")) {
        Ok(scope) => scope,
        Err(why) => return refuse("invalid_scope", &why),
    };
    let salesforce_pkce = Pkce::generate();
    let browser_nonce = random_id();
    let pending = PendingLogin {
        request: ClientRequest {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            code_challenge: challenge.to_string(),
            scope: scope.clone(),
        },
        salesforce_verifier: salesforce_pkce.verifier.expose().to_string(),
        browser_nonce: browser_nonce.clone(),
        expires_at: now() + LOGIN_TTL_SECS,
    };
    let sealed = plane.keys.seal_login(&pending);
    let salesforce = match plane
        .salesforce
        .authorize_url(&salesforce_pkce.challenge, &sealed)
    {
        Ok(url) => url,
        Err(e) => {
            return refuse(
                "server_error",
                &format!("the Salesforce login URL is misconfigured: {e}"),
            );
        }
    };
    let cancel = error_location(
        &plane,
        &redirect_uri,
        "access_denied",
        "the person declined",
        state.as_deref(),
    );
    let mut response = consent_page(&client, &redirect_uri, &scope, salesforce.as_str(), &cancel);
    let secure = if plane.issuer.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={browser_nonce}; Path={}; Max-Age={LOGIN_TTL_SECS}; HttpOnly; SameSite=Lax{secure}",
        login_cookie_name(&browser_nonce),
        sfmcp_salesforce::login::CALLBACK_PATH,
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The client's redirect URI with an error, `state` and `iss` added.
pub(crate) fn error_location(
    plane: &OAuthPlane,
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> String {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return redirect_uri.to_string();
    };
    {
        let mut pairs = url.query_pairs_mut();
        pairs.append_pair("error", error);
        pairs.append_pair("error_description", description);
        if let Some(state) = state {
            pairs.append_pair("state", state);
        }
        pairs.append_pair("iss", &plane.issuer);
    }
    url.to_string()
}

pub(crate) fn error_redirect(
    plane: &OAuthPlane,
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    redirect(&error_location(
        plane,
        redirect_uri,
        error,
        description,
        state,
    ))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Pages of this plane are never framed (clickjacking), cached, or sent as a referrer.
fn page(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    super::no_store(response)
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#1b1b1b}a.button{display:inline-block;padding:.5em 1.2em;border-radius:6px;text-decoration:none;margin-right:1em}#continue{background:#0b5cab;color:#fff}#cancel{border:1px solid #888;color:#1b1b1b}.note{color:#555;font-size:.9em}";

pub(crate) fn error_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        format!(
            "<!doctype html><html lang=en><meta charset=utf-8><title>sfmcp: cannot sign in</title><style>{STYLE}</style><h1>Cannot sign in</h1><p id=error>{}</p></html>",
            escape(message)
        ),
    )
}

fn consent_page(
    client: &ClientInfo,
    redirect_uri: &str,
    scope: &str,
    continue_to: &str,
    cancel_to: &str,
) -> Response {
    let name = client.name.as_deref().unwrap_or("An MCP client");
    let identity = match &client.metadata_url {
        Some(url) => format!("identified by {}", url.host_str().unwrap_or("")),
        None => "registered itself; its name is not verified".into(),
    };
    let returns_to = Url::parse(redirect_uri)
        .ok()
        .map(|u| match u.host_str() {
            Some(host) => format!("{}://{host}", u.scheme()),
            None => format!("{}:", u.scheme()),
        })
        .unwrap_or_default();
    let mut can = String::new();
    if scope.split_whitespace().any(|s| s == READ_SCOPE) {
        can.push_str("<li>run SOQL queries and searches, read records, describe objects and read the org's API limits (<code>sfmcp.read</code>)</li>");
    }
    if scope.split_whitespace().any(|s| s == WRITE_SCOPE) {
        can.push_str("<li>create and update records (<code>sfmcp.write</code>)</li>");
    }
    page(
        StatusCode::OK,
        format!(
            "<!doctype html><html lang=en><meta charset=utf-8><title>sfmcp: allow access?</title><style>{STYLE}</style>\
<h1>Allow {name} to use Salesforce as you?</h1>\
<p><strong>{name}</strong> ({identity}) asks to use this sfmcp server, which will act in Salesforce <em>as you</em>, seeing and changing only what Salesforce lets you. It will be able to:</p>\
<ul id=scopes>{can}</ul>\
<p>It cannot delete records. Afterwards you return to <strong>{returns_to}</strong>.</p>\
<p class=note>Next, Salesforce asks you to sign in and to allow the connected app. You can revoke access at any time in Salesforce (Settings, Connected Apps OAuth Usage) or from your MCP client.</p>\
<p><a class=button id=continue href=\"{continue_to}\">Continue to Salesforce</a><a class=button id=cancel href=\"{cancel_to}\">Cancel</a></p></html>",
            name = escape(name),
            identity = escape(&identity),
            returns_to = escape(&returns_to),
            continue_to = escape(continue_to),
            cancel_to = escape(cancel_to),
        ),
    )
}
