//! Per-request tenants over HTTP: which org a request's upstream calls go to, decided by the
//! tenant headers the (already authenticated) host sends, never by the caller's own
//! `Authorization` header.
//!
//! - `X-Paragon-User` (+ `X-Paragon-Credential`): sfmcp mints that user's short-lived Paragon
//!   user token with the project's signing key. The host is trusted to name its users: it
//!   authenticated to sfmcp with one of `SFMCP_HTTP_TOKENS`.
//! - `X-Paragon-User-Token` (+ `X-Paragon-Credential`): a token the host minted. Verified
//!   against `PARAGON_PUBLIC_KEY_FILE` when one is configured, and then the tenant is its
//!   verified subject; otherwise the tenant is a hash of the whole credential.
//! - `X-Salesforce-Instance-Url` + `X-Salesforce-Access-Token`: the direct plane, only when
//!   the operator allows it; the tenant is a hash of the whole credential.
//! - `X-Salesforce-Instance-Url` beside Paragon headers: the org's URL, for record links only
//!   (the proxy alone decides which org answers).
//!
//! One [`SalesforceClient`] per credential is kept in a bounded map, so a tenant's token,
//! API version and usage survive between requests; describe caches, usage and cursors are
//! keyed by the client's [`TenantKey`], which the map never lets two tenants share.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lru::LruCache;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use sfmcp_salesforce::{
    ClientContext, Connection, DirectCredential, ParagonAuth, ParagonClaims, ParagonUser,
    SalesforceClient, Secret, SettingNames, SigningKey, TenantKey,
};

pub const PARAGON_USER_HEADER: &str = "x-paragon-user";
pub const PARAGON_CREDENTIAL_HEADER: &str = "x-paragon-credential";
pub const PARAGON_USER_TOKEN_HEADER: &str = "x-paragon-user-token";
pub const SALESFORCE_INSTANCE_HEADER: &str = "x-salesforce-instance-url";
pub const SALESFORCE_TOKEN_HEADER: &str = "x-salesforce-access-token";

/// What an error tells the caller to fix on a per-request tenant: the headers its host
/// sends, never a variable only the operator can set. `paragon_user` differs between a
/// token sent and a user sfmcp mints for.
fn header_settings(paragon_user: &'static str) -> SettingNames {
    SettingNames {
        instance_url: "X-Salesforce-Instance-Url",
        access_token: "X-Salesforce-Access-Token",
        paragon_credential: "X-Paragon-Credential",
        paragon_user,
    }
}

/// How many tenants' clients are kept; the least recently used one goes first.
pub const DEFAULT_TENANT_CAPACITY: usize = 1024;

/// The project-wide Paragon settings tenants are served with.
#[derive(Clone)]
pub struct ParagonProject {
    pub proxy_url: Url,
    pub project_id: String,
    /// Lets sfmcp mint user tokens for `X-Paragon-User`.
    pub signing_key: Option<SigningKey>,
    /// Verifies `X-Paragon-User-Token`s before any is used.
    pub public_key: Option<Arc<DecodingKey>>,
}

impl fmt::Debug for ParagonProject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParagonProject")
            .field("proxy_url", &self.proxy_url.as_str())
            .field("project_id", &self.project_id)
            .field("signing_key", &self.signing_key.is_some())
            .field("public_key", &self.public_key.is_some())
            .finish()
    }
}

/// Reads `PARAGON_PUBLIC_KEY_FILE`: an RSA public key in PEM form.
pub fn public_key_from_file(path: &std::path::Path) -> Result<DecodingKey, String> {
    let pem = std::fs::read(path).map_err(|e| {
        format!(
            "PARAGON_PUBLIC_KEY_FILE: cannot read {}: {e}. Point it at the project's RSA public key (PEM).",
            path.display()
        )
    })?;
    DecodingKey::from_rsa_pem(&pem).map_err(|_| {
        format!(
            "PARAGON_PUBLIC_KEY_FILE: {} is not an RSA public key in PEM form (-----BEGIN PUBLIC KEY-----).",
            path.display()
        )
    })
}

