//! MCP authorization (revision 2025-11-25) over Streamable HTTP: sfmcp as an OAuth 2.1
//! protected resource, and as the authorization server in front of it, whose login step is
//! Salesforce's own web-server flow through the operator's connected app.
//!
//! - [`metadata`]: RFC 9728 protected-resource metadata, RFC 8414 server metadata.
//! - [`registration`]: Dynamic Client Registration (RFC 7591), stateless, and Client ID
//!   Metadata Documents (fetched under SSRF rules).
//! - [`authorize`]: checks the request, shows the consent page, sends the person to
//!   Salesforce. [`callback`]: Salesforce's answer becomes sfmcp's authorization code.
//! - [`token`]: codes and refresh tokens become sfmcp tokens (rotating, with reuse
//!   detection). [`revocation`]: RFC 7009.
//! - [`sealed`]: everything handed out is sealed; [`store`]: the little state that is not.
//!
//! The edge ([`require_access_token`]) turns an sfmcp access token into the person's
//! Salesforce connection, once per request, so tools see a [`ResolvedTenant`] and the
//! token's [`TokenGrant`], never a header. No Salesforce token ever reaches a client, and a
//! client's Salesforce token is never accepted: only tokens sfmcp sealed open.

pub mod authorize;
pub mod callback;
pub mod metadata;
pub mod registration;
pub mod revocation;
pub mod sealed;
pub mod store;
pub mod token;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sfmcp_salesforce::login::WebServerFlow;
use sfmcp_salesforce::{
    ClientContext, Connection, DirectCredential, OAuthClient, ScopeInfo, Scopes, Secret,
    SettingNames, TenantKey,
};
use url::Url;

use self::sealed::{AccessToken, SealingKeys};
use self::store::GrantStore;
use super::tenants::{ResolvedTenant, TenantClients, TenantError};

/// Reading records, running queries and describing objects.
pub const READ_SCOPE: &str = "sfmcp.read";
/// Creating and updating records (there is no delete).
pub const WRITE_SCOPE: &str = "sfmcp.write";

/// Access tokens are short: revocation at Salesforce is noticed at the next refresh.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 10 * 60;
/// A refresh token is good this long after it was issued; every use rotates it.
pub const REFRESH_TOKEN_TTL_SECS: i64 = 30 * 24 * 60 * 60;
/// An authorization code is redeemed within this time, once.
pub const CODE_TTL_SECS: i64 = 60;
/// The person has this long to sign in at Salesforce.
pub const LOGIN_TTL_SECS: i64 = 10 * 60;
/// What sfmcp asks Salesforce for: the REST API, and a refresh token to keep acting later.
pub const SALESFORCE_SCOPES: &str = "api refresh_token";

/// What the operator configures.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The URL people paste into their MCP client, without `/mcp`: `https://mcp.example.com`.
    pub public_url: Url,
    /// Salesforce's login (or My Domain) URL.
    pub login_url: Url,
    /// The connected app (or external client app) people sign in through. Its callback URL
    /// must be `{public_url}/oauth/callback`.
    pub connected_app: OAuthClient,
    pub keys: SealingKeys,
    /// Whether tokens may carry the write scope (not when the server is read-only).
    pub writes_offered: bool,
    /// Client ID Metadata Documents may be fetched over http and from private or loopback
    /// addresses: for local testing only.
    pub allow_local_client_metadata: bool,
    /// Redeemed codes, refresh generations and revocations (see [`store`]).
    pub store: Arc<GrantStore>,
}

/// The scopes a token was granted, put in the request's extensions at the edge so the
/// server can list only the tools the token may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub scopes: Vec<String>,
}

impl TokenGrant {
    pub fn allows_writes(&self) -> bool {
        self.scopes.iter().any(|s| s == WRITE_SCOPE)
    }
}

#[derive(Debug)]
pub struct OAuthPlane {
    /// `public_url` without a trailing slash: the issuer, and the base of every endpoint.
    issuer: String,
    /// The canonical resource: `{issuer}/mcp`, as clients must name it (RFC 8707).
    resource: String,
    salesforce: WebServerFlow,
    keys: SealingKeys,
    store: Arc<GrantStore>,
    context: Arc<ClientContext>,
    tenants: Arc<TenantClients>,
    writes_offered: bool,
    allow_local_client_metadata: bool,
    /// For Client ID Metadata Documents: no redirects, short timeouts.
    metadata_http: reqwest::Client,
}

