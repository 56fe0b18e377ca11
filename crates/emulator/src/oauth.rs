//! OAuth 2.0 as Salesforce serves it: `/services/oauth2/token` (authorization code with PKCE,
//! refresh token, client credentials, JWT bearer), `/authorize`, `/userinfo`, `/introspect`,
//! `/revoke`, and the identity URL `/id/{orgId}/{userId}`.
//!
//! Token responses carry `access_token, signature, scope, instance_url, id, token_type,
//! issued_at` (+ `refresh_token` when granted); refresh responses have no `refresh_token` and
//! no `expires_in`, like Salesforce's. Errors are `{"error", "error_description"}`.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::{digest, hmac, signature};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Utc;
use serde_json::{Value as Json, json};

use super::control::LogInfo;
use super::errors::{ApiError, OAuthError};
use super::org::Org;
use super::rest::{error_response, json_response, query_params};
use super::state::{AppState, AuthCode, Session, random_token};
use sfmcp_soql::data::Value;

/// Scopes a token gets when the client asks for none.
pub const DEFAULT_SCOPES: [&str; 5] = ["api", "refresh_token", "id", "web", "openid"];

fn oauth_error(error: OAuthError) -> Response {
    json_response(error.status, &error.to_json())
}

fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// `client_id` / `client_secret` from the form, or from HTTP Basic.
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        && let Some((id, secret)) = basic.split_once(':')
    {
        return (Some(id.to_string()), Some(secret.to_string()));
    }
    (
        form.get("client_id").cloned(),
        form.get("client_secret").cloned(),
    )
}

fn org_for_client<'a>(state: &'a AppState, client_id: &str) -> Option<&'a Arc<Org>> {
    state.orgs.iter().find(|o| o.app.client_id == client_id)
}

fn scopes_from(requested: Option<&String>) -> Vec<String> {
    match requested.map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(list) => {
            let mut scopes: Vec<String> = list.split_whitespace().map(str::to_string).collect();
            // `full` includes every other scope except refresh_token.
            if scopes.iter().any(|s| s == "full") && !scopes.iter().any(|s| s == "api") {
                scopes.push("api".into());
            }
            scopes
        }
        None => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
    }
}

/// The identity URL of a user.
pub fn identity_url(state: &AppState, org: &Org, user_id: &str) -> String {
    format!("{}/id/{}/{}", state.base_url(), org.id, user_id)
}

/// Base64(HMAC-SHA256(client_secret, id + issued_at)), as Salesforce signs token responses.
fn sign(secret: &str, id: &str, issued_at: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, format!("{id}{issued_at}").as_bytes());
    STANDARD.encode(tag.as_ref())
}

/// The token response body, minting an access token (and a refresh token when asked).
fn token_body(
    state: &AppState,
    org: &Arc<Org>,
    user_id: &str,
    scopes: &[String],
    with_refresh: bool,
    under_grant: Option<&str>,
) -> Json {
    let refresh = (with_refresh
        && scopes
            .iter()
            .any(|s| s == "refresh_token" || s == "offline_access"))
    .then(|| state.issue_refresh_token(org.index, user_id, &org.app.client_id, scopes));
    let (access_token, session) = state.issue_access_token_under(
        org.index,
        user_id,
        &org.app.client_id,
        scopes,
        refresh.as_deref().or(under_grant),
    );
    let id = identity_url(state, org, user_id);
    let issued_at = session.issued_at.timestamp_millis().to_string();
    let mut body = serde_json::Map::new();
    body.insert("access_token".into(), json!(access_token));
    if let Some(refresh) = refresh {
        body.insert("refresh_token".into(), json!(refresh));
    }
    body.insert(
        "signature".into(),
        json!(sign(&org.app.client_secret, &id, &issued_at)),
    );
    body.insert("scope".into(), json!(scopes.join(" ")));
    body.insert("instance_url".into(), json!(state.base_url()));
    body.insert("id".into(), json!(id));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("issued_at".into(), json!(issued_at));
    Json::Object(body)
}

fn with_log(mut response: Response, org: &Org, user: &str) -> Response {
    response.extensions_mut().insert(LogInfo {
        org: org.id.clone(),
        user: user.to_string(),
    });
    response
}

pub async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form(&body);
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    let result = match grant {
        "authorization_code" => authorization_code(&state, &headers, &form),
        "refresh_token" => refresh(&state, &headers, &form),
        "client_credentials" => client_credentials_grant(&state, &headers, &form),
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => jwt_bearer(&state, &form),
        "" => Err(OAuthError::new(
            "unsupported_grant_type",
            "grant type not supported",
        )),
        _ => Err(OAuthError::new(
            "unsupported_grant_type",
            "grant type not supported",
        )),
    };
    match result {
        Ok((org, user, body)) => with_log(json_response(StatusCode::OK, &body), &org, &user),
        Err(error) => oauth_error(error),
    }
}