/// A tenant request that cannot be served; the text says which header to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TenantError(pub String);

/// The tenant of one HTTP request, resolved once at the edge (see
/// [`super::http::router`]) and put in the request's extensions; rmcp hands the request's
/// parts to the tool, which reads this instead of any header. A request that names no
/// usable tenant carries the reason, so a tool call reports it as a tool error while
/// `initialize` and `tools/list`, which need no tenant, still succeed.
#[derive(Debug, Clone)]
pub struct ResolvedTenant(pub Result<SalesforceClient, TenantError>);

/// What the operator allows, and the clients made so far.
pub struct TenantClients {
    context: Arc<ClientContext>,
    paragon: Option<ParagonProject>,
    allow_direct: bool,
    /// Hosts (`host` or `host:port`) a direct tenant's instance URL may name besides
    /// Salesforce's own domains.
    direct_hosts: Vec<String>,
    /// The connection for requests that name no tenant, when the server has one.
    default: Option<SalesforceClient>,
    capacity: usize,
    clients: Mutex<Kept>,
}

impl fmt::Debug for TenantClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantClients")
            .field("paragon", &self.paragon)
            .field("allow_direct", &self.allow_direct)
            .field("default", &self.default.is_some())
            .field("capacity", &self.capacity)
            .field("cached", &self.len())
            .finish()
    }
}

/// The kept clients by credential, and how many of them each tenant has: tokens of one
/// verified user share a tenant, whose describes and usage must stay while any is kept.
struct Kept {
    clients: LruCache<String, SalesforceClient>,
    per_tenant: HashMap<TenantKey, usize>,
}

impl Kept {
    fn new(capacity: usize) -> Self {
        Kept {
            clients: LruCache::new(NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN)),
            per_tenant: HashMap::new(),
        }
    }

    /// Keeps `client` under `key`, dropping the least recently used client when full.
    /// Returns the tenant that no kept client has any more, if the drop left one so.
    fn insert(&mut self, key: String, client: SalesforceClient) -> Option<TenantKey> {
        *self.per_tenant.entry(client.tenant().clone()).or_default() += 1;
        let (_, evicted) = self.clients.push(key, client)?;
        let tenant = evicted.tenant();
        let count = self.per_tenant.get_mut(tenant)?;
        *count -= 1;
        if *count > 0 {
            return None;
        }
        self.per_tenant.remove(tenant);
        Some(tenant.clone())
    }
}

impl TenantClients {
    pub fn new(
        context: Arc<ClientContext>,
        paragon: Option<ParagonProject>,
        allow_direct: bool,
        default: Option<SalesforceClient>,
    ) -> Self {
        TenantClients {
            context,
            paragon,
            allow_direct,
            direct_hosts: Vec::new(),
            default,
            capacity: DEFAULT_TENANT_CAPACITY,
            clients: Mutex::new(Kept::new(DEFAULT_TENANT_CAPACITY)),
        }
    }

