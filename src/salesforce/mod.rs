//! The Salesforce REST client: auth planes (token, refresh, client credentials, JWT bearer,
//! Paragon proxy), errors, ids, record URLs, the describe cache and API-usage tracking.
//!
//! The client can send only GET, POST and PATCH: there is no way to express a DELETE.
//!
//! Typical use:
//! ```no_run
//! # async fn demo() -> Result<(), sfmcp::salesforce::SfError> {
//! use sfmcp::salesforce::*;
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
//! let page = client.query("SELECT Id, Name FROM Account", QueryOptions::default()).await?;
//! # let _ = (info, page); Ok(()) }
//! ```

pub mod auth;
pub mod client;
pub mod describe_cache;
pub mod errors;
pub mod ids;
pub mod secret;
pub mod urls;
pub mod usage;

pub use auth::{
    Connection, DirectAuth, DirectCredential, JwtBearerClaims, OAuthClient, PARAGON_DEFAULT_PROXY,
    ParagonAuth, ParagonClaims, ParagonUser, Plane, ScopeInfo, Scopes, SigningKey, TenantKey,
    TokenResponse,
};
pub use client::{
    ApiVersion, ClientContext, ClientOptions, ConnectInfo, CreateResult, DescribeFetch,
    GlobalDescribe, LimitInfo, ParameterizedSearch, PlaneKind, QueryOptions, QueryResult,
    RetryPolicy, SObjectSummary, SalesforceClient, SearchObject, SearchResult,
};
pub use describe_cache::{DescribeCache, TenantSchema};
pub use errors::{ApiErrorItem, AuthFlow, NetworkFailure, SfError, WriteKind};
pub use ids::{IdError, SalesforceId, standard_object_for_prefix};
pub use secret::Secret;
pub use urls::RecordLinks;
pub use usage::{ApiUsage, CallPriority, UsageLevel, UsagePolicy, UsageTracker, parse_limit_info};