impl OAuthPlane {
    pub fn new(
        settings: OAuthSettings,
        context: Arc<ClientContext>,
        tenants: Arc<TenantClients>,
    ) -> Result<Arc<Self>, String> {
        let issuer = settings
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_string();
        if settings.public_url.query().is_some() || settings.public_url.fragment().is_some() {
            return Err(format!(
                "SFMCP_PUBLIC_URL {issuer} must be a plain URL without ? or #, e.g. https://mcp.example.com"
            ));
        }
        let metadata_http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(registration::METADATA_TIMEOUT)
            .timeout(registration::METADATA_TIMEOUT)
            .user_agent(concat!("sfmcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the HTTP client could not be built: {e}"))?;
        Ok(Arc::new(OAuthPlane {
            resource: format!("{issuer}/mcp"),
            salesforce: WebServerFlow {
                login_url: settings.login_url,
                client: settings.connected_app,
                redirect_uri: format!("{issuer}{}", sfmcp_salesforce::login::CALLBACK_PATH),
                scopes: SALESFORCE_SCOPES.into(),
            },
            issuer,
            keys: settings.keys,
            store: settings.store,
            context,
            tenants,
            writes_offered: settings.writes_offered,
            allow_local_client_metadata: settings.allow_local_client_metadata,
            metadata_http,
        }))
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The callback URL the connected app must list.
    pub fn salesforce_callback(&self) -> &str {
        &self.salesforce.redirect_uri
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    fn resource_metadata_url(&self) -> String {
        self.endpoint("/.well-known/oauth-protected-resource/mcp")
    }

    fn scopes_supported(&self) -> Vec<&'static str> {
        if self.writes_offered {
            vec![READ_SCOPE, WRITE_SCOPE]
        } else {
            vec![READ_SCOPE]
        }
    }

    /// The scopes granted for a request: the known ones asked for, or all offered when the
    /// client asked for none. `Err` names an unknown scope.
    fn granted_scopes(&self, requested: Option<&str>) -> Result<String, String> {
        let offered = self.scopes_supported();
        let Some(requested) = requested.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(offered.join(" "));
        };
        let mut granted: Vec<&str> = Vec::new();
        for scope in requested.split_whitespace() {
            if scope == WRITE_SCOPE && !self.writes_offered {
                return Err(format!(
                    "{WRITE_SCOPE} is not offered: this sfmcp server is read-only"
                ));
            }
            if !offered.contains(&scope) {
                return Err(format!(
                    "unknown scope {scope:?}; this server offers {}",
                    offered.join(", ")
                ));
            }
            if !granted.contains(&scope) {
                granted.push(scope);
            }
        }
        // Writing implies reading what is written.
        if granted.contains(&WRITE_SCOPE) && !granted.contains(&READ_SCOPE) {
            granted.insert(0, READ_SCOPE);
        }
        Ok(granted.join(" "))
    }

    /// The person's Salesforce connection behind a token, kept per token family so its
    /// Salesforce access token is reused between requests.
    fn client_for(
        &self,
        token: &AccessToken,
    ) -> Result<sfmcp_salesforce::SalesforceClient, TenantError> {
        let grant = &token.grant;
        let instance_url = Url::parse(&grant.instance_url).map_err(|_| {
            TenantError("the sign-in carries no usable Salesforce URL; sign in again".into())
        })?;
        let mut connection = Connection::direct(
            Some(instance_url),
            DirectCredential::RefreshToken {
                login_url: self.salesforce.login_url.clone(),
                client: self.salesforce.client.clone(),
                refresh_token: Secret::new(grant.refresh_token.clone()),
                access_token: None,
            },
        );
        // The person, not the token: describes and usage are per user (field-level security
        // differs between people of one org).
        connection.tenant = Some(TenantKey::new(format!("oauth:{}", grant.user)));
        // The org's URL came from the person's sign-in, through the operator's login URL.
        connection.settings = SettingNames {
            instance_url: "SF_LOGIN_URL (the sign-in through it gave this org's URL)",
            ..connection.settings
        };
        if let Some(scope) = &grant.scope {
            connection.known_scopes = ScopeInfo::Granted(Scopes::parse(scope));
        }
        let cache_key = sfmcp_salesforce::crypto::digest_hex(
            &["oauth", &token.family, &grant.refresh_token],
            16,
        );
        self.tenants.client_for_connection(cache_key, connection)
    }

    fn http(&self) -> &reqwest::Client {
        self.context.http()
    }
}

