//! IdP directory collectors: Okta, Microsoft Entra ID (Graph), Google Workspace, JumpCloud and
//! OneLogin, each producing an [`IdpDirectory`] with statuses normalised by [`super::idp`].
//!
//! Every collector reads its settings from the environment (errors name the variable to set),
//! follows all pages, honours 429 `Retry-After` a bounded number of times, refuses to follow a
//! next-page link to another host, and never logs or returns a credential.
//!
//! | IdP | required | optional |
//! |---|---|---|
//! | okta | `OKTA_ORG_URL`, `OKTA_API_TOKEN` | |
//! | entra | `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` | `GRAPH_BASE_URL`, `AZURE_AUTHORITY_URL` |
//! | google | `GOOGLE_SERVICE_ACCOUNT_KEY_FILE`, `GOOGLE_ADMIN_SUBJECT` | `GOOGLE_CUSTOMER` (default `my_customer`), `GOOGLE_DIRECTORY_BASE_URL`, `GOOGLE_TOKEN_URL` (default: the key file's `token_uri`) |
//! | jumpcloud | `JUMPCLOUD_API_KEY` | `JUMPCLOUD_BASE_URL` |
//! | onelogin | `ONELOGIN_CLIENT_ID`, `ONELOGIN_CLIENT_SECRET`, `ONELOGIN_SUBDOMAIN` | `ONELOGIN_BASE_URL` (then the subdomain is not needed) |
//!
//! ```no_run
//! # async fn demo() -> Result<(), sfmcp_audit::collect::CollectError> {
//! use sfmcp_audit::IdpKind;
//! let directory = sfmcp_audit::collect::collect(IdpKind::Okta).await?;
//! # Ok(()) }
//! ```
//!
//! Base URLs must be `https://`, except on loopback (the emulator), so a token never travels
//! in clear text.

mod entra;
pub mod file;
mod google;
mod http;
mod jumpcloud;
mod okta;
mod onelogin;
pub mod salesforce;

use std::time::Duration;

use super::model::{IdpDirectory, IdpKind};

pub use http::CollectError;

/// How collectors page and retry. The defaults are each vendor's maximum page size and a few
/// bounded retries.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Page size; `None` is the vendor's maximum (Okta 200, Graph 999, Google 500, JumpCloud
    /// 100, OneLogin 100). Larger values are clamped to that maximum.
    pub page_size: Option<u32>,
    /// How many times one request is retried after a 429 or a 502/503/504.
    pub max_retries: u32,
    /// The longest `Retry-After` obeyed; a longer one fails the collection with a clear error.
    pub max_retry_wait: Duration,
    /// Per-request timeout.
    pub request_timeout: Duration,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            page_size: None,
            max_retries: 5,
            max_retry_wait: Duration::from_secs(120),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Parses `--idp` names: okta, entra (or azure), google, jumpcloud, onelogin.
pub fn parse_kind(name: &str) -> Option<IdpKind> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "okta" => IdpKind::Okta,
        "entra" | "azure" | "azuread" | "entra-id" => IdpKind::Entra,
        "google" | "gworkspace" | "google-workspace" => IdpKind::Google,
        "jumpcloud" => IdpKind::JumpCloud,
        "onelogin" => IdpKind::OneLogin,
        _ => return None,
    })
}

/// Collects one IdP's whole directory with settings from the process environment.
pub async fn collect(kind: IdpKind) -> Result<IdpDirectory, CollectError> {
    collect_with(
        kind,
        &|name| std::env::var(name).ok(),
        &CollectOptions::default(),
    )
    .await
}

/// Collects with settings from `env` (a variable lookup, so tests need not touch the process
/// environment) and explicit options.
pub async fn collect_with(
    kind: IdpKind,
    env: &dyn Fn(&str) -> Option<String>,
    options: &CollectOptions,
) -> Result<IdpDirectory, CollectError> {
    collect_settings(settings(kind, env)?, options).await
}

/// One IdP's settings, read and checked before any request.
pub struct Settings(VendorSettings);

enum VendorSettings {
    Okta(okta::Settings),
    Entra(entra::Settings),
    Google(google::Settings),
    JumpCloud(jumpcloud::Settings),
    OneLogin(onelogin::Settings),
}

