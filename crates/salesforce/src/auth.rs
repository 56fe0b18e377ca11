//! Credentials and the tokens they yield, on both planes.
//!
//! - Direct plane: a fixed access token, the refresh-token grant, client credentials, or the
//!   JWT bearer grant, against `{login}/services/oauth2/token`.
//! - Paragon plane: a Paragon user token, given or minted here from the project's signing key.
//!
//! `Authenticator` holds the current token and renews it at most once at a time: callers
//! that saw the same stale token share one renewal (single flight), and a caller whose token
//! was already replaced just retries with the new one.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use url::Url;

use super::errors::{AuthFlow, SfError};
use super::secret::Secret;

/// The default Paragon proxy.
pub const PARAGON_DEFAULT_PROXY: &str = "https://proxy.useparagon.com";

/// How long a Paragon user token minted here lives. Short, because it is a bearer token.
const PARAGON_TOKEN_LIFETIME: Duration = Duration::from_secs(600);
/// Mint a fresh token this long before the old one expires.
const PARAGON_TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// Salesforce accepts JWT bearer assertions up to 3 minutes ahead.
const JWT_ASSERTION_LIFETIME: u64 = 180;

/// Everything needed to reach one org, on one plane, as one tenant.
#[derive(Debug, Clone)]
pub struct Connection {
    pub plane: Plane,
    /// `62.0`; `None` means the newest the org offers (direct plane) or whatever the proxy
    /// pins (Paragon plane).
    pub api_version: Option<String>,
    /// A verified tenant identity, set by the caller when it has one. Without it the key is
    /// derived from the connection: for tenants nothing verifies, a hash of the whole
    /// credential, so a forged credential can never share another tenant's caches.
    pub tenant: Option<TenantKey>,
}

impl Connection {
    pub fn direct(instance_url: Option<Url>, credential: DirectCredential) -> Self {
        Connection {
            plane: Plane::Direct(DirectAuth {
                instance_url,
                credential,
            }),
            api_version: None,
            tenant: None,
        }
    }

    pub fn paragon(auth: ParagonAuth) -> Self {
        Connection {
            plane: Plane::Paragon(auth),
            api_version: None,
            tenant: None,
        }
    }

    /// The key caches and usage are filed under.
    pub fn tenant_key(&self) -> TenantKey {
        if let Some(tenant) = &self.tenant {
            return tenant.clone();
        }
        match &self.plane {
            Plane::Direct(direct) => {
                let host = direct
                    .instance_url
                    .as_ref()
                    .or(direct.credential.login_url())
                    .and_then(|u| u.host_str())
                    .unwrap_or("unknown")
                    .to_ascii_lowercase();
                TenantKey(format!("direct:{host}:{}", direct.credential.fingerprint()))
            }
            Plane::Paragon(p) => {
                let user = match &p.user {
                    // We mint this user's tokens ourselves: the user id is verified.
                    ParagonUser::Signing { user_id, .. } => format!("user={user_id}"),
                    ParagonUser::Token(token) => {
                        format!("token={}", fingerprint(&[token.expose()]))
                    }
                };
                TenantKey(format!(
                    "paragon:{}:{}:{}",
                    p.project_id,
                    user,
                    p.credential_id.as_deref().unwrap_or("-")
                ))
            }
        }
    }
}

/// The identity caches, cursors and usage are keyed by. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantKey(String);

