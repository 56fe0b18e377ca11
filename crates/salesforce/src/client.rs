//! [`SalesforceClient`]: a connection to one org as one tenant, on either credential plane.
//!
//! One pooled HTTP client serves every connection ([`ClientContext`]). The calls are grouped by
//! Salesforce area under `api/` (each an `impl SalesforceClient` block with the types it
//! returns); sending, retrying and error mapping are in `transport.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use url::Url;

use super::auth::{Authenticator, Connection, DirectCredential, Plane, ScopeInfo, TenantKey};
use super::describe_cache::{DescribeCache, TenantSchema};
use super::errors::SfError;
use super::transport::{RetryPolicy, version_path_for};
use super::urls::RecordLinks;
use super::usage::{UsageLevel, UsagePolicy, UsageRegistry, UsageTracker};

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    pub usage: UsagePolicy,
    /// How long a describe is used before it is revalidated with If-Modified-Since.
    pub describe_ttl: Duration,
    /// Requests one tenant may have in flight at once: protects the org's concurrent-request
    /// limit, and keeps one busy tenant from starving the others.
    pub max_concurrent_per_tenant: usize,
    /// How long, from server start, a session's start waits for the connection's identity
    /// and scopes before going on without them (`SFMCP_IDENTITY_WAIT_MS`).
    pub identity_wait: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            usage: UsagePolicy::default(),
            describe_ttl: Duration::from_secs(15 * 60),
            max_concurrent_per_tenant: 8,
            identity_wait: Duration::from_millis(150),
        }
    }
}

/// What every connection of one server shares: the HTTP pool, the describe cache and the
/// per-tenant usage trackers (both keyed by tenant).
#[derive(Debug)]
pub struct ClientContext {
    pub(crate) http: reqwest::Client,
    pub(crate) options: ClientOptions,
    pub(crate) describe_cache: Arc<DescribeCache>,
    pub(crate) usage: UsageRegistry,
    pub(crate) concurrency: Mutex<HashMap<TenantKey, Arc<tokio::sync::Semaphore>>>,
    pub(crate) clients: Mutex<HashMap<TenantKey, SalesforceClient>>,
}

/// Clients kept by [`ClientContext::client_for`] before old ones are dropped.
const MAX_POOLED_CLIENTS: usize = 4096;

impl ClientContext {
    pub fn new(options: ClientOptions) -> Result<Arc<Self>, SfError> {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .gzip(true)
            .pool_idle_timeout(Duration::from_secs(90))
            // Salesforce's REST API does not redirect; following one could carry the token
            // somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sfmcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SfError::InvalidRequest {
                message: format!("the HTTP client could not be built: {e}"),
                next_step: "This is a bug or a broken TLS setup on this machine; please report it."
                    .into(),
            })?;
        Ok(Arc::new(ClientContext {
            http,
            describe_cache: Arc::new(DescribeCache::new(options.describe_ttl)),
            usage: UsageRegistry::new(options.usage),
            concurrency: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
            options,
        }))
    }

    fn tenant_permits(&self, tenant: &TenantKey) -> Arc<tokio::sync::Semaphore> {
        let mut all = self
            .concurrency
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        all.entry(tenant.clone())
            .or_insert_with(|| {
                Arc::new(tokio::sync::Semaphore::new(
                    self.options.max_concurrent_per_tenant.max(1),
                ))
            })
            .clone()
    }

    /// The client for a connection's tenant, reused across calls so the tenant's token
    /// (refreshed or minted) survives between requests. Tenants are keyed by verified
    /// identity or a hash of the whole credential, so a different credential never gets
    /// another tenant's client.
    pub fn client_for(
        self: &Arc<Self>,
        connection: Connection,
    ) -> Result<SalesforceClient, SfError> {
        let tenant = connection.tenant_key();
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(&tenant) {
            return Ok(client.clone());
        }
        let client = SalesforceClient::new(self.clone(), connection)?;
        if clients.len() >= MAX_POOLED_CLIENTS
            && let Some(evicted) = clients.keys().next().cloned()
        {
            clients.remove(&evicted);
            self.forget_tenant(&evicted);
        }
        clients.insert(tenant, client.clone());
        Ok(client)
    }

    /// The shared HTTP pool (no redirects followed), for Salesforce's OAuth endpoints.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Drops what is kept for a tenant (describes, usage, concurrency slots), so tenants
    /// keyed by a hash of a rotating token do not pile up.
    pub fn forget_tenant(&self, tenant: &TenantKey) {
        self.describe_cache.invalidate(tenant);
        self.usage.forget(tenant.as_str());
        self.concurrency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
    }

    /// How many tenants each per-tenant store holds, to show they stay bounded.
    pub fn tenants_held(&self) -> TenantsHeld {
        TenantsHeld {
            describes: self.describe_cache.tenant_count(),
            usage: self.usage.snapshot().len(),
            concurrency: self
                .concurrency
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
            pooled_clients: self
                .clients
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
        }
    }

    pub fn describe_cache(&self) -> &Arc<DescribeCache> {
        &self.describe_cache
    }

    pub fn usage(&self) -> &UsageRegistry {
        &self.usage
    }
}

