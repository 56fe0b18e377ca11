//! What the OAuth plane hands out, sealed: registered clients, the login in flight at
//! Salesforce, authorization codes, access tokens and refresh tokens. Each is a
//! ChaCha20-Poly1305 box ([`CursorKey`], the product's one sealing primitive) bound to its
//! purpose, so one kind never opens as another, and a replica that holds the keys needs
//! nothing else to check one. The person's Salesforce refresh token travels only inside
//! these boxes: nobody without the keys can read it, and no client ever sees it in the clear.
//!
//! Keys rotate through a list: the first key seals, every key opens.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::cursor::CursorKey;

/// A prefix per kind keeps tokens recognisable in logs and support tickets without
/// revealing anything: the sealed part is opaque.
pub const ACCESS_PREFIX: &str = "sfmcp_at_";
pub const REFRESH_PREFIX: &str = "sfmcp_rt_";
pub const CODE_PREFIX: &str = "sfmcp_ac_";
pub const CLIENT_PREFIX: &str = "sfmcp_client_";

const ACCESS_PURPOSE: &[u8] = b"sfmcp oauth access token v1";
const REFRESH_PURPOSE: &[u8] = b"sfmcp oauth refresh token v1";
const CODE_PURPOSE: &[u8] = b"sfmcp oauth authorization code v1";
const CLIENT_PURPOSE: &[u8] = b"sfmcp oauth registered client v1";
const LOGIN_PURPOSE: &[u8] = b"sfmcp oauth salesforce login v1";

/// The sealing keys: the first seals, all open (rotation: put the new key first, keep the
/// old one until every token it sealed has expired).
#[derive(Clone, Debug)]
pub struct SealingKeys(Vec<CursorKey>);

#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "SFMCP_OAUTH_KEYS must be a comma-separated list of keys, each 32 random bytes in base64 (e.g. `openssl rand -base64 32`); the first seals, all open"
)]
pub struct SealingKeysError;

impl SealingKeys {
    /// Keys from `SFMCP_OAUTH_KEYS`'s entries.
    pub fn from_base64_list(entries: &[String]) -> Result<Self, SealingKeysError> {
        let keys = entries
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| CursorKey::from_base64(e).map_err(|_| SealingKeysError))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SealingKeysError);
        }
        Ok(SealingKeys(keys))
    }

    /// One fresh key: tokens then work on this process only, until it stops.
    pub fn random() -> Self {
        SealingKeys(vec![CursorKey::random()])
    }

    fn seal<T: Serialize>(&self, prefix: &str, purpose: &[u8], value: &T) -> String {
        // Built with at least one key: `from_base64_list` refuses an empty list.
        match self.0.first() {
            Some(key) => format!("{prefix}{}", key.seal_value(purpose, value)),
            None => String::new(),
        }
    }

    fn open<T: DeserializeOwned>(&self, prefix: &str, purpose: &[u8], text: &str) -> Option<T> {
        let sealed = text.trim().strip_prefix(prefix)?;
        self.0
            .iter()
            .find_map(|key| key.open_value(purpose, sealed))
    }

    pub fn seal_access(&self, token: &AccessToken) -> String {
        self.seal(ACCESS_PREFIX, ACCESS_PURPOSE, token)
    }
    pub fn open_access(&self, text: &str) -> Option<AccessToken> {
        self.open(ACCESS_PREFIX, ACCESS_PURPOSE, text)
    }
    pub fn seal_refresh(&self, token: &RefreshToken) -> String {
        self.seal(REFRESH_PREFIX, REFRESH_PURPOSE, token)
    }
    pub fn open_refresh(&self, text: &str) -> Option<RefreshToken> {
        self.open(REFRESH_PREFIX, REFRESH_PURPOSE, text)
    }
    pub fn seal_code(&self, code: &AuthorizationCode) -> String {
        self.seal(CODE_PREFIX, CODE_PURPOSE, code)
    }
    pub fn open_code(&self, text: &str) -> Option<AuthorizationCode> {
        self.open(CODE_PREFIX, CODE_PURPOSE, text)
    }
    pub fn seal_client(&self, client: &RegisteredClient) -> String {
        self.seal(CLIENT_PREFIX, CLIENT_PURPOSE, client)
    }
    pub fn open_client(&self, text: &str) -> Option<RegisteredClient> {
        self.open(CLIENT_PREFIX, CLIENT_PURPOSE, text)
    }
    pub fn seal_login(&self, login: &PendingLogin) -> String {
        self.seal("", LOGIN_PURPOSE, login)
    }
    pub fn open_login(&self, text: &str) -> Option<PendingLogin> {
        self.open("", LOGIN_PURPOSE, text)
    }
}

/// A client registered through Dynamic Client Registration: its client id is this, sealed,
/// so registration needs no storage and every replica knows every client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredClient {
    #[serde(rename = "r")]
    pub redirect_uris: Vec<String>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unix seconds.
    #[serde(rename = "i")]
    pub issued_at: i64,
}

