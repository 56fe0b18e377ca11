//! The Salesforce REST client: auth planes (token, refresh, client credentials, JWT bearer,
//! Paragon proxy), errors, ids, record URLs, the describe cache and API-usage tracking.
//!
//! The client can send only GET, POST and PATCH: there is no way to express a DELETE.
//!
//! # Layout
//!
//! - `client`: [`ClientContext`] (shared pool, caches) and [`SalesforceClient`] (one org as
//!   one tenant: connecting, accessors).
//! - `transport`: the HTTP layer every call goes through: the no-DELETE `HttpMethod`, signing,
//!   renewal on 401, usage ceiling, retries ([`RetryPolicy`]) and the mapping of every failure
//!   to an [`SfError`].
//! - `api/`: the calls by Salesforce area (`versions`, `describe`, `query`, `sobjects`,
//!   `search`, `limits`), each an `impl SalesforceClient` block with the types it returns.
//! - `auth/`: credentials and tokens: the direct plane (`direct`), the Paragon plane
//!   (`paragon`), token handling (`token`: the one OAuth form post, scopes, signing keys) and
//!   the single-flight renewal (`mod`). `login`: the PKCE login flow and its credential file.
//! - `crypto`: SHA-256 and constant-time comparison (aws-lc-rs) and random bytes (the OS's
//!   `getrandom`), for every crate
//!   above this one. `retry`: the backoff helper shared with the audit's collectors.
//! - `errors`, `ids`, `urls`, `describe_cache`, `usage`, `secret`; `outage`: after a
//!   connection attempt times out, calls fail at once while one background check tries again.
//!
//! # For the MCP layer
//!
//! - **Connecting**: `config::ConnectionSettings` (flatten it into the subcommand's args)
//!   `.resolve()` gives a [`Connection`] or a `ConfigError` naming the setting. Then
//!   [`ClientContext::new`] once per process, [`ClientContext::client_for`] (or
//!   [`SalesforceClient::new`]) per connection/tenant, and [`SalesforceClient::connect`],
//!   which returns [`ConnectInfo`]: API version, instance URL, [`ScopeInfo`] (`allows_api()`
//!   is `Some(false)` when the grant lacks `api`), tenant key.
//! - **Calls**: `query` / `query_more` (pass `nextRecordsUrl` as given, also for child
//!   subqueries) / `tooling_query`, `describe` (cached) / `objects` (describe global,
//!   cached) / `describe_object` (uncached, conditional), `get_record`, `create`, `update`,
//!   `search` (SOSL; the caller escapes), `parameterized_search`, `limits`, `object_for_id`.
//! - **Who and where**: [`SalesforceClient::identity`] (user, org, scopes; fetched once),
//!   [`SalesforceClient::scope_granted`] before a call.
//! - **Validation**: [`SalesforceClient::schema`] is a `soql::schema::Schema`; on
//!   `Lookup::NotLoaded`, call `describe(name)` and validate again.
//! - **Links**: [`SalesforceClient::record_links`] → [`RecordLinks::template`] once per
//!   result, [`RecordLinks::url`] per record.
//! - **Errors**: every failure is an [`SfError`]: show `to_string()`, `error_code()`,
//!   `fields()` and `next_step()`. [`SfError::WriteOutcomeUnknown`] means "check before
//!   retrying". [`SfError::UsageCeiling`] means only essential calls go.
//! - **Usage**: [`SalesforceClient::usage`] after a call; `.warning()` is the sentence to
//!   append to a result when usage is high.
//!
//! Typical use:
//! ```no_run
//! # async fn demo() -> Result<(), sfmcp_salesforce::SfError> {
//! use sfmcp_salesforce::*;
//! let connection = Connection::direct(
//!     Some(url::Url::parse("https://acme.my.salesforce.com").map_err(|e| SfError::InvalidRequest {
//!         message: e.to_string(), next_step: String::new() })?),
//!     DirectCredential::AccessToken {
//!         access_token: Secret::new("00D...!..."),
//!         login_url: url::Url::parse("https://login.salesforce.com").map_err(|e| SfError::InvalidRequest {
//!             message: e.to_string(), next_step: String::new() })?,
//!         client: None,
//!     },
//! );
//! let (client, info) = SalesforceClient::connect_with(connection, ClientOptions::default()).await?;
//! // Records as lean `Record`s (what the query tools render), or as JSON for a few fields.
//! let page: QueryPage<Record> = client.query("SELECT Id, Name FROM Account", QueryOptions::default()).await?;
//! let names: Vec<&str> = page.records.iter().filter_map(|r| r.get("Name")?.as_str()).collect();
//! # let _ = (info, names); Ok(()) }
//! ```

pub mod api;
pub mod auth;
pub mod client;
pub mod crypto;
pub mod describe_cache;
pub mod errors;
pub mod ids;
pub mod login;
mod outage;
mod records;
pub mod retry;
pub mod secret;
pub mod transport;
pub mod urls;
pub mod usage;

pub use api::collections::{
    MAX_COLLECTION_CHUNKS, MAX_COLLECTION_RECORDS, RecordOutcome, Upserted,
};
pub use api::describe::{DescribeFetch, GlobalDescribe, SObjectSummary};
pub use api::files::FileHead;
pub use api::identity::{ConnectedOrg, ConnectedUser, IDENTITY_SCOPES, Identity};
pub use api::limits::LimitInfo;
pub use api::listviews::{ListView, ListViewColumn, ListViewDescribe, ListViews};
pub use api::query::{QueryOptions, QueryPage};
pub use api::reports::{
    DashboardComponent, DashboardComponentData, DashboardMetadata, DashboardResult,
    DashboardSummary, GroupingSpec, GroupingValue, Groupings, InstanceResult, ReportDescribe,
    ReportExtendedMetadata, ReportFilter, ReportInstance, ReportMetadata, ReportRun, ReportTypeRef,
    check_boolean_filter,
};
pub use api::search::{ParameterizedSearch, SearchObject, SearchResult};
pub use api::sobjects::CreateResult;
pub use api::versions::ApiVersion;
pub use auth::{
    Connection, DirectAuth, DirectCredential, JwtBearerClaims, OAuthClient, PARAGON_DEFAULT_PROXY,
    ParagonAuth, ParagonClaims, ParagonUser, Plane, ScopeInfo, Scopes, SettingNames, SigningKey,
    TenantKey, TokenResponse,
};
pub use client::{
    ClientContext, ClientOptions, ConnectInfo, PlaneKind, SalesforceClient, TenantsHeld,
};
pub use describe_cache::{DescribeCache, TenantSchema};
pub use errors::{ApiErrorItem, AuthFlow, NetworkFailure, RecordWrite, SfError};
pub use ids::{IdError, SalesforceId, standard_object_for_prefix};
pub use records::{Children, Field, PageRecord, Record};
pub use secret::Secret;
pub use transport::RetryPolicy;
pub use urls::RecordLinks;
pub use usage::{ApiUsage, CallPriority, UsageLevel, UsagePolicy, UsageTracker, parse_limit_info};