impl TenantKey {
    pub fn new(key: impl Into<String>) -> Self {
        TenantKey(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A short hex digest that identifies secrets without revealing them.
fn fingerprint(parts: &[&str]) -> String {
    crate::crypto::digest_hex(parts, 12)
}

#[derive(Debug, Clone)]
pub enum Plane {
    Direct(DirectAuth),
    Paragon(ParagonAuth),
}

#[derive(Debug, Clone)]
pub struct DirectAuth {
    /// Required with a fixed access token; otherwise learnt from the token response.
    pub instance_url: Option<Url>,
    pub credential: DirectCredential,
}

/// A connected app's identity.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: Option<Secret>,
}

#[derive(Debug, Clone)]
pub enum DirectCredential {
    /// A fixed token; `client` (optional) lets sfmcp introspect it for its scopes.
    AccessToken {
        access_token: Secret,
        login_url: Url,
        client: Option<OAuthClient>,
    },
    RefreshToken {
        login_url: Url,
        client: OAuthClient,
        refresh_token: Secret,
        /// A token to start with; renewed through the refresh token once it expires.
        access_token: Option<Secret>,
    },
    ClientCredentials {
        /// The org's My Domain URL: login.salesforce.com does not serve this flow.
        login_url: Url,
        client_id: String,
        client_secret: Secret,
    },
    JwtBearer {
        login_url: Url,
        client_id: String,
        username: String,
        key: SigningKey,
    },
}

impl DirectCredential {
    fn login_url(&self) -> Option<&Url> {
        match self {
            DirectCredential::AccessToken { login_url, .. }
            | DirectCredential::RefreshToken { login_url, .. }
            | DirectCredential::ClientCredentials { login_url, .. }
            | DirectCredential::JwtBearer { login_url, .. } => Some(login_url),
        }
    }

    fn fingerprint(&self) -> String {
        match self {
            DirectCredential::AccessToken { access_token, .. } => {
                fingerprint(&["access", access_token.expose()])
            }
            DirectCredential::RefreshToken {
                client,
                refresh_token,
                ..
            } => fingerprint(&["refresh", &client.client_id, refresh_token.expose()]),
            DirectCredential::ClientCredentials {
                client_id,
                client_secret,
                ..
            } => fingerprint(&["client", client_id, client_secret.expose()]),
            DirectCredential::JwtBearer {
                client_id,
                username,
                ..
            } => fingerprint(&["jwt", client_id, username]),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ParagonAuth {
    pub proxy_url: Url,
    pub project_id: String,
    pub user: ParagonUser,
    /// Sent as `X-Paragon-Credential` to pick one of the user's connected accounts.
    pub credential_id: Option<String>,
    /// The tenant's Salesforce instance, when known, for record links.
    pub instance_url: Option<Url>,
}

#[derive(Debug, Clone)]
pub enum ParagonUser {
    /// A user token minted by the host application.
    Token(Secret),
    /// sfmcp mints short-lived user tokens for this user with the project's signing key.
    Signing { key: SigningKey, user_id: String },
}

/// An RS256 private key. Shows nothing of itself in `Debug`.
#[derive(Clone)]
pub struct SigningKey(Arc<EncodingKey>);

impl SigningKey {
    pub fn from_pem(pem: &[u8]) -> Result<Self, jsonwebtoken::errors::Error> {
        let key = SigningKey(Arc::new(EncodingKey::from_rsa_pem(pem)?));
        // Parsing accepts some PEMs that cannot sign (a public key): find out now, at start,
        // rather than at the first token request.
        key.sign(&serde_json::json!({"probe": true}))?;
        Ok(key)
    }

    /// Reads a PEM file; errors name `setting` and say what the file must hold.
    pub fn from_file(path: &Path, setting: &str) -> Result<Self, String> {
        let pem = std::fs::read(path).map_err(|e| {
            format!(
                "{setting}: cannot read {}: {e}. Point {setting} at the RSA private key file (PEM).",
                path.display()
            )
        })?;
        SigningKey::from_pem(&pem).map_err(|_| {
            format!(
                "{setting}: {} is not an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----).",
                path.display()
            )
        })
    }

    fn sign<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &self.0)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// OAuth scopes as granted, e.g. `api refresh_token openid`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    pub fn parse(scope: &str) -> Self {
        Scopes(scope.split_whitespace().map(str::to_string).collect())
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// REST calls need `api` (or `full`, which includes it).
    pub fn allows_api(&self) -> bool {
        self.contains("api") || self.contains("full")
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined: Vec<&str> = self.iter().collect();
        f.write_str(&joined.join(" "))
    }
}

/// What the connection learnt about its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeInfo {
    /// Nothing told us (a fixed token without a client to introspect it, or the Paragon
    /// plane, where Paragon holds the grant).
    Unknown,
    Granted(Scopes),
}

impl ScopeInfo {
    /// `Some(false)` only when the grant is known to lack API access.
    pub fn allows_api(&self) -> Option<bool> {
        match self {
            ScopeInfo::Unknown => None,
            ScopeInfo::Granted(s) => Some(s.allows_api()),
        }
    }
}

/// Salesforce's token endpoint answer.
#[derive(Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    #[serde(default)]
    pub instance_url: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    /// The identity URL, `https://login.salesforce.com/id/{orgId}/{userId}`.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub issued_at: Option<String>,
    /// Present only when the app rotates refresh tokens.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("instance_url", &self.instance_url)
            .field("scope", &self.scope)
            .field("id", &self.id)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct IntrospectionBody {
    #[serde(default)]
    active: bool,
    #[serde(default)]
    scope: Option<String>,
}

/// Claims of a Salesforce JWT bearer assertion.
#[derive(Debug, Serialize, Deserialize)]
pub struct JwtBearerClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
}

/// Claims of a Paragon user token, as Paragon's docs and SDK sign them.
#[derive(Debug, Serialize, Deserialize)]
pub struct ParagonClaims {
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
}

/// A usable token and what came with it.
#[derive(Clone)]
pub(crate) struct Session {
    pub access_token: Secret,
    /// Where REST calls go on the direct plane.
    pub instance_url: Option<Url>,
    pub scopes: ScopeInfo,
    /// The identity URL from the token response.
    pub identity_url: Option<String>,
    /// Bumped on every renewal, so callers can tell whether their token is still current.
    pub generation: u64,
    /// When a minted token should be replaced.
    pub renew_after: Option<Instant>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("instance_url", &self.instance_url.as_ref().map(Url::as_str))
            .field("scopes", &self.scopes)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The URL of an OAuth endpoint under a login URL (`/services/oauth2/token`).
fn oauth_endpoint(login_url: &Url, endpoint: &str) -> Result<Url, SfError> {
    let base = login_url.as_str().trim_end_matches('/');
    Url::parse(&format!("{base}/services/oauth2/{endpoint}")).map_err(|_| {
        SfError::InvalidRequest {
            message: format!("SF_LOGIN_URL {login_url} cannot be used as a base URL"),
            next_step: "Set SF_LOGIN_URL to https://login.salesforce.com, https://test.salesforce.com or the org's My Domain URL.".into(),
        }
    })
}

/// The audience Salesforce expects: the login URL without a trailing slash.
fn jwt_audience(login_url: &Url) -> String {
    login_url.as_str().trim_end_matches('/').to_string()
}

/// Holds the current token of one connection and renews it, one renewal at a time.
pub(crate) struct Authenticator {
    plane: Plane,
    http: reqwest::Client,
    session: RwLock<Option<Arc<Session>>>,
    renewal: tokio::sync::Mutex<()>,
    /// Rotated refresh token, when Salesforce hands out a new one.
    rotated_refresh_token: RwLock<Option<Secret>>,
    renewals: AtomicU64,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("plane", &self.plane)
            .field("renewals", &self.renewals.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(plane: Plane, http: reqwest::Client) -> Self {
        Authenticator {
            plane,
            http,
            session: RwLock::new(None),
            renewal: tokio::sync::Mutex::new(()),
            rotated_refresh_token: RwLock::new(None),
            renewals: AtomicU64::new(0),
        }
    }

    pub fn plane(&self) -> &Plane {
        &self.plane
    }

    /// How many tokens were fetched or minted so far.
    pub fn renewals(&self) -> u64 {
        self.renewals.load(Ordering::Relaxed)
    }

    /// Whether a rejected token can be replaced without a person.
    pub fn can_renew(&self) -> bool {
        match &self.plane {
            Plane::Direct(d) => !matches!(d.credential, DirectCredential::AccessToken { .. }),
            Plane::Paragon(p) => matches!(p.user, ParagonUser::Signing { .. }),
        }
    }

    /// The flow that would renew the token, for error messages.
    pub fn flow(&self) -> AuthFlow {
        match &self.plane {
            Plane::Direct(d) => match d.credential {
                DirectCredential::AccessToken { .. } => AuthFlow::StaticToken,
                DirectCredential::RefreshToken { .. } => AuthFlow::RefreshToken,
                DirectCredential::ClientCredentials { .. } => AuthFlow::ClientCredentials,
                DirectCredential::JwtBearer { .. } => AuthFlow::JwtBearer,
            },
            Plane::Paragon(p) => match p.user {
                ParagonUser::Token(_) => AuthFlow::ParagonStaticToken,
                ParagonUser::Signing { .. } => AuthFlow::ParagonSigning,
            },
        }
    }

    fn current_session(&self) -> Option<Arc<Session>> {
        self.session
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The token to use now, fetching or minting one when there is none or it is due.
    pub async fn session(&self) -> Result<Arc<Session>, SfError> {
        if let Some(s) = self.current_session()
            && s.renew_after.is_none_or(|t| Instant::now() < t)
        {
            return Ok(s);
        }
        self.renew(None).await
    }

    /// Replaces the token. With `rejected = Some(generation)`, only when that generation is
    /// still current: concurrent callers rejected with the same token share one renewal.
    pub async fn renew(&self, rejected: Option<u64>) -> Result<Arc<Session>, SfError> {
        let _one_at_a_time = self.renewal.lock().await;
        let current = self.current_session();
        if let Some(s) = &current {
            let still_good = match rejected {
                Some(generation) => s.generation != generation,
                None => s.renew_after.is_none_or(|t| Instant::now() < t),
            };
            if still_good {
                return Ok(s.clone());
            }
        }
        let generation = current.as_ref().map_or(0, |s| s.generation + 1);
        let first = current.is_none();
        let mut session = self.obtain(first).await?;
        session.generation = generation;
        let session = Arc::new(session);
        *self.session.write().unwrap_or_else(PoisonError::into_inner) = Some(session.clone());
        Ok(session)
    }

    /// Gets a token from the credential. `first` is true when the connection has none yet,
    /// which lets a given starting token be used before any grant runs.
    async fn obtain(&self, first: bool) -> Result<Session, SfError> {
        match &self.plane {
            Plane::Direct(direct) => self.obtain_direct(direct, first).await,
            Plane::Paragon(paragon) => self.obtain_paragon(paragon, first),
        }
    }

    async fn obtain_direct(&self, direct: &DirectAuth, first: bool) -> Result<Session, SfError> {
        let plain = |token: &Secret| Session {
            access_token: token.clone(),
            instance_url: direct.instance_url.clone(),
            scopes: ScopeInfo::Unknown,
            identity_url: None,
            generation: 0,
            renew_after: None,
        };
        match &direct.credential {
            DirectCredential::AccessToken { access_token, .. } => {
                if first {
                    Ok(plain(access_token))
                } else {
                    Err(SfError::Auth {
                        flow: AuthFlow::StaticToken,
                        status: Some(401),
                        error: "INVALID_SESSION_ID".into(),
                        description: "Session expired or invalid".into(),
                    })
                }
            }
            DirectCredential::RefreshToken {
                login_url,
                client,
                refresh_token,
                access_token,
            } => {
                if first && let Some(token) = access_token {
                    return Ok(plain(token));
                }
                let rotated = self
                    .rotated_refresh_token
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let refresh = rotated.as_ref().unwrap_or(refresh_token);
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose()),
                    ("client_id", client.client_id.as_str()),
                ];
                if let Some(secret) = &client.client_secret {
                    form.push(("client_secret", secret.expose()));
                }
                self.token_grant(login_url, AuthFlow::RefreshToken, &form, direct)
                    .await
            }
            DirectCredential::ClientCredentials {
                login_url,
                client_id,
                client_secret,
            } => {
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.expose()),
                ];
                self.token_grant(login_url, AuthFlow::ClientCredentials, &form, direct)
                    .await
            }
            DirectCredential::JwtBearer {
                login_url,
                client_id,
                username,
                key,
            } => {
                let claims = JwtBearerClaims {
                    iss: client_id.clone(),
                    sub: username.clone(),
                    aud: jwt_audience(login_url),
                    exp: now_secs() + JWT_ASSERTION_LIFETIME,
                };
                let assertion = key.sign(&claims).map_err(|e| SfError::Auth {
                    flow: AuthFlow::JwtBearer,
                    status: None,
                    error: "signing_failed".into(),
                    description: e.to_string(),
                })?;
                let form = [
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                ];
                self.token_grant(login_url, AuthFlow::JwtBearer, &form, direct)
                    .await
            }
        }
    }

    fn obtain_paragon(&self, paragon: &ParagonAuth, first: bool) -> Result<Session, SfError> {
        let (token, renew_after) = match &paragon.user {
            ParagonUser::Token(token) if first => (token.clone(), None),
            ParagonUser::Token(_) => {
                return Err(SfError::Auth {
                    flow: AuthFlow::ParagonStaticToken,
                    status: Some(401),
                    error: "invalid_token".into(),
                    description: "the Paragon proxy refused the user token".into(),
                });
            }
            ParagonUser::Signing { key, user_id } => {
                let iat = now_secs();
                let claims = ParagonClaims {
                    sub: user_id.clone(),
                    iat,
                    exp: iat + PARAGON_TOKEN_LIFETIME.as_secs(),
                };
                let token = key.sign(&claims).map_err(|e| SfError::Auth {
                    flow: AuthFlow::ParagonSigning,
                    status: None,
                    error: "signing_failed".into(),
                    description: e.to_string(),
                })?;
                self.renewals.fetch_add(1, Ordering::Relaxed);
                (
                    Secret::new(token),
                    Some(Instant::now() + PARAGON_TOKEN_LIFETIME - PARAGON_TOKEN_MARGIN),
                )
            }
        };
        Ok(Session {
            access_token: token,
            instance_url: paragon.instance_url.clone(),
            scopes: ScopeInfo::Unknown,
            identity_url: None,
            generation: 0,
            renew_after,
        })
    }

    async fn token_grant(
        &self,
        login_url: &Url,
        flow: AuthFlow,
        form: &[(&str, &str)],
        direct: &DirectAuth,
    ) -> Result<Session, SfError> {
        let endpoint = oauth_endpoint(login_url, "token")?;
        self.renewals.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%flow, endpoint = %endpoint.origin().ascii_serialization(), "requesting a Salesforce token");
        let response = self
            .http
            .post(endpoint.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| super::transport::unreachable(&e, &endpoint, "SF_LOGIN_URL"))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| super::transport::unreachable(&e, &endpoint, "SF_LOGIN_URL"))?;
        if !(200..300).contains(&status) {
            return Err(oauth_error(flow, status, &body));
        }
        let token: TokenResponse =
            serde_json::from_slice(&body).map_err(|_| SfError::UnexpectedResponse {
                what: format!("the {flow}"),
                status,
                detail: "the token response is not the JSON Salesforce sends".into(),
            })?;
        if let Some(rotated) = &token.refresh_token {
            *self
                .rotated_refresh_token
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(rotated.clone());
        }
        let instance_url = match token.instance_url.as_deref().map(Url::parse) {
            Some(Ok(url)) => Some(url),
            _ => direct.instance_url.clone(),
        };
        Ok(Session {
            access_token: token.access_token,
            instance_url,
            scopes: token
                .scope
                .as_deref()
                .map_or(ScopeInfo::Unknown, |s| ScopeInfo::Granted(Scopes::parse(s))),
            identity_url: token.id,
            generation: 0,
            renew_after: None,
        })
    }

    /// Asks Salesforce which scopes a token carries (RFC 7662 introspection). Needs the
    /// connected app's id and secret; `Ok(None)` when the connection has no such client.
    pub async fn introspect(&self, token: &Secret) -> Result<Option<Scopes>, SfError> {
        let Plane::Direct(direct) = &self.plane else {
            return Ok(None);
        };
        let (login_url, client) = match &direct.credential {
            DirectCredential::AccessToken {
                login_url,
                client: Some(client),
                ..
            }
            | DirectCredential::RefreshToken {
                login_url, client, ..
            } => (login_url, client),
            _ => return Ok(None),
        };
        let Some(secret) = &client.client_secret else {
            return Ok(None);
        };
        let endpoint = oauth_endpoint(login_url, "introspect")?;
        let form = [
            ("token", token.expose()),
            ("token_type_hint", "access_token"),
            ("client_id", client.client_id.as_str()),
            ("client_secret", secret.expose()),
        ];
        let response = self
            .http
            .post(endpoint.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| super::transport::unreachable(&e, &endpoint, "SF_LOGIN_URL"))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| super::transport::unreachable(&e, &endpoint, "SF_LOGIN_URL"))?;
        if !(200..300).contains(&status) {
            return Err(oauth_error(AuthFlow::Introspection, status, &body));
        }
        let parsed: IntrospectionBody =
            serde_json::from_slice(&body).map_err(|_| SfError::UnexpectedResponse {
                what: "token introspection".into(),
                status,
                detail: "not the JSON Salesforce sends".into(),
            })?;
        if !parsed.active {
            return Err(SfError::Auth {
                flow: AuthFlow::Introspection,
                status: Some(status),
                error: "inactive_token".into(),
                description: "Salesforce says the access token is no longer active".into(),
            });
        }
        Ok(parsed.scope.as_deref().map(Scopes::parse))
    }

    /// Records scopes learnt after the token was obtained (introspection).
    pub fn set_scopes(&self, scopes: Scopes) {
        let mut guard = self.session.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(current) = guard.as_ref() {
            let mut updated = (**current).clone();
            updated.scopes = ScopeInfo::Granted(scopes);
            *guard = Some(Arc::new(updated));
        }
    }
}

