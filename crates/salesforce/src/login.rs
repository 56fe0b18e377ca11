//! The OAuth web-server flow with PKCE and a loopback redirect, for people connecting their
//! own org (`sfmcp login` runs it and serves the callback), and the owner-only file that
//! keeps the refresh token.
//!
//! The browser is sent to `{login}/services/oauth2/authorize`; Salesforce redirects back to
//! `http://127.0.0.1:{port}/oauth/callback` with a code, which is exchanged (with the PKCE
//! verifier) for a refresh token. The token goes to the user's config directory only, never
//! to the project or the logs.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};
use url::Url;

use super::auth::{OAuthClient, TokenResponse};
use super::errors::{AuthFlow, SfError};
use super::secret::Secret;

/// The callback path registered on the connected app: `http://127.0.0.1:{port}/oauth/callback`.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// A PKCE verifier and its S256 challenge (RFC 7636).
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
}

impl Pkce {
    pub fn generate() -> Self {
        const UNRESERVED: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        let verifier: String = (0..64)
            .map(|_| char::from(UNRESERVED[crate::crypto::random_below(UNRESERVED.len())]))
            .collect();
        let challenge = Pkce::challenge_for(&verifier);
        Pkce {
            verifier: Secret::new(verifier),
            challenge,
        }
    }

    pub fn challenge_for(verifier: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(crate::crypto::sha256(verifier.as_bytes()))
    }
}

/// What the login needs.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// https://login.salesforce.com, https://test.salesforce.com or a My Domain.
    pub login_url: Url,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// The loopback port of the callback; the connected app's callback URL must match.
    pub port: u16,
    /// Scopes to ask for; `api refresh_token` unless told otherwise.
    pub scopes: String,
}

/// What is kept after a login: enough for `serve` to renew tokens itself.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredCredentials {
    pub instance_url: String,
    pub login_url: String,
    pub client_id: String,
    #[serde(serialize_with = "expose_secret")]
    pub refresh_token: Secret,
    /// Kept when given at login, for apps that require the secret on refresh.
    #[serde(
        default,
        serialize_with = "expose_optional_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_secret: Option<Secret>,
    /// The identity URL (`.../id/{orgId}/{userId}`), to tell people which org this is.
    #[serde(default)]
    pub identity_url: Option<String>,
    /// The scopes Salesforce granted (the token response's `scope`), space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Only the credentials file writes a secret out; `Secret` itself is not `Serialize`, so no
/// other structure can put one into JSON by accident.
fn expose_secret<S: serde::Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

fn expose_optional_secret<S: serde::Serializer>(
    secret: &Option<Secret>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_str(secret.expose()),
        None => serializer.serialize_none(),
    }
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredentials")
            .field("instance_url", &self.instance_url)
            .field("login_url", &self.login_url)
            .field("client_id", &self.client_id)
            .field("refresh_token", &self.refresh_token)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

/// One connected app's web-server flow (authorization code + PKCE) with one redirect URI:
/// `sfmcp login` runs it on a loopback port, `sfmcp serve --oauth` on its public callback.
/// The one place that talks to Salesforce's authorize, token and revoke endpoints for it.
#[derive(Debug, Clone)]
pub struct WebServerFlow {
    pub login_url: Url,
    pub client: OAuthClient,
    /// Must be one of the connected app's callback URLs, character for character.
    pub redirect_uri: String,
    pub scopes: String,
}