    /// Further hosts a per-request `X-Salesforce-Instance-Url` may name (an emulator, a
    /// proxy the operator runs); Salesforce's own https domains are always accepted.
    pub fn with_direct_hosts(mut self, hosts: Vec<String>) -> Self {
        self.direct_hosts = hosts;
        self
    }

    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self.clients = Mutex::new(Kept::new(self.capacity));
        self
    }

    /// Clients currently kept.
    pub fn len(&self) -> usize {
        self.lock().clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The client for the tenant these headers name, or the default one when they name none.
    pub fn client_for(&self, headers: &HeaderMap) -> Result<SalesforceClient, TenantError> {
        let Some(request) = TenantRequest::from_headers(headers)? else {
            return self.without_request();
        };
        let (cache_key, connection) = self.connection_for(request)?;
        self.client_for_connection(cache_key, connection)
    }

    /// The kept client under `cache_key`, or a new one for `connection`: for tenants the
    /// edge resolved some other way (an sfmcp OAuth token). `cache_key` must digest every
    /// credential that reaches upstream, so two credentials never share a client.
    pub fn client_for_connection(
        &self,
        cache_key: String,
        connection: Connection,
    ) -> Result<SalesforceClient, TenantError> {
        let mut kept = self.lock();
        if let Some(client) = kept.clients.get(&cache_key) {
            return Ok(client.clone());
        }
        let client = SalesforceClient::new(Arc::clone(&self.context), connection)
            .map_err(|e| TenantError(e.to_string()))?;
        if let Some(gone) = kept.insert(cache_key, client.clone())
            && self.default.as_ref().map(SalesforceClient::tenant) != Some(&gone)
        {
            self.context.forget_tenant(&gone);
        }
        Ok(client)
    }

    /// The client for a call that came with no HTTP request to name a tenant: the default
    /// one, when the server has one.
    pub fn without_request(&self) -> Result<SalesforceClient, TenantError> {
        self.default
            .clone()
            .ok_or_else(|| TenantError(self.missing_tenant()))
    }

    fn missing_tenant(&self) -> String {
        let mut ways = Vec::new();
        if let Some(p) = &self.paragon {
            if p.signing_key.is_some() {
                ways.push("X-Paragon-User (and X-Paragon-Credential)");
            }
            ways.push("X-Paragon-User-Token (and X-Paragon-Credential)");
        }
        if self.allow_direct {
            ways.push("X-Salesforce-Instance-Url with X-Salesforce-Access-Token");
        }
        if ways.is_empty() {
            "this server has no Salesforce connection configured; the operator must set SF_* or PARAGON_* settings".into()
        } else {
            format!(
                "this server serves many tenants and the request named none: the host must send {}",
                ways.join(", or ")
            )
        }
    }

    /// The connection for a tenant request, and the key its client is kept under (a hash
    /// of everything that reaches upstream, so two credentials never share a client).
    fn connection_for(&self, request: TenantRequest) -> Result<(String, Connection), TenantError> {
        match request {
            TenantRequest::ParagonUser {
                user,
                credential,
                instance_url,
            } => {
                let project = self.paragon.as_ref().ok_or_else(|| {
                    TenantError("X-Paragon-User was sent, but this server has no Paragon project: the operator must set PARAGON_PROJECT_ID and PARAGON_SIGNING_KEY_FILE".into())
                })?;
                let key = project.signing_key.clone().ok_or_else(|| {
                    TenantError("X-Paragon-User was sent, but this server cannot mint Paragon user tokens: the operator must set PARAGON_SIGNING_KEY_FILE, or the host must send X-Paragon-User-Token instead".into())
                })?;
                let cache_key = digest(&[
                    "mint",
                    &user,
                    credential.as_deref().unwrap_or(""),
                    instance_url.as_ref().map_or("", Url::as_str),
                ]);
                let connection = Connection::paragon(ParagonAuth {
                    proxy_url: project.proxy_url.clone(),
                    project_id: project.project_id.clone(),
                    user: ParagonUser::Signing { key, user_id: user },
                    credential_id: credential,
                    instance_url,
                })
                .with_settings(header_settings("X-Paragon-User"));
                Ok((cache_key, connection))
            }
            TenantRequest::ParagonToken {
                token,
                credential,
                instance_url,
            } => {
                let project = self.paragon.as_ref().ok_or_else(|| {
                    TenantError("X-Paragon-User-Token was sent, but this server has no Paragon project: the operator must set PARAGON_PROJECT_ID".into())
                })?;
                let verified_user = match &project.public_key {
                    Some(public_key) => Some(verify_user_token(public_key, token.expose())?),
                    None => None,
                };
                let cache_key = digest(&[
                    "token",
                    token.expose(),
                    credential.as_deref().unwrap_or(""),
                    instance_url.as_ref().map_or("", Url::as_str),
                ]);
                let mut connection = Connection::paragon(ParagonAuth {
                    proxy_url: project.proxy_url.clone(),
                    project_id: project.project_id.clone(),
                    user: ParagonUser::Token(token),
                    credential_id: credential.clone(),
                    instance_url,
                })
                .with_settings(header_settings("X-Paragon-User-Token"));
                if let Some(user) = verified_user {
                    // The same key minted tokens get: a tenant's caches and cursors outlive
                    // any one of its tokens.
                    connection.tenant = Some(TenantKey::new(format!(
                        "paragon:{}:user={user}:{}",
                        project.project_id,
                        credential.as_deref().unwrap_or("-")
                    )));
                }
                Ok((cache_key, connection))
            }
            TenantRequest::Direct {
                instance_url,
                access_token,
            } => {
                if !self.allow_direct {
                    return Err(TenantError("X-Salesforce-Access-Token was sent, but this server does not take Salesforce credentials per request: the operator must start it with --allow-direct-tenants".into()));
                }
                // The server fetches from this URL and may quote what it answers in an error:
                // an arbitrary host would let a caller probe the operator's internal network.
                if !direct_host_allowed(&instance_url, &self.direct_hosts) {
                    return Err(TenantError(format!(
                        "X-Salesforce-Instance-Url must be the org's https URL on a Salesforce domain (e.g. https://acme.my.salesforce.com), not {}; the operator can allow other hosts with --direct-tenant-host",
                        instance_url.host_str().unwrap_or("")
                    )));
                }
                let cache_key = digest(&["direct", instance_url.as_str(), access_token.expose()]);
                let connection = Connection::direct(
                    Some(instance_url.clone()),
                    DirectCredential::AccessToken {
                        access_token,
                        login_url: instance_url,
                        client: None,
                    },
                )
                .with_settings(header_settings("X-Paragon-User-Token"));
                Ok((cache_key, connection))
            }
        }
    }
}