type Granted = Result<(Arc<Org>, String, Json), OAuthError>;

/// Checks the client id and secret; `require_secret` is false only for public PKCE clients.
fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    require_secret: bool,
) -> Result<Arc<Org>, OAuthError> {
    let (client_id, secret) = client_credentials(headers, form);
    let client_id = client_id
        .ok_or_else(|| OAuthError::new("invalid_client_id", "client identifier invalid"))?;
    let org = org_for_client(state, &client_id)
        .ok_or_else(|| OAuthError::new("invalid_client_id", "client identifier invalid"))?;
    match secret {
        Some(secret) if secret != org.app.client_secret => Err(OAuthError::new(
            "invalid_client",
            "invalid client credentials",
        )),
        None if require_secret => Err(OAuthError::new(
            "invalid_client",
            "invalid client credentials",
        )),
        _ => Ok(Arc::clone(org)),
    }
}

fn authorization_code(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Granted {
    let has_verifier = form.contains_key("code_verifier");
    let org = authenticate_client(state, headers, form, !has_verifier)?;
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::new("invalid_grant", "invalid authorization code"))?;
    let grant = state
        .lock_sessions()
        .codes
        .remove(code)
        .ok_or_else(|| OAuthError::new("invalid_grant", "invalid authorization code"))?;
    if grant.client_id != org.app.client_id || grant.expires_at < Utc::now() {
        return Err(OAuthError::new(
            "invalid_grant",
            "invalid authorization code",
        ));
    }
    if form
        .get("redirect_uri")
        .is_some_and(|r| *r != grant.redirect_uri)
    {
        return Err(OAuthError::new(
            "redirect_uri_mismatch",
            "redirect_uri must match configuration",
        ));
    }
    if let Some(challenge) = &grant.code_challenge {
        let verifier = form
            .get("code_verifier")
            .ok_or_else(|| OAuthError::new("invalid_grant", "invalid code verifier"))?;
        let computed =
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref());
        if computed != *challenge {
            return Err(OAuthError::new("invalid_grant", "invalid code verifier"));
        }
    }
    let body = token_body(state, &org, &grant.user_id, &grant.scopes, true, None);
    Ok((org, grant.user_id, body))
}

fn refresh(state: &AppState, headers: &HeaderMap, form: &HashMap<String, String>) -> Granted {
    let org = authenticate_client(state, headers, form, false)?;
    let token = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::new("invalid_grant", "expired access/refresh token"))?;
    let grant = state
        .lock_sessions()
        .refresh
        .get(token)
        .cloned()
        .filter(|g| g.client_id == org.app.client_id)
        .ok_or_else(|| OAuthError::new("invalid_grant", "expired access/refresh token"))?;
    if !user_is_active(&org, &grant.user_id) {
        return Err(OAuthError::new("inactive_user", "user is inactive"));
    }
    let body = token_body(
        state,
        &org,
        &grant.user_id,
        &grant.scopes,
        false,
        Some(token.as_str()),
    );
    Ok((org, grant.user_id, body))
}

pub(super) fn user_is_active(org: &Org, user_id: &str) -> bool {
    let tables = org.snapshot();
    org.schema
        .index_of("User")
        .and_then(|u| {
            let (row, _) = tables.table(u).get(user_id)?;
            tables.value(&org.schema, u, row, "IsActive").cloned()
        })
        .is_some_and(|v| v == Value::Boolean(true))
}

/// Whether `user_id` may log in interactively: active, and not frozen (`UserLogin.IsFrozen`
/// "prevents users from logging in", Salesforce Help "Freeze or Unfreeze User Accounts").
pub(super) fn user_can_log_in(org: &Org, user_id: &str) -> bool {
    if !user_is_active(org, user_id) {
        return false;
    }
    let tables = org.snapshot();
    let Some(logins) = org.schema.index_of("UserLogin") else {
        return true;
    };
    let Some(user_field) = org.schema.objects[logins].field_index("UserId") else {
        return true;
    };
    let table = tables.table(logins);
    !table.referencing(user_field, user_id).iter().any(|&row| {
        tables.value(&org.schema, logins, row, "IsFrozen") == Some(&Value::Boolean(true))
    })
}

