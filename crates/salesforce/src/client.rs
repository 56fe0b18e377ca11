//! [`SalesforceClient`]: the REST calls sfmcp makes, on either credential plane.
//!
//! One pooled HTTP client serves every connection ([`ClientContext`]). The HTTP layer can
//! express only GET, POST and PATCH (`HttpMethod` has no other variant), so no code path
//! can delete anything. Reads are retried on 5xx and connection failures with short jittered
//! backoff; writes never are, and a write whose outcome is unknown says so.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use super::auth::{
    Authenticator, Connection, DirectCredential, Plane, ScopeInfo, Session, TenantKey,
};
use super::describe_cache::{DescribeCache, TenantSchema};
use super::errors::{ApiErrorItem, NetworkFailure, RecordWrite, SfError};
use super::ids::SalesforceId;
use super::urls::RecordLinks;
use super::usage::{CallPriority, UsageLevel, UsagePolicy, UsageRegistry, UsageTracker};
use sfmcp_soql::schema::ObjectSchema;

/// The only methods the product may send. There is deliberately no way to name any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HttpMethod {
    Get,
    Post,
    Patch,
}

impl HttpMethod {
    fn to_reqwest(self) -> reqwest::Method {
        match self {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Patch => reqwest::Method::PATCH,
        }
    }
}

/// Retry rules for reads. Writes are never retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First delay after a connection failure; kept tiny so a dead endpoint fails fast.
    pub connect_backoff: Duration,
    /// First delay after a 5xx.
    pub server_error_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            connect_backoff: Duration::from_millis(5),
            server_error_backoff: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    /// Exponential (x4) with jitter in [half, full] of the step.
    fn delay(base: Duration, retry: u32) -> Duration {
        let step = base.saturating_mul(4u32.saturating_pow(retry.saturating_sub(1)));
        step.mul_f64(0.5 + 0.5 * crate::crypto::random_unit())
    }
}

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
        }
    }
}

/// What every connection of one server shares: the HTTP pool, the describe cache and the
/// per-tenant usage trackers (both keyed by tenant).
#[derive(Debug)]
pub struct ClientContext {
    http: reqwest::Client,
    options: ClientOptions,
    describe_cache: Arc<DescribeCache>,
    usage: UsageRegistry,
    concurrency: Mutex<HashMap<TenantKey, Arc<tokio::sync::Semaphore>>>,
    clients: Mutex<HashMap<TenantKey, SalesforceClient>>,
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

/// One row of `GET /services/data/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiVersion {
    pub label: String,
    pub url: String,
    pub version: String,
}

impl ApiVersion {
    fn number(&self) -> (u32, u32) {
        let (major, minor) = self.version.split_once('.').unwrap_or((&self.version, "0"));
        (major.parse().unwrap_or(0), minor.parse().unwrap_or(0))
    }
}

/// A page of query results as Salesforce's REST API answers it (`totalSize`, `done`,
/// `nextRecordsUrl`). Records stay JSON: their shape follows the query. Not the evaluator's
/// `sfmcp_soql::eval::QueryResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    pub total_size: u64,
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_records_url: Option<String>,
    #[serde(default, deserialize_with = "super::records::deserialize")]
    pub records: Vec<Value>,
}

/// Describe Global: the objects the user can see.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GlobalDescribe {
    pub sobjects: Vec<SObjectSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectSummary {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub label_plural: String,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub searchable: bool,
    #[serde(default)]
    pub retrieveable: bool,
}

/// The answer to a (conditional) describe.
#[derive(Debug, Clone)]
pub enum DescribeFetch {
    Modified {
        schema: Box<ObjectSchema>,
        /// `Last-Modified` from the response, for the next `If-Modified-Since`.
        last_modified: Option<String>,
    },
    /// 304: the copy the caller holds is current.
    NotModified,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateResult {
    pub id: String,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<ApiErrorItem>,
}

/// SOSL results (`searchRecords`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub search_records: Vec<Value>,
}

/// A `parameterizedSearch` request.
#[derive(Debug, Clone, Default)]
pub struct ParameterizedSearch {
    /// The search text; Salesforce escapes it, no SOSL syntax needed.
    pub text: String,
    pub objects: Vec<SearchObject>,
    pub overall_limit: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct SearchObject {
    pub name: String,
    pub fields: Vec<String>,
    pub limit: Option<u32>,
}

/// One entry of `GET /limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitInfo {
    #[serde(rename = "Max")]
    pub max: i64,
    #[serde(rename = "Remaining")]
    pub remaining: i64,
}