/// Caps the tool calls one tenant has running at once on this server. Salesforce limits
/// an org's concurrent long-running requests, and every tenant shares this server's
/// workers: a tenant over its cap waits briefly for a slot, then gets a tool error saying
/// so, while other tenants' calls go straight through.
pub struct CallLimiter {
    per_tenant: usize,
    wait: Duration,
    /// Tenants whose slots are kept; idle ones are dropped past this many.
    capacity: usize,
    slots: Mutex<HashMap<TenantKey, Arc<Semaphore>>>,
}

impl fmt::Debug for CallLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallLimiter")
            .field("per_tenant", &self.per_tenant)
            .field("wait", &self.wait)
            .field("tenants", &self.tenants())
            .finish()
    }
}

impl CallLimiter {
    pub fn new(per_tenant: usize, wait: Duration, capacity: usize) -> Self {
        CallLimiter {
            per_tenant: per_tenant.max(1),
            wait,
            capacity: capacity.max(1),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Tenants whose slots are kept.
    pub fn tenants(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// A slot for one call of `tenant`, held until the permit drops.
    pub async fn acquire(&self, tenant: &TenantKey) -> Result<OwnedSemaphorePermit, TenantError> {
        let slots = {
            let mut all = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            if !all.contains_key(tenant) && all.len() >= self.capacity {
                // Only idle tenants go: a busy tenant's semaphore must stay the one its
                // running calls hold, or its cap would reset.
                all.retain(|_, slots| Arc::strong_count(slots) > 1);
            }
            Arc::clone(
                all.entry(tenant.clone())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant))),
            )
        };
        match tokio::time::timeout(self.wait, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(TenantError(format!(
                "too many tool calls at once for this Salesforce org: {} are already running and none finished within {} ms. Wait for them to finish and call again, one at a time (the operator sets the cap with SFMCP_MAX_CALLS_PER_TENANT).",
                self.per_tenant,
                self.wait.as_millis()
            ))),
        }
    }
}

/// The tenant one request names.
#[derive(Debug)]
enum TenantRequest {
    /// `instance_url` (optional) is only for record links: the proxy picks the org.
    ParagonUser {
        user: String,
        credential: Option<String>,
        instance_url: Option<Url>,
    },
    ParagonToken {
        token: Secret,
        credential: Option<String>,
        instance_url: Option<Url>,
    },
    Direct {
        instance_url: Url,
        access_token: Secret,
    },
}

