//! The direct plane: a fixed access token, the refresh-token grant, client credentials and
//! the JWT bearer grant against `{login}/services/oauth2/token`, and token introspection.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use url::Url;

use super::super::errors::{AuthFlow, SfError};
use super::super::secret::Secret;
use super::token::{ScopeInfo, Scopes, SigningKey, TokenResponse, post_oauth_form};
use super::{Authenticator, Plane, Session, fingerprint, now_secs};

/// Salesforce accepts JWT bearer assertions up to 3 minutes ahead.
const JWT_ASSERTION_LIFETIME: u64 = 180;

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
    pub(super) fn login_url(&self) -> Option<&Url> {
        match self {
            DirectCredential::AccessToken { login_url, .. }
            | DirectCredential::RefreshToken { login_url, .. }
            | DirectCredential::ClientCredentials { login_url, .. }
            | DirectCredential::JwtBearer { login_url, .. } => Some(login_url),
        }
    }

    pub(super) fn fingerprint(&self) -> String {
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

#[derive(Deserialize)]
struct IntrospectionBody {
    #[serde(default)]
    active: bool,
    #[serde(default)]
    scope: Option<String>,
    /// The token's identity URL (`.../id/{orgId}/{userId}`).
    #[serde(default)]
    sub: Option<String>,
}

/// What introspection says of an active token.
#[derive(Debug, Clone, Default)]
pub struct Introspected {
    pub scopes: Option<Scopes>,
    pub identity_url: Option<String>,
}

/// Claims of a Salesforce JWT bearer assertion.
#[derive(Debug, Serialize, Deserialize)]
pub struct JwtBearerClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
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

impl Authenticator {
    pub(super) async fn obtain_direct(
        &self,
        direct: &DirectAuth,
        first: bool,
    ) -> Result<Session, SfError> {
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
                        flow: self.flow(),
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

    pub(super) async fn token_grant(
        &self,
        login_url: &Url,
        flow: AuthFlow,
        form: &[(&str, &str)],
        direct: &DirectAuth,
    ) -> Result<Session, SfError> {
        let endpoint = oauth_endpoint(login_url, "token")?;
        self.renewals.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%flow, endpoint = %endpoint.origin().ascii_serialization(), "requesting a Salesforce token");
        let (_, token): (u16, TokenResponse) = post_oauth_form(
            &self.http,
            &endpoint,
            flow,
            form,
            &format!("the {flow}"),
            "the token response is not the JSON Salesforce sends",
        )
        .await?;
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
    pub async fn introspect(&self, token: &Secret) -> Result<Option<Introspected>, SfError> {
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
        let (status, parsed): (u16, IntrospectionBody) = post_oauth_form(
            &self.http,
            &endpoint,
            AuthFlow::Introspection,
            &form,
            "token introspection",
            "not the JSON Salesforce sends",
        )
        .await?;
        if !parsed.active {
            return Err(SfError::Auth {
                flow: AuthFlow::Introspection,
                status: Some(status),
                error: "inactive_token".into(),
                description: "Salesforce says the access token is no longer active".into(),
            });
        }
        Ok(Some(Introspected {
            scopes: parsed.scope.as_deref().map(Scopes::parse),
            identity_url: parsed.sub,
        }))
    }
}