fn client_credentials_grant(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Granted {
    let org = authenticate_client(state, headers, form, true)?;
    let user = org.default_user.clone();
    let scopes: Vec<String> = scopes_from(form.get("scope"))
        .into_iter()
        .filter(|s| s != "refresh_token" && s != "offline_access")
        .collect();
    let body = token_body(state, &org, &user, &scopes, false, None);
    Ok((org, user, body))
}

/// Verifies an RS256 JWT bearer assertion against the connected app's key.
fn jwt_bearer(state: &AppState, form: &HashMap<String, String>) -> Granted {
    let invalid = |why: &str| OAuthError::new("invalid_grant", why.to_string());
    let assertion = form
        .get("assertion")
        .ok_or_else(|| invalid("invalid assertion"))?;
    let mut parts = assertion.split('.');
    let (Some(head), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("invalid assertion"));
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok();
    let header: Json = decode(head)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("invalid assertion"))?;
    if header.get("alg").and_then(Json::as_str) != Some("RS256") {
        return Err(invalid("invalid assertion"));
    }
    let claims: Json = decode(payload)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("invalid assertion"))?;
    let signature_bytes = decode(sig).ok_or_else(|| invalid("invalid assertion"))?;
    let issuer = claims.get("iss").and_then(Json::as_str).unwrap_or("");
    let org = org_for_client(state, issuer)
        .cloned()
        .ok_or_else(|| OAuthError::new("invalid_client_id", "client identifier invalid"))?;
    let key = org
        .app
        .jwt_public_key
        .as_ref()
        .ok_or_else(|| invalid("invalid assertion"))?;
    let message = format!("{head}.{payload}");
    signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, key)
        .verify(message.as_bytes(), &signature_bytes)
        .map_err(|_| invalid("invalid assertion"))?;
    let audience_ok = match claims.get("aud") {
        Some(Json::String(a)) => audience_allowed(state, a),
        Some(Json::Array(list)) => list
            .iter()
            .filter_map(Json::as_str)
            .any(|a| audience_allowed(state, a)),
        _ => false,
    };
    if !audience_ok {
        return Err(invalid("audience is invalid"));
    }
    let now = Utc::now().timestamp();
    let expires = claims.get("exp").and_then(Json::as_i64).unwrap_or(0);
    if expires <= now {
        return Err(invalid("expired authorization code"));
    }
    let subject = claims.get("sub").and_then(Json::as_str).unwrap_or("");
    let user = find_user_by_username(&org, subject)
        .ok_or_else(|| invalid("user hasn't approved this consumer"))?;
    if !user_is_active(&org, &user) {
        return Err(OAuthError::new("inactive_user", "user is inactive"));
    }
    let scopes: Vec<String> = DEFAULT_SCOPES
        .iter()
        .filter(|s| **s != "refresh_token")
        .map(|s| s.to_string())
        .collect();
    let body = token_body(state, &org, &user, &scopes, false, None);
    Ok((org, user, body))
}

fn audience_allowed(state: &AppState, audience: &str) -> bool {
    let audience = audience.trim_end_matches('/');
    [
        "https://login.salesforce.com",
        "https://test.salesforce.com",
    ]
    .contains(&audience)
        || audience == state.base_url()
}

pub fn find_user_by_username(org: &Org, username: &str) -> Option<String> {
    let tables = org.snapshot();
    let user_object = org.schema.index_of("User")?;
    let def = &org.schema.objects[user_object];
    let field = def.field_index("Username")?;
    tables
        .table(user_object)
        .rows
        .iter()
        .find(|r| {
            r.values
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|u| u.eq_ignore_ascii_case(username))
        })
        .map(|r| r.id().to_string())
}