/// Query options.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueryOptions {
    /// `queryAll`: include deleted and archived rows.
    pub include_deleted: bool,
    /// `Sforce-Query-Options: batchSize=N` (200..=2000; a hint Salesforce may ignore).
    pub batch_size: Option<u16>,
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

/// Where a request goes, relative to the plane.
#[derive(Debug, Clone)]
enum Target {
    /// `GET /services/data/`
    Versions,
    /// A path under `/services/data/vXX.X`, such as `/query`.
    Versioned(String),
    /// A path Salesforce handed back (`nextRecordsUrl`), already checked.
    ServerPath(String),
}

struct ApiRequest {
    method: HttpMethod,
    target: Target,
    query: Vec<(String, String)>,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
    priority: CallPriority,
    /// For writes: what to say when the outcome is unknown.
    write: Option<(RecordWrite, String, Option<String>)>,
    /// For messages: "query", "describe Account".
    what: String,
}

impl ApiRequest {
    fn get(target: Target, what: impl Into<String>) -> Self {
        ApiRequest {
            method: HttpMethod::Get,
            target,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            priority: CallPriority::Normal,
            write: None,
            what: what.into(),
        }
    }

    fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }
}

struct ApiResponse {
    status: u16,
    last_modified: Option<String>,
    body: Vec<u8>,
}

impl ApiResponse {
    fn json<T: for<'de> Deserialize<'de>>(&self, what: &str) -> Result<T, SfError> {
        serde_json::from_slice(&self.body).map_err(|e| SfError::UnexpectedResponse {
            what: what.to_string(),
            status: self.status,
            detail: format!("the body is not the JSON expected ({e})"),
        })
    }
}

/// A connection to one org as one tenant. Cheap to clone; clones share the token.
#[derive(Clone)]
pub struct SalesforceClient {
    inner: Arc<Inner>,
}