/// Tenants held by each per-tenant store of a [`ClientContext`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TenantsHeld {
    pub describes: usize,
    pub usage: usize,
    pub concurrency: usize,
    pub pooled_clients: usize,
}

/// What connecting learnt.
#[derive(Debug, Clone)]
pub struct ConnectInfo {
    /// `62.0`; `None` on the Paragon plane, where the proxy picks.
    pub api_version: Option<String>,
    pub instance_url: Option<Url>,
    pub scopes: ScopeInfo,
    /// The identity URL from the token response (`.../id/{orgId}/{userId}`), when given.
    pub identity_url: Option<String>,
    pub tenant: TenantKey,
}

/// A connection to one org as one tenant. Cheap to clone; clones share the token.
#[derive(Clone)]
pub struct SalesforceClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) context: Arc<ClientContext>,
    pub(crate) auth: Authenticator,
    pub(crate) tenant: TenantKey,
    pub(crate) usage: Arc<UsageTracker>,
    pub(crate) permits: Arc<tokio::sync::Semaphore>,
    /// The org's instance, learnt from a describe (Paragon plane, for record links).
    pub(crate) learned_instance: std::sync::RwLock<Option<Url>>,
    /// `/services/data/v62.0`, once known.
    pub(crate) version_path: tokio::sync::OnceCell<String>,
    /// Whether the org is known to offer that version (it was picked from the org's list, or
    /// checked after a 404): a configured version the org lacks makes every call a 404.
    pub(crate) version_offered: std::sync::atomic::AtomicBool,
    /// Who and where, once fetched (see `api/identity.rs`).
    pub(crate) identity: tokio::sync::OnceCell<Arc<super::api::identity::Identity>>,
    /// See [`Connection::known_scopes`].
    pub(crate) known_scopes: ScopeInfo,
    /// Whether the org is known unreachable (`outage.rs`).
    pub(crate) outage: super::outage::Outage,
    /// Set once [`SalesforceClient::prefetch_identity`] started (and when): turns true when
    /// it ended.
    pub(crate) prefetch:
        std::sync::OnceLock<(tokio::sync::watch::Receiver<bool>, tokio::time::Instant)>,
}

impl std::fmt::Debug for SalesforceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesforceClient")
            .field("tenant", &self.inner.tenant)
            .field("auth", &self.inner.auth)
            .field("version", &self.inner.version_path.get())
            .finish()
    }
}

impl SalesforceClient {
    /// Builds a client without touching the network; call [`SalesforceClient::connect`] next.
    pub fn new(context: Arc<ClientContext>, connection: Connection) -> Result<Self, SfError> {
        let version_path = tokio::sync::OnceCell::new();
        if let Some(version) = &connection.api_version {
            let _ = version_path.set(version_path_for(version)?);
        }
        if let Plane::Direct(direct) = &connection.plane
            && direct.instance_url.is_none()
            && matches!(direct.credential, DirectCredential::AccessToken { .. })
        {
            return Err(SfError::InvalidRequest {
                message: "SF_INSTANCE_URL is not set, and an access token alone does not say which org it belongs to".into(),
                next_step: "Set SF_INSTANCE_URL to the org's URL, e.g. https://acme.my.salesforce.com.".into(),
            });
        }
        let tenant = connection.tenant_key();
        let known_scopes = connection.known_scopes.clone();
        let usage = context.usage.tracker(tenant.as_str());
        let permits = context.tenant_permits(&tenant);
        let auth = Authenticator::new(connection.plane, connection.settings, context.http.clone());
        Ok(SalesforceClient {
            inner: Arc::new(Inner {
                context,
                auth,
                tenant,
                usage,
                permits,
                learned_instance: std::sync::RwLock::new(None),
                version_path,
                version_offered: std::sync::atomic::AtomicBool::new(false),
                identity: tokio::sync::OnceCell::new(),
                prefetch: std::sync::OnceLock::new(),
                known_scopes,
                outage: super::outage::Outage::default(),
            }),
        })
    }

    /// Builds a client with its own context and connects it.
    pub async fn connect_with(
        connection: Connection,
        options: ClientOptions,
    ) -> Result<(Self, ConnectInfo), SfError> {
        let client = SalesforceClient::new(ClientContext::new(options)?, connection)?;
        let info = client.connect().await?;
        Ok((client, info))
    }

    /// Gets a token, settles the API version (the newest the org offers unless one was
    /// configured) and learns the granted scopes.
    pub async fn connect(&self) -> Result<ConnectInfo, SfError> {
        self.learn_grant().await?;
        let api_version = match self.plane() {
            PlaneKind::Direct => Some(self.version_path().await?),
            PlaneKind::Paragon => self.inner.version_path.get().cloned(),
        }
        .map(|p| p.trim_start_matches("/services/data/v").to_string());
        let session = self.inner.auth.session().await?;
        Ok(ConnectInfo {
            api_version,
            instance_url: session.instance_url.clone(),
            scopes: session.scopes.clone(),
            identity_url: session.identity_url.clone(),
            tenant: self.inner.tenant.clone(),
        })
    }