/// `GET /services/oauth2/authorize`: checks the request, then either shows the login and
/// approval pages ([`super::signin`], with [`super::signin::SignIn::LoginPage`]) or approves
/// at once as the `login_hint` user or the org's default user. Either way the browser ends up
/// back at the redirect URI with a code (PKCE `S256` challenge kept for the exchange).
pub async fn authorize(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params: HashMap<String, String> = query_params(raw.as_deref()).into_iter().collect();
    let Some(org) = params
        .get("client_id")
        .and_then(|c| org_for_client(&state, c))
        .cloned()
    else {
        return oauth_error(OAuthError::new(
            "invalid_client_id",
            "client identifier invalid",
        ));
    };
    let Some(redirect_uri) = params.get("redirect_uri").cloned() else {
        return oauth_error(OAuthError::new(
            "redirect_uri_mismatch",
            "redirect_uri must match configuration",
        ));
    };
    let registered =
        org.app.callback_urls.is_empty() || org.app.callback_urls.contains(&redirect_uri);
    let location = match url::Url::parse(&redirect_uri) {
        Ok(url) if registered => url,
        _ => {
            return oauth_error(OAuthError::new(
                "redirect_uri_mismatch",
                "redirect_uri must match configuration",
            ));
        }
    };
    let challenge = params.get("code_challenge").cloned();
    let request = AuthorizeRequest {
        org: org.index,
        client_id: org.app.client_id.clone(),
        redirect_uri: location,
        redirect_uri_as_sent: redirect_uri,
        state: params.get("state").cloned(),
        code_challenge: challenge.clone(),
        scopes: scopes_from(params.get("scope")),
    };
    if params.get("response_type").map(String::as_str) != Some("code") {
        return redirect_error(
            request,
            "unsupported_response_type",
            "response type not supported",
        );
    }
    if challenge.is_some()
        && params
            .get("code_challenge_method")
            .is_some_and(|m| m != "S256")
    {
        return redirect_error(
            request,
            "invalid_request",
            "code_challenge_method must be S256",
        );
    }
    match state.settings.sign_in {
        super::signin::SignIn::LoginPage => {
            super::signin::begin(&state, &headers, request, &params)
        }
        super::signin::SignIn::AutoApprove => {
            // No browser to ask: the hinted user when there is one, else the org's default.
            // A hint naming nobody who can log in fails loudly rather than signing in the
            // default user in their place.
            let user = match params.get("login_hint") {
                None => org.default_user.clone(),
                Some(hint) => match find_user_by_username(&org, hint)
                    .filter(|user| user_can_log_in(&org, user))
                {
                    Some(user) => user,
                    None => {
                        return redirect_error(
                            request,
                            "access_denied",
                            "login_hint names no user of this org who can log in (the emulator approves without a login page; start it with --login-page to sign in)",
                        );
                    }
                },
            };
            if admin_approval(&org, &user) == Some(false) {
                return not_admin_approved(request);
            }
            issue_code(&state, request, &user)
        }
    }
}

/// The connected app's Permitted Users policy for `user_id`: `None` when every user may
/// self-authorize (and is asked to approve), `Some(true)` when an admin pre-authorized the
/// user's profile (no approval page), `Some(false)` when the app is admin-approved and the
/// user's profile is not.
pub(super) fn admin_approval(org: &Org, user_id: &str) -> Option<bool> {
    let approved = org.app.admin_approved_profiles.as_ref()?;
    let tables = org.snapshot();
    Some(
        org.access(&tables, user_id)
            .is_some_and(|access| approved.contains(&access.profile_id)),
    )
}

/// Salesforce's answer to a user the app's Permitted Users policy does not admit.
pub(super) fn not_admin_approved(request: AuthorizeRequest) -> Response {
    redirect_error(
        request,
        "OAUTH_APP_ACCESS_DENIED",
        "user is not admin approved to access this app",
    )
}

/// A validated authorization request, waiting for a user.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub org: usize,
    pub client_id: String,
    pub redirect_uri: url::Url,
    /// Exactly as the client sent it: the token request's `redirect_uri` must equal it.
    pub redirect_uri_as_sent: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub scopes: Vec<String>,
}

/// Grants `request` as `user_id`: a one-time code, sent back to the redirect URI with the
/// client's `state`.
pub(super) fn issue_code(state: &AppState, request: AuthorizeRequest, user_id: &str) -> Response {
    let code = format!("aPrx{}", random_token(60).replace(['.', '_'], "x"));
    super::journal::record("authorization code", &code);
    let mut location = request.redirect_uri;
    state.lock_sessions().codes.insert(
        code.clone(),
        AuthCode {
            org: request.org,
            user_id: user_id.to_string(),
            client_id: request.client_id,
            redirect_uri: request.redirect_uri_as_sent,
            code_challenge: request.code_challenge,
            scopes: request.scopes,
            expires_at: Utc::now() + chrono::Duration::minutes(15),
        },
    );
    {
        let mut pairs = location.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(s) = &request.state {
            pairs.append_pair("state", s);
        }
    }
    match state.org(request.org) {
        Some(org) => with_log(redirect(location.as_str()), org, user_id),
        None => redirect(location.as_str()),
    }
}

/// Sends the browser back to the client with an OAuth error (RFC 6749 section 4.1.2.1).
pub(super) fn redirect_error(
    request: AuthorizeRequest,
    error: &str,
    description: &str,
) -> Response {
    let mut location = request.redirect_uri;
    {
        let mut pairs = location.query_pairs_mut();
        pairs.append_pair("error", error);
        pairs.append_pair("error_description", description);
        if let Some(s) = &request.state {
            pairs.append_pair("state", s);
        }
    }
    redirect(location.as_str())
}