impl TenantRequest {
    fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, TenantError> {
        let user = header(headers, PARAGON_USER_HEADER)?;
        let token = header(headers, PARAGON_USER_TOKEN_HEADER)?;
        let credential = header(headers, PARAGON_CREDENTIAL_HEADER)?;
        let instance = header(headers, SALESFORCE_INSTANCE_HEADER)?;
        let access_token = header(headers, SALESFORCE_TOKEN_HEADER)?;
        let paragon = user.is_some() || token.is_some() || credential.is_some();
        if paragon && access_token.is_some() {
            return Err(TenantError("the request names a Paragon tenant and a Salesforce access token: send either the X-Paragon-* headers or the X-Salesforce-* headers".into()));
        }
        let instance_url = instance
            .as_deref()
            .map(|text| {
                Url::parse(text)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some())
                    .ok_or_else(|| TenantError("X-Salesforce-Instance-Url must be the org's URL, e.g. https://acme.my.salesforce.com".into()))
            })
            .transpose()?;
        if let Some(credential) = &credential
            && !credential
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(TenantError(
                "X-Paragon-Credential must be the credential's id (letters, digits, '-')".into(),
            ));
        }
        match (user, token, instance_url, access_token) {
            (None, None, None, None) if credential.is_none() => Ok(None),
            (Some(_), Some(_), _, _) => Err(TenantError("send either X-Paragon-User (sfmcp mints the token) or X-Paragon-User-Token (the host minted it), not both".into())),
            (Some(user), None, instance_url, _) => Ok(Some(TenantRequest::ParagonUser {
                user,
                credential,
                instance_url,
            })),
            (None, Some(token), instance_url, _) => Ok(Some(TenantRequest::ParagonToken {
                token: Secret::new(token),
                credential,
                instance_url,
            })),
            (None, None, Some(instance_url), Some(access_token)) => {
                Ok(Some(TenantRequest::Direct {
                    instance_url,
                    access_token: Secret::new(access_token),
                }))
            }
            (None, None, Some(_), None) => Err(TenantError(
                "X-Salesforce-Instance-Url needs X-Salesforce-Access-Token beside it".into(),
            )),
            (None, None, None, Some(_)) => Err(TenantError(
                "X-Salesforce-Access-Token needs X-Salesforce-Instance-Url beside it".into(),
            )),
            (None, None, None, None) => Err(TenantError(
                "X-Paragon-Credential needs X-Paragon-User or X-Paragon-User-Token beside it"
                    .into(),
            )),
        }
    }
}

/// A header's trimmed value; empty counts as absent.
fn header(headers: &HeaderMap, name: &str) -> Result<Option<String>, TenantError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(TenantError(format!(
            "{name} was sent more than once: send it once"
        )));
    }
    let text = value
        .to_str()
        .map_err(|_| TenantError(format!("{name} must be plain ASCII text")))?
        .trim();
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// Checks a host-minted Paragon user token: RS256, signed by the project's key, not
/// expired. Returns its subject, the user id.
fn verify_user_token(key: &DecodingKey, token: &str) -> Result<String, TenantError> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.validate_aud = false;
    validation.leeway = 30;
    let data = jsonwebtoken::decode::<ParagonClaims>(token, key, &validation).map_err(|e| {
        let why = match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => "it has expired",
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                "it is not signed with the project's signing key"
            }
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => "it is not signed with RS256",
            _ => "it is not a valid Paragon user token (a JWT with sub and exp)",
        };
        TenantError(format!(
            "X-Paragon-User-Token was refused: {why}. The host must mint a fresh token for this user with the project's signing key."
        ))
    })?;
    if data.claims.sub.trim().is_empty() {
        return Err(TenantError(
            "X-Paragon-User-Token was refused: its sub (the user id) is empty".into(),
        ));
    }
    Ok(data.claims.sub)
}

