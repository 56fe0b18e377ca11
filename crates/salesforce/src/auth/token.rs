//! Token handling shared by every flow: the token endpoint's answer, its OAuth errors, the
//! one form post to Salesforce's OAuth endpoints, granted scopes, and signing keys.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use super::super::errors::{AuthFlow, SfError};
use super::super::secret::Secret;

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

    pub(super) fn sign<T: Serialize>(
        &self,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
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

    /// Whether `scope` is granted: `None` when the scopes are unknown (the Paragon plane, a
    /// fixed token nothing could introspect). `full` covers every scope but the ones that
    /// yield refresh tokens, as Salesforce defines it.
    pub fn grants(&self, scope: &str) -> Option<bool> {
        match self {
            ScopeInfo::Unknown => None,
            ScopeInfo::Granted(s) => Some(
                s.contains(scope)
                    || (s.contains("full") && !matches!(scope, "refresh_token" | "offline_access")),
            ),
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

fn oauth_error(flow: AuthFlow, status: u16, body: &[u8]) -> SfError {
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

/// Salesforce's OAuth endpoints are always the operator's to configure: the server's own
/// connection and the sign-ins of `--oauth` both use SF_LOGIN_URL, and a per-request
/// tenant's fixed token is never renewed or introspected.
const LOGIN_URL_SETTING: &str = "SF_LOGIN_URL";

/// Posts `form` to one of Salesforce's OAuth endpoints (token, introspect) and reads its JSON
/// answer: the one place for the request, the unreachable mapping, the OAuth error mapping
/// and the parse. `what` and `detail` word the error for an answer that is not that JSON.
pub(crate) async fn post_oauth_form<T: DeserializeOwned>(
    http: &reqwest::Client,
    endpoint: &Url,
    flow: AuthFlow,
    form: &[(&str, &str)],
    what: &str,
    detail: &str,
) -> Result<(u16, T), SfError> {
    let response = http
        .post(endpoint.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .map_err(|e| super::super::transport::unreachable(&e, endpoint, LOGIN_URL_SETTING))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| super::super::transport::unreachable(&e, endpoint, LOGIN_URL_SETTING))?;
    if !(200..300).contains(&status) {
        return Err(oauth_error(flow, status, &body));
    }
    let parsed = serde_json::from_slice(&body).map_err(|_| SfError::UnexpectedResponse {
        what: what.to_string(),
        status,
        detail: detail.to_string(),
        setting: LOGIN_URL_SETTING,
    })?;
    Ok((status, parsed))
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
        let granted = ScopeInfo::Granted(Scopes::parse("web openid"));
        assert_eq!(granted.grants("api"), Some(false));
        assert_eq!(granted.grants("web"), Some(true));
        let full = ScopeInfo::Granted(Scopes::parse("full"));
        assert_eq!(full.grants("api"), Some(true));
        assert_eq!(full.grants("refresh_token"), Some(false));
        assert_eq!(ScopeInfo::Unknown.grants("api"), None);
    }
}