pub(super) fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn bearer_session(
    state: &AppState,
    headers: &HeaderMap,
    raw_query: Option<&str>,
) -> Option<Session> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("OAuth "))
        })
        .map(|t| t.trim().to_string());
    let token = from_header.or_else(|| {
        query_params(raw_query)
            .into_iter()
            .find(|(k, _)| k == "oauth_token" || k == "access_token")
            .map(|(_, v)| v)
    })?;
    state.session_for(&token)
}

/// The user's identity fields, shared by `/userinfo` and the identity URL.
pub(super) fn user_fields(org: &Org, user_id: &str) -> Option<HashMap<&'static str, Value>> {
    let tables = org.snapshot();
    let user_object = org.schema.index_of("User")?;
    let (row, _) = tables.table(user_object).get(user_id)?;
    let mut out = HashMap::new();
    for field in [
        "Username",
        "Email",
        "FirstName",
        "LastName",
        "Name",
        "TimeZoneSidKey",
        "LocaleSidKey",
        "LanguageLocaleKey",
        "IsActive",
        "UserType",
        "LastModifiedDate",
        "MobilePhone",
        "CommunityNickname",
        "Street",
        "City",
        "State",
        "Country",
        "PostalCode",
    ] {
        out.insert(
            field,
            tables
                .value(&org.schema, user_object, row, field)
                .cloned()
                .unwrap_or(Value::Null),
        );
    }
    Some(out)
}

/// `Organization.IsSandbox` of `org`.
pub(super) fn org_is_sandbox(org: &Org) -> bool {
    let tables = org.snapshot();
    org.schema.index_of("Organization").and_then(|object| {
        let (row, _) = tables.table(object).get(&org.id)?;
        tables.value(&org.schema, object, row, "IsSandbox").cloned()
    }) == Some(Value::Boolean(true))
}

fn text_of(fields: &HashMap<&'static str, Value>, name: &str) -> Json {
    super::json::value_to_json(fields.get(name).unwrap_or(&Value::Null))
}

fn urls(state: &AppState, org: &Org, user_id: &str) -> Json {
    let base = state.base_url();
    let org15: String = org.id.chars().take(15).collect();
    json!({
        "enterprise": format!("{base}/services/Soap/c/{{version}}/{org15}"),
        "metadata": format!("{base}/services/Soap/m/{{version}}/{org15}"),
        "partner": format!("{base}/services/Soap/u/{{version}}/{org15}"),
        "rest": format!("{base}/services/data/v{{version}}/"),
        "sobjects": format!("{base}/services/data/v{{version}}/sobjects/"),
        "search": format!("{base}/services/data/v{{version}}/search/"),
        "query": format!("{base}/services/data/v{{version}}/query/"),
        "recent": format!("{base}/services/data/v{{version}}/recent/"),
        "tooling_soap": format!("{base}/services/Soap/T/{{version}}/{org15}"),
        "tooling_rest": format!("{base}/services/data/v{{version}}/tooling/"),
        "profile": format!("{base}/{user_id}"),
        "feeds": format!("{base}/services/data/v{{version}}/chatter/feeds"),
        "groups": format!("{base}/services/data/v{{version}}/chatter/groups"),
        "users": format!("{base}/services/data/v{{version}}/chatter/users"),
        "feed_items": format!("{base}/services/data/v{{version}}/chatter/feed-items"),
        "feed_elements": format!("{base}/services/data/v{{version}}/chatter/feed-elements"),
        "custom_domain": base,
    })
}

pub async fn userinfo(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(session) = bearer_session(&state, &headers, raw.as_deref())
        .filter(|session| opens_identity(&session.scopes))
    else {
        return unauthorized_identity();
    };
    let Some(org) = state.org(session.org).cloned() else {
        return unauthorized_identity();
    };
    let Some(fields) = user_fields(&org, &session.user_id) else {
        return unauthorized_identity();
    };
    let id = identity_url(&state, &org, &session.user_id);
    let body = json!({
        "sub": id,
        "user_id": session.user_id,
        "organization_id": org.id,
        "preferred_username": text_of(&fields, "Username"),
        "nickname": text_of(&fields, "CommunityNickname"),
        "name": text_of(&fields, "Name"),
        "email": text_of(&fields, "Email"),
        "email_verified": true,
        "given_name": text_of(&fields, "FirstName"),
        "family_name": text_of(&fields, "LastName"),
        "zoneinfo": text_of(&fields, "TimeZoneSidKey"),
        "photos": {
            "picture": format!("{}/profilephoto/005/F", state.base_url()),
            "thumbnail": format!("{}/profilephoto/005/T", state.base_url()),
        },
        "profile": format!("{}/{}", state.base_url(), session.user_id),
        "picture": format!("{}/profilephoto/005/F", state.base_url()),
        "address": {},
        "urls": urls(&state, &org, &session.user_id),
        "active": fields.get("IsActive") == Some(&Value::Boolean(true)),
        "user_type": "STANDARD",
        "language": text_of(&fields, "LanguageLocaleKey"),
        "locale": text_of(&fields, "LocaleSidKey"),
        "utcOffset": -28_800_000,
        "updated_at": text_of(&fields, "LastModifiedDate"),
    });
    with_log(json_response(StatusCode::OK, &body), &org, &session.user_id)
}

