//! Paragon's proxy in front of the emulated orgs:
//! `/projects/{projectId}/sdk/proxy/salesforce/{path}`, where `{path}` is relative to the
//! org's REST base (`/services/data/vXX.X`).
//!
//! - `Authorization: Bearer <Paragon user token>`: an RS256 JWT signed with the project's
//!   signing key (generated at start and announced, as Paragon's dashboard hands it out),
//!   with `sub` (the user id) and an unexpired `exp`.
//! - `X-Paragon-Credential: <uuid>` picks one of the user's connected Salesforce accounts;
//!   without it, the user's first one. Each emulated org is one user's connected account.
//! - `X-Paragon-Proxy-Url` may carry the path (or a full URL) instead of the path suffix.
//!
//! Paragon's own refusals come as `{"message", "statusCode"}` (the exact statuses and texts
//! Paragon uses are inferred from its SDK; see shared notes §3): 401 for a missing, forged or
//! expired token, 404 for another project, 400 `Integration not enabled for user.` for a
//! credential the user does not have. Everything else is the org's own answer, as with
//! `X-Paragon-Use-Raw-Response: true`.

use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value as Json, json};

use super::org::Org;
use super::rest;
use super::state::AppState;

/// One user's connected Salesforce account: an emulated org, as its default user.
#[derive(Debug, Clone)]
pub struct ParagonCredential {
    pub id: String,
    /// The Paragon user (the JWT's `sub`) the account belongs to.
    pub user_id: String,
    pub org: usize,
}

/// The project's RS256 key pair. Generating one costs tens of milliseconds, so the emulator
/// does it beside the org build rather than after it.
pub struct SigningKey {
    private_pem: String,
    public_pem: String,
    public_der: Vec<u8>,
}

impl SigningKey {
    pub fn generate() -> Result<Self, String> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| "cannot generate the Paragon signing key".to_string())?;
        let private: Pkcs8V1Der = pair
            .as_der()
            .map_err(|_| "cannot encode the Paragon signing key".to_string())?;
        let public: PublicKeyX509Der = pair
            .public_key()
            .as_der()
            .map_err(|_| "cannot encode the Paragon public key".to_string())?;
        Ok(SigningKey {
            private_pem: pem("PRIVATE KEY", private.as_ref()),
            public_pem: pem("PUBLIC KEY", public.as_ref()),
            public_der: public.as_ref().to_vec(),
        })
    }
}

/// The emulated Paragon project.
pub struct ParagonProject {
    pub project_id: String,
    /// PKCS#8 PEM: what a host (or sfmcp) signs user tokens with.
    pub signing_key_pem: String,
    /// SPKI PEM: what verifies them.
    pub public_key_pem: String,
    public_key_der: Vec<u8>,
    pub credentials: Vec<ParagonCredential>,
}

impl std::fmt::Debug for ParagonProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParagonProject")
            .field("project_id", &self.project_id)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl ParagonProject {
    /// A project signing with `key`, with one user + credential per org.
    pub fn signed_by(key: SigningKey, orgs: &[Arc<Org>]) -> Self {
        let credentials = orgs
            .iter()
            .map(|org| ParagonCredential {
                id: uuid(),
                user_id: format!("paragon-user-{}", org.index + 1),
                org: org.index,
            })
            .collect();
        ParagonProject {
            project_id: uuid(),
            signing_key_pem: key.private_pem,
            public_key_pem: key.public_pem,
            public_key_der: key.public_der,
            credentials,
        }
    }

    /// What `sfmcp emulator` announces for one org's account.
    pub fn announcement(&self, base_url: &str, org: usize) -> Option<Json> {
        let credential = self.credentials.iter().find(|c| c.org == org)?;
        Some(json!({
            "proxy_url": base_url,
            "project_id": self.project_id,
            "user_id": credential.user_id,
            "credential_id": credential.id,
            "signing_key_pem": self.signing_key_pem,
            "public_key_pem": self.public_key_pem,
        }))
    }

    /// The subject of a valid user token.
    fn verify(&self, token: &str) -> Result<String, Refusal> {
        let refused = || Refusal(StatusCode::UNAUTHORIZED, "Unauthorized");
        let mut parts = token.split('.');
        let (Some(head), Some(payload), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refused());
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok();
        let header: Json = decode(head)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(refused)?;
        if header.get("alg").and_then(Json::as_str) != Some("RS256") {
            return Err(refused());
        }
        let signature_bytes = decode(sig).ok_or_else(refused)?;
        signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            &self.public_key_der,
        )
        .verify(format!("{head}.{payload}").as_bytes(), &signature_bytes)
        .map_err(|_| refused())?;
        let claims: Json = decode(payload)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(refused)?;
        let expires = claims.get("exp").and_then(Json::as_i64).unwrap_or(0);
        if expires <= chrono::Utc::now().timestamp() {
            return Err(Refusal(StatusCode::UNAUTHORIZED, "Token expired."));
        }
        claims
            .get("sub")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(refused)
    }

    /// The user's account the request asks for.
    fn credential(
        &self,
        user: &str,
        requested: Option<&str>,
    ) -> Result<&ParagonCredential, Refusal> {
        self.credentials
            .iter()
            .find(|c| c.user_id == user && requested.is_none_or(|id| c.id == id))
            .ok_or(Refusal(
                StatusCode::BAD_REQUEST,
                "Integration not enabled for user.",
            ))
    }
}