    /// Gets a token and learns the granted scopes: from the token response, else by
    /// introspection (when the connection has a client to introspect with).
    pub(crate) async fn learn_grant(&self) -> Result<ScopeInfo, SfError> {
        let session = self.inner.auth.session().await?;
        if matches!(session.scopes, ScopeInfo::Unknown) {
            match self.inner.auth.introspect(&session.access_token).await {
                Ok(Some(introspected)) => self.inner.auth.learn(introspected),
                Ok(None) => {}
                Err(e) => {
                    // Scopes are advisory: a failed introspection must not block the
                    // connection, the API calls themselves will tell.
                    tracing::warn!(error = %e, "could not introspect the access token's scopes");
                }
            }
        }
        Ok(self.inner.auth.session().await?.scopes.clone())
    }

    /// How long a session's start waits for this connection's identity ([`ClientOptions`]).
    pub fn identity_wait(&self) -> Duration {
        self.inner.context.options.identity_wait
    }

    pub fn tenant(&self) -> &TenantKey {
        &self.inner.tenant
    }

    /// The setting (a variable, or a request header) that decides where this connection's
    /// requests go, for errors that ask to fix it.
    pub fn url_setting(&self) -> &'static str {
        match self.inner.auth.plane() {
            Plane::Direct(_) => self.inner.auth.settings().instance_url,
            Plane::Paragon(_) => "PARAGON_PROXY_URL",
        }
    }

    pub fn plane(&self) -> PlaneKind {
        match self.inner.auth.plane() {
            Plane::Direct(_) => PlaneKind::Direct,
            Plane::Paragon(_) => PlaneKind::Paragon,
        }
    }

    /// The granted scopes, as far as known (after [`SalesforceClient::connect`]).
    pub async fn scopes(&self) -> Result<ScopeInfo, SfError> {
        Ok(self.inner.auth.session().await?.scopes.clone())
    }

    /// Whether the connection's grant includes `scope`, from what is known now (the token
    /// response's `scope`, else introspection, else what the connection was built knowing):
    /// `Some(true/false)`, or `None` when unknown (the Paragon plane; before
    /// [`SalesforceClient::connect`]). For checking before a call.
    pub fn scope_granted(&self, scope: &str) -> Option<bool> {
        self.inner
            .auth
            .current_session()
            .and_then(|session| session.scopes.grants(scope))
            .or_else(|| self.inner.known_scopes.grants(scope))
    }

    /// How record links are made for this org (needs the instance URL: after connecting on
    /// the direct plane; on the Paragon plane only when one was configured).
    ///
    /// On the Paragon plane without a configured instance URL, the org's host is learnt from
    /// the absolute `uiDetailTemplate` in an object's describe (the User describe, cached,
    /// if no describe was fetched yet).
    pub async fn record_links(&self) -> Result<RecordLinks, SfError> {
        let session = self.inner.auth.session().await?;
        if let Some(instance) = &session.instance_url {
            return Ok(RecordLinks::for_instance(instance));
        }
        if self.learned_instance().is_none() && self.plane() == PlaneKind::Paragon {
            // A failure here only costs the links, never the caller's result.
            if let Err(e) = self.describe("User").await {
                tracing::debug!(error = %e, "could not learn the org's host for record links");
            }
        }
        Ok(self
            .learned_instance()
            .as_ref()
            .map_or(RecordLinks::None, RecordLinks::for_instance))
    }

    pub(crate) fn learned_instance(&self) -> Option<Url> {
        self.inner
            .learned_instance
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Where the org's API usage stands, from the last response.
    pub fn usage(&self) -> UsageLevel {
        self.inner.usage.level()
    }

    /// Whether Salesforce refused this connection's grant (`invalid_grant`: a refresh token
    /// revoked or expired there), so no call on it can succeed until someone signs in again.
    pub fn grant_revoked(&self) -> bool {
        self.inner.auth.grant_revoked()
    }

    /// Tokens fetched or minted so far by this connection (for metrics and tests).
    pub fn token_renewals(&self) -> u64 {
        self.inner.auth.renewals()
    }

    /// The API version in use, once settled.
    pub fn api_version(&self) -> Option<String> {
        self.inner
            .version_path
            .get()
            .map(|p| p.trim_start_matches("/services/data/v").to_string())
    }

    /// Validation's view of this tenant's cached describes.
    pub fn schema(&self) -> TenantSchema {
        self.inner
            .context
            .describe_cache
            .tenant_schema(self.inner.tenant.clone())
    }
}

/// Which credential plane a client is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaneKind {
    Direct,
    Paragon,
}