/// What the authorization request asked for, carried through Salesforce's login in the
/// `state` parameter and, after it, inside the authorization code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRequest {
    #[serde(rename = "c")]
    pub client_id: String,
    #[serde(rename = "r")]
    pub redirect_uri: String,
    /// The client's own `state`, handed back unchanged.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The client's PKCE S256 challenge.
    #[serde(rename = "p")]
    pub code_challenge: String,
    /// Granted sfmcp scopes, space-separated.
    #[serde(rename = "g")]
    pub scope: String,
}

/// The login in flight at Salesforce: sealed into the `state` sent there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingLogin {
    #[serde(rename = "q")]
    pub request: ClientRequest,
    /// sfmcp's own PKCE verifier toward Salesforce.
    #[serde(rename = "v")]
    pub salesforce_verifier: String,
    /// Also set as a cookie on the browser that consented: the callback must come back to it.
    #[serde(rename = "b")]
    pub browser_nonce: String,
    #[serde(rename = "e")]
    pub expires_at: i64,
}

/// The person's Salesforce grant, which every sfmcp token of the login carries sealed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SalesforceGrant {
    #[serde(rename = "t")]
    pub refresh_token: String,
    #[serde(rename = "i")]
    pub instance_url: String,
    /// `orgId/userId`, from the identity URL: the tenant whose caches the person's calls use.
    #[serde(rename = "u")]
    pub user: String,
    /// The scopes Salesforce granted at sign-in (its token response's `scope`), so tools
    /// the grant cannot serve are neither listed nor sent.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl std::fmt::Debug for SalesforceGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesforceGrant")
            .field("instance_url", &self.instance_url)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    /// Single use: the grant store remembers redeemed ids until the code expires.
    #[serde(rename = "j")]
    pub id: String,
    #[serde(rename = "q")]
    pub request: ClientRequest,
    #[serde(rename = "g")]
    pub grant: SalesforceGrant,
    #[serde(rename = "e")]
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessToken {
    /// The token family: every token descending from one authorization.
    #[serde(rename = "f")]
    pub family: String,
    #[serde(rename = "c")]
    pub client_id: String,
    #[serde(rename = "s")]
    pub scope: String,
    /// The resource (RFC 8707) the token is for: sfmcp's canonical URL.
    #[serde(rename = "a")]
    pub audience: String,
    #[serde(rename = "g")]
    pub grant: SalesforceGrant,
    #[serde(rename = "e")]
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshToken {
    #[serde(rename = "f")]
    pub family: String,
    /// 1 for the first refresh token of a family, one more per rotation: a generation seen
    /// twice means a refresh token was used twice.
    #[serde(rename = "n")]
    pub generation: u64,
    #[serde(rename = "c")]
    pub client_id: String,
    #[serde(rename = "s")]
    pub scope: String,
    #[serde(rename = "a")]
    pub audience: String,
    #[serde(rename = "g")]
    pub grant: SalesforceGrant,
    #[serde(rename = "e")]
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> AccessToken {
        AccessToken {
            family: "fam".into(),
            client_id: "client".into(),
            scope: "sfmcp.read".into(),
            audience: "https://mcp.example.com/mcp".into(),
            grant: SalesforceGrant {
                refresh_token: "5Aep861-salesforce-refresh".into(),
                instance_url: "https://acme.my.salesforce.com".into(),
                user: "00D/005".into(),
                scope: Some("api refresh_token".into()),
            },
            expires_at: 10,
        }
    }

    #[test]
    fn tokens_open_with_any_listed_key_and_never_as_another_kind() {
        let old =
            SealingKeys::from_base64_list(&["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into()])
                .expect("key");
        let sealed = old.seal_access(&access());
        assert!(sealed.starts_with(ACCESS_PREFIX));
        assert!(
            !sealed.contains("salesforce-refresh"),
            "the Salesforce token is not readable"
        );
        assert_eq!(old.open_access(&sealed), Some(access()));
        assert!(
            old.open_refresh(&sealed.replace(ACCESS_PREFIX, REFRESH_PREFIX))
                .is_none()
        );
        assert!(
            old.open_code(&sealed.replace(ACCESS_PREFIX, CODE_PREFIX))
                .is_none()
        );

        let rotated = SealingKeys::from_base64_list(&[
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=".into(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
        ])
        .expect("keys");
        assert_eq!(
            rotated.open_access(&sealed),
            Some(access()),
            "old tokens still open"
        );
        let resealed = rotated.seal_access(&access());
        assert!(old.open_access(&resealed).is_none(), "the first key seals");
        assert!(SealingKeys::random().open_access(&sealed).is_none());
        assert!(SealingKeys::from_base64_list(&[]).is_err());
        assert!(SealingKeys::from_base64_list(&["short".into()]).is_err());
    }
}