/// The person a Salesforce identity URL (`…/id/{orgId}/{userId}`) names, as `org/user`.
fn user_of(identity_url: Option<&str>, refresh_token: &str) -> String {
    identity_url
        .and_then(|id| {
            let mut parts = id.trim_end_matches('/').rsplit('/');
            let user = parts.next()?;
            let org = parts.next()?;
            let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
            (plain(org) && plain(user)).then(|| format!("{org}/{user}"))
        })
        // Without an identity the grant itself is the tenant, so nobody shares its caches.
        .unwrap_or_else(|| sfmcp_salesforce::crypto::digest_hex(&["grant", refresh_token], 12))
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A random id (code ids, token families, browser nonces): 128 bits, URL-safe.
pub(crate) fn random_id() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sfmcp_salesforce::crypto::random_bytes::<16>())
}

/// The plane's endpoints; mounted beside `/mcp` by [`super::http::router`].
pub fn routes(plane: Arc<OAuthPlane>, body_timeout: std::time::Duration) -> Router {
    // Browser-based MCP clients call these with fetch from their own origin; none of them
    // relies on cookies or ambient credentials, so any origin may read their answers.
    let api = Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(metadata::protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(metadata::protected_resource),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::authorization_server),
        )
        // Clients that only know OpenID Connect discovery probe this one.
        .route(
            "/.well-known/openid-configuration",
            get(metadata::authorization_server),
        )
        .route("/register", post(registration::register))
        .route("/token", post(token::token))
        .route("/revoke", post(revocation::revoke))
        .layer(axum::middleware::from_fn_with_state(
            body_timeout,
            read_small_body,
        ))
        .layer(axum::middleware::from_fn(open_to_any_origin));
    // Pages the person's browser navigates to: no CORS.
    let pages = Router::new()
        .route("/authorize", get(authorize::authorize))
        .route(
            sfmcp_salesforce::login::CALLBACK_PATH,
            get(callback::callback),
        );
    api.merge(pages).with_state(plane)
}

/// The largest registration, token or revocation request read: a form or a small JSON.
const MAX_OAUTH_BODY_BYTES: usize = 64 * 1024;

/// Reads a POST's body whole, within [`MAX_OAUTH_BODY_BYTES`] and under the same deadline
/// as `/mcp`'s bodies, so a client sending a byte a second cannot hold a connection.
async fn read_small_body(
    State(deadline): State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let refused = match tokio::time::timeout(
        deadline,
        axum::body::to_bytes(body, MAX_OAUTH_BODY_BYTES),
    )
    .await
    {
        Ok(Ok(bytes)) => {
            return next
                .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await;
        }
        Ok(Err(_)) => oauth_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the request body is larger than 64 KiB, or broke off",
        ),
        Err(_) => oauth_error(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request",
            "the request body did not arrive in time; send it at once",
        ),
    };
    let mut refused = refused;
    // The unread rest of the body cannot be skipped safely: end the connection.
    refused
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    refused
}

/// CORS for the endpoints that browser-based clients fetch: preflights are answered here.
async fn open_to_any_origin(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, mcp-protocol-version"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    response
}

/// An OAuth error body (RFC 6749 §5.2), never cached.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    no_store(
        (
            status,
            axum::Json(serde_json::json!({"error": error, "error_description": description})),
        )
            .into_response(),
    )
}

/// The answer when the shared grant store does not answer: 503, fail closed. The operator's
/// log gets where the store is and why; the client, only that it should retry.
pub(crate) fn store_unavailable(error: &store::StoreUnavailable) -> Response {
    tracing::error!(error = %error, "the OAuth grant store did not answer; refusing");
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "this server's shared sign-in store (SFMCP_OAUTH_STORE) is not answering; nothing was issued or accepted; try again shortly",
    )
}

pub(crate) fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A 302 to `location`, never cached.
pub(crate) fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
            no_store(response)
        }
        Err(_) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the redirect URI cannot be used in a Location header",
        ),
    }
}