pub(crate) fn oauth_error(flow: AuthFlow, status: u16, body: &[u8]) -> SfError {
    match serde_json::from_slice::<OAuthErrorBody>(body) {
        Ok(e) => SfError::Auth {
            flow,
            status: Some(status),
            error: e.error,
            description: e.error_description.unwrap_or_default(),
        },
        Err(_) => SfError::Auth {
            flow,
            status: Some(status),
            error: format!("http_{status}"),
            description: "the token endpoint answered without an OAuth error body".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_answer() {
        let scopes = Scopes::parse("api web  openid");
        assert!(scopes.allows_api());
        assert_eq!(scopes.to_string(), "api openid web");
        assert!(!Scopes::parse("web openid refresh_token").allows_api());
        assert!(Scopes::parse("full").allows_api());
    }

    #[test]
    fn tenant_keys_never_hold_secrets_and_differ_per_credential() {
        let conn = |token: &str| {
            Connection::paragon(ParagonAuth {
                proxy_url: Url::parse(PARAGON_DEFAULT_PROXY).expect("url"),
                project_id: "proj".into(),
                user: ParagonUser::Token(Secret::new(token)),
                credential_id: None,
                instance_url: None,
            })
        };
        let a = conn("token-a").tenant_key();
        let b = conn("token-b").tenant_key();
        assert_ne!(a, b);
        assert!(!a.as_str().contains("token-a"));
        assert!(a.as_str().starts_with("paragon:proj:token="));
    }
}