/// Reads `kind`'s settings from `env` without sending anything, so the lookup need not live
/// across the collection's awaits.
pub fn settings(
    kind: IdpKind,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, CollectError> {
    Ok(Settings(match kind {
        IdpKind::Okta => VendorSettings::Okta(okta::Settings::from_env(env)?),
        IdpKind::Entra => VendorSettings::Entra(entra::Settings::from_env(env)?),
        IdpKind::Google => VendorSettings::Google(google::Settings::from_env(env)?),
        IdpKind::JumpCloud => VendorSettings::JumpCloud(jumpcloud::Settings::from_env(env)?),
        IdpKind::OneLogin => VendorSettings::OneLogin(onelogin::Settings::from_env(env)?),
        IdpKind::File => {
            return Err(CollectError::UnknownIdp(
                "file (use audit::collect::file::load for exports)".into(),
            ));
        }
    }))
}

/// Collects the whole directory the settings name.
pub async fn collect_settings(
    settings: Settings,
    options: &CollectOptions,
) -> Result<IdpDirectory, CollectError> {
    match settings.0 {
        VendorSettings::Okta(s) => okta::collect(s, options).await,
        VendorSettings::Entra(s) => entra::collect(s, options).await,
        VendorSettings::Google(s) => google::collect(s, options).await,
        VendorSettings::JumpCloud(s) => jumpcloud::collect(s, options).await,
        VendorSettings::OneLogin(s) => onelogin::collect(s, options).await,
    }
}

/// [`collect`] for synchronous callers (the CLI): runs its own small runtime. Must not be
/// called from inside an async runtime.
pub fn collect_blocking(name: &str) -> Result<IdpDirectory, CollectError> {
    let kind = parse_kind(name).ok_or_else(|| CollectError::UnknownIdp(name.to_owned()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CollectError::Runtime(e.to_string()))?;
    runtime.block_on(collect(kind))
}

/// A required variable, trimmed; an empty value counts as unset.
fn required(
    env: &dyn Fn(&str) -> Option<String>,
    variable: &'static str,
    what: &'static str,
) -> Result<String, CollectError> {
    optional(env, variable).ok_or(CollectError::MissingSetting { variable, what })
}

fn optional(env: &dyn Fn(&str) -> Option<String>, variable: &str) -> Option<String> {
    env(variable)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A base URL from a setting: absolute, http(s), https unless loopback, no trailing slash.
fn base_url(variable: &'static str, value: &str) -> Result<url::Url, CollectError> {
    let bad = |message: String| CollectError::BadSetting { variable, message };
    let parsed = url::Url::parse(value.trim()).map_err(|e| {
        bad(format!(
            "`{value}` is not a URL ({e}); e.g. https://example.okta.com"
        ))
    })?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(bad(format!(
                "`{value}` uses http://; credentials are only sent over https:// (plain http is \
                 allowed for 127.0.0.1 / localhost)"
            )));
        }
        other => return Err(bad(format!("`{value}` has scheme {other}; use https://"))),
    }
    if parsed.host().is_none() {
        return Err(bad(format!("`{value}` has no host")));
    }
    let mut parsed = parsed;
    let trimmed = parsed.path().trim_end_matches('/').to_owned();
    parsed.set_path(&trimmed);
    parsed.set_query(None);
    parsed.set_fragment(None);
    Ok(parsed)
}

/// `base` + `path`, for a base URL that may carry a path prefix.
fn join(base: &url::Url, path: &str) -> url::Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    url
}

/// The page size to ask for: the option, clamped to the vendor's maximum, at least 1.
fn page_size(options: &CollectOptions, vendor_max: u32) -> u32 {
    options.page_size.unwrap_or(vendor_max).clamp(1, vendor_max)
}

/// A safety net against a server that never stops paging.
const MAX_PAGES: usize = 100_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_need_https_except_on_loopback() {
        assert!(base_url("OKTA_ORG_URL", "https://acme.okta.com/").is_ok());
        assert!(base_url("OKTA_ORG_URL", "http://127.0.0.1:8080").is_ok());
        assert!(base_url("OKTA_ORG_URL", "http://localhost:1").is_ok());
        let err = base_url("OKTA_ORG_URL", "http://acme.okta.com")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("OKTA_ORG_URL") && err.contains("https"),
            "{err}"
        );
        assert!(base_url("OKTA_ORG_URL", "acme.okta.com").is_err());
    }

    #[test]
    fn join_keeps_a_path_prefix() {
        let base = base_url("X", "https://h.example/prefix/").ok();
        let joined = base.map(|b| join(&b, "/api/v1/users").to_string());
        assert_eq!(
            joined.as_deref(),
            Some("https://h.example/prefix/api/v1/users")
        );
    }

    #[test]
    fn page_sizes_are_clamped_to_the_vendor_maximum() {
        let mut options = CollectOptions::default();
        assert_eq!(page_size(&options, 200), 200);
        options.page_size = Some(5000);
        assert_eq!(page_size(&options, 200), 200);
        options.page_size = Some(0);
        assert_eq!(page_size(&options, 200), 1);
    }

    #[test]
    fn idp_names_parse() {
        assert_eq!(parse_kind("Okta"), Some(IdpKind::Okta));
        assert_eq!(parse_kind("azure"), Some(IdpKind::Entra));
        assert_eq!(parse_kind("onelogin"), Some(IdpKind::OneLogin));
        assert_eq!(parse_kind("file"), None);
    }
}