/// The challenge of a 401 or 403 (RFC 6750 §3, RFC 9728 §5.1): where the metadata is, and
/// what to ask for.
fn challenge(
    plane: &OAuthPlane,
    status: StatusCode,
    error: Option<(&str, &str)>,
    scope: &str,
) -> Response {
    let mut value = format!(
        "Bearer resource_metadata=\"{}\", scope=\"{scope}\"",
        plane.resource_metadata_url()
    );
    if let Some((error, description)) = error {
        value.push_str(&format!(
            ", error=\"{error}\", error_description=\"{description}\""
        ));
    }
    let body = serde_json::json!({
        "error": error.map_or("unauthorized", |e| e.0),
        "error_description": error.map_or("this sfmcp server needs an OAuth access token: connect through an MCP client that signs in", |e| e.1),
    });
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The edge of `/mcp`: a valid sfmcp access token for this resource, or a 401 that tells
/// the client where to sign in. The token is removed before the request goes on; the
/// person's connection and the token's scopes go in the request's extensions.
pub async fn require_access_token(
    State(plane): State<Arc<OAuthPlane>>,
    mut request: Request,
    next: Next,
) -> Response {
    let offered = plane.scopes_supported().join(" ");
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .map(str::to_string);
    let Some(presented) = presented else {
        return challenge(&plane, StatusCode::UNAUTHORIZED, None, &offered);
    };
    let invalid = |why: &str| {
        challenge(
            &plane,
            StatusCode::UNAUTHORIZED,
            Some(("invalid_token", why)),
            &offered,
        )
    };
    let Some(token) = plane.keys.open_access(&presented) else {
        return invalid("the access token is not one this server issued; sign in again");
    };
    if now() >= token.expires_at {
        return invalid("the access token expired; refresh it");
    }
    if token.audience != plane.resource {
        return invalid("the access token is for another resource");
    }
    match plane.store.is_revoked(&token.family).await {
        Ok(false) => {}
        Ok(true) => return invalid("the access token was revoked; sign in again"),
        Err(unavailable) => return store_unavailable(&unavailable),
    }
    request.headers_mut().remove(header::AUTHORIZATION);
    if request.method() == Method::POST {
        let resolved = plane.client_for(&token);
        // Salesforce refused the person's grant on an earlier call: the sign-in is over,
        // and the client learns it now rather than at its next refresh.
        if resolved.as_ref().is_ok_and(|client| client.grant_revoked()) {
            let now = now();
            if let Err(unavailable) = plane
                .store
                .revoke_family(&token.family, now + REFRESH_TOKEN_TTL_SECS, now)
                .await
            {
                tracing::warn!(error = %unavailable, "recording a revoked sign-in failed");
            }
            return invalid("Salesforce revoked this sign-in; sign in again");
        }
        request.extensions_mut().insert(ResolvedTenant(resolved));
    }
    request.extensions_mut().insert(TokenGrant {
        scopes: token.scope.split_whitespace().map(String::from).collect(),
    });
    next.run(request).await
}

/// Step-up (MCP authorization, "scope challenge"): a call to a write tool with a token
/// that lacks the write scope is answered 403 `insufficient_scope`, naming the scopes to ask
/// for, before any tool runs. Runs after the body was read whole.
pub async fn require_scope_for_call(
    State(plane): State<Arc<OAuthPlane>>,
    request: Request,
    next: Next,
) -> Response {
    let writes = request
        .extensions()
        .get::<TokenGrant>()
        .is_some_and(TokenGrant::allows_writes);
    if writes || request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, super::http::MAX_BODY_BYTES).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the request body broke off",
        );
    };
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    // A batch (older JSON-RPC framing) is checked message by message, so a write cannot
    // hide in one.
    let messages = match &body {
        serde_json::Value::Array(messages) => messages.iter().collect(),
        message => vec![message],
    };
    let calls_write_tool = messages.iter().any(|message| {
        message["method"] == "tools/call"
            && message["params"]["name"]
                .as_str()
                .is_some_and(|name| crate::server::WRITE_TOOLS.contains(&name))
    });
    if calls_write_tool && plane.writes_offered {
        return challenge(
            &plane,
            StatusCode::FORBIDDEN,
            Some((
                "insufficient_scope",
                "this tool creates or updates records: sign in again granting sfmcp.write",
            )),
            &format!("{READ_SCOPE} {WRITE_SCOPE}"),
        );
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_come_from_identity_urls_or_the_grant() {
        assert_eq!(
            user_of(
                Some("https://login.salesforce.com/id/00Dxx0000001gPL/005xx000001Sv6A"),
                "rt"
            ),
            "00Dxx0000001gPL/005xx000001Sv6A"
        );
        let fallback = user_of(Some("https://login.salesforce.com/id/../x y"), "rt");
        assert_eq!(fallback, user_of(None, "rt"));
        assert_ne!(user_of(None, "rt"), user_of(None, "other"));
    }
}
