//! Credentials and the tokens they yield, on both planes.
//!
//! - Direct plane (`direct.rs`): a fixed access token, the refresh-token grant, client
//!   credentials, or the JWT bearer grant, against `{login}/services/oauth2/token`.
//! - Paragon plane (`paragon.rs`): a Paragon user token, given or minted here from the
//!   project's signing key.
//! - Token handling (`token.rs`): the token endpoint's answer and errors, the one OAuth form
//!   post, granted scopes, signing keys.
//!
//! `Authenticator` (here) holds the current token and renews it at most once at a time:
//! callers that saw the same stale token share one renewal (single flight), and a caller
//! whose token was already replaced just retries with the new one.

mod direct;
mod paragon;
mod token;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use url::Url;

use super::errors::{AuthFlow, SfError};
use super::secret::Secret;

pub use direct::{DirectAuth, DirectCredential, Introspected, JwtBearerClaims, OAuthClient};
pub use paragon::{PARAGON_DEFAULT_PROXY, ParagonAuth, ParagonClaims, ParagonUser};
pub(crate) use token::post_oauth_form;
pub use token::{ScopeInfo, Scopes, SigningKey, TokenResponse};

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
    /// Where each part of this connection is configured, named in errors that ask to fix it.
    pub settings: SettingNames,
    /// The scopes granted, when the caller learnt them before any token of this connection
    /// was fetched (a sign-in's token response): known from the first call on.
    pub known_scopes: ScopeInfo,
}

/// Where a connection's parts are configured: the one source of the names an error's next
/// step asks to fix. The server's own connection comes from the operator's variables; a
/// per-request tenant from the headers its host sends, and its caller must be told the
/// header, not a variable only the operator can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingNames {
    /// The direct plane's instance URL. (The Paragon plane's requests go to the operator's
    /// PARAGON_PROXY_URL whoever the tenant is.)
    pub instance_url: &'static str,
    /// A fixed direct-plane access token.
    pub access_token: &'static str,
    /// The Paragon credential (the user's connected Salesforce account).
    pub paragon_credential: &'static str,
    /// The Paragon user: the token given, or the user sfmcp mints tokens for.
    pub paragon_user: &'static str,
}

pub(crate) const ACCESS_TOKEN_SETTING: &str = "SF_ACCESS_TOKEN";

impl SettingNames {
    /// The variables (and flags) of a server with one connection on `plane`.
    pub fn environment(plane: &Plane) -> SettingNames {
        let paragon_user = match plane {
            Plane::Paragon(ParagonAuth {
                user: ParagonUser::Signing { .. },
                ..
            }) => "PARAGON_SIGNING_KEY_FILE and PARAGON_USER_ID",
            _ => "PARAGON_USER_TOKEN",
        };
        SettingNames {
            instance_url: "SF_INSTANCE_URL",
            access_token: ACCESS_TOKEN_SETTING,
            paragon_credential: "PARAGON_CREDENTIAL_ID",
            paragon_user,
        }
    }
}

impl Connection {
    pub fn direct(instance_url: Option<Url>, credential: DirectCredential) -> Self {
        Connection::on(Plane::Direct(DirectAuth {
            instance_url,
            credential,
        }))
    }

    pub fn paragon(auth: ParagonAuth) -> Self {
        Connection::on(Plane::Paragon(auth))
    }

    fn on(plane: Plane) -> Self {
        Connection {
            settings: SettingNames::environment(&plane),
            plane,
            api_version: None,
            tenant: None,
            known_scopes: ScopeInfo::Unknown,
        }
    }

    /// Names where this connection's parts are configured (see [`SettingNames`]).
    pub fn with_settings(mut self, settings: SettingNames) -> Self {
        self.settings = settings;
        self
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

/// Holds the current token of one connection and renews it, one renewal at a time.
pub(crate) struct Authenticator {
    plane: Plane,
    /// See [`Connection::settings`].
    settings: SettingNames,
    http: reqwest::Client,
    session: RwLock<Option<Arc<Session>>>,
    renewal: tokio::sync::Mutex<()>,
    /// Rotated refresh token, when Salesforce hands out a new one.
    rotated_refresh_token: RwLock<Option<Secret>>,
    renewals: AtomicU64,
    /// Salesforce answered `invalid_grant`: the grant itself (a refresh token, say) was
    /// revoked or expired, and nothing here can renew it.
    grant_revoked: AtomicBool,
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
    pub fn new(plane: Plane, settings: SettingNames, http: reqwest::Client) -> Self {
        Authenticator {
            plane,
            settings,
            http,
            session: RwLock::new(None),
            renewal: tokio::sync::Mutex::new(()),
            rotated_refresh_token: RwLock::new(None),
            renewals: AtomicU64::new(0),
            grant_revoked: AtomicBool::new(false),
        }
    }

    pub fn plane(&self) -> &Plane {
        &self.plane
    }

    pub fn settings(&self) -> &SettingNames {
        &self.settings
    }

    /// How many tokens were fetched or minted so far.
    pub fn renewals(&self) -> u64 {
        self.renewals.load(Ordering::Relaxed)
    }

    /// Whether Salesforce refused the grant itself (`invalid_grant`) when asked for a token.
    pub fn grant_revoked(&self) -> bool {
        self.grant_revoked.load(Ordering::Relaxed)
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
                DirectCredential::AccessToken { .. } => AuthFlow::StaticToken {
                    setting: self.settings.access_token,
                },
                DirectCredential::RefreshToken { .. } => AuthFlow::RefreshToken,
                DirectCredential::ClientCredentials { .. } => AuthFlow::ClientCredentials,
                DirectCredential::JwtBearer { .. } => AuthFlow::JwtBearer,
            },
            Plane::Paragon(p) => match p.user {
                ParagonUser::Token(_) => AuthFlow::ParagonStaticToken {
                    setting: self.settings.paragon_user,
                },
                ParagonUser::Signing { .. } => AuthFlow::ParagonSigning,
            },
        }
    }

    pub(crate) fn current_session(&self) -> Option<Arc<Session>> {
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
        let mut session = match self.obtain(first).await {
            Ok(session) => session,
            Err(error) => {
                if matches!(&error, SfError::Auth { error, .. } if error == "invalid_grant") {
                    self.grant_revoked.store(true, Ordering::Relaxed);
                }
                return Err(error);
            }
        };
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

    /// Records what introspection learnt after the token was obtained: its scopes, and its
    /// identity URL when the token response gave none.
    pub fn learn(&self, introspected: Introspected) {
        let mut guard = self.session.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(current) = guard.as_ref() {
            let mut updated = (**current).clone();
            if let Some(scopes) = introspected.scopes {
                updated.scopes = ScopeInfo::Granted(scopes);
            }
            if updated.identity_url.is_none() {
                updated.identity_url = introspected.identity_url;
            }
            *guard = Some(Arc::new(updated));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