struct Inner {
    context: Arc<ClientContext>,
    auth: Authenticator,
    tenant: TenantKey,
    usage: Arc<UsageTracker>,
    permits: Arc<tokio::sync::Semaphore>,
    /// The org's instance, learnt from a describe (Paragon plane, for record links).
    learned_instance: std::sync::RwLock<Option<Url>>,
    /// `/services/data/v62.0`, once known.
    version_path: tokio::sync::OnceCell<String>,
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
        let usage = context.usage.tracker(tenant.as_str());
        let permits = context.tenant_permits(&tenant);
        let auth = Authenticator::new(connection.plane, context.http.clone());
        Ok(SalesforceClient {
            inner: Arc::new(Inner {
                context,
                auth,
                tenant,
                usage,
                permits,
                learned_instance: std::sync::RwLock::new(None),
                version_path,
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
        let session = self.inner.auth.session().await?;
        if matches!(session.scopes, ScopeInfo::Unknown) {
            match self.inner.auth.introspect(&session.access_token).await {
                Ok(Some(scopes)) => self.inner.auth.set_scopes(scopes),
                Ok(None) => {}
                Err(e) => {
                    // Scopes are advisory: a failed introspection must not block the
                    // connection, the API calls themselves will tell.
                    tracing::warn!(error = %e, "could not introspect the access token's scopes");
                }
            }
        }
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

    pub fn tenant(&self) -> &TenantKey {
        &self.inner.tenant
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

    fn learned_instance(&self) -> Option<Url> {
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

    // ---- REST calls ----------------------------------------------------------------

    /// `GET /services/data/`: the versions the org offers, oldest first.
    pub async fn api_versions(&self) -> Result<Vec<ApiVersion>, SfError> {
        if self.plane() == PlaneKind::Paragon {
            return Err(SfError::InvalidRequest {
                message: "the API version list is not reachable through the Paragon proxy, which pins its own version".into(),
                next_step: "Nothing to do: calls on the Paragon plane use the proxy's version.".into(),
            });
        }
        let mut request = ApiRequest::get(Target::Versions, "the API version list");
        request.priority = CallPriority::Essential;
        // Straight to `send`: the version list is what settles the version.
        let response = self.send(request, None).await?;
        let mut versions: Vec<ApiVersion> = response.json("the API version list")?;
        versions.sort_by_key(ApiVersion::number);
        Ok(versions)
    }

    /// `GET /sobjects`: every object the user can see.
    pub async fn describe_global(&self) -> Result<GlobalDescribe, SfError> {
        let response = self
            .execute(ApiRequest::get(
                Target::Versioned("/sobjects".into()),
                "describe global",
            ))
            .await?;
        response.json("describe global")
    }

    /// `GET /sobjects/{object}/describe`, conditional when `if_modified_since` is given.
    pub async fn describe_object(
        &self,
        object: &str,
        if_modified_since: Option<&str>,
    ) -> Result<DescribeFetch, SfError> {
        check_name(object, "object")?;
        let what = format!("describe {object}");
        let mut request = ApiRequest::get(
            Target::Versioned(format!("/sobjects/{object}/describe")),
            &what,
        );
        if let Some(since) = if_modified_since {
            request
                .headers
                .push(("If-Modified-Since", since.to_string()));
        }
        let response = self.execute(request).await?;
        if response.status == 304 {
            return Ok(DescribeFetch::NotModified);
        }
        let schema: ObjectSchema = response.json(&what)?;
        if self.plane() == PlaneKind::Paragon
            && self.learned_instance().is_none()
            && let Some(instance) = instance_from_describe(&response.body)
        {
            *self
                .inner
                .learned_instance
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(instance);
        }
        Ok(DescribeFetch::Modified {
            schema: Box::new(schema.index()),
            last_modified: response.last_modified,
        })
    }

    /// A describe through the cache: fresh entries cost nothing, stale ones are
    /// revalidated with If-Modified-Since.
    pub async fn describe(&self, object: &str) -> Result<Arc<ObjectSchema>, SfError> {
        self.inner
            .context
            .describe_cache
            .describe(self, &self.inner.tenant, object)
            .await
    }

    /// Describe global through the cache.
    pub async fn objects(&self) -> Result<Arc<GlobalDescribe>, SfError> {
        self.inner
            .context
            .describe_cache
            .global(self, &self.inner.tenant)
            .await
    }

    /// The object an id belongs to: well-known standard prefixes first, then the org's
    /// describe global (cached), which also knows custom objects.
    pub async fn object_for_id(&self, id: &SalesforceId) -> Result<Option<String>, SfError> {
        if let Some(object) = id.standard_object() {
            return Ok(Some(object.to_string()));
        }
        let global = self.objects().await?;
        Ok(global
            .sobjects
            .iter()
            .find(|o| o.key_prefix.as_deref() == Some(id.key_prefix()))
            .map(|o| o.name.clone()))
    }

    /// `GET /query` (or `/queryAll`): the first page.
    pub async fn query(&self, soql: &str, options: QueryOptions) -> Result<QueryPage, SfError> {
        let resource = if options.include_deleted {
            "/queryAll"
        } else {
            "/query"
        };
        let mut request =
            ApiRequest::get(Target::Versioned(resource.into()), "the query").query("q", soql);
        add_batch_size(&mut request, options.batch_size);
        self.execute(request).await?.json("the query")
    }

    /// The next page, from a `nextRecordsUrl` this org returned.
    pub async fn query_more(
        &self,
        next_records_url: &str,
        batch_size: Option<u16>,
    ) -> Result<QueryPage, SfError> {
        let path = check_server_path(next_records_url)?;
        let mut request = ApiRequest::get(Target::ServerPath(path), "the next query page");
        add_batch_size(&mut request, batch_size);
        self.execute(request).await?.json("the next query page")
    }

    /// `GET /tooling/query`.
    pub async fn tooling_query(&self, soql: &str) -> Result<QueryPage, SfError> {
        let request = ApiRequest::get(
            Target::Versioned("/tooling/query".into()),
            "the tooling query",
        )
        .query("q", soql);
        self.execute(request).await?.json("the tooling query")
    }

    /// `GET /sobjects/EventLogFile/{id}/LogFile`: one Event Monitoring log, as the CSV bytes
    /// Salesforce stores (the audit reads bulk and report exports from it).
    pub async fn event_log_file(&self, id: &SalesforceId) -> Result<Vec<u8>, SfError> {
        let request = ApiRequest::get(
            Target::Versioned(format!("/sobjects/EventLogFile/{}/LogFile", id.as_str())),
            "the event log file",
        );
        Ok(self.execute(request).await?.body)
    }

    /// `GET /sobjects/{object}/{id}`, optionally only `fields`.
    pub async fn get_record(
        &self,
        object: &str,
        id: &SalesforceId,
        fields: Option<&[String]>,
    ) -> Result<Map<String, Value>, SfError> {
        check_name(object, "object")?;
        let what = format!("{object} {id}");
        let mut request =
            ApiRequest::get(Target::Versioned(format!("/sobjects/{object}/{id}")), &what);
        if let Some(fields) = fields {
            for field in fields {
                check_name(field, "field")?;
            }
            request = request.query("fields", fields.join(","));
        }
        self.execute(request).await?.json(&what)
    }

    /// `POST /sobjects/{object}`: creates a record; never retried.
    pub async fn create(
        &self,
        object: &str,
        fields: &Map<String, Value>,
    ) -> Result<CreateResult, SfError> {
        check_name(object, "object")?;
        let what = format!("creating a {object}");
        let request = ApiRequest {
            method: HttpMethod::Post,
            target: Target::Versioned(format!("/sobjects/{object}")),
            query: Vec::new(),
            headers: Vec::new(),
            body: Some(Value::Object(fields.clone())),
            priority: CallPriority::Normal,
            write: Some((RecordWrite::Create, object.to_string(), None)),
            what: what.clone(),
        };
        let response = self.execute(request).await?;
        let result: CreateResult = response.json(&what)?;
        if !result.success {
            let mut errors = result.errors.into_iter();
            let first = errors.next();
            return Err(SfError::Api {
                status: response.status,
                code: first
                    .as_ref()
                    .map_or("UNKNOWN_ERROR".into(), |e| e.error_code.clone()),
                message: first
                    .as_ref()
                    .map_or_else(String::new, |e| e.message.clone()),
                fields: first.map(|e| e.fields).unwrap_or_default(),
                others: errors.collect(),
            });
        }
        Ok(result)
    }

    /// `PATCH /sobjects/{object}/{id}`: changes only the fields given; never retried.
    pub async fn update(
        &self,
        object: &str,
        id: &SalesforceId,
        fields: &Map<String, Value>,
    ) -> Result<(), SfError> {
        check_name(object, "object")?;
        let request = ApiRequest {
            method: HttpMethod::Patch,
            target: Target::Versioned(format!("/sobjects/{object}/{id}")),
            query: Vec::new(),
            headers: Vec::new(),
            body: Some(Value::Object(fields.clone())),
            priority: CallPriority::Normal,
            write: Some((
                RecordWrite::Update,
                object.to_string(),
                Some(id.to_string()),
            )),
            what: format!("updating {object} {id}"),
        };
        let response = self.execute(request).await?;
        // Salesforce answers 204 without a body. A success status carrying something that is
        // not JSON came from something else (a proxy's or portal's page): the change cannot
        // be taken as made.
        if response.status != 204
            && !response.body.is_empty()
            && serde_json::from_slice::<Value>(&response.body).is_err()
        {
            return Err(SfError::UnexpectedResponse {
                what: format!("updating {object} {id}"),
                status: response.status,
                detail: format!(
                    "the body is not Salesforce's answer: {}",
                    snippet(&response.body)
                ),
            });
        }
        Ok(())
    }

    /// `GET /search?q=FIND {...}`: a SOSL search. The caller escapes the search text.
    pub async fn search(&self, sosl: &str) -> Result<SearchResult, SfError> {
        let request =
            ApiRequest::get(Target::Versioned("/search".into()), "the search").query("q", sosl);
        parse_search(&self.execute(request).await?)
    }

    /// `GET /parameterizedSearch`: a search without SOSL syntax.
    pub async fn parameterized_search(
        &self,
        search: &ParameterizedSearch,
    ) -> Result<SearchResult, SfError> {
        let mut request = ApiRequest::get(
            Target::Versioned("/parameterizedSearch".into()),
            "the search",
        )
        .query("q", search.text.as_str());
        for object in &search.objects {
            check_name(&object.name, "object")?;
            request = request.query("sobject", object.name.as_str());
            if !object.fields.is_empty() {
                for field in &object.fields {
                    check_name(field, "field")?;
                }
                request =
                    request.query(&format!("{}.fields", object.name), object.fields.join(","));
            }
            if let Some(limit) = object.limit {
                request = request.query(&format!("{}.limit", object.name), limit.to_string());
            }
        }
        if let Some(limit) = search.overall_limit {
            request = request.query("overallLimit", limit.to_string());
        }
        parse_search(&self.execute(request).await?)
    }

    /// `GET /limits`. Sent even above the usage ceiling: it is how people see the usage.
    pub async fn limits(&self) -> Result<BTreeMap<String, LimitInfo>, SfError> {
        let mut request = ApiRequest::get(Target::Versioned("/limits".into()), "the org limits");
        request.priority = CallPriority::Essential;
        let raw: Map<String, Value> = self.execute(request).await?.json("the org limits")?;
        Ok(raw
            .into_iter()
            .filter_map(|(name, value)| {
                serde_json::from_value::<LimitInfo>(value)
                    .ok()
                    .map(|l| (name, l))
            })
            .collect())
    }

    // ---- the HTTP layer --------------------------------------------------------------

    async fn version_path(&self) -> Result<String, SfError> {
        self.inner
            .version_path
            .get_or_try_init(|| async {
                let versions = self.api_versions().await?;
                let newest = versions.last().ok_or_else(|| SfError::UnexpectedResponse {
                    what: "the API version list".into(),
                    status: 200,
                    detail: "the org offers no API version".into(),
                })?;
                check_server_path(&newest.url).map(|p| p.trim_end_matches('/').to_string())
            })
            .await
            .cloned()
    }

    fn url_for(
        &self,
        session: &Session,
        target: &Target,
        version_path: Option<&str>,
    ) -> Result<(Url, &'static str), SfError> {
        match self.inner.auth.plane() {
            Plane::Direct(_) => {
                let base = session.instance_url.as_ref().ok_or_else(|| SfError::InvalidRequest {
                    message: "the org's instance URL is unknown: the token response did not include one".into(),
                    next_step: "Set SF_INSTANCE_URL to the org's URL, e.g. https://acme.my.salesforce.com.".into(),
                })?;
                let path = match target {
                    Target::Versions => "/services/data/".to_string(),
                    Target::Versioned(p) => format!("{}{p}", version_path.unwrap_or_default()),
                    Target::ServerPath(p) => p.clone(),
                };
                Ok((join(base, &path, "SF_INSTANCE_URL")?, "SF_INSTANCE_URL"))
            }
            Plane::Paragon(paragon) => {
                let relative = match target {
                    Target::Versions => String::new(),
                    Target::Versioned(p) => p.clone(),
                    Target::ServerPath(p) => strip_version_prefix(p).to_string(),
                };
                let path = format!(
                    "/projects/{}/sdk/proxy/salesforce{relative}",
                    paragon.project_id
                );
                Ok((
                    join(&paragon.proxy_url, &path, "PARAGON_PROXY_URL")?,
                    "PARAGON_PROXY_URL",
                ))
            }
        }
    }

    async fn execute(&self, request: ApiRequest) -> Result<ApiResponse, SfError> {
        self.inner.usage.admit(request.priority)?;
        let version_path = match (&request.target, self.plane()) {
            (Target::Versioned(_), PlaneKind::Direct) => Some(self.version_path().await?),
            _ => None,
        };
        self.send(request, version_path).await
    }

    async fn send(
        &self,
        request: ApiRequest,
        version_path: Option<String>,
    ) -> Result<ApiResponse, SfError> {
        // Closed never happens (the semaphore lives as long as the context); proceed anyway.
        let _permit = self.inner.permits.acquire().await.ok();
        let retry = self.inner.context.options.retry;
        let mut retries = 0u32;
        let mut renewed = false;
        loop {
            let session = self.inner.auth.session().await?;
            let (url, setting) =
                self.url_for(&session, &request.target, version_path.as_deref())?;
            let mut builder = self
                .inner
                .context
                .http
                .request(request.method.to_reqwest(), url.clone())
                .header(reqwest::header::ACCEPT, "application/json");
            if !matches!(request.target, Target::Versions) {
                builder = builder.bearer_auth(session.access_token.expose());
            }
            if let Plane::Paragon(paragon) = self.inner.auth.plane() {
                builder = builder.header("X-Paragon-Use-Raw-Response", "true");
                if let Some(credential) = &paragon.credential_id {
                    builder = builder.header("X-Paragon-Credential", credential.as_str());
                }
            }
            for (name, value) in &request.headers {
                builder = builder.header(*name, value.as_str());
            }
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            if let Some(body) = &request.body {
                builder = builder.json(body);
            }
            tracing::debug!(method = ?request.method, what = %request.what, tenant = %self.inner.tenant, "Salesforce request");

            let response = match builder.send().await {
                Ok(response) => response,
                Err(e) => {
                    let failure = classify(&e);
                    // A timeout is not retried: asking again would multiply the wait past
                    // what an MCP client waits for a tool (often 60 s in all).
                    if request.method == HttpMethod::Get
                        && retries < retry.max_retries
                        && !matches!(failure, NetworkFailure::Dns | NetworkFailure::Timeout)
                    {
                        retries += 1;
                        tokio::time::sleep(RetryPolicy::delay(retry.connect_backoff, retries))
                            .await;
                        continue;
                    }
                    return Err(self.send_failure(&request, &e, &url, setting));
                }
            };

            let status = response.status().as_u16();
            if let Some(info) = response
                .headers()
                .get("sforce-limit-info")
                .and_then(|v| v.to_str().ok())
            {
                self.inner.usage.record_header(info);
            }
            if status == 401 && !renewed && self.inner.auth.can_renew() {
                renewed = true;
                self.inner.auth.renew(Some(session.generation)).await?;
                continue;
            }
            let last_modified = response
                .headers()
                .get(reqwest::header::LAST_MODIFIED)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = match response.bytes().await {
                Ok(body) => body.to_vec(),
                Err(e) => {
                    let failure = match classify(&e) {
                        NetworkFailure::Timeout => NetworkFailure::Timeout,
                        _ => NetworkFailure::Interrupted,
                    };
                    // A body cut off mid-way: a read can simply be asked again (not after
                    // a timeout, as above).
                    if request.method == HttpMethod::Get
                        && retries < retry.max_retries
                        && failure != NetworkFailure::Timeout
                    {
                        retries += 1;
                        tokio::time::sleep(RetryPolicy::delay(retry.connect_backoff, retries))
                            .await;
                        continue;
                    }
                    return Err(lost_answer(&request, failure, &url, setting));
                }
            };
            if (200..300).contains(&status) || status == 304 {
                let body = if self.plane() == PlaneKind::Paragon {
                    unwrap_paragon_output(body)
                } else {
                    body
                };
                return Ok(ApiResponse {
                    status,
                    last_modified,
                    body,
                });
            }
            let paragon = self.plane() == PlaneKind::Paragon;
            let err = error_from_body(status, &body, paragon, &request.what);
            if status == 401 && paragon && !self.inner.auth.can_renew() {
                // A fixed Paragon token cannot be renewed: say which setting to fix.
                if let SfError::Paragon { .. } = err {
                    return Err(SfError::Auth {
                        flow: self.inner.auth.flow(),
                        status: Some(401),
                        error: "invalid_token".into(),
                        description: err.to_string(),
                    });
                }
            }
            // A 5xx without Salesforce's own error body came from something in between (a
            // load balancer, the Paragon proxy): a write may have reached Salesforce or not,
            // and a "failed, try again" would invite a duplicate create.
            if let Some((kind, object, id)) = &request.write
                && status >= 500
                && !is_salesforce_error(&err)
            {
                return Err(SfError::WriteOutcomeUnknown {
                    kind: *kind,
                    object: object.clone(),
                    id: id.clone(),
                    failure: NetworkFailure::Gateway(status),
                });
            }
            // 5xx, UNABLE_TO_LOCK_ROW, the concurrent-request limit: worth asking again,
            // for reads only.
            if err.is_transient()
                && request.method == HttpMethod::Get
                && retries < retry.max_retries
            {
                retries += 1;
                tokio::time::sleep(RetryPolicy::delay(retry.server_error_backoff, retries)).await;
                continue;
            }
            return Err(err);
        }
    }

    fn send_failure(
        &self,
        request: &ApiRequest,
        error: &reqwest::Error,
        url: &Url,
        setting: &'static str,
    ) -> SfError {
        match &request.write {
            // A connect failure means nothing was sent: the outcome is known.
            Some((kind, object, id)) if !error.is_connect() => SfError::WriteOutcomeUnknown {
                kind: *kind,
                object: object.clone(),
                id: id.clone(),
                failure: classify(error),
            },
            _ => unreachable(error, url, setting),
        }
    }
}

/// The error for an answer whose status arrived but whose body did not.
fn lost_answer(
    request: &ApiRequest,
    failure: NetworkFailure,
    url: &Url,
    setting: &'static str,
) -> SfError {
    match &request.write {
        Some((kind, object, id)) => SfError::WriteOutcomeUnknown {
            kind: *kind,
            object: object.clone(),
            id: id.clone(),
            failure,
        },
        None => SfError::Unreachable {
            target: url.origin().ascii_serialization(),
            setting,
            failure,
        },
    }
}

/// Which credential plane a client is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaneKind {
    Direct,
    Paragon,
}

fn add_batch_size(request: &mut ApiRequest, batch_size: Option<u16>) {
    if let Some(size) = batch_size {
        request.headers.push((
            "Sforce-Query-Options",
            format!("batchSize={}", size.clamp(200, 2000)),
        ));
    }
}

/// Paragon may wrap the provider's answer as `{"output": ...}` when it does not honour the
/// raw-response header; Salesforce never answers with that lone key.
fn unwrap_paragon_output(body: Vec<u8>) -> Vec<u8> {
    let looks_wrapped = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(9)
        .copied()
        .eq(b"{\"output\"".iter().copied());
    if !looks_wrapped {
        return body;
    }
    match serde_json::from_slice::<Map<String, Value>>(&body) {
        Ok(mut wrapper) if wrapper.len() == 1 => match wrapper.remove("output") {
            Some(inner) => serde_json::to_vec(&inner).unwrap_or(body),
            None => body,
        },
        _ => body,
    }
}

/// The org's origin from a describe's absolute `urls.uiDetailTemplate`
/// (`https://acme.my.salesforce.com/{ID}`).
fn instance_from_describe(body: &[u8]) -> Option<Url> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Urls {
        ui_detail_template: Option<String>,
    }
    #[derive(Deserialize)]
    struct Describe {
        urls: Option<Urls>,
    }
    let describe: Describe = serde_json::from_slice(body).ok()?;
    let template = describe.urls?.ui_detail_template?;
    let url = Url::parse(&template).ok()?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return None;
    }
    Url::parse(&url.origin().ascii_serialization()).ok()
}

fn parse_search(response: &ApiResponse) -> Result<SearchResult, SfError> {
    // Before v36 the body was a bare array.
    if let Ok(records) = serde_json::from_slice::<Vec<Value>>(&response.body) {
        return Ok(SearchResult {
            search_records: records,
        });
    }
    response.json("the search")
}

fn version_path_for(version: &str) -> Result<String, SfError> {
    let bare = version.trim().trim_start_matches(['v', 'V']);
    let valid = !bare.is_empty()
        && bare.split('.').count() <= 2
        && bare
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !valid {
        return Err(SfError::InvalidRequest {
            message: format!("SF_API_VERSION '{version}' is not an API version"),
            next_step: "Set SF_API_VERSION to a version such as 62.0, or leave it unset to use the newest the org offers.".into(),
        });
    }
    let bare = if bare.contains('.') {
        bare.to_string()
    } else {
        format!("{bare}.0")
    };
    Ok(format!("/services/data/v{bare}"))
}

/// Object and field API names: letters, digits and underscores, starting with a letter.
fn check_name(name: &str, kind: &str) -> Result<(), SfError> {
    let valid = name.len() <= 255
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(SfError::InvalidRequest {
            message: format!(
                "'{}' is not a Salesforce {kind} name",
                name.chars().take(80).collect::<String>()
            ),
            next_step: format!(
                "Use the {kind}'s API name, e.g. Account or My_Object__c for objects, Name or My_Field__c for fields."
            ),
        })
    }
}

/// Accepts only a path under `/services/data/`, as Salesforce returns in `nextRecordsUrl`,
/// never a full URL: the token must not go to a host the connection did not choose.
fn check_server_path(path: &str) -> Result<String, SfError> {
    let valid = path.starts_with("/services/data/v")
        && !path.contains("..")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'));
    if valid {
        Ok(path.to_string())
    } else {
        Err(SfError::InvalidRequest {
            message: format!(
                "'{}' is not a Salesforce query locator path",
                path.chars().take(120).collect::<String>()
            ),
            next_step: "Pass the nextRecordsUrl exactly as Salesforce returned it (a path starting with /services/data/).".into(),
        })
    }
}

/// `/services/data/v62.0/query/01g...` → `/query/01g...`, for the Paragon proxy, whose paths
/// are relative to the versioned REST base.
fn strip_version_prefix(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/services/data/v") else {
        return path;
    };
    match rest.find('/') {
        Some(i) => &rest[i..],
        None => "",
    }
}

fn join(base: &Url, path: &str, setting: &str) -> Result<Url, SfError> {
    let origin = base.as_str().trim_end_matches('/');
    Url::parse(&format!("{origin}{path}")).map_err(|_| SfError::InvalidRequest {
        message: format!(
            "{setting} ({}) cannot be used as a base URL",
            base.origin().ascii_serialization()
        ),
        next_step: format!("Set {setting} to an https URL such as https://acme.my.salesforce.com."),
    })
}

/// Maps an error body: Salesforce's error array, Paragon's `{message}`, or anything else.
/// Whether Salesforce itself wrote this error (its `[{errorCode, message}]` body), rather
/// than something in front of it. `HTTP_nnn` codes are ours, for bodies without a code.
fn is_salesforce_error(error: &SfError) -> bool {
    matches!(error, SfError::Api { code, .. } if !code.starts_with("HTTP_"))
}

fn error_from_body(status: u16, body: &[u8], paragon: bool, what: &str) -> SfError {
    if let Ok(items) = serde_json::from_slice::<Vec<ApiErrorItem>>(body)
        && !items.is_empty()
    {
        let mut items = items.into_iter();
        if let Some(first) = items.next() {
            return SfError::Api {
                status,
                code: first.error_code,
                message: first.message,
                fields: first.fields,
                others: items.collect(),
            };
        }
    }
    if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
        if let Ok(item) = serde_json::from_value::<ApiErrorItem>(Value::Object(object.clone())) {
            return SfError::Api {
                status,
                code: item.error_code,
                message: item.message,
                fields: item.fields,
                others: Vec::new(),
            };
        }
        if paragon {
            let message = match object.get("message") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => snippet(body),
            };
            let code = object.get("code").map(|c| match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            return SfError::Paragon {
                status,
                message,
                code,
            };
        }
    }
    if status >= 500 {
        return SfError::Api {
            status,
            code: format!("HTTP_{status}"),
            message: snippet(body),
            fields: Vec::new(),
            others: Vec::new(),
        };
    }
    SfError::UnexpectedResponse {
        what: what.to_string(),
        status,
        detail: snippet(body),
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > 200 {
        format!("{}…", collapsed.chars().take(200).collect::<String>())
    } else if collapsed.is_empty() {
        "(empty body)".to_string()
    } else {
        collapsed
    }
}

/// Why a request got no answer, from reqwest's error and its sources.
fn classify(error: &reqwest::Error) -> NetworkFailure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut texts = Vec::new();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return NetworkFailure::Refused,
                std::io::ErrorKind::TimedOut => return NetworkFailure::Timeout,
                // While connecting, malformed data is the TLS layer refusing what it got
                // (plain http where https was expected, a bad certificate).
                std::io::ErrorKind::InvalidData if error.is_connect() => {
                    return NetworkFailure::Tls;
                }
                _ => {}
            }
        }
        texts.push(e.to_string().to_ascii_lowercase());
        source = e.source();
    }
    if error.is_timeout() {
        return NetworkFailure::Timeout;
    }
    let all = texts.join(" ");
    if all.contains("dns")
        || all.contains("lookup address")
        || all.contains("name or service not known")
    {
        NetworkFailure::Dns
    } else if all.contains("certificate")
        || all.contains("tls")
        || all.contains("handshake")
        || all.contains("corrupt message")
    {
        NetworkFailure::Tls
    } else if all.contains("refused") {
        NetworkFailure::Refused
    } else {
        NetworkFailure::Other
    }
}

