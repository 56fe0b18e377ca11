//! The Paragon plane: a Paragon user token, given or minted here (RS256, short-lived) from
//! the project's signing key.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use url::Url;

use super::super::errors::{AuthFlow, SfError};
use super::super::secret::Secret;
use super::token::{ScopeInfo, SigningKey};
use super::{Authenticator, Session, now_secs};

/// The default Paragon proxy.
pub const PARAGON_DEFAULT_PROXY: &str = "https://proxy.useparagon.com";

/// How long a Paragon user token minted here lives. Short, because it is a bearer token.
const PARAGON_TOKEN_LIFETIME: Duration = Duration::from_secs(600);
/// Mint a fresh token this long before the old one expires.
const PARAGON_TOKEN_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct ParagonAuth {
    pub proxy_url: Url,
    pub project_id: String,
    pub user: ParagonUser,
    /// Sent as `X-Paragon-Credential` to pick one of the user's connected accounts.
    pub credential_id: Option<String>,
    /// The tenant's Salesforce instance, when known, for record links.
    pub instance_url: Option<Url>,
}

#[derive(Debug, Clone)]
pub enum ParagonUser {
    /// A user token minted by the host application.
    Token(Secret),
    /// sfmcp mints short-lived user tokens for this user with the project's signing key.
    Signing { key: SigningKey, user_id: String },
}

/// Claims of a Paragon user token, as Paragon's docs and SDK sign them.
#[derive(Debug, Serialize, Deserialize)]
pub struct ParagonClaims {
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
}

impl Authenticator {
    pub(super) fn obtain_paragon(
        &self,
        paragon: &ParagonAuth,
        first: bool,
    ) -> Result<Session, SfError> {
        let (token, renew_after) = match &paragon.user {
            ParagonUser::Token(token) if first => (token.clone(), None),
            ParagonUser::Token(_) => {
                return Err(SfError::Auth {
                    flow: AuthFlow::ParagonStaticToken {
                        setting: self.settings.paragon_user,
                    },
                    status: Some(401),
                    error: "invalid_token".into(),
                    description: "the Paragon proxy refused the user token".into(),
                });
            }
            ParagonUser::Signing { key, user_id } => {
                let iat = now_secs();
                let claims = ParagonClaims {
                    sub: user_id.clone(),
                    iat,
                    exp: iat + PARAGON_TOKEN_LIFETIME.as_secs(),
                };
                let token = key.sign(&claims).map_err(|e| SfError::Auth {
                    flow: AuthFlow::ParagonSigning,
                    status: None,
                    error: "signing_failed".into(),
                    description: e.to_string(),
                })?;
                self.renewals.fetch_add(1, Ordering::Relaxed);
                (
                    Secret::new(token),
                    Some(Instant::now() + PARAGON_TOKEN_LIFETIME - PARAGON_TOKEN_MARGIN),
                )
            }
        };
        Ok(Session {
            access_token: token,
            instance_url: paragon.instance_url.clone(),
            scopes: ScopeInfo::Unknown,
            identity_url: None,
            generation: 0,
            renew_after,
        })
    }
}