/// The identity URL and userinfo need an identity scope: `id` (`profile`, `email`,
/// `address` and `phone` are its synonyms), `openid`, or `full`, which covers them [doc:
/// https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_tokens_scopes.htm;
/// notes/salesforce-api.md 2.3]. What Salesforce answers a token without one is not recorded;
/// the emulator answers as it does for a token it rejects.
fn opens_identity(scopes: &[String]) -> bool {
    scopes.iter().any(|s| {
        matches!(
            s.as_str(),
            "id" | "openid" | "profile" | "email" | "address" | "phone" | "full"
        )
    })
}

fn unauthorized_identity() -> Response {
    let mut response = (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    response
}

pub async fn identity(
    State(state): State<Arc<AppState>>,
    Path((org_id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(session) = bearer_session(&state, &headers, raw.as_deref())
        .filter(|session| opens_identity(&session.scopes))
    else {
        return unauthorized_identity();
    };
    let Some(org) = state.org(session.org).cloned() else {
        return unauthorized_identity();
    };
    let org_matches = super::ids::normalize(&org_id).is_some_and(|id| id == org.id);
    let Some(user_id) = super::ids::normalize(&user_id).filter(|_| org_matches) else {
        return error_response(&[ApiError::not_found()]);
    };
    let Some(fields) = user_fields(&org, &user_id) else {
        return error_response(&[ApiError::not_found()]);
    };
    let id = identity_url(&state, &org, &user_id);
    let body = json!({
        "id": id,
        "asserted_user": user_id == session.user_id,
        "user_id": user_id,
        "organization_id": org.id,
        "username": text_of(&fields, "Username"),
        "nick_name": text_of(&fields, "CommunityNickname"),
        "display_name": text_of(&fields, "Name"),
        "email": text_of(&fields, "Email"),
        "email_verified": true,
        "first_name": text_of(&fields, "FirstName"),
        "last_name": text_of(&fields, "LastName"),
        "timezone": text_of(&fields, "TimeZoneSidKey"),
        "photos": {
            "picture": format!("{}/profilephoto/005/F", state.base_url()),
            "thumbnail": format!("{}/profilephoto/005/T", state.base_url()),
        },
        "addr_street": text_of(&fields, "Street"),
        "addr_city": text_of(&fields, "City"),
        "addr_state": text_of(&fields, "State"),
        "addr_country": text_of(&fields, "Country"),
        "addr_zip": text_of(&fields, "PostalCode"),
        "mobile_phone": text_of(&fields, "MobilePhone"),
        "mobile_phone_verified": false,
        "is_lightning_login_user": false,
        "status": {"created_date": null, "body": null},
        "urls": urls(&state, &org, &user_id),
        "active": fields.get("IsActive") == Some(&Value::Boolean(true)),
        "user_type": "STANDARD",
        "language": text_of(&fields, "LanguageLocaleKey"),
        "locale": text_of(&fields, "LocaleSidKey"),
        "utcOffset": -28_800_000,
        "last_modified_date": text_of(&fields, "LastModifiedDate"),
        "is_app_installed": true,
    });
    with_log(json_response(StatusCode::OK, &body), &org, &session.user_id)
}

pub async fn introspect(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form(&body);
    let org = match authenticate_client(&state, &headers, &form, true) {
        Ok(org) => org,
        Err(error) => return oauth_error(error),
    };
    let Some(token) = form.get("token") else {
        return json_response(StatusCode::OK, &json!({"active": false}));
    };
    let sessions = state.lock_sessions();
    let body = if let Some(session) = sessions
        .access
        .get(token)
        .filter(|s| s.org == org.index && s.expires_at > Utc::now())
    {
        json!({
            "active": true,
            "scope": session.scopes.join(" "),
            "client_id": session.client_id,
            "username": username_of(&org, &session.user_id),
            "sub": identity_url(&state, &org, &session.user_id),
            "token_type": "access_token",
            "exp": session.expires_at.timestamp(),
            "iat": session.issued_at.timestamp(),
            "nbf": session.issued_at.timestamp(),
        })
    } else if let Some(grant) = sessions.refresh.get(token).filter(|g| g.org == org.index) {
        json!({
            "active": true,
            "scope": grant.scopes.join(" "),
            "client_id": grant.client_id,
            "username": username_of(&org, &grant.user_id),
            "sub": identity_url(&state, &org, &grant.user_id),
            "token_type": "refresh_token",
        })
    } else {
        json!({"active": false})
    };
    json_response(StatusCode::OK, &body)
}

fn username_of(org: &Org, user_id: &str) -> Json {
    user_fields(org, user_id).map_or(Json::Null, |f| text_of(&f, "Username"))
}

/// `POST /services/oauth2/revoke` (form `token=`) or `GET ?token=`. Revoking a refresh token
/// also revokes the access tokens minted under it ("Salesforce revokes it and any associated
/// access tokens"), and, once the user holds no other refresh token of that app, their
/// approval: the next sign-in asks again.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    let mut params = form(&body);
    for (k, v) in query_params(raw.as_deref()) {
        params.entry(k).or_insert(v);
    }
    let Some(token) = params.get("token") else {
        return oauth_error(OAuthError::new(
            "unsupported_token_type",
            "this token type is not supported",
        ));
    };
    let mut sessions = state.lock_sessions();
    if sessions.access.remove(token).is_some() {
        return StatusCode::OK.into_response();
    }
    if let Some(grant) = sessions.refresh.remove(token) {
        sessions
            .access
            .retain(|_, s| s.grant.as_deref() != Some(token.as_str()));
        let still_connected = sessions.refresh.values().any(|g| {
            g.org == grant.org && g.user_id == grant.user_id && g.client_id == grant.client_id
        });
        if !still_connected {
            sessions
                .browser
                .forget_approval(grant.org, &grant.user_id, &grant.client_id);
        }
        return StatusCode::OK.into_response();
    }
    oauth_error(OAuthError::new("invalid_token", "invalid token"))
}

/// Reads a PEM public key or certificate into DER that [`signature::UnparsedPublicKey`]
/// accepts: `RSA PUBLIC KEY` (PKCS#1) and `PUBLIC KEY` (SPKI) as they are, `CERTIFICATE` by
/// taking its SubjectPublicKeyInfo.
pub fn public_key_from_pem(pem: &str) -> Result<Vec<u8>, String> {
    let label = pem
        .lines()
        .find_map(|l| l.trim().strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
        .ok_or("no PEM block found: expected -----BEGIN CERTIFICATE----- or PUBLIC KEY")?
        .to_string();
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = STANDARD
        .decode(body)
        .map_err(|e| format!("PEM body is not base64: {e}"))?;
    match label.as_str() {
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Ok(der),
        "CERTIFICATE" => {
            certificate_spki(&der).ok_or_else(|| "certificate is not valid DER X.509".to_string())
        }
        other => Err(format!(
            "unsupported PEM block {other}: give a CERTIFICATE or PUBLIC KEY"
        )),
    }
}

/// One DER element at `data[0..]`: (tag, header length, content length).
fn der_element(data: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *data.first()?;
    let first = *data.get(1)? as usize;
    if first < 0x80 {
        return Some((tag, 2, first));
    }
    let count = first & 0x7f;
    if count == 0 || count > 4 {
        return None;
    }
    let mut length = 0usize;
    for i in 0..count {
        length = (length << 8) | *data.get(2 + i)? as usize;
    }
    Some((tag, 2 + count, length))
}

/// The SubjectPublicKeyInfo of an X.509 certificate: Certificate → tbsCertificate → the
/// seventh element (after an optional `[0]` version).
fn certificate_spki(der: &[u8]) -> Option<Vec<u8>> {
    let (_, header, _) = der_element(der)?;
    let tbs = der.get(header..)?;
    let (_, tbs_header, tbs_len) = der_element(tbs)?;
    let mut rest = tbs.get(tbs_header..tbs_header + tbs_len)?;
    let mut index = 0;
    if rest.first() == Some(&0xa0) {
        let (_, h, l) = der_element(rest)?;
        rest = rest.get(h + l..)?;
    }
    // serial, signature, issuer, validity, subject, then the key.
    loop {
        let (_, h, l) = der_element(rest)?;
        if index == 5 {
            return rest.get(..h + l).map(<[u8]>::to_vec);
        }
        rest = rest.get(h + l..)?;
        index += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_id_and_issued_at() {
        // HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog"), base64.
        assert_eq!(
            sign("key", "The quick brown fox ", "jumps over the lazy dog"),
            "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
        );
    }

    #[test]
    fn pem_without_a_block_is_rejected_with_a_hint() {
        let error = public_key_from_pem("not a key").unwrap_err();
        assert!(error.contains("BEGIN CERTIFICATE"), "{error}");
    }

    /// A self-signed certificate and its public key, made with `openssl req -x509 -newkey
    /// rsa:2048` and `openssl x509 -pubkey`.
    const CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----\nMIIDHTCCAgWgAwIBAgIUEOwcuOnniXvvv1bEnbem52vjnm4wDQYJKoZIhvcNAQEL\nBQAwHjEcMBoGA1UEAwwTc2ZtY3AtZW11bGF0b3ItdGVzdDAeFw0yNjExMjIxNTA3\nMTZaFw0zNjExMTkxNTA3MTZaMB4xHDAaBgNVBAMME3NmbWNwLWVtdWxhdG9yLXRl\nc3QwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQD5EskkOh/n5verCwop\nFuziblEp1Hx5miMw3Fy5ilLjBcn2yMjJzDa2vldgPJ0Hu9RENd8nsWH138RDbXRZ\n7wGAJv2VuYMl5xkiX/MEltthYblV0m5DeRf/88nK+Wq5vE4tWyhxatE02Y6hKoq5\nQpQMmNiQcIr3DvELwufY7RneeKLhuIAgv/ttZvOsUdyBUphvhJJiRAXIQSjMAgR9\nOPbr1FSQ1YZX5uB2twxIFWui1D+NpoWQQyLc/OfE4KhpdKpWEHUsZuatm40lQCOL\n5r+ryFBLSi06frY37SQ54UKosMiJFR9MW+ycAtqsuAwDj1ACN7BIpbxYwVunOpCV\ncgE1AgMBAAGjUzBRMB0GA1UdDgQWBBQ8AGuDALkUKoikhDsPm5r3wMZq7jAfBgNV\nHSMEGDAWgBQ8AGuDALkUKoikhDsPm5r3wMZq7jAPBgNVHRMBAf8EBTADAQH/MA0G\nCSqGSIb3DQEBCwUAA4IBAQBS/95dq611zFDFZzl/XfuUvIUXNkmdFhDFmnw1kAuI\nDjwhoM7mW0B7fGPRI6QQongZcUfEqro2a5Ulrvjsoohp4D1IDS7VP8OX2ZnmB8ef\nA/TXdHxphU7ogQRC/WWrv3dX+OxURK7WAXxAKIiSQymBCMbEWDRPHVkCJrdUVJBV\na6oIGRj8rtNsZ+NKKGys2x91CQy+FXBUc8QA3UqYQCRo6hRlWopgJBJD6nBT9apb\n4TSZzeNyo7pDZ30XiGfHVj9OL2GUKDUuFQIB/XIq9bVIkwcgLboYKNqSy4LEQ1Wi\n99cRXRx5A2o1w/NcRDuRIkOZei4yC0XZdrTmXkUoGhC4\n-----END CERTIFICATE-----";
    const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA+RLJJDof5+b3qwsKKRbs\n4m5RKdR8eZojMNxcuYpS4wXJ9sjIycw2tr5XYDydB7vURDXfJ7Fh9d/EQ210We8B\ngCb9lbmDJecZIl/zBJbbYWG5VdJuQ3kX//PJyvlqubxOLVsocWrRNNmOoSqKuUKU\nDJjYkHCK9w7xC8Ln2O0Z3nii4biAIL/7bWbzrFHcgVKYb4SSYkQFyEEozAIEfTj2\n69RUkNWGV+bgdrcMSBVrotQ/jaaFkEMi3PznxOCoaXSqVhB1LGbmrZuNJUAji+a/\nq8hQS0otOn62N+0kOeFCqLDIiRUfTFvsnALarLgMA49QAjewSKW8WMFbpzqQlXIB\nNQIDAQAB\n-----END PUBLIC KEY-----";

    #[test]
    fn a_certificate_yields_its_subject_public_key_info() {
        let from_certificate = public_key_from_pem(CERTIFICATE).expect("certificate parses");
        let from_key = public_key_from_pem(PUBLIC_KEY).expect("key parses");
        assert_eq!(from_certificate, from_key);
        // rsaEncryption, 1.2.840.113549.1.1.1
        let oid = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
        ];
        assert!(from_key.windows(oid.len()).any(|w| w == oid));
        assert!(
            public_key_from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .is_err()
        );
    }
}