fn digest(parts: &[&str]) -> String {
    sfmcp_salesforce::crypto::digest_hex(parts, 32)
}

/// Where Salesforce serves orgs (production, sandboxes, Government Cloud, Alibaba Cloud).
const SALESFORCE_DOMAINS: &[&str] = &[
    "salesforce.com",
    "force.com",
    "cloudforce.com",
    "database.com",
    "salesforce.mil",
    "sfcrmproducts.cn",
];

fn direct_host_allowed(url: &Url, extra_hosts: &[String]) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let with_port = url.port().map(|port| format!("{host}:{port}"));
    if extra_hosts.iter().any(|allowed| {
        allowed.eq_ignore_ascii_case(&host)
            || with_port
                .as_deref()
                .is_some_and(|h| allowed.eq_ignore_ascii_case(h))
    }) {
        return true;
    }
    url.scheme() == "https"
        && url.port().is_none()
        && SALESFORCE_DOMAINS.iter().any(|domain| {
            host.strip_suffix(domain)
                .is_some_and(|prefix| prefix.ends_with('.'))
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;
    use sfmcp_salesforce::ClientOptions;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("header"));
        }
        map
    }

    fn clients(paragon: bool, allow_direct: bool) -> TenantClients {
        let context = ClientContext::new(ClientOptions::default()).expect("context");
        let project = paragon.then(|| ParagonProject {
            proxy_url: Url::parse("http://127.0.0.1:9").expect("url"),
            project_id: "proj".into(),
            signing_key: None,
            public_key: None,
        });
        TenantClients::new(context, project, allow_direct, None)
    }

    #[test]
    fn no_tenant_and_no_default_says_which_headers_to_send() {
        let error = clients(true, true)
            .client_for(&HeaderMap::new())
            .unwrap_err();
        assert!(error.0.contains("X-Paragon-User-Token"), "{error}");
        assert!(error.0.contains("X-Salesforce-Instance-Url"), "{error}");
    }

    #[test]
    fn different_tokens_get_different_clients_and_tenants() {
        let tenants = clients(true, false);
        let a = tenants
            .client_for(&headers(&[(PARAGON_USER_TOKEN_HEADER, "token-a")]))
            .expect("a");
        let a_again = tenants
            .client_for(&headers(&[(PARAGON_USER_TOKEN_HEADER, "token-a")]))
            .expect("a again");
        let b = tenants
            .client_for(&headers(&[(PARAGON_USER_TOKEN_HEADER, "token-b")]))
            .expect("b");
        assert_eq!(a.tenant(), a_again.tenant());
        assert_ne!(a.tenant(), b.tenant());
        assert!(!a.tenant().as_str().contains("token-a"));
        assert_eq!(tenants.len(), 2);
    }

    #[test]
    fn the_map_is_bounded_and_drops_the_least_recently_used() {
        let tenants = clients(true, false).with_capacity(2);
        let get = |t: &str| {
            tenants
                .client_for(&headers(&[(PARAGON_USER_TOKEN_HEADER, t)]))
                .expect("client")
        };
        let a = get("a");
        get("b");
        get("a");
        get("c");
        assert_eq!(tenants.len(), 2);
        // "b" went, "a" stayed: the same client (and token) again.
        let kept = tenants.lock();
        assert!(kept.clients.iter().any(|(_, c)| c.tenant() == a.tenant()));
    }

    #[test]
    fn a_tenant_is_forgotten_only_when_its_last_client_goes() {
        let context = ClientContext::new(ClientOptions::default()).expect("context");
        let client = |tenant: &str| {
            let url = Url::parse("https://acme.my.salesforce.com").expect("url");
            let mut connection = Connection::direct(
                Some(url.clone()),
                DirectCredential::AccessToken {
                    access_token: Secret::new("00D!token"),
                    login_url: url,
                    client: None,
                },
            );
            connection.tenant = Some(TenantKey::new(tenant.to_string()));
            SalesforceClient::new(Arc::clone(&context), connection).expect("client")
        };
        let mut kept = Kept::new(2);
        assert_eq!(kept.insert("a".into(), client("user-1")), None);
        assert_eq!(kept.insert("b".into(), client("user-1")), None);
        // "a" goes, but "b" keeps user-1.
        assert_eq!(kept.insert("c".into(), client("user-2")), None);
        kept.clients.get("c");
        // "b" goes now, and user-1 with it; user-2 stays, it has "c" and "d".
        assert_eq!(
            kept.insert("d".into(), client("user-2")),
            Some(TenantKey::new("user-1".to_string()))
        );
        assert_eq!(kept.insert("e".into(), client("user-3")), None);
        assert_eq!(
            kept.insert("f".into(), client("user-3")),
            Some(TenantKey::new("user-2".to_string()))
        );
        assert_eq!(kept.clients.len(), 2);
    }

    #[test]
    fn direct_tenants_need_the_operator_and_both_headers() {
        let direct = [
            (SALESFORCE_INSTANCE_HEADER, "https://acme.my.salesforce.com"),
            (SALESFORCE_TOKEN_HEADER, "00D!secret"),
        ];
        let refused = clients(false, false)
            .client_for(&headers(&direct))
            .unwrap_err();
        assert!(refused.0.contains("--allow-direct-tenants"), "{refused}");
        let client = clients(false, true)
            .client_for(&headers(&direct))
            .expect("allowed");
        assert!(
            client
                .tenant()
                .as_str()
                .starts_with("direct:acme.my.salesforce.com:")
        );
        assert!(!client.tenant().as_str().contains("secret"));
        let half = clients(false, true)
            .client_for(&headers(&direct[..1]))
            .unwrap_err();
        for foreign in [
            "http://acme.my.salesforce.com",
            "https://169.254.169.254",
            "https://127.0.0.1:8080",
            "https://evilsalesforce.com",
            "https://salesforce.com.evil.example",
            "https://acme.my.salesforce.com:8443",
        ] {
            let refused = clients(false, true)
                .client_for(&headers(&[
                    (SALESFORCE_INSTANCE_HEADER, foreign),
                    (SALESFORCE_TOKEN_HEADER, "00D!secret"),
                ]))
                .unwrap_err();
            assert!(
                refused.0.contains("--direct-tenant-host"),
                "{foreign}: {refused}"
            );
        }
        let emulator = [
            (SALESFORCE_INSTANCE_HEADER, "http://127.0.0.1:8080"),
            (SALESFORCE_TOKEN_HEADER, "00D!secret"),
        ];
        clients(false, true)
            .with_direct_hosts(vec!["127.0.0.1:8080".into()])
            .client_for(&headers(&emulator))
            .expect("a host the operator listed");
        clients(false, true)
            .with_direct_hosts(vec!["127.0.0.1:9090".into()])
            .client_for(&headers(&emulator))
            .expect_err("another port on that host is not listed");
        assert!(half.0.contains("X-Salesforce-Access-Token"), "{half}");
    }

    #[test]
    fn mixed_repeated_or_malformed_headers_are_refused() {
        let tenants = clients(true, true);
        for bad in [
            vec![
                (PARAGON_USER_TOKEN_HEADER, "t"),
                (SALESFORCE_TOKEN_HEADER, "s"),
            ],
            vec![
                (PARAGON_USER_TOKEN_HEADER, "t"),
                (SALESFORCE_INSTANCE_HEADER, "not a url"),
            ],
            vec![
                (PARAGON_USER_TOKEN_HEADER, "t"),
                (PARAGON_USER_TOKEN_HEADER, "u"),
            ],
            vec![
                (PARAGON_USER_TOKEN_HEADER, "t"),
                (PARAGON_CREDENTIAL_HEADER, "a/b"),
            ],
            vec![(PARAGON_CREDENTIAL_HEADER, "abc")],
            vec![(PARAGON_USER_HEADER, "u")],
        ] {
            assert!(tenants.client_for(&headers(&bad)).is_err(), "{bad:?}");
        }
    }
}