/// The error for a request that got no HTTP answer. Names only the origin of the URL.
pub(crate) fn unreachable(error: &reqwest::Error, url: &Url, setting: &'static str) -> SfError {
    SfError::Unreachable {
        target: url.origin().ascii_serialization(),
        setting,
        failure: classify(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_paths() {
        assert_eq!(
            version_path_for("62.0").ok().as_deref(),
            Some("/services/data/v62.0")
        );
        assert_eq!(
            version_path_for("v64").ok().as_deref(),
            Some("/services/data/v64.0")
        );
        assert!(version_path_for("latest").is_err());
        assert!(version_path_for("62.0/../x").is_err());
    }

    #[test]
    fn server_paths_are_checked_and_stripped_for_paragon() {
        assert!(check_server_path("/services/data/v62.0/query/01gD0000002HU6KIAW-2000").is_ok());
        assert!(check_server_path("https://evil.example/services/data/v62.0/query/x").is_err());
        assert!(check_server_path("/services/data/v62.0/../../x").is_err());
        assert!(check_server_path("/services/data/v62.0/query?x=1").is_err());
        assert_eq!(
            strip_version_prefix("/services/data/v62.0/query/01gD-2000"),
            "/query/01gD-2000"
        );
    }

    #[test]
    fn paragon_output_wrapper_is_removed_only_when_alone() {
        let wrapped = br#" {"output": {"totalSize": 0, "done": true, "records": []}}"#.to_vec();
        let unwrapped: Value =
            serde_json::from_slice(&unwrap_paragon_output(wrapped)).expect("json");
        assert_eq!(unwrapped["done"], true);
        let two_keys = br#"{"output": 1, "other": 2}"#.to_vec();
        assert_eq!(unwrap_paragon_output(two_keys.clone()), two_keys);
        let plain = br#"{"totalSize": 0}"#.to_vec();
        assert_eq!(unwrap_paragon_output(plain.clone()), plain);
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("My_Object__c", "object").is_ok());
        assert!(check_name("Account/../x", "object").is_err());
        assert!(check_name("", "object").is_err());
        assert!(check_name("1Account", "object").is_err());
    }
}