fn uuid() -> String {
    let b: [u8; 16] = super::state::random_bytes();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// One of Paragon's own refusals.
#[derive(Debug, Clone, Copy)]
struct Refusal(StatusCode, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        paragon_error(self.0, self.1)
    }
}

fn paragon_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"message": message, "statusCode": status.as_u16()})),
    )
        .into_response()
}

/// The proxy's routes, merged into the emulator's router.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/projects/{project}/sdk/proxy/salesforce", any(proxy_root))
        .route(
            "/projects/{project}/sdk/proxy/salesforce/{*path}",
            any(proxy),
        )
}

async fn proxy_root(
    State(state): State<Arc<AppState>>,
    Path(project): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(state, project, String::new(), method, query, headers, body).await
}

async fn proxy(
    State(state): State<Arc<AppState>>,
    Path((project, path)): Path<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(state, project, path, method, query, headers, body).await
}

async fn serve(
    state: Arc<AppState>,
    project_id: String,
    path: String,
    method: Method,
    mut query: Option<String>,
    mut headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(project) = state.paragon.as_ref() else {
        return paragon_error(StatusCode::NOT_FOUND, "Project not found.");
    };
    if project_id != project.project_id {
        return paragon_error(StatusCode::NOT_FOUND, "Project not found.");
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let user = match project.verify(token) {
        Ok(user) => user,
        Err(refusal) => return refusal.into_response(),
    };
    let requested = headers
        .get("x-paragon-credential")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let credential = match project.credential(&user, requested) {
        Ok(credential) => credential.clone(),
        Err(refusal) => return refusal.into_response(),
    };
    let mut path = path;
    if path.trim_matches('/').is_empty()
        && let Some(target) = headers
            .get("x-paragon-proxy-url")
            .and_then(|v| v.to_str().ok())
    {
        let target = match url::Url::parse(target) {
            Ok(full) => {
                query = full.query().map(str::to_string);
                full.path().to_string()
            }
            Err(_) => match target.split_once('?') {
                Some((p, q)) => {
                    query = Some(q.to_string());
                    p.to_string()
                }
                None => target.to_string(),
            },
        };
        path = target;
    }
    // Paths are relative to the REST base; tolerate a full `/services/data/vXX.X/...` too.
    let relative = path.trim_start_matches('/');
    let relative = match relative.strip_prefix("services/data/") {
        Some(rest) => rest.split_once('/').map_or("", |(_, tail)| tail),
        None => relative,
    };
    let Some(org) = state.org(credential.org) else {
        return paragon_error(StatusCode::BAD_REQUEST, "Integration not enabled for user.");
    };
    // The connected account's user answers, as its Salesforce token would.
    let ctx = match state.context_for(org.index, &org.default_user, &state.settings.api_version) {
        Ok(ctx) => ctx,
        Err(error) => return rest::error_response(&[error]),
    };
    // The host's Paragon token is Paragon's business, not the org's.
    headers.remove(header::AUTHORIZATION);
    let segments: Vec<&str> = relative.split('/').filter(|s| !s.is_empty()).collect();
    rest::serve(
        &state,
        &ctx,
        method,
        &segments,
        query.as_deref(),
        &headers,
        &body,
    )
}