impl WebServerFlow {
    fn endpoint(&self, name: &str) -> Result<Url, SfError> {
        let base = self.login_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/services/oauth2/{name}")).map_err(|_| {
            SfError::InvalidRequest {
                message: format!("SF_LOGIN_URL {} cannot be used as a base URL", self.login_url),
                next_step: "Use https://login.salesforce.com, https://test.salesforce.com or the org's My Domain URL.".into(),
            }
        })
    }

    /// The authorize URL the person opens.
    pub fn authorize_url(&self, challenge: &str, state: &str) -> Result<Url, SfError> {
        let mut url = self.endpoint("authorize")?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("scope", &self.scopes)
            .append_pair("state", state);
        Ok(url)
    }

    /// Exchanges an authorization code (with the PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        code: &str,
        verifier: &Secret,
    ) -> Result<StoredCredentials, SfError> {
        let endpoint = self.endpoint("token")?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", self.client.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", verifier.expose()),
        ];
        if let Some(secret) = &self.client.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let (status, token): (u16, TokenResponse) = super::auth::post_oauth_form(
            http,
            &endpoint,
            AuthFlow::AuthorizationCode,
            &form,
            "the authorization-code grant",
            "the token response is not the JSON Salesforce sends",
        )
        .await?;
        let refresh_token = token.refresh_token.ok_or_else(|| SfError::Auth {
            flow: AuthFlow::AuthorizationCode,
            status: Some(status),
            error: "no_refresh_token".into(),
            description: "Salesforce issued no refresh token".into(),
        })?;
        Ok(StoredCredentials {
            instance_url: token
                .instance_url
                .unwrap_or_else(|| self.login_url.to_string()),
            login_url: self.login_url.to_string(),
            client_id: self.client.client_id.clone(),
            refresh_token,
            client_secret: self.client.client_secret.clone(),
            identity_url: token.id,
            scope: token.scope,
        })
    }

    /// Uses a refresh token once, which tells whether Salesforce still honours it (the
    /// person or an admin may have revoked it). Returns the rotated refresh token when the
    /// app rotates them.
    pub async fn check_refresh_token(
        &self,
        http: &reqwest::Client,
        refresh_token: &Secret,
    ) -> Result<Option<Secret>, SfError> {
        let endpoint = self.endpoint("token")?;
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", self.client.client_id.as_str()),
        ];
        if let Some(secret) = &self.client.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let (_, token): (u16, TokenResponse) = super::auth::post_oauth_form(
            http,
            &endpoint,
            AuthFlow::RefreshToken,
            &form,
            "the refresh-token grant",
            "the token response is not the JSON Salesforce sends",
        )
        .await?;
        Ok(token.refresh_token)
    }

    /// Revokes a refresh token (and with it the access tokens issued through it).
    pub async fn revoke(&self, http: &reqwest::Client, token: &Secret) -> Result<(), SfError> {
        let endpoint = self.endpoint("revoke")?;
        let response = http
            .post(endpoint.clone())
            .form(&[("token", token.expose())])
            .send()
            .await
            .map_err(|e| super::transport::unreachable(&e, &endpoint, "SF_LOGIN_URL"))?;
        let status = response.status().as_u16();
        // Salesforce answers 400 invalid_token for a token it no longer knows: already gone.
        if (200..300).contains(&status) || status == 400 {
            return Ok(());
        }
        Err(SfError::Auth {
            flow: AuthFlow::RefreshToken,
            status: Some(status),
            error: "revoke_failed".into(),
            description: "Salesforce did not revoke the token".into(),
        })
    }
}

impl LoginOptions {
    /// `sfmcp login`'s flow: the loopback callback on [`LoginOptions::port`].
    pub fn flow(&self) -> WebServerFlow {
        WebServerFlow {
            login_url: self.login_url.clone(),
            client: OAuthClient {
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.clone(),
            },
            redirect_uri: redirect_uri(self.port),
            scopes: self.scopes.clone(),
        }
    }
}

/// The authorize URL the person opens.
pub fn authorize_url(options: &LoginOptions, pkce: &Pkce, state: &str) -> Result<Url, SfError> {
    options.flow().authorize_url(&pkce.challenge, state)
}

pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}{CALLBACK_PATH}")
}

/// Exchanges an authorization code (with the PKCE verifier) for tokens.
pub async fn exchange_code(
    options: &LoginOptions,
    http: &reqwest::Client,
    code: &str,
    pkce: &Pkce,
) -> Result<StoredCredentials, SfError> {
    options
        .flow()
        .exchange_code(http, code, &pkce.verifier)
        .await
}

/// Where `sfmcp login` keeps its credentials: `$SFMCP_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/sfmcp`, else `~/.config/sfmcp`; file `credentials.toml`.
pub fn credentials_path() -> Option<PathBuf> {
    let dir = std::env::var_os("SFMCP_CONFIG_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CONFIG_HOME")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join("sfmcp"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join(".config").join("sfmcp"))
        })?;
    Some(dir.join("credentials.toml"))
}

/// Writes the credentials readable by the owner only, whole or not at all (a temporary
/// file renamed into place).
pub fn save_credentials(path: &Path, credentials: &StoredCredentials) -> std::io::Result<()> {
    let text = toml::to_string(credentials).map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("toml.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    {
        use std::io::Write;
        let mut file = options.open(&temporary)?;
        #[cfg(unix)]
        {
            // `mode` applies only to new files: tighten one left over from before.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}

/// Reads stored credentials; `Ok(None)` when there are none.
pub fn load_credentials(path: &Path) -> Result<Option<StoredCredentials>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    toml::from_str(&text).map(Some).map_err(|e| {
        format!(
            "{} is damaged ({}); run `sfmcp login` again",
            path.display(),
            e.message()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_the_rfc_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            Pkce::challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::generate();
        assert_eq!(pkce.verifier.expose().len(), 64);
        assert_eq!(pkce.challenge, Pkce::challenge_for(pkce.verifier.expose()));
    }
}
